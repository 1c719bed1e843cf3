"""A diary as an iCalendar file (RFC 5545) for a phone calendar. It carries no client names: each event
is summarised by the client's initials and reference only (and a group by its name), because a phone
calendar is synced to places the service does not control."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from db import codes

PRODID = "-//Health Trainer Desk//Diary//EN"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
            .replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets folded as RFC 5545 says (a space starts each continuation)."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > 75:
            out.append(current)
            current = " " + ch
        else:
            current += ch
    out.append(current)
    return out


def _where(e) -> str:
    if e.mode == "HOME":
        return "Home visit"
    if e.mode in ("PHONE", "VIDEO", "TEXT") and (not e.venue_name or e.venue_type == "REMOTE"):
        return codes.label("mode", e.mode)
    return e.venue_name or codes.label("mode", e.mode)


def summary(e) -> str:
    """What the phone shows: initials and reference, never a name."""
    if e.group_title:
        return f"{e.group_title} (group)"
    return f"{e.initials} {e.client_ref}"


def build_ics(entries, out: str | Path | BinaryIO | None = None, *, now: datetime | None = None) -> bytes:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             "X-WR-CALNAME:Health Trainer Desk diary"]
    seen_groups: set[tuple] = set()
    for e in sorted(entries, key=lambda x: (x.session_date, x.start_time or "", x.session_id)):
        if e.attendance in ("2", "4") or not e.start_time:
            continue
        if e.group_id is not None:
            key = (e.group_id, e.session_date, e.start_time)
            if key in seen_groups:
                continue
            seen_groups.add(key)
        start = datetime.fromisoformat(f"{e.session_date}T{e.start_time}")
        end = start + timedelta(minutes=e.duration_minutes or 60)
        uid = f"htdesk-{'group-' + str(e.group_id) + '-' + e.session_date if e.group_id else e.session_id}@htdesk"
        kind = codes.label("session_type", e.type) if e.type else "Session"
        description = f"{kind}, session {e.session_number}" if not e.group_id else kind
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{start.strftime('%Y%m%dT%H%M%S')}", f"DTEND:{end.strftime('%Y%m%dT%H%M%S')}",
                  f"SUMMARY:{_escape(summary(e))}", f"LOCATION:{_escape(_where(e))}",
                  f"DESCRIPTION:{_escape(description)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    data = "".join(part + "\r\n" for line in lines for part in _fold(line)).encode("utf-8")
    if out is not None:
        if hasattr(out, "write"):
            out.write(data)
        else:
            path = Path(out)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
    return data
