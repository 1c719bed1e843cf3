"""Pairing for outcomes (INSTRUMENTS.md "Pairing for outcomes")."""
from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from db.instruments import (
    AssessmentPoint, Pair, ScoringContext, followup_pairs, is_result, pair_for, pairs_by_instrument,
    pairs_by_referral, score,
)

_ids = itertools.count(1)


def pt(timepoint, day, instrument="SWEMWBS", order=1, result=True, referral=1, **scores):
    return AssessmentPoint(next(_ids), referral, instrument, date(2026, 4, day), timepoint, order,
                           result, scores)


def test_baseline_and_exit():
    b = pt("BASELINE", 1, swemwbs_metric=17.43)
    e = pt("EXIT", 20, swemwbs_metric=21.54)
    pair = pair_for([e, pt("REVIEW", 10, swemwbs_metric=19.0), b], "SWEMWBS")
    assert pair == Pair("SWEMWBS", b, e, stood_in=False)
    assert pair.timepoint == "EXIT"
    b_val, e_val, change = pair.compare("swemwbs_metric")
    assert (b_val, e_val) == (17.43, 21.54) and change == pytest.approx(4.11)
    assert pair.improved("swemwbs_metric") is True and pair.meaningful("swemwbs_metric") is True


def test_review_stands_in_for_missing_exit():
    b = pt("BASELINE", 1)
    r1, r2 = pt("REVIEW", 5), pt("REVIEW", 12)
    pair = pair_for([b, r2, r1], "SWEMWBS")
    assert pair.baseline is b and pair.exit is r2 and pair.stood_in is True


def test_exit_wins_over_later_review():
    b, e, r = pt("BASELINE", 1), pt("EXIT", 10), pt("REVIEW", 20)
    pair = pair_for([b, e, r], "SWEMWBS")
    assert pair.exit is e and not pair.stood_in


def test_no_baseline_no_pair_and_baseline_alone_no_pair():
    assert pair_for([pt("EXIT", 10), pt("REVIEW", 5)], "SWEMWBS") is None
    assert pair_for([pt("BASELINE", 1), pt("FU3", 30)], "SWEMWBS") is None
    assert pair_for([], "SWEMWBS") is None


def test_earliest_baseline_latest_exit():
    b1, b2 = pt("BASELINE", 3), pt("BASELINE", 1)
    e1, e2 = pt("EXIT", 20), pt("EXIT", 25)
    pair = pair_for([b1, e1, b2, e2], "SWEMWBS")
    assert pair.baseline is b2 and pair.exit is e2


def test_same_date_broken_by_order_recorded():
    b_first, b_second = pt("BASELINE", 1, order=1), pt("BASELINE", 1, order=2)
    e_first, e_second = pt("EXIT", 9, order=1), pt("EXIT", 9, order=2)
    points = [b_second, e_first, b_first, e_second]
    shuffle = random.Random(0).shuffle
    for _ in range(5):          # whatever order the store returns them in
        shuffle(points)
        pair = pair_for(points, "SWEMWBS")
        assert pair.baseline is b_first and pair.exit is e_second


def test_non_results_ignored():
    b_bad = pt("BASELINE", 1, result=False)          # e.g. SWEMWBS with an item missing
    b_good = pt("BASELINE", 2)
    e_good = pt("EXIT", 20)
    e_bad = pt("EXIT", 25, result=False)
    pair = pair_for([b_bad, b_good, e_good, e_bad], "SWEMWBS")
    assert pair.baseline is b_good and pair.exit is e_good
    assert pair_for([b_bad, e_good], "SWEMWBS") is None
    # Non-result EXIT does not block a REVIEW result from standing in.
    pair = pair_for([b_good, e_bad, pt("REVIEW", 10)], "SWEMWBS")
    assert pair.stood_in


def test_is_result_feeds_points():
    incomplete = {f"swemwbs_{i}": 3 for i in range(1, 7)}
    point = pt("BASELINE", 1, result=is_result("SWEMWBS", incomplete))
    assert point.is_result is False and pair_for([point, pt("EXIT", 9)], "SWEMWBS") is None


def test_pairs_by_instrument_in_spec_order():
    points = [
        pt("BASELINE", 1, "SMOKING", smoking_status="1"), pt("EXIT", 20, "SMOKING", smoking_status="2"),
        pt("BASELINE", 1, "BODY", weight_kg=100.0, waist_cm=None), pt("REVIEW", 10, "BODY", weight_kg=95.0),
        pt("BASELINE", 1, "ONS4"),                               # no later result: no pair
        pt("EXIT", 20, "CONFIDENCE"),                            # no baseline: no pair
    ]
    pairs = pairs_by_instrument(points)
    assert list(pairs) == ["BODY", "SMOKING"]
    assert pairs["BODY"].stood_in and not pairs["SMOKING"].stood_in
    assert pairs["BODY"].compare("weight_kg") == (100.0, 95.0, -5.0)
    assert pairs["BODY"].meaningful("weight_kg") is True
    assert pairs["BODY"].compare("waist_cm") is None          # absent on a side: not compared
    assert pairs["SMOKING"].compare("smoking_status") == ("1", "2", None)


