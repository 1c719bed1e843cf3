"""Issue 14, accounts and settings through the store: each test fails if a defect found by trying the
app as a new user would comes back (passwords, sign-in, the last administrator, ended staff, letters
with no way to reach the service, imports, restores of another service's backup)."""
from __future__ import annotations

import shutil
import statistics
import time
from datetime import date, datetime, timedelta

import pytest

from db import accounts
from db.errors import AuthenticationError, PermissionDenied, ValidationError
from db.store import CaseStore
from rawdb import raw_connect
from db import keys

PW = "amber-kettle-42"


def _other(case_store) -> CaseStore:
    return CaseStore.open(case_store.path)


# --- passwords (NCSC) -----------------------------------------------------------------------------

@pytest.mark.parametrize("password,why", [
    ("1234", "at least 10"), ("demo", "at least 10"), ("password", "at least 10"),
    ("password123", "too common"), ("qwertyuiop", "too common"), ("liverpool1", "too common"),
    ("P@ssw0rd2024", "too common"), ("newtrainer-999", "username"), ("test-health-trainers-9", "service"),
])
def test_weak_passwords_are_refused_with_the_reason(case_store, password, why):
    with pytest.raises(ValidationError, match=why):
        case_store.service.add_staff("Nia New", "TRAINER", username="newtrainer", password=password)
    with pytest.raises(ValidationError, match=why):
        case_store.admin.set_password("coord" if why != "username" else "trainer",
                                      password.replace("newtrainer", "trainer"))
    assert "newtrainer" not in {a.username for a in case_store.admin.accounts()}


def test_a_long_uncommon_password_with_no_composition_rules_is_taken(case_store):
    case_store.service.add_staff("Nia New", "TRAINER", username="newtrainer", password="plum tractor singing")
    with _other(case_store) as s:
        assert s.sign_in("newtrainer", "plum tractor singing").username == "newtrainer"


def test_a_new_database_refuses_a_weak_first_password_or_one_built_from_the_service(tmp_path):
    for password in ("demo", "tyneside-2026"):
        with pytest.raises(ValidationError):
            CaseStore.create_new(tmp_path / "n.sqlite3", service_name="Tyneside Health Trainers",
                                 service_code="TYNE", admin_username="boss", admin_password=password)
    assert not (tmp_path / "n.sqlite3").exists()


# --- sign-in answers the same way ------------------------------------------------------------------

def test_unknown_locked_ended_and_wrong_answer_alike_and_lock_is_told_only_to_the_right_password(case_store):
    case_store.admin.set_locked("trainer", True)
    case_store.admin.end_account("trainer2")
    with _other(case_store) as s:
        answers = set()
        for username in ("nobody", "trainer", "trainer2", "coord"):
            with pytest.raises(AuthenticationError) as exc:
                s.sign_in(username, "wrong-guess-xyz")
            answers.add(str(exc.value))
        assert answers == {"Wrong username or password. Check both and try again."}
        with pytest.raises(AuthenticationError, match="is locked"):
            s.sign_in("trainer", PW)
        with pytest.raises(AuthenticationError, match="has ended"):
            s.sign_in("trainer2", PW)


def test_unknown_usernames_take_as_long_as_wrong_passwords(case_store, monkeypatch):
    # Production-cost hashing for this test only: cheap hashes would hide a missing dummy hash in noise.
    from argon2 import PasswordHasher
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1))
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    case_store.admin.set_password("coord", PW)      # hashed at that cost; the key file follows

    def timed(username):
        took = []
        for _ in range(5):
            with _other(case_store) as s:
                started = time.perf_counter()
                with pytest.raises(AuthenticationError):
                    s.sign_in(username, "wrong-guess-xyz")
                took.append(time.perf_counter() - started)
        return statistics.median(took)
    timed("nobody")                                 # the dummy hash is made once
    unknown, known = timed("nobody"), timed("coord")
    assert unknown > known * 0.5, (unknown, known)


