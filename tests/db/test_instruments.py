"""Instruments as data and their scoring (INSTRUMENTS.md)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from db.errors import ValidationError
from db.instruments import (
    INSTRUMENTS, SCORERS, Band, Instrument, Item, Score, Scored, ScoringContext, auditc_positive_to_negative,
    band_label, band_of, build_scored, default_on_codes, find_item, improved, instrument_for_item,
    instruments_in_answers, is_result, meaningful, normalise_answers, quit, register_instrument,
    score, sum_scale, validate_answers, weight_change,
)

SPEC_ORDER = ["BODY", "SWEMWBS", "WEMWBS", "ONS4", "AUDITC", "ACTIVITY", "FRUITVEG", "SMOKING",
              "CONFIDENCE", "PHQ9", "GAD7"]

IMPORT_COLUMNS = (
    ["weight_kg", "height_cm", "waist_cm", "bp_systolic", "bp_diastolic"]
    + [f"swemwbs_{i}" for i in range(1, 8)] + [f"wemwbs_{i}" for i in range(1, 15)]
    + ["ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious",
       "auditc_1", "auditc_2", "auditc_3", "activity_days", "fruitveg_portions", "fried_snacks",
       "smoking_status", "cigarettes_per_day", "uses_ecig", "wants_stop_referral", "confidence"]
    + [f"phq9_{i}" for i in range(1, 10)] + [f"gad7_{i}" for i in range(1, 8)]
)

# The spec's table, typed out again on purpose (not read from the module).
SWEMWBS_TABLE = {
    7: "7.00", 8: "9.51", 9: "11.25", 10: "12.40", 11: "13.33", 12: "14.08", 13: "14.75",
    14: "15.32", 15: "15.84", 16: "16.36", 17: "16.88", 18: "17.43", 19: "17.98", 20: "18.59",
    21: "19.25", 22: "19.98", 23: "20.73", 24: "21.54", 25: "22.35", 26: "23.21", 27: "24.11",
    28: "25.03", 29: "26.02", 30: "27.03", 31: "28.13", 32: "29.31", 33: "30.70", 34: "32.55",
    35: "35.00",
}


def _answers_summing_to(prefix: str, n_items: int, total: int, lo: int, hi: int) -> dict:
    answers, left = {}, total
    for i in range(1, n_items + 1):
        rest = n_items - i                      # items still to fill after this one
        v = max(lo, min(hi, left - rest * lo))
        answers[f"{prefix}_{i}"] = v
        left -= v
    assert left == 0
    return answers


# --- data -------------------------------------------------------------------------

def test_codes_order_and_defaults():
    assert list(INSTRUMENTS) == SPEC_ORDER
    assert default_on_codes() == ["BODY", "SWEMWBS", "ONS4", "AUDITC", "ACTIVITY", "FRUITVEG",
                                  "SMOKING", "CONFIDENCE"]
    assert set(SCORERS) >= set(SPEC_ORDER)


def test_item_keys_are_the_import_columns_and_unique():
    keys = [it.key for inst in INSTRUMENTS.values() for it in inst.items]
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(IMPORT_COLUMNS)
    assert instrument_for_item("swemwbs_3") == "SWEMWBS"
    assert instrument_for_item("uses_ecig") == "SMOKING"
    assert instrument_for_item("nonsense") is None
    assert find_item("auditc_2").options[4] == (4, "10 or more")


def test_score_keys_unique_and_return_keys_exist():
    keys = [s.key for inst in INSTRUMENTS.values() for s in inst.scores]
    assert len(keys) == len(set(keys))
    for k in ["weight_kg", "bmi", "waist_cm", "swemwbs_metric", "swemwbs_raw", "wemwbs",
              "ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious", "auditc",
              "activity_days", "fruitveg_portions", "confidence", "phq9", "gad7", "smoking_status"]:
        assert k in keys


def test_copyright_lines():
    assert INSTRUMENTS["SWEMWBS"].copyright_line == (
        "SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, "
        "2008, all rights reserved.")
    assert INSTRUMENTS["WEMWBS"].copyright_line.startswith("WEMWBS © NHS Health Scotland")


def test_instruments_in_answers():
    row = {"weight_kg": 80, "swemwbs_1": "", "ons4_anxious": 0, "auditc_1": None,
           "smoking_status": "1", "unknown_col": 5, "gad7_2": "  "}
    assert instruments_in_answers(row) == ["BODY", "ONS4", "SMOKING"]
    assert instruments_in_answers({}) == []


# --- SWEMWBS / WEMWBS ------------------------------------------------------------------

@pytest.mark.parametrize("raw", range(7, 36))
def test_swemwbs_every_raw_score(raw):
    s = score("SWEMWBS", _answers_summing_to("swemwbs", 7, raw, 1, 5))
    assert s.computable and s.reason is None
    assert s.scores["swemwbs_raw"] == raw
    assert Decimal(repr(s.scores["swemwbs_metric"])) == Decimal(SWEMWBS_TABLE[raw])


def test_swemwbs_missing_item_not_computable_and_named():
    answers = _answers_summing_to("swemwbs", 7, 21, 1, 5)
    del answers["swemwbs_3"]
    s = score("SWEMWBS", answers)
    assert not s.computable and s.scores["swemwbs_metric"] is None and s.scores["swemwbs_raw"] is None
    assert s.reason == "Not computable: SWEMWBS item 3 (I've been feeling relaxed) not answered"
    assert not is_result("SWEMWBS", s)
    answers["swemwbs_5"] = ""
    assert score("SWEMWBS", answers).reason == (
        "Not computable: SWEMWBS item 3 (I've been feeling relaxed) and "
        "SWEMWBS item 5 (I've been thinking clearly) not answered")


def test_wemwbs_sum_and_missing():
    answers = _answers_summing_to("wemwbs", 14, 50, 1, 5)
    assert score("WEMWBS", answers).scores["wemwbs"] == 50
    del answers["wemwbs_14"]
    s = score("WEMWBS", answers)
    assert not s.computable and "WEMWBS item 14 (I've been feeling cheerful)" in s.reason


def test_answers_accept_labels_and_number_cells():
    answers = {f"swemwbs_{i}": "often" for i in range(1, 8)}
    answers["swemwbs_1"] = 4.0            # an Excel number cell
    answers["swemwbs_2"] = " 4 "
    assert score("SWEMWBS", answers).scores["swemwbs_raw"] == 28


# --- BODY -------------------------------------------------------------------------------

def _bmi_band(weight, ethnicity=None, override=False, height=200):
    s = score("BODY", {"weight_kg": weight, "height_cm": height},
              ScoringContext(ethnicity=ethnicity, asian_thresholds_override=override))
    return s.bands["bmi"], s.bands["bmi_thresholds"], s.scores["bmi"]


# Height 200 cm: BMI = weight / 4 exactly.
@pytest.mark.parametrize("weight,band", [
    (73.6, "underweight"), (74, "healthy_weight"),        # 18.4 / 18.5
    (99.6, "healthy_weight"), (100, "overweight"),        # 24.9 / 25.0
    (119.6, "overweight"), (120, "obesity_1"),            # 29.9 / 30.0
    (139.6, "obesity_1"), (140, "obesity_2"),             # 34.9 / 35.0
    (159.6, "obesity_2"), (160, "obesity_3"),             # 39.9 / 40.0
])
def test_bmi_standard_edges(weight, band):
    got, thresholds, bmi = _bmi_band(weight, "A")
    assert (got, thresholds) == (band, "standard")
    assert Decimal(repr(bmi)) == Decimal(str(weight)) / 4


@pytest.mark.parametrize("weight,band", [
    (91.6, "healthy_weight"), (92, "overweight"),         # 22.9 / 23.0
    (109.6, "overweight"), (110, "obesity_1"),            # 27.4 / 27.5
    (129.6, "obesity_1"), (130, "obesity_2"),             # 32.4 / 32.5
    (149.6, "obesity_2"), (150, "obesity_3"),             # 37.4 / 37.5
])
def test_bmi_adjusted_edges(weight, band):
    assert _bmi_band(weight, "J")[:2] == (band, "adjusted")


@pytest.mark.parametrize("eth,override,expected", [
    ("H", False, "adjusted"), ("J", False, "adjusted"), ("K", False, "adjusted"),
    ("L", False, "adjusted"), ("M", False, "adjusted"), ("N", False, "adjusted"),
    ("P", False, "adjusted"), ("R", False, "adjusted"),
    ("S", False, "standard"), ("S", True, "adjusted"),
    ("A", False, "standard"), ("A", True, "standard"), ("Z", False, "standard"),
    ("99", False, "standard"), (None, False, "standard"),
])
def test_bmi_threshold_set_by_ethnicity(eth, override, expected):
    assert _bmi_band(92, eth, override)[1] == expected


def test_bmi_unrounded_not_banded_on_display_value():
    # 24.99 shows as 25.0 but is still healthy: banded on the unrounded value.
    band, _, bmi = _bmi_band(99.9, "A")
    assert bmi == pytest.approx(24.975) and band == "healthy_weight"


@pytest.mark.parametrize("sex,waist,band", [
    ("1", 93.9, "low"), ("1", 94, "high"), ("1", 102, "high"), ("1", 102.1, "very_high"),
    ("2", 79.9, "low"), ("2", 80, "high"), ("2", 88, "high"), ("2", 88.1, "very_high"),
])
def test_waist_bands_by_sex(sex, waist, band):
    s = score("BODY", {"weight_kg": 80, "waist_cm": waist}, ScoringContext(sex=sex))
    assert s.bands["waist_cm"] == band


@pytest.mark.parametrize("sex", ["3", "4", "Z", "X", None])
def test_waist_no_band_for_other_genders(sex):
    s = score("BODY", {"weight_kg": 80, "waist_cm": 100}, ScoringContext(sex=sex))
    assert "waist_cm" not in s.bands and s.scores["waist_cm"] == 100
    assert any("No waist band" in n for n in s.notes)


@pytest.mark.parametrize("waist,height,band", [
    (49.9, 100, "healthy"), (50, 100, "increased"), (59.9, 100, "increased"), (60, 100, "high"),
    (99.9, 200, "healthy"), (100, 200, "increased"), (119.9, 200, "increased"), (120, 200, "high"),
])
def test_waist_to_height_edges(waist, height, band):
    s = score("BODY", {"weight_kg": 80, "height_cm": height, "waist_cm": waist})
    assert s.bands["whtr"] == band


def test_height_carried_forward():
    ctx = ScoringContext(carried_height_cm=200.0)
    s = score("BODY", {"weight_kg": 92, "waist_cm": 100}, ctx)
    assert s.scores["bmi"] == 23.0 and s.scores["height_cm"] == 200.0
    assert s.scores["whtr"] == 0.5
    assert any("carried forward" in n for n in s.notes)
    # A height measured today wins over the carried one, with no note.
    s = score("BODY", {"weight_kg": 92, "height_cm": 160}, ctx)
    assert s.scores["height_cm"] == 160.0 and not any("carried" in n for n in s.notes)


def test_body_without_height_or_weight():
    s = score("BODY", {"weight_kg": 80})
    assert s.computable and s.scores["bmi"] is None and "bmi" not in s.bands
    assert any("no height" in n for n in s.notes)
    s = score("BODY", {"height_cm": 170, "waist_cm": 90})
    assert not s.computable and s.scores["weight_kg"] is None
    assert s.reason == "Not computable: Weight (kg) not recorded"
    assert not is_result("BODY", {"height_cm": 170})
    assert is_result("BODY", {"weight_kg": "80.5"})


def test_weight_change_exact_five_percent():
    assert weight_change(100, 95) == (-5.0, -5.0, True)
    assert weight_change(100, 95.1)[2] is False
    # 5% of 90.2 is 4.51: float subtraction gives 4.5100000000000051 or so; Decimal is exact.
    kg, pct, met = weight_change(90.2, 85.69)
    assert met is True and kg == -4.51 and pct == -5.0
    assert weight_change(90.2, 85.7)[2] is False
    assert weight_change(80, 82)[:2] == (2.0, 2.5)


# --- validation --------------------------------------------------------------------------

def test_body_refusals_name_each_item():
    with pytest.raises(ValidationError) as e:
        validate_answers("BODY", {"weight_kg": 24.9, "height_cm": 251, "waist_cm": 39,
                                  "bp_systolic": 301, "bp_diastolic": 49})
    assert e.value.fields == ["weight_kg", "height_cm", "waist_cm", "bp_systolic", "bp_diastolic"]
    messages = [x.message for x in e.value.errors]
    assert messages[0] == "Weight (kg) must be between 25 and 350"
    assert messages[1] == "Height (cm) must be between 100 and 250"
    assert "Blood pressure, diastolic" in messages[4]


def test_body_edges_accepted_and_precision():
    validate_answers("BODY", {"weight_kg": 25, "height_cm": 250, "waist_cm": 40, "bp_systolic": 300,
                              "bp_diastolic": 50})
    validate_answers("BODY", {"weight_kg": "350.0", "height_cm": 100})
    with pytest.raises(ValidationError) as e:
        validate_answers("BODY", {"weight_kg": 72.35, "bp_systolic": 120.5, "height_cm": "tall"})
    assert [x.message for x in e.value.errors] == [
        "Weight (kg) can have at most 1 decimal place",
        "Height (cm): 'tall' is not a number",
        "Blood pressure, systolic (mmHg) must be a whole number",
    ]


def test_scale_refusals_name_the_item():
    with pytest.raises(ValidationError) as e:
        validate_answers("SWEMWBS", {"swemwbs_3": 6, "swemwbs_4": 2.5, "swemwbs_5": "sometimes"})
    assert e.value.fields == ["swemwbs_3", "swemwbs_4", "swemwbs_5"]
    assert e.value.errors[0].message == (
        "SWEMWBS item 3 (I've been feeling relaxed): '6' is not one of the answers (1, 2, 3, 4, 5)")
    with pytest.raises(ValidationError) as e:
        validate_answers("ONS4", {"ons4_anxious": 11, "ons4_happy": True})
    assert e.value.fields == ["ons4_happy", "ons4_anxious"]
    assert "ONS4 question 4 (Anxiety yesterday) must be between 0 and 10" in str(e.value)
    with pytest.raises(ValidationError) as e:
        validate_answers("SMOKING", {"smoking_status": "Q", "uses_ecig": "maybe"})
    assert e.value.fields == ["smoking_status", "uses_ecig"]
    with pytest.raises(ValidationError):
        score("ACTIVITY", {"activity_days": 8})


def test_other_instruments_keys_ignored_when_validating():
    validate_answers("ACTIVITY", {"activity_days": 3, "weight_kg": 1000})


def test_coded_answers_normalised():
    assert normalise_answers("SMOKING", {"smoking_status": 1, "uses_ecig": "n", "wants_stop_referral": "Yes"}) \
        == {"smoking_status": "1", "uses_ecig": "N", "wants_stop_referral": "Y"}
    assert normalise_answers("SMOKING", {"smoking_status": "z"}) == {"smoking_status": "Z"}
    assert normalise_answers("AUDITC", {"auditc_1": "2 - 4 times  per month"}) == {"auditc_1": 2}


def test_normalised_answers_score_the_same_again():
    # The store keeps typed answers and scores them (again) later: normalising is idempotent.
    row = {"weight_kg": "80.5", "height_cm": 172, "waist_cm": 90.0, "smoking_status": 1, "uses_ecig": "no",
           "auditc_1": "Never", **{f"swemwbs_{i}": "3" for i in range(1, 8)}}
    for code in instruments_in_answers(row):
        typed = normalise_answers(code, row)
        assert normalise_answers(code, typed) == typed
        assert score(code, typed) == score(code, row)


# --- ONS4 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,band", [(0, "low"), (4, "low"), (5, "medium"), (6, "medium"),
                                        (7, "high"), (8, "high"), (9, "very_high"), (10, "very_high")])
def test_ons4_positive_bands(value, band):
    s = score("ONS4", {"ons4_satisfied": value, "ons4_worthwhile": value, "ons4_happy": value})
    assert s.bands == {"ons4_satisfied": band, "ons4_worthwhile": band, "ons4_happy": band}


@pytest.mark.parametrize("value,band", [(0, "very_low"), (1, "very_low"), (2, "low"), (3, "low"),
                                        (4, "medium"), (5, "medium"), (6, "high"), (10, "high")])
def test_ons4_anxiety_bands(value, band):
    assert score("ONS4", {"ons4_anxious": value}).bands == {"ons4_anxious": band}


def test_ons4_never_summed_and_computable_with_one_answer():
    s = score("ONS4", {"ons4_happy": 7})
    assert s.computable and s.scores == {"ons4_satisfied": None, "ons4_worthwhile": None,
                                         "ons4_happy": 7, "ons4_anxious": None}
    s = score("ONS4", {})
    assert not s.computable and s.reason == "Not computable: no ONS4 question answered"
    assert INSTRUMENTS["ONS4"].main_score is None


# --- AUDIT-C -------------------------------------------------------------------------------

def test_auditc_never_rule():
    s = score("AUDITC", {"auditc_1": 0})                  # q2 and q3 left blank: still computable
    assert s.computable and s.scores["auditc"] == 0 and s.bands["auditc"] == "negative"
    assert is_result("AUDITC", {"auditc_1": "Never", "auditc_2": "", "auditc_3": None})
    s = score("AUDITC", {"auditc_1": 0, "auditc_2": 3, "auditc_3": 2})   # contradictions count 0
    assert s.scores["auditc"] == 0 and s.notes


def test_auditc_positive_at_five_and_missing():
    s = score("AUDITC", {"auditc_1": 2, "auditc_2": 2, "auditc_3": 0})
    assert s.scores["auditc"] == 4 and s.flags == () and s.bands["auditc"] == "negative"
    s = score("AUDITC", {"auditc_1": 2, "auditc_2": 2, "auditc_3": 1})
    assert s.scores["auditc"] == 5 and s.flags == ("auditc_positive",) and s.bands["auditc"] == "positive"
    s = score("AUDITC", {"auditc_1": 1, "auditc_3": 1})
    assert not s.computable and "AUDIT-C question 2" in s.reason
    assert auditc_positive_to_negative(5, 4) is True
    assert auditc_positive_to_negative(6, 5) is False
    assert auditc_positive_to_negative(4, 0) is None


# --- single items, smoking ---------------------------------------------------------------------

@pytest.mark.parametrize("days,band", [(0, "inactive"), (1, "inactive"), (2, "some_activity"),
                                       (4, "some_activity"), (5, "active"), (7, "active")])
def test_activity_bands(days, band):
    assert score("ACTIVITY", {"activity_days": days}).bands["activity_days"] == band


def test_fruitveg_five_a_day_and_fried_snacks():
    assert score("FRUITVEG", {"fruitveg_portions": 4}).bands["five_a_day"] == "not_met"
    s = score("FRUITVEG", {"fruitveg_portions": 5, "fried_snacks": 2})
    assert s.bands["five_a_day"] == "met" and s.scores["fried_snacks"] == 2 and s.computable
    s = score("FRUITVEG", {"fried_snacks": 2})
    assert not s.computable and "Portions of fruit and vegetables" in s.reason


def test_smoking_and_quit():
    s = score("SMOKING", {"smoking_status": "1", "cigarettes_per_day": 10, "wants_stop_referral": "Y"})
    assert s.computable and s.scores["smoking_status"] == "1" and s.flags == ("wants_stop_referral",)
    assert not score("SMOKING", {"cigarettes_per_day": 5}).computable
    assert score("SMOKING", {"smoking_status": "4", "cigarettes_per_day": 5}).notes
    assert quit("1", "2") is True
    assert quit("1", "1") is False and quit("1", "Z") is False
    assert quit("2", "2") is None and quit("4", "1") is None


def test_confidence():
    assert score("CONFIDENCE", {"confidence": 0}).scores["confidence"] == 0
    assert not is_result("CONFIDENCE", {})


# --- PHQ-9, GAD-7 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("total,band", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"),
                                        (10, "moderate"), (14, "moderate"), (15, "moderately_severe"),
                                        (19, "moderately_severe"), (20, "severe"), (27, "severe")])
def test_phq9_bands(total, band):
    answers = _answers_summing_to("phq9", 9, total, 0, 3)
    s = score("PHQ9", answers)
    assert s.scores["phq9"] == total and s.bands["phq9"] == band
    assert ("safeguarding" in s.flags) == (answers["phq9_9"] > 0)


def test_phq9_item9_flag_even_when_not_computable():
    answers = {f"phq9_{i}": 0 for i in range(1, 10)}
    assert score("PHQ9", answers).flags == ()
    answers["phq9_9"] = 1
    assert score("PHQ9", answers).flags == ("safeguarding",)
    s = score("PHQ9", {"phq9_9": "Several days"})
    assert not s.computable and s.flags == ("safeguarding",)


@pytest.mark.parametrize("total,band", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"),
                                        (10, "moderate"), (14, "moderate"), (15, "severe"), (21, "severe")])
def test_gad7_bands(total, band):
    s = score("GAD7", _answers_summing_to("gad7", 7, total, 0, 3))
    assert s.scores["gad7"] == total and s.bands["gad7"] == band


def test_gad7_missing():
    answers = _answers_summing_to("gad7", 7, 10, 0, 3)
    answers["gad7_4"] = None
    s = score("GAD7", answers)
    assert not s.computable and s.reason == "Not computable: GAD-7 item 4 (Trouble relaxing) not answered"


# --- improvement ---------------------------------------------------------------------------------

def test_improved_uses_direction():
    assert improved("weight_kg", 90, 89.9) is True
    assert improved("bmi", 30, 30) is False
    assert improved("ons4_anxious", 6, 4) is True
    assert improved("ons4_happy", 6, 4) is False
    assert improved("auditc", 6, 4) is True
    assert improved("swemwbs_metric", 19.25, 20.73) is True
    assert improved("confidence", 5, None) is None
    assert improved("smoking_status", "1", "2") is None
    assert improved("no_such_score", 1, 2) is None


def test_meaningful():
    assert meaningful("swemwbs_metric", 17.43, 20.43) is True          # exactly 3, float-safe
    assert meaningful("swemwbs_metric", 17.43, 20.42) is False
    assert meaningful("swemwbs_metric", 17.43, 19.43, threshold=2) is True
    assert meaningful("wemwbs", 40, 43) is True and meaningful("wemwbs", 40, 42) is False
    assert meaningful("weight_kg", 100, 95) is True and meaningful("weight_kg", 100, 95.1) is False
    assert meaningful("confidence", 1, 9) is None
    assert meaningful("wemwbs", None, 50) is None


def test_band_labels():
    assert band_label("obesity_1") == "Obesity I"
    assert band_label("adjusted").startswith("Lower thresholds")
    assert band_of(Decimal("0.5"), (Band("a", "A", Decimal("0.5"), True), Band("b", "B"))).code == "a"


# --- extensibility: a new instrument is data plus one function ---------------------------------------

@pytest.fixture
def registries():
    """Undo a registration afterwards, so other tests see the 11 instruments."""
    saved_instruments, saved_scorers = dict(INSTRUMENTS), dict(SCORERS)
    yield
    INSTRUMENTS.clear(); INSTRUMENTS.update(saved_instruments)
    SCORERS.clear(); SCORERS.update(saved_scorers)


def test_adding_an_instrument_is_data_plus_one_function(registries):
    toy = Instrument(                                   # 1. the data
        "SLEEP", "Toy sleep scale",
        (Item("sleep_1", "Hours slept", "integer", 0, 24, ref="SLEEP item 1"),
         Item("sleep_2", "Woke rested", "choice", options=((0, "No"), (1, "Yes")), ref="SLEEP item 2")),
        False, None, "sleep",
        (Score("sleep", "Sleep score", "", "up", 0),),
    )

    def score_sleep(inst, answers, ctx):                # 2. one scoring function
        total, reason = sum_scale(inst, answers)
        return build_scored(inst, {"sleep": total}, reason=reason)

    register_instrument(toy, score_sleep)
    assert list(INSTRUMENTS)[-1] == "SLEEP" and instrument_for_item("sleep_2") == "SLEEP"
    assert instruments_in_answers({"sleep_1": 7, "confidence": 3}) == ["CONFIDENCE", "SLEEP"]
    assert score("SLEEP", {"sleep_1": 7, "sleep_2": "yes"}).scores == {"sleep": 8}
    assert improved("sleep", 6, 8) is True
    s = score("SLEEP", {"sleep_1": 7})
    assert s.reason == "Not computable: SLEEP item 2 (Woke rested) not answered"
    with pytest.raises(ValidationError):
        score("SLEEP", {"sleep_1": 25})
    with pytest.raises(ValueError):
        register_instrument(toy, score_sleep)           # codes are unique


def test_registry_refuses_reused_keys(registries):
    clash = Instrument("CLASH", "Clash", (Item("confidence", "Again", "integer", 0, 10),), False, None,
                       "x", (Score("x", "X", "", "up", 0),))
    with pytest.raises(ValueError):
        register_instrument(clash, lambda inst, a, ctx: build_scored(inst, {}))
    assert "CLASH" not in INSTRUMENTS


def test_scored_is_frozen():
    s = score("CONFIDENCE", {"confidence": 5})
    assert isinstance(s, Scored)
    with pytest.raises(AttributeError):
        s.computable = False  # type: ignore[misc]
