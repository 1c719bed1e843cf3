"""Answer validation and one small pure scoring function per instrument.

`score(code, answers, context)` is the only entry point: it checks and types the
answers (`normalise_answers`), then calls the function registered for the code
with `@scorer(code)`. Scorers receive typed answers (int, float or code text)
holding only the instrument's non-blank items, and work in Decimal so edges
compare exactly as written.
"""
from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Callable, Mapping

from ..errors import FieldError, ValidationError
from . import definitions as defs
from .definitions import INSTRUMENTS, is_blank
from .model import (Instrument, Item, Number, Scored, ScoreValue, ScoringContext, band_of, dec)

Scorer = Callable[[Instrument, dict, ScoringContext], Scored]
SCORERS: dict[str, Scorer] = {}


def scorer(code: str) -> Callable[[Scorer], Scorer]:
    """Register the scoring function of an instrument code."""
    def register(fn: Scorer) -> Scorer:
        SCORERS[code] = fn
        return fn
    return register


def register_instrument(instrument: Instrument, fn: Scorer) -> None:
    """Add an instrument at run time (tests, or a service-specific scale).

    Item and score keys must be new: answers and report rows are keyed by them."""
    if instrument.code in INSTRUMENTS:
        raise ValueError(f"instrument {instrument.code} already exists")
    for it in instrument.items:
        if defs.instrument_for_item(it.key):
            raise ValueError(f"item key {it.key} is already used")
    for s in instrument.scores:
        if defs.score_definition(s.key):
            raise ValueError(f"score key {s.key} is already used")
    INSTRUMENTS[instrument.code] = instrument
    SCORERS[instrument.code] = fn


# --- validation -----------------------------------------------------------------

def _fold(text: str) -> str:
    """Compare labels ignoring case, runs of spaces and the kind of dash (IMPORT.md);
    spaces around a dash too, so "2 - 4" matches the label "2–4"."""
    for dash in "–—‒―−":
        text = text.replace(dash, "-")
    return re.sub(r"\s*-\s*", "-", " ".join(text.casefold().split()))


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        value = dec(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


def _fmt(n: Number | None) -> str:
    return format(dec(n).normalize(), "f") if n is not None else ""


def _parse(item: Item, raw: object) -> tuple[int | float | str | None, str | None]:
    """(typed value, None) or (None, plain-English problem naming the item)."""
    shown = raw.strip() if isinstance(raw, str) else raw
    if item.kind == "choice":
        values = [v for v, _ in item.options]
        numeric = all(isinstance(v, int) for v in values)
        n = _number(raw)
        if n is not None and n == n.to_integral_value():
            # A number cell reads as 1 or 1.0: match int codes, or text codes "1".
            candidate: int | str = int(n) if numeric else str(int(n))
            if candidate in values:
                return candidate, None
        elif isinstance(raw, str):
            for value, label in item.options:
                if _fold(str(value)) == _fold(raw) or _fold(label) == _fold(raw):
                    return value, None
        allowed = ", ".join(str(v) for v in values)
        return None, f"{item.name}: '{shown}' is not one of the answers ({allowed})"
    n = _number(raw)
    if n is None:
        return None, f"{item.name}: '{shown}' is not a number"
    # Range first: it also keeps absurd magnitudes (1E+40) away from the places check.
    if (item.min is not None and n < dec(item.min)) or (item.max is not None and n > dec(item.max)):
        return None, f"{item.name} must be between {_fmt(item.min)} and {_fmt(item.max)}"
    places = item.decimals if item.kind == "decimal" else 0
    if n != n.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):
        if places == 0:
            return None, f"{item.name} must be a whole number"
        return None, f"{item.name} can have at most {places} decimal place{'s' if places > 1 else ''}"
    return (float(n) if item.kind == "decimal" else int(n)), None


def normalise_answers(code: str, answers: Mapping[str, object]) -> dict[str, int | float | str]:
    """The instrument's non-blank answers, typed (int, float, or code text).

    Keys of other instruments are ignored, so a whole import row can be passed.
    Raises ValidationError with one FieldError per bad item."""
    inst = INSTRUMENTS[code]
    typed: dict[str, int | float | str] = {}
    errors: list[FieldError] = []
    for item in inst.items:
        raw = answers.get(item.key)
        if is_blank(raw):
            continue
        value, problem = _parse(item, raw)
        if problem:
            errors.append(FieldError(item.key, problem))
        else:
            typed[item.key] = value  # type: ignore[assignment]
    if errors:
        raise ValidationError(errors)
    return typed


