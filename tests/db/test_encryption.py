"""Encryption at rest (issue 14): the database key wrapped for every account and the recovery key,
sealed stores, conversion of a plain database, encrypted backups, and the modes of the files."""
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from db import keys
from db.connection import copy_database
from db.errors import AuthenticationError, DatabaseUnusable, PermissionDenied
from db.store import CaseStore
from rawdb import raw_connect

PW = "amber-kettle-42"
FIXTURES = Path(__file__).parent.parent / "fixtures"
ROOT = Path(__file__).parent.parent.parent


def _stdlib_cannot_read(path: Path) -> bool:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        return "not a database" in str(exc)
    finally:
        conn.close()
    return False


def test_every_account_opens_the_file_and_nothing_else_does(case_store):
    path = case_store.path
    case_store.close()
    assert keys.is_encrypted_file(path) and _stdlib_cannot_read(path)
    for username in ("admin", "trainer", "trainer2", "champion", "coord", "manager"):
        with CaseStore.open(path) as store:
            assert store.sealed and store.has_accounts() and store.service_name == "Test Health Trainers"
            with pytest.raises(PermissionDenied, match="Sign in first"):
                store.clients.search("a")
            assert store.sign_in(username, PW).username == username
            assert not store.sealed and store.service.get().code == "TEST"
    with CaseStore.open(path) as store:
        for username, password in (("trainer", "amber-kettle-43"), ("nobody", PW), ("trainer", "")):
            with pytest.raises(AuthenticationError, match="Wrong username or password"):
                store.sign_in(username, password)
            assert store.sealed
    # The key file names no account and holds no key in clear.
    text = keys.key_file_of(path).read_text()
    assert not any(name in text for name in ("trainer", "champion", "coord", "manager", "admin"))


def test_a_missing_key_file_does_not_open_the_database(case_store):
    path = case_store.path
    case_store.close()
    keys.key_file_of(path).rename(path.with_name("elsewhere.keys"))
    with pytest.raises(DatabaseUnusable, match="its key file \\(t.sqlite3.keys\\) is missing"):
        CaseStore.open(path)
    # Another database's key file does not open it either.
    other = path.with_name("other.sqlite3")
    CaseStore.create_new(other, service_name="Other Health Trainers", service_code="OTHER",
                         admin_username="admin", admin_password=PW).close()
    shutil.copy(keys.key_file_of(other), keys.key_file_of(path))
    with pytest.raises(DatabaseUnusable):
        CaseStore.open(path).sign_in("admin", PW)


def test_the_recovery_key_opens_it_for_an_administrator_who_then_chooses_a_password(tmp_path):
    path = tmp_path / "svc.sqlite3"
    made = CaseStore.create_new(path, service_name="Tyneside Health Trainers", service_code="TYNE",
                                admin_username="boss", admin_password=PW)
    recovery = made.recovery_key
    made.sign_in("boss", PW)
    made.service.add_staff("Amy Trainer", "TRAINER", username="amy", password=PW)
    made.close()
    assert len(recovery.replace("-", "")) == 32
    with CaseStore.open(path) as store:
        with pytest.raises(AuthenticationError, match="does not open this database"):
            store.sign_in_with_recovery_key("boss", "AAAA-" * 7 + "AAAA")
        with pytest.raises(AuthenticationError, match="administrator only"):
            store.sign_in_with_recovery_key("amy", recovery)
        assert store.sealed
        # Typed loosely: lower case, no dashes.
        actor = store.sign_in_with_recovery_key("boss", recovery.replace("-", " ").lower())
        assert actor.username == "boss" and store.must_change_password
        store.admin.set_password("boss", "copper-meadow-lantern")
        assert not store.must_change_password
    with CaseStore.open(path) as store:
        with pytest.raises(AuthenticationError):
            store.sign_in("boss", PW)
    with CaseStore.open(path) as store:
        assert store.sign_in("boss", "copper-meadow-lantern").username == "boss"
        events = store.db.conn.execute("SELECT detail FROM audit WHERE action = 'login'").fetchall()
        assert ("with the recovery key",) in events
        # A new recovery key replaces the old one.
        newer = store.admin.new_recovery_key()
    with CaseStore.open(path) as store:
        with pytest.raises(AuthenticationError):
            store.sign_in_with_recovery_key("boss", recovery)
    with CaseStore.open(path) as store:
        assert store.sign_in_with_recovery_key("boss", newer).username == "boss"


