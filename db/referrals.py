"""Referrals (episodes of support): intake, contact attempts, allocation, status, closure, waiting list."""
from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from . import codes, versioned
from .errors import ConflictError, FieldError, NotFound, ValidationError
from .records import ContactAttempt, Referral, WaitingItem, from_row
from .validation import (ErrorCollector, check_age_for_referral, check_closure, check_not_future,
                         clean_text, parse_date)

REF_PREFIX = "RF-"
from . import rules
from .rules import attended_sql


def format_ref(number: int) -> str:
    return f"{REF_PREFIX}{number:06d}"


def validate(values: dict, date_of_birth: str, today: date | None = None, age_override: bool = False) -> dict:
    """Clean a new referral's fields, or raise one ValidationError naming every bad field."""
    today = today or date.today()
    errors = ErrorCollector()
    out: dict = {}
    received = errors.check(parse_date, values.get("received_date"), "received_date", required=True)
    if received is not None:
        if errors.check(check_not_future, received, "received_date", today) is not None:
            errors.check(check_age_for_referral, date_of_birth, received, age_override)
        out["received_date"] = received.isoformat()
    source = codes.match("source", values.get("source"))
    if source is None:
        errors.add("source", "Referral source: choose where the referral came from (there is 'Not known').")
    out["source"] = source
    reasons = []
    for raw in values.get("reasons") or []:
        code = codes.match("area", raw)
        if code is None:
            errors.add("reasons", f"Reasons: '{raw}' is not an area on the list.")
        elif code not in reasons:
            reasons.append(code)
    out["reasons"] = reasons
    priority = (values.get("priority") or "routine")
    out["priority"] = codes.match("priority", priority)
    if out["priority"] is None:
        errors.add("priority", "Priority: choose routine or urgent.")
    out["referrer_name"] = errors.check(clean_text, values.get("referrer_name"), "referrer_name", 100, multiline=False) or None
    out["referrer_organisation"] = errors.check(clean_text, values.get("referrer_organisation"), "referrer_organisation", 120, multiline=False) or None
    out["notes"] = errors.check(clean_text, values.get("notes"), "notes", 4000) or None
    out["allocated_staff_id"] = values.get("allocated_staff_id")
    errors.raise_if_any()
    return out


def insert(db: Database, service_id: int, client_id: int, clean: dict, by: str,
           referral_ref: str | None = None, age_override_by: str | None = None) -> int:
    from .services import next_number
    ref = referral_ref or format_ref(next_number(db, "referral_ref"))
    cur = db.conn.execute(
        "INSERT INTO referrals (service_id, referral_ref, client_id, received_date, source, referrer_name, "
        "referrer_organisation, priority, allocated_staff_id, notes, age_override_by, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (service_id, ref, client_id, clean["received_date"], clean["source"], clean.get("referrer_name"),
         clean.get("referrer_organisation"), clean.get("priority") or "routine", clean.get("allocated_staff_id"),
         clean.get("notes"), age_override_by, by))
    referral_id = cur.fetchone()[0]
    db.conn.executemany("INSERT INTO referral_reasons (referral_id, area) VALUES (?, ?)",
                        [(referral_id, a) for a in clean.get("reasons") or []])
    refresh_status(db, referral_id)
    return referral_id


def status_case(attended: str = "first_attended_date IS NOT NULL") -> str:
    """The status rule as SQL over a row of referrals (the one place it is written)."""
    return f"""CASE
          WHEN closed_date IS NOT NULL THEN 'CLOSED'
          WHEN {attended} THEN 'ACTIVE'
          WHEN allocated_staff_id IS NOT NULL THEN 'WAITING'
          WHEN EXISTS (SELECT 1 FROM contact_attempts WHERE referral_id = referrals.id) THEN 'CONTACTING'
          ELSE 'NEW' END"""


