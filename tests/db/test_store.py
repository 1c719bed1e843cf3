"""The store as the GUI and the command line use it: writes, reads, audit, conflicts, roles."""
from datetime import date

import pytest

from db.errors import ConflictError, PermissionDenied, ValidationError, AuthenticationError
from db.store import CaseStore
from rawdb import raw_connect

TODAY = date(2026, 11, 1)
CLIENT = {"first_name": "Siobhán", "last_name": "O'Neill", "date_of_birth": "12/03/1980", "gender": "2",
          "ethnicity": "A", "nhs_number": "943 476 5919"}


def _client(store, **extra):
    return store.clients.add({**CLIENT, **extra}, today=TODAY).ids[0]


def test_client_round_trips_names_exactly_through_a_second_connection(case_store):
    names = ["Siobhán", "Nguyễn Thị", "O'Neill", "Zoë", "Ali-Khan", "Ana 😀"]
    ids = [_client(case_store, first_name=n, last_name=n) for n in names]
    other = raw_connect(case_store.path)
    rows = other.execute("SELECT first_name, last_name, nhs_number, client_ref FROM clients ORDER BY id").fetchall()
    assert [r[0] for r in rows] == names and [r[1] for r in rows] == names
    assert rows[0][2] == "9434765919" and rows[0][3] == "HT-000001"
    assert len(set(ids)) == len(names)


def test_bad_client_names_every_field_and_changes_nothing(case_store):
    before = case_store.admin.counts()
    with pytest.raises(ValidationError) as exc:
        case_store.clients.add({"first_name": "", "last_name": "X", "date_of_birth": "31/02/1980", "gender": "9",
                               "ethnicity": "A", "nhs_number": "943 476 5918", "postcode": "NE1"}, today=TODAY)
    assert set(exc.value.fields) >= {"first_name", "date_of_birth", "gender", "nhs_number", "postcode"}
    assert "NHS number" in str(exc.value)
    assert case_store.admin.counts() == before


def test_every_write_and_every_record_opening_is_audited(case_store):
    client_id = _client(case_store)
    case_store.clients.record(client_id)
    events = case_store.admin.audit_events("client", client_id)
    assert [e["action"] for e in events][:2] == ["view", "create"]
    assert events[1]["username"] == "admin"


def test_stale_update_is_refused_with_a_clear_conflict(case_store):
    client_id = _client(case_store)
    seen = case_store.clients.get(client_id)
    other = CaseStore.open(case_store.path)
    other.sign_in("coord", "amber-kettle-42")
    other.clients.update(client_id, {"phone": "0191 000 0000"}, expected_version=seen.row_version, today=TODAY)
    with pytest.raises(ConflictError) as exc:
        case_store.clients.update(client_id, {"phone": "0191 111 1111"}, expected_version=seen.row_version, today=TODAY)
    assert "coord" in str(exc.value) and exc.value.current.phone == "0191 000 0000"
    assert case_store.clients.get(client_id).phone == "0191 000 0000"
    other.close()


def test_update_audits_only_changed_fields(case_store):
    client_id = _client(case_store)
    v = case_store.clients.get(client_id).row_version
    case_store.clients.update(client_id, {"mobile": "07700 900123"}, expected_version=v, today=TODAY)
    event = case_store.admin.audit_events("client", client_id)[0]
    assert event["action"] == "update" and '"mobile": "07700 900123"' in event["after"]
    assert "first_name" not in event["after"]


def test_archive_keeps_the_client_but_hides_them_from_search(case_store):
    client_id = _client(case_store)
    case_store.clients.archive(client_id, expected_version=1)
    assert case_store.clients.search("siob") == []
    assert [c.id for c in case_store.clients.search("siob", include_archived=True)] == [client_id]
    assert case_store.clients.get(client_id).archived


def test_search_finds_by_name_without_accents_ref_nhs_postcode_dob(case_store):
    client_id = _client(case_store, postcode="NFA")
    for typed in ["siob", "Siobhán o'ne", "HT-000001", "1", "943 476", "9434765919", "12/03/1980", "1980-03-12"]:
        assert [c.id for c in case_store.clients.search(typed)] == [client_id], typed
    assert case_store.clients.search("zzz") == []