def test_a_password_typed_into_the_username_box_is_not_kept_in_the_audit(case_store):
    with _other(case_store) as s, pytest.raises(AuthenticationError):
        s.sign_in("plum tractor singing", "")
    # A wrong sign-in cannot open the encrypted database: it is counted in the key file (without the
    # name typed) and written to the audit by the next sign-in that opens it.
    assert "plum tractor" not in keys.key_file_of(case_store.path).read_text()
    with _other(case_store) as s:
        s.sign_in("admin", "amber-kettle-42")
    rows = raw_connect(case_store.path).execute("SELECT * FROM audit").fetchall()
    assert not any("plum tractor" in str(r) for r in rows)
    assert any(r[3] == "failed_login" for r in rows)


def test_a_staff_member_who_has_left_cannot_sign_in(case_store):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    case_store.db.conn.execute("UPDATE staff SET end_date = ? WHERE full_name = 'Amy Trainer'", (yesterday,))
    case_store.db.conn.execute("UPDATE staff SET active = 0 WHERE full_name = 'Ben Trainer'")
    case_store.db.conn.commit()
    with _other(case_store) as s:
        for who in ("trainer", "trainer2"):
            with pytest.raises(AuthenticationError, match="has ended"):
                s.sign_in(who, PW)
        assert s.actor is None
        assert s.sign_in("coord", PW).username == "coord"


def test_ending_an_account_ends_its_staff_record_and_is_audited(case_store):
    case_store.admin.end_account("trainer")
    row = case_store.db.conn.execute("SELECT s.active, s.end_date, a.ended_on FROM staff s JOIN accounts a "
                                     "ON a.staff_id = s.id WHERE a.username = 'trainer'").fetchone()
    assert row == (0, date.today().isoformat(), date.today().isoformat())
    assert case_store.db.conn.execute("SELECT COUNT(*) FROM audit WHERE detail = 'trainer: account ended' "
                                      "AND username = 'admin'").fetchone()[0] == 1
    assert "Amy Trainer" not in {s.full_name for s in case_store.service.staff()}


# --- the last administrator -----------------------------------------------------------------------

def test_the_last_active_administrator_cannot_be_locked_ended_or_demoted(case_store):
    for act in (lambda: case_store.admin.set_locked("admin", True), lambda: case_store.admin.end_account("admin"),
                lambda: case_store.admin.set_roles("admin", ["MANAGER"])):
        with pytest.raises(ValidationError, match="only active administrator"):
            act()
    with _other(case_store) as s:
        assert s.sign_in("admin", PW).has("ADMIN")
    # With a second administrator, the first may be demoted; then the second is the last.
    case_store.admin.set_roles("coord", ["COORD", "ADMIN"])
    case_store.admin.set_roles("admin", ["MANAGER"])
    with pytest.raises(ValidationError, match="only active administrator"):
        case_store.admin.set_locked("coord", True)


def test_a_locked_administrator_does_not_count_and_five_wrong_passwords_lock_an_admin_only_for_a_while(case_store):
    case_store.admin.set_roles("coord", ["COORD", "ADMIN"])
    case_store.admin.set_locked("coord", True)        # allowed: admin is still active
    with pytest.raises(ValidationError, match="only active administrator"):
        case_store.admin.set_locked("admin", True)
    with _other(case_store) as s:
        for _ in range(5):
            with pytest.raises(AuthenticationError, match="Wrong username or password"):
                s.sign_in("admin", "wrong-guess-xyz")
        with pytest.raises(AuthenticationError, match=f"locked for {accounts.ADMIN_LOCKOUT_MINUTES} minutes"):
            s.sign_in("admin", PW)
    locked, until = case_store.db.conn.execute(
        "SELECT locked, locked_until FROM accounts WHERE username = 'admin'").fetchone()
    assert locked == 0 and datetime.fromisoformat(until) <= datetime.now() + timedelta(minutes=15, seconds=5)
    # The fixed time passes: the administrator signs in again, nobody had to unlock anything.
    case_store.db.conn.execute("UPDATE accounts SET locked_until = ? WHERE username = 'admin'",
                               ((datetime.now() - timedelta(seconds=1)).isoformat(timespec="seconds"),))
    case_store.db.conn.commit()
    with _other(case_store) as s:
        assert s.sign_in("admin", PW).username == "admin"


