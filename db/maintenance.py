"""Keeping a database well: consistency checks, verified backups, checked restores."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from . import audit, backup as backups, connection, driver, keys, paths, referrals
from .errors import AuthenticationError, BadPath, DatabaseUnusable
from . import engine
from .rules import attended_sql


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _count(db: Database, sql: str) -> int:
    return db.conn.execute(sql).fetchone()[0]


def check(db: Database) -> list[CheckResult]:
    results = []
    problems = engine.integrity_errors(db)
    results.append(CheckResult("integrity", not problems, "; ".join(problems[:5]) or (
        "the server keeps its own pages and foreign keys" if engine.is_postgres(db) else "the file is sound")))
    pending = engine.pending_steps(db)
    results.append(CheckResult("schema", not pending, f"pending steps: {', '.join(pending)}" if pending else "up to date"))
    consistency = [
        ("closure reasons", "SELECT COUNT(*) FROM referrals WHERE (closed_date IS NULL) <> (closure_reason IS NULL)",
         "referrals with a closed date but no reason, or a reason but no date"),
        ("closed after received", "SELECT COUNT(*) FROM referrals WHERE closed_date < received_date",
         "referrals closed before they were received"),
        ("sessions after received", "SELECT COUNT(*) FROM sessions s JOIN referrals r ON r.id = s.referral_id "
         "WHERE s.session_date < r.received_date", "sessions dated before their referral was received"),
        ("session client", "SELECT COUNT(*) FROM sessions s JOIN referrals r ON r.id = s.referral_id "
         "WHERE s.client_id <> r.client_id", "sessions whose client differs from their referral's"),
        # Recomputed from the sessions themselves, not from the stored first date.
        ("referral status", "SELECT COUNT(*) FROM referrals WHERE status <> " + referrals.status_case(
            "EXISTS (SELECT 1 FROM sessions s WHERE s.referral_id = referrals.id AND "
            + attended_sql("s.attendance") + ")"),
         "referrals whose stored status disagrees with their record"),
        ("search index", "SELECT (SELECT COUNT(*) FROM clients) - (SELECT COUNT(*) FROM clients_search)",
         "clients missing from the search index"),
    ]
    for name, sql, what in consistency:
        n = _count(db, sql)
        results.append(CheckResult(name, n == 0, f"{n} {what}" if n else "consistent"))
    results.append(audit_chain(db))
    return results


def audit_chain(db: Database) -> CheckResult:
    """The audit trail's hash chain (db/audit.py), naming the first row that breaks it."""
    checked, broken = audit.verify(db)
    if broken is None:
        return CheckResult("audit chain", True, f"{checked} audit rows, each chained to the one before")
    return CheckResult("audit chain", False, f"audit row {broken.row_id} is the first that does not verify: "
                                             f"{broken.reason}")


def backup(db: Database, path: Path | None, actor, out: Path | None = None) -> Path:
    """A verified copy of the open database, audited."""
    if path is None:
        raise BadPath("This database is on a server: its backups are the server's own (pg_dump, see the README)."
                      if engine.is_postgres(db) else "This database has no file to back up.")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(out) if out else paths.backups_dir(path) / f"{path.stem}-{stamp}.sqlite3"
    n = 1
    while not out and target.exists():      # two backups in one second (a scheduled one and a manual one)
        n += 1
        target = paths.backups_dir(path) / f"{path.stem}-{stamp}-{n}.sqlite3"
    if target.exists():
        raise BadPath(f"{target} already exists: choose another file name.")
    if out and not target.parent.exists():
        raise BadPath(f"The folder {target.parent} does not exist: create it or choose another place.")
    backups.backup_database(db.conn, target)
    try:
        with connection.transaction(db):
            audit.record(db, actor, "backup", "database", None, detail=str(target))
    except BaseException:
        # Not recorded, so not kept: nothing is left that the audit trail does not know.
        target.unlink(missing_ok=True)
        raise
    return target


def last_backup(path: Path | None) -> tuple[Path, datetime] | None:
    """The newest backup in the backups folder beside the database, with its time, or None."""
    if path is None:
        return None
    folder = paths.backups_dir(path)
    try:
        found = [(f.stat().st_mtime, f) for f in folder.glob("*.sqlite3") if f.is_file()]
    except OSError:
        return None
    if not found:
        return None
    mtime, newest = max(found)
    return newest, datetime.fromtimestamp(mtime)


