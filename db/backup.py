"""Verified backups: SQLite's online backup API, then an integrity check of the copy."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .errors import DatabaseUnusable


def integrity_errors(conn: sqlite3.Connection) -> list[str]:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if rows == ["ok"] else rows
    problems += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check").fetchall()]
    return problems


def backup_database(conn: sqlite3.Connection, target: Path) -> Path:
    """Copy the open database to target (consistent even while others write), then verify it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        partial.unlink()
    dest = sqlite3.connect(str(partial))
    try:
        conn.backup(dest)
        problems = integrity_errors(dest)
    finally:
        dest.close()
    if problems:
        partial.unlink(missing_ok=True)
        raise DatabaseUnusable("The backup failed its integrity check, so it was not kept: " + "; ".join(problems[:3]))
    os.replace(partial, target)
    return target
