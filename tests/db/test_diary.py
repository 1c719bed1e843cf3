"""store.diary: booking with clash checks and the next free slot, blocks, groups, recording, moves,
cancellations, the follow-up list and the policy (issue 11)."""
from datetime import date

import pytest

from db.errors import Clash, ConflictError, NeedsConfirmation, PermissionDenied, ValidationError
from rawdb import raw_connect

TODAY = date(2026, 11, 2)        # a Monday


def _client(store, n, received="2026-10-01", trainer="trainer"):
    store.sign_in("coord", "amber-kettle-42")
    cid = store.clients.add({"first_name": f"Zoë{n}", "last_name": f"Okafor{n}", "date_of_birth": "02/02/1980",
                             "gender": "2", "ethnicity": "A"}, today=TODAY).ids[0]
    rid = store.referrals.add(cid, {"received_date": received, "source": "SELF", "reasons": ["DIET"]},
                              today=TODAY).ids[0]
    if trainer:
        store.referrals.allocate(rid, store.staff_ids[trainer])
    return cid, rid


def _venue(store, days=None):
    store.sign_in("admin", "amber-kettle-42")
    store.service.add_venue("CC1", "Byker Community Centre", "COMMUNITY")
    venue = next(v for v in store.service.venues() if v.code == "CC1")
    if days:
        store.diary.set_venue_days(venue.id, days)
    return venue.id


def _at(date_, start="10:00", minutes=60, **more):
    return {"session_date": date_, "start_time": start, "duration_minutes": minutes, "mode": "PHONE", **more}


