"""Clients: validation of the record, search as you type, duplicate check, archive."""
from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date

from sqlite_utils import Database

from . import codes, engine, versioned
from .errors import ConflictError, NotFound
from .records import CLIENT_FIELDS, Client, ClientSummary, from_row
from .validation import (ErrorCollector, age_on, check_not_future, clean_name, clean_phone, clean_text,
                         format_nhs_number, normalise_nhs_number, normalise_postcode, parse_date, typed_date)

REF_PREFIX = "HT-"
FLAG_FIELDS = ("contact_phone", "contact_text", "contact_letter", "contact_email",
               "may_leave_message", "asian_thresholds")
_CODED = {  # field -> (code list, required)
    "gender": ("gender", True),
    "ethnicity": ("ethnicity", True),
    "gp_registered": ("yes_no_unknown", False),
    "employment": ("employment", False),
    "disability": ("disability", False),
    "interpreter_needed": ("yes_no", False),
    "carer": ("yes_no", False),
    "consent_share_gp": ("yes_no", False),
}
_TEXT_LIMITS = {
    "title": 20, "address_line_1": 100, "address_line_2": 100, "town": 60, "phone": 30,
    "mobile": 30, "email": 120, "gp_practice_code": 10, "gp_practice_name": 120,
    "first_language": 60, "consent_version": 20,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def format_ref(number: int) -> str:
    return f"{REF_PREFIX}{number:06d}"


def validate(values: dict, today: date | None = None) -> dict:
    """Clean every client field, or raise one ValidationError naming each bad field."""
    today = today or date.today()
    errors = ErrorCollector()
    out: dict = {}
    out["first_name"] = errors.check(clean_name, values.get("first_name"), "first_name", 100)
    out["last_name"] = errors.check(clean_name, values.get("last_name"), "last_name", 100)
    out["preferred_name"] = errors.check(clean_name, values.get("preferred_name"), "preferred_name", 100, required=False) or None
    dob = errors.check(parse_date, values.get("date_of_birth"), "date_of_birth", required=True)
    if dob is not None:
        if errors.check(check_not_future, dob, "date_of_birth", today) is not None:
            if age_on(dob, today) > 110:
                errors.add("date_of_birth", f"Date of birth {dob.isoformat()} gives an age over 110: check the year.")
        out["date_of_birth"] = dob.isoformat()
    nhs = errors.check(normalise_nhs_number, values.get("nhs_number"), "nhs_number")
    out["nhs_number"] = nhs or None
    postcode = errors.check(normalise_postcode, values.get("postcode"), "postcode")
    out["postcode"] = postcode or None
    for field, (list_name, required) in _CODED.items():
        raw = values.get(field)
        if raw in (None, ""):
            if required:
                errors.add(field, f"{_label(field)}: choose one from the list (there is a 'not stated' choice).")
            out[field] = None
            continue
        code = codes.match(list_name, raw)
        if code is None:
            errors.add(field, f"{_label(field)}: '{raw}' is not one of the choices; pick one from the list.")
        out[field] = code
    for field, limit in _TEXT_LIMITS.items():
        # Phone and mobile are checked as numbers (an email address typed there is refused), in the
        # store as in the form, so the import and the command line refuse them too.
        if field in ("phone", "mobile"):
            out[field] = errors.check(clean_phone, values.get(field), field, limit) or None
        else:
            out[field] = errors.check(clean_text, values.get(field), field, limit, multiline=False) or None
    if out.get("email") and not _EMAIL.match(out["email"]):
        errors.add("email", f"Email '{out['email']}' does not look like an email address: check it (name@example.org).")
    consent = errors.check(parse_date, values.get("consent_date"), "consent_date")
    if consent is not None:
        errors.check(check_not_future, consent, "consent_date", today)
    out["consent_date"] = consent.isoformat() if consent else None
    for field in FLAG_FIELDS:
        out[field] = 1 if values.get(field) in (True, 1, "1", "Y", "y", "yes", "Yes") else 0
    errors.raise_if_any()
    return out


def _label(field: str) -> str:
    return {"gender": "Gender", "ethnicity": "Ethnicity", "gp_registered": "GP registered",
            "employment": "Employment status", "disability": "Disability",
            "interpreter_needed": "Interpreter needed", "carer": "Carer",
            "consent_share_gp": "Consent to share with GP"}.get(field, field.replace("_", " ").capitalize())


# --- search ------------------------------------------------------------------

def fold(text: str) -> str:
    """Lower case without accents, for matching names typed without them."""
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def search_text(row: dict) -> str:
    """What a person might type to find this client, as text for the FTS index."""
    parts = [row.get("client_ref") or "", row.get("first_name") or "", row.get("last_name") or "",
             row.get("preferred_name") or ""]
    ref = row.get("client_ref") or ""
    digits = ref[len(REF_PREFIX):] if ref.startswith(REF_PREFIX) else ""
    if digits.isdigit():
        parts.append(str(int(digits)))
    nhs = row.get("nhs_number")
    if nhs:
        parts += [nhs, format_nhs_number(nhs)]
    postcode = row.get("postcode")
    if postcode and postcode != "NFA":
        parts += [postcode, postcode.replace(" ", "")]
    dob = row.get("date_of_birth")
    if dob:
        y, m, d = dob.split("-")
        parts += [dob, f"{d}/{m}/{y}", f"{int(d)}/{int(m)}/{y}"]
    return " ".join(parts)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def search_words(typed: str) -> list[str]:
    """The typed words as the index holds them (folded), at most eight; each is searched as a prefix,
    all required (db/engine.py): 'sio o'ne' finds Siobhán O'Neill."""
    return _TOKEN.findall(fold(typed))[:8]


def search(db: Database, typed: str, *, service_id: int | None = None, limit: int = 200,
           include_archived: bool = False, only_staff_id: int | None = None) -> list[ClientSummary]:
    where, params = [], []
    # A whole date is a date of birth, matched exactly (its day and month as loose words
    # would match parts of NHS numbers and postcodes); the other words search as usual.
    dated = typed_date(typed)
    if dated:
        dates, typed = dated
        where.append(f"c.date_of_birth IN ({', '.join('?' * len(dates))})")
        params += [d.isoformat() for d in dates]
    words = search_words(typed)
    if words:
        where.append(engine.search_clause(db))
        params.append(engine.search_query(db, words))
    if service_id is not None:
        where.append("c.service_id = ?")
        params.append(service_id)
    if not include_archived:
        where.append("c.archived_at IS NULL")
    if only_staff_id is not None:
        where.append("c.id IN (SELECT client_id FROM referrals WHERE allocated_staff_id = ?)")
        params.append(only_staff_id)
    sql = ("SELECT id, client_ref, first_name, last_name, preferred_name, date_of_birth, nhs_number, "
           "postcode, archived_at FROM client_list c")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT ?"
    params.append(limit)
    cur = db.conn.execute(sql, params)
    return [ClientSummary(*row) for row in cur.fetchall()]


def index_for_search(db: Database, client_id: int, row: dict) -> None:
    db.conn.execute("DELETE FROM clients_search WHERE rowid = ?", (client_id,))
    db.conn.execute("INSERT INTO clients_search (rowid, text) VALUES (?, ?)", (client_id, search_text(row)))


# --- duplicates --------------------------------------------------------------

def _similar(a: ClientSummary | dict, first: str, last: str) -> bool:
    get = (lambda k: a[k]) if isinstance(a, dict) else (lambda k: getattr(a, k))
    a_first, a_last = fold(get("first_name")), fold(get("last_name"))
    first, last = fold(first), fold(last)
    if a_last == last and a_first[:1] == first[:1]:
        return True
    whole = difflib.SequenceMatcher(None, f"{a_first} {a_last}", f"{first} {last}").ratio()
    return whole >= 0.8


def possible_duplicates(db: Database, values: dict, exclude_id: int | None = None) -> list[tuple[ClientSummary, str]]:
    """Clients who may be the same person: same NHS number, or a similar name with the same
    date of birth or postcode. Returns (client, why) pairs."""
    found: dict[int, tuple[ClientSummary, str]] = {}
    cols = "id, client_ref, first_name, last_name, preferred_name, date_of_birth, nhs_number, postcode, archived_at"
    nhs = values.get("nhs_number")
    if nhs:
        for row in db.conn.execute(f"SELECT {cols} FROM clients WHERE nhs_number = ?", (nhs,)):
            found[row[0]] = (ClientSummary(*row), "same NHS number")
    first, last = values.get("first_name") or "", values.get("last_name") or ""
    for field, why in (("date_of_birth", "similar name and same date of birth"),
                       ("postcode", "similar name and same postcode")):
        value = values.get(field)
        if not value or value == "NFA":
            continue
        for row in db.conn.execute(f"SELECT {cols} FROM clients WHERE {field} = ?", (value,)):
            summary = ClientSummary(*row)
            if row[0] not in found and _similar(summary, first, last):
                found[row[0]] = (summary, why)
    found.pop(exclude_id, None)
    return list(found.values())


# --- reads and writes ----------------------------------------------------------

def get(db: Database, client_id: int) -> Client:
    rows = list(db.query("SELECT * FROM clients WHERE id = ?", [client_id]))
    if not rows:
        raise NotFound(f"There is no client with id {client_id}.")
    return from_row(Client, rows[0])


def id_for_ref(db: Database, client_ref: str) -> int:
    row = db.conn.execute("SELECT id FROM clients WHERE client_ref = ?", ((client_ref or "").strip().upper(),)).fetchone()
    if row is None:
        raise NotFound(f"There is no client with reference {client_ref}. Check the reference (e.g. HT-000123).")
    return row[0]


def insert(db: Database, service_id: int, clean: dict, deprivation: dict, by: str,
           client_ref: str | None = None) -> int:
    from .services import next_number
    ref = client_ref or format_ref(next_number(db, "client_ref"))
    row = {**{f: clean.get(f) for f in CLIENT_FIELDS}, **deprivation,
           "service_id": service_id, "client_ref": ref, "created_by": by}
    cols = list(row)
    client_id = db.conn.execute(f"INSERT INTO clients ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                                "RETURNING id", [row[c] for c in cols]).fetchone()[0]
    index_for_search(db, client_id, row)
    return client_id


def update(db: Database, client_id: int, clean: dict, deprivation: dict | None, expected_version: int,
           by: str) -> tuple[dict, dict]:
    """Write the changed fields if nobody else changed the record since it was read."""
    current = get(db, client_id)
    before = {f: getattr(current, f) for f in CLIENT_FIELDS}
    after = {f: clean.get(f) for f in CLIENT_FIELDS}
    if deprivation is not None:
        after.update(deprivation)
        before.update({k: getattr(current, k) for k in deprivation})
    versioned.update(db, "clients", client_id, after, expected_version, by,
                     conflict=lambda: _conflict(get(db, client_id)))
    index_for_search(db, client_id, {**after, "client_ref": current.client_ref})
    return before, after


def _conflict(current: Client) -> ConflictError:
    who = current.updated_by or current.created_by
    when = current.updated_at or "just now"
    return ConflictError(
        f"Someone else ({who or 'another user'}) changed {current.client_ref} at {when} after you opened it. "
        "Your changes were not saved: look at their changes, then make yours again.", current=current)


def set_archived(db: Database, client_id: int, archived: bool, expected_version: int, by: str) -> None:
    versioned.update(db, "clients", client_id,
                     {"archived_at": date.today().isoformat() if archived else None,
                      "archived_by": by if archived else None},
                     expected_version, by, conflict=lambda: _conflict(get(db, client_id)))


def erased(db: Database, client_id: int) -> tuple[str, str] | None:
    """(reference, when) if the person was erased on request (anonymised in place), else None."""
    row = db.conn.execute("SELECT client_ref, anonymised_at FROM clients WHERE id = ?", (client_id,)).fetchone()
    return (row[0], row[1]) if row and row[1] else None


def allocated_to(db: Database, client_id: int, staff_id: int | None) -> bool:
    if staff_id is None:
        return False
    return db.conn.execute("SELECT 1 FROM referrals WHERE client_id = ? AND allocated_staff_id = ? LIMIT 1",
                           (client_id, staff_id)).fetchone() is not None
