"""Plan versions, goal reviews, signposting outcomes and follow-up, the directory, and the PHQ-9 item 9
acknowledgement, through the store (issue 12, schema step 0007)."""
from datetime import date

import pytest

from db.errors import ConflictError, PermissionDenied, ValidationError
from db.store import CaseStore

TODAY = date(2026, 11, 1)


@pytest.fixture
def referral(case_store):
    case_store.sign_in("coord", "amber-kettle-42")
    client_id = case_store.clients.add({"first_name": "Siobhán", "last_name": "Nguyễn", "date_of_birth": "1975-05-05",
                                       "gender": "2", "ethnicity": "A"}, today=TODAY).ids[0]
    referral_id = case_store.referrals.add(client_id, {"received_date": "2026-06-01", "source": "GP"},
                                           today=TODAY).ids[0]
    case_store.referrals.allocate(referral_id, case_store.staff_ids["trainer"])
    case_store.sign_in("trainer", "amber-kettle-42")
    return referral_id


def _plan(store, referral_id):
    store.plans.add(referral_id, {"agreed_date": "2026-06-10", "what_matters": "Keeping my flat warm"},
                    goals=[{"area": "MONEY", "goal_text": "Get my gas debt onto a payment plan",
                            "review_date": "2026-07-10", "status": "INPROGRESS"},
                           {"area": "ACTIVITY", "goal_text": "Walk to the market on Saturdays"}], today=TODAY)
    client_id = store.referrals.get(referral_id).client_id
    return store.plans.current(client_id)


def test_each_agreed_version_is_kept_with_its_date(case_store, referral):
    plan = _plan(case_store, referral)
    versions = case_store.plans.versions(plan.id)
    assert [(v.version, v.agreed_date) for v in versions] == [(1, "2026-06-10")]
    assert [g["goal_text"] for g in versions[0].goals] == ["Get my gas debt onto a payment plan",
                                                           "Walk to the market on Saturdays"]
    case_store.plans.add_goal(plan.id, {"area": "SOCIAL", "goal_text": "Go to the Tuesday lunch club"}, today=TODAY)
    case_store.plans.agree(plan.id, {"agreed_date": "2026-08-01", "what_matters": "Warm flat, fewer worries"},
                           expected_version=plan.row_version, today=TODAY)
    versions = case_store.plans.versions(plan.id)
    assert [(v.version, v.agreed_date, len(v.goals)) for v in versions] == [(2, "2026-08-01", 3), (1, "2026-06-10", 2)]
    assert versions[1].what_matters == "Keeping my flat warm" and versions[0].what_matters == "Warm flat, fewer worries"
    # The first version is unchanged by later edits; a stale version number is a conflict.
    with pytest.raises(ConflictError):
        case_store.plans.agree(plan.id, {"agreed_date": "2026-09-01"}, expected_version=plan.row_version, today=TODAY)
    with pytest.raises(ValidationError) as exc:
        case_store.plans.agree(plan.id, {"agreed_date": "2026-07-01"}, expected_version=plan.row_version + 1,
                               today=TODAY)
    assert exc.value.fields == ["agreed_date"]


