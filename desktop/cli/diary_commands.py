"""htdesk diary: list booked sessions, print the week as a PDF, or write an iCalendar file (CLI.md v2)."""
from __future__ import annotations

from db.errors import FieldError, ValidationError

from . import common

MAX_DAYS = 62


def register(sub) -> None:
    p = common.command(sub, "diary", cmd_diary, "list booked sessions (default: yours, from today, 7 days); "
                                                "--out prints a PDF or writes a calendar file with no client names")
    p.add_argument("--trainer", metavar="USERNAME", help="whose diary (coordinators and managers: anyone's; "
                                                         "default: the signed-in user's)")
    p.add_argument("--from", dest="start", metavar="DATE", help="first day, e.g. 2026-11-30 or 30/11/2026 (default: today)")
    p.add_argument("--days", metavar="N", default="7", help=f"how many days (1 to {MAX_DAYS}; default 7)")
    p.add_argument("--out", metavar="FILE.pdf|FILE.ics", help="print the sessions as a PDF, or write an iCalendar "
                                                              "file for a phone (initials and reference only)")


def _days(text: str) -> int:
    try:
        days = int(str(text).strip())
        if not 1 <= days <= MAX_DAYS:
            raise ValueError
    except ValueError:
        raise ValidationError(FieldError("days", f"--days '{text}' must be a whole number of days from 1 to "
                                                 f"{MAX_DAYS}.")) from None
    return days


def cmd_diary(args) -> int:
    from datetime import date

    from db.public import check_output_path, parse_date
    days = _days(args.days)
    first = parse_date(args.start, "from") if args.start else date.today()
    out = check_output_path(args.out, (".pdf", ".ics"), "the diary", example="week.pdf") if args.out else None
    with common.open_store(args) as store:
        actor = store.actor
        if args.trainer:
            staff_id = store.diary.staff_id_for(args.trainer)
        elif actor is not None and actor.staff_id is not None:
            staff_id = actor.staff_id
        else:
            raise ValidationError(FieldError("trainer", "Say whose diary with --trainer USERNAME."))
        entries = store.diary.week(first, days, staff_id=staff_id)
        who = next((e.staff_name for e in entries if e.staff_name), None) or args.trainer or \
            (actor.full_name or actor.username)
        if out is None:
            _list(entries, who, first, days)
            return 0
        if out.suffix.lower() == ".pdf":
            from reports.diary_pdf import build_diary_pdf
            title = f"{who}: {days} day{'s' if days != 1 else ''} from {_day(first.isoformat())}"
            build_diary_pdf(entries, out, title=title, first=first, days=days, service=store.service.get().name,
                            is_demo=store.is_demo)
        else:
            from reports.diary_ics import build_ics
            build_ics(entries, out)
        live = [e for e in entries if e.attendance not in ("2", "4")]
        common.out(f"Wrote {out}: {len(live)} session{'s' if len(live) != 1 else ''} of {who}, "
                   f"{_day(first.isoformat())} for {days} day{'s' if days != 1 else ''}.")
    return 0


def _day(iso: str) -> str:
    from datetime import date
    d = date.fromisoformat(iso)
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[d.weekday()]} {d.day:02d}/{d.month:02d}/{d.year}"


def _list(entries, who: str, first, days: int) -> None:
    from db.public import codes
    common.out(f"Diary of {who}: {_day(first.isoformat())}, {days} day{'s' if days != 1 else ''}")
    if not entries:
        common.out("No sessions booked.")
        return
    for e in entries:
        if e.mode == "HOME":
            where = "Home visit"
        elif e.mode in ("PHONE", "VIDEO", "TEXT") and (not e.venue_name or e.venue_type == "REMOTE"):
            where = codes.label("mode", e.mode)
        else:
            where = e.venue_name or codes.label("mode", e.mode)
        if e.group_title:
            where += f" ({e.group_title})"
        state = ("outcome not recorded" if e.outcome_not_recorded else "booked" if e.attendance == "0"
                 else codes.label("attendance", e.attendance).lower())
        time = f"{e.start_time}-{e.end_time}" if e.start_time else "--:--"
        common.out(f"{_day(e.session_date)} {time}  {e.client_ref}  {e.client_name}  {where}  "
                   f"session {e.session_number}  {state}")