def test_five_wrong_passwords_still_lock_a_trainer_for_good(case_store):
    with _other(case_store) as s:
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                s.sign_in("trainer", "wrong-guess-xyz")
    # Counted in the key file while the database stayed sealed: the right password is now refused,
    # and the accounts table has the lock once the database is opened.
    with _other(case_store) as s, pytest.raises(AuthenticationError, match="locked"):
        s.sign_in("trainer", "amber-kettle-42")
    assert case_store.db.conn.execute("SELECT locked FROM accounts WHERE username='trainer'").fetchone()[0] == 1


# --- one-time passwords ---------------------------------------------------------------------------

def test_a_reset_gives_a_one_time_password_that_must_be_changed(case_store):
    case_store.admin.set_locked("trainer", True)
    one_time = case_store.admin.reset_password("trainer")
    assert len(one_time) >= 10
    assert one_time not in str(case_store.db.conn.execute("SELECT * FROM audit").fetchall())
    with _other(case_store) as s:
        s.sign_in("trainer", one_time)          # the reset also unlocks
        assert s.must_change_password
        s.admin.set_password("trainer", "velvet cabbage orbit")
        assert not s.must_change_password
    with _other(case_store) as s:
        with pytest.raises(AuthenticationError):
            s.sign_in("trainer", one_time)
        s.sign_in("trainer", "velvet cabbage orbit")
        with pytest.raises(PermissionDenied):
            s.admin.reset_password("coord")


# --- contact details, letters and their signer -------------------------------------------------------

def test_settings_are_checked_kept_per_service_and_audited(case_store):
    assert case_store.service.settings()["idle_lock_minutes"] == 10
    assert case_store.service.settings()["retention.years"] == 8
    case_store.service.set_settings({"idle_lock_minutes": "5", "letters.signer_name": "Pat Lead",
                                     "letters.signer_role": "Service lead", "service.website": "example.org/ht"})
    got = case_store.service.settings()
    assert got["idle_lock_minutes"] == 5 and got["letters.signer_role"] == "Service lead"
    # The assessment interval and the retention period set here are the ones the diary and the
    # retention list read.
    from db import diary
    case_store.service.set_settings({"review_interval_weeks": 8, "retention.years": 6})
    assert diary.review_weeks(case_store.db) == 8
    assert case_store.privacy.retention_due()[0] == 6
    for bad in ({"idle_lock_minutes": "0"}, {"retention.years": "eight"}, {"nonsense": 1}):
        with pytest.raises(ValidationError):
            case_store.service.set_settings(bad)
    venue = case_store.service.add_venue("LIB", "Central Library", "COMMUNITY")
    case_store.service.set_venue_days(venue, ["tue", "Thursday"])
    assert case_store.service.venue_days()[venue] == ["Tue", "Thu"]
    with _other(case_store) as s:
        s.sign_in("coord", PW)
        with pytest.raises(PermissionDenied):
            s.service.set_settings({"idle_lock_minutes": 20})


def _letter_case(case_store):
    s = case_store
    s.sign_in("coord", PW)
    client = s.clients.add({"first_name": "Zoe", "last_name": "Quill", "date_of_birth": "1970-01-01",
                            "gender": "2", "ethnicity": "A", "consent_share_gp": "Y"}).ids[0]
    referral = s.referrals.add(client, {"received_date": (date.today() - timedelta(days=20)).isoformat(),
                                        "source": "SELF", "reasons": ["ACTIVITY"]}).ids[0]
    for days in (15, 10, 5):
        s.referrals.add_contact_attempt(referral, (date.today() - timedelta(days=days)).isoformat(), "PHONE",
                                        "NOANSWER")
    return referral


