import os

# Before any Qt import: a machine with no display would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Cheap argon2 parameters for the whole run (db/accounts.py reads this once, at import, so it
# is set before anything imports db). An environment variable rather than a setter, so CLI
# tests run as subprocesses inherit it. tests/db/test_password_hashing.py checks that without
# it real databases get RFC 9106 parameters, and that hashes of either cost still sign in.
os.environ["HTDESK_TESTS_ONLY_CHEAP_PASSWORD_HASHES"] = "insecure-for-tests-only"

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def _case_store_template(tmp_path_factory):
    """Built once per run; each test gets a copy."""
    from db.store import CaseStore
    path = tmp_path_factory.mktemp("template") / "t.sqlite3"
    store = CaseStore.create_new(path, service_name="Test Health Trainers", service_code="TEST",
                                 admin_username="admin", admin_password="pass")
    store.sign_in("admin", "pass")
    staff_ids = {
        "trainer": store.add_staff("Amy Trainer", "TRAINER", username="trainer", password="pass"),
        "trainer2": store.add_staff("Ben Trainer", "TRAINER", username="trainer2", password="pass"),
        "champion": store.add_staff("Cath Champion", "CHAMPION", username="champion", password="pass"),
        "coord": store.add_staff("Colin Coordinator", "COORD", username="coord", password="pass"),
        "manager": store.add_staff("Mo Manager", "MANAGER", username="manager", password="pass"),
    }
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, staff_ids


@pytest.fixture
def case_store(tmp_path, _case_store_template):
    """A new database with one account of every role (password 'pass'), signed in as the administrator."""
    import shutil
    from db.store import CaseStore
    template, staff_ids = _case_store_template
    path = tmp_path / "t.sqlite3"
    shutil.copy(template, path)
    store = CaseStore.open(path)
    store.sign_in("admin", "pass")
    store.staff_ids = dict(staff_ids)
    yield store
    store.close()
