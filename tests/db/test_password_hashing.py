"""Password hashes: RFC 9106 parameters in real use; tests run cheap without weakening what they check.

tests/conftest.py sets HTDESK_TESTS_ONLY_CHEAP_PASSWORD_HASHES for the whole run. The first
tests here start processes without it, so they see what a real installation does."""
import os
import subprocess
import sys

from argon2 import PasswordHasher, Type, extract_parameters
from rawdb import raw_connect

SWITCH = "HTDESK_TESTS_ONLY_CHEAP_PASSWORD_HASHES"


def _init(db, env):
    r = subprocess.run([sys.executable, "-m", "desktop.cli", "init", "--db", str(db), "--service-name",
                        "Hash Health Trainers", "--service-code", "HASH", "--admin", "boss"],
                       capture_output=True, text=True, timeout=120,
                       env={**env, "HTDESK_PASSWORD": "cobalt-lantern-18", "HTDESK_DATA_DIR": str(db.parent / "data")})
    assert r.returncode == 0, r.stderr
    return _stored_hash(db, "boss")


def _stored_hash(db, username):
    conn = raw_connect(db)
    try:
        return conn.execute("SELECT password_hash FROM accounts WHERE username = ?", (username,)).fetchone()[0]
    finally:
        conn.close()


def _set_hash(db, username, password_hash):
    conn = raw_connect(db)
    with conn:
        conn.execute("UPDATE accounts SET password_hash = ? WHERE username = ?", (password_hash, username))
    conn.close()
    # The key file's entries are made from the stored hashes at the next sign-in that opens the file.
    from db.store import CaseStore
    with CaseStore.open(db) as store:
        store.sign_in("admin", "amber-kettle-42")


def test_a_real_database_gets_rfc_9106_second_recommended_parameters(tmp_path):
    production_env = {k: v for k, v in os.environ.items() if k != SWITCH}
    params = extract_parameters(_init(tmp_path / "real.sqlite3", production_env))
    # RFC 9106 section 4, second recommended option: argon2id, t=3, m=64 MiB, p=4, 128-bit salt, 256-bit tag.
    assert (params.type, params.time_cost, params.memory_cost, params.parallelism) == (Type.ID, 3, 65536, 4)
    assert (params.salt_len, params.hash_len) == (16, 32)


def test_only_the_exact_switch_value_makes_hashes_cheap(tmp_path):
    code = "from db.accounts import hash_password; print(hash_password('pw'))"
    env = {k: v for k, v in os.environ.items() if k != SWITCH}
    stray = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**env, SWITCH: "1"})
    assert stray.returncode == 0, stray.stderr
    assert extract_parameters(stray.stdout.strip()).time_cost == 3
    # The test run's own setting reaches CLI tests run as subprocesses.
    params = extract_parameters(_init(tmp_path / "test.sqlite3", dict(os.environ)))
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8, 1)


def test_a_production_hash_signs_in_during_a_cheap_run_and_is_kept(case_store):
    production = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash("strong1")
    _set_hash(case_store.path, "trainer", production)
    from db.store import CaseStore
    for _ in range(2):
        other = CaseStore.open(case_store.path)
        assert other.sign_in("trainer", "strong1").username == "trainer"
        other.close()
    assert _stored_hash(case_store.path, "trainer") == production


def test_a_hash_with_old_parameters_is_rehashed_once_then_left_alone(case_store):
    old = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2).hash("amber-kettle-42")
    _set_hash(case_store.path, "trainer", old)
    from db.store import CaseStore
    seen = []
    for _ in range(3):
        other = CaseStore.open(case_store.path)
        assert other.sign_in("trainer", "amber-kettle-42").username == "trainer"
        other.close()
        seen.append(_stored_hash(case_store.path, "trainer"))
    assert seen[0] != old and seen[0] == seen[1] == seen[2]
    assert PasswordHasher().verify(seen[0], "amber-kettle-42")
