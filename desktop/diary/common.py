"""What the diary screens share: how a session's place, time and outcome read, and the list columns."""
from __future__ import annotations

from datetime import date

from db.public import codes

from ..models.columns import show_date
from ..models.table import Column

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REMOTE_MODES = (("PHONE", "Telephone"), ("VIDEO", "Video call"), ("HOME", "Home visit"))


def long_day(iso: str | date) -> str:
    d = date.fromisoformat(iso) if isinstance(iso, str) else iso
    return f"{DAY_NAMES[d.weekday()]} {d.day} {d.strftime('%B %Y')}"


def short_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{DAY_NAMES[d.weekday()][:3]} {d.day:02d}/{d.month:02d}"


def where(e) -> str:
    """The venue, or how the session is held when it has no venue (telephone, video, home)."""
    if e.mode == "HOME":
        return "Home visit"
    if e.mode in ("PHONE", "VIDEO", "TEXT") and (not e.venue_name or e.venue_type == "REMOTE"):
        return codes.label("mode", e.mode)
    return e.venue_name or codes.label("mode", e.mode)


def times(e) -> str:
    if not e.start_time:
        return ""
    return f"{e.start_time}\u2013{e.end_time}"


def outcome(e) -> str:
    if e.outcome_not_recorded:
        return "Outcome not recorded"
    if e.attendance == "0":
        return "Booked"
    return codes.label("attendance", e.attendance)


def attention(e) -> str | None:
    """Said in words beside the shading (colour is never the only signal)."""
    if e.outcome_not_recorded:
        return "Outcome not recorded: record what happened"
    return None


class GroupLine:
    """One line for a group's meeting in a list (its first member's entry stands for it)."""

    def __init__(self, entry, members: int):
        self.entry, self.members = entry, members

    def __getattr__(self, name):
        return getattr(self.entry, name)


def one_line_per_group(entries) -> list:
    """One-to-one sessions as they are; each group's meeting once, as a GroupLine."""
    out, seen = [], {}
    for e in entries:
        if e.group_id is None:
            out.append(e)
            continue
        key = (e.group_id, e.session_date, e.start_time)
        if key in seen:
            seen[key].members += 1
        else:
            seen[key] = GroupLine(e, 1)
            out.append(seen[key])
    return out


def client_label(e) -> str:
    members = getattr(e, "members", None)
    if isinstance(members, int):
        return f"{e.group_title} (group of {members})"
    return f"{e.client_name} ({e.client_ref})"


def when(e, today: str) -> str:
    """The time, with the day in front for a session not on `today` (an earlier one still to record)."""
    return times(e) if e.session_date == today else f"{short_day(e.session_date)} {times(e)}"


def session_label(e) -> str:
    group = f" \u2014 {e.group_title}" if e.group_title else ""
    return (f"{long_day(e.session_date)} {times(e)}: {client_label(e)}, session {e.session_number}, "
            f"{where(e)}{group}")


def today_sessions(today) -> tuple:
    """My day's columns; today() gives the ISO date shown as today (read at each paint: past midnight too)."""
    return (Column("start_time", "Time", lambda e: when(e, today()), lambda e: (e.session_date, e.start_time or "")),
            *TODAY_SESSIONS[1:])


TODAY_SESSIONS = (
    Column("start_time", "Time", times, lambda e: (e.session_date, e.start_time or "")),
    Column("client", "Client", client_label, lambda e: e.client_name.casefold()),
    Column("where", "Where", where),
    Column("session_number", "Session", lambda e: "" if getattr(e, "members", None) else str(e.session_number),
           lambda e: e.session_number, True),
    Column("type", "Type", lambda e: "Group" if getattr(e, "members", None) else
           codes.label("session_type", e.type) if e.type else ""),
    Column("outcome", "Outcome", outcome),
)

DAY_LIST = (
    Column("session_date", "Date", lambda e: short_day(e.session_date), lambda e: (e.session_date, e.start_time or "")),
    Column("start_time", "Time", times, lambda e: (e.session_date, e.start_time or "")),
    Column("staff_name", "Trainer", lambda e: e.staff_name or ""),
    Column("client", "Client", client_label, lambda e: e.client_name.casefold()),
    Column("where", "Where", lambda e: where(e) + (f" \u2014 {e.group_title}" if e.group_title else "")),
    Column("session_number", "Session", lambda e: str(e.session_number), lambda e: e.session_number, True),
    Column("type", "Type", lambda e: codes.label("session_type", e.type) if e.type else ""),
    Column("outcome", "Outcome", outcome),
)


def _next(item) -> str:
    return show_date(item.next_session) if item.next_session else "None booked"


CASELOAD = (
    Column("client", "Client", lambda c: f"{c.client_name} ({c.client_ref})", lambda c: c.client_name.casefold()),
    Column("referral_ref", "Referral"),
    Column("sessions_attended", "Attended", lambda c: str(c.sessions_attended), lambda c: c.sessions_attended, True),
    Column("last_attended", "Last session", lambda c: show_date(c.last_attended), lambda c: c.last_attended or ""),
    Column("next_session", "Next session", _next, lambda c: c.next_session or "9999"),
    Column("plan_agreed", "Plan agreed", lambda c: show_date(c.plan_agreed) if c.plan_agreed else "Not yet",
           lambda c: c.plan_agreed or ""),
    Column("review_due", "Review due", lambda c: show_date(c.review_due), lambda c: c.review_due or "9999"),
    # Sorted: something overdue first, then the longest waiting (the earliest review due, the oldest session).
    Column("due", "Due next", lambda c: "; ".join(c.due) or "Nothing due",
           lambda c: (0 if c.overdue else 1 if c.due else 2, c.review_due or "9999", c.last_attended or "")),
)


def caseload_attention(c) -> str | None:
    return ("Overdue: " + "; ".join(c.overdue)) if c.overdue else None


FOLLOW_UP = (
    Column("client", "Client", lambda f: f"{f.client_name} ({f.client_ref})", lambda f: f.client_name.casefold()),
    Column("referral_ref", "Referral"),
    Column("staff_name", "Trainer", lambda f: f.staff_name or "Not allocated"),
    Column("last_dna", "Last missed", lambda f: show_date(f.last_dna), lambda f: f.last_dna or ""),
    Column("phone", "Phone", lambda f: f.mobile or f.phone or ""),
)
