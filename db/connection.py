"""Opening a database file: one function sets every connection up the same way.

Foreign keys on, WAL journal, a busy timeout so two programs wait for each other
instead of failing, and a check that the file is a database of this app before
anything is written to it. Pending migrations run only after a verified backup.
"""
from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from . import backup, paths
from .errors import BadPath, DatabaseUnusable
from .migrations import migrations

# PRAGMA application_id marks our files ("HTDK"), so another app's SQLite file
# is recognised and left alone.
APPLICATION_ID = 0x4854444B
BUSY_TIMEOUT_MS = 5000
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_path(path: Path, create: bool) -> None:
    if path.is_dir():
        raise BadPath(f"{path} is a folder, not a database file. Give the path of a .sqlite3 file.")
    if not path.parent.exists():
        raise BadPath(f"The folder {path.parent} does not exist. Create it first or choose another place for the database.")
    if not path.exists():
        if not create:
            raise BadPath(f"There is no database at {path}. Create one with 'htdesk init' (or 'htdesk demo' for a demo), or give the right path with --db.")
        return
    with open(path, "rb") as f:
        head = f.read(16)
    if head and head != _SQLITE_MAGIC:
        raise DatabaseUnusable(f"{path} is not a database of Health Trainer Desk (it is not an SQLite file). Check the path given with --db.")


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A raw connection set up the app's way (used by the store and by workers)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            # WAL lets readers carry on while one program writes. synchronous=FULL
            # syncs at every commit, so even a power cut loses no committed record.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _unusable(path, exc) from exc
    return conn


def _unusable(path: Path, exc: Exception) -> DatabaseUnusable:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseUnusable(f"The database {path} is locked by another program. Wait a moment and try again, or close the other program.")
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return DatabaseUnusable(f"{path} is damaged or is not a database of Health Trainer Desk. Restore it from a backup ('htdesk restore').")
    return DatabaseUnusable(f"The database {path} cannot be used: {exc}.")


def _check_ours(path: Path) -> None:
    """Look before touching: setting WAL on another program's file would change it."""
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            app_id = probe.execute("PRAGMA application_id").fetchone()[0]
            tables = probe.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise _unusable(path, exc) from exc
    if app_id != APPLICATION_ID and tables:
        raise DatabaseUnusable(f"{path} is an SQLite database of another program, not of Health Trainer Desk. "
                               "Check the path given with --db.")


def open_database(path: Path | str, *, create: bool = False, migrate: bool = True) -> Database:
    """Open (or create) the app's database, bringing its schema up to date."""
    path = Path(path)
    _check_path(path, create)
    is_new = not path.exists() or path.stat().st_size == 0
    if not is_new:
        _check_ours(path)
    elif not create:
        raise BadPath(f"{path} is an empty file, not a Health Trainer Desk database. Create one with 'htdesk init' or 'htdesk demo'.")
    conn = connect(path)
    db = Database(conn)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        if migrate:
            pending = migrations.pending(db)
            if pending:
                if not is_new and tables:
                    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                    target = paths.backups_dir(path) / f"{path.stem}-before-{pending[0].name}-{stamp}.sqlite3"
                    backup.backup_database(conn, target)
                migrations.apply(db)
            if app_id != APPLICATION_ID:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _unusable(path, exc) from exc
    except Exception:
        conn.close()
        raise
    return db


@contextlib.contextmanager
def transaction(db: Database):
    """The one way a write begins: BEGIN IMMEDIATE takes the write lock before the first
    read, so the busy timeout applies (a deferred BEGIN that reads and then writes after
    another program's commit fails at once with SQLITE_BUSY). Nested: a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
