"""The one row-version update (GNUmed's habit): every table people edit carries row_version.

The UPDATE names the version the person read in its WHERE clause, so a change saved
by someone else in between can never be overwritten, even by a program that read
the row a moment before this one; the conflict names who changed it and when.
"""
from __future__ import annotations

from typing import Callable

from sqlite_utils import Database

from . import engine
from .errors import ConflictError


def update(db: Database, table: str, row_id: int, values: dict, expected_version: int | None, by: str, *,
           conflict: Callable[[], ConflictError]) -> None:
    """Set values on one row and bump its version, or raise conflict() when its version is not
    expected_version (None: the caller holds no version, e.g. a bulk close in one transaction)."""
    sets = "".join(f"{column} = ?, " for column in values)
    sql = (f"UPDATE {table} SET {sets}row_version = row_version + 1, updated_by = ?, "
           f"updated_at = ? WHERE id = ?")
    params = [*values.values(), by, engine.now(), row_id]
    if expected_version is not None:
        sql += " AND row_version = ?"
        params.append(expected_version)
    if db.conn.execute(sql, params).rowcount != 1:
        raise conflict()


def who_changed(db: Database, table: str, row_id: int) -> tuple[str, str]:
    """(who, when) of the row's last change, for a conflict message."""
    row = db.conn.execute(f"SELECT COALESCE(updated_by, created_by), COALESCE(updated_at, created_at) "
                          f"FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return ((row and row[0]) or "another user", (row and row[1]) or "just now")