def test_a_letter_is_refused_when_the_service_has_no_way_to_be_contacted_then_signed_by_the_setting(case_store):
    referral = _letter_case(case_store)
    assert "no phone number, email or address" in case_store.documents.letter_refusal("no-contact", referral)
    with pytest.raises(ValidationError, match="no phone number, email or address"):
        case_store.documents.letter_data("no-contact", referral)
    case_store.sign_in("admin", PW)
    service = case_store.service.get()
    case_store.service.update({"phone": "0191 000 1111"}, expected_version=service.row_version)
    case_store.sign_in("coord", PW)
    data = case_store.documents.letter_data("no-contact", referral)
    assert data.signed_by == "Colin Coordinator" and data.signed_role == ""
    case_store.sign_in("admin", PW)
    case_store.service.set_settings({"letters.signer_name": "Pat Lead", "letters.signer_role": "Service lead"})
    case_store.sign_in("coord", PW)
    data = case_store.documents.letter_data("no-contact", referral)
    assert (data.signed_by, data.signed_role) == ("Pat Lead", "Service lead")
    from reports.letters import build_letter
    from io import BytesIO
    from pypdf import PdfReader
    text = PdfReader(BytesIO(build_letter("no-contact", data))).pages[0].extract_text()
    assert "Pat Lead" in text and "Service lead" in text and "0191 000 1111" in text and "coord" not in text


def test_a_letter_is_never_signed_with_a_bare_username(case_store):
    referral = _letter_case(case_store)
    case_store.sign_in("admin", PW)
    case_store.service.update({"email": "ht@example.org"}, expected_version=case_store.service.get().row_version)
    case_store.service.add_staff("nb", "COORD", username="nb", password="velvet cabbage orbit")
    case_store.sign_in("nb", "velvet cabbage orbit")
    assert case_store.documents.letter_data("no-contact", referral).signed_by == "The Test Health Trainers team"



def test_the_website_setting_is_printed_on_letters(case_store):
    referral = _letter_case(case_store)
    case_store.sign_in("admin", PW)
    case_store.service.update({"phone": "0191 000 1111"}, expected_version=case_store.service.get().row_version)
    case_store.service.set_settings({"service.website": "healthtrainers.example.org"})
    case_store.sign_in("coord", PW)
    from io import BytesIO
    from pypdf import PdfReader
    from reports.letters import build_letter
    text = PdfReader(BytesIO(build_letter("no-contact", case_store.documents.letter_data("no-contact", referral)))) \
        .pages[0].extract_text()
    # In the letterhead's contact line and again among the ways to get in touch.
    assert text.count("healthtrainers.example.org") == 2 and "Website" in text

# --- import and restore ---------------------------------------------------------------------------

def test_a_view_only_administrator_cannot_import(case_store, tmp_path):
    case_store.service.add_staff("Ida IT", "ADMIN", username="ida", password="velvet cabbage orbit")
    case_store.sign_in("ida", "velvet cabbage orbit")
    with pytest.raises(PermissionDenied, match="may not import"):
        case_store.transfer.import_workbook(tmp_path / "any.xlsx", dry_run=True)


def _service_db(path, name, code):
    path.parent.mkdir(parents=True, exist_ok=True)
    with CaseStore.create_new(path, service_name=name, service_code=code, admin_username="boss",
                              admin_password=PW, contact={"phone": "0191 000 0000"}) as s:
        s.sign_in("boss", PW)
        return s.admin.backup()


def test_restore_refuses_another_services_backup_unless_its_code_is_typed(tmp_path):
    theirs = _service_db(tmp_path / "a" / "gates.sqlite3", "Gateshead Health Trainers", "GATES")
    mine = tmp_path / "b" / "tyne.sqlite3"
    _service_db(mine, "Tyneside Health Trainers", "TYNE")
    with CaseStore.open(mine) as s:
        s.sign_in("boss", PW)
        # Encrypted with the other database's key: it opens with the password boss had there.
        with pytest.raises(AuthenticationError, match="encrypted backup of Gateshead"):
            s.admin.backup_info(theirs)
        info = s.admin.backup_info(theirs, password=PW)
        assert info.services == (("GATES", "Gateshead Health Trainers"),) and info.saved_at[:4].isdigit()
        for typed in (None, "TYNE", "gate"):
            with pytest.raises(ValidationError, match="backup of another service, Gateshead"):
                s.admin.restore(theirs, confirm_code=typed, password=PW)
        assert s.service.get().code == "TYNE"
        s.admin.restore(theirs, confirm_code="gates", password=PW)
        assert s.service.get().code == "GATES"
    # The database kept its own key and key file: the restored accounts' passwords open it.
    with CaseStore.open(mine) as s:
        assert s.service_name == "Gateshead Health Trainers"
        s.sign_in("boss", PW)
        assert s.service.get().code == "GATES"