def test_a_demo_database_holds_no_surname_in_its_bytes_and_sqlite3_cannot_read_it(tmp_path):
    from db.demo import create_demo
    path = tmp_path / "demo.sqlite3"
    summary = create_demo(path, clients=40, seed=3, today=date(2026, 11, 1))
    assert summary.recovery_key and summary["clients"] == 40
    conn = raw_connect(path, "admin", "demo")
    # Six letters or more: a four-letter name ('Bell') turns up by chance in 700 KB of random bytes about
    # once in a hundred runs; six letters, about once in 10^8.
    surnames = {r[0] for r in conn.execute("SELECT last_name FROM clients") if len(r[0]) >= 6}
    conn.close()
    assert len(surnames) >= 5
    files = [p for p in tmp_path.iterdir() if p.name.startswith("demo.sqlite3")]
    data = b"".join(p.read_bytes() for p in files)
    found = [s for s in surnames if s.encode() in data or s.upper().encode() in data]
    assert found == [] and b"SQLite format 3" not in data
    assert _stdlib_cannot_read(path)
    with CaseStore.open(path) as store:
        assert store.is_demo and store.sealed
        store.sign_in("trainer1", "demo")


def _plain_service(tmp_path) -> Path:
    """A plain database of an earlier version, with an account and a client (as every install had)."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURES / "schema_head_0009.sqlite3", path)
    with CaseStore.open(path) as store:
        store.act_as_system()
        store.service.add_staff("Bo Boss", "MANAGER", username="boss", password=PW, extra_roles=("ADMIN",))
    return path


def test_a_plain_database_is_encrypted_at_its_first_sign_in_keeping_every_row(tmp_path):
    path = _plain_service(tmp_path)
    plain = sqlite3.connect(path)
    tables = [r[0] for r in plain.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                                          "'CREATE VIRTUAL%' ORDER BY name")]
    before = {t: plain.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    plain.close()
    assert not keys.is_encrypted_file(path)
    with CaseStore.open(path) as store:
        assert not store.sealed
        store.sign_in("boss", PW)
        assert [c.client_ref for c in store.clients.search("zoe")] == ["HT-000001"]
    assert keys.is_encrypted_file(path) and _stdlib_cannot_read(path) and keys.key_file_of(path).exists()
    conn = raw_connect(path, "boss", PW)
    after = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    conn.close()
    assert {t: n for t, n in after.items() if t != "audit"} == {t: n for t, n in before.items() if t != "audit"}
    assert after["audit"] > before["audit"]          # the sign-in (and the check's view), nothing lost
    # No copy of the data is left in clear: the backup taken first is encrypted too, with its key file.
    kept = list((tmp_path / "backups").glob("*.sqlite3"))
    assert any("before-encryption" in p.name for p in kept)
    assert all(keys.is_encrypted_file(p) and keys.key_file_of(p).exists() for p in kept)
    with CaseStore.open(path) as store:
        assert store.sealed
        store.sign_in("boss", PW)


def test_an_encrypted_backup_restores_with_an_administrators_password_or_the_recovery_key(tmp_path):
    path = tmp_path / "a" / "svc.sqlite3"
    path.parent.mkdir()
    made = CaseStore.create_new(path, service_name="Tyneside Health Trainers", service_code="TYNE",
                                admin_username="boss", admin_password=PW)
    recovery = made.recovery_key
    made.sign_in("boss", PW)
    made.clients.add({"first_name": "Zoë", "last_name": "Okafor", "date_of_birth": "02/02/1980", "gender": "2",
                      "ethnicity": "A"}, today=date(2026, 1, 1))
    backup = made.admin.backup()
    made.close()
    assert keys.is_encrypted_file(backup) and _stdlib_cannot_read(backup) and keys.key_file_of(backup).exists()
    # A new PC: the backup and its key file, opened with the password or the recovery key.
    with pytest.raises(AuthenticationError):
        CaseStore.restore_new(tmp_path / "b.sqlite3", backup, username="boss", password="not-the-password-1")
    assert not (tmp_path / "b.sqlite3").exists()
    for name, unlock in (("b", {"username": "boss", "password": PW}), ("c", {"recovery_key": recovery})):
        target = tmp_path / f"{name}.sqlite3"
        CaseStore.restore_new(target, backup, **unlock)
        with CaseStore.open(target) as store:
            store.sign_in("boss", PW)
            assert [c.last_name for c in store.clients.search("okafor")] == ["Okafor"]
    # Into the database itself: its own backup opens with its key; the database keeps its key file.
    with CaseStore.open(path) as store:
        store.sign_in("boss", PW)
        store.clients.add({"first_name": "Ann", "last_name": "Later", "date_of_birth": "02/02/1980", "gender": "2",
                           "ethnicity": "A"}, today=date(2026, 1, 1))
        kept = store.admin.restore(backup)
        assert kept is not None and keys.is_encrypted_file(kept)
        assert store.clients.search("later") == []
        # Backups are files at rest: looking at one (restore's check) leaves no -wal or -shm beside it.
        assert not [p.name for p in backup.parent.iterdir() if p.name.endswith(("-wal", "-shm"))]
    with CaseStore.open(path) as store:
        store.sign_in_with_recovery_key("boss", recovery)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_database_its_companions_key_file_backups_and_log_are_the_owners_only(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "HTDESK_DATA_DIR": str(data), "HTDESK_PASSWORD": PW, "XDG_CACHE_HOME": str(tmp_path / "c"),
           "QT_QPA_PLATFORM": "offscreen"}
    db = tmp_path / "svc" / "svc.sqlite3"
    db.parent.mkdir()
    sheet = tmp_path / "svc" / "recovery.pdf"

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "desktop.cli", *args, "--db", str(db)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout
    out = run("init", "--service-name", "Tyneside Health Trainers", "--service-code", "TYNE", "--admin", "boss",
              "--phone", "0191 000 1234", "--recovery-sheet", str(sheet))
    assert "recovery key (shown only now)" in out
    from pypdf import PdfReader
    key = out.split("(shown only now): ")[1].split()[0]
    assert key in PdfReader(sheet).pages[0].extract_text().splitlines()     # printed on one line, never broken
    run("backup", "--user", "boss")
    newer = run("recovery-key", "--user", "boss").split("(shown only now): ")[1].split()[0]
    with CaseStore.open(db) as store:
        with pytest.raises(AuthenticationError):
            store.sign_in_with_recovery_key("boss", key)
    with CaseStore.open(db) as store:
        assert store.sign_in_with_recovery_key("boss", newer).username == "boss"
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "c" != p.relative_to(tmp_path).parts[0]]
    named = {p.name for p in files}
    assert {"svc.sqlite3", "svc.sqlite3.keys", "recovery.pdf"} <= named
    assert any(n.endswith(".sqlite3.keys") and n != "svc.sqlite3.keys" for n in named)     # the backup's
    assert {p.name: oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}
    assert _mode(db.parent / "backups") == 0o700
    # SQLite gives the -wal and -shm the database's mode while a program has it open.
    with CaseStore.open(db) as store:
        store.sign_in("boss", PW)
        companions = [Path(str(db) + s) for s in ("-wal", "-shm")]
        assert all(p.exists() and _mode(p) == 0o600 for p in companions)


def test_an_encrypted_database_is_backed_up_encrypted_before_its_schema_is_migrated(tmp_path):
    from db import connection, migrations, plain_to_encrypted
    old = tmp_path / "plain-old.sqlite3"
    shutil.copy(FIXTURES / "schema_head_0009.sqlite3", old)
    path = tmp_path / "svc.sqlite3"
    key, recovery = keys.new_database_key(), keys.new_recovery_key()
    conn = connection.connect(old)
    plain_to_encrypted.export_encrypted(conn, path, key)          # an encrypted file of an earlier schema
    conn.close()
    keyfile = keys.KeyFile.new(path)
    keyfile.set_recovery(key, recovery)
    keyfile.save()
    with CaseStore.open(path) as store, pytest.raises(AuthenticationError, match="administrator only"):
        store.sign_in_with_recovery_key("nobody", recovery)     # opened (and migrated) before the account check
    kept = list((tmp_path / "backups").glob("svc-before-*.sqlite3"))
    assert len(kept) == 1 and keys.is_encrypted_file(kept[0]) and _stdlib_cannot_read(kept[0])
    raw = connection.connect(kept[0], readonly=True, key=keys.KeyFile.load(kept[0]).unwrap_recovery(recovery))
    steps = {r[0] for r in raw.execute("SELECT name FROM _sqlite_migrations")}
    raw.close()
    assert "0012_reach_figures" not in steps and "0005_drop_code_lists" in steps     # as it was before
    conn = connection.connect(path, key=key)
    from sqlite_utils import Database
    assert migrations.migrations.pending(Database(conn)) == []
    conn.close()
