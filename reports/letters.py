"""Letters: the next appointment, "we could not reach you", and the outcome letter to the GP.

`build_letter(kind, data, out) -> bytes`: data is the store's LetterData
(db/documents.py), gathered with its permission and consent checks; nothing
here queries.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table

from db import codes
from db.documents import LETTER_KINDS, LetterData
from db.errors import FieldError, ValidationError
from db.instruments import INSTRUMENTS
from db.validation import format_nhs_number

from .layout import (DARK_BLUE, PALE, PALE_BLUE, RULE, Furniture, Theme, facts_table, letterhead, render, styles,
                     table_style, theme, write_out)
from .wording import (address_lines, clean, clock, copyright_lines, day_date, full_name, joined, long_date, para,
                      in_sentence, outcome_rows, salutation, where)

TEMPLATE_VERSIONS = {"appointment": "letter-appointment-v1", "no-contact": "letter-no-contact-v1",
                     "gp-outcome": "letter-gp-outcome-v1"}
REPLY_DAYS = 14      # how long the could-not-reach letter gives before the referral is closed


def template_version(kind: str) -> str:
    return TEMPLATE_VERSIONS[kind]


def build_letter(kind: str, data: LetterData, out: str | Path | BinaryIO | None = None,
                 large_print: bool = False) -> bytes:
    """Lay out one letter; write it to `out` when given; return the PDF's bytes."""
    if kind not in LETTER_KINDS:
        raise ValidationError(FieldError("kind", f"There is no '{kind}' letter. Letters: {', '.join(LETTER_KINDS)}."))
    t = theme(large_print)
    st = styles(t)
    body = {"appointment": _appointment, "no-contact": _no_contact, "gp-outcome": _gp_outcome}[kind](data, st, t)
    service = data.letterhead.service
    story = letterhead(data.letterhead, st, t) + _address_block(kind, data, st, t) + body + _sign_off(data, st, t)
    furniture = Furniture(
        footer=f"Private and confidential · Our reference {data.referral.referral_ref}",
        running_head=f"{full_name(data.client)}, {data.referral.referral_ref}", demo=data.is_demo)
    pdf = render(story, t, furniture, title=_TITLES[kind], author=service.name)
    write_out(pdf, out)
    return pdf


_TITLES = {"appointment": "Your next health trainer session", "no-contact": "We have been trying to contact you",
           "gp-outcome": "Health trainer support: summary for the GP"}


def _address_block(kind: str, data: LetterData, st: dict, t: Theme) -> list:
    c = data.client
    if kind == "gp-outcome":
        to = ["The GP", clean(c.gp_practice_name) or "Your GP practice"]
        if c.gp_practice_code:
            to.append(f"Practice code {clean(c.gp_practice_code)}")
    else:
        to = [full_name(c)] + address_lines(c)
    left = [Paragraph("<b>Private and confidential</b>", st["body_tight"]), Spacer(1, 4)]
    left += [Paragraph(para(line), st["body_tight"]) for line in to]
    right = [Paragraph(f"<b>Date:</b> {long_date(data.printed_on)}", st["body_tight"]),
             Paragraph(f"<b>Our reference:</b> {para(data.referral.referral_ref)}", st["body_tight"])]
    if data.letterhead.service.phone:
        right.append(Paragraph(f"<b>Phone:</b> {para(data.letterhead.service.phone)}", st["body_tight"]))
    w = t.frame_width
    table = Table([[left, right]], colWidths=[w * 0.58, w * 0.42])
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    dear = "Dear Doctor," if kind == "gp-outcome" else f"Dear {salutation(c)},"
    return [table, Spacer(1, t.body * 1.6), Paragraph(para(dear), st["body"]),
            Paragraph(para(_TITLES[kind] if kind != "gp-outcome" else f"Health trainer support for {full_name(c)}"),
                      st["h2"])]


def _contact_ways(data: LetterData) -> list[tuple[str, str]]:
    s = data.letterhead.service
    ways = []
    if s.phone:
        ways.append(("Phone", f"<b>{para(s.phone)}</b>"))
    if s.email:
        ways.append(("Email", para(s.email)))
    if data.letterhead.website:
        ways.append(("Website", para(data.letterhead.website)))
    if s.address:
        ways.append(("Write to", para(", ".join(x.strip() for x in clean(s.address).splitlines() if x.strip()))))
    return ways


def _facts(rows: list[tuple[str, str]], st: dict, t: Theme, background=PALE_BLUE) -> Table:
    return facts_table(rows, st, t, label_share=0.3 if t.large_print else 0.22, background=background)


def _trainer_name(data: LetterData) -> str:
    if data.trainer:
        return clean(data.trainer.full_name)
    return clean(data.referral.allocated_name or "")


# --- appointment ------------------------------------------------------------------------------------