def test_duplicate_check_same_nhs_or_similar_name_with_same_dob(case_store):
    client_id = _client(case_store)
    by_nhs = case_store.clients.check_duplicates({"first_name": "Jo", "last_name": "Bloggs", "nhs_number": "9434765919"})
    assert [(c.id, why) for c, why in by_nhs] == [(client_id, "same NHS number")]
    similar = case_store.clients.check_duplicates({"first_name": "Siobhan", "last_name": "O'Neil", "date_of_birth": "1980-03-12"})
    assert [c.id for c, _ in similar] == [client_id]
    assert case_store.clients.check_duplicates({"first_name": "Peter", "last_name": "Parker", "date_of_birth": "1980-03-12"}) == []


def test_deprivation_is_stored_from_the_postcode(case_store):
    client_id = _client(case_store, postcode="ne1 7ru")
    c = case_store.clients.get(client_id)
    assert (c.postcode, c.lsoa_code, c.imd_decile, c.imd_quintile, c.imd_edition, c.postcode_status) == \
        ("NE1 7RU", "E01008397", 6, 3, "IMD2019", "found")
    nfa = case_store.clients.get(_client(case_store, postcode="nfa", first_name="Other"))
    assert (nfa.postcode, nfa.postcode_status, nfa.imd_quintile) == ("NFA", "nfa", None)
    unknown = case_store.clients.get(_client(case_store, postcode="ZZ9 9ZZ", first_name="Third"))
    assert (unknown.postcode_status, unknown.lsoa_code) == ("not_found", None)


def test_referral_flow_status_follows_the_record(case_store):
    client_id = _client(case_store)
    referral_id = case_store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "gp",
                                                      "reasons": ["DIET", "Money and debt"]}, today=TODAY).ids[0]
    assert case_store.referrals.get(referral_id).status == "NEW"
    case_store.referrals.add_contact_attempt(referral_id, "2026-10-02", "PHONE", "NOANSWER", today=TODAY)
    assert case_store.referrals.get(referral_id).status == "CONTACTING"
    case_store.referrals.allocate(referral_id, case_store.staff_ids["trainer"])
    r = case_store.referrals.get(referral_id)
    assert (r.status, r.reasons, r.allocated_name) == ("WAITING", ("DIET", "MONEY"), "Amy Trainer")
    assert [w.referral_id for w in case_store.referrals.waiting_list(today=TODAY)] == [referral_id]
    case_store.diary.add(referral_id, {"session_date": "2026-10-05", "start_time": "10:00", "mode": "F2F",
                                         "attendance": "5", "staff_id": case_store.staff_ids["trainer"]}, today=TODAY)
    r = case_store.referrals.get(referral_id)
    assert (r.status, r.first_attended_date) == ("ACTIVE", "2026-10-05")
    assert case_store.referrals.waiting_list(today=TODAY) == []
    with pytest.raises(ValidationError) as exc:
        case_store.referrals.close(referral_id, "2026-09-01", "COMPLETED", today=TODAY)
    assert exc.value.fields == ["closed_date"]
    with pytest.raises(ValidationError) as exc:
        case_store.referrals.close(referral_id, "2026-10-20", "", today=TODAY)
    assert exc.value.fields == ["closure_reason"]
    case_store.referrals.close(referral_id, "2026-10-20", "COMPLETED", today=TODAY)
    assert case_store.referrals.get(referral_id).status == "CLOSED"


def test_waiting_list_puts_urgent_first_then_longest_wait(case_store):
    c = _client(case_store)
    old = case_store.referrals.add(c, {"received_date": "2026-09-01", "source": "SELF"}, today=TODAY).ids[0]
    new_urgent = case_store.referrals.add(c, {"received_date": "2026-10-20", "source": "SELF", "priority": "urgent"}, today=TODAY).ids[0]
    mid = case_store.referrals.add(c, {"received_date": "2026-10-01", "source": "GP"}, today=TODAY).ids[0]
    items = case_store.referrals.waiting_list(today=TODAY)
    assert [i.referral_id for i in items] == [new_urgent, old, mid]
    assert items[1].days_waiting == 61
    assert [i.referral_id for i in case_store.referrals.waiting_list(source="GP", today=TODAY)] == [mid]


