"""PostgreSQL beside SQLite behind the same store (issue 18).

adapter.py  the interface db/ modules use (conn.execute with `?`, db.query, db.atomic) over psycopg 3
server.py   opening a server's database: TLS, transactions, the server's errors in plain words
schema.py   the PostgreSQL form of every named schema step of db/migrations.py

psycopg is imported only when a server database is opened: a PC working on its local file never
loads it.
"""
from __future__ import annotations

SCHEMES = ("postgresql://", "postgres://")


def is_server_url(value) -> bool:
    """Whether a --db value (or a saved connection) names a PostgreSQL server rather than a file."""
    return isinstance(value, str) and value.strip().lower().startswith(SCHEMES)


def is_postgres(db) -> bool:
    return getattr(db, "engine", None) == "postgresql"


def is_pg_error(exc: BaseException) -> bool:
    """A psycopg error (told without importing psycopg)."""
    return type(exc).__module__.split(".")[0] == "psycopg"