def _appointment(data: LetterData, st: dict, t: Theme) -> list:
    s = data.session
    when = day_date(s.session_date)
    if s.start_time:
        when += f" at {clock(s.start_time)}"
    if s.duration_minutes:
        when += f" (about {s.duration_minutes} minutes)"
    rows = [("When", f"<b>{para(when)}</b>"), ("Where", para(where(s, data.venue.postcode if data.venue else None)))]
    with_whom = clean(s.staff_name or _trainer_name(data))
    if with_whom:
        rows.append(("With", f"{para(with_whom)}, your health trainer"))
    if s.type:
        rows.append(("Session", para(codes.label("session_type", s.type))))
    out = [Paragraph("Your next session with your health trainer is booked:", st["body"]), _facts(rows, st, t),
           Spacer(1, t.body * 0.8)]
    if data.client.interpreter_needed == "Y":
        out.append(Paragraph("We have noted that you would like an interpreter. Please tell us if that has "
                             "changed, or if you need any other help to take part.", st["body"]))
    else:
        out.append(Paragraph("If you need an interpreter or any other help to take part, please tell us before "
                             "the session.", st["body"]))
    out.append(Paragraph("<b>Cannot make it, or want to change the time?</b> Please contact us as soon as you can "
                         "and we will find another time that suits you.", st["body"]))
    ways = _contact_ways(data)
    if ways:
        out.append(_facts(ways, st, t, PALE))
    return out


# --- could not reach you --------------------------------------------------------------------------------

def _referred_by(data: LetterData) -> str:
    r = data.referral
    when = long_date(r.received_date)
    if r.referrer_organisation:
        return f"{clean(r.referrer_organisation)} referred you to us on {when}"
    if r.referrer_name:
        return f"{clean(r.referrer_name)} referred you to us on {when}"
    if r.source == "SELF":
        return f"You asked us for support on {when}"
    return f"You were referred to us on {when} (from: {in_sentence(codes.label('source', r.source))})"


def _no_contact(data: LetterData, st: dict, t: Theme) -> list:
    service = data.letterhead.service
    r = data.referral
    reasons = [in_sentence(codes.label("area", a)) for a in r.reasons]
    why = f", for support with {joined(reasons)}" if reasons else ""
    out = [Paragraph(para(f"{_referred_by(data)}{why}. {service.name} offers free, friendly support from a "
                          "health trainer, at a time and place that suit you."), st["body"])]
    tries = [a for a in r.contact_attempts if a.outcome != "REACHED"]
    if tries:
        dates = joined([long_date(a.attempt_date) for a in tries])
        times = "once" if len(tries) == 1 else ("twice" if len(tries) == 2 else f"{len(tries)} times")
        out.append(Paragraph(para(f"We have tried to contact you {times} (on {dates}), but we have not been able "
                                  "to reach you."), st["body"]))
    else:
        out.append(Paragraph("We have not been able to reach you.", st["body"]))
    by = date.fromisoformat(data.printed_on) + timedelta(days=REPLY_DAYS)
    out.append(Paragraph(f"<b>We would still like to help. Please get in touch by "
                         f"{para(day_date(by.isoformat()))}.</b>", st["body"]))
    ways = _contact_ways(data)
    if ways:
        out.append(_facts(ways, st, t))
        out.append(Spacer(1, t.body * 0.8))
    out.append(Paragraph("If we do not hear from you by then, we will close your referral for now. You are welcome "
                         "to contact us again at any time, and we will be glad to help.", st["body"]))
    out.append(Paragraph("If you no longer want support, or someone else opened this letter, please let us know.",
                         st["body"]))
    return out


# --- outcome letter to the GP -----------------------------------------------------------------------------