def validate_answers(code: str, answers: Mapping[str, object]) -> None:
    """Raise ValidationError (one FieldError per bad item) or return None.

    Only the refusal ranges; the confirmation band of DATA.md is checked elsewhere."""
    normalise_answers(code, answers)


# --- entry points -----------------------------------------------------------------

def score(code: str, answers: Mapping[str, object], context: ScoringContext | None = None) -> Scored:
    """Score one assessment. Raises ValidationError for invalid answers, KeyError for an unknown code."""
    inst = INSTRUMENTS[code]
    return SCORERS[code](inst, normalise_answers(code, answers), context or ScoringContext())


def is_result(code: str, scored_or_answers: Scored | Mapping[str, object]) -> bool:
    """A "result" (INSTRUMENTS.md Pairing): the main score exists, which is exactly
    Scored.computable. Answers are scored first; no instrument's result depends on
    the context (BODY needs only a weight)."""
    if isinstance(scored_or_answers, Scored):
        return scored_or_answers.computable
    return score(code, scored_or_answers).computable


# --- helpers for scorers (public: a registered instrument uses them too) ----------

def build_scored(inst: Instrument, scores: dict[str, ScoreValue], bands: dict[str, str] | None = None,
                 *, reason: str | None = None, flags=(), notes=(), computable: bool | None = None) -> Scored:
    """A Scored with every score key of the instrument (None where absent).

    computable defaults to "the main score exists"; the default reason names the
    instrument's required items."""
    full = {s.key: scores.get(s.key) for s in inst.scores}   # every key present; None = absent
    if computable is None:
        computable = full.get(inst.main_score) is not None if inst.main_score else False
    if not computable and reason is None:
        reason = _missing_reason([it for it in inst.items if it.required_for_score])
    return Scored(full, dict(bands or {}), computable, None if computable else reason,
                  tuple(flags), tuple(notes))


def _missing_reason(items: list[Item]) -> str:
    names = [it.name for it in items]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Not computable: {listed} not answered"


def sum_scale(inst: Instrument, a: Mapping[str, int]) -> tuple[int | None, str | None]:
    """Sum of every required item, or (None, reason) naming each blank one: never a guess."""
    missing = [it for it in inst.items if it.required_for_score and it.key not in a]
    if missing:
        return None, _missing_reason(missing)
    return sum(int(a[it.key]) for it in inst.items if it.required_for_score), None


def uses_adjusted_bmi(ctx: ScoringContext) -> bool:
    eth = (ctx.ethnicity or "").strip().upper()
    return eth in defs.ADJUSTED_BMI_ETHNICITIES or (
        ctx.asian_thresholds_override and eth in defs.ADJUSTED_BMI_ON_OVERRIDE)


# --- one scorer per instrument --------------------------------------------------------

