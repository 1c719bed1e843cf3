"""The interface db/ modules use, given to a psycopg 3 connection (issue 18).

db/ modules call, on SQLite, a sqlite3 connection wrapped by sqlite_utils.Database. What they
actually use of it (counted in db/, reports/ and desktop/):

    db.conn.execute(sql, params)      ~200 calls: a cursor with fetchone, fetchall, iteration,
                                      rowcount, description
    db.conn.executemany(sql, rows)    ~15 calls (the importer, the demo)
    db.query(sql, params)             ~55 calls: an iterator of dicts
    db.execute(sql, params)           a cursor, as db.conn.execute
    db.atomic()                       a savepoint inside a transaction
    db.conn.in_transaction, db.conn.close()

PgDatabase and PgConnection give exactly that over psycopg. What they change is the placeholder
only: `?` (and `:name` with a dict of parameters) becomes psycopg's `%s` (`%(name)s`), a literal
`%` is doubled. The statements themselves are written once for both engines (db/engine.py holds
the few that differ), so this is not an SQL translator. `cur.lastrowid` is not offered: inserts
say `RETURNING id`, which SQLite 3.35+ runs as well.

Values travel the way sqlite3 passes them: dates and datetimes as ISO text (the schema keeps dates
as TEXT on both engines), booleans as 0/1; results come back as sqlite3 gives them: numeric
(PostgreSQL's SUM and AVG) as int when whole, else float, and booleans (EXISTS) as 0/1. Parameters
are bound on the client (psycopg's ClientCursor), so an untyped value takes the type its place in
the statement needs, as on SQLite.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import re
from datetime import date, datetime, time
from decimal import Decimal

import psycopg
from psycopg import ClientCursor, pq
from psycopg.adapt import Dumper, Loader

ENGINE = "postgresql"


# --- placeholders --------------------------------------------------------------------------------

_TOKENS = re.compile(r"""('(?:[^']|'')*')|("(?:[^"])*")|(--[^\n]*)|(\?)|(::)|(:[A-Za-z_]\w*)|(%)""")


@functools.lru_cache(maxsize=4096)
def placeholders(sql: str, named: bool) -> str:
    """`?` -> `%s`, `:name` -> `%(name)s` (named parameters only), `%` -> `%%`; string literals,
    quoted names and comments are left as they are, apart from the doubled `%`."""
    def swap(m: re.Match) -> str:
        literal, quoted, comment, question, cast, name, percent = m.groups()
        if literal is not None or quoted is not None or comment is not None:
            return m.group(0).replace("%", "%%")
        if question:
            return "%s"
        if cast:
            return cast
        if name:
            return f"%({name[1:]})s" if named else name
        return "%%"
    return _TOKENS.sub(swap, sql)


# --- values in and out -------------------------------------------------------------------------------

class _IsoText(Dumper):
    """A date, datetime or time as sqlite3 adapts it (ISO text), into TEXT columns."""
    oid = 0

    def dump(self, obj):
        text = obj.isoformat(" ") if isinstance(obj, datetime) else obj.isoformat()
        return text.encode()


class _BoolAsInt(Dumper):
    oid = 0

    def dump(self, obj):
        return b"1" if obj else b"0"

    def quote(self, obj):
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    def load(self, data):
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


class _BoolLoader(Loader):
    def load(self, data):
        return 1 if bytes(data) == b"t" else 0


def _configure(conn: psycopg.Connection) -> None:
    adapters = conn.adapters
    for kind in (date, datetime, time):
        adapters.register_dumper(kind, _IsoText)
    adapters.register_dumper(bool, _BoolAsInt)
    adapters.register_loader("numeric", _NumericLoader)
    adapters.register_loader("bool", _BoolLoader)


# --- cursor, connection, database ---------------------------------------------------------------------

class PgCursor:
    """What a sqlite3 cursor answers: rows as tuples, None/[] from a statement that returns none."""

    def __init__(self, cur: psycopg.Cursor):
        self._cur = cur

    @property
    def description(self):
        return self._cur.description

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def lastrowid(self):
        raise AttributeError("lastrowid is SQLite's: insert with RETURNING id on both engines")

    def fetchone(self):
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self):
        return self._cur.fetchall() if self._cur.description is not None else []

    def fetchmany(self, size: int = 1):
        return self._cur.fetchmany(size) if self._cur.description is not None else []

    def __iter__(self):
        return iter(self._cur) if self._cur.description is not None else iter(())

    def close(self) -> None:
        self._cur.close()


def _prepare(sql: str, params):
    if params is None:
        return sql, None
    if isinstance(params, dict):
        return placeholders(sql, True), params
    return placeholders(sql, False), tuple(params)


