"""A client's record as one list of dated events, newest first, for the record screen."""
from __future__ import annotations

from . import codes
from .records import Assessment, Client, Plan, Referral, Session, Signpost, TimelineEvent


def build_timeline(client: Client, refs: list[Referral], sess: list[Session], pls: list[Plan],
              assess: list[Assessment], signs: list[Signpost]) -> list[TimelineEvent]:
    by_id = {r.id: r.referral_ref for r in refs}
    events = [TimelineEvent((client.created_at or "")[:10], "record", f"Record created ({client.client_ref})")]
    for r in refs:
        events.append(TimelineEvent(r.received_date, "referral",
                                    f"Referral received from {codes.label('source', r.source)}", r.referral_ref))
        for a in r.contact_attempts:
            events.append(TimelineEvent(a.attempt_date, "contact",
                                        f"Contact attempt by {codes.label('contact_method', a.method).lower()}: "
                                        f"{codes.label('contact_outcome', a.outcome).lower()}", r.referral_ref))
        if r.closed_date:
            events.append(TimelineEvent(r.closed_date, "referral",
                                        f"Referral closed: {codes.label('closure_reason', r.closure_reason)}",
                                        r.referral_ref))
    for s in sess:
        what = codes.label("session_type", s.type) if s.type else "Session"
        events.append(TimelineEvent(f"{s.session_date} {s.start_time or ''}".strip(), "session",
                                    f"{what} ({codes.label('mode', s.mode).lower()}): "
                                    f"{codes.label('attendance', s.attendance).lower()}", by_id.get(s.referral_id)))
    for p in pls:
        events.append(TimelineEvent(p.agreed_date, "plan", f"Plan agreed with {len(p.goals)} goal(s)",
                                    by_id.get(p.referral_id)))
        for g in p.goals:
            if g.status_date:
                events.append(TimelineEvent(g.status_date, "goal",
                                            f"Goal ({codes.label('area', g.area)}): {codes.label('goal_status', g.status).lower()}",
                                            by_id.get(p.referral_id)))
    for a in assess:
        summary = f"{a.instrument} ({codes.label('timepoint', a.timepoint).lower()})"
        if "safeguarding" in a.flags:
            summary += ": SAFEGUARDING PROMPT RAISED"
        elif not a.is_result and _main_scores(a) == "":
            summary += ": score not computable"
        else:
            summary += f": {_main_scores(a)}"
        events.append(TimelineEvent(a.assessed_date, "assessment", summary, by_id.get(a.referral_id)))
    for s in signs:
        events.append(TimelineEvent(s.signpost_date, "signposting",
                                    f"{codes.label('signposting_type', s.type)}: {codes.label('signposting_category', s.category)}",
                                    by_id.get(s.referral_id)))
    events.sort(key=lambda e: e.when, reverse=True)
    return events


def _main_scores(a: Assessment) -> str:
    """The result in a few words for the timeline: 'SWEMWBS (at the start): 19.25', 'BODY: 82.5 kg, BMI 30.3'."""
    from .instruments import INSTRUMENTS, band_label
    inst = INSTRUMENTS.get(a.instrument)
    if inst is None:
        return ""
    parts = []
    for score in inst.scores:
        value = a.scores.get(score.key)
        if value is None or score.key in ("swemwbs_raw", "height_cm", "whtr", "bp_systolic", "bp_diastolic"):
            continue
        if score.key == "smoking_status":
            text = dict(inst.item("smoking_status").options).get(str(value), str(value))
        else:
            text = f"{value:.{score.decimals}f}" if isinstance(value, float) else str(value)
            unit = score.unit if score.unit in ("kg", "cm") else ""
            text = f"{score.label} {text}{' ' + unit if unit else ''}"
        band = a.bands.get(score.key)
        parts.append(text + (f" ({band_label(band)})" if band else ""))
    return ", ".join(parts[:4])
