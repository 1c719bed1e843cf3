"""Opening a database file: one function sets every connection up the same way.

Foreign keys on, WAL journal, a busy timeout so two programs wait for each other
instead of failing, and a check that the file is a database of this app before
anything is written to it. Pending migrations run only after a verified backup.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import threading
from datetime import datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.db import dedupe_keys

from . import backup, driver, keys, paths
from . import pg
from .errors import (BadPath, DatabaseBusy, DatabaseUnusable, HTDeskError, OutputUnwritable, StorageFault,
                     StorageFull, StorageReadOnly, StoreFault)
from .migrations import migrations

# PRAGMA application_id marks our files ("HTDK"), so another app's SQLite file
# is recognised and left alone.
APPLICATION_ID = 0x4854444B
BUSY_TIMEOUT_MS = 5000
ENCRYPTED_CACHE_KIB = 64 * 1024      # the page cache of a connection to an encrypted file (see connect)
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_path(path: Path, create: bool) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise BadPath(f"{path} cannot be reached ({exc.strerror}). Check the path given with --db.") from exc
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise BadPath(f"{path} is a folder, not a database file. Give the path of a .sqlite3 file.")
    if info is not None and not stat.S_ISREG(info.st_mode):
        # A FIFO or a device: opening it to look would hang or read forever.
        raise DatabaseUnusable(f"{path} is not a regular file (it is a pipe, device or socket), so it cannot be "
                               "a database of Health Trainer Desk. Check the path given with --db.")
    if not path.parent.exists():
        raise BadPath(f"The folder {path.parent} does not exist. Create it first or choose another place for the database.")
    if info is None:
        if not create:
            raise BadPath(f"There is no database at {path}. Create one with 'htdesk init' (or 'htdesk demo' for a demo), or give the right path with --db.")
        return
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise StorageReadOnly(f"{path} cannot be read ({exc.strerror}). Check that you may open it, "
                              "or give another path with --db.") from exc
    if head and head != _SQLITE_MAGIC and not keys.key_file_of(path).exists():
        raise DatabaseUnusable(f"{path} is not a database of Health Trainer Desk (it is not an SQLite file). Check the path given with --db. "
                               f"If it is an encrypted database of the app, its key file ({keys.key_file_of(path).name}) "
                               "is missing: put it back beside it (or restore a backup with its .keys file).")


class Database(sqlite_utils.Database):
    """sqlite-utils' Database, but query() reads with a plain execute. sqlite-utils 4 wraps each query in
    SAVEPOINT ... RELEASE (to refuse, after running it, a statement that returns no rows). On the
    connection the window's GUI thread and its worker share, that pair could fall inside the other
    thread's transaction: a RELEASE after the other's ROLLBACK failed ("no such savepoint", a save lost),
    and a SAVEPOINT that began a transaction took the other's writes in. db/ queries only SELECTs."""

    def query(self, sql: str, params=None):
        cursor = self.conn.execute(sql, params if params is not None else ())
        if cursor.description is None:
            raise ValueError("query() is for statements that return rows; use execute() for others")
        keys = dedupe_keys(d[0] for d in cursor.description)
        return (dict(zip(keys, row)) for row in cursor)


class Connection(driver.Connection):
    """The driver's connection, carrying its database key (None: a plain file), so a backup made
    from it is encrypted with the same key and takes the key file along (db/backup.py)."""
    htdesk_key: bytes | None = None
    htdesk_path: Path | None = None