def _gp_outcome(data: LetterData, st: dict, t: Theme) -> list:
    c, r = data.client, data.referral
    service = data.letterhead.service
    name = full_name(c)
    patient = [("Name", f"<b>{para(clean(f'{c.first_name} {c.last_name}'))}</b>"
                        + (f" (known as {para(c.preferred_name)})" if c.preferred_name else "")),
               ("Date of birth", para(long_date(c.date_of_birth)))]
    if c.nhs_number:
        patient.append(("NHS number", para(format_nhs_number(c.nhs_number))))
    if address_lines(c):
        patient.append(("Address", para(", ".join(address_lines(c)))))
    out = [_facts(patient, st, t), Spacer(1, t.body * 0.8)]

    source = in_sentence(codes.label("source", r.source))
    reasons = joined([in_sentence(codes.label("area", a)) for a in r.reasons])
    text = f"{name} was referred to {service.name} on {long_date(r.received_date)} (source: {source})"
    text += f" for support with {reasons}." if reasons else "."
    out.append(Paragraph(para(text), st["body"]))
    trainer = _trainer_name(data)
    if data.attended:
        span = long_date(data.attended[0].session_date)
        if len(data.attended) > 1:
            span = f"between {span} and {long_date(data.attended[-1].session_date)}"
        else:
            span = f"on {span}"
        sessions = f"{len(data.attended)} session{'s' if len(data.attended) != 1 else ''}"
        text = f"They attended {sessions} {span}"
        text += f" with {trainer}, health trainer" if trainer else ""
        text += f", and missed {data.missed} without warning." if data.missed else "."
    else:
        text = "They have not attended a session yet."
    out.append(Paragraph(para(text), st["body"]))
    if r.closed_date:
        out.append(Paragraph(para(f"Support ended on {long_date(r.closed_date)}: "
                                  f"{in_sentence(codes.label('closure_reason', r.closure_reason))}."), st["body"]))
    else:
        out.append(Paragraph(para(f"Support is continuing; this is a summary up to {long_date(data.printed_on)}."),
                             st["body"]))

    if data.plan and data.plan.goals:
        out += _table_heading("Goals agreed", st, t)
        rows = [[Paragraph(h, st["cell_head"]) for h in ("Area", "Goal (in the client's words)", "Status")]]
        for g in data.plan.goals:
            status = codes.label("goal_status", g.status)
            if g.status_date and g.status not in ("NOTSTARTED", "INPROGRESS"):
                status += f" ({long_date(g.status_date)})"
            rows.append([Paragraph(para(codes.label("area", g.area)), st["cell"]),
                         Paragraph(para(g.goal_text), st["cell"]), Paragraph(para(status), st["cell"])])
        out.append(_grid(rows, [0.22, 0.50, 0.28], st, t))

    out += _table_heading("Outcome measures", st, t)
    if data.outcomes:
        rows = [[Paragraph(h, st["cell_head"]) for h in ("Measure", "Baseline", "Latest", "Change")]]
        spans = []
        for pair in data.outcomes:
            later = "review (no exit assessment yet)" if pair.stood_in else "exit"
            spans.append(len(rows))
            rows.append([Paragraph(f"<b>{para(INSTRUMENTS[pair.instrument].name)}</b>: baseline "
                                   f"{para(long_date(str(pair.baseline.date)))}, {para(later)} "
                                   f"{para(long_date(str(pair.exit.date)))}", st["cell"]), "", "", ""])
            for row in outcome_rows(pair):
                rows.append([Paragraph(para(row.label), st["cell"]), Paragraph(para(row.baseline), st["cell"]),
                             Paragraph(para(row.latest), st["cell"]), Paragraph(para(row.change), st["cell"])])
        extra = [cmd for r_ in spans for cmd in (("SPAN", (0, r_), (-1, r_)), ("BACKGROUND", (0, r_), (-1, r_), PALE))]
        out.append(_grid(rows, [0.40, 0.19, 0.19, 0.22], st, t, extra))
        for line in copyright_lines(p.instrument for p in data.outcomes):
            out.append(Paragraph(para(line), st["small"]))
    else:
        out.append(Paragraph("No baseline and follow-up measures were recorded as a pair for this referral.",
                             st["body"]))

    if data.signposting:
        out.append(Paragraph("Signposting and onward referrals", st["h3"]))
        for s in data.signposting:
            what = codes.label("signposting_category", s.category)
            dest = f": {clean(s.destination)}" if s.destination else ""
            outcome = in_sentence(codes.label("signposting_outcome", s.outcome))
            out.append(Paragraph(para(f"•  {codes.label('signposting_type', s.type)} ({long_date(s.signpost_date)}) "
                                      f"to {what}{dest}. Outcome: {outcome}."), st["body_tight"]))
        out.append(Spacer(1, t.body * 0.5))

    consent = f"{name} agreed to us sharing this information with you"
    consent += f" (consent recorded {long_date(c.consent_date)})." if c.consent_date else "."
    out.append(Spacer(1, t.body * 0.4))
    out.append(Paragraph(para(consent), st["body"]))
    out.append(Paragraph("No action is needed unless you wish to follow anything up. Please contact us if you "
                         "have any questions.", st["body"]))
    return out


def _table_heading(text: str, st: dict, t: Theme) -> list:
    """A heading over a table: a new page only when the heading and a few rows would not fit, so a long
    table starts under it and flows on (keep-with-next would move the whole table to a new page)."""
    return [CondPageBreak(t.leading * 7), Paragraph(para(text), st["h3_table"])]


def _grid(rows: list, widths: list[float], st: dict, t: Theme, extra: list = ()) -> Table:
    table = Table(rows, colWidths=[t.frame_width * w for w in widths], repeatRows=1)
    table.setStyle(table_style([
        ("BACKGROUND", (0, 0), (-1, 0), DARK_BLUE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.45), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.35),
        ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.25), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.3),
        ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE), *extra]))
    return table


def _sign_off(data: LetterData, st: dict, t: Theme) -> list:
    service = data.letterhead.service
    return [KeepTogether([
        Spacer(1, t.body * 0.6),
        Paragraph("Yours sincerely,", st["body"]),
        Spacer(1, t.body * 2.6),
        Paragraph(f"<b>{para(data.signed_by)}</b>", st["body_tight"]),
        *([Paragraph(para(data.signed_role), st["body_tight"])] if data.signed_role else []),
        Paragraph(f"for {para(service.name)}", st["body_tight"]),
    ])]
