"""Keeping a database well: consistency checks, verified backups, checked restores."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from . import audit, backup as backups, connection, paths, referrals
from .errors import BadPath, DatabaseUnusable
from .migrations import migrations
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
    problems = backups.integrity_errors(db.conn)
    results.append(CheckResult("integrity", not problems, "; ".join(problems[:5]) or "the file is sound"))
    pending = [m.name for m in migrations.pending(db)]
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
        raise BadPath("This database has no file to back up.")
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


def restore(path: Path, source: Path, actor=None) -> Path | None:
    """Replace the database at path with a checked backup, keeping the current one as a backup first."""
    source = Path(source)
    if not source.is_file():
        raise BadPath(f"There is no backup file at {source}.")
    with open(source, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise DatabaseUnusable(f"{source} is not a backup of Health Trainer Desk (not an SQLite file).")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA application_id").fetchone()[0] != connection.APPLICATION_ID:
            raise DatabaseUnusable(f"{source} is a database of another program, not a Health Trainer Desk backup.")
        problems = backups.integrity_errors(src)
        if problems:
            raise DatabaseUnusable(f"{source} is damaged ({problems[0]}): choose another backup.")
        kept = None
        target = connection.connect(path)
        try:
            if path.exists() and target.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                kept = backups.backup_database(target, paths.backups_dir(path) / f"{path.stem}-before-restore-{stamp}.sqlite3")
            # The backup API writes through SQLite's own locking, so WAL files stay consistent.
            src.backup(target)
            db = Database(target)
            with connection.transaction(db):
                audit.record(db, actor, "restore", "database", None, detail=f"restored from {source}")
        finally:
            target.close()
    finally:
        src.close()
    # Bring an older backup's schema up to date (after its own backup-first step).
    connection.open_database(path).conn.close()
    return kept


def counts(db: Database, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: _count(db, f"SELECT COUNT(*) FROM {t}") for t in tables}