def test_a_backup_on_a_fresh_install_makes_its_folder_and_is_found_as_the_last(tmp_path):
    path = tmp_path / "fresh" / "svc.sqlite3"
    written = _service_db(path, "Tyneside Health Trainers", "TYNE")
    assert written.parent.name == "backups" and written.exists()
    with CaseStore.open(path) as s:
        s.sign_in("boss", PW)
        newest, when = s.admin.last_backup()
        assert newest == written and (datetime.now() - when).total_seconds() < 60
        stick = tmp_path / "stick"
        stick.mkdir()
        assert [f.name for f in s.admin.copy_backups(stick)] == [written.name]
        assert s.admin.copy_backups(stick) == []
        shutil.rmtree(stick)
        with pytest.raises(Exception, match="does not exist"):
            s.admin.copy_backups(stick)


def test_the_three_tries_setting_is_the_count_the_waiting_list_and_referrals_use(case_store):
    referral = _letter_case(case_store)                 # three unsuccessful tries
    assert case_store.referrals.get(referral).three_tries_reached
    assert [w.three_tries_reached for w in case_store.referrals.waiting_list() if w.referral_id == referral] == [True]
    case_store.sign_in("admin", PW)
    case_store.service.set_settings({"three_tries.attempts": 4})
    case_store.sign_in("coord", PW)
    got = case_store.referrals.get(referral)
    assert got.tries_needed == 4 and not got.three_tries_reached
    assert [w.three_tries_reached for w in case_store.referrals.waiting_list() if w.referral_id == referral] == [False]


def test_the_dna_setting_is_the_count_of_missed_sessions_the_follow_up_list_uses(case_store):
    case_store.sign_in("coord", PW)
    client = case_store.clients.add({"first_name": "Dee", "last_name": "Enay", "date_of_birth": "1970-01-01",
                                     "gender": "2", "ethnicity": "A"}).ids[0]
    referral = case_store.referrals.add(client, {"received_date": (date.today() - timedelta(days=40)).isoformat(),
                                                 "source": "SELF", "reasons": ["ACTIVITY"]}).ids[0]
    trainer = case_store.staff_ids["trainer"]
    case_store.referrals.allocate(referral, trainer)
    for days, code in ((20, "5"), (10, "3")):
        case_store.diary.add(referral, {"session_date": (date.today() - timedelta(days=days)).isoformat(),
                                        "start_time": "10:00", "mode": "PHONE", "attendance": code,
                                        "staff_id": trainer})

    def listed():
        return [f.referral_id for f in case_store.diary.follow_up() if f.referral_id == referral]
    assert listed() == []                               # one DNA: not two in a row
    case_store.sign_in("admin", PW)
    case_store.service.set_settings({"dna.in_a_row": 1})
    case_store.sign_in("coord", PW)
    assert listed() == [referral]
    case_store.sign_in("admin", PW)
    case_store.service.set_settings({"dna.in_a_row": 3})
    case_store.sign_in("coord", PW)
    assert listed() == []


def test_a_plan_is_refused_while_the_service_has_no_way_to_be_contacted(case_store):
    referral = _letter_case(case_store)
    client = case_store.referrals.get(referral).client_id
    case_store.plans.add(referral, {"agreed_date": date.today().isoformat(), "what_matters": "Walking"},
                         goals=[{"area": "ACTIVITY", "goal_text": "Walk to the shops"}])
    with pytest.raises(ValidationError, match="no phone number, email or address"):
        case_store.documents.plan_data(client)
    case_store.sign_in("admin", PW)
    case_store.service.update({"address": "1 Quay, Newcastle"}, expected_version=case_store.service.get().row_version)
    case_store.sign_in("coord", PW)
    assert case_store.documents.plan_data(client).letterhead.service.address == "1 Quay, Newcastle"