def connect(path: Path, *, readonly: bool = False, key: bytes | None = None) -> Connection:
    """A raw connection set up the app's way (used by the store, backups and workers): the key
    first (SQLCipher reads nothing before it), then foreign keys, WAL and a busy timeout."""
    target = f"file:{path}?mode=ro" if readonly else str(path)
    conn = driver.connect(target, uri=readonly, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                          factory=Connection)
    conn.htdesk_key, conn.htdesk_path = key, Path(path)
    try:
        if key is not None:
            conn.execute(keys.pragma_key(key))
            # SQLCipher decrypts (and checks the HMAC of) a page each time SQLite reads it from the OS: a
            # page cache larger than SQLite's 2 MB default keeps the pages a screen reads again decrypted
            # (at 50,000 clients the waiting list took 1.8x as long as on a plain file with the default,
            # the same with this; benchmarks/bench_encryption.py).
            conn.execute(f"PRAGMA cache_size = -{ENCRYPTED_CACHE_KIB}")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            # WAL lets readers carry on while one program writes. synchronous=FULL
            # syncs at every commit, so even a power cut loses no committed record.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except driver.DatabaseError as exc:
        conn.close()
        raise _unusable(path, exc) from exc
    return conn


# Primary SQLite result codes (the low byte of sqlite3.Error.sqlite_errorcode).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, \
    _SQLITE_CANTOPEN, _SQLITE_NOTADB = 3, 5, 6, 8, 10, 11, 13, 14, 26


def translate(exc: BaseException, path: Path | str | None = None) -> BaseException:
    """The plain error for an SQLite or disk error met while using the database: one sentence
    saying what happened and what to do. Errors of ours pass through unchanged; an SQLite
    error that is a program fault becomes StoreFault (shown with the log file, exit 1)."""
    if isinstance(exc, HTDeskError):
        return exc
    where = f"The database {path}" if path else "The database"
    the_db = f"the database {path}" if path else "the database"
    if isinstance(exc, OSError):
        return translate_os_error(exc, f"the database {path}" if path else "the database") or exc
    if not isinstance(exc, driver.Error):
        return exc
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or (primary is None and ("locked" in text or "busy" in text)):
        return DatabaseBusy(f"{where} is in use by another program, which held it for more than "
                            f"{BUSY_TIMEOUT_MS / 1000:g} seconds: nothing was changed. Try again in a moment.")
    if primary == _SQLITE_FULL or "disk is full" in text or "database or disk is full" in text:
        return StorageFull(f"The disk holding {the_db} is full: nothing was "
                           "changed. Free some space and try again.")
    if primary in (_SQLITE_READONLY, _SQLITE_PERM) or "readonly" in text or "read-only" in text:
        return StorageReadOnly(f"{where} cannot be written (the file or its folder is read-only, or you lack "
                               "permission): nothing was changed. Ask for write access, or copy it somewhere you can write.")
    if primary == _SQLITE_IOERR or "disk i/o error" in text:
        return StorageFault(f"The disk reported an error while using {the_db}: "
                            "nothing was changed. Check the disk or network drive, then try again.")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "not a database" in text or "malformed" in text \
            or "encrypted" in text:
        return DatabaseUnusable(f"{path or 'The database'} is damaged or is not a database of Health Trainer Desk. "
                                "Restore it from a backup ('htdesk restore').")
    if primary == _SQLITE_CANTOPEN or "unable to open" in text:
        return StorageReadOnly(f"{where} cannot be opened (its folder may be read-only or missing): nothing was "
                               "changed. Check the path and that you may write there.")
    fault = StoreFault(f"SQLite error {getattr(exc, 'sqlite_errorname', exc.__class__.__name__)}: {exc}")
    return fault


def translate_os_error(exc: OSError, what: str, *, output: bool = False) -> HTDeskError | None:
    """A disk error while writing `what` ("the backup /x/y") as one plain sentence, or None when it
    is not a disk error. output=True: a file the user asked for (exit 2: choose another place);
    else the database itself (exit 4)."""
    What = what[0].upper() + what[1:]
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        message, kind = (f"The disk is full, so {what} could not be written: nothing was changed. "
                         "Free some space and try again."), StorageFull
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        message, kind = (f"{What} could not be written: the folder or file is read-only, the file is open in another program, or you lack "
                         "permission. Nothing was changed. Choose a place you can write to."), StorageReadOnly
    elif exc.errno in (errno.EBUSY, getattr(errno, "ETXTBSY", -1)):
        message, kind = (f"{What} is in use by another program: nothing was changed. "
                         "Close it there and try again."), DatabaseBusy
    elif exc.errno == errno.EIO:
        message, kind = (f"The disk reported an error while writing {what}: nothing was changed. "
                         "Check the disk, then try again."), StorageFault
    else:
        return None
    return OutputUnwritable(message) if output else kind(message)


