import os

# Before any Qt import: a machine with no display would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Cheap argon2 parameters for the whole run (db/accounts.py reads this once, at import, so it
# is set before anything imports db). An environment variable rather than a setter, so CLI
# tests run as subprocesses inherit it. tests/db/test_password_hashing.py checks that without
# it real databases get RFC 9106 parameters, and that hashes of either cost still sign in.
os.environ["HTDESK_TESTS_ONLY_CHEAP_PASSWORD_HASHES"] = "insecure-for-tests-only"

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _per_run_user_folders(tmp_path_factory):
    """The per-user data and cache folders (logs; the postcode reference built from the shipped
    files) in one folder per run, never the developer's own, and none of the developer's HTDESK_*
    settings: a run neither depends on nor changes what a previous run or the real app left."""
    base = tmp_path_factory.mktemp("user-folders")
    names = ("XDG_DATA_HOME", "XDG_CACHE_HOME", "HTDESK_DB", "HTDESK_DATA_DIR", "HTDESK_CACHE_DIR",
             "HTDESK_PASSWORD", "HTDESK_NEW_PASSWORD")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ["XDG_DATA_HOME"] = str(base / "data")
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")     # shared: the reference is built once per run
    yield
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


@pytest.fixture(scope="session")
def _case_store_template(tmp_path_factory):
    """Built once per run; each test gets a copy."""
    from db.store import CaseStore
    path = tmp_path_factory.mktemp("template") / "t.sqlite3"
    store = CaseStore.create_new(path, service_name="Test Health Trainers", service_code="TEST",
                                 admin_username="admin", admin_password="amber-kettle-42")
    store.sign_in("admin", "amber-kettle-42")
    staff_ids = {
        "trainer": store.service.add_staff("Amy Trainer", "TRAINER", username="trainer", password="amber-kettle-42"),
        "trainer2": store.service.add_staff("Ben Trainer", "TRAINER", username="trainer2", password="amber-kettle-42"),
        "champion": store.service.add_staff("Cath Champion", "CHAMPION", username="champion", password="amber-kettle-42"),
        "coord": store.service.add_staff("Colin Coordinator", "COORD", username="coord", password="amber-kettle-42"),
        "manager": store.service.add_staff("Mo Manager", "MANAGER", username="manager", password="amber-kettle-42"),
    }
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, staff_ids


@pytest.fixture
def case_store(tmp_path, _case_store_template):
    """A new database with one account of every role (password 'pass'), signed in as the administrator."""
    from db.connection import copy_database
    from db.store import CaseStore
    template, staff_ids = _case_store_template
    path = tmp_path / "t.sqlite3"
    copy_database(template, path)
    store = CaseStore.open(path)
    store.sign_in("admin", "amber-kettle-42")
    store.staff_ids = dict(staff_ids)
    yield store
    store.close()
