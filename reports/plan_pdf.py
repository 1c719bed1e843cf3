"""The personal health plan as a PDF, in plain English, for the client to keep.

`build_plan_pdf(data, out, large_print=False) -> bytes`: data is the store's
PlanPrintData (db/documents.py); nothing here queries. Large print sets every
piece of text at 16 point or more; the content is the same.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.platypus import HRFlowable, KeepTogether, Paragraph, Spacer, Table

from db import codes
from db.documents import PlanPrintData
from db.records import Goal

from . import charts, fonts
from .layout import (BLUE, DARK_BLUE, GREEN, PALE, PALE_BLUE, RULE, WARM, Furniture, Theme, boxed, facts_table,
                     letterhead, render, section, styles, table_style, theme, write_out)
from .wording import (PLAN_INSTRUMENTS, clock, copyright_lines, day_date, full_name, long_date, para, plan_measures,
                      where)

TEMPLATE_VERSION = "plan-v1"


def template_version(large_print: bool = False) -> str:
    return TEMPLATE_VERSION + ("-large-print" if large_print else "")


def build_plan_pdf(data: PlanPrintData, out: str | Path | BinaryIO | None = None, large_print: bool = False) -> bytes:
    """Lay out the plan; write it to `out` (a path or binary file) when given; return the PDF's bytes."""
    t = theme(large_print)
    st = styles(t)
    name = full_name(data.client)
    service = data.letterhead.service
    story: list = []
    story += letterhead(data.letterhead, st, t)
    story.append(Paragraph("My health plan", st["title"]))
    story.append(_about(data, name, st, t))
    story += _support_ended(data, st, t)
    story += _what_matters(data, st, t)
    story += _goals(data, st, t)
    story += _how_i_am_doing(data, st, t)
    story += _sessions(data, st, t)
    story += _contacts(data, st, t)
    story += _signatures(data, st, t)
    furniture = Furniture(
        footer="Private and confidential",
        running_head=f"My health plan: {name}", demo=data.is_demo)
    pdf = render(story, t, furniture, title="My health plan", author=service.name)
    write_out(pdf, out)
    return pdf


# --- sections ---------------------------------------------------------------------------------

def _about(data: PlanPrintData, name: str, st: dict, t: Theme) -> Table:
    trainer = "Not allocated yet"
    if data.trainer:
        trainer = para(data.trainer.full_name)
        if data.trainer.phone:
            trainer += f"<br/>Phone {para(data.trainer.phone)}"
    elif data.referral.allocated_name:
        trainer = para(data.referral.allocated_name)
    if ended(data):
        when = ("My support ended", para(long_date(data.referral.closed_date)))
    else:
        when = ("Next review", para(long_date(data.next_review) if data.next_review else "At my next session"))
    return facts_table([
        ("My name", f"<b>{para(name)}</b>"),
        ("My health trainer", trainer),
        ("Date we agreed this plan", para(long_date(data.plan.agreed_date))),
        when,
        ("Printed", para(long_date(data.printed_on))),
    ], st, t, label_share=0.42 if t.large_print else 0.34)


def ended(data: PlanPrintData) -> bool:
    """Support has ended: the plan's referral is closed. Nothing then reads as a promise of more."""
    return bool(data.referral.closed_date) or data.referral.status == "CLOSED"


def achievements(data: PlanPrintData) -> list[str]:
    """What the client achieved, one plain sentence each: goals achieved, then measures that changed
    for real (by INSTRUMENTS.md's thresholds) or improved."""
    goals = [g for g in data.plan.goals if g.status != "DROPPED"]
    full = [g for g in goals if g.status == "FULL"]
    partly = [g for g in goals if g.status == "PARTLY"]
    lines = []
    if goals:
        lines.append(_goals_sentence(len(goals), len(full), len(partly)))
        for g in full:
            lines.append(f"Achieved: “{g.goal_text}”")
        for g in partly:
            lines.append(f"Partly achieved: “{g.goal_text}”")
    for group in plan_measures(data.measures):
        for row in group.rows:
            if row.latest and row.good:
                lines.append(f"{row.label}: {row.start} at the start, {row.latest} at the end ({row.change}).")
    return lines


def _goals_sentence(total: int, full: int, partly: int) -> str:
    words = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    say = lambda n: words[n] if n < len(words) else str(n)   # noqa: E731
    if full == total:
        return ("I set one goal and achieved it." if total == 1
                else f"I set {_count(total, 'goal')} and achieved all of them.")
    done = ([f"fully achieved {say(full)}"] if full else []) + ([f"partly achieved {say(partly)}"] if partly else [])
    if done:
        return f"I set {_count(total, 'goal')} and {' and '.join(done)}."
    return (f"I set {_count(total, 'goal')}. I did not achieve {'it' if total == 1 else 'them'} this time, "
            "and I can keep working on them.")