def refresh_status(db: Database, referral_id: int | None = None) -> None:
    """Status and first dates are derived from the record and stored for the lists
    (one referral, or every referral when referral_id is None, as after a bulk load)."""
    where, params = ("WHERE id = ?", (referral_id,)) if referral_id is not None else ("", ())
    db.conn.execute(f"""
        UPDATE referrals SET
          first_attended_date = (SELECT MIN(session_date) FROM sessions
                                 WHERE referral_id = referrals.id AND {attended_sql()}),
          first_contact_date = (SELECT MIN(d) FROM (
                SELECT MIN(attempt_date) AS d FROM contact_attempts WHERE referral_id = referrals.id AND outcome = 'REACHED'
                UNION ALL SELECT MIN(session_date) FROM sessions
                WHERE referral_id = referrals.id AND {attended_sql()}) AS firsts)
        {where}""", params)
    db.conn.execute(f"UPDATE referrals SET status = {status_case()} {where}", params)


_SELECT = ("SELECT r.*, s.full_name AS allocated_name FROM referrals r "
           "LEFT JOIN staff s ON s.id = r.allocated_staff_id")


def _attempts(db: Database, referral_id: int) -> tuple[ContactAttempt, ...]:
    return tuple(from_row(ContactAttempt, r) for r in db.query(
        "SELECT * FROM contact_attempts WHERE referral_id = ? ORDER BY attempt_date, id", [referral_id]))


def _reasons(db: Database, referral_id: int) -> tuple[str, ...]:
    order = {c: i for i, c in enumerate(codes.codes("area"))}
    found = [r[0] for r in db.conn.execute("SELECT area FROM referral_reasons WHERE referral_id = ?", (referral_id,))]
    return tuple(sorted(found, key=lambda a: order.get(a, 99)))


def get(db: Database, referral_id: int) -> Referral:
    rows = list(db.query(_SELECT + " WHERE r.id = ?", [referral_id]))
    if not rows:
        raise NotFound(f"There is no referral with id {referral_id}.")
    return from_row(Referral, rows[0], reasons=_reasons(db, referral_id), contact_attempts=_attempts(db, referral_id),
                    tries_needed=tries_needed(db))


def tries_needed(db: Database) -> int:
    """Unsuccessful tries before the could-not-reach letter: the service setting, else three."""
    row = db.conn.execute("SELECT value FROM settings WHERE scope = 'global' AND key = ?",
                          (rules.TRIES_SETTING,)).fetchone()
    try:
        return max(1, int(row[0])) if row else rules.THREE_TRIES
    except (TypeError, ValueError):
        return rules.THREE_TRIES


def for_client(db: Database, client_id: int) -> list[Referral]:
    ids = [r[0] for r in db.conn.execute(
        "SELECT id FROM referrals WHERE client_id = ? ORDER BY received_date DESC, id DESC", (client_id,))]
    return [get(db, i) for i in ids]


def id_for_ref(db: Database, referral_ref: str) -> int:
    row = db.conn.execute("SELECT id FROM referrals WHERE referral_ref = ?", ((referral_ref or "").strip().upper(),)).fetchone()
    if row is None:
        raise NotFound(f"There is no referral with reference {referral_ref}. Check the reference (e.g. RF-000123).")
    return row[0]


def _conflict(db: Database, referral_id: int) -> ConflictError:
    current = get(db, referral_id)
    who, when = versioned.who_changed(db, "referrals", referral_id)
    return ConflictError(
        f"Someone else ({who}) changed referral {current.referral_ref} at {when} after you opened it. "
        "Nothing was saved: reopen it to see their change, then try again.", current=current)


def _write(db: Database, referral_id: int, values: dict, expected_version: int | None, by: str) -> None:
    versioned.update(db, "referrals", referral_id, values, expected_version, by,
                     conflict=lambda: _conflict(db, referral_id))