@scorer("BODY")
def score_body(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    scores: dict[str, ScoreValue] = {k: a.get(k) for k in ("weight_kg", "waist_cm", "bp_systolic", "bp_diastolic")}
    bands: dict[str, str] = {}
    notes: list[str] = []
    height = dec(a["height_cm"]) if "height_cm" in a else None
    if height is None and ctx.carried_height_cm is not None and dec(ctx.carried_height_cm) > 0:
        height = dec(ctx.carried_height_cm)
        notes.append(f"Height {_fmt(height)} cm carried forward from an earlier assessment")
    scores["height_cm"] = float(height) if height is not None else None

    if "weight_kg" in a and height is not None:
        bmi = dec(a["weight_kg"]) / (height / 100) ** 2   # unrounded: banded and stored as is
        adjusted = uses_adjusted_bmi(ctx)
        scores["bmi"] = float(bmi)
        bands["bmi"] = band_of(bmi, defs.BMI_ADJUSTED if adjusted else defs.BMI_STANDARD).code
        bands["bmi_thresholds"] = "adjusted" if adjusted else "standard"
    elif "weight_kg" in a:
        notes.append("BMI not calculated: no height recorded")

    if "waist_cm" in a:
        waist = dec(a["waist_cm"])
        scale = {"1": defs.WAIST_MALE, "2": defs.WAIST_FEMALE}.get(str(ctx.sex or "").strip())
        if scale:
            bands["waist_cm"] = band_of(waist, scale).code
        else:
            notes.append("No waist band: NICE gives waist bands for men and women only")
        if height is not None:
            whtr = waist / height
            scores["whtr"] = float(whtr)
            bands["whtr"] = band_of(whtr, defs.WHTR).code
    return build_scored(inst, scores, bands, notes=notes,
                   reason="Not computable: Weight (kg) not recorded")


@scorer("SWEMWBS")
def score_swemwbs(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    raw, reason = sum_scale(inst, a)
    if raw is None:
        return build_scored(inst, {}, reason=reason)
    return build_scored(inst, {"swemwbs_raw": raw, "swemwbs_metric": float(defs.SWEMWBS_METRIC[raw])})


@scorer("WEMWBS")
def score_wemwbs(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    total, reason = sum_scale(inst, a)
    return build_scored(inst, {"wemwbs": total}, reason=reason)


@scorer("ONS4")
def score_ons4(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    # Four separate answers: each scored and banded on its own, never summed.
    scores = {k: a[k] for k in inst.item_keys if k in a}
    bands = {k: band_of(v, defs.ONS4_ANXIETY if k == "ons4_anxious" else defs.ONS4_POSITIVE).code
             for k, v in scores.items()}
    return build_scored(inst, scores, bands, computable=bool(scores),
                   reason="Not computable: no ONS4 question answered")


@scorer("AUDITC")
def score_auditc(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    notes = []
    if a.get("auditc_1") == 0:
        # "Never" drinking: questions 2 and 3 are 0 whatever (or whether) was ticked.
        if a.get("auditc_2") != 0 or a.get("auditc_3") != 0:
            notes.append("Questions 2 and 3 counted as 0 because question 1 was answered Never")
        a = {**a, "auditc_2": 0, "auditc_3": 0}
    total, reason = sum_scale(inst, a)
    if total is None:
        return build_scored(inst, {}, reason=reason, notes=notes)
    band = band_of(total, defs.AUDITC_BANDS).code
    return build_scored(inst, {"auditc": total}, {"auditc": band}, notes=notes,
                   flags=("auditc_positive",) if band == "positive" else ())


@scorer("ACTIVITY")
def score_activity(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    days = a.get("activity_days")
    bands = {"activity_days": band_of(days, defs.ACTIVITY_BANDS).code} if days is not None else {}
    return build_scored(inst, {"activity_days": days}, bands)


@scorer("FRUITVEG")
def score_fruitveg(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    portions = a.get("fruitveg_portions")
    bands = {"five_a_day": band_of(portions, defs.FIVE_A_DAY).code} if portions is not None else {}
    return build_scored(inst, {"fruitveg_portions": portions, "fried_snacks": a.get("fried_snacks")}, bands)


@scorer("SMOKING")
def score_smoking(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    status = a.get("smoking_status")
    notes = []
    extras = [inst.item(k).label for k in ("cigarettes_per_day", "uses_ecig", "wants_stop_referral") if k in a]
    if extras and status != defs.CURRENT_SMOKER:
        # Kept (never discarded), but these questions are for current smokers only.
        notes.append(f"{', '.join(extras)} recorded for someone not recorded as a current smoker")
    flags = ("wants_stop_referral",) if a.get("wants_stop_referral") == "Y" else ()
    return build_scored(inst, {"smoking_status": status, "cigarettes_per_day": a.get("cigarettes_per_day")},
                   flags=flags, notes=notes)


@scorer("CONFIDENCE")
def score_confidence(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    return build_scored(inst, {"confidence": a.get("confidence")})


def _mood_scale(inst: Instrument, a: dict, key: str, scale, flags=()) -> Scored:
    total, reason = sum_scale(inst, a)
    bands = {key: band_of(total, scale).code} if total is not None else {}
    return build_scored(inst, {key: total}, bands, reason=reason, flags=flags)


@scorer("PHQ9")
def score_phq9(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    # Item 9 raises the safeguarding prompt on its own, even when the total is not computable.
    flags = ("safeguarding",) if (a.get("phq9_9") or 0) > 0 else ()
    return _mood_scale(inst, a, "phq9", defs.PHQ9_BANDS, flags)


@scorer("GAD7")
def score_gad7(inst: Instrument, a: dict, ctx: ScoringContext) -> Scored:
    return _mood_scale(inst, a, "gad7", defs.GAD7_BANDS)


_unscored = set(INSTRUMENTS) - set(SCORERS)
assert not _unscored, f"instruments without a scoring function: {_unscored}"