@contextlib.contextmanager
def plain_errors(path: Path | str | None = None):
    """No raw sqlite3 (or disk) error leaves the store: each becomes its plain db.errors type."""
    try:
        yield
    except (*driver.Error, OSError) as exc:
        translated = translate(exc, path)
        if translated is exc:
            raise
        raise translated from exc
    except Exception as exc:
        if not pg.is_pg_error(exc):
            raise
        from .pg.server import translate as translate_pg
        raise translate_pg(exc, str(path) if path else None) from exc


def _unusable(path: Path, exc: Exception) -> DatabaseUnusable:
    translated = translate(exc, path)
    if isinstance(translated, DatabaseUnusable):
        return translated
    return DatabaseUnusable(f"The database {path} cannot be used: {exc}.")


def _check_ours(path: Path, key: bytes | None = None) -> None:
    """Look before touching: setting WAL on another program's file would change it, and a
    database of a newer version of the app must not be written by this one."""
    try:
        probe = driver.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            if key is not None:
                probe.execute(keys.pragma_key(key))
            app_id = probe.execute("PRAGMA application_id").fetchone()[0]
            newer, version = [], None
            if app_id == APPLICATION_ID:
                newer, version = _newer_steps(probe)
        finally:
            probe.close()
    except driver.DatabaseError as exc:
        raise _unusable(path, exc) from exc
    if app_id != APPLICATION_ID:
        raise DatabaseUnusable(f"{path} is an SQLite database of another program, not of Health Trainer Desk: "
                               "it was left alone. Check the path given with --db.")
    if newer:
        shown = version or f"one with the schema step {newer[-1]}"
        raise DatabaseUnusable(f"This database was made by a newer version of Health Trainer Desk (version {shown}): "
                               "install that version or newer. Nothing was changed.")


def _newer_steps(conn: Connection) -> tuple[list[str], str | None]:
    """Schema steps applied to the file that this version does not know, and the app version
    recorded by whoever applied the last step (meta 'app_version')."""
    has = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "_sqlite_migrations" not in has:
        return [], None
    known = {m.name for m in migrations._migrations}
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                                          (migrations.name,))]
    newer = [n for n in applied if n not in known]
    version = None
    if newer and "meta" in has:
        row = conn.execute("SELECT value FROM meta WHERE key = 'app_version'").fetchone()
        version = row[0] if row else None
    return newer, version


def app_version() -> str:
    try:
        from importlib.metadata import version
        return version("htdesk")
    except Exception:
        return "0"


def open_database(path: Path | str, *, create: bool = False, migrate: bool = True,
                  key: bytes | None = None) -> Database:
    """Open (or create) the app's database, bringing its schema up to date. key: the database
    key of an encrypted file (a new file made with a key is encrypted); None: a plain file."""
    if pg.is_server_url(path):
        from .pg.server import open_server_database
        return open_server_database(str(path), create=create, migrate=migrate)
    path = Path(path)
    _check_path(path, create)
    is_new = not path.exists() or path.stat().st_size == 0
    if not is_new:
        if key is None and keys.is_encrypted_file(path):
            raise DatabaseUnusable(f"{path} is encrypted: sign in to open it.")
        _check_ours(path, key)
    elif not create:
        raise BadPath(f"{path} is an empty file, not a Health Trainer Desk database. Create one with 'htdesk init' or 'htdesk demo'.")
    sweep_leftovers(path)
    if is_new:
        backup.owner_only(path)        # its -wal and -shm take the same mode
    conn = connect(path, key=key)
    db = Database(conn)
    db._htdesk_open_side = lambda: Database(connect(path, key=key))      # see side_database
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID:
            # A new file: mark it ours before anything else, so a crash part-way leaves no
            # file that looks like another program's.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        if migrate:
            pending = migrations.pending(db)
            if pending:
                if not is_new and tables:
                    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                    target = paths.backups_dir(path) / f"{path.stem}-before-{pending[0].name}-{stamp}.sqlite3"
                    backup.backup_database(conn, target)
                migrations.apply(db)
                with transaction(db):
                    db.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app_version', ?)",
                                    (app_version(),))
    except (*driver.DatabaseError, OSError) as exc:
        conn.close()
        raise _unusable(path, exc) from exc
    except Exception:
        conn.close()
        raise
    return db