def test_session_rules_future_attendance_and_clash(case_store):
    c = _client(case_store)
    r = case_store.referrals.add(c, {"received_date": "2026-10-01", "source": "SELF"}, today=TODAY).ids[0]
    trainer = case_store.staff_ids["trainer"]
    with pytest.raises(ValidationError) as exc:
        case_store.diary.add(r, {"session_date": "2026-11-10", "mode": "F2F", "attendance": "5", "staff_id": trainer}, today=TODAY)
    assert exc.value.fields == ["attendance"]
    case_store.diary.add(r, {"session_date": "2026-11-10", "start_time": "10:00", "duration_minutes": 60,
                               "mode": "F2F", "attendance": "0", "staff_id": trainer}, today=TODAY)
    with pytest.raises(ValidationError) as exc:
        case_store.diary.add(r, {"session_date": "2026-11-10", "start_time": "10:30", "mode": "F2F",
                                   "attendance": "0", "staff_id": trainer}, today=TODAY)
    assert exc.value.fields == ["start_time"]


def test_roles_are_enforced_in_the_store(case_store):
    client_id = _client(case_store)
    referral_id = case_store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "SELF"}, today=TODAY).ids[0]
    champion = CaseStore.open(case_store.path)
    champion.sign_in("champion", "amber-kettle-42")
    assert champion.clients.search("siob") == []
    with pytest.raises(PermissionDenied):
        champion.clients.get(client_id)
    with pytest.raises(PermissionDenied):
        champion.clients.add(CLIENT, today=TODAY)
    with pytest.raises(PermissionDenied):
        champion.referrals.waiting_list()
    case_store.referrals.allocate(referral_id, case_store.staff_ids["champion"])
    assert [c.id for c in champion.clients.search("siob")] == [client_id]
    champion.clients.update(client_id, {"mobile": "07700 900999"}, expected_version=1, today=TODAY)

    trainer = CaseStore.open(case_store.path)
    trainer.sign_in("trainer", "amber-kettle-42")
    assert trainer.clients.get(client_id).mobile == "07700 900999"       # may view anyone
    with pytest.raises(PermissionDenied):
        trainer.clients.update(client_id, {"mobile": "1"}, expected_version=2, today=TODAY)   # but not edit them
    with pytest.raises(PermissionDenied):
        trainer.admin.audit_events()
    with pytest.raises(PermissionDenied):
        trainer.service.add_staff("X", "TRAINER")
    admin_view = case_store.clients.get(client_id)
    assert admin_view.id == client_id
    champion.close()
    trainer.close()


def test_admin_only_views_clients(case_store):
    client_id = _client(case_store)
    admin_only = CaseStore.open(case_store.path)
    admin_only.sign_in("admin", "amber-kettle-42")
    admin_only.actor = admin_only.actor.__class__(username="adm2", roles=frozenset({"ADMIN"}))
    assert admin_only.clients.get(client_id).id == client_id
    with pytest.raises(PermissionDenied):
        admin_only.clients.update(client_id, {"mobile": "1"}, expected_version=1, today=TODAY)
    admin_only.close()


def test_lockout_after_five_failed_sign_ins(case_store):
    other = CaseStore.open(case_store.path)
    # The fifth wrong password answers as the others did (a stranger learns nothing); only the right
    # password is told the account is locked.
    for _ in range(5):
        with pytest.raises(AuthenticationError, match="Wrong username or password"):
            other.sign_in("trainer", "nope")
    with pytest.raises(AuthenticationError, match="is locked"):
        other.sign_in("trainer", "amber-kettle-42")
    case_store.admin.set_locked("trainer", False)
    assert other.sign_in("trainer", "amber-kettle-42").username == "trainer"
    stored = raw_connect(case_store.path).execute("SELECT password_hash FROM accounts WHERE username='trainer'").fetchone()[0]
    assert stored.startswith("$argon2")
    other.close()


