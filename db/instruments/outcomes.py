"""Comparing a baseline with an exit (or follow-up) value, exactly.

All arithmetic is Decimal on the values as written (see model.dec), because the
spec's thresholds include their edge: a loss of exactly 5% is a 5% loss."""
from __future__ import annotations

from decimal import Decimal

from .definitions import AUDITC_BANDS, CURRENT_SMOKER, EX_SMOKER, score_definition
from .model import Number, band_of, dec

DEFAULT_MEANINGFUL_POINTS = Decimal(3)      # SWEMWBS metric / WEMWBS, individual level
DEFAULT_WEIGHT_LOSS_PCT = Decimal(5)
_POINT_SCORES = ("swemwbs_metric", "wemwbs")


def change(baseline: Number, exit: Number) -> int | float:
    """exit − baseline, exact (int when both are whole numbers)."""
    d = dec(exit) - dec(baseline)
    return int(d) if isinstance(baseline, int) and isinstance(exit, int) else float(d)


def weight_change(baseline_kg: Number, latest_kg: Number,
                  threshold_pct: Number = DEFAULT_WEIGHT_LOSS_PCT) -> tuple[float, float, bool]:
    """(change in kg, change in % of baseline, "5% weight loss" met).

    Changes are latest − baseline, so a loss is negative. Met when the loss is at
    least threshold_pct % of baseline, compared exactly (edge included)."""
    b, latest = dec(baseline_kg), dec(latest_kg)
    if b <= 0:
        raise ValueError("baseline weight must be above 0")
    kg = latest - b
    pct = kg * 100 / b
    return float(kg), float(pct), (b - latest) * 100 >= dec(threshold_pct) * b


def improved(score_key: str, baseline: Number | None, exit: Number | None) -> bool | None:
    """Moved in the better direction (Score.better)? None when either value is
    missing or the score has no direction (smoking status, height)."""
    definition = score_definition(score_key)
    if baseline is None or exit is None or definition is None or definition.better is None:
        return None
    b, e = dec(baseline), dec(exit)
    return e > b if definition.better == "up" else e < b


def meaningful(score_key: str, baseline: Number | None, exit: Number | None,
               threshold: Number = DEFAULT_MEANINGFUL_POINTS,
               weight_loss_pct: Number = DEFAULT_WEIGHT_LOSS_PCT) -> bool | None:
    """Meaningful individual improvement (RETURN.md OUTCOME_MEANINGFUL):
    swemwbs_metric and wemwbs up by `threshold` points or more; weight_kg down by
    `weight_loss_pct` % of baseline or more. None for other scores or a missing value."""
    if baseline is None or exit is None:
        return None
    if score_key in _POINT_SCORES:
        return dec(exit) - dec(baseline) >= dec(threshold)
    if score_key == "weight_kg":
        return weight_change(baseline, exit, weight_loss_pct)[2]
    return None


def quit(baseline_status: str | None, exit_status: str | None) -> bool | None:  # noqa: A001 (spec's word)
    """Self-reported quit: current smoker (1) at baseline, ex-smoker (2) at exit.

    None when the baseline is not a current smoker (not in SMOKERS_QUIT's denominator)."""
    if baseline_status != CURRENT_SMOKER:
        return None
    return exit_status == EX_SMOKER


smoking_quit = quit   # the same, without shadowing the builtin in callers


def auditc_positive_to_negative(baseline: Number | None, exit: Number | None) -> bool | None:
    """AUDIT-C 5+ at baseline and under 5 at exit; None when baseline is not positive
    (not in AUDITC_POSITIVE_TO_NEGATIVE's denominator) or a value is missing."""
    if baseline is None or exit is None or band_of(baseline, AUDITC_BANDS).code != "positive":
        return None
    return band_of(exit, AUDITC_BANDS).code == "negative"
