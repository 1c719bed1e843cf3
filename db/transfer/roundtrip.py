"""What a round trip (export, import into a fresh database) kept and lost, table by table and
column by column, read from sqlite_master so that a column added to the schema without a way
out and back in shows up here (tests/db/test_transfer_roundtrip.py, benchmarks/bench_import.py).

Rows are compared as multisets of their values with every id replaced by what it points to
(foreign keys from PRAGMA foreign_key_list, followed recursively), so two databases that number
their rows differently still compare equal when they hold the same facts. Bookkeeping columns
(who and when a row was written, its row version) are not facts a user entered and are left out.
"""
from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

from .. import engine

# (rowid: the search index's own key on a server, the client's id; a file's FTS table hides it.)
BOOKKEEPING = frozenset({"id", "rowid", "row_version", "created_at", "created_by", "updated_at", "updated_by"})
# Ids that point at another table without a declared foreign key.
UNDECLARED = {("session_history", "from_venue_id"): "venues", ("session_history", "to_venue_id"): "venues"}


def tables(conn) -> list[str]:
    """Every ordinary table (not SQLite's own, not a full-text index's shadow tables)."""
    names = engine.table_names(conn)
    shadows = {n for n in names for v in names if n != v and n.startswith(v + "_") and
               _is_virtual(conn, v)}
    return [n for n in names if not n.startswith("sqlite_") and n not in shadows]


def _is_virtual(conn, name: str) -> bool:
    return engine.is_virtual_table(conn, name)


def columns(conn, table: str) -> list[str]:
    return engine.column_names(conn, table)


class _Facts:
    """Rows of one database with ids replaced by the facts they point to."""

    def __init__(self, conn, ignore_columns: dict[str, set[str]], token: dict[str, object],
                 exclude: dict[str, str] | None = None):
        self.conn = conn
        self.exclude = exclude or {}
        self.ignore = ignore_columns
        self.token = token             # table -> a stand-in for any of its rows (the service)
        self.fks: dict[str, dict[str, str]] = {}
        for t in tables(conn):
            fk = engine.foreign_keys(conn, t)
            fk.update({c: ref for (tt, c), ref in UNDECLARED.items() if tt == t})
            self.fks[t] = fk
        self.signature = lru_cache(maxsize=None)(self._signature)

    def kept(self, table: str) -> list[str]:
        return [c for c in columns(self.conn, table) if c not in BOOKKEEPING and c not in self.ignore.get(table, ())]

    def _signature(self, table: str, row_id) -> object:
        if row_id is None:
            return None
        if table in self.token:
            return self.token[table]
        cols = self.kept(table)
        row = self.conn.execute(f'SELECT {", ".join(cols)} FROM "{table}" WHERE id = ?', (row_id,)).fetchone()
        if row is None:
            return ("missing", table, row_id)
        return self._resolve(table, cols, row)

    def _resolve(self, table: str, cols: list[str], row) -> tuple:
        fk = self.fks.get(table, {})
        out = []
        for c, v in zip(cols, row):
            if c in fk:
                v = self.signature(fk[c], v)
            elif (table, c) in _JSON_IDS:
                v = _JSON_IDS[(table, c)](self, v)
            out.append((c, v))
        return tuple(out)

    def rows(self, table: str) -> Counter:
        cols = self.kept(table)
        if not cols:
            return Counter()
        where = f" WHERE NOT ({self.exclude[table]})" if table in self.exclude else ""
        return Counter(self._resolve(table, cols, r)
                       for r in self.conn.execute(f'SELECT {", ".join(cols)} FROM "{table}"{where}'))


def _version_goals(facts: "_Facts", text):
    """A plan version's goals as kept (JSON), without the goals' own ids."""
    if text is None:
        return None
    return tuple(tuple(sorted((k, v) for k, v in g.items() if k != "id")) for g in json.loads(text))


def _version_contacts(facts: "_Facts", text):
    if text is None:
        return None
    return tuple(sorted(repr(facts.signature("directory", i)) for i in json.loads(text)))


def _setting_scope(facts: "_Facts", scope):
    """A setting's scope: a venue's by the venue it means, a service's as "the service"."""
    if isinstance(scope, str) and scope.startswith("venue:") and scope[6:].isdigit():
        return ("venue", facts.signature("venues", int(scope[6:])))
    if scope != "global" and facts.conn.execute("SELECT 1 FROM services WHERE code = ?", (scope,)).fetchone():
        return "the service"
    return scope


# Columns that hold ids of other rows inside text (JSON, or a scope naming a row).
_JSON_IDS = {("plan_versions", "goals"): _version_goals, ("plan_versions", "contacts"): _version_contacts,
             ("settings", "scope"): _setting_scope}


def differences(conn_a, conn_b, *, skip_tables: dict[str, str], ignore_columns: dict[str, set[str]],
                exclude: dict[str, str] | None = None, limit: int = 3) -> list[str]:
    """Lines naming each table or column whose facts differ between the two databases (empty: the
    same). skip_tables: table -> why it is not compared; ignore_columns: table -> columns left out;
    exclude: table -> an SQL condition for rows left out in both (the new database's own first account)."""
    token = {"services": "the service"}
    a, b = _Facts(conn_a, ignore_columns, token, exclude), _Facts(conn_b, ignore_columns, token, exclude)
    out = []
    ta, tb = set(tables(conn_a)), set(tables(conn_b))
    for t in sorted((ta ^ tb) - set(skip_tables)):
        out.append(f"{t}: only in {'the first' if t in ta else 'the second'} database")
    for t in sorted(ta & tb):
        if t in skip_tables or t in token:
            continue
        ra, rb = a.rows(t), b.rows(t)
        if ra == rb:
            continue
        only_a, only_b = ra - rb, rb - ra
        cols = a.kept(t)
        # Which columns differ: pair rows up by everything but one column at a time.
        culprits = []
        for i, c in enumerate(cols):
            drop = lambda rows: Counter({k[:i] + k[i + 1:]: n for k, n in rows.items()})  # noqa: E731
            if drop(only_a) == drop(only_b):
                culprits.append(c)
        what = f"column {', '.join(culprits)}" if culprits else "rows"
        sample = [dict(k) for k in list(only_a)[:limit]] + [dict(k) for k in list(only_b)[:limit]]
        out.append(f"{t}: {what} differ ({sum(only_a.values())} row(s) only in the first, "
                   f"{sum(only_b.values())} only in the second); e.g. {_short(sample)}")
    return out


def _short(sample) -> str:
    text = repr(sample)
    return text if len(text) < 600 else text[:597] + "..."
