"""Every list's columns, declared once: (key, header, formatter, sort key)."""
from __future__ import annotations

from datetime import date

from db.public import THREE_TRIES, codes

from .table import Column


def show_date(value: str | None) -> str:
    """ISO date (or date-time) as people in England read it: 31/01/1985."""
    if not value:
        return ""
    text = str(value)
    try:
        d = date.fromisoformat(text[:10])
    except ValueError:
        return text
    rest = text[10:].strip().lstrip("T")
    return f"{d.day:02d}/{d.month:02d}/{d.year}" + (f" {rest[:5]}" if rest else "")


def _nhs(value: str | None) -> str:
    if value and len(value) == 10 and value.isdigit():
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    return value or ""


def _name(row) -> str:
    first = row.preferred_name or row.first_name
    return f"{row.last_name}, {first}"


def _name_in_search(row) -> str:
    # Archived people appear only when the search includes them: say so in words, before the
    # name, where a column narrower than the text cannot cut it off.
    return ("(archived) " if getattr(row, "archived_at", None) else "") + _name(row)


CLIENT_SEARCH = (
    Column("client_ref", "Reference"),
    Column("name", "Name", _name_in_search, lambda r: (r.last_name.casefold(), r.first_name.casefold())),
    Column("date_of_birth", "Date of birth", lambda r: show_date(r.date_of_birth), lambda r: r.date_of_birth),
    Column("nhs_number", "NHS number", lambda r: _nhs(r.nhs_number)),
    Column("postcode", "Postcode"),
)


def _priority(row) -> str:
    return codes.label("priority", row.priority)


def three_tries_reached(row) -> bool:
    return row.three_tries_reached


def tries_reached(needed: int) -> str:
    """"Three tries reached", or the service's own number when its setting (three_tries.attempts) differs."""
    return "Three tries reached" if needed == THREE_TRIES else f"{needed} tries reached"


def _three_tries(row) -> str:
    return f"{row.attempts}: {row.tries_needed} tries" if three_tries_reached(row) else str(row.attempts)


# Sorting on Priority gives the working order: urgent first, then the longest wait.
WAITING_LIST = (
    Column("priority", "Priority", _priority, lambda r: (0 if r.priority == "urgent" else 1, -r.days_waiting)),
    Column("days_waiting", "Days waiting", lambda r: str(r.days_waiting), lambda r: r.days_waiting, True),
    Column("referral_ref", "Referral"),
    Column("client_name", "Client", None, lambda r: r.client_name.casefold()),
    Column("status", "Status", lambda r: codes.label("referral_status", r.status)),
    Column("source", "Source", lambda r: codes.label("source", r.source)),
    Column("attempts", "Attempts", _three_tries, lambda r: r.attempts, True,
           "Contact attempts so far; after three tries send the could-not-reach letter"),
    Column("last_attempt", "Last attempt", lambda r: show_date(r.last_attempt), lambda r: r.last_attempt or ""),
    Column("trainer_name", "Trainer", lambda r: r.trainer_name or "Not allocated", lambda r: r.trainer_name or ""),
    Column("received_date", "Received", lambda r: show_date(r.received_date), lambda r: r.received_date),
    Column("reasons", "Reasons", lambda r: ", ".join(codes.label("area", a) for a in r.reasons)),
)


CLIENT_REFERRALS = (
    Column("referral_ref", "Referral"),
    Column("received_date", "Received", lambda r: show_date(r.received_date), lambda r: r.received_date),
    Column("source", "Source", lambda r: codes.label("source", r.source)),
    Column("priority", "Priority", lambda r: codes.label("priority", r.priority)),
    Column("status", "Status", lambda r: codes.label("referral_status", r.status)),
    Column("allocated_name", "Trainer", lambda r: r.allocated_name or "Not allocated"),
    Column("closed_date", "Closed", lambda r: show_date(r.closed_date)
           + (f" ({codes.label('closure_reason', r.closure_reason)})" if r.closure_reason else "")),
)


CONTACT_ATTEMPTS = (
    Column("number", "No.", lambda a: str(a[0]), lambda a: a[0], True),
    Column("attempt_date", "Date", lambda a: show_date(a[1].attempt_date), lambda a: a[1].attempt_date),
    Column("method", "Method", lambda a: codes.label("contact_method", a[1].method)),
    Column("outcome", "Outcome", lambda a: codes.label("contact_outcome", a[1].outcome)),
    Column("created_by", "By", lambda a: a[1].created_by or ""),
    Column("note", "Note", lambda a: a[1].note or ""),
)


TIMELINE = (
    Column("when", "When", lambda e: show_date(e.when), lambda e: e.when),
    Column("kind", "What", lambda e: e.kind.capitalize()),
    Column("referral_ref", "Referral", lambda e: e.referral_ref or ""),
    Column("summary", "Details"),
)