def test_a_trainer_books_a_block_of_six_weekly_sessions_in_one_step(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    ids = case_store.diary.book(rid, _at("2026-11-03"), weeks=6, today=TODAY)
    week = case_store.diary.week(date(2026, 11, 3), 42, staff_id=case_store.staff_ids["trainer"], today=TODAY)
    assert [e.session_id for e in week] == ids
    assert [e.session_date for e in week] == ["2026-11-03", "2026-11-10", "2026-11-17", "2026-11-24",
                                              "2026-12-01", "2026-12-08"]
    assert [e.session_number for e in week] == [1, 2, 3, 4, 5, 6]
    assert [e.type for e in week] == ["INITIAL"] + ["SUPPORT"] * 5
    assert {e.attendance for e in week} == {"0"}


def test_a_clash_names_what_it_meets_and_offers_the_next_free_slot_which_can_be_booked(case_store):
    _, r1 = _client(case_store, 1)
    _, r2 = _client(case_store, 2)
    case_store.sign_in("trainer", "amber-kettle-42")
    case_store.diary.book(r1, _at("2026-11-03", "10:00", 60), today=TODAY)
    with pytest.raises(Clash) as caught:
        case_store.diary.book(r2, _at("2026-11-03", "10:30", 45), today=TODAY)
    assert caught.value.fields == ["start_time"]
    message = caught.value.errors[0].message
    assert "Amy Trainer is already booked from 10:00 to 11:00 on Tue 3 November 2026 (HT-000001)" in message
    assert "The next free slot is Tue 3 November 2026 at 11:00." in message
    assert caught.value.suggestion == ("2026-11-03", "11:00")
    day, start = caught.value.suggestion
    case_store.diary.book(r2, _at(day, start, 45), today=TODAY)


def test_the_client_already_booked_with_another_trainer_is_a_clash(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("coord", "amber-kettle-42")
    case_store.diary.book(rid, _at("2026-11-03", "14:00", staff_id=case_store.staff_ids["trainer"]), today=TODAY)
    with pytest.raises(Clash, match="HT-000001 is already booked with Amy Trainer from 14:00 to 15:00") as caught:
        case_store.diary.book(rid, _at("2026-11-03", "14:30", staff_id=case_store.staff_ids["trainer2"]),
                              today=TODAY)
    assert caught.value.suggestion == ("2026-11-03", "15:00")


def test_a_block_clashing_in_a_later_week_is_offered_a_slot_free_in_every_week(case_store):
    _, r1 = _client(case_store, 1)
    _, r2 = _client(case_store, 2)
    case_store.sign_in("trainer", "amber-kettle-42")
    case_store.diary.book(r1, _at("2026-11-17", "10:00"), today=TODAY)      # week 3 of the block below
    with pytest.raises(Clash, match="17 November 2026") as caught:
        case_store.diary.book(r2, _at("2026-11-03", "10:00"), weeks=6, today=TODAY)
    assert caught.value.suggestion == ("2026-11-03", "11:00")
    assert "the same time for the 6 weeks" in caught.value.errors[0].message


def test_a_venue_closed_that_day_is_a_clash_and_the_offer_is_an_open_day(case_store):
    venue = _venue(case_store, "24")     # Tuesdays and Thursdays
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(Clash) as caught:
        case_store.diary.book(rid, _at("2026-11-04", mode="F2F", venue_id=venue), today=TODAY)   # a Wednesday
    assert caught.value.fields == ["session_date"]
    assert "Byker Community Centre is open on Tue, Thu only, and 4 November 2026 is a Wednesday" in str(caught.value)
    assert caught.value.suggestion == ("2026-11-05", "09:00")


@pytest.mark.parametrize("values,weeks,field,words", [
    (_at("2026-11-03", "10:00", end_time="09:30"), 1, "end_time", "End time 09:30 is not after the start"),
    (_at("2026-11-03", minutes=0), 1, "duration_minutes", "0 minutes is not a session"),
    (_at("2026-11-03", minutes=481), 1, "duration_minutes", "over 8 hours"),
    (_at("2026-09-30"), 1, "session_date", "before the referral was received"),
    (_at("2026-11-03", "25:00"), 1, "start_time", "not a time"),
    (_at("2026-11-03", mode="F2F"), 1, "venue_id", "Venue"),
    (_at("2026-11-03"), 0, "weeks", "Weekly sessions"),
])
def test_bad_bookings_are_refused_naming_the_field_and_change_nothing(case_store, values, weeks, field, words):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(ValidationError) as caught:
        case_store.diary.book(rid, values, weeks=weeks, today=TODAY)
    assert field in caught.value.fields
    assert words in str(caught.value)
    assert raw_connect(case_store.path).execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_a_past_date_asks_for_confirmation_then_books(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(NeedsConfirmation, match="in the past"):
        case_store.diary.book(rid, _at("2026-10-20"), today=TODAY)
    assert case_store.diary.book(rid, _at("2026-10-20"), confirm_past=True, today=TODAY)


def test_after_closing_only_a_follow_up_and_a_block_may_not_run_past_closing(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("coord", "amber-kettle-42")
    case_store.diary.book(rid, _at("2026-10-20", staff_id=case_store.staff_ids["trainer"]), confirm_past=True,
                          today=TODAY)
    s = case_store.diary.week(date(2026, 10, 20), 1, staff_id=case_store.staff_ids["trainer"], today=TODAY)[0]
    case_store.diary.record(s.session_id, "5", expected_version=s.row_version, today=TODAY)
    case_store.referrals.close(rid, "2026-11-01", "COMPLETED", today=TODAY)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(ValidationError, match="only a follow-up session") as caught:
        case_store.diary.book(rid, _at("2026-11-10"), today=TODAY)
    assert caught.value.fields == ["session_date"]
    with pytest.raises(ValidationError, match="past the referral's closing") as caught:
        case_store.diary.book(rid, _at("2026-10-26"), weeks=3, confirm_past=True, today=TODAY)
    assert caught.value.fields == ["weeks"]
    assert case_store.diary.book(rid, _at("2026-11-10", type="FOLLOWUP"), today=TODAY)


def test_recording_keeps_notes_and_goals_and_books_the_next_session_in_the_same_step(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    case_store.plans.add(rid, {"agreed_date": "2026-10-05"}, goals=[
        {"area": "DIET", "goal_text": "Eat breakfast", "status": "INPROGRESS"},
        {"area": "ACTIVITY", "goal_text": "Walk to work", "status": "INPROGRESS"}], today=TODAY)
    goals = case_store.diary.goals(rid)
    [sid] = case_store.diary.book(rid, _at("2026-10-27"), confirm_past=True, today=TODAY)
    entry = case_store.diary.entry(sid, today=TODAY)
    assert entry.outcome_not_recorded
    done = case_store.diary.record(sid, "5", expected_version=entry.row_version, notes="Talked about breakfast",
                                   goal_ids=[goals[0].id], next_booking={"session_date": "2026-11-03",
                                                                         "start_time": "09:30"}, today=TODAY)
    assert len(done.booked) == 1 and done.follow_up == ()
    after = case_store.diary.entry(sid, today=TODAY)
    assert (after.attendance, after.notes, after.outcome_not_recorded) == ("5", "Talked about breakfast", False)
    assert case_store.diary.goals_worked(sid) == [goals[0].id]
    nxt = case_store.diary.entry(done.booked[0], today=TODAY)
    assert (nxt.session_date, nxt.start_time, nxt.duration_minutes, nxt.mode, nxt.type) == (
        "2026-11-03", "09:30", 60, "PHONE", "SUPPORT")
    assert case_store.referrals.get(rid).status == "ACTIVE"


def test_two_dnas_in_a_row_put_the_referral_on_the_follow_up_list(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    ids = case_store.diary.book(rid, _at("2026-10-12"), weeks=3, confirm_past=True, today=TODAY)
    v = lambda i: case_store.diary.entry(i).row_version  # noqa: E731
    case_store.diary.record(ids[0], "3", expected_version=v(ids[0]), today=TODAY)
    assert case_store.diary.record(ids[1], "5", expected_version=v(ids[1]), today=TODAY).follow_up == ()
    case_store.sign_in("coord", "amber-kettle-42")
    assert case_store.diary.follow_up() == []
    case_store.sign_in("trainer", "amber-kettle-42")
    more = case_store.diary.book(rid, _at("2026-11-02", "15:00"), today=TODAY)
    case_store.diary.record(ids[2], "3", expected_version=v(ids[2]), today=TODAY)
    assert case_store.diary.record(more[0], "3", expected_version=v(more[0]), today=TODAY).follow_up == (rid,)
    case_store.sign_in("coord", "amber-kettle-42")
    [item] = case_store.diary.follow_up()
    assert (item.referral_id, item.client_ref, item.staff_name, item.last_dna) == (
        rid, "HT-000001", "Amy Trainer", "2026-11-02")
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(PermissionDenied):
        case_store.diary.follow_up()


def test_a_group_of_four_is_one_booking_with_a_session_per_client_counted_as_one_to_one(case_store):
    venue = _venue(case_store)
    rids = [_client(case_store, n)[1] for n in range(4)]
    case_store.sign_in("trainer", "amber-kettle-42")
    ids = case_store.diary.book_group(rids, _at("2026-10-28", "13:00", 90, mode="GROUP", venue_id=venue),
                                      title="Walking group", confirm_past=True, today=TODAY)
    members = case_store.diary.week(date(2026, 10, 28), 1, staff_id=case_store.staff_ids["trainer"], today=TODAY)
    assert len(ids) == 4 and {m.group_title for m in members} == {"Walking group"}
    assert len({m.group_id for m in members}) == 1
    group = case_store.diary.group(members[0].group_id, "2026-10-28", today=TODAY)
    outcomes = {group[0].session_id: "5", group[1].session_id: "6", group[2].session_id: "3",
                group[3].session_id: "2"}
    case_store.diary.record_group(outcomes, versions={g.session_id: g.row_version for g in group}, today=TODAY)
    con = raw_connect(case_store.path)
    assert con.execute("SELECT COUNT(*) FROM sessions WHERE attendance IN ('5', '6')").fetchone()[0] == 2
    assert sorted(r[0] for r in con.execute("SELECT status FROM referrals")) == [
        "ACTIVE", "ACTIVE", "WAITING", "WAITING"]
    # Another booking at that time meets the whole group.
    _, other = _client(case_store, 9)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(Clash, match="group session: Walking group at Byker Community Centre"):
        case_store.diary.book_group([other, rids[0]], _at("2026-10-28", "14:00", mode="GROUP", venue_id=venue),
                                    title="Cooking", confirm_past=True, today=TODAY)


def test_moving_and_cancelling_keep_the_history_with_the_reason(case_store):
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    [sid] = case_store.diary.book(rid, _at("2026-11-05", "10:00"), today=TODAY)
    e = case_store.diary.entry(sid)
    case_store.diary.move(sid, {"session_date": "2026-11-06", "start_time": "11:00"}, "Client asked for Friday",
                          expected_version=e.row_version, today=TODAY)
    with pytest.raises(ValidationError, match="Reason"):
        case_store.diary.cancel(sid, "client", "  ", expected_version=e.row_version + 1)
    case_store.diary.cancel(sid, "client", "Hospital appointment", expected_version=e.row_version + 1)
    after = case_store.diary.entry(sid)
    assert (after.session_date, after.start_time, after.attendance) == ("2026-11-06", "11:00", "2")
    history = case_store.diary.history(sid)
    assert [(h.action, h.from_date, h.from_time, h.to_date, h.to_time, h.reason) for h in history] == [
        ("moved", "2026-11-05", "10:00", "2026-11-06", "11:00", "Client asked for Friday"),
        ("cancelled", "2026-11-06", "11:00", None, None, "Hospital appointment")]
    # A cancelled slot is free again.
    case_store.diary.book(rid, _at("2026-11-06", "11:00"), today=TODAY)


def test_a_change_saved_by_someone_else_in_between_is_detected_not_overwritten(case_store):
    from db.store import CaseStore
    _, rid = _client(case_store, 1)
    case_store.sign_in("trainer", "amber-kettle-42")
    [sid] = case_store.diary.book(rid, _at("2026-10-30"), confirm_past=True, today=TODAY)
    opened = case_store.diary.entry(sid)
    other = CaseStore.open(case_store.path)
    other.sign_in("coord", "amber-kettle-42")
    other.diary.record(sid, "3", expected_version=opened.row_version, today=TODAY)
    other.close()
    with pytest.raises(ConflictError, match=r"Someone else \(coord\) changed this session"):
        case_store.diary.record(sid, "5", expected_version=opened.row_version, today=TODAY)
    assert case_store.diary.entry(sid).attendance == "3"


def test_a_champion_sees_and_books_only_their_own_clients_and_a_trainer_only_their_own_diary(case_store):
    _, mine = _client(case_store, 1, trainer="champion")
    _, theirs = _client(case_store, 2, trainer="trainer")
    case_store.sign_in("coord", "amber-kettle-42")
    case_store.diary.book(theirs, _at("2026-11-03", staff_id=case_store.staff_ids["champion"]), today=TODAY)
    case_store.sign_in("champion", "amber-kettle-42")
    champion = case_store.staff_ids["champion"]
    case_store.diary.book(mine, _at("2026-11-03", "14:00"), today=TODAY)
    week = case_store.diary.week(TODAY, 7, staff_id=champion, today=TODAY)
    assert [e.client_ref for e in week] == ["HT-000001"]        # not the other client, though in their diary
    with pytest.raises(PermissionDenied):
        case_store.diary.book(theirs, _at("2026-11-04"), today=TODAY)
    with pytest.raises(PermissionDenied):
        case_store.diary.week(TODAY, 7, staff_id=case_store.staff_ids["trainer"])
    with pytest.raises(PermissionDenied):
        case_store.diary.week(TODAY, 7)
    case_store.sign_in("trainer", "amber-kettle-42")
    with pytest.raises(PermissionDenied):
        case_store.diary.book(theirs, _at("2026-11-05", staff_id=case_store.staff_ids["trainer2"]), today=TODAY)
    case_store.sign_in("coord", "amber-kettle-42")
    assert len(case_store.diary.week(TODAY, 7, today=TODAY)) == 2


def test_my_day_lists_todays_sessions_in_time_order_and_the_caseload_with_what_is_due(case_store):
    _, r1 = _client(case_store, 1)
    _, r2 = _client(case_store, 2)
    _, r3 = _client(case_store, 3)
    case_store.sign_in("trainer", "amber-kettle-42")
    case_store.diary.book(r1, _at("2026-11-02", "14:00"), today=TODAY)
    case_store.diary.book(r2, _at("2026-11-02", "09:30"), today=TODAY)
    [old] = case_store.diary.book(r3, _at("2026-10-26"), confirm_past=True, today=TODAY)
    day = case_store.diary.my_day(today=TODAY)
    assert [(e.start_time, e.client_ref, e.session_number) for e in day.today] == [
        ("09:30", "HT-000002", 1), ("14:00", "HT-000001", 1)]
    assert [e.session_id for e in day.not_recorded] == [old]
    by_ref = {c.client_ref: c for c in day.caseload}
    assert set(by_ref) == {"HT-000001", "HT-000002", "HT-000003"}
    assert by_ref["HT-000003"].overdue == ("Outcome not recorded (1)",)
    assert by_ref["HT-000001"].next_session == "2026-11-02 14:00"
    case_store.diary.record(old, "5", expected_version=case_store.diary.entry(old).row_version, today=TODAY)
    item = {c.client_ref: c for c in case_store.diary.my_day(today=TODAY).caseload}["HT-000003"]
    assert item.sessions_attended == 1 and item.last_attended == "2026-10-26"
    assert "Baseline assessment missing" in item.overdue
    assert "Book the next session" in item.due and "Book the next session" not in item.overdue   # a week ago
    later = {c.client_ref: c for c in case_store.diary.my_day(today=date(2026, 11, 20)).caseload}["HT-000003"]
    assert "Book the next session" in later.overdue                                              # 3 weeks on


def test_the_demo_diaries_are_believable_weeks(tmp_path):
    from datetime import timedelta

    from db.demo import create_demo
    from db.store import CaseStore
    today = date(2026, 11, 30)
    create_demo(tmp_path / "demo.sqlite3", clients=300, seed=5, today=today)
    store = CaseStore.open(tmp_path / "demo.sqlite3")
    store.sign_in("coordinator", "demo")
    first = today - timedelta(days=21)
    entries = store.diary.week(first, 21 + 60, today=today)
    live = [e for e in entries if e.attendance not in ("2", "4")]
    assert live
    # In working hours, and never two sessions of one trainer at once (a group's members share theirs).
    assert all("09:00" <= e.start_time and e.end_time <= "17:00" for e in live)
    by_trainer_day: dict = {}
    for e in live:
        by_trainer_day.setdefault((e.staff_id, e.session_date), {})[e.group_id or -e.session_id] = e
    for sessions in by_trainer_day.values():
        held = sorted(sessions.values(), key=lambda e: e.start_time)
        assert all(a.end_time <= b.start_time for a, b in zip(held, held[1:]))
    # One-to-one sessions on weekdays; each trainer's weekly group at a community venue, four or more people.
    assert all(date.fromisoformat(e.session_date).weekday() < 5 for e in live if e.group_id is None)
    groups = {e.group_id: e for e in live if e.group_id is not None}
    assert len({e.staff_id for e in groups.values()}) == len(store.service.trainers()) - 1   # not the champion
    assert {e.venue_type for e in groups.values()} <= {"COMMUNITY", "FAITH", "LIBRARY"}
    members = {}
    for e in live:
        if e.group_id is not None:
            members.setdefault((e.group_id, e.session_date), set()).add(e.client_id)
    future = [m for (_g, day), m in members.items() if day >= today.isoformat()]
    assert future and min(len(m) for m in future) >= 4
    # A realistic DNA rate in the weeks just gone.
    past = [e for e in live if e.session_date < today.isoformat()]
    dna = sum(e.attendance == "3" for e in past) / sum(e.attendance in ("5", "6", "7", "3") for e in past)
    assert 0.05 <= dna <= 0.25
    # A volunteer champion keeps a small caseload.
    champion = store.diary.staff_id_for("champion1")
    assert 0 < len(store.diary.caseload(champion, today=today)) <= 15
    store.close()
