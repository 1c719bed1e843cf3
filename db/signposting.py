"""Signposting and onward referrals, with their outcome."""
from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from . import codes, versioned
from .errors import ConflictError, NotFound
from .records import DirectoryEntry, FollowUpItem, Signpost, from_row
from .validation import ErrorCollector, check_not_future, clean_text, parse_date


def validate(values: dict, received_date: str, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    day = errors.check(parse_date, values.get("signpost_date"), "signpost_date", required=True)
    if day is not None:
        errors.check(check_not_future, day, "signpost_date", today)
        if day.isoformat() < received_date:
            errors.add("signpost_date", f"Date {day.isoformat()} is before the referral was received ({received_date}).")
        out["signpost_date"] = day.isoformat()
    for field, list_name, message in (
            ("category", "signposting_category", "Category: choose the kind of service."),
            ("type", "signposting_type", "Type: choose signposted or referred.")):
        out[field] = codes.match(list_name, values.get(field))
        if out[field] is None:
            errors.add(field, message)
    outcome = values.get("outcome") or "unknown"
    out["outcome"] = codes.match("signposting_outcome", outcome)
    if out["outcome"] is None:
        errors.add("outcome", "Outcome: choose went, did not go, or not known.")
    out["destination"] = errors.check(clean_text, values.get("destination"), "destination", 200, multiline=False) or None
    out["directory_id"] = values.get("directory_id") or None
    follow = errors.check(parse_date, values.get("follow_up_date"), "follow_up_date")
    out["follow_up_date"] = follow.isoformat() if follow else None
    errors.raise_if_any()
    return out


def insert(db: Database, client_id: int, referral_id: int, clean: dict, by: str) -> int:
    cur = db.conn.execute(
        "INSERT INTO signposting (client_id, referral_id, signpost_date, category, destination, directory_id, type, "
        "outcome, follow_up_date, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (client_id, referral_id, clean["signpost_date"], clean["category"], clean.get("destination"),
         clean.get("directory_id"), clean["type"], clean["outcome"], clean.get("follow_up_date"), by))
    return cur.fetchone()[0]


def for_client(db: Database, client_id: int) -> list[Signpost]:
    return [from_row(Signpost, r) for r in db.query(
        "SELECT * FROM signposting WHERE client_id = ? ORDER BY signpost_date DESC, id DESC", [client_id])]


# --- outcomes, the follow-up list and the directory (issue 12, schema 0007) --------------------------

def get(db: Database, signpost_id: int) -> Signpost:
    rows = list(db.query("SELECT * FROM signposting WHERE id = ?", [signpost_id]))
    if not rows:
        raise NotFound(f"There is no signposting with id {signpost_id}.")
    return from_row(Signpost, rows[0])


def validate_outcome(values: dict, signpost: Signpost, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    out["outcome"] = codes.match("signposting_outcome", values.get("outcome"))
    if out["outcome"] is None:
        errors.add("outcome", "Outcome: choose went, did not go, or not known.")
    day = errors.check(parse_date, values.get("outcome_date"), "outcome_date", required=out["outcome"] != "unknown")
    if day is not None:
        errors.check(check_not_future, day, "outcome_date", today)
        if day.isoformat() < signpost.signpost_date:
            errors.add("outcome_date", f"Date {day.isoformat()} is before the client was signposted "
                                       f"({signpost.signpost_date}).")
    out["outcome_date"] = day.isoformat() if day else None
    follow = errors.check(parse_date, values.get("follow_up_date"), "follow_up_date")
    out["follow_up_date"] = follow.isoformat() if follow else signpost.follow_up_date
    errors.raise_if_any()
    return out


def update_outcome(db: Database, signpost_id: int, clean: dict, expected_version: int, by: str) -> tuple[dict, dict]:
    current = get(db, signpost_id)
    before = {k: getattr(current, k) for k in clean}

    def conflict() -> ConflictError:
        who, when = versioned.who_changed(db, "signposting", signpost_id)
        return ConflictError(f"Someone else ({who}) changed this signposting at {when} after you opened it: "
                             "reopen the record and try again.", current=get(db, signpost_id))
    versioned.update(db, "signposting", signpost_id, clean, expected_version, by, conflict=conflict)
    return before, dict(clean)


def follow_up(db: Database, *, staff_id: int | None = None, due_by: str | None = None,
              client_ids: list[int] | None = None) -> list[FollowUpItem]:
    """Signposting whose outcome is still unknown, the oldest follow-up date first (none last)."""
    where, params = [], []
    if staff_id is not None:
        where.append("staff_id = ?")
        params.append(staff_id)
    if due_by is not None:
        where.append("(follow_up_date IS NULL OR follow_up_date <= ?)")
        params.append(due_by)
    sql = "SELECT * FROM signposting_follow_up"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY follow_up_date IS NULL, follow_up_date, signpost_date, signpost_id"
    return [from_row(FollowUpItem, r) for r in db.query(sql, params)]


DIRECTORY_FIELDS = ("name", "category", "phone", "address", "web", "notes")


def validate_directory(values: dict) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    out["name"] = errors.check(clean_text, values.get("name"), "name", 200, required=True, multiline=False)
    out["category"] = codes.match("signposting_category", values.get("category"))
    if out["category"] is None:
        errors.add("category", "Category: choose the kind of service from the list.")
    for field, limit in (("phone", 40), ("web", 300)):
        out[field] = errors.check(clean_text, values.get(field), field, limit, multiline=False) or None
    for field, limit in (("address", 500), ("notes", 2000)):
        out[field] = errors.check(clean_text, values.get(field), field, limit) or None
    errors.raise_if_any()
    return out


def get_directory_entry(db: Database, entry_id: int) -> DirectoryEntry:
    rows = list(db.query("SELECT * FROM directory WHERE id = ?", [entry_id]))
    if not rows:
        raise NotFound(f"There is no directory entry with id {entry_id}.")
    return from_row(DirectoryEntry, rows[0])


def update_directory_entry(db: Database, entry_id: int, clean: dict, expected_version: int,
                           by: str) -> tuple[dict, dict]:
    current = get_directory_entry(db, entry_id)
    before = {k: getattr(current, k) for k in clean}

    def conflict() -> ConflictError:
        who, when = versioned.who_changed(db, "directory", entry_id)
        return ConflictError(f"Someone else ({who}) changed this directory entry at {when} after you opened it: "
                             "reopen it and try again.", current=get_directory_entry(db, entry_id))
    versioned.update(db, "directory", entry_id, clean, expected_version, by, conflict=conflict)
    return before, dict(clean)


def search_directory(entries: list[DirectoryEntry], text: str = "", category: str | None = None
                     ) -> list[DirectoryEntry]:
    """Entries whose name, category, notes or address hold every word typed (case-insensitive)."""
    words = [w.casefold() for w in (text or "").split()]
    found = []
    for e in entries:
        if category and e.category != category:
            continue
        hay = " ".join(str(x) for x in (e.name, codes.label("signposting_category", e.category), e.notes, e.address,
                                        e.phone) if x).casefold()
        if all(w in hay for w in words):
            found.append(e)
    return found
