"""One declared policy: every public store method names its rule, and the rules hold.

The table below is the review copy of every declaration: a new public method that
declares nothing fails the first test, and one whose rule changes fails the second
until the table (and so the reviewer) agrees.
"""
from datetime import date

import pytest

from db.errors import PermissionDenied
from db.records import Changes
from db.store import CaseStore
from rawdb import raw_connect

TODAY = date(2026, 11, 1)
CLIENT = {"first_name": "Zoë", "last_name": "Okafor", "date_of_birth": "02/02/1980", "gender": "2",
          "ethnicity": "A", "nhs_number": "943 476 5919"}

EXPECTED = {
    'admin.accounts': 'read admin',
    'admin.backup_info': 'read restore',
    'admin.new_recovery_key': 'write admin',
    'admin.account_states': 'read admin',
    'admin.audit_events': 'read audit_view',
    'admin.backup': 'job backup',
    'admin.copy_backups': 'job backup',
    'admin.check': 'read check',
    'admin.counts': 'read check',
    'admin.end_account': 'write admin',
    'admin.last_backup': 'read signed_in',
    'admin.reset_password': 'write admin',
    'admin.restore': 'job restore',
    'admin.secure_server': 'write admin',
    'admin.set_locked': 'write admin',
    'admin.set_roles': 'write admin',
    'admin.set_password': 'write _own_or_admin(...)',
    'assessments.acknowledge_safeguarding': 'write edit_client [referral_id via referral_client]',
    'assessments.add': 'write edit_client [referral_id via referral_client]',
    'assessments.carried_height': 'read view_client [client_id]',
    'assessments.outcome_pairs': 'read view_client [referral_id via referral_client]',
    'assessments.preview': 'read view_client [client_id]',
    'assessments.safeguarding_prompts': 'read view_client [client_id]',
    'assessments.series': 'read view_client [client_id]',
    'clients.add': 'write add_client',
    'clients.archive': 'write edit_client [client_id]',
    'clients.check_duplicates': 'read add_client',
    'clients.get': 'read view_client [client_id]',
    'clients.id_for_ref': 'read signed_in',
    'clients.record': 'read view_client [client_id]',
    'clients.search': 'read view_client',
    'clients.update': 'write edit_client [client_id]',
    'diary.add': 'write edit_client [referral_id via referral_client]',
    'diary.book': 'write _booking(...) [referral_id via referral_client]',
    'diary.book_group': 'write _booking(...)',
    'diary.cancel': 'write edit_client [session_id via session_client]',
    'diary.caseload': 'read _diary_view(...)',
    'diary.entry': 'read view_client [session_id via session_client]',
    'diary.follow_up': 'read allocate',
    'diary.goals': 'read view_client [referral_id via referral_client]',
    'diary.goals_worked': 'read view_client [session_id via session_client]',
    'diary.group': 'read own_diary',
    'diary.history': 'read view_client [session_id via session_client]',
    'diary.move': 'write edit_client [session_id via session_client]',
    'diary.my_day': 'read own_diary',
    'diary.next_booked': 'read view_client [client_id]',
    'diary.record': 'write edit_client [session_id via session_client]',
    'diary.record_attendance': 'write edit_client [session_id via session_client]',
    'diary.record_group': 'write own_diary',
    'diary.set_venue_days': 'write admin',
    'diary.staff_id_for': 'read signed_in',
    'diary.week': 'read _diary_view(...)',
    'documents.for_client': 'read view_client [client_id]',
    'documents.get': 'read view_client [document_id via document_client]',
    'documents.keep': 'write _keeping(...) [client_id]',
    'documents.letter_data': 'read _letter(...) [referral_id via referral_client]',
    'documents.letter_refusal': 'read view_client [referral_id via referral_client]',
    'documents.plan_data': 'read print_plan [client_id]',
    'drafts.discard': 'write signed_in',
    'drafts.mine': 'read signed_in',
    'drafts.save': 'write signed_in',
    'plans.add': 'write edit_client [referral_id via referral_client]',
    'privacy.audit': 'read audit_view',
    'privacy.audit_actions': 'read audit_view',
    'privacy.erase': 'write erase [client_id]',
    'privacy.erase_many': 'write erase',
    'privacy.export_audit': 'job audit_view',
    'privacy.retention_due': 'read erase',
    'privacy.write_subject_access': 'job sar [client_id]',
    'plans.add_goal': 'write edit_client [plan_id via plan_client]',
    'plans.agree': 'write edit_client [plan_id via plan_client]',
    'plans.choose_contacts': 'write edit_client [plan_id via plan_client]',
    'plans.current': 'read view_client [client_id]',
    'plans.get': 'read view_client [plan_id via plan_client]',
    'plans.review_goal': 'write edit_client [goal_id via goal_client]',
    'plans.reviews': 'read view_client [plan_id via plan_client]',
    'plans.update_goal': 'write edit_client [goal_id via goal_client]',
    'plans.versions': 'read view_client [plan_id via plan_client]',
    'reference.deprivation_for': 'read open',
    'reference.local_area': 'read open',
    'reference.lsoa_info': 'read open',
    'reference.prepare': 'read open',
    'reference.ready': 'read open',
    'referrals.add': 'write _adding(...)',
    'referrals.add_contact_attempt': 'write edit_client [referral_id via referral_client]',
    'referrals.allocate': 'write allocate',
    'referrals.close': 'write edit_client [referral_id via referral_client]',
    'referrals.close_many': 'write allocate',
    'referrals.get': 'read view_client [referral_id via referral_client]',
    'referrals.id_for_ref': 'read signed_in',
    'referrals.waiting_list': 'read allocate',
    'returns.build': 'job returns',
    'returns.explain': 'read returns',
    'returns.figures': 'read returns',
    'reach.dashboard': 'read _sections_decision(...)',
    'reach.data_quality': 'read activity',
    'reach.explain': 'read _explain_decision(...)',
    'reach.kept_dashboard': 'read _sections_decision(...)',
    'returns.late_changes': 'read returns',
    'returns.runs': 'read returns',
    'returns.submit': 'write returns',
    'returns.submitted': 'read returns',
    'service.add_staff': 'write admin',
    'service.add_venue': 'write admin',
    'service.all': 'read open',
    'service.enabled_instruments': 'read signed_in',
    'service.get': 'read open',
    'service.logo': 'read signed_in',
    'service.safeguarding_steps': 'read signed_in',
    'service.set_settings': 'write admin',
    'service.set_venue_days': 'write admin',
    'service.set_enabled_instruments': 'write admin',
    'service.set_logo': 'write admin',
    'service.set_setting': 'write admin',
    'service.settings': 'read signed_in',
    'service.setting': 'read signed_in',
    'service.staff': 'read signed_in',
    'service.trainers': 'read signed_in',
    'service.update': 'write admin',
    'service.venue_days': 'read signed_in',
    'service.venues': 'read signed_in',
    'signposting.add': 'write edit_client [referral_id via referral_client]',
    'signposting.add_directory_entry': 'write manage_directory',
    'signposting.directory': 'read signed_in',
    'signposting.find_in_directory': 'read signed_in',
    'signposting.follow_up': 'read view_client',
    'signposting.for_client': 'read view_client [client_id]',
    'signposting.record_outcome': 'write edit_client [signpost_id via signpost_client]',
    'signposting.update_directory_entry': 'write manage_directory',
    'transfer.export_counts': 'read export',
    'transfer.export_rows': 'write export',
    'transfer.export_workbook': 'job export',
    'transfer.import_workbook': 'job import',
}


