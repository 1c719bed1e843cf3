"""The few statements that differ between SQLite and PostgreSQL, one small function each (issue 18).

Everything else in db/ is written once for both engines: `RETURNING id` instead of lastrowid,
`ON CONFLICT ... DO UPDATE/NOTHING` instead of INSERT OR REPLACE/IGNORE, `IS DISTINCT FROM`
instead of `IS NOT`, timestamps passed from Python (now()), `COLLATE NOCASE` (an ICU collation of
that name on the server). What is left is here: full-text search, JSON aggregation, a table's
columns, the change counter, and the PRAGMAs that have no counterpart.
"""
from __future__ import annotations

import itertools
from datetime import datetime

from .pg import is_postgres

__all__ = ["is_postgres", "now", "search_clause", "search_query", "json_goals_and_contacts", "has_column",
           "data_version", "secure_delete"]


def now() -> str:
    """Local time as the schema keeps it (what strftime('%Y-%m-%dT%H:%M:%S','now','localtime') gave)."""
    return datetime.now().isoformat(timespec="seconds")


def search_clause(db) -> str:
    """The condition on client_list c for the typed words (one parameter: search_query's value)."""
    if is_postgres(db):
        return "c.id IN (SELECT rowid FROM clients_search WHERE words @@ to_tsquery('simple', ?))"
    # "+c.id": not an index lookup per match. A short prefix ("h", "HT-0") matches most
    # clients, and walking the name index until the first 200 matches costs a few ms,
    # where fetching every match and sorting them all cost tens.
    return "+c.id IN (SELECT rowid FROM clients_search WHERE clients_search MATCH ?)"


def search_query(db, tokens: list[str]) -> str:
    """Each folded word as a prefix, all required: FTS5's '"sio"* AND "o"*', PostgreSQL's 'sio:* & o:*'."""
    if is_postgres(db):
        return " & ".join(f"{t}:*" for t in tokens)
    return " AND ".join(f'"{t}"*' for t in tokens)


_GOALS = ("'id', g.id, 'area', g.area, 'goal_text', g.goal_text, 'steps', g.steps, 'barriers', g.barriers, "
          "'who_can_help', g.who_can_help, 'importance', g.importance, 'confidence', g.confidence, "
          "'start_date', g.start_date, 'review_date', g.review_date, 'status', g.status, "
          "'status_date', g.status_date")


def json_goals_and_contacts(db) -> tuple[str, str]:
    """Two subqueries on plans p: its goals as a JSON array of objects (by position), its contacts'
    directory ids as a JSON array."""
    if is_postgres(db):
        return (f"(SELECT COALESCE(json_agg(json_build_object({_GOALS}) ORDER BY g.position, g.id), '[]')::text "
                "FROM goals g WHERE g.plan_id = p.id)",
                "(SELECT COALESCE(json_agg(directory_id ORDER BY directory_id), '[]')::text "
                "FROM plan_contacts WHERE plan_id = p.id)")
    return (f"(SELECT json_group_array(json_object({_GOALS})) "
            "FROM (SELECT * FROM goals WHERE plan_id = p.id ORDER BY position, id) g)",
            "(SELECT json_group_array(directory_id) FROM plan_contacts WHERE plan_id = p.id)")


def has_column(db, table: str, column: str) -> bool:
    if is_postgres(db):
        return column in db.columns_of(table)
    return any(r[1] == column for r in db.conn.execute(f'PRAGMA table_info("{table}")'))


_changes = itertools.count(1)


def data_version(db):
    """A value that differs after another connection committed: SQLite's PRAGMA data_version. A server
    has no such counter, so there every call differs (what is kept because nothing changed is
    counted again; an import checks again, by its recorded reads, what it checked)."""
    if is_postgres(db):
        return f"pg-{next(_changes)}"
    return db.conn.execute("PRAGMA data_version").fetchone()[0]


def secure_delete(db) -> None:
    """Overwrite what is freed with zeros (SQLite's file). A server's pages are its own: nothing to set."""
    if not is_postgres(db):
        db.conn.execute("PRAGMA secure_delete = ON")
