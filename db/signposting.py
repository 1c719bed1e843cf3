"""Signposting and onward referrals, with their outcome."""
from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from . import codes
from .records import Signpost, from_row
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
        "outcome, follow_up_date, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (client_id, referral_id, clean["signpost_date"], clean["category"], clean.get("destination"),
         clean.get("directory_id"), clean["type"], clean["outcome"], clean.get("follow_up_date"), by))
    return cur.lastrowid


def for_client(db: Database, client_id: int) -> list[Signpost]:
    return [from_row(Signpost, r) for r in db.query(
        "SELECT * FROM signposting WHERE client_id = ? ORDER BY signpost_date DESC, id DESC", [client_id])]