def test_every_public_method_of_every_part_declares_a_rule():
    rules = CaseStore(None).rules()
    undeclared = sorted(name for name, rule in rules.items() if rule == "UNDECLARED")
    assert undeclared == []
    assert len(rules) >= 60


def test_the_declarations_are_exactly_the_reviewed_table():
    assert CaseStore(None).rules() == EXPECTED


def _as(store, who):
    store.sign_in(who, "amber-kettle-42")
    return store


def _client_for_trainer(store):
    store.sign_in("admin", "amber-kettle-42")
    store.sign_in("coord", "amber-kettle-42")
    client_id = store.clients.add(CLIENT, today=TODAY).ids[0]
    referral_id = store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "SELF",
                                                  "reasons": ["DIET"]},
                                      today=TODAY).ids[0]
    store.referrals.allocate(referral_id, store.staff_ids["trainer"])
    return client_id, referral_id


def test_a_duplicate_check_is_refused_to_those_who_may_not_add_clients_and_to_nobody(case_store):
    _client_for_trainer(case_store)
    for who in ("champion", "trainer"):
        _as(case_store, who)
        with pytest.raises(PermissionDenied):
            case_store.clients.check_duplicates(CLIENT)
    case_store.actor = None
    with pytest.raises(PermissionDenied, match="Sign in first"):
        case_store.clients.check_duplicates(CLIENT)