def add_contact_attempt(db: Database, referral_id: int, attempt_date, method: str, outcome: str,
                        note: str | None, by: str, today: date | None = None) -> int:
    referral = get(db, referral_id)
    errors = ErrorCollector()
    day = errors.check(parse_date, attempt_date, "attempt_date", required=True)
    if day is not None:
        errors.check(check_not_future, day, "attempt_date", today)
        if day.isoformat() < referral.received_date:
            errors.add("attempt_date", f"Attempt date {day.isoformat()} is before the referral was received ({referral.received_date}): check the date.")
    if codes.match("contact_method", method) is None:
        errors.add("method", "Method: choose how you tried to reach the client.")
    if codes.match("contact_outcome", outcome) is None:
        errors.add("outcome", "Outcome: choose what happened.")
    if referral.closed_date:
        errors.add("attempt_date", f"Referral {referral.referral_ref} is closed: reopen it or start a new referral.")
    clean_note = errors.check(clean_text, note, "note", 1000) or None
    errors.raise_if_any()
    attempt_id = db.conn.execute(
        "INSERT INTO contact_attempts (referral_id, attempt_date, method, outcome, note, created_by) VALUES (?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (referral_id, day.isoformat(), codes.match("contact_method", method), codes.match("contact_outcome", outcome),
         clean_note, by)).fetchone()[0]
    _write(db, referral_id, {}, None, by)      # an attempt changes the referral: others' open copies are stale
    refresh_status(db, referral_id)
    return attempt_id


def allocate(db: Database, referral_id: int, staff_id: int | None, expected_version: int | None, by: str) -> Referral:
    current = get(db, referral_id)
    if current.closed_date:
        raise ValidationError(FieldError("allocated_staff_id", f"Referral {current.referral_ref} is closed and cannot be allocated."))
    if staff_id is not None:
        row = db.conn.execute("SELECT role, active FROM staff WHERE id = ?", (staff_id,)).fetchone()
        if row is None or not row[1] or row[0] not in ("TRAINER", "CHAMPION"):
            raise ValidationError(FieldError("allocated_staff_id", "Trainer: choose an active health trainer or champion."))
    _write(db, referral_id, {"allocated_staff_id": staff_id}, expected_version, by)
    refresh_status(db, referral_id)
    return current


def close(db: Database, referral_id: int, closed_date, reason: str, expected_version: int | None, by: str,
          today: date | None = None) -> Referral:
    current = get(db, referral_id)
    errors = ErrorCollector()
    day = errors.check(parse_date, closed_date, "closed_date", required=True)
    code = codes.match("closure_reason", reason) if reason else None
    if reason and code is None:
        errors.add("closure_reason", "Closure reason: choose one from the list.")
    if day is not None and not errors:
        errors.check(check_closure, current.received_date, day, code, today)
    if current.closed_date:
        errors.add("closed_date", f"Referral {current.referral_ref} is already closed ({current.closed_date}).")
    errors.raise_if_any()
    _write(db, referral_id, {"closed_date": day.isoformat(), "closure_reason": code}, expected_version, by)
    refresh_status(db, referral_id)
    return current


def waiting_list(db: Database, *, service_id: int | None = None, status: str | None = None,
                 staff_id: int | None = None, source: str | None = None,
                 today: date | None = None) -> list[WaitingItem]:
    """Referrals not yet in support, urgent first, then longest wait first."""
    today = today or date.today()
    where, params = [], []
    for column, value in (("service_id", service_id), ("status", status),
                          ("allocated_staff_id", staff_id), ("source", source)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT * FROM waiting_list" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY CASE priority WHEN 'urgent' THEN 0 ELSE 1 END, received_date, referral_id"
    items = []
    needed = tries_needed(db)
    for r in db.query(sql, params):
        waited = (today - date.fromisoformat(r["received_date"])).days
        first = r["preferred_name"] or r["first_name"]
        items.append(WaitingItem(
            referral_id=r["referral_id"], referral_ref=r["referral_ref"], received_date=r["received_date"],
            priority=r["priority"], status=r["status"], source=r["source"], client_id=r["client_id"],
            client_ref=r["client_ref"], client_name=f"{first} {r['last_name']}", days_waiting=waited,
            attempts=r["attempts"], last_attempt=r["last_attempt"], allocated_staff_id=r["allocated_staff_id"],
            trainer_name=r["trainer_name"], reasons=tuple((r["reasons"] or "").split(";")) if r["reasons"] else (),
            phone=r["mobile"] or r["phone"], unsuccessful_attempts=r["unsuccessful_attempts"],
            first_contact_date=r["first_contact_date"], tries_needed=needed))
    return items