def _support_ended(data: PlanPrintData, st: dict, t: Theme) -> list:
    if not ended(data):
        return []
    service = data.letterhead.service
    lines = [Paragraph(f"My support from {para(service.name)} ended on {para(long_date(data.referral.closed_date))}",
                       st["h3"]),
             Paragraph("This is a record of the plan we agreed and what I achieved, to keep.", st["body"])]
    for line in achievements(data):
        lines.append(Paragraph(f"•  {para(line)}", st["body_tight"]))
    how = f" on {para(service.phone)}" if service.phone else ""
    lines.append(Spacer(1, t.body * 0.4))
    lines.append(Paragraph(f"If I would like support again, I can contact the service{how} at any time.",
                           st["body"]))
    return [Spacer(1, t.body * 0.6), boxed(lines, t, PALE, border=GREEN)]


def _what_matters(data: PlanPrintData, st: dict, t: Theme) -> list:
    out = section("What matters to me", st, t)
    if data.plan.what_matters:
        out.append(boxed([Paragraph(para(data.plan.what_matters), st["quote"])], t, WARM, border=BLUE))
    else:
        out.append(Paragraph("We have not written this down yet. We will talk about it at your next session.",
                             st["body"]))
    return out


def _goals(data: PlanPrintData, st: dict, t: Theme) -> list:
    goals = [g for g in data.plan.goals if g.status != "DROPPED"]
    out = section("My goals", st, t)
    if not goals:
        out.append(_no_goals(st, t))
        return out
    out.append(Paragraph(f"These are the changes I want to make, in my own words. I have "
                         f"{_count(len(goals), 'goal')}.", st["body"]))
    for n, goal in enumerate(goals, 1):
        out += _goal(n, goal, st, t, data)
    return out


def _count(n: int, word: str) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return f"{words[n] if n < len(words) else n} {word}{'' if n == 1 else 's'}"


def _no_goals(st: dict, t: Theme) -> Table:
    lines = [
        Paragraph("We have not set any goals yet", st["h3"]),
        Paragraph("That is fine. At your next session we will choose one or two small changes to work on "
                  "together, at a pace that suits you.", st["body"]),
        Paragraph("Before then, you might like to think about:", st["body_tight"]),
        Paragraph("•  What would I like to be different in three months’ time?", st["body_tight"]),
        Paragraph("•  What has worked for me before?", st["body_tight"]),
        Paragraph("•  Who could help me?", st["body"]),
        Paragraph("My ideas:", st["bold"]),
    ]
    for _ in range(4):
        lines.append(Spacer(1, t.body * 1.6))
        lines.append(HRFlowable(width="100%", thickness=0.6, color=RULE, spaceAfter=0))
    return boxed(lines, t, WARM, border=BLUE)


_STATUS_WORDS = {"NOTSTARTED": "Not started yet", "INPROGRESS": "Working on it", "FULL": "Achieved",
                 "PARTLY": "Partly achieved", "NOT": "Not achieved this time"}


def _goal(n: int, goal: Goal, st: dict, t: Theme, data: PlanPrintData) -> list:
    status = _STATUS_WORDS.get(goal.status, codes.label("goal_status", goal.status))
    if ended(data) and goal.status in ("NOTSTARTED", "INPROGRESS"):
        status = "Carrying on by myself"
    head = Table([[Paragraph(f"Goal {n}: {para(codes.label('area', goal.area))}", st["cell_head"]),
                   Paragraph(para(status), st["cell_head_right"])]],
                 colWidths=[t.frame_width * 0.6, t.frame_width * 0.4])
    head.setStyle(table_style([
        ("BACKGROUND", (0, 0), (-1, -1), GREEN if goal.status == "FULL" else DARK_BLUE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.6), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.6),
        ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.3), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.4),
    ]))
    opening: list = [head, Spacer(1, t.body * 0.5), Paragraph(f"“{para(goal.goal_text)}”", st["quote"])]
    parts: list[list] = []   # each part (a label and what follows it) is kept on one page

    def field(label: str, value: str | None) -> None:
        if value:
            parts.append([Paragraph(para(label), st["label"]), Paragraph(para(value), st["body"])])

    field("My steps: what, when, where and how often", goal.steps)
    field("If something gets in the way, then I will…", goal.barriers)
    field("Who can help me", goal.who_can_help)
    if goal.confidence is not None:
        parts.append([Paragraph("How sure I feel that I can do this", st["label"]), _scale(goal.confidence, st, t)])
    if goal.importance is not None:
        parts.append([Paragraph("How much this matters to me", st["label"]), _scale(goal.importance, st, t)])
    dates = []
    if goal.review_date and goal.status not in ("FULL", "PARTLY", "NOT") and not ended(data):
        # Only a date still ahead is a promise; a past one says so, without promising a date.
        if goal.review_date >= data.printed_on:
            dates.append(f"We will look at this again on {long_date(goal.review_date)}.")
        else:
            dates.append("We will look at this again at my next session.")
    if goal.status in ("FULL", "PARTLY", "NOT") and goal.status_date:
        dates.append(f"{_STATUS_WORDS[goal.status]} on {long_date(goal.status_date)}.")
    if dates:   # with the part before it, never alone at the top of a page
        line = Paragraph(para(" ".join(dates)), st["body"])
        parts[-1:] = [parts[-1] + [line]] if parts else [[line]]
    # The heading, the goal and its first part stay together; a long goal then flows over the page.
    # (KeepTogether is never nested: an inner one reports a huge height and pushes the outer to a new page.)
    first, rest = (parts[0], parts[1:]) if parts else ([], [])
    return [KeepTogether(opening + first), *(KeepTogether(p) for p in rest), Spacer(1, t.body * 0.9)]


