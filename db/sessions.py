"""Sessions: appointments (attendance 0, booked) that become contacts once attendance is recorded."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlite_utils import Database

from . import codes, versioned
from .errors import ConflictError, NotFound
from .records import Session, from_row
from .referrals import get as get_referral, refresh_status
from .validation import ErrorCollector, check_session_date, clean_text, fail, parse_date



@lru_cache(maxsize=4096)
def _hhmm(text: str) -> str:
    """A time as HH:MM (strptime is slow, and an import checks the same few times thousands of times)."""
    return datetime.strptime(text, "%H:%M").strftime("%H:%M")


def _time(value, errors: ErrorCollector) -> str | None:
    if value in (None, ""):
        return None
    text = value.strftime("%H:%M") if hasattr(value, "strftime") else str(value).strip()
    try:
        return _hhmm(text)
    except ValueError:
        errors.add("start_time", f"Start time '{text}' is not a time: enter it as HH:MM, e.g. 09:30.")
        return None


def validate(values: dict, received_date: str, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    day = errors.check(parse_date, values.get("session_date"), "session_date", required=True)
    attendance = str(values.get("attendance") if values.get("attendance") is not None else "").strip()
    attendance = codes.match("attendance", attendance) or attendance
    if day is not None:
        errors.check(check_session_date, day, received_date, attendance, today)
        out["session_date"] = day.isoformat()
    out["attendance"] = attendance
    out["start_time"] = _time(values.get("start_time"), errors)
    duration = values.get("duration_minutes")
    if duration in (None, ""):
        out["duration_minutes"] = None
    else:
        try:
            out["duration_minutes"] = int(duration)
            if not 1 <= out["duration_minutes"] <= 480:
                raise ValueError
        except (TypeError, ValueError):
            errors.add("duration_minutes", f"Duration '{duration}' must be a number of minutes from 1 to 480.")
    out["mode"] = codes.match("mode", values.get("mode"))
    if out["mode"] is None:
        errors.add("mode", "Mode: choose how the session took place (face to face, telephone…).")
    stype = values.get("type")
    out["type"] = codes.match("session_type", stype) if stype else None
    if stype and out["type"] is None:
        errors.add("type", "Session type: choose one from the list.")
    out["notes"] = errors.check(clean_text, values.get("notes"), "notes", 4000) or None
    out["next_steps"] = errors.check(clean_text, values.get("next_steps"), "next_steps", 2000) or None
    out["staff_id"] = values.get("staff_id")
    if not out["staff_id"]:
        errors.add("staff_id", "Trainer: choose who holds the session.")
    out["venue_id"] = values.get("venue_id") or None
    errors.raise_if_any()
    return out


def clashes(db: Database, staff_id: int, session_date: str, start_time: str | None, duration: int | None,
            exclude_id: int | None = None) -> list[Session]:
    """Booked or held sessions of the same trainer that overlap this one in time."""
    if not start_time:
        return []
    start = datetime.strptime(f"{session_date} {start_time}", "%Y-%m-%d %H:%M")
    end = start + timedelta(minutes=duration or 60)
    found = []
    for r in db.query("SELECT * FROM sessions WHERE staff_id = ? AND session_date = ? AND start_time IS NOT NULL "
                      "AND attendance NOT IN ('2', '4') AND id IS DISTINCT FROM ?", [staff_id, session_date, exclude_id]):
        other_start = datetime.strptime(f"{r['session_date']} {r['start_time']}", "%Y-%m-%d %H:%M")
        other_end = other_start + timedelta(minutes=r["duration_minutes"] or 60)
        if other_start < end and start < other_end:
            found.append(from_row(Session, r))
    return found


def insert(db: Database, referral_id: int, clean: dict, by: str, today: date | None = None,
           check_clash: bool = True) -> int:
    referral = get_referral(db, referral_id)
    if check_clash:
        overlap = clashes(db, clean["staff_id"], clean["session_date"], clean.get("start_time"), clean.get("duration_minutes"))
        if overlap:
            o = overlap[0]
            raise fail("start_time", f"Start time clashes with another session of the same trainer on "
                                     f"{o.session_date} at {o.start_time}: choose another time.")
    session_id = db.conn.execute(
        "INSERT INTO sessions (referral_id, client_id, staff_id, venue_id, session_date, start_time, duration_minutes, "
        "mode, type, attendance, notes, next_steps, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (referral_id, referral.client_id, clean["staff_id"], clean.get("venue_id"), clean["session_date"],
         clean.get("start_time"), clean.get("duration_minutes"), clean["mode"], clean.get("type"),
         clean["attendance"], clean.get("notes"), clean.get("next_steps"), by)).fetchone()[0]
    refresh_status(db, referral_id)
    return session_id


def get(db: Database, session_id: int) -> Session:
    rows = list(db.query(_SELECT + " WHERE x.id = ?", [session_id]))
    if not rows:
        raise NotFound(f"There is no session with id {session_id}.")
    return from_row(Session, rows[0])


_SELECT = ("SELECT x.*, s.full_name AS staff_name, v.name AS venue_name FROM sessions x "
           "LEFT JOIN staff s ON s.id = x.staff_id LEFT JOIN venues v ON v.id = x.venue_id")


def for_client(db: Database, client_id: int) -> list[Session]:
    return [from_row(Session, r) for r in db.query(
        _SELECT + " WHERE x.client_id = ? ORDER BY x.session_date DESC, x.start_time DESC", [client_id])]


def record_attendance(db: Database, session_id: int, attendance: str, expected_version: int, by: str,
                      today: date | None = None) -> Session:
    current = get(db, session_id)
    referral = get_referral(db, current.referral_id)
    code = codes.match("attendance", attendance) or str(attendance)
    check_session_date(current.session_date, referral.received_date, code, today)

    def conflict() -> ConflictError:
        who, when = versioned.who_changed(db, "sessions", session_id)
        return ConflictError(f"Someone else ({who}) changed this session at {when} after you opened it: reopen "
                             "it and try again.", current=get(db, session_id))
    versioned.update(db, "sessions", session_id, {"attendance": code}, expected_version, by, conflict=conflict)
    refresh_status(db, current.referral_id)
    return current


def next_booked(db: Database, client_id: int, today: date | None = None, limit: int = 5) -> list[Session]:
    today = (today or date.today()).isoformat()
    return [from_row(Session, r) for r in db.query(
        _SELECT + " WHERE x.client_id = ? AND x.attendance = '0' AND x.session_date >= ? "
        "ORDER BY x.session_date, x.start_time LIMIT ?", [client_id, today, limit])]