def test_reviewing_a_goal_keeps_the_review_and_sets_the_goal(case_store, referral):
    plan = _plan(case_store, referral)
    money, walk = plan.goals
    case_store.plans.review_goal(money.id, {"review_date": "2026-07-10", "outcome": "FULL",
                                            "note": "Payment plan agreed with the supplier"},
                                 expected_version=money.row_version, today=TODAY)
    case_store.plans.review_goal(walk.id, {"review_date": "2026-07-10", "outcome": "CHANGED",
                                           "goal_text": "Walk to the market and back twice a week",
                                           "next_review_date": "2026-09-01"},
                                 expected_version=walk.row_version, today=TODAY)
    plan = case_store.plans.get(plan.id)
    money, walk = plan.goals
    assert (money.status, money.status_date) == ("FULL", "2026-07-10")
    assert (walk.status, walk.goal_text, walk.review_date) == ("INPROGRESS", "Walk to the market and back twice a week",
                                                               "2026-09-01")
    reviews = case_store.plans.reviews(plan.id)
    assert {(r.goal_id, r.outcome, r.review_date) for r in reviews} == {(money.id, "FULL", "2026-07-10"),
                                                                        (walk.id, "CHANGED", "2026-07-10")}
    assert next(r for r in reviews if r.outcome == "CHANGED").previous_text == "Walk to the market on Saturdays"
    with pytest.raises(ValidationError) as exc:
        case_store.plans.review_goal(walk.id, {"review_date": "2026-12-01", "outcome": "PARTLY"},
                                     expected_version=walk.row_version, today=TODAY)
    assert exc.value.fields == ["review_date"]       # a review is not in the future
    with pytest.raises(ValidationError) as exc:
        case_store.plans.review_goal(walk.id, {"review_date": "2026-08-01", "outcome": "CHANGED"},
                                     expected_version=walk.row_version, today=TODAY)
    assert exc.value.fields == ["goal_text"]
    case_store.sign_in("admin", "amber-kettle-42")
    assert any("Goal reviewed 2026-07-10: Achieved" in (e["detail"] or "")
               for e in case_store.admin.audit_events("goal", money.id))


def test_signposting_outcome_and_the_follow_up_list(case_store, referral):
    case_store.sign_in("coord", "amber-kettle-42")
    debt = case_store.signposting.add_directory_entry("Citizens Advice Gateshead", "DEBT", phone="0808 278 7842")
    case_store.sign_in("trainer", "amber-kettle-42")
    case_store.signposting.add(referral, {"signpost_date": "2026-06-10", "category": "DEBT", "type": "referred",
                                          "directory_id": debt, "follow_up_date": "2026-07-01"}, today=TODAY)
    case_store.signposting.add(referral, {"signpost_date": "2026-06-12", "category": "FOOD", "type": "signposted",
                                          "destination": "Saltwell food bank"}, today=TODAY)
    items = case_store.signposting.follow_up()
    assert [(i.where, i.follow_up_date) for i in items] == [("Citizens Advice Gateshead", "2026-07-01"),
                                                            ("Saltwell food bank", None)]
    assert [i.where for i in case_store.signposting.follow_up(mine=True)] == [i.where for i in items]
    first = case_store.signposting.for_client(items[0].client_id)[-1]
    case_store.signposting.record_outcome(first.id, {"outcome": "attended", "outcome_date": "2026-07-02"},
                                          expected_version=first.row_version, today=TODAY)
    assert [i.where for i in case_store.signposting.follow_up()] == ["Saltwell food bank"]
    kept = case_store.signposting.for_client(items[0].client_id)[-1]
    assert (kept.outcome, kept.outcome_date) == ("attended", "2026-07-02")
    with pytest.raises(ValidationError) as exc:
        case_store.signposting.record_outcome(kept.id, {"outcome": "not_attended"},
                                              expected_version=kept.row_version, today=TODAY)
    assert exc.value.fields == ["outcome_date"]
    # Another trainer's follow-up list holds none of this client's.
    case_store.sign_in("trainer2", "amber-kettle-42")
    assert case_store.signposting.follow_up(mine=True) == []
    case_store.sign_in("champion", "amber-kettle-42")
    assert case_store.signposting.follow_up() == []


def test_directory_is_searchable_and_only_coordinators_and_managers_edit_it(case_store):
    case_store.sign_in("coord", "amber-kettle-42")
    entry = case_store.signposting.add_directory_entry("Gateshead Housing Advice", "HOUSINGSVC",
                                                       notes="Drop-in Thursdays")
    case_store.signposting.add_directory_entry("Walking for Health", "EXERCISE")
    assert [e.name for e in case_store.signposting.find_in_directory("housing thursdays")] == ["Gateshead Housing Advice"]
    assert [e.name for e in case_store.signposting.find_in_directory(category="EXERCISE")] == ["Walking for Health"]
    case_store.sign_in("manager", "amber-kettle-42")
    case_store.signposting.update_directory_entry(entry, {"phone": "0191 433 3000"}, expected_version=1)
    assert case_store.signposting.find_in_directory("housing")[0].phone == "0191 433 3000"
    with pytest.raises(ConflictError):
        case_store.signposting.update_directory_entry(entry, {"phone": "0"}, expected_version=1)
    with pytest.raises(ValidationError) as exc:
        case_store.signposting.update_directory_entry(entry, {"name": " "}, expected_version=2)
    assert exc.value.fields == ["name"]
    for user in ("trainer", "champion"):
        case_store.sign_in(user, "amber-kettle-42")
        assert case_store.may("manage_directory") is False
        with pytest.raises(PermissionDenied):
            case_store.signposting.update_directory_entry(entry, {"phone": "1"}, expected_version=2)


