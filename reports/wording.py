"""Plain-English words for printouts: dates, times, numbers and measures.

Shared by the plan and the letters so a weight or a date reads the same on both.
Pure functions: values in, text out.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP
from xml.sax.saxutils import escape

from db.documents import MeasurePair
from db.instruments import (DEFAULT_MEANINGFUL_POINTS, DEFAULT_WEIGHT_LOSS_PCT, INSTRUMENTS, SMOKING_STATUS_OPTIONS,
                            Pair, band_label, dec, meaningful, score_definition)
from db.records import Assessment, Client

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clean(value) -> str:
    """Text as printed: NFC, so a name typed with combining accents prints as whole letters."""
    return unicodedata.normalize("NFC", "" if value is None else str(value)).strip()


def para(value) -> str:
    """Free text for a reportlab Paragraph: markup characters escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in clean(value).splitlines())


def long_date(iso: str | None) -> str:
    """'5 March 2025'."""
    if not iso:
        return ""
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def day_date(iso: str | None) -> str:
    """'Wednesday 5 March 2025'."""
    if not iso:
        return ""
    return f"{_DAYS[date.fromisoformat(iso[:10]).weekday()]} {long_date(iso)}"


def short_date(iso: str) -> str:
    """'5 Mar 25', for chart axes."""
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year % 100:02d}"


def clock(hhmm: str | None) -> str:
    """'9am', '10:30am', 'midday', '2:15pm' (the NHS style for times)."""
    if not hhmm:
        return ""
    hour, minute = (int(p) for p in hhmm.split(":")[:2])
    if (hour, minute) == (12, 0):
        return "midday"
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12}{suffix}" if minute == 0 else f"{hour12}:{minute:02d}{suffix}"


