"""People's rights under UK GDPR: everything held about one person (subject access), erasure by
anonymising in place, and the retention list. SQL only; store.privacy declares who may.

Erasure keeps the counts of past returns: the figures need, of the personal details erased, only
each referral's age on its start date and whether the NHS number was valid. Those two facts are kept
per referral in `erased_referrals` (figures_dob: a date giving the same whole years on the start
date, never the person's birthday; nhs_valid), and the returns' SQL reads them for erased people.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from . import audit, engine
from .rules import attended_sql
from .validation import age_on, nhs_number_valid

ERASED_FIRST, ERASED_LAST = "Erased", "Person"

# (title, SQL with :c for the client id). Every table that holds something about the person.
SECTIONS = (
    ("Personal details", "SELECT * FROM clients WHERE id = :c"),
    ("Referrals", "SELECT r.*, st.full_name AS allocated_to FROM referrals r LEFT JOIN staff st "
                  "ON st.id = r.allocated_staff_id WHERE r.client_id = :c ORDER BY r.id"),
    ("Referral reasons", "SELECT r.referral_ref, x.area FROM referral_reasons x JOIN referrals r "
                         "ON r.id = x.referral_id WHERE r.client_id = :c ORDER BY r.id, x.area"),
    ("Contact attempts", "SELECT r.referral_ref, a.* FROM contact_attempts a JOIN referrals r ON r.id = a.referral_id "
                         "WHERE r.client_id = :c ORDER BY a.attempt_date, a.id"),
    ("Sessions", "SELECT s.*, st.full_name AS with_staff, v.name AS venue FROM sessions s "
                 "LEFT JOIN staff st ON st.id = s.staff_id LEFT JOIN venues v ON v.id = s.venue_id "
                 "WHERE s.client_id = :c ORDER BY s.session_date, s.start_time, s.id"),
    ("Session moves and cancellations", "SELECT h.* FROM session_history h JOIN sessions s ON s.id = h.session_id "
                                        "WHERE s.client_id = :c ORDER BY h.id"),
    ("Plans", "SELECT r.referral_ref, p.* FROM plans p JOIN referrals r ON r.id = p.referral_id "
              "WHERE r.client_id = :c ORDER BY p.id"),
    ("Plan versions", "SELECT v.* FROM plan_versions v JOIN plans p ON p.id = v.plan_id "
                      "JOIN referrals r ON r.id = p.referral_id WHERE r.client_id = :c ORDER BY v.plan_id, v.version"),
    ("Goals", "SELECT g.* FROM goals g JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id "
              "WHERE r.client_id = :c ORDER BY g.plan_id, g.position, g.id"),
    ("Goal reviews", "SELECT gr.* FROM goal_reviews gr JOIN goals g ON g.id = gr.goal_id JOIN plans p "
                     "ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id WHERE r.client_id = :c "
                     "ORDER BY gr.id"),
    ("Assessments", "SELECT * FROM assessments WHERE client_id = :c ORDER BY assessed_date, id"),
    ("Signposting", "SELECT * FROM signposting WHERE client_id = :c ORDER BY signpost_date, id"),
    ("Safeguarding prompts", "SELECT * FROM safeguarding_prompts WHERE client_id = :c ORDER BY id"),
    ("Documents kept", "SELECT id, referral_id, kind, file_name, template_version, sha256, created_at, created_by "
                       "FROM documents WHERE client_id = :c ORDER BY id"),
)
AUDIT_TITLE = "Who has viewed or changed the record"
AUDIT_COLUMNS = ("id", "at", "username", "action", "entity", "entity_id", "detail", "before", "after")


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class HeldDocument:
    id: int
    file_name: str
    kind: str
    created_at: str
    content: bytes


@dataclass(frozen=True)
class SubjectData:
    """Everything held about one person, for a subject access bundle."""
    client_ref: str
    display_name: str
    service_name: str
    prepared_on: str
    prepared_by: str
    sections: tuple[Section, ...]          # the last one is AUDIT_TITLE
    documents: tuple[HeldDocument, ...]


def _section(db: Database, title: str, sql: str, client_id: int) -> Section:
    cur = db.conn.execute(sql, {"c": client_id})
    columns = tuple(d[0] for d in cur.description)
    return Section(title, columns, tuple(tuple(r) for r in cur.fetchall()))


def subject_data(db: Database, client_id: int, prepared_by: str, today: date | None = None) -> SubjectData:
    sections = [_section(db, title, sql, client_id) for title, sql in SECTIONS]
    trail = db.conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE client_id = ? ORDER BY id",
                            (client_id,)).fetchall()
    sections.append(Section(AUDIT_TITLE, AUDIT_COLUMNS, tuple(tuple(r) for r in trail)))
    docs = tuple(HeldDocument(*r) for r in db.conn.execute(
        "SELECT id, file_name, kind, created_at, content FROM documents WHERE client_id = ? ORDER BY id",
        (client_id,)))
    ref, first, last, preferred, service = db.conn.execute(
        "SELECT c.client_ref, c.first_name, c.last_name, c.preferred_name, s.name FROM clients c "
        "JOIN services s ON s.id = c.service_id WHERE c.id = ?", (client_id,)).fetchone()
    name = f"{preferred or first} {last}"
    return SubjectData(ref, name, service, (today or date.today()).isoformat(), prepared_by, tuple(sections), docs)


# --- erasure ---------------------------------------------------------------------------------------------

_CLIENT_BLANKED = ("title", "preferred_name", "nhs_number", "postcode", "address_line_1", "address_line_2", "town",
                   "phone", "mobile", "email", "first_language")


def _first_attended(db: Database, referral_id: int) -> str | None:
    return db.conn.execute(f"SELECT MIN(session_date) FROM sessions s WHERE s.referral_id = ? AND "
                           f"{attended_sql('s.attendance')}", (referral_id,)).fetchone()[0]


def figures_dob(dob: date, start: date) -> str:
    """A date giving the same whole years on the start date as the real date of birth, made from the
    start date (never the person's birthday)."""
    years = age_on(dob, start)
    try:
        kept = start.replace(year=start.year - years)
    except ValueError:       # 29 February
        kept = start.replace(year=start.year - years, day=28)
    assert age_on(kept, start) == years
    return kept.isoformat()


def erase(db: Database, client_id: int, by: str, now: str) -> dict:
    """Anonymise one person in place: names, contact details, NHS number, date of birth to its year and
    every free text about them; archived (hidden from lists, still in every figure); their documents (which print their name) are removed; what the audit
    says about them is blanked. Referrals, sessions, assessments and their codes stay, so past figures
    keep their counts. Returns what was done (for the audit)."""
    # Overwrite what is freed or rewritten with zeros, so the erased words do not linger in free space
    # of the file (the write-ahead log's older copies go at its next checkpoint).
    engine.secure_delete(db)
    client = db.conn.execute("SELECT client_ref, date_of_birth, nhs_number FROM clients WHERE id = ?",
                             (client_id,)).fetchone()
    ref, dob, nhs = client
    nhs_ok = int(bool(nhs) and nhs_number_valid(nhs))
    referral_ids = [r[0] for r in db.conn.execute("SELECT id FROM referrals WHERE client_id = ?", (client_id,))]
    for referral_id in referral_ids:
        first = _first_attended(db, referral_id)
        kept = figures_dob(date.fromisoformat(dob), date.fromisoformat(first)) if first and dob else None
        db.conn.execute("INSERT INTO erased_referrals (referral_id, figures_dob, nhs_valid) VALUES (?, ?, ?) "
                        "ON CONFLICT (referral_id) DO UPDATE SET figures_dob = excluded.figures_dob, "
                        "nhs_valid = excluded.nhs_valid",
                        (referral_id, kept, nhs_ok))
    year = (dob or "1900")[:4]
    sets = ", ".join(f"{c} = NULL" for c in _CLIENT_BLANKED)
    db.conn.execute(f"UPDATE clients SET first_name = ?, last_name = ?, date_of_birth = ?, {sets}, "
                    "anonymised_at = ?, archived_at = COALESCE(archived_at, ?), archived_by = COALESCE(archived_by, ?), "
                    "updated_at = ?, updated_by = ?, row_version = row_version + 1 WHERE id = ?",
                    (ERASED_FIRST, ERASED_LAST, f"{year}-07-01", now, now, by, now, by, client_id))
    db.conn.execute("DELETE FROM clients_search WHERE rowid = ?", (client_id,))
    db.conn.execute("INSERT INTO clients_search (rowid, text) VALUES (?, ?)", (client_id, f"{ref} {ERASED_FIRST} {ERASED_LAST}"))
    refs = "SELECT id FROM referrals WHERE client_id = :c"
    plans = f"SELECT id FROM plans WHERE referral_id IN ({refs})"
    goals = f"SELECT id FROM goals WHERE plan_id IN ({plans})"
    free_text = (
        "UPDATE referrals SET referrer_name = NULL, notes = NULL WHERE client_id = :c",
        f"UPDATE contact_attempts SET note = NULL WHERE referral_id IN ({refs})",
        "UPDATE sessions SET notes = NULL, next_steps = NULL WHERE client_id = :c",
        "UPDATE session_history SET reason = '' WHERE session_id IN (SELECT id FROM sessions WHERE client_id = :c)",
        f"UPDATE plans SET what_matters = NULL WHERE referral_id IN ({refs})",
        f"UPDATE plan_versions SET what_matters = NULL, goals = '[]' WHERE plan_id IN ({plans})",
        f"UPDATE goals SET goal_text = '(erased)', steps = NULL, barriers = NULL, who_can_help = NULL "
        f"WHERE plan_id IN ({plans})",
        f"UPDATE goal_reviews SET note = NULL, previous_text = NULL WHERE goal_id IN ({goals})",
        "UPDATE signposting SET destination = NULL WHERE client_id = :c",
        "DELETE FROM drafts WHERE form_key = 'client:' || :c",
    )
    for sql in free_text:
        db.conn.execute(sql, {"c": client_id})
    documents = db.conn.execute("DELETE FROM documents WHERE client_id = ?", (client_id,)).rowcount
    redacted = audit.redact_client(db, client_id)
    return {"client_ref": ref, "referrals": len(referral_ids), "documents_removed": documents,
            "audit_rows_blanked": redacted}


def retention_due(db: Database, service_id: int, years: int, today: date) -> list[dict]:
    """People not yet erased whose last contact (referral received or closed, a session, a contact
    attempt; for someone with none of these, when the record was made) is more than `years` years
    before today, longest ago first."""
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:
        cutoff = today.replace(year=today.year - years, day=28)
    sql = """
SELECT c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name, c.archived_at,
       COALESCE(NULLIF({greatest}(
           COALESCE((SELECT {greatest}(MAX(r.received_date), COALESCE(MAX(r.closed_date), '')) FROM referrals r
                     WHERE r.client_id = c.id), ''),
           COALESCE((SELECT MAX(s.session_date) FROM sessions s WHERE s.client_id = c.id), ''),
           COALESCE((SELECT MAX(a.attempt_date) FROM contact_attempts a JOIN referrals r ON r.id = a.referral_id
                     WHERE r.client_id = c.id), '')), ''),
           substr(c.created_at, 1, 10)) AS last_contact
FROM clients c
WHERE c.service_id = ? AND c.anonymised_at IS NULL
""".format(greatest=engine.greatest(db))
    rows = [dict(r) for r in db.query(f"SELECT * FROM ({sql}) AS kept WHERE last_contact < ? ORDER BY last_contact, client_ref",
                                      (service_id, cutoff.isoformat()))]
    return rows