def test_phq9_item_9_acknowledgement_is_kept_and_audited(case_store, referral):
    steps = case_store.service.safeguarding_steps()
    prompt = case_store.assessments.acknowledge_safeguarding(referral, "PHQ9", 2, steps)
    client_id = case_store.referrals.get(referral).client_id
    kept = case_store.assessments.safeguarding_prompts(client_id)
    assert [(p["id"], p["answer"], p["acknowledged_by"], p["steps"]) for p in kept] == [(prompt, 2, "trainer", steps)]
    case_store.sign_in("admin", "amber-kettle-42")
    events = case_store.admin.audit_events("safeguarding", prompt)
    assert [e["action"] for e in events] == ["create"] and "acknowledged" in events[0]["detail"]
    assert '"answer": 2' in events[0]["after"]


def test_the_form_previews_the_score_it_will_save_with_height_carried(case_store, referral):
    client_id = case_store.referrals.get(referral).client_id
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY", {"weight_kg": 80, "height_cm": 170},
                               today=TODAY)
    assert case_store.assessments.carried_height(client_id, "2026-09-01") == 170.0
    scored = case_store.assessments.preview(client_id, "BODY", {"weight_kg": "76.5"}, "2026-09-01")
    assert round(scored.scores["bmi"], 1) == 26.5 and scored.bands["bmi"] == "overweight"
    with pytest.raises(ValidationError):
        case_store.assessments.preview(client_id, "BODY", {"weight_kg": "400"}, "2026-09-01")


def test_migrating_gives_existing_plans_their_first_version(case_store, referral, tmp_path):
    plan = _plan(case_store, referral)
    path = case_store.path
    with case_store.db.atomic():
        case_store.db.conn.execute("DELETE FROM plan_versions")
        case_store.db.conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0007_plans_and_signposting'")
        for statement in ("DROP VIEW signposting_follow_up", "DROP TABLE goal_reviews", "DROP TABLE plan_versions",
                          "DROP TABLE safeguarding_prompts", "DROP INDEX signposting_unknown",
                          "ALTER TABLE signposting DROP COLUMN outcome_date"):
            case_store.db.conn.execute(statement)
    case_store.close()
    with CaseStore.open(path) as store:
        store.sign_in("trainer", "amber-kettle-42")
        versions = store.plans.versions(plan.id)
        assert [(v.version, v.agreed_date, [g["area"] for g in v.goals]) for v in versions] == [
            (1, "2026-06-10", ["MONEY", "ACTIVITY"])]


def test_the_timeline_gives_an_assessment_its_score(case_store, referral):
    client_id = case_store.referrals.get(referral).client_id
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "SWEMWBS",
                               {f"swemwbs_{i}": 3 for i in range(1, 8)}, today=TODAY)
    case_store.assessments.add(referral, "2026-06-10", "BASELINE", "BODY", {"weight_kg": 82.5, "height_cm": 165},
                               today=TODAY)
    case_store.assessments.add(referral, "2026-06-11", "REVIEW", "SWEMWBS", {"swemwbs_1": 3}, today=TODAY)
    summaries = [e.summary for e in case_store.clients.record(client_id).timeline if e.kind == "assessment"]
    assert "SWEMWBS (at the start): SWEMWBS (metric) 19.25" in summaries
    assert "BODY (at the start): Weight 82.5 kg, BMI 30.3 (Obesity I)" in summaries
    assert "SWEMWBS (during support): score not computable" in summaries
