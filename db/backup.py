"""Verified backups: SQLite's online backup API, then an integrity check of the copy.

A backup of an encrypted database is encrypted with the same key (SQLCipher's backup API copies
the pages as they are), and its key file travels beside it (`<backup>.keys`), so it opens with
the passwords and the recovery key of the moment it was made. Both files are the owner's only."""
from __future__ import annotations

import os
from pathlib import Path

from . import driver

from .errors import DatabaseUnusable, OutputUnwritable


def integrity_errors(conn) -> list[str]:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if rows == ["ok"] else rows
    problems += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check").fetchall()]
    return problems


def backup_database(conn, target: Path) -> Path:
    """Copy the open database to target (consistent even while others write), then verify it.

    Written under a temporary name in the target's folder that names this process, renamed
    into place only when verified; removed on any failure, and by the next start if the
    process was killed (connection.sweep_leftovers)."""
    from . import connection
    target = Path(target)
    what = f"the backup {target}"
    made_folder = not target.parent.exists()
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise connection.translate_os_error(exc, what, output=True) or exc
    try:
        return _backup_into(conn, target, what)
    except BaseException:
        if made_folder:
            try:
                target.parent.rmdir()      # only if still empty
            except OSError:
                pass
        raise


def _backup_into(conn, target: Path, what: str) -> Path:
    from . import connection, keys
    connection.sweep_folder(target.parent)
    partial = connection.temp_beside(target, ".partial")
    key = getattr(conn, "htdesk_key", None)
    try:
        owner_only(partial)
        dest = driver.connect(str(partial))
        try:
            if key is not None:
                dest.execute(keys.pragma_key(key))
            conn.backup(dest)
            # A backup is a file at rest: a rollback journal, so a later read-only look at it (restore's
            # check) leaves no -wal and -shm files beside it.
            dest.execute("PRAGMA journal_mode = DELETE")
            problems = integrity_errors(dest)
        finally:
            dest.close()
        if problems:
            raise DatabaseUnusable("The backup failed its integrity check, so it was not kept: " + "; ".join(problems[:3]))
        if key is not None:
            keys.KeyFile.load(conn.htdesk_path).copy_to(target)
        os.replace(partial, target)
    except driver.Error as exc:
        _remove(partial)
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code == 13 or "full" in str(exc).lower():
            raise OutputUnwritable(f"The disk is full, so {what} could not be written: nothing was kept. "
                                   "Free some space and try again.") from exc
        if code in (8, 14, 3):
            raise OutputUnwritable(f"{what[0].upper()}{what[1:]} could not be written: the folder is read-only "
                                   "or you lack permission. Choose a place you can write to.") from exc
        if code == 10:
            raise OutputUnwritable(f"The disk reported an error while writing {what}: nothing was kept. "
                                   "Check the disk (is it full?), then try again.") from exc
        raise
    except keys.KeyFileError as exc:
        _remove(partial)
        raise DatabaseUnusable(f"{exc}, so the backup could not be made: restore the key file from a backup.") from None
    except OSError as exc:
        _remove(partial)
        raise connection.translate_os_error(exc, what, output=True) or exc
    except BaseException:
        _remove(partial)
        raise
    return target


def _remove(file: Path) -> None:
    for extra in ("", "-journal", "-wal", "-shm"):
        try:
            Path(str(file) + extra).unlink()
        except OSError:
            pass


def owner_only(file: Path) -> None:
    """Create file empty, readable and writable by its owner only (SQLite keeps the mode of the main
    file for its -wal and -shm), or narrow an existing one to that."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(file, 0o600)