def copy_backups(path: Path, folder: Path) -> list[Path]:
    """Copy every backup beside the database that the folder lacks (a USB stick, a network share)."""
    import shutil
    folder = Path(folder)
    if not folder.is_dir():
        raise BadPath(f"The folder {folder} does not exist: plug the drive in or choose another place.")
    copied = []
    for f in sorted(paths.backups_dir(path).glob("*.sqlite3")):
        target = folder / f.name
        pair = [(f, target)] + [(k, keys.key_file_of(target)) for k in [keys.key_file_of(f)] if k.exists()]
        if all(t.exists() and t.stat().st_size == s.stat().st_size for s, t in pair):
            continue
        for source, dest in pair[::-1]:       # the key file first: a backup is never there without it
            partial = dest.with_name(dest.name + ".partial")
            try:
                shutil.copyfile(source, partial)
                os.chmod(partial, 0o600)
                os.replace(partial, dest)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise connection.translate_os_error(exc, f"the copy {dest}", output=True) or exc
        copied.append(target)
    return copied


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds, shown before it is restored."""
    path: Path
    services: tuple[tuple[str, str], ...]      # (code, name) of each service in it
    saved_at: str | None                        # its last recorded event (audit), else the file's time
    clients: int

    @property
    def service_text(self) -> str:
        return ", ".join(f"{name} ({code})" for code, name in self.services) or "no service"


@dataclass(frozen=True)
class Unlock:
    """What may open an encrypted backup: the open database's key (a backup of this database has
    the same key and the same database id in its key file), an administrator's password of the time
    the backup was made, or the recovery key of that time."""
    key: bytes | None = None
    database_id: str | None = None
    username: str | None = None
    password: str | None = None
    recovery_key: str | None = None

    def key_for(self, keyfile: keys.KeyFile) -> bytes | None:
        if self.key is not None and self.database_id == keyfile.database_id:
            return self.key
        if self.username and self.password:
            key, _ = keyfile.unwrap_password(self.username, self.password)
            if key is not None:
                return key
        if self.recovery_key:
            return keyfile.unwrap_recovery(self.recovery_key)
        return None


def _backup_key(source: Path, unlock: Unlock | None) -> bytes | None:
    """The key of an encrypted backup (None for a plain one, made before encryption)."""
    if not keys.is_encrypted_file(source):
        with open(source, "rb") as f:
            if f.read(16) != keys.SQLITE_MAGIC:
                raise DatabaseUnusable(f"{source} is not a backup of Health Trainer Desk (not an SQLite file).")
        return None
    try:
        keyfile = keys.KeyFile.load(source)
    except keys.KeyFileError as exc:
        raise DatabaseUnusable(f"{exc}: a backup is restored with the .keys file made beside it. Copy both "
                               "files together.") from None
    key = (unlock or Unlock()).key_for(keyfile)
    if key is None:
        raise AuthenticationError(f"{source.name} is an encrypted backup of {keyfile.service_name or 'a service'} "
                                  "made with another key: give the password an administrator had when it was "
                                  "made, or that database's recovery key.")
    return key


def _open_backup(source: Path, unlock: Unlock | None = None):
    source = Path(source)
    if not source.is_file():
        raise BadPath(f"There is no backup file at {source}.")
    key = _backup_key(source, unlock)
    src = connection.connect(source, readonly=True, key=key)
    try:
        if src.execute("PRAGMA application_id").fetchone()[0] != connection.APPLICATION_ID:
            raise DatabaseUnusable(f"{source} is a database of another program, not a Health Trainer Desk backup.")
        problems = backups.integrity_errors(src)
        if problems:
            raise DatabaseUnusable(f"{source} is damaged ({problems[0]}): choose another backup.")
    except BaseException:
        src.close()
        raise
    return src


def _info(src, source: Path) -> BackupInfo:
    try:
        found = tuple((r[0], r[1]) for r in src.execute("SELECT code, name FROM services ORDER BY code"))
        saved = src.execute("SELECT MAX(at) FROM audit").fetchone()[0]
        clients = src.execute("SELECT COUNT(*) FROM clients").fetchone()[0]
    except driver.Error as exc:
        raise DatabaseUnusable(f"{source} is not a Health Trainer Desk backup ({exc}).") from None
    if not saved:
        saved = datetime.fromtimestamp(Path(source).stat().st_mtime).isoformat(timespec="seconds")
    return BackupInfo(Path(source), found, saved, clients)


def backup_info(source: Path, unlock: Unlock | None = None) -> BackupInfo:
    """Check a backup (kind, integrity) and say which service and date it holds."""
    src = _open_backup(Path(source), unlock)
    try:
        return _info(src, Path(source))
    finally:
        src.close()


def restore(path: Path, source: Path, actor=None, confirm_code: str | None = None, *, key: bytes | None = None,
            unlock: Unlock | None = None) -> Path | None:
    """Replace the database at path (encrypted with key, or plain) with a checked backup, keeping the
    current one as a backup first. An encrypted backup opens with unlock (Unlock); one made with
    another key is first copied into a new file with this database's key (sqlcipher_export), so the
    database keeps its key, its key file and its recovery key.

    A backup of another service (none of its service codes is in the current database) is refused
    unless confirm_code is that backup's service code, typed by the administrator."""
    source = Path(source)
    src = _open_backup(source, unlock)
    recoded = None
    try:
        info = _info(src, source)
        kept = None
        erased: list[tuple[str, str]] = []
        target = connection.connect(path, key=key)
        try:
            if path.exists() and target.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                mine = {r[0] for r in target.execute("SELECT code FROM services")}
                theirs = {code for code, _ in info.services}
                if mine & theirs:
                    erased = _erased_people(target)
                if mine and not mine & theirs and (confirm_code or "").strip().upper() not in theirs:
                    from .errors import FieldError, ValidationError
                    current = ", ".join(sorted(mine))
                    raise ValidationError(FieldError(
                        "confirm_code", f"{source.name} is a backup of another service, {info.service_text}, saved "
                                        f"{info.saved_at}; this database is {current}. Nothing was restored. To "
                                        f"replace this service's records with it, confirm by typing its service code "
                                        f"({'/'.join(sorted(theirs))})."))
            if path.exists() and target.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                kept = backups.backup_database(target, paths.backups_dir(path) / f"{path.stem}-before-restore-{stamp}.sqlite3")
            if src.htdesk_key != key:
                recoded = connection.temp_beside(path)
                _recode(source, src.htdesk_key, recoded, key)
                src.close()
                src = connection.connect(recoded, readonly=True, key=key)
            # The backup API writes through SQLite's own locking, so WAL files stay consistent.
            src.backup(target)
            db = Database(target)
            with connection.transaction(db):
                audit.record(db, actor, "restore", "database", None, detail=f"restored from {source}")
        finally:
            target.close()
    finally:
        src.close()
        if recoded is not None:
            connection.remove_database_files(recoded)
    # Bring an older backup's schema up to date (after its own backup-first step).
    db = connection.open_database(path, key=key)
    try:
        if erased:
            _erase_again(db, erased, actor, source)
    finally:
        db.conn.close()
    return kept