def test_a_duplicate_check_is_audited_naming_whom_it_showed(case_store):
    _client_for_trainer(case_store)
    found = case_store.clients.check_duplicates(CLIENT)
    assert [s.client_ref for s, _ in found] == ["HT-000001"]
    row = raw_connect(case_store.path).execute(
        "SELECT username, action, detail FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("coord", "view", "duplicate check before adding a client: shown HT-000001")


def test_a_champion_sees_and_changes_only_their_own_clients(case_store):
    client_id, referral_id = _client_for_trainer(case_store)
    _as(case_store, "champion")
    assert not case_store.may("view_client", client_id)
    assert case_store.refusal("edit_client", client_id) == (
        "champion may only change clients allocated to them. Ask a coordinator to allocate the referral.")
    with pytest.raises(PermissionDenied):
        case_store.clients.record(client_id)
    with pytest.raises(PermissionDenied):
        case_store.diary.add(referral_id, {"session_date": "2026-10-20", "attendance": "5", "mode": "F2F",
                                           "type": "INITIAL"}, today=TODAY)
    assert case_store.clients.search("Okafor") == []
    _as(case_store, "trainer")
    assert case_store.may("edit_client", client_id)
    assert case_store.clients.record(client_id).client.client_ref == "HT-000001"


def test_the_refusal_tells_an_administrator_whom_to_ask_not_to_ask_an_administrator(case_store):
    case_store.service.add_staff("Ida IT", "ADMIN", username="ida", password="amber-kettle-42")
    _as(case_store, "ida")
    message = case_store.refusal("add_client")
    assert message == ("ida may not add clients or referrals (roles: ADMIN). "
                       "Ask a manager or coordinator if you need this done.")
    _as(case_store, "trainer")
    assert case_store.refusal("backup").endswith("Ask an administrator if you need this done.")


def test_backup_restore_and_check_are_refused_to_a_trainer_in_the_store_itself(case_store, tmp_path):
    _as(case_store, "trainer")
    with pytest.raises(PermissionDenied):
        case_store.admin.backup(tmp_path / "b.sqlite3")
    with pytest.raises(PermissionDenied):
        case_store.admin.restore(tmp_path / "b.sqlite3")
    with pytest.raises(PermissionDenied):
        case_store.admin.check()
    assert not (tmp_path / "b.sqlite3").exists()


def test_an_age_override_needs_a_manager(case_store):
    case_store.sign_in("coord", "amber-kettle-42")
    young = case_store.clients.add({**CLIENT, "date_of_birth": "01/01/2012", "nhs_number": None},
                                   today=TODAY).ids[0]
    values = {"received_date": "2026-10-01", "source": "SELF", "reasons": ["DIET"]}
    with pytest.raises(PermissionDenied, match="override the age limit"):
        case_store.referrals.add(young, values, age_override=True, today=TODAY)
    _as(case_store, "manager")
    assert case_store.referrals.add(young, values, age_override=True, today=TODAY).entity == "referral"


def test_every_write_sends_one_change_notice_after_its_commit_and_a_refused_one_sends_none(case_store):
    heard: list[Changes] = []
    committed: list[int] = []

    def listener(changes):
        heard.append(changes)
        # The notice comes after the commit: a second connection already sees the row.
        committed.append(raw_connect(case_store.path).execute("SELECT COUNT(*) FROM clients").fetchone()[0])

    case_store.on_change(listener)
    case_store.sign_in("coord", "amber-kettle-42")
    client_id = case_store.clients.add(CLIENT, today=TODAY).ids[0]
    assert [(c.entity, c.ids, c.action) for c in heard] == [("client", (client_id,), "create")]
    assert committed == [1]
    _as(case_store, "champion")
    with pytest.raises(PermissionDenied):
        case_store.clients.update(client_id, {"first_name": "Zoe"}, expected_version=1, today=TODAY)
    assert len(heard) == 1
    case_store.clients.search("Zoë")        # reads send nothing
    assert len(heard) == 1


def test_a_write_that_fails_half_way_leaves_nothing_and_no_audit(case_store):
    case_store.sign_in("coord", "amber-kettle-42")
    audit_rows = raw_connect(case_store.path).execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    with pytest.raises(Exception):
        case_store.referrals.close_many([999_999], "2026-10-02", "COMPLETED", today=TODAY)
    assert raw_connect(case_store.path).execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_rows