_TURNS = threading.Lock()


def _turn(db: Database) -> threading.RLock:
    """One thread at a time inside a transaction of this connection. The window's screens read on the GUI
    thread while the worker writes, through the same connection; a read's snapshot (BEGIN ... ROLLBACK)
    must never take in another thread's write, nor a write begin inside another thread's snapshot."""
    turn = getattr(db, "_htdesk_turn", None)
    if turn is None:
        with _TURNS:
            turn = getattr(db, "_htdesk_turn", None)
            if turn is None:
                turn = db._htdesk_turn = threading.RLock()
    return turn


@contextlib.contextmanager
def transaction(db: Database):
    """The one way a write begins: BEGIN IMMEDIATE takes the write lock before the first
    read, so the busy timeout applies (a deferred BEGIN that reads and then writes after
    another program's commit fails at once with SQLITE_BUSY). Nested: a savepoint.
    It waits for another thread's snapshot of this connection to end. Inside its own thread's
    read snapshot it is refused: that snapshot ends in ROLLBACK (read-only on a server), so the
    write would be lost unseen."""
    with _turn(db):
        if getattr(db, "_htdesk_reading", None) == threading.get_ident() and db.conn.in_transaction:
            raise StoreFault("A read tried to write inside its snapshot: nothing was written. "
                             "(A read that keeps what it worked out is declared @read(..., snapshot=False).)")
        if pg.is_postgres(db) and not db.conn.in_transaction:
            from .pg.server import write_transaction
            with write_transaction(db):
                yield db
            return
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


def side_database(db: Database) -> Database | None:
    """A second connection to the same database, opened on first need and kept with it: the reads a
    screen makes while the worker is inside a transaction of the first. Sharing that transaction was
    wrong twice over: the screen saw writes the worker could still roll back, and the statements of the
    two threads interleaved in one transaction (a read's savepoint could take in the worker's writes, so
    a write the worker rolled back stayed committed). None for a database opened without a way to
    open another (a test's raw connection)."""
    side = getattr(db, "_htdesk_side", None)
    if side is None:
        opener = getattr(db, "_htdesk_open_side", None)
        if opener is None:
            return None
        with _TURNS:
            side = getattr(db, "_htdesk_side", None)
            if side is None:
                side = db._htdesk_side = opener()
    return side


def close_side(db) -> None:
    side = getattr(db, "_htdesk_side", None)
    if side is not None:
        db._htdesk_side = None
        side.conn.close()


@contextlib.contextmanager
def snapshot(db: Database, *, reading: bool = False):
    """A read-only transaction: every read inside sees the same moment of the data, and other
    programs may write meanwhile (WAL). Inside another transaction of its own thread it simply joins it.
    reading=True (a declared @read): a write inside is refused (see transaction), and while another
    thread is inside a transaction of this connection (the worker importing) the read does not wait:
    it takes its snapshot on the side connection (side_database), of what is committed, so a screen
    never stalls. It yields the database to read from (the store reads through it: db/api.py)."""
    turn = _turn(db)
    if not turn.acquire(blocking=not reading):
        side = side_database(db)
        if side is None:
            yield db
            return
        db, turn = side, _turn(side)
        turn.acquire()          # another thread reading on the side connection: a short wait
    try:
        if db.conn.in_transaction:
            yield db
            return
        if reading:
            db._htdesk_reading = threading.get_ident()
        try:
            if pg.is_postgres(db):
                from .pg.server import read_snapshot
                with read_snapshot(db):
                    yield db
                return
            db.conn.execute("BEGIN")
            try:
                yield db
            finally:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
        finally:
            if reading:
                db._htdesk_reading = None
    finally:
        turn.release()


