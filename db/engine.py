"""The few statements that differ between SQLite and PostgreSQL, one small function each (issue 18).

Everything else in db/ is written once for both engines: `RETURNING id` instead of lastrowid,
`ON CONFLICT ... DO UPDATE/NOTHING` instead of INSERT OR REPLACE/IGNORE, `IS DISTINCT FROM`
instead of `IS NOT`, timestamps passed from Python (now()), `COLLATE NOCASE` (an ICU collation of
that name on the server). What is left is here: full-text search, JSON aggregation, a table's
columns, the change counter, and the PRAGMAs that have no counterpart.
"""
from __future__ import annotations

import re
from datetime import datetime

from .pg import is_postgres

__all__ = ["is_postgres", "analyze_after_bulk_load", "greatest", "now", "search_clause", "search_query", "json_goals_and_contacts", "has_column",
           "data_version", "secure_delete", "json_member", "audit_dates_since",
           "table_names", "is_virtual_table", "column_names", "foreign_keys", "integrity_errors", "pending_steps"]


def greatest(db) -> str:
    """The largest of several values: SQLite's scalar MAX(a, b, ...), PostgreSQL's GREATEST (NULLs aside)."""
    return "GREATEST" if is_postgres(db) else "MAX"


def analyze_after_bulk_load(db) -> None:
    """After many rows written in one transaction (the demo, an import), before statements that join them:
    PostgreSQL plans by its statistics, which still say the tables are small (at 50,000 clients a status
    refresh planned that way ran for more than 6 minutes); ANALYZE runs inside the transaction. SQLite's
    planner goes by the indexes: nothing to do."""
    if is_postgres(db):
        db.conn.execute("ANALYZE")


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


def json_member(db, column: str, key: str) -> str:
    """One member of a JSON object held as text, as JSON text (NULL when absent); key is the app's own."""
    if is_postgres(db):
        quoted = key.replace("'", "''")
        return f"(({column})::json -> '{quoted}')::text"
    return f"{column} -> '$.\"{key}\"'"


def integrity_errors(db) -> list[str]:
    """What SQLite's integrity and foreign-key checks find in the file. A server checks its own pages
    and always enforces foreign keys: nothing to run there."""
    if is_postgres(db):
        return []
    from .backup import integrity_errors as file_errors
    return file_errors(db.conn)


def pending_steps(db) -> list[str]:
    """Named schema steps not yet applied (the file's _sqlite_migrations, the server's schema_steps)."""
    if is_postgres(db):
        from .pg import schema
        return schema.pending(db)
    from .migrations import migrations
    return [m.name for m in migrations.pending(db)]


# --- the catalogue, for a connection (sqlite3's or db/pg's) -------------------------------------------

def _pg_conn(conn) -> bool:
    return getattr(conn, "engine", None) == "postgresql"


def table_names(conn) -> list[str]:
    """Every table, by name (SQLite's own and a full-text index's shadow tables included on a file)."""
    if _pg_conn(conn):
        return [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def is_virtual_table(conn, name: str) -> bool:
    if _pg_conn(conn):
        return False
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0] or ""
    return sql.upper().startswith("CREATE VIRTUAL TABLE")


def column_names(conn, table: str) -> list[str]:
    if _pg_conn(conn):
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def foreign_keys(conn, table: str) -> dict[str, str]:
    """column -> the table it refers to."""
    if _pg_conn(conn):
        return dict(conn.execute(
            "SELECT a.attname, c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.conrelid = CAST(? AS regclass)", (table,)).fetchall())
    return {r[3]: r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')}


def has_column(db, table: str, column: str) -> bool:
    if is_postgres(db):
        return column in db.columns_of(table)
    return any(r[1] == column for r in db.conn.execute(f'PRAGMA table_info("{table}")'))


def data_version(db):
    """A value that differs after another connection committed: SQLite's PRAGMA data_version. A server
    has no such counter; there it is the last audit event's id, since every write through the store
    leaves one in its own transaction (db/api.py). A change made on the server behind the app's back
    (not through the store) is not seen by it."""
    if is_postgres(db):
        return db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]
    return db.conn.execute("PRAGMA data_version").fetchone()[0]


def secure_delete(db) -> None:
    """Overwrite what is freed with zeros (SQLite's file). A server's pages are its own: nothing to set."""
    if not is_postgres(db):
        db.conn.execute("PRAGMA secure_delete = ON")


# The audit events a count of the reach figures must look at (db/reach.py, stale_periods): what each is
# about and the earliest ISO date its before or after names, never the rest of those (personal data).
_AUDIT_DATES_SQL = (
    "SELECT a.id, a.entity, a.entity_id, a.client_id, "
    "(SELECT min(m[1]) FROM regexp_matches(coalesce(a.before, '') || ' ' || coalesce(a.after, ''), "
    "'\"(\\d{{4}}-\\d{{2}}-\\d{{2}})', 'g') AS m) "
    "FROM audit a WHERE a.id > {since} AND a.action <> ALL({skip}) ORDER BY a.id")
AUDIT_DATES_FUNCTION = f"""CREATE OR REPLACE FUNCTION htdesk_audit_dates(p_since bigint, p_skip text[])
RETURNS TABLE (id bigint, entity text, entity_id text, client_id bigint, named text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
{_AUDIT_DATES_SQL.format(since="p_since", skip="p_skip")}
$$"""
_ISO_DATE = re.compile(r'"(\d{4}-\d{2}-\d{2})')


def audit_dates_since(db, since: int, skip: tuple[str, ...]) -> list[tuple]:
    """(id, entity, entity_id, client_id, earliest date named or None) of the audit events after since,
    but those with an action in skip. On a secured server through htdesk_audit_dates (db/pg/security.py),
    since a coordinator's login may read the audit's ids only: the role table shows the audit to
    managers and administrators."""
    if is_postgres(db):
        from .pg import security
        sql = "SELECT * FROM htdesk_audit_dates(?, CAST(? AS text[]))" if security.installed(db) else \
            _AUDIT_DATES_SQL.format(since="?", skip="CAST(? AS text[])")
        return [tuple(r) for r in db.conn.execute(sql, (since, list(skip)))]
    marks = ", ".join("?" * len(skip))
    out = []
    for event_id, entity, entity_id, client_id, before, after in db.conn.execute(
            f"SELECT id, entity, entity_id, client_id, before, after FROM audit WHERE id > ? "
            f"AND action NOT IN ({marks}) ORDER BY id", (since, *skip)):
        named = _ISO_DATE.findall(f"{before or ''} {after or ''}")
        out.append((event_id, entity, entity_id, client_id, min(named) if named else None))
    return out
