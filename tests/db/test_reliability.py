"""Reliability under load and faults, the fast part (issue 16): no raw sqlite3 error leaves the
store; busy, full and read-only databases give one plain sentence and change nothing; files are
made under a temporary name and leftovers of a killed run are swept. The long part (minutes of
load, hundreds of kills and fuzzed workbooks) is benchmarks/reliability.py."""
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from db import connection, driver
from db.errors import (DatabaseBusy, DatabaseUnusable, HTDeskError, StorageFull, StorageReadOnly, StoreFault,
                       OutputUnwritable)
from db.store import CaseStore
from rawdb import raw_connect

NEW_CLIENT = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01", "gender": "2",
              "ethnicity": "A"}


@pytest.fixture
def quick_timeout(monkeypatch):
    """A 0.3 s busy timeout, so a test of 'another program holds the lock' takes no 5 s."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)


def _count(store, table="clients"):
    return store.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_write_waiting_past_the_busy_timeout_is_a_plain_busy_error_and_changes_nothing(case_store, quick_timeout):
    path = case_store.path
    case_store.close()
    store = CaseStore.open(path)
    store.sign_in("admin", "amber-kettle-42")
    audit_before = _count(store, "audit")
    holder = raw_connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseBusy) as caught:
            store.clients.add(dict(NEW_CLIENT))
        assert time.perf_counter() - started >= 0.25        # it waited for the lock, not failed at once
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not isinstance(caught.value, driver.Error) and isinstance(caught.value.__cause__, driver.Error)
    assert "in use by another program" in str(caught.value) and "Try again" in str(caught.value)
    assert caught.value.retryable
    assert _count(store) == 0 and _count(store, "audit") == audit_before
    store.clients.add(dict(NEW_CLIENT))                       # the lock released: the same call works
    assert _count(store) == 1
    store.close()


def test_a_full_disk_is_one_plain_sentence_and_nothing_is_audited(case_store):
    # SQLite's own page limit gives exactly the error of a full disk (SQLITE_FULL).
    conn = case_store.db.conn
    audit_before = _count(case_store, "audit")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageFull) as caught:
        for i in range(200):
            case_store.clients.add({**NEW_CLIENT, "first_name": f"Ann{'x' * 40}{i}", "address_line_1": "y" * 90, "town": "z" * 60})
    assert "disk" in str(caught.value) and "full" in str(caught.value) and "Free some space" in str(caught.value)
    added = _count(case_store)
    conn.execute("PRAGMA max_page_count = 1073741823")
    # Only the writes that completed are there, each with its audit event; none half-done.
    assert _count(case_store, "audit") - audit_before == added
    assert connection.backup.integrity_errors(conn) == []


def test_a_read_only_database_is_one_plain_sentence(case_store):
    case_store.db.conn.execute("PRAGMA query_only = 1")
    with pytest.raises(StorageReadOnly) as caught:
        case_store.clients.add(dict(NEW_CLIENT))
    assert "cannot be written" in str(caught.value)
    case_store.db.conn.execute("PRAGMA query_only = 0")
    assert _count(case_store) == 0


def test_a_program_fault_in_sqlite_is_not_a_raw_sqlite_error():
    fault = connection.translate(sqlite3.ProgrammingError("Cannot operate on a closed database."))
    assert isinstance(fault, StoreFault) and not isinstance(fault, (sqlite3.Error, HTDeskError))
    assert isinstance(connection.translate(sqlite3.DatabaseError("file is not a database")), DatabaseUnusable)


# --- files that are not ours ---------------------------------------------------------------------------

def test_a_foreign_sqlite_file_is_refused_even_with_no_tables_and_left_unchanged(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = raw_connect(path)
    conn.execute("PRAGMA user_version = 7")      # another program's empty file: a header, no tables
    conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseUnusable, match="another program"):
        CaseStore.open(path)
    assert path.read_bytes() == before and not (tmp_path / "other.sqlite3-wal").exists()


def test_a_database_of_a_newer_version_is_refused_naming_the_version_and_left_unchanged(case_store):
    path = case_store.path
    conn = case_store.db.conn
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('htdesk', '0099_from_the_future', '2030-01-01')")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app_version', '9.1.0')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    case_store.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseUnusable) as caught:
        CaseStore.open(path).sign_in("admin", "amber-kettle-42")     # encrypted: looked at once unlocked
    assert str(caught.value).startswith("This database was made by a newer version of Health Trainer Desk "
                                        "(version 9.1.0): install that version or newer.")
    assert path.read_bytes() == before


def test_a_fifo_is_refused_at_once_not_opened(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "pipe.sqlite3"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(DatabaseUnusable, match="not a regular file"):
        CaseStore.open(fifo)
    with pytest.raises(DatabaseUnusable, match="not a regular file"):
        CaseStore.create_new(fifo, service_name="S", service_code="S1", admin_username="a", admin_password="strong-fennel-19")
    assert time.perf_counter() - started < 2


# --- no partial files ------------------------------------------------------------------------------------

def test_a_failed_init_leaves_nothing_behind(tmp_path, monkeypatch):
    from db import services

    def full(*a, **k):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(services, "create_service", full)
    target = tmp_path / "new.sqlite3"
    with pytest.raises(StorageFull):
        CaseStore.create_new(target, service_name="S", service_code="S1", admin_username="admin",
                             admin_password="strong-fennel-19")
    assert os.listdir(tmp_path) == []


def test_leftovers_of_a_killed_run_are_swept_at_the_next_start_but_not_those_of_a_live_one(case_store, tmp_path):
    path = case_store.path
    case_store.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    backups = tmp_path / "backups"
    backups.mkdir(exist_ok=True)
    killed = [tmp_path / f".t{connection.TEMP_MARK}{dead_pid}-abcdef.sqlite3",
              backups / f".t-2026{connection.TEMP_MARK}{dead_pid}-abcdef.partial"]
    live = tmp_path / f".demo{connection.TEMP_MARK}{os.getppid()}-abcdef.sqlite3"   # a process still running
    for f in killed + [live]:
        f.write_bytes(b"half a file")
    CaseStore.open(path).close()
    assert [f.exists() for f in killed] == [False, False]
    assert live.exists()


def test_a_backup_that_cannot_be_written_leaves_no_partial_file_and_is_not_audited(case_store, tmp_path):
    audit_before = _count(case_store, "audit")
    target = tmp_path / "out" / "b.sqlite3"
    target.parent.mkdir()
    conn = case_store.db.conn
    # The copy fails part-way as on a full disk: the destination refuses more pages.
    real_backup = driver.Connection.backup

    class Failing:
        def __init__(self, conn):
            self.conn = conn

        def __getattr__(self, name):
            return getattr(self.conn, name)

        def backup(self, dest, **kw):
            dest.execute("PRAGMA max_page_count = 2")
            return real_backup(self.conn, dest, **kw)
    case_store.db.conn = Failing(conn)
    try:
        with pytest.raises(OutputUnwritable, match="disk is full"):
            case_store.admin.backup(target)
    finally:
        case_store.db.conn = conn
    assert os.listdir(target.parent) == []
    assert _count(case_store, "audit") == audit_before