def number(value, decimals: int = 0) -> str:
    if value is None:
        return ""
    q = dec(value).quantize(dec(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{q:,.{decimals}f}"


def full_name(client: Client) -> str:
    """The name the client goes by, with their surname: preferred name first when they have one."""
    return clean(client.display_name)


def salutation(client: Client) -> str:
    if client.preferred_name:
        return clean(client.preferred_name)
    if client.title:
        return clean(f"{client.title} {client.last_name}")
    return clean(f"{client.first_name} {client.last_name}")


def address_lines(client: Client) -> list[str]:
    lines = [client.address_line_1, client.address_line_2, client.town]
    if client.postcode and client.postcode != "NFA":
        lines.append(client.postcode)
    return [clean(x) for x in lines if x and clean(x)]


def in_sentence(label: str) -> str:
    """A label inside a sentence: 'Healthy eating' -> 'healthy eating', but 'GP or practice staff' stays."""
    return label[0].lower() + label[1:] if len(label) > 1 and not label[1].isupper() else label


def joined(items: list[str], last: str = "and") -> str:
    """'a, b and c'; with a comma before the last when an item has an 'and' of its own
    ('healthy eating, weight, and money and debt')."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    comma = "," if len(items) > 2 and any(f" {last} " in i for i in items) else ""
    return f"{', '.join(items[:-1])}{comma} {last} {items[-1]}"


def copyright_lines(instrument_codes) -> list[str]:
    """The copyright line of every instrument whose scores are printed, once each, in the spec's order."""
    wanted = set(instrument_codes)
    return [inst.copyright_line for code, inst in INSTRUMENTS.items() if code in wanted and inst.copyright_line]


_REMOTE_WHERE = {"PHONE": "By telephone: we will call you", "VIDEO": "By video call: we will send you a link",
                 "TEXT": "By text or email", "HOME": "At your home"}


def where(session, venue_postcode: str | None = None) -> str:
    """Where a session happens, in words a client can act on."""
    if session.venue_name:
        text = clean(session.venue_name) + (f", {clean(venue_postcode)}" if venue_postcode else "")
        return f"Group session at {text}" if session.mode == "GROUP" else text
    return _REMOTE_WHERE.get(session.mode, "To be arranged")


# --- the plan's "How I am doing" ----------------------------------------------------------

# Instruments on the client's own plan. PHQ-9 and GAD-7 are screening questionnaires for
# trained staff: their scores belong in the conversation and the GP letter, not a take-home plan.
PLAN_INSTRUMENTS = ("BODY", "SWEMWBS", "WEMWBS", "ONS4", "AUDITC", "ACTIVITY", "FRUITVEG", "SMOKING", "CONFIDENCE")

_GROUPS = {
    "BODY": "My body measurements", "SWEMWBS": "How I have been feeling", "WEMWBS": "How I have been feeling",
    "ONS4": "How I feel about my life", "AUDITC": "Alcohol", "ACTIVITY": "Being active",
    "FRUITVEG": "Eating", "SMOKING": "Smoking", "CONFIDENCE": "Confidence",
}
# score key -> (plain label, unit word, band key in Assessment.bands)
_PLAIN = {
    "weight_kg": ("My weight", "kg", None),
    "bmi": ("My BMI (body mass index)", "", "bmi"),
    "waist_cm": ("My waist", "cm", "waist_cm"),
    "swemwbs_metric": ("My wellbeing score (from 7 to 35: higher is better)", "", None),
    "wemwbs": ("My wellbeing score (from 14 to 70: higher is better)", "", None),
    "ons4_satisfied": ("How satisfied I am with my life (0 to 10)", "", "ons4_satisfied"),
    "ons4_worthwhile": ("How worthwhile the things I do feel (0 to 10)", "", "ons4_worthwhile"),
    "ons4_happy": ("How happy I felt yesterday (0 to 10)", "", "ons4_happy"),
    "ons4_anxious": ("How anxious I felt yesterday (0 to 10: lower is better)", "", "ons4_anxious"),
    "auditc": ("My alcohol score (AUDIT-C, 0 to 12: lower is better)", "", "auditc"),
    "activity_days": ("Days I was active for 30 minutes or more in a week", "days", "activity_days"),
    "fruitveg_portions": ("Portions of fruit and vegetables in a day", "portions", "five_a_day"),
    "fried_snacks": ("Fried food or fatty snacks in a day", "times", None),
    "smoking_status": ("Smoking", "", None),
    "cigarettes_per_day": ("Cigarettes a day", "", None),
    "confidence": ("How confident I feel about making changes (0 to 10)", "", None),
}
_SMOKING = {"1": "I smoke", "2": "I used to smoke", "3": "I do not smoke", "4": "I have never smoked"}


@dataclass(frozen=True)
class MeasureRow:
    label: str
    start: str
    latest: str          # "" when there is one result only
    change: str = ""     # plain words, e.g. "4.3 kg less: a real change (5% of my starting weight or more)"
    good: bool = False   # a real improvement by the instrument's threshold, or better where it sets none


@dataclass(frozen=True)
class MeasureGroup:
    title: str
    start_date: str
    latest_date: str
    rows: tuple[MeasureRow, ...]
    note: str = ""


# Places shown on the client's own plan: whole numbers wherever the instrument is a whole-number
# scale (the wellbeing scores are whole on the page; their meaningful change is judged unrounded);
# weight, BMI and waist keep the one decimal they are measured or defined to.
_PLAN_DECIMALS = {"weight_kg": 1, "bmi": 1, "waist_cm": 1}
# Band words a reader with low literacy can act on (the clinical names stay in the GP letter).
_PLAIN_BANDS = {
    "underweight": "below the healthy range", "healthy_weight": "in the healthy range",
    "overweight": "above the healthy range", "obesity_1": "well above the healthy range",
    "obesity_2": "well above the healthy range", "obesity_3": "well above the healthy range",
    "low_waist": "low risk", "high_waist": "higher risk", "very_high_waist": "very high risk",
    "negative": "lower risk", "positive": "higher risk",
}
_REAL_POINTS = {"swemwbs_metric": DEFAULT_MEANINGFUL_POINTS, "wemwbs": DEFAULT_MEANINGFUL_POINTS}


def plan_number(key: str, value) -> str:
    """A score as the plan prints it: whole numbers except weight, BMI and waist (one decimal)."""
    return number(value, _PLAN_DECIMALS.get(key, 0))


def plain_band(band_key: str, code: str) -> str:
    if band_key == "waist_cm":
        return _PLAIN_BANDS.get(f"{code}_waist", band_words(code))
    return _PLAIN_BANDS.get(code, band_words(code))


def _value(a: Assessment, key: str) -> str:
    v = a.scores.get(key)
    if v is None:
        return ""
    if key == "smoking_status":
        return _SMOKING.get(str(v)) or smoking_label(v)
    _, unit, band_key = _PLAIN[key]
    text = plan_number(key, v)
    if unit == "days":
        text += " day" if v == 1 else " days"
    elif unit == "portions":
        text += " portion" if v == 1 else " portions"
    elif unit == "times":
        text += " time" if v == 1 else " times"
    elif unit:
        text += f" {unit}"
    band = a.bands.get(band_key) if band_key else None
    if band:
        text += f" ({plain_band(band_key, band)})"
    return text


def band_words(code: str) -> str:
    """A band's label inside a sentence: 'healthy weight', 'obesity II', '5 a day met'."""
    return in_sentence(band_label(code))


# Body measures where less is better only for someone who started above the healthy range: for a
# person of healthy weight (or under) a loss is neither "better" nor "a start".
_BODY_KEYS = ("weight_kg", "bmi", "waist_cm")
_ABOVE_HEALTHY = ("overweight", "obesity_1", "obesity_2", "obesity_3")


def _loss_is_good(start_bands: dict | None) -> bool:
    band = (start_bands or {}).get("bmi")
    return band is None or band in _ABOVE_HEALTHY


def _change(key: str, start, latest, start_bands: dict | None = None) -> str:
    """The change from the first result to the latest in plain words, saying whether it is a real one
    where INSTRUMENTS.md sets a meaningful-change threshold (weight: 5% of the starting weight;
    SWEMWBS and WEMWBS: 3 points); elsewhere only whether it is better or worse. Weight, BMI and
    waist are judged only for someone whose BMI started above the healthy range."""
    if start is None or latest is None or key == "smoking_status":
        return ""
    decimals = _PLAN_DECIMALS.get(key, 0)
    shown = dec(plan_number(key, latest).replace(",", "")) - dec(plan_number(key, start).replace(",", ""))
    diff = dec(latest) - dec(start)
    if diff == 0 or (shown == 0 and key not in _REAL_POINTS):
        return "no change"
    amount = number(abs(shown), decimals)
    if key == "weight_kg":
        if diff > 0 or not _loss_is_good(start_bands):
            return f"{amount} kg {'more' if diff > 0 else 'less'}"
        five = number(dec(start) * DEFAULT_WEIGHT_LOSS_PCT / 100, 1)
        if meaningful(key, start, latest):
            return f"{amount} kg less: a real change, 5% of my starting weight or more"
        return f"{amount} kg less: a start; a real change is 5% of my starting weight, {five} kg"
    if key == "waist_cm":
        return f"{amount} cm {'less' if diff < 0 else 'more'}"
    if key == "bmi" and not _loss_is_good(start_bands):
        return f"{'up' if shown > 0 else 'down'} by {amount}"
    if key in _REAL_POINTS:
        points = number(_REAL_POINTS[key])
        real = abs(diff) >= _REAL_POINTS[key]
        word = "up" if diff > 0 else "down"
        # The whole numbers shown can round across the threshold (18.59 to 21.54 shows as 19 and 22):
        # then the words go without a number rather than contradict it.
        by = f"{word} by {amount}" if (abs(shown) >= _REAL_POINTS[key]) == real and shown != 0 else \
            ("higher" if diff > 0 else "lower")
        if real:
            return f"{by}: a real {'improvement' if diff > 0 else 'drop'}, {points} points or more"
        return f"{by}: too small a change to be sure it is real; that takes {points} points"
    definition = score_definition(key)
    text = f"{'up' if shown > 0 else 'down'} by {amount}"
    if definition and definition.better:
        better = (shown > 0) == (definition.better == "up")
        text += ", better" if better else ", worse"
    return text


def _good(key: str, start, latest, start_bands: dict | None = None) -> bool:
    """A change worth telling the client about: real by the threshold where INSTRUMENTS.md sets one
    (weight, SWEMWBS, WEMWBS), else simply in the better direction (BMI and waist follow weight)."""
    if key == "smoking_status":
        return str(start) == "1" and str(latest) == "2"        # stopped smoking
    if start is None or latest is None or key in ("bmi", "waist_cm", "height_cm"):
        return False
    if key == "weight_kg":
        return _loss_is_good(start_bands) and bool(meaningful(key, start, latest))
    if key in _REAL_POINTS:
        return bool(meaningful(key, start, latest))
    definition = score_definition(key)
    if definition is None or definition.better is None or dec(plan_number(key, start)) == dec(plan_number(key, latest)):
        return False
    return (dec(latest) > dec(start)) == (definition.better == "up")


def _bp(a: Assessment) -> str:
    s, d = a.scores.get("bp_systolic"), a.scores.get("bp_diastolic")
    return f"{s}/{d} mmHg" if s is not None and d is not None else ""


def plan_measures(pairs: tuple[MeasurePair, ...]) -> list[MeasureGroup]:
    """The plan's table of first and latest results, in friendly words."""
    groups = []
    for pair in pairs:
        if pair.instrument not in PLAN_INSTRUMENTS:
            continue
        first, latest = pair.baseline, pair.latest
        rows = []
        for score in INSTRUMENTS[pair.instrument].scores:
            if score.key not in _PLAIN:
                continue
            a = first.scores.get(score.key)
            b = latest.scores.get(score.key) if latest else None
            if a is None and b is None:
                continue
            rows.append(MeasureRow(_PLAIN[score.key][0], _value(first, score.key),
                                   _value(latest, score.key) if latest else "",
                                   _change(score.key, a, b, first.bands), _good(score.key, a, b, first.bands)))
        if pair.instrument == "BODY" and (_bp(first) or (latest and _bp(latest))):
            rows.append(MeasureRow("My blood pressure", _bp(first), _bp(latest) if latest else ""))
        note = ""
        if pair.instrument == "BODY":
            note = bmi_thresholds_note((latest or first).bands.get("bmi_thresholds")
                                       or first.bands.get("bmi_thresholds"))
        if rows:
            groups.append(MeasureGroup(_GROUPS.get(pair.instrument, INSTRUMENTS[pair.instrument].name),
                                       first.assessed_date, latest.assessed_date if latest else "",
                                       tuple(rows), note))
    return groups


def bmi_thresholds_note(which: str | None) -> str:
    """Which BMI threshold set was used (INSTRUMENTS.md: the plan shows it), in the plan's plain words."""
    if which == "adjusted":
        return ("My BMI is compared with the lower limits NICE advises for people of South Asian, Chinese, other "
                "Asian, Middle Eastern, Black African or African-Caribbean family background: the healthy range is "
                "18.5 to 22.9, above it from 23 and well above it from 27.5.")
    if which == "standard":
        return ("My BMI is compared with the standard NICE limits: the healthy range is 18.5 to 24.9, above it "
                "from 25 and well above it from 30.")
    return ""


# --- the GP letter's outcome table ------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeRow:
    label: str
    baseline: str
    latest: str
    change: str


def outcome_rows(pair: Pair) -> list[OutcomeRow]:
    """Each score present on both sides of a baseline/exit pair, in clinical units."""
    rows = []
    for score in INSTRUMENTS[pair.instrument].scores:
        if score.key in ("height_cm",):
            continue
        both = pair.compare(score.key)
        if both is None:
            continue
        b, e, diff = both
        unit = f" {score.unit}" if score.unit and score.unit not in ("days", "portions", "times", "per day") else ""
        if score.key == "smoking_status":
            rows.append(OutcomeRow(score.label, smoking_label(b), smoking_label(e), ""))
            continue
        change = ""
        if diff is not None:
            change = ("+" if diff > 0 else "−" if diff < 0 else "") + number(abs(dec(diff)), score.decimals) + unit
            if score.key == "weight_kg" and b:
                pct = dec(diff) * 100 / dec(b)
                change += f" ({'+' if pct > 0 else '−' if pct < 0 else ''}{number(abs(pct), 1)}%)"
        rows.append(OutcomeRow(f"{score.label}{f' ({score.unit})' if unit else ''}",
                               number(b, score.decimals), number(e, score.decimals), change))
    return rows


def smoking_label(value) -> str:
    """A smoking status code as the NHS code list words it."""
    return dict(SMOKING_STATUS_OPTIONS).get(str(value), str(value))
