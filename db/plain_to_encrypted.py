"""A plain database (made before encryption at rest, issue 14) converted to an encrypted one at its first
sign-in: a verified plain backup, an encrypted copy checked table by table, the copy renamed into place,
and every plain backup beside it replaced by an encrypted copy (CaseStore._encrypt_plain_database)."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from . import backup, driver, paths
from .connection import (APPLICATION_ID, Database, connect, open_database, remove_database_files,
                         temp_beside)
from .errors import DatabaseUnusable


def export_encrypted(conn, target: Path, key: bytes) -> None:
    """Copy the plain database open on conn into a new file at target, encrypted with key
    (SQLCipher's sqlcipher_export), then check the copy: sound, ours, and every table holding as
    many rows as the original."""
    target = Path(target)
    backup.owner_only(target)
    conn.execute(f"ATTACH DATABASE ? AS htdesk_encrypted KEY \"x'{key.hex()}'\"", (str(target),))
    try:
        conn.execute("SELECT sqlcipher_export('htdesk_encrypted')")
        conn.execute(f"PRAGMA htdesk_encrypted.application_id = {APPLICATION_ID}")
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA htdesk_encrypted.user_version = {int(version)}")
    finally:
        conn.execute("DETACH DATABASE htdesk_encrypted")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                                         "'CREATE VIRTUAL%' ORDER BY name")]
    copy = connect(target, key=key)
    try:
        problems = backup.integrity_errors(copy)
        for table in tables:
            q = f'SELECT COUNT(*) FROM "{table}"'
            if conn.execute(q).fetchone()[0] != copy.execute(q).fetchone()[0]:
                problems.append(f"table {table} was not copied whole")
        if copy.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            problems.append("the copy is not marked as ours")
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        copy.close()
    if problems:
        raise DatabaseUnusable("The encrypted copy of the database did not check out, so the database was left "
                               "as it was: " + "; ".join(problems[:3]))


def encrypt_in_place(db: Database, path: Path, key: bytes, keyfile, fill_keyfile) -> Database:
    """Convert the plain database open on db to an encrypted one with key: a verified plain backup
    first, then an encrypted copy checked table by table, its key file written (fill_keyfile(db of
    the copy) makes the entries from its accounts), and the copy renamed into place. Every plain
    backup in the backups folder (that first one included) is then replaced by an encrypted copy with
    its key file beside, so no copy of the data is left in clear by the app. Returns the new database."""
    path = Path(path)
    conn = db.conn
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup.backup_database(conn, paths.backups_dir(path) / f"{path.stem}-before-encryption-{stamp}.sqlite3")
    tmp = temp_beside(path)
    try:
        export_encrypted(conn, tmp, key)
        copy = Database(connect(tmp, key=key))
        try:
            fill_keyfile(copy)
        finally:
            copy.conn.close()
        keyfile.save()
        conn.close()
        for extra in ("-wal", "-shm", "-journal"):
            Path(str(path) + extra).unlink(missing_ok=True)
        os.replace(tmp, path)
    except BaseException:
        remove_database_files(tmp)
        raise
    encrypt_plain_backups(path, key)
    return open_database(path, key=key)


def encrypt_plain_backups(path: Path, key: bytes) -> list[Path]:
    """Each plain backup of ours beside the database replaced by an encrypted copy (same key) with the
    database's key file beside it."""
    from . import keys as keyfiles
    done = []
    for file in sorted(paths.backups_dir(path).glob("*.sqlite3")):
        if keyfiles.is_encrypted_file(file) or not file.is_file():
            continue
        tmp = temp_beside(file)
        try:
            src = driver.connect(str(file))
            try:
                if src.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    continue
                export_encrypted(src, tmp, key)
            finally:
                src.close()
            keyfiles.KeyFile.load(path).copy_to(file)
            os.replace(tmp, file)
            done.append(file)
        except (*driver.Error, OSError, DatabaseUnusable):
            remove_database_files(tmp)     # left plain; the next sign-in tries again
    return done