# --- files being made: a temporary name in the same folder, renamed on success ----------------------

TEMP_MARK = ".htdesk-tmp-"


def temp_beside(target: Path, suffix: str | None = None) -> Path:
    """A temporary name in target's folder that names this process, so a later start can tell
    a leftover of a killed run (its process gone) from the file of a run still going."""
    target = Path(target)
    suffix = target.suffix if suffix is None else suffix
    return target.with_name(f".{target.stem}{TEMP_MARK}{os.getpid()}-{os.urandom(3).hex()}{suffix}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def sweep_leftovers(path: Path) -> list[Path]:
    """Remove what killed runs left beside the database and in its backups folder: temporary
    files of a process that no longer runs (init, demo, backups, returns, exports)."""
    removed = []
    path = Path(path)
    for folder in (path.parent, paths.backups_dir(path)):
        try:
            names = [n for n in os.listdir(folder) if TEMP_MARK in n or n.startswith(".htdesk-return-")]
        except OSError:
            continue
        for name in names:
            removed += _remove_if_dead(folder / name)
    return removed


def sweep_folder(folder: Path) -> list[Path]:
    """The same for one folder an output was written to (a return or export's folder)."""
    removed = []
    try:
        names = [n for n in os.listdir(folder) if TEMP_MARK in n or n.startswith(".htdesk-return-")]
    except OSError:
        return removed
    for name in names:
        removed += _remove_if_dead(Path(folder) / name)
    return removed


def _remove_if_dead(file: Path) -> list[Path]:
    import re
    m = re.search(re.escape(TEMP_MARK) + r"(\d+)-", file.name) or re.match(r"\.htdesk-return-(\d+)-", file.name)
    if m and _alive(int(m.group(1))):
        return []
    if not m:
        # An old-style name without a process: only when nothing has touched it for an hour.
        try:
            if datetime.now().timestamp() - file.stat().st_mtime < 3600:
                return []
        except OSError:
            return []
    removed = []
    for extra in ("", "-wal", "-shm", "-journal"):
        candidate = Path(str(file) + extra)
        try:
            candidate.unlink()
            removed.append(candidate)
        except FileNotFoundError:
            pass
        except OSError:
            pass
    return removed


def remove_database_files(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        try:
            Path(str(path) + extra).unlink()
        except OSError:
            pass


def check_new_target(path: Path) -> None:
    """Where a new database may be made: nothing there, or an empty regular file."""
    try:
        info = Path(path).stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BadPath(f"{path} cannot be reached ({exc.strerror}).") from exc
    if stat.S_ISDIR(info.st_mode):
        raise BadPath(f"{path} is a folder: give a file name for the database, e.g. htdesk.sqlite3.")
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseUnusable(f"{path} is not a regular file (it is a pipe, device or socket): it was left alone. "
                               "Give another path with --db.")


def place_new_database(tmp: Path, path: Path) -> None:
    """Rename a finished new database (closed, its WAL checkpointed) into place; the target must
    still be absent or empty."""
    check_new_target(path)
    if path.exists() and path.stat().st_size > 0:
        from .errors import FieldError, ValidationError
        raise ValidationError(FieldError("db", f"{path} was made by another program meanwhile: nothing was changed."))
    for extra in ("-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)
    os.replace(tmp, path)


def copy_database(source: Path | str, target: Path | str) -> Path:
    """Copy a closed database file with its key file (and a -wal left beside it) to target: tests and
    benchmarks copy saved databases this way, so an encrypted copy keeps its keys."""
    source, target = Path(source), Path(target)
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)
    for extra in ("-wal", keys.SUFFIX):
        if Path(str(source) + extra).exists():
            shutil.copyfile(Path(str(source) + extra), Path(str(target) + extra))
            os.chmod(Path(str(target) + extra), 0o600)
    return target
