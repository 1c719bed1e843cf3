"""The diary: booking (one-to-one, group, blocks of weekly sessions) with clash checks and the next
free slot, recording outcomes, moves and cancellations with their history, and the lists a trainer's
day and a coordinator's week are read from (views diary_entries, caseload, dna_follow_up; 0006_diary).

A group booking holds several clients: one sessions row per client, linked by group_id, so each
member's attendance is counted exactly as a one-to-one session is (db/returns.py counts rows).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlite_utils import Database

from . import codes, engine, referrals, services, versioned
from .errors import Clash, ConflictError, FieldError, NeedsConfirmation, NotFound, ValidationError
from .records import CaseloadItem, DiaryEntry, DnaFollowUp, Referral, SessionChange, from_row
from .validation import ErrorCollector, check_session_date, clean_text, fail, format_date, parse_date

WORK_START, WORK_END = 9 * 60, 17 * 60      # the hours the next free slot is looked for in
SLOT_STEP = 15                              # minutes between candidate start times
WORKING_DAYS = "12345"                      # Monday to Friday, unless the venue says otherwise
LOOK_AHEAD_DAYS = 42
MAX_MINUTES = 8 * 60
MAX_WEEKS = 26
NEEDS_VENUE = ("F2F", "GROUP")
CANCELLED = ("2", "4")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_REVIEW_WEEKS = 6


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _time(value, field: str, errors: ErrorCollector, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            errors.add(field, f"{_LABEL[field]}: enter a time as HH:MM, e.g. 09:30.")
        return None
    text = value.strftime("%H:%M") if hasattr(value, "strftime") else str(value).strip()
    try:
        return datetime.strptime(text, "%H:%M").strftime("%H:%M")
    except ValueError:
        errors.add(field, f"{_LABEL[field]} '{text}' is not a time: enter it as HH:MM, e.g. 09:30.")
        return None


_LABEL = {"start_time": "Start time", "end_time": "End time"}


def show_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{DAY_NAMES[d.weekday()]} {format_date(d)}"


# --- booking ---------------------------------------------------------------------------------------------


def clean_booking(db: Database, referral: Referral, values: dict, *, weeks: int = 1, confirm_past: bool = False,
                  today: date | None = None) -> dict:
    """The booking as stored, or a ValidationError naming each bad field. Past dates need confirm_past."""
    today = today or date.today()
    errors = ErrorCollector()
    out: dict = {}
    day = errors.check(parse_date, values.get("session_date"), "session_date", required=True)
    start = _time(values.get("start_time"), "start_time", errors, required=True)
    end = _time(values.get("end_time"), "end_time", errors, required=False)
    duration = values.get("duration_minutes")
    if start and end:
        if _minutes(end) <= _minutes(start):
            errors.add("end_time", f"End time {end} is not after the start ({start}): check both times.")
        else:
            duration = _minutes(end) - _minutes(start)
    if duration in (None, "") and not end:
        errors.add("duration_minutes", "Length: enter how many minutes the session lasts (1 to 480).")
    elif duration not in (None, ""):
        try:
            duration = int(duration)
        except (TypeError, ValueError):
            errors.add("duration_minutes", f"Length '{duration}' must be a number of minutes (1 to 480).")
        else:
            if duration < 1:
                errors.add("duration_minutes", "Length must be at least 1 minute: 0 minutes is not a session.")
            elif duration > MAX_MINUTES:
                errors.add("duration_minutes", f"Length {duration} minutes is over 8 hours: enter at most 480.")
    out["duration_minutes"] = duration if isinstance(duration, int) else None
    mode = codes.match("mode", values.get("mode")) if values.get("mode") else None
    if mode is None:
        errors.add("mode", "Where: choose a venue, telephone, video or a home visit.")
    out["mode"] = mode
    out["venue_id"] = values.get("venue_id") or None
    if mode in NEEDS_VENUE and not out["venue_id"]:
        errors.add("venue_id", "Venue: choose where the session is held (or choose telephone, video or home).")
    if out["venue_id"] and db.conn.execute("SELECT 1 FROM venues WHERE id = ?", (out["venue_id"],)).fetchone() is None:
        errors.add("venue_id", "Venue: choose one from the list.")
    stype = values.get("type")
    out["type"] = codes.match("session_type", stype) if stype else None
    if stype and out["type"] is None:
        errors.add("type", "Session type: choose one from the list.")
    out["staff_id"] = values.get("staff_id")
    if not out["staff_id"]:
        errors.add("staff_id", "Trainer: choose who holds the session.")
    out["notes"] = errors.check(clean_text, values.get("notes"), "notes", 4000) or None
    try:
        weeks = int(weeks)
        if not 1 <= weeks <= MAX_WEEKS:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("weeks", f"Weekly sessions: enter how many, from 1 to {MAX_WEEKS}.")
        weeks = 1
    if day is not None:
        received = date.fromisoformat(referral.received_date)
        if day < received:
            errors.add("session_date", f"Date {format_date(day)} is before the referral was received "
                                       f"({format_date(received)}): a session cannot come before its referral.")
        closed = date.fromisoformat(referral.closed_date) if referral.closed_date else None
        last = day + timedelta(weeks=weeks - 1)
        if closed is not None and out["type"] != "FOLLOWUP" and day > closed:
            errors.add("session_date", f"The referral was closed on {format_date(closed)}: after its closing "
                                       "only a follow-up session can be booked (choose the type Follow-up).")
        elif closed is not None and weeks > 1 and last > closed and day <= closed:
            errors.add("weeks", f"Weekly sessions: a block of {weeks} would run to {format_date(last)}, past the "
                                f"referral's closing on {format_date(closed)}: book fewer.")
        out["session_date"] = day.isoformat()
    out["start_time"] = start
    out["weeks"] = weeks
    errors.raise_if_any()
    if day < today and not confirm_past:
        raise NeedsConfirmation(FieldError(
            "session_date", f"Date {format_date(day)} is in the past: book it anyway (entering a session "
                            "after it happened), or correct the date?"))
    return out


def default_type(db: Database, referral: Referral) -> str:
    if referral.closed_date:
        return "FOLLOWUP"
    held = db.conn.execute("SELECT 1 FROM sessions WHERE referral_id = ? AND attendance NOT IN ('2', '4') LIMIT 1",
                           (referral.id,)).fetchone()
    return "SUPPORT" if held else "INITIAL"


def venue_open_days(db: Database, venue_id: int | None) -> tuple[str | None, str | None]:
    """(open days, venue name) of a venue; open days None when the venue keeps no days."""
    if not venue_id:
        return None, None
    row = db.conn.execute("SELECT open_days, name FROM venues WHERE id = ?", (venue_id,)).fetchone()
    return (row[0] or None, row[1]) if row else (None, None)


def _busy(db: Database, staff_id: int, client_ids: list[int], first: str, last: str,
          exclude: set[int]) -> list[tuple]:
    """(date, start minutes, end minutes, who: 'staff'|'client', description) of every booking in range."""
    marks = ",".join("?" * len(client_ids)) or "NULL"
    rows = db.conn.execute(
        f"SELECT x.id, x.session_date, x.start_time, COALESCE(x.duration_minutes, 60), x.staff_id, x.client_id, "
        f"c.client_ref, st.full_name, v.name, g.title FROM sessions x JOIN clients c ON c.id = x.client_id "
        f"LEFT JOIN staff st ON st.id = x.staff_id LEFT JOIN venues v ON v.id = x.venue_id "
        f"LEFT JOIN session_groups g ON g.id = x.group_id "
        f"WHERE x.session_date BETWEEN ? AND ? AND x.start_time IS NOT NULL AND x.attendance NOT IN ('2', '4') "
        f"AND (x.staff_id = ? OR x.client_id IN ({marks}))",
        [first, last, staff_id, *client_ids]).fetchall()
    out = []
    for sid, day, start, length, staff, client, ref, staff_name, venue, group in rows:
        if sid in exclude:
            continue
        s = _minutes(start)
        what = f"group session: {group}" if group else ref
        where = f" at {venue}" if venue else ""
        if staff == staff_id:
            out.append((day, s, s + length, "staff",
                        f"{staff_name} is already booked from {start} to {_hhmm(s + length)} on {show_day(day)} "
                        f"({what}{where})"))
        if client in client_ids:
            out.append((day, s, s + length, "client",
                        f"{ref} is already booked with {staff_name} from {start} to {_hhmm(s + length)} on "
                        f"{show_day(day)}{where}"))
    return out


def _closed_day(open_days: str | None, day: date) -> bool:
    return open_days is not None and str(day.isoweekday()) not in open_days


def _first_clash(busy: list[tuple], open_days: str | None, venue_name: str | None, day: date, start: int,
                 length: int, weeks: int) -> tuple[str, str] | None:
    """(field, message) of the first clash of a block starting here, or None when it is all free."""
    for k in range(weeks):
        d = day + timedelta(weeks=k)
        if _closed_day(open_days, d):
            days = ", ".join(DAY_NAMES[int(c) - 1] for c in sorted(open_days))
            return "session_date", (f"{venue_name} is open on {days} only, and {format_date(d)} is a "
                                    f"{d.strftime('%A')}")
        iso = d.isoformat()
        for b_day, b_start, b_end, _who, text in busy:
            if b_day == iso and b_start < start + length and start < b_end:
                return "start_time", text
    return None


def next_free_slot(busy: list[tuple], open_days: str | None, day: date, start: int, length: int,
                   weeks: int, days_ahead: int = LOOK_AHEAD_DAYS) -> tuple[str, str] | None:
    """The first (date, time) from this one on, within working hours, at which the whole block is free."""
    for offset in range(days_ahead + 1):
        d = day + timedelta(days=offset)
        working = open_days if open_days is not None else WORKING_DAYS
        if str(d.isoweekday()) not in working:
            continue
        t = start if offset == 0 else WORK_START
        if offset == 0 and t % SLOT_STEP:
            t += SLOT_STEP - t % SLOT_STEP
        while t + length <= max(WORK_END, start + length if offset == 0 else WORK_END):
            if _first_clash(busy, open_days, None, d, t, length, weeks) is None:
                return d.isoformat(), _hhmm(t)
            t += SLOT_STEP
    return None


def check_clashes(db: Database, staff_id: int, client_ids: list[int], clean: dict, *,
                  exclude: set[int] = frozenset()) -> None:
    """Raise Clash naming the first clash of the booking (every week of a block) and offering the next
    free slot at which the trainer, every client and the venue are all free."""
    day = date.fromisoformat(clean["session_date"])
    start, length, weeks = _minutes(clean["start_time"]), clean["duration_minutes"], clean.get("weeks", 1)
    open_days, venue_name = venue_open_days(db, clean.get("venue_id"))
    last = day + timedelta(days=LOOK_AHEAD_DAYS + 7 * (weeks - 1))
    busy = _busy(db, staff_id, client_ids, day.isoformat(), last.isoformat(), set(exclude))
    found = _first_clash(busy, open_days, venue_name, day, start, length, weeks)
    if found is None:
        return
    field, text = found
    slot = next_free_slot(busy, open_days, day, start, length, weeks)
    if slot:
        offer = f"The next free slot is {show_day(slot[0])} at {slot[1]}" + (
            f" (and the same time for the {weeks} weeks)." if weeks > 1 else ".")
    else:
        offer = f"There is no free slot in the {LOOK_AHEAD_DAYS} days after it: choose another day."
    raise Clash(FieldError(field, f"{text}. {offer}"), slot)


def insert_booking(db: Database, referral: Referral, clean: dict, by: str, group_id: int | None = None) -> list[int]:
    """One session per week of the block (already checked); returns their ids."""
    ids = []
    first = date.fromisoformat(clean["session_date"])
    stype = clean.get("type")
    for k in range(clean.get("weeks", 1)):
        day = (first + timedelta(weeks=k)).isoformat()
        cur = db.conn.execute(
            "INSERT INTO sessions (referral_id, client_id, staff_id, venue_id, session_date, start_time, "
            "duration_minutes, mode, type, attendance, notes, group_id, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '0', ?, ?, ?) RETURNING id",
            (referral.id, referral.client_id, clean["staff_id"], clean.get("venue_id"), day, clean["start_time"],
             clean["duration_minutes"], clean["mode"], stype or default_type(db, referral),
             clean.get("notes") if k == 0 else None, group_id, by))
        ids.append(cur.fetchone()[0])
        stype = stype if stype not in (None, "INITIAL") else "SUPPORT"
    referrals.refresh_status(db, referral.id)
    return ids


def add_group(db: Database, service_id: int, title: str, staff_id: int, venue_id: int | None, by: str) -> int:
    return db.conn.execute("INSERT INTO session_groups (service_id, title, staff_id, venue_id, created_by) "
                           "VALUES (?, ?, ?, ?, ?) RETURNING id", (service_id, title, staff_id, venue_id, by)).fetchone()[0]


def clean_group_title(title) -> str:
    return clean_text(title, "group_title", 120, required=True)


# --- recording, moving, cancelling ------------------------------------------------------------------------------


def _session_row(db: Database, session_id: int) -> dict:
    rows = list(db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
    if not rows:
        raise NotFound(f"There is no session with id {session_id}.")
    return rows[0]


def _conflict(db: Database, session_id: int) -> ConflictError:
    who, when = versioned.who_changed(db, "sessions", session_id)
    return ConflictError(f"Someone else ({who}) changed this session at {when} after you opened it: "
                         "nothing was saved. Reopen it to see their change, then try again.",
                         current=entry(db, session_id))


def record(db: Database, session_id: int, attendance, expected_version: int | None, by: str, *,
           notes=None, next_steps=None, goal_ids=(), today: date | None = None) -> dict:
    """Record what happened; returns the row as it was before."""
    row = _session_row(db, session_id)
    referral = referrals.get(db, row["referral_id"])
    code = codes.match("attendance", attendance) or str(attendance or "").strip()
    if code == "0":
        raise fail("attendance", "Outcome: choose what happened (attended, did not attend, cancelled).")
    check_session_date(row["session_date"], referral.received_date, code, today)
    values = {"attendance": code}
    errors = ErrorCollector()
    if notes is not None:
        values["notes"] = errors.check(clean_text, notes, "notes", 4000) or None
    if next_steps is not None:
        values["next_steps"] = errors.check(clean_text, next_steps, "next_steps", 2000) or None
    goal_ids = [int(g) for g in goal_ids or ()]
    if goal_ids:
        own = {r[0] for r in db.conn.execute(
            "SELECT g.id FROM goals g JOIN plans p ON p.id = g.plan_id WHERE p.referral_id = ?", (referral.id,))}
        if set(goal_ids) - own:
            errors.add("goals", "Goals worked on: choose goals from this referral's plan.")
    errors.raise_if_any()
    versioned.update(db, "sessions", session_id, values, expected_version, by,
                     conflict=lambda: _conflict(db, session_id))
    db.conn.execute("DELETE FROM session_goals WHERE session_id = ?", (session_id,))
    db.conn.executemany("INSERT INTO session_goals (session_id, goal_id) VALUES (?, ?)",
                        [(session_id, g) for g in goal_ids])
    referrals.refresh_status(db, referral.id)
    return row


def _booked(row: dict, what: str) -> None:
    if row["attendance"] != "0":
        raise fail("attendance", f"Only a booked session can be {what}: this one already has its outcome "
                                 f"({codes.label('attendance', row['attendance'])}).")


def _members(db: Database, row: dict) -> list[dict]:
    if row.get("group_id") is None:
        return [row]
    return list(db.query("SELECT * FROM sessions WHERE group_id = ? AND session_date = ? AND start_time IS ? "
                         "AND attendance = '0'", [row["group_id"], row["session_date"], row["start_time"]]))


def move(db: Database, session_id: int, clean: dict, reason: str, expected_version: int | None, by: str) -> list[int]:
    """Move a booked session (a group's whole meeting) to the checked new date, time and venue."""
    row = _session_row(db, session_id)
    _booked(row, "moved")
    members = _members(db, row)
    check_clashes(db, row["staff_id"], [m["client_id"] for m in members], clean, exclude={m["id"] for m in members})
    moved = []
    for m in members:
        values = {"session_date": clean["session_date"], "start_time": clean["start_time"],
                  "duration_minutes": clean["duration_minutes"], "venue_id": clean.get("venue_id"),
                  "mode": clean["mode"]}
        versioned.update(db, "sessions", m["id"], values, expected_version if m["id"] == session_id else None, by,
                         conflict=lambda: _conflict(db, session_id))
        db.conn.execute(
            "INSERT INTO session_history (session_id, action, from_date, from_time, from_venue_id, to_date, to_time, "
            "to_venue_id, reason, by) VALUES (?, 'moved', ?, ?, ?, ?, ?, ?, ?, ?)",
            (m["id"], m["session_date"], m["start_time"], m["venue_id"], clean["session_date"], clean["start_time"],
             clean.get("venue_id"), reason, by))
        moved.append(m["id"])
    return moved


def clean_reason(reason) -> str:
    text = clean_text(reason, "reason", 500)
    if not text:
        raise fail("reason", "Reason: say why, so the history explains the change.")
    return text


def cancel(db: Database, session_id: int, code: str, reason: str, expected_version: int | None, by: str,
           whole_group: bool = True) -> list[int]:
    row = _session_row(db, session_id)
    _booked(row, "cancelled")
    if code not in CANCELLED:
        raise fail("attendance", "Cancelled by: choose the client or the service.")
    members = _members(db, row) if whole_group else [row]
    for m in members:
        versioned.update(db, "sessions", m["id"], {"attendance": code}, expected_version if m["id"] == session_id
                         else None, by, conflict=lambda: _conflict(db, session_id))
        db.conn.execute("INSERT INTO session_history (session_id, action, from_date, from_time, from_venue_id, "
                        "attendance, reason, by) VALUES (?, 'cancelled', ?, ?, ?, ?, ?, ?)",
                        (m["id"], m["session_date"], m["start_time"], m["venue_id"], code, reason, by))
        referrals.refresh_status(db, m["referral_id"])
    return [m["id"] for m in members]


def history(db: Database, session_id: int) -> list[SessionChange]:
    return [from_row(SessionChange, r) for r in db.query(
        "SELECT * FROM session_history WHERE session_id = ? ORDER BY id", [session_id])]


def goals_worked(db: Database, session_id: int) -> list[int]:
    return [r[0] for r in db.conn.execute("SELECT goal_id FROM session_goals WHERE session_id = ? ORDER BY goal_id",
                                          (session_id,))]


def set_venue_days(db: Database, venue_id: int, days: str | None, by: str) -> None:
    text = "".join(sorted(set(str(days or "")))) or None
    if text is not None and not set(text) <= set("1234567"):
        raise fail("open_days", "Open days: give ISO weekday numbers, 1 for Monday to 7 for Sunday.")
    if db.conn.execute("UPDATE venues SET open_days = ?, row_version = row_version + 1, updated_by = ?, "
                       "updated_at = ? WHERE id = ?", (text, by, engine.now(), venue_id)).rowcount != 1:
        raise NotFound(f"There is no venue with id {venue_id}.")


# --- the lists ---------------------------------------------------------------------------------------------------


def _entries(rows, today: date) -> list[DiaryEntry]:
    iso = today.isoformat()
    return [from_row(DiaryEntry, r, outcome_not_recorded=r["attendance"] == "0" and r["session_date"] < iso)
            for r in rows]


def entry(db: Database, session_id: int, today: date | None = None) -> DiaryEntry:
    rows = list(db.query("SELECT * FROM diary_entries WHERE session_id = ?", [session_id]))
    if not rows:
        raise NotFound(f"There is no session with id {session_id}.")
    return _entries(rows, today or date.today())[0]


def entries(db: Database, first: date, days: int, *, staff_id: int | None = None, venue_id: int | None = None,
            group_id: int | None = None, include_cancelled: bool = True, today: date | None = None) -> list[DiaryEntry]:
    where = ["session_date BETWEEN ? AND ?"]
    params: list = [first.isoformat(), (first + timedelta(days=max(days, 1) - 1)).isoformat()]
    for column, value in (("staff_id", staff_id), ("venue_id", venue_id), ("group_id", group_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if not include_cancelled:
        where.append("attendance NOT IN ('2', '4')")
    rows = db.query(f"SELECT * FROM diary_entries WHERE {' AND '.join(where)} "
                    "ORDER BY session_date, start_time, staff_name, group_id, last_name", params)
    return _entries(rows, today or date.today())


def not_recorded(db: Database, staff_id: int, today: date, days_back: int = 60) -> list[DiaryEntry]:
    rows = db.query("SELECT * FROM diary_entries WHERE staff_id = ? AND attendance = '0' AND session_date BETWEEN ? AND ? "
                    "ORDER BY session_date, start_time",
                    [staff_id, (today - timedelta(days=days_back)).isoformat(),
                     (today - timedelta(days=1)).isoformat()])
    return _entries(rows, today)


def review_weeks(db: Database) -> int:
    try:
        return max(1, int(services.get_setting(db, "review_interval_weeks", DEFAULT_REVIEW_WEEKS)))
    except (TypeError, ValueError):
        return DEFAULT_REVIEW_WEEKS


def caseload(db: Database, staff_id: int, today: date | None = None) -> list[CaseloadItem]:
    """Every open referral allocated to this trainer, with last and next session and what is due next."""
    today = today or date.today()
    iso = today.isoformat()
    weeks = review_weeks(db)
    booked: dict[int, list[tuple[str, str]]] = {}
    for rid, day, start in db.conn.execute(
            "SELECT x.referral_id, x.session_date, COALESCE(x.start_time, '') FROM sessions x "
            "JOIN referrals r ON r.id = x.referral_id WHERE r.allocated_staff_id = ? AND r.status <> 'CLOSED' "
            "AND x.attendance = '0'", (staff_id,)):
        booked.setdefault(rid, []).append((day, start))
    items = []
    for row in db.query("SELECT * FROM caseload WHERE staff_id = ? ORDER BY last_name, first_name", [staff_id]):
        mine = sorted(booked.get(row["referral_id"], ()))
        upcoming = [f"{d} {t}".strip() for d, t in mine if d >= iso]
        late = [d for d, _ in mine if d < iso]
        due, overdue = [], []

        def need(text: str, late_now: bool) -> None:
            due.append(text)
            if late_now:
                overdue.append(text)

        attended = row["sessions_attended"]
        if late:
            need(f"Outcome not recorded ({len(late)})", True)
        if not row["has_baseline"] and (attended or upcoming):
            need("Baseline assessment missing", attended >= 1)
        if not row["plan_agreed"] and attended:
            need("Plan to agree", attended >= 2)
        review_due = None
        base = row["last_review"] or row["plan_agreed"]
        if base and not row["exit_session"]:
            review_due = (date.fromisoformat(base[:10]) + timedelta(weeks=weeks)).isoformat()
            if review_due < iso:
                need(f"Review overdue since {format_date(date.fromisoformat(review_due))}", True)
            elif review_due <= (today + timedelta(days=14)).isoformat():
                need(f"Review due {format_date(date.fromisoformat(review_due))}", False)
        if row["exit_session"] and not row["has_exit"]:
            need("Exit assessment at closing", False)
        if not upcoming and not late:
            # Overdue once three weeks have passed since the last session attended without another booked.
            quiet = row["last_attended"] is not None and row["last_attended"] < (today - timedelta(days=21)).isoformat()
            need("Book the next session", quiet)
        items.append(from_row(CaseloadItem, row, next_session=upcoming[0] if upcoming else None,
                              not_recorded=len(late), review_due=review_due, due=tuple(due),
                              overdue=tuple(overdue)))
    return items


DNA_SETTING, DEFAULT_DNAS = "dna.in_a_row", 2


def dnas_in_a_row(db: Database) -> int:
    """Missed sessions (DNA) in a row before a referral is on the follow-up list: the service setting, else two."""
    row = db.conn.execute("SELECT value FROM settings WHERE scope = 'global' AND key = ?", (DNA_SETTING,)).fetchone()
    try:
        return max(1, int(row[0])) if row else DEFAULT_DNAS
    except (TypeError, ValueError):
        return DEFAULT_DNAS


def _follow_up_source(db: Database) -> tuple[str, list]:
    """The view (two in a row, as step 0006 made it), or the same rule for the service's own count."""
    n = dnas_in_a_row(db)
    if n == DEFAULT_DNAS:
        return "dna_follow_up", []
    return ("""(SELECT r.id AS referral_id, r.referral_ref, r.allocated_staff_id AS staff_id, st.full_name AS staff_name,
       c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name, c.phone, c.mobile,
       (SELECT MAX(x.session_date) FROM sessions x WHERE x.referral_id = r.id AND x.attendance = '3') AS last_dna
FROM referrals r
JOIN clients c ON c.id = r.client_id
LEFT JOIN staff st ON st.id = r.allocated_staff_id
WHERE r.status <> 'CLOSED' AND c.archived_at IS NULL
  AND (SELECT COUNT(*) FROM (SELECT x.attendance FROM sessions x WHERE x.referral_id = r.id
                             AND x.attendance NOT IN ('0', '2', '4')
                             ORDER BY x.session_date DESC, x.start_time DESC, x.id DESC LIMIT ?) AS latest
       WHERE latest.attendance = '3') = ?) AS dna_follow_up""", [n, n])


def follow_up(db: Database, staff_id: int | None = None) -> list[DnaFollowUp]:
    source, params = _follow_up_source(db)
    sql = f"SELECT * FROM {source}"
    if staff_id is not None:
        sql, params = sql + " WHERE staff_id = ?", [*params, staff_id]
    return [from_row(DnaFollowUp, r) for r in db.query(sql + " ORDER BY last_dna DESC", params)]


def two_dnas_in_a_row(db: Database, referral_id: int) -> bool:
    """Whether the referral's latest sessions are the service's count of DNAs in a row (two by default)."""
    source, params = _follow_up_source(db)
    return db.conn.execute(f"SELECT 1 FROM {source} WHERE referral_id = ?", [*params, referral_id]).fetchone() is not None


def staff_for_username(db: Database, username: str) -> int:
    row = db.conn.execute("SELECT staff_id FROM accounts WHERE username = ? COLLATE NOCASE", (username,)).fetchone()
    if row is None or row[0] is None:
        raise ValidationError(FieldError("trainer", f"There is no staff member with the user name '{username}'."))
    return row[0]
