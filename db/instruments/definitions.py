"""Every instrument of INSTRUMENTS.md as data: items, answer options, scores and
band scales. Wording is copied from the spec (and, for WEMWBS, PHQ-9 and GAD-7,
from the published scales, which must not be altered)."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Mapping

from .model import Band, Instrument, Item, Score

# --- answer options -----------------------------------------------------------

WELLBEING_OPTIONS = ((1, "None of the time"), (2, "Rarely"), (3, "Some of the time"),
                     (4, "Often"), (5, "All of the time"))
PHQ_OPTIONS = ((0, "Not at all"), (1, "Several days"), (2, "More than half the days"),
               (3, "Nearly every day"))
YES_NO = (("Y", "Yes"), ("N", "No"))
SMOKING_STATUS_OPTIONS = (("1", "Current smoker"), ("2", "Ex-smoker"),
                          ("3", "Non-smoker, history unknown"), ("4", "Never smoked"),
                          ("Z", "Not stated"), ("9", "Not known"))
CURRENT_SMOKER, EX_SMOKER = "1", "2"

# --- band scales (edges as the spec words them; see model.Band) ----------------

BMI_STANDARD = (
    Band("underweight", "Underweight", D("18.5")),
    Band("healthy_weight", "Healthy weight", D("25")),
    Band("overweight", "Overweight", D("30")),
    Band("obesity_1", "Obesity I", D("35")),
    Band("obesity_2", "Obesity II", D("40")),
    Band("obesity_3", "Obesity III"),
)
# NICE: overweight from 23, obesity from 27.5 for these family backgrounds; the
# spec gives only those two, and NICE (CG189/NG246) lowers obesity II and III by
# the same 2.5, so the classes stay comparable with the standard set.
BMI_ADJUSTED = (
    Band("underweight", "Underweight", D("18.5")),
    Band("healthy_weight", "Healthy weight", D("23")),
    Band("overweight", "Overweight", D("27.5")),
    Band("obesity_1", "Obesity I", D("32.5")),
    Band("obesity_2", "Obesity II", D("37.5")),
    Band("obesity_3", "Obesity III"),
)
# Ethnic categories that always take the adjusted set; "S" (any other ethnic
# group) only when the trainer marks it, as S mixes backgrounds.
ADJUSTED_BMI_ETHNICITIES = frozenset("HJKLMNPR")
ADJUSTED_BMI_ON_OVERRIDE = frozenset("S")

# "94–102 high, over 102 very high": 102 itself is high (inclusive edge).
WAIST_MALE = (Band("low", "Low", D(94)), Band("high", "High", D(102), True),
              Band("very_high", "Very high"))
WAIST_FEMALE = (Band("low", "Low", D(80)), Band("high", "High", D(88), True),
                Band("very_high", "Very high"))
WHTR = (Band("healthy", "Healthy", D("0.5")), Band("increased", "Increased", D("0.6")),
        Band("high", "High"))

ONS4_POSITIVE = (Band("low", "Low", D(4), True), Band("medium", "Medium", D(6), True),
                 Band("high", "High", D(8), True), Band("very_high", "Very high"))
ONS4_ANXIETY = (Band("very_low", "Very low", D(1), True), Band("low", "Low", D(3), True),
                Band("medium", "Medium", D(5), True), Band("high", "High"))
AUDITC_BANDS = (Band("negative", "Lower risk", D(5)),
                Band("positive", "Increasing or higher risk (positive)"))
ACTIVITY_BANDS = (Band("inactive", "Inactive", D(1), True),
                  Band("some_activity", "Some activity", D(4), True),
                  Band("active", "Active"))
FIVE_A_DAY = (Band("not_met", "5 a day not met", D(5)), Band("met", "5 a day met"))
PHQ9_BANDS = (Band("minimal", "Minimal", D(4), True), Band("mild", "Mild", D(9), True),
              Band("moderate", "Moderate", D(14), True),
              Band("moderately_severe", "Moderately severe", D(19), True),
              Band("severe", "Severe"))
GAD7_BANDS = (Band("minimal", "Minimal", D(4), True), Band("mild", "Mild", D(9), True),
              Band("moderate", "Moderate", D(14), True), Band("severe", "Severe"))

SWEMWBS_METRIC: Mapping[int, D] = {  # Stewart-Brown et al. 2009 (Rasch), raw -> metric
    7: D("7.00"), 8: D("9.51"), 9: D("11.25"), 10: D("12.40"), 11: D("13.33"),
    12: D("14.08"), 13: D("14.75"), 14: D("15.32"), 15: D("15.84"), 16: D("16.36"),
    17: D("16.88"), 18: D("17.43"), 19: D("17.98"), 20: D("18.59"), 21: D("19.25"),
    22: D("19.98"), 23: D("20.73"), 24: D("21.54"), 25: D("22.35"), 26: D("23.21"),
    27: D("24.11"), 28: D("25.03"), 29: D("26.02"), 30: D("27.03"), 31: D("28.13"),
    32: D("29.31"), 33: D("30.70"), 34: D("32.55"), 35: D("35.00"),
}


def _numbered(prefix: str, ref: str, labels: list[str], options, lo, hi) -> tuple[Item, ...]:
    """Items of a sum-scored scale: key prefix_1.., all required for the score."""
    return tuple(Item(f"{prefix}_{n}", label, "choice", lo, hi, options, True, 0, ref=f"{ref} item {n}")
                 for n, label in enumerate(labels, 1))


WARWICK_STEM = ("Below are some statements about feelings and thoughts. Please tick the box "
                "that best describes your experience of each over the last 2 weeks.")
PHQ_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
WARWICK_OWNERS = "NHS Health Scotland, University of Warwick and University of Edinburgh"
PHQ_NOTICE = ("Developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
              "with an educational grant from Pfizer Inc. No permission required to reproduce, "
              "translate, display or distribute.")

# --- the instruments, in the spec's order (reports list them in this order) ----

BODY = Instrument(
    "BODY", "Body measurements",
    (
        Item("weight_kg", "Weight (kg)", "decimal", 25, 350, decimals=1),
        # Height and waist are often measured to the half centimetre; the spec
        # fixes only weight's precision, so one decimal is accepted here too.
        Item("height_cm", "Height (cm)", "decimal", 100, 250, required_for_score=False, decimals=1),
        Item("waist_cm", "Waist (cm)", "decimal", 40, 200, required_for_score=False, decimals=1),
        Item("bp_systolic", "Blood pressure, systolic (mmHg)", "integer", 50, 300, required_for_score=False),
        Item("bp_diastolic", "Blood pressure, diastolic (mmHg)", "integer", 50, 300, required_for_score=False),
    ),
    True, None, "weight_kg",
    (
        Score("weight_kg", "Weight", "kg", "down", 1),
        Score("height_cm", "Height", "cm", None, 1),
        Score("bmi", "BMI", "kg/m²", "down", 1),
        Score("waist_cm", "Waist", "cm", "down", 1),
        Score("whtr", "Waist-to-height ratio", "", "down", 2),
        Score("bp_systolic", "Blood pressure, systolic", "mmHg", None, 0),
        Score("bp_diastolic", "Blood pressure, diastolic", "mmHg", None, 0),
    ),
)

SWEMWBS = Instrument(
    "SWEMWBS", "Short Warwick-Edinburgh Mental Wellbeing Scale",
    _numbered("swemwbs", "SWEMWBS", [
        "I've been feeling optimistic about the future",
        "I've been feeling useful",
        "I've been feeling relaxed",
        "I've been dealing with problems well",
        "I've been thinking clearly",
        "I've been feeling close to other people",
        "I've been able to make up my own mind about things",
    ], WELLBEING_OPTIONS, 1, 5),
    True,
    f"SWEMWBS © {WARWICK_OWNERS}, 2008, all rights reserved.",
    "swemwbs_metric",
    (Score("swemwbs_metric", "SWEMWBS (metric)", "", "up", 2),
     Score("swemwbs_raw", "SWEMWBS (raw)", "", "up", 0)),
    WARWICK_STEM,
)

WEMWBS = Instrument(
    "WEMWBS", "Warwick-Edinburgh Mental Wellbeing Scale (14 items)",
    _numbered("wemwbs", "WEMWBS", [
        "I've been feeling optimistic about the future",
        "I've been feeling useful",
        "I've been feeling relaxed",
        "I've been feeling interested in other people",
        "I've had energy to spare",          # the published wording (not "I've been")
        "I've been dealing with problems well",
        "I've been thinking clearly",
        "I've been feeling good about myself",
        "I've been feeling close to other people",
        "I've been feeling confident",
        "I've been able to make up my own mind about things",
        "I've been feeling loved",
        "I've been interested in new things",
        "I've been feeling cheerful",
    ], WELLBEING_OPTIONS, 1, 5),
    False,
    # The licence holders' statement for the 14-item scale is dated 2006.
    f"WEMWBS © {WARWICK_OWNERS}, 2006, all rights reserved.",
    "wemwbs",
    (Score("wemwbs", "WEMWBS", "", "up", 0),),
    WARWICK_STEM,
)

_ZERO_TEN = "0 = not at all, 10 = completely"
ONS4 = Instrument(
    "ONS4", "ONS personal wellbeing (ONS4)",
    (
        Item("ons4_satisfied", "Life satisfaction", "integer", 0, 10, required_for_score=False,
             ref="ONS4 question 1", hint=_ZERO_TEN,
             question="Overall, how satisfied are you with your life nowadays?"),
        Item("ons4_worthwhile", "Things I do are worthwhile", "integer", 0, 10, required_for_score=False,
             ref="ONS4 question 2", hint=_ZERO_TEN,
             question="Overall, to what extent do you feel that the things you do in your life are worthwhile?"),
        Item("ons4_happy", "Happiness yesterday", "integer", 0, 10, required_for_score=False,
             ref="ONS4 question 3", hint=_ZERO_TEN,
             question="Overall, how happy did you feel yesterday?"),
        Item("ons4_anxious", "Anxiety yesterday", "integer", 0, 10, required_for_score=False,
             ref="ONS4 question 4", hint="0 = not at all anxious, 10 = completely anxious",
             question="On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', "
                      "overall, how anxious did you feel yesterday?"),
    ),
    True, None,
    None,   # four separate answers, never summed: no single main score
    (Score("ons4_satisfied", "Life satisfaction", "", "up", 0),
     Score("ons4_worthwhile", "Worthwhile", "", "up", 0),
     Score("ons4_happy", "Happiness", "", "up", 0),
     Score("ons4_anxious", "Anxiety", "", "down", 0)),
)

AUDITC = Instrument(
    "AUDITC", "AUDIT-C alcohol screen (UK units)",
    (
        Item("auditc_1", "How often do you have a drink containing alcohol?", "choice", 0, 4,
             ((0, "Never"), (1, "Monthly or less"), (2, "2–4 times per month"),
              (3, "2–3 times per week"), (4, "4 or more times per week")), ref="AUDIT-C question 1"),
        Item("auditc_2", "How many units of alcohol do you drink on a typical day when you are drinking?",
             "choice", 0, 4, ((0, "1–2"), (1, "3–4"), (2, "5–6"), (3, "7–9"), (4, "10 or more")),
             ref="AUDIT-C question 2"),
        Item("auditc_3", "How often have you had 6 or more units if female, or 8 or more if male, "
             "on a single occasion in the last year?", "choice", 0, 4,
             ((0, "Never"), (1, "Less than monthly"), (2, "Monthly"), (3, "Weekly"),
              (4, "Daily or almost daily")), ref="AUDIT-C question 3"),
    ),
    True, None, "auditc",
    (Score("auditc", "AUDIT-C", "", "down", 0),),
)

ACTIVITY = Instrument(
    "ACTIVITY", "Physical activity (single item)",
    (Item("activity_days", "Days active in the past week", "integer", 0, 7,
          question="In the past week, on how many days have you done a total of 30 minutes or more "
                   "of physical activity, which was enough to raise your breathing rate? This may "
                   "include sport, exercise and brisk walking or cycling for recreation or to get to "
                   "and from places, but should not include housework or physical activity that may "
                   "be part of your job."),),
    True, None, "activity_days",
    (Score("activity_days", "Active days", "days", "up", 0),),
)

FRUITVEG = Instrument(
    "FRUITVEG", "Fruit and vegetables",
    (
        Item("fruitveg_portions", "Portions of fruit and vegetables yesterday", "integer", 0, 15,
             question="Yesterday, how many portions of fruit and vegetables did you eat?",
             hint="A portion is 80 g; juice counts once a day; potatoes do not count."),
        Item("fried_snacks", "Fried food or high-fat snacks yesterday", "integer", 0, 15,
             required_for_score=False,
             question="How many times yesterday did you eat fried food or high-fat snacks?"),
    ),
    True, None, "fruitveg_portions",
    (Score("fruitveg_portions", "Fruit and vegetables", "portions", "up", 0),
     Score("fried_snacks", "Fried food or high-fat snacks", "times", "down", 0)),
)

SMOKING = Instrument(
    "SMOKING", "Smoking status",
    (
        Item("smoking_status", "Smoking status", "choice", options=SMOKING_STATUS_OPTIONS),
        Item("cigarettes_per_day", "Cigarettes per day", "integer", 0, 100, required_for_score=False),
        Item("uses_ecig", "Uses e-cigarettes", "choice", options=YES_NO, required_for_score=False),
        Item("wants_stop_referral", "Wants a referral to stop smoking services", "choice",
             options=YES_NO, required_for_score=False),
    ),
    True, None, "smoking_status",
    (Score("smoking_status", "Smoking status", "", None, 0),
     Score("cigarettes_per_day", "Cigarettes per day", "per day", "down", 0)),
)

CONFIDENCE = Instrument(
    "CONFIDENCE", "Confidence to change",
    (Item("confidence", "Confidence to make the changes", "integer", 0, 10, hint=_ZERO_TEN,
          question="How confident are you that you can make the changes in your plan?"),),
    True, None, "confidence",
    (Score("confidence", "Confidence", "", "up", 0),),
)

PHQ9 = Instrument(
    "PHQ9", "Patient Health Questionnaire (PHQ-9)",
    _numbered("phq9", "PHQ-9", [
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed, or the opposite: "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
    ], PHQ_OPTIONS, 0, 3),
    False, PHQ_NOTICE, "phq9",
    (Score("phq9", "PHQ-9", "", "down", 0),),
    PHQ_STEM,
)

GAD7 = Instrument(
    "GAD7", "Generalised Anxiety Disorder scale (GAD-7)",
    _numbered("gad7", "GAD-7", [
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ], PHQ_OPTIONS, 0, 3),
    False, PHQ_NOTICE, "gad7",
    (Score("gad7", "GAD-7", "", "down", 0),),
    PHQ_STEM,
)

# Insertion order is the spec's order: reports iterate this dict.
INSTRUMENTS: dict[str, Instrument] = {
    i.code: i for i in (BODY, SWEMWBS, WEMWBS, ONS4, AUDITC, ACTIVITY, FRUITVEG, SMOKING,
                        CONFIDENCE, PHQ9, GAD7)
}

# The return's outcome scores (RETURN.md OUTCOME_MEAN_*), in its order.
OUTCOME_SCORE_KEYS = ("weight_kg", "bmi", "waist_cm", "swemwbs_metric", "wemwbs", "ons4_satisfied",
                      "ons4_worthwhile", "ons4_happy", "ons4_anxious", "auditc", "activity_days",
                      "fruitveg_portions", "confidence")
MEANINGFUL_SCORE_KEYS = ("weight_kg", "swemwbs_metric", "wemwbs")

_ALL_SCALES = (BMI_STANDARD, BMI_ADJUSTED, WAIST_MALE, WAIST_FEMALE, WHTR, ONS4_POSITIVE,
               ONS4_ANXIETY, AUDITC_BANDS, ACTIVITY_BANDS, FIVE_A_DAY, PHQ9_BANDS, GAD7_BANDS)
BAND_LABELS: dict[str, str] = {"standard": "Standard thresholds",
                               "adjusted": "Lower thresholds (family background)"}
for _scale in _ALL_SCALES:
    for _band in _scale:
        # One code, one label everywhere, so a stored band code needs no scale to show.
        assert BAND_LABELS.setdefault(_band.code, _band.label) == _band.label, _band.code


def band_label(code: str) -> str:
    """What people see for a band code stored in Scored.bands."""
    return BAND_LABELS.get(code, code)


# --- look-ups (scan INSTRUMENTS each time: tiny, and registration stays trivial) ---

def instrument_for_item(key: str) -> str | None:
    """Code of the instrument an answer key belongs to; None for an unknown key."""
    for inst in INSTRUMENTS.values():
        if key in inst.item_keys:
            return inst.code
    return None


def find_item(key: str) -> Item | None:
    code = instrument_for_item(key)
    return INSTRUMENTS[code].item(key) if code else None


def score_definition(key: str) -> Score | None:
    """The Score (label, unit, direction) for a score key, whichever instrument has it."""
    for inst in INSTRUMENTS.values():
        for s in inst.scores:
            if s.key == key:
                return s
    return None


def is_blank(value: object) -> bool:
    """Blank = not asked: None or empty text. 0 is an answer."""
    return value is None or (isinstance(value, str) and not value.strip())


def instruments_in_answers(answers: Mapping[str, object]) -> list[str]:
    """Codes (spec order) of instruments with at least one non-blank answer in a row."""
    return [inst.code for inst in INSTRUMENTS.values()
            if any(not is_blank(answers.get(k)) for k in inst.item_keys)]