def test_compare_only_when_both_sides_have_the_score():
    b = pt("BASELINE", 1, "ONS4", ons4_happy=4, ons4_anxious=7, ons4_satisfied=None)
    e = pt("EXIT", 20, "ONS4", ons4_happy=7, ons4_satisfied=6)
    pair = pair_for([b, e], "ONS4")
    assert pair.compare("ons4_happy") == (4, 7, 3)
    assert pair.compare("ons4_anxious") is None
    assert pair.compare("ons4_satisfied") is None
    assert pair.improved("ons4_anxious") is None


def test_followup_pairs():
    b = pt("BASELINE", 1, "BODY", weight_kg=100.0)
    e = pt("EXIT", 10, "BODY", weight_kg=97.0)
    f3a, f3b = pt("FU3", 20, "BODY", weight_kg=96.0), pt("FU3", 25, "BODY", weight_kg=95.0)
    f6 = pt("FU6", 28, "BODY", weight_kg=99.0)
    points = [b, e, f3a, f3b, f6, pt("FU12", 29, "BODY", result=False)]
    fu3 = followup_pairs(points, "FU3")["BODY"]
    assert fu3.baseline is b and fu3.exit is f3b and not fu3.stood_in and fu3.timepoint == "FU3"
    assert fu3.compare("weight_kg") == (100.0, 95.0, -5.0)
    assert followup_pairs(points, "FU6")["BODY"].exit is f6
    assert followup_pairs(points, "FU12") == {}
    assert followup_pairs([f3a], "FU3") == {}                  # no baseline
    with pytest.raises(ValueError):
        followup_pairs(points, "EXIT")


def test_one_referral_at_a_time_and_grouping():
    a = [pt("BASELINE", 1, referral="R1"), pt("EXIT", 9, referral="R1")]
    b = [pt("BASELINE", 2, referral="R2")]
    with pytest.raises(ValueError):
        pair_for(a + b, "SWEMWBS")
    grouped = pairs_by_referral(a + b)
    assert list(grouped["R1"]) == ["SWEMWBS"] and grouped["R2"] == {}


def test_iso_text_dates_work_too():
    b = AssessmentPoint(1, 1, "CONFIDENCE", "2026-04-01", "BASELINE", 1, True, {"confidence": 4})
    e = AssessmentPoint(2, 1, "CONFIDENCE", "2026-05-01", "EXIT", 1, True, {"confidence": 8})
    assert pair_for([e, b], "CONFIDENCE").compare("confidence") == (4, 8, 4)


def test_pair_from_scored_assessments_end_to_end():
    # Carried height: BMI at exit uses the baseline height when not re-measured.
    base = score("BODY", {"weight_kg": 100, "height_cm": 200})
    exit_ = score("BODY", {"weight_kg": 95}, None)
    assert exit_.scores["bmi"] is None
    exit_ = score("BODY", {"weight_kg": 95}, ScoringContext(carried_height_cm=base.scores["height_cm"]))
    points = [AssessmentPoint(1, 7, "BODY", date(2026, 4, 1), "BASELINE", 1, base.computable, base.scores),
              AssessmentPoint(2, 7, "BODY", date(2026, 7, 1), "EXIT", 1, exit_.computable, exit_.scores)]
    pair = pair_for(points, "BODY")
    assert pair.compare("bmi") == (25.0, 23.75, -1.25)
    assert pair.improved("bmi") is True and pair.meaningful("weight_kg") is True


def test_pairs_from_rows_are_the_pairs_of_the_points():
    """pairs_by_referral_rows (the return's and the dashboard's pairing from plain rows, making a point
    only of those paired) gives exactly pairs_by_referral's pairs: results only, the earliest baseline
    and the latest exit, a review standing in, same-day ties by the order recorded (the id), every
    instrument in the spec's order, and only referrals with a pair."""
    from db.instruments import pairs_by_referral_rows
    rng = random.Random(13)
    ids = rng.sample(range(1, 10_000), 3_000)         # the id is the order recorded, in no particular order
    rows = []
    for i in ids:
        rows.append((i, rng.randint(1, 300), rng.choice(["SWEMWBS", "BODY", "SMOKING", "ONS4"]),
                     f"2026-0{rng.randint(4, 6)}-1{rng.randint(0, 3)}",
                     rng.choice(["BASELINE", "BASELINE", "REVIEW", "EXIT", "EXIT", "FU3"]),
                     rng.random() < 0.9, rng.randint(10, 30)))

    def point(row):
        return AssessmentPoint(row[0], row[1], row[2], row[3], row[4], row[0], row[5], {"score": row[6]})
    expected = {ref: pairs for ref, pairs in pairs_by_referral([point(r) for r in rows]).items() if pairs}
    got = pairs_by_referral_rows(rows, point)
    assert got == expected
    assert [list(p) for p in got.values()] == [list(p) for p in (expected[ref] for ref in got)]   # the same order
    stood_in = [p for pairs in got.values() for p in pairs.values() if p.stood_in]
    assert stood_in and len(got) > 200 and any(len(p) > 2 for p in got.values())
