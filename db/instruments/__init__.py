"""Assessment instruments (spec: INSTRUMENTS.md): data, scoring, pairing.

Pure code: no Qt, no SQL, no I/O. The store, the forms, the import, the demo
data generator and the quarterly return all go through this package.

    definitions.py  every instrument as data (items, options, scores, band scales)
    scoring.py      answer validation and one scoring function per instrument
    outcomes.py     exact comparisons: improved, meaningful, 5% weight loss, quit
    pairing.py      baseline/exit (and follow-up) pairs for outcomes

Adding an instrument
--------------------
1. definitions.py: define `NEW = Instrument(code, name, items, default_on,
   copyright_line, main_score, scores)`. Item keys are the import column names
   (add them to IMPORT.md's Assessments sheet); item and score keys must not be
   used by another instrument. Put any band thresholds in a `Band` scale there.
2. Add `NEW` to `INSTRUMENTS` at its place in the spec's order (reports follow it).
3. scoring.py: write one function `(instrument, answers, context) -> Scored`
   decorated with `@scorer("NEW")`. Answers arrive validated and typed, holding
   only non-blank items; build the result with `build_scored(...)` (and `sum_scale`
   for a sum score, which gives "not computable" with the missing items named).
   An import-time check refuses an instrument without a scoring function.
4. If it feeds the return, add its score keys to `OUTCOME_SCORE_KEYS` (and to
   RETURN.md). Add tests. Screens need no change: they draw items from the data.
At run time (tests, or a service's own scale) `register_instrument(instrument,
scoring_function)` does steps 1–3 in one call.
"""
from .definitions import (
    ACTIVITY, AUDITC, BAND_LABELS, BODY, CONFIDENCE, FRUITVEG, GAD7, INSTRUMENTS,
    MEANINGFUL_SCORE_KEYS, ONS4, OUTCOME_SCORE_KEYS, PHQ9, SMOKING, SMOKING_STATUS_OPTIONS,
    SWEMWBS, SWEMWBS_METRIC, WEMWBS, band_label, find_item, instrument_for_item,
    instruments_in_answers, is_blank, score_definition,
)
from .model import (Band, Instrument, Item, Score, Scored, ScoringContext, band_of, dec)
from .outcomes import (
    DEFAULT_MEANINGFUL_POINTS, DEFAULT_WEIGHT_LOSS_PCT, auditc_positive_to_negative, change,
    improved, meaningful, quit, smoking_quit, weight_change,
)
from .pairing import (
    BASELINE, EXIT, FOLLOWUP_TIMEPOINTS, REVIEW, TIMEPOINTS, AssessmentPoint, Pair,
    followup_pairs, pair_for, pairs_by_instrument, pairs_by_referral, pairs_by_referral_rows,
)
from .scoring import (
    SCORERS, build_scored, is_result, normalise_answers, register_instrument, score, scorer,
    sum_scale, uses_adjusted_bmi, validate_answers,
)



def default_on_codes() -> list[str]:
    """Codes switched on in a new database, in the spec's order."""
    return [code for code, inst in INSTRUMENTS.items() if inst.default_on]


__all__ = [
    "ACTIVITY", "AUDITC", "BAND_LABELS", "BODY", "CONFIDENCE", "FRUITVEG", "GAD7", "INSTRUMENTS",
    "MEANINGFUL_SCORE_KEYS", "ONS4", "OUTCOME_SCORE_KEYS", "PHQ9", "SMOKING",
    "SMOKING_STATUS_OPTIONS", "SWEMWBS", "SWEMWBS_METRIC", "WEMWBS", "band_label", "find_item",
    "instrument_for_item", "instruments_in_answers", "is_blank", "score_definition",
    "Band", "Instrument", "Item", "Score", "Scored", "ScoringContext", "band_of", "dec",
    "DEFAULT_MEANINGFUL_POINTS", "DEFAULT_WEIGHT_LOSS_PCT", "auditc_positive_to_negative",
    "change", "improved", "meaningful", "quit", "smoking_quit", "weight_change",
    "BASELINE", "EXIT", "FOLLOWUP_TIMEPOINTS", "REVIEW", "TIMEPOINTS", "AssessmentPoint", "Pair",
    "followup_pairs", "pair_for", "pairs_by_instrument", "pairs_by_referral", "pairs_by_referral_rows",
    "SCORERS", "build_scored", "sum_scale", "is_result", "normalise_answers", "register_instrument", "score", "scorer",
    "uses_adjusted_bmi", "validate_answers", "default_on_codes",
]