def _erased_people(conn) -> list[tuple[str, str]]:
    """(client reference, when) of everyone erased in the database about to be replaced."""
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT client_ref, anonymised_at FROM clients WHERE anonymised_at IS NOT NULL")]
    except driver.OperationalError:        # a schema from before erasure existed
        return []


def _erase_again(db: Database, erased: list[tuple[str, str]], actor, source: Path) -> None:
    """A backup made before someone was erased still holds them: restoring it must not bring them back.
    Everyone erased in the replaced database is erased again in the restored one, audited as such."""
    from . import rights
    refs = dict(erased)
    found = [(cid, ref) for cid, ref in db.conn.execute(
        "SELECT id, client_ref FROM clients WHERE anonymised_at IS NULL") if ref in refs]
    if not found:
        return
    by = actor.username if actor else "system"
    with connection.transaction(db):
        for client_id, ref in found:
            summary = rights.erase(db, client_id, by, audit.now_iso())
            audit.record(db, actor, "erase", "client", client_id, after=summary,
                         detail=f"Erased again ({ref}) after restoring {source.name}: the person was erased on "
                                f"{refs[ref][:10]}, after this backup was made")


def _recode(source: Path, source_key: bytes | None, target: Path, key: bytes | None) -> None:
    """A copy of the backup at target, encrypted with key (plain when None), checked."""
    backups.owner_only(target)
    conn = connection.connect(target, key=key)
    try:
        secret = f"x'{source_key.hex()}'" if source_key is not None else ""
        conn.execute(f"ATTACH DATABASE ? AS htdesk_backup KEY \"{secret}\"", (str(source),))
        try:
            conn.execute("SELECT sqlcipher_export('main', 'htdesk_backup')")
            conn.execute(f"PRAGMA main.application_id = {connection.APPLICATION_ID}")
        finally:
            conn.execute("DETACH DATABASE htdesk_backup")
        problems = backups.integrity_errors(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if problems:
        raise DatabaseUnusable(f"{source} could not be copied with this database's key: {problems[0]}.")


def restore_copy(path: Path, source: Path, unlock: Unlock | None = None) -> None:
    """A checked backup placed where no database is yet (a new PC), with its key file: the same
    passwords and recovery key as when it was made then open it."""
    source = Path(source)
    src = _open_backup(source, unlock)
    src.close()
    tmp = connection.temp_beside(path)
    try:
        connection.copy_database(source, tmp)
        Path(str(tmp) + "-wal").unlink(missing_ok=True)
        if keys.key_file_of(source).exists():
            keys.KeyFile.load(source).copy_to(path)
        connection.place_new_database(tmp, path)
    except BaseException:
        connection.remove_database_files(tmp)
        keys.key_file_of(tmp).unlink(missing_ok=True)
        raise
    keys.key_file_of(tmp).unlink(missing_ok=True)


def counts(db: Database, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: _count(db, f"SELECT COUNT(*) FROM {t}") for t in tables}
