"""Assessments recorded through the store: scored by the app, flags kept, pairs and series read back."""
from datetime import date

import pytest

from db.errors import ValidationError

TODAY = date(2026, 11, 1)


@pytest.fixture
def referral(case_store):
    client_id = case_store.clients.add({"first_name": "Aisha", "last_name": "Khan", "date_of_birth": "1975-05-05",
                                       "gender": "2", "ethnicity": "J"}, today=TODAY).ids[0]
    return case_store.referrals.add(client_id, {"received_date": "2026-06-01", "source": "GP"}, today=TODAY).ids[0]


def test_scores_are_computed_and_stored(case_store, referral):
    _, a = case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SWEMWBS",
                                     {f"swemwbs_{i}": 3 for i in range(1, 8)}, today=TODAY)
    assert (a.scores["swemwbs_raw"], a.scores["swemwbs_metric"], a.is_result) == (21, 19.25, True)
    _, body = case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY",
                                        {"weight_kg": 69.0, "height_cm": 170}, today=TODAY)
    # Pakistani family background (J): NICE's lower thresholds, so BMI 23.9 is overweight.
    assert body.bands["bmi_thresholds"] == "adjusted" and body.bands["bmi"] == "overweight"


def test_height_carries_forward_from_an_earlier_assessment(case_store, referral):
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY", {"weight_kg": 80, "height_cm": 200}, today=TODAY)
    _, later = case_store.assessments.add(referral, "2026-09-10", "EXIT", "BODY", {"weight_kg": 76}, today=TODAY)
    assert later.scores["bmi"] == pytest.approx(19.0)


def test_missing_answer_is_not_computable_with_the_reason_stored(case_store, referral):
    answers = {f"swemwbs_{i}": 4 for i in range(1, 7)}
    _, a = case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SWEMWBS", answers, today=TODAY)
    assert not a.is_result and a.scores["swemwbs_metric"] is None
    assert "item 7" in a.not_computable_reason


def test_out_of_range_answer_is_refused_naming_the_item(case_store, referral):
    before = case_store.admin.counts()
    with pytest.raises(ValidationError) as exc:
        case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SWEMWBS", {"swemwbs_1": 9}, today=TODAY)
    assert "optimistic" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        case_store.assessments.add(referral, "2027-01-01", "BASELINE", "ACTIVITY", {"activity_days": 3}, today=TODAY)
    assert exc.value.fields == ["assessed_date"]
    assert case_store.admin.counts() == before


def test_phq9_item_9_records_a_safeguarding_flag_shown_on_the_timeline(case_store, referral):
    answers = {f"phq9_{i}": 0 for i in range(1, 9)} | {"phq9_9": 1}
    _, a = case_store.assessments.add(referral, "2026-06-10", "BASELINE", "PHQ9", answers, today=TODAY)
    assert "safeguarding" in a.flags
    record = case_store.clients.record(a.client_id)
    assert any("SAFEGUARDING" in e.summary for e in record.timeline)
    assert "999" in case_store.service.safeguarding_steps()
    event = case_store.admin.audit_events("assessment", a.id)[0]
    assert "safeguarding" in event["after"]


def test_pairs_and_series_through_the_store(case_store, referral):
    w = lambda v: {"weight_kg": v, "height_cm": 170}
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY", w(90), today=TODAY)
    case_store.assessments.add(referral, "2026-07-10", "REVIEW", "BODY", w(88), today=TODAY)
    case_store.assessments.add(referral, "2026-08-10", "REVIEW", "BODY", w(86), today=TODAY)
    pairs = case_store.assessments.outcome_pairs(referral)
    assert pairs["BODY"].stood_in and pairs["BODY"].compare("weight_kg")[:2] == (90.0, 86.0)
    case_store.assessments.add(referral, "2026-09-10", "EXIT", "BODY", w(85.5), today=TODAY)
    pair = case_store.assessments.outcome_pairs(referral)["BODY"]
    assert not pair.stood_in and pair.meaningful("weight_kg")          # 4.5 kg is exactly 5% of 90
    client_id = case_store.referrals.get(referral).client_id
    assert [a.scores["weight_kg"] for a in case_store.assessments.series(client_id, "BODY")] == [90, 88, 86, 85.5]


def test_instruments_switch_on_and_off_per_service(case_store):
    assert case_store.service.enabled_instruments() == ["BODY", "SWEMWBS", "ONS4", "AUDITC", "ACTIVITY", "FRUITVEG",
                                                "SMOKING", "CONFIDENCE"]
    case_store.service.set_enabled_instruments(["PHQ9", "BODY", "GAD7"])
    assert case_store.service.enabled_instruments() == ["BODY", "PHQ9", "GAD7"]
    with pytest.raises(ValidationError):
        case_store.service.set_enabled_instruments(["NOPE"])


def test_points_read_only_the_scores_asked_for_exactly_as_the_whole_json(case_store, referral):
    """The dashboard reads only the scores it counts (SQLite's -> on the scores JSON); each value must
    be what json.loads gives for the whole JSON: the same type and the same float."""
    from db import assessments
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY", {"weight_kg": 72.3, "height_cm": 163.5},
                               today=TODAY)
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SWEMWBS", {f"swemwbs_{i}": 3 for i in range(1, 8)},
                               today=TODAY)
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SMOKING", {"smoking_status": "1"},
                               today=TODAY)
    keys = {"weight_kg", "bmi", "swemwbs_raw", "swemwbs_metric", "smoking_status", "bp_systolic"}
    whole = assessments.points(case_store.db, [referral])
    some = assessments.points(case_store.db, [referral], score_keys=keys)
    assert [p.id for p in whole] == [p.id for p in some]
    for w, s in zip(whole, some):
        expected = {k: v for k, v in w.scores.items() if k in keys}
        assert s.scores == expected and [type(v) for v in s.scores.values()] == [type(v) for v in expected.values()]
    assert any("bp_systolic" in p.scores and p.scores["bp_systolic"] is None for p in some)   # a JSON null
    assert {"weight_kg", "bmi", "swemwbs_raw", "smoking_status"} <= {k for p in some for k in p.scores}
    assert all(set(p.scores) <= keys for p in some)