class PgConnection:
    """A psycopg connection answering as the sqlite3 connection db/ modules hold."""

    engine = ENGINE

    def __init__(self, raw: psycopg.Connection, reconnect=None):
        self.raw = raw
        self._reconnect = reconnect        # () -> a new raw connection, after the server connection was lost
        self._closed = False
        _configure(raw)

    def _live(self) -> None:
        """A connection lost (the network, a server restart) fails the statement that met it, and so the
        save or read in progress, which the app says; the next statement, which starts afresh outside any
        transaction, connects again."""
        if self._reconnect is not None and not self._closed and (self.raw.broken or self.raw.closed):
            self.raw = self._reconnect()
            _configure(self.raw)

    def execute(self, sql: str, params=None) -> PgCursor:
        if sql.lstrip()[:6].upper() == "PRAGMA":
            return self._pragma(sql)
        self._live()
        sql, params = _prepare(sql, params)
        cur = self.raw.cursor()
        cur.execute(sql, params)
        return PgCursor(cur)

    def executemany(self, sql: str, rows) -> PgCursor:
        self._live()
        rows = iter(rows)
        first = next(rows, None)
        cur = self.raw.cursor()
        if first is None:
            return PgCursor(cur)
        named = isinstance(first, dict)
        sql = placeholders(sql, named)
        cur.executemany(sql, (r if named else tuple(r) for r in itertools.chain([first], rows)))
        return PgCursor(cur)

    # SQLite's settings of a file's writing that mean nothing on a server (its WAL, syncing and freed
    # pages are the server's): accepted and ignored. Any other PRAGMA is a statement still written for
    # SQLite only, and says so.
    _NO_MEANING = frozenset({"wal_checkpoint", "synchronous", "secure_delete", "optimize", "busy_timeout",
                             "foreign_keys", "journal_mode", "cache_size"})

    def executemany_returning(self, sql: str, rows) -> list:
        """executemany of an INSERT ... RETURNING: the first value each row returned, in the order of rows."""
        self._live()
        cur = self.raw.cursor()
        out = []
        rows = list(rows)
        if not rows:
            return out
        named = isinstance(rows[0], dict)
        cur.executemany(placeholders(sql, named), [r if named else tuple(r) for r in rows], returning=True)
        while True:
            out += [r[0] for r in cur.fetchall()]
            if not cur.nextset():
                break
        return out

    def _pragma(self, sql: str) -> PgCursor:
        name = re.match(r"\s*PRAGMA\s+(\w+)", sql, re.IGNORECASE).group(1).lower()
        if name not in self._NO_MEANING:
            raise NotImplementedError(f"PRAGMA {name} is SQLite's: write this through db/engine.py for a server")
        return PgCursor(self.raw.cursor())

    def commit(self) -> None:
        """As sqlite3's: commit what is open (statements outside BEGIN are committed as they run)."""
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def __enter__(self):
        """`with conn:` as sqlite3's: commit at the end, or roll back on an error (the connection stays open)."""
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.commit()
        else:
            self.rollback()
        return False

    @property
    def in_transaction(self) -> bool:
        # (A lost connection's status is UNKNOWN: no transaction is open any more.)
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR,
                                                    pq.TransactionStatus.ACTIVE)

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def close(self) -> None:
        self._closed = True
        self.raw.close()


class PgDatabase:
    """The sqlite_utils.Database calls db/ modules make, over a PgConnection."""

    engine = ENGINE

    def __init__(self, conn: PgConnection, url: str):
        self.conn = conn
        self.url = url
        self._savepoints = itertools.count(1)

    def execute(self, sql: str, params=None) -> PgCursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params=None):
        cur = self.conn.execute(sql, params)
        if cur.description is None:
            return
        keys = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(keys, row))

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]

    def view_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema() "
            "ORDER BY table_name")]

    def columns_of(self, table: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]

    @contextlib.contextmanager
    def atomic(self):
        """A savepoint inside a transaction; a transaction of its own otherwise."""
        if not self.conn.in_transaction:
            from .server import write_transaction
            with write_transaction(self):
                yield self
            return
        name = f"htdesk_{next(self._savepoints)}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield self
        except BaseException:
            self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.conn.execute(f"RELEASE SAVEPOINT {name}")


def connect_raw(conninfo: str, **kw) -> psycopg.Connection:
    """A psycopg connection in autocommit (the app says BEGIN and COMMIT itself, as on SQLite),
    binding parameters on the client."""
    return psycopg.connect(conninfo, autocommit=True, cursor_factory=ClientCursor, **kw)