def test_plans_goals_signposting_and_timeline(case_store):
    c = _client(case_store)
    r = case_store.referrals.add(c, {"received_date": "2026-10-01", "source": "SELF"}, today=TODAY).ids[0]
    entry = case_store.signposting.add_directory_entry("Citizens Advice", "DEBT", phone="0191 000 0000")
    plan_id = case_store.plans.add(r, {"agreed_date": "2026-10-05", "what_matters": "Being there for my kids"},
                                  goals=[{"area": "MONEY", "goal_text": "Sort my debts", "confidence": 7}],
                                  directory_ids=[entry], today=TODAY).ids[0]
    plan = case_store.plans.get(plan_id)
    assert plan.goals[0].goal_text == "Sort my debts" and plan.contacts[0].name == "Citizens Advice"
    with pytest.raises(ValidationError) as exc:
        case_store.plans.update_goal(plan.goals[0].id, {"status": "FULL"}, expected_version=1, today=TODAY)
    assert exc.value.fields == ["status_date"]
    case_store.plans.update_goal(plan.goals[0].id, {"status": "FULL", "status_date": "2026-10-30"}, expected_version=1, today=TODAY)
    case_store.signposting.add(r, {"signpost_date": "2026-10-06", "category": "DEBT", "type": "referred",
                                   "destination": "Citizens Advice"}, today=TODAY)
    kinds = [e.kind for e in case_store.clients.record(c).timeline]
    assert {"referral", "plan", "goal", "signposting", "record"} <= set(kinds)


def test_close_referrals_is_all_or_nothing(case_store):
    c = _client(case_store)
    a = case_store.referrals.add(c, {"received_date": "2026-10-01", "source": "SELF"}, today=TODAY).ids[0]
    b = case_store.referrals.add(c, {"received_date": "2026-10-15", "source": "SELF"}, today=TODAY).ids[0]
    with pytest.raises(ValidationError):
        case_store.referrals.close_many([a, b], "2026-10-10", "UNABLE", today=TODAY)   # b was received after
    assert case_store.referrals.get(a).closed_date is None
    case_store.referrals.close_many([a, b], "2026-10-20", "UNABLE", today=TODAY)
    assert {case_store.referrals.get(i).status for i in (a, b)} == {"CLOSED"}


def test_service_details_and_logo_are_kept_for_printouts(case_store):
    service = case_store.service.get()
    case_store.service.update({"address": "Civic Centre\nNewcastle NE1 8QH", "phone": "0191 000 0100"},
                              expected_version=service.row_version)
    updated = case_store.service.get()
    assert (updated.address, updated.phone, updated.name) == ("Civic Centre\nNewcastle NE1 8QH", "0191 000 0100", service.name)
    with pytest.raises(ConflictError):
        case_store.service.update({"phone": "1"}, expected_version=service.row_version)
    with pytest.raises(ValidationError) as exc:
        case_store.service.update({"name": ""}, expected_version=updated.row_version)
    assert exc.value.fields == ["service_name"]
    with pytest.raises(ValidationError):
        case_store.service.set_logo(b"GIF89a not a png")
    case_store.service.set_logo(b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    coord = CaseStore.open(case_store.path)
    coord.sign_in("coord", "amber-kettle-42")
    with pytest.raises(PermissionDenied):
        coord.service.update({"phone": "2"}, expected_version=case_store.service.get().row_version)
    coord.close()


def test_waiting_list_marks_three_unsuccessful_tries_only(case_store):
    c = _client(case_store)
    r = case_store.referrals.add(c, {"received_date": "2026-10-01", "source": "SELF"}, today=TODAY).ids[0]
    for day, outcome in (("2026-10-02", "NOANSWER"), ("2026-10-03", "MESSAGE")):
        case_store.referrals.add_contact_attempt(r, day, "PHONE", outcome, today=TODAY)
    assert not case_store.referrals.waiting_list(today=TODAY)[0].three_tries_reached
    case_store.referrals.add_contact_attempt(r, "2026-10-04", "PHONE", "WRONGNUM", today=TODAY)
    item = case_store.referrals.waiting_list(today=TODAY)[0]
    assert (item.unsuccessful_attempts, item.three_tries_reached) == (3, True)
    case_store.referrals.add_contact_attempt(r, "2026-10-05", "PHONE", "REACHED", today=TODAY)
    item = case_store.referrals.waiting_list(today=TODAY)[0]
    assert (item.attempts, item.first_contact_date, item.three_tries_reached) == (4, "2026-10-05", False)


def test_an_email_address_in_the_phone_field_is_refused_by_the_store_itself(case_store):
    before = case_store.admin.counts()
    with pytest.raises(ValidationError) as exc:
        case_store.clients.add({**CLIENT, "phone": "zoe@example.org"}, today=TODAY)
    assert exc.value.fields == ["phone"]
    assert str(exc.value) == ("Phone 'zoe@example.org' is an email address: put it in Email, and type a phone "
                              "number here (e.g. 0191 496 0000) or leave it blank.")
    assert case_store.admin.counts() == before
