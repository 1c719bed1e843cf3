"""A diary (a trainer's week, or a day) as a PDF to carry: one table per day, in time order.

`build_diary_pdf(entries, out, title=..., first=..., days=...) -> bytes`: entries are the store's
DiaryEntry records (store.diary.week); nothing here queries. DejaVu Sans is embedded (reports/fonts.py)
so names such as Nguyễn print as written."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.platypus import Paragraph, Spacer, Table

from db import codes

from .layout import BLUE, PALE, RULE, Furniture, render, section, styles, table_style, theme, write_out
from .wording import para

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day_title(d: date) -> str:
    return f"{_DAYS[d.weekday()]} {d.day} {d.strftime('%B %Y')}"


def _where(e) -> str:
    if e.mode == "HOME":
        return "Home visit"
    if e.mode in ("PHONE", "VIDEO", "TEXT") and (not e.venue_name or e.venue_type == "REMOTE"):
        return codes.label("mode", e.mode)
    text = e.venue_name or codes.label("mode", e.mode)
    return f"{text} \u2014 {e.group_title}" if e.group_title else text


def _outcome(e) -> str:
    if e.outcome_not_recorded:
        return "Outcome not recorded"
    return "Booked" if e.attendance == "0" else codes.label("attendance", e.attendance)


def _collapse_groups(found):
    """(entry, members) in time order: members is None for a one-to-one, the group's entries for a group."""
    out, groups = [], {}
    for e in found:
        if e.group_id is None:
            out.append((e, None))
            continue
        key = (e.group_id, e.session_date, e.start_time)
        if key not in groups:
            groups[key] = []
            out.append((e, groups[key]))
        groups[key].append(e)
    return out


def build_diary_pdf(entries, out: str | Path | BinaryIO | None = None, *, title: str, first: date, days: int = 7,
                    service: str | None = None, is_demo: bool = False, with_trainer: bool | None = None) -> bytes:
    t = theme(False)
    st = styles(t)
    small = st["small"]
    cell, head = st["cell"], st["cell_head"]
    cell = cell.clone("DiaryCell", fontSize=t.small + 0.5, leading=t.lead(t.small + 0.5))
    head = head.clone("DiaryHead", fontSize=t.small + 0.5, leading=t.lead(t.small + 0.5))
    if with_trainer is None:
        with_trainer = len({e.staff_id for e in entries}) > 1
    story: list = [Paragraph("Diary", st["title"]), Paragraph(para(title), st["bold"])]
    if service:
        story.append(Paragraph(para(service), small))
    story.append(Paragraph("Private and confidential: it names clients. Keep it with you and shred it "
                           "when the week is over.", small))
    by_day: dict[str, list] = {}
    for e in entries:
        by_day.setdefault(e.session_date, []).append(e)
    widths = [0.17, 0.27, 0.22, 0.07, 0.12, 0.15] if not with_trainer else [0.16, 0.14, 0.22, 0.18, 0.07, 0.1, 0.13]
    frame = t.frame_width
    for offset in range(days):
        d = first + timedelta(days=offset)
        found = sorted(by_day.get(d.isoformat(), []), key=lambda e: (e.start_time or "", e.staff_name or "",
                                                                     e.group_id or 0, e.last_name))
        if not found and d.weekday() >= 5:
            continue            # an empty weekend day is left out
        story += section(_day_title(d), st, t, lines_below=4)
        if not found:
            story.append(Paragraph("No sessions booked.", st["body"]))
            continue
        header = ["Time", "Client", "Where", "No.", "Type", "Outcome"]
        if with_trainer:
            header.insert(1, "Trainer")
        rows = [[Paragraph(h, head) for h in header]]
        for e, members in _collapse_groups(found):
            time = f"{e.start_time or ''}\u2013{e.end_time or ''}" if e.start_time else ""
            if members:
                # A group is one row: its name, then each member on a line with their outcome.
                who = f"{e.group_title} ({len(members)}):\n" + "\n".join(
                    f"{m.client_name} ({m.client_ref})" for m in members)
                state = "\n".join(_outcome(m) for m in members)
                if len(set(_outcome(m) for m in members)) == 1:
                    state = _outcome(members[0])
                row = [time, who, _where(e).split(" \u2014 ")[0], "", "Group", state]
            else:
                row = [time, f"{e.client_name} ({e.client_ref})", _where(e), str(e.session_number),
                       codes.label("session_type", e.type) if e.type else "", _outcome(e)]
            if with_trainer:
                row.insert(1, e.staff_name or "")
            rows.append([Paragraph(para(v), cell) for v in row])
        table = Table(rows, colWidths=[w * frame for w in widths], repeatRows=1)
        table.setStyle(table_style([
            ("BACKGROUND", (0, 0), (-1, 0), BLUE),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE]),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
        story.append(Spacer(1, t.body * 0.4))
    pdf = render(story, t, Furniture(footer="Private and confidential", running_head=f"Diary: {title}",
                                     demo=is_demo), title=f"Diary: {title}", author=service or "Health Trainer Desk")
    write_out(pdf, out)
    return pdf