def _scale(value: int, st: dict, t: Theme) -> Table:
    """Ten boxes, `value` of them filled, and the number in words beside them (colour is never the only signal)."""
    size = t.body * 1.05
    gap = size * 0.25
    d = Drawing(10 * size + 9 * gap, size + 2, initialFontName=fonts.REGULAR)
    for i in range(10):
        filled = i < value
        d.add(Rect(i * (size + gap), 1, size, size, fillColor=BLUE if filled else colors.white,
                   strokeColor=BLUE, strokeWidth=1))
    row = Table([[d, Paragraph(f"<b>{value}</b> out of 10", st["cell"])]],
                colWidths=[d.width + t.body, t.frame_width - d.width - t.body])
    row.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.3)]))
    row.hAlign = "LEFT"
    return row


def _how_i_am_doing(data: PlanPrintData, st: dict, t: Theme) -> list:
    # Room for the table's heading row and first group too: a table row never splits.
    out = section("How I am doing", st, t, lines_below=15)
    groups = plan_measures(data.measures)
    if not groups:
        out.append(Paragraph("We have not recorded any measures yet. We will do this together at a session, "
                             "so you can see your progress here.", st["body"]))
        return out
    out.append(Paragraph("What we measured when I started, and the most recent results.", st["body"]))
    widths = [0.40, 0.30, 0.30]
    rows: list = [[Paragraph("What we measured", st["cell_head"]), Paragraph("When I started", st["cell_head"]),
                   Paragraph("Most recently", st["cell_head"])]]
    style = [("BACKGROUND", (0, 0), (-1, 0), DARK_BLUE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.5), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.4),
             ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.3), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.35),
             ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE)]
    notes = []
    for group in groups:
        r = len(rows)
        when = f"{long_date(group.start_date)}"
        if group.latest_date:
            when = f"{long_date(group.start_date)} and {long_date(group.latest_date)}"
        rows.append([Paragraph(f"<b>{para(group.title)}</b>  <font color='#4C6272'>({para(when)})</font>",
                               st["cell"]), "", ""])
        # A group's heading row never ends a page without its first row.
        style += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), PALE), ("NOSPLIT", (0, r), (-1, r + 1))]
        for row in group.rows:
            latest = para(row.latest) if row.latest else "<font color='#4C6272'>Not measured again yet</font>"
            if row.change:
                latest += f"<br/><font color='#4C6272'>({para(row.change)})</font>"
            rows.append([Paragraph(para(row.label), st["cell"]), Paragraph(para(row.start), st["cell"]),
                         Paragraph(latest, st["cell"])])
        if group.note:
            notes.append(group.note)
    table = Table(rows, colWidths=[t.frame_width * w for w in widths], repeatRows=1)
    table.setStyle(table_style(style))
    out.append(table)
    out.append(Spacer(1, t.body * 0.5))
    for note in notes:
        out.append(Paragraph(para(note), st["small"]))
    shown = [p.instrument for p in data.measures if p.instrument in PLAN_INSTRUMENTS]
    for line in copyright_lines(shown):
        out.append(Paragraph(para(line), st["small"]))
    out += _charts(data, st, t)
    return out


def _charts(data: PlanPrintData, st: dict, t: Theme) -> list:
    out: list = []
    weight = data.series.get("weight") or ()
    if len(weight) >= 2:
        out.append(KeepTogether([
            Paragraph("My weight over time", st["h3"]),
            charts.line_chart(weight, t, decimals=1, unit="kg"),
            Paragraph("Each dot is one time my weight was measured (in kilograms).", st["small"]),
        ]))
    wellbeing = data.series.get("wellbeing") or ()
    if len(wellbeing) >= 2:
        out.append(KeepTogether([
            Paragraph("My wellbeing score over time", st["h3"]),
            charts.line_chart(wellbeing, t, decimals=0, ticks=(7, 14, 21, 28, 35)),
            Paragraph("The score goes from 7 to 35. A higher score means I have been feeling better.", st["small"]),
            Paragraph(para(copyright_lines(["SWEMWBS"])[0]), st["small"]),
        ]))
    return out


def _sessions(data: PlanPrintData, st: dict, t: Theme) -> list:
    out = section("My next sessions", st, t)
    service = data.letterhead.service
    if not data.next_sessions and ended(data):
        return []      # said in the box at the top: support has ended, and how to come back
    if not data.next_sessions:
        out.append(Paragraph("No sessions are booked yet. We will contact you to arrange the next one.",
                             st["body"]))
    else:
        rows = [[Paragraph(h, st["cell_head"]) for h in ("Date", "Time", "Where", "With")]]
        for s in data.next_sessions:
            rows.append([Paragraph(para(day_date(s.session_date)), st["cell_bold"]),
                         Paragraph(para(clock(s.start_time)) or "To be agreed", st["cell"]),
                         Paragraph(para(where(s)), st["cell"]), Paragraph(para(s.staff_name or ""), st["cell"])])
        widths = [0.34, 0.16, 0.28, 0.22] if not t.large_print else [0.32, 0.18, 0.28, 0.22]
        table = Table(rows, colWidths=[t.frame_width * w for w in widths], repeatRows=1)
        table.setStyle(table_style([
            ("BACKGROUND", (0, 0), (-1, 0), DARK_BLUE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE_BLUE]),
            ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.5), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.4),
            ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.3), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.35),
            ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE)]))
        out.append(table)
        out.append(Spacer(1, t.body * 0.6))
    how = []
    if service.phone:
        how.append(f"call us on <b>{para(service.phone)}</b>")
    if service.email:
        how.append(f"email <b>{para(service.email)}</b>")
    trainer = data.trainer.full_name if data.trainer else data.referral.allocated_name
    if trainer:
        how.append(f"tell {para(trainer)}")
    if how:
        text = ", ".join(how[:-1]) + (" or " if len(how) > 1 else "") + how[-1]
        out.append(Paragraph(f"<b>Need to change or cancel a session?</b> Please {text} as soon as you can. "
                             "We will find another time that suits you.", st["body"]))
    return out


def _contacts(data: PlanPrintData, st: dict, t: Theme) -> list:
    if not data.contacts:
        return []
    out = section("Useful contacts near me", st, t)
    for entry in data.contacts:
        lines = [Paragraph(f"<b>{para(entry.name)}</b>  <font color='#4C6272'>"
                           f"{para(codes.label('signposting_category', entry.category))}</font>", st["body_tight"])]
        for label, value in (("Phone", entry.phone), ("Address", entry.address), ("Website", entry.web)):
            if value:
                lines.append(Paragraph(f"{label}: {para(value)}", st["body_tight"]))
        if entry.notes:
            lines.append(Paragraph(para(entry.notes), st["body_tight"]))
        lines.append(Spacer(1, t.body * 0.7))
        out.append(KeepTogether(lines))
    return out


def _signatures(data: PlanPrintData, st: dict, t: Theme) -> list:
    trainer = data.trainer.full_name if data.trainer else (data.referral.allocated_name or "")
    width = t.frame_width

    def line(who: str) -> Table:
        row = Table([[Paragraph(para(who), st["cell_bold"]), "", Paragraph("Date", st["cell_bold"]), ""]],
                    colWidths=[width * 0.36, width * 0.34, width * 0.1, width * 0.2], rowHeights=[t.body * 3.2])
        row.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                  ("LINEBELOW", (1, 0), (1, 0), 0.8, colors.black),
                                  ("LINEBELOW", (3, 0), (3, 0), 0.8, colors.black),
                                  ("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
        return row

    service = data.letterhead.service
    block = section("Our signatures", st, t, in_keep_together=True) + [
        Paragraph("We agreed this plan together.", st["body"]),
        line("Me"),
        line(f"My health trainer{': ' + trainer if trainer else ''}"),
        Spacer(1, t.body * 1.5),
        Paragraph(para(f"This plan is private. If you find it, please return it to {service.name}"
                       f"{', ' + service.phone if service.phone else ''}. Thank you."), st["small"]),
    ]
    return [KeepTogether(block)]
