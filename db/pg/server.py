"""Opening a service's database on a PostgreSQL server (issue 18): the connection set up the app's
way, the schema brought up to date from the same named steps as a file, the transactions, and the
server's errors as the app's plain ones.

- A server reached over the network is only ever reached over TLS with its certificate checked
  (sslmode=verify-full); a local socket needs none. A weaker sslmode in the address is refused.
- No password is kept in the address the app saves or prints: the server's password comes from the
  user's ~/.pgpass (or PGPASSFILE / a client certificate), never from the app's settings.
- Writes take one lock for the whole database (pg_advisory_xact_lock), the way BEGIN IMMEDIATE
  takes SQLite's write lock: the audit trail's hash chain, the counters behind client and referral
  references and every check-then-write stay as serial as on a file, and the lock waits
  BUSY_TIMEOUT seconds before saying the database is busy. Every declared read (db/api.py @read:
  a record, a list, the diary week, the return...) takes one snapshot (REPEATABLE READ, READ ONLY).
"""
from __future__ import annotations

import contextlib
from urllib.parse import parse_qsl, urlsplit

from ..errors import BadPath, DatabaseBusy, DatabaseUnusable, HTDeskError, StorageFault, StorageReadOnly, StoreFault
from . import is_server_url  # noqa: F401  (re-exported)
from .adapter import PgConnection, PgDatabase, connect_raw

# "HTDK": the app's files carry it as PRAGMA application_id; here it names the write lock.
WRITE_LOCK = 0x4854444B
BUSY_TIMEOUT_MS = 5000


def _local_socket(host: str | None) -> bool:
    return not host or host.startswith("/") or host.startswith("%2F") or host.startswith("%2f")


def check_url(url: str) -> dict:
    """The address's parts, refusing what the app must not do: a password written in it, or a
    network connection without a checked certificate."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname
    if parts.password:
        raise BadPath("The server address holds a password: remove it. The app never keeps a server password "
                      "in clear; put it in your ~/.pgpass file (or use a client certificate) instead.")
    if not parts.path.strip("/"):
        raise BadPath(f"The server address {url} names no database: write postgresql://HOST/DBNAME.")
    sslmode = query.get("sslmode")
    if not _local_socket(host) and sslmode not in (None, "verify-full"):
        raise BadPath(f"The server address asks for sslmode={sslmode}: a server reached over the network is only "
                      "used with its certificate checked (sslmode=verify-full). Remove sslmode from the address.")
    return {"host": host, "dbname": parts.path.strip("/"), "sslmode": sslmode, "query": query}


def conninfo(url: str) -> str:
    """The address given to libpq: sslmode=verify-full added for a network server."""
    info = check_url(url)
    if not _local_socket(info["host"]) and info["sslmode"] is None:
        url += ("&" if "?" in url else "?") + "sslmode=verify-full"
    return url


def shown(url: str) -> str:
    """The address as the app shows it (never with a password, which check_url refuses anyway)."""
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
    return where + (f"?{parts.query}" if parts.query else "")


def connect(url: str, *, login: tuple[str, str] | None = None) -> PgDatabase:
    """login: (server login, password) typed at sign-in, given to libpq for this connection (and its
    reconnection) only: a person's own login on a secured server (db/pg/security.py), never saved."""
    import psycopg
    person = {"user": login[0], "password": login[1]} if login else {}

    def new_connection():
        return connect_raw(conninfo(url), options=f"-c lock_timeout={BUSY_TIMEOUT_MS} -c client_encoding=UTF8",
                           connect_timeout=10, **person)
    try:
        raw = new_connection()
    except psycopg.Error as exc:
        raise translate(exc, url) from exc
    db = PgDatabase(PgConnection(raw, reconnect=new_connection), url)
    # A second connection as the same login, for a screen's read while the worker writes (connection.py,
    # side_database).
    db._htdesk_open_side = lambda: PgDatabase(PgConnection(new_connection(), reconnect=new_connection), url)
    return db


def open_server_database(url: str, *, create: bool = False, migrate: bool = True,
                         login: tuple[str, str] | None = None) -> PgDatabase:
    """Open (or, with create, set up) the app's database on a server, bringing its schema up to date.
    An empty database is set up only when create is given; another program's tables are left alone."""
    from . import schema
    db = connect(url, login=login)
    try:
        state = schema.state(db)
        if state == "foreign":
            raise DatabaseUnusable(f"The database {shown(url)} holds tables of another program: it was left alone. "
                                   "Give the address of the service's own database.")
        if state == "empty" and not create:
            raise BadPath(f"The database {shown(url)} is empty: set it up with 'htdesk init --server {shown(url)}'.")
        newer = schema.newer_steps(db)
        if newer:
            raise DatabaseUnusable("This database was set up by a newer version of Health Trainer Desk "
                                   f"(schema step {newer[-1]}): install that version or newer. Nothing was changed.")
        if migrate and schema.pending(db):
            # A server's backups are the server's own (pg_dump): no file copy is made before a step.
            schema.apply(db)
            from . import security
            if security.installed(db):      # a secured server: the new step's tables get the groups' grants
                security.install(db)
    except BaseException as exc:
        db.conn.close()
        import psycopg
        if isinstance(exc, psycopg.Error):
            raise translate(exc, url) from exc
        raise
    return db


@contextlib.contextmanager
def write_transaction(db: PgDatabase):
    """BEGIN, then the database's write lock (waiting at most BUSY_TIMEOUT_MS); COMMIT or ROLLBACK."""
    conn = db.conn
    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
    try:
        conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        yield db
    except BaseException:
        if conn.in_transaction and not conn.closed:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction and not conn.closed:
                conn.execute("ROLLBACK")
            raise


@contextlib.contextmanager
def read_snapshot(db: PgDatabase):
    """Every read inside sees one moment of the data (REPEATABLE READ: one snapshot)."""
    conn = db.conn
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield db
    finally:
        if conn.in_transaction and not conn.closed:
            conn.execute("ROLLBACK")


def is_pg_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


def translate(exc: BaseException, url: str | None = None) -> BaseException:
    """The plain error for a server error, as connection.translate does for SQLite's."""
    if isinstance(exc, HTDeskError) or not is_pg_error(exc):
        return exc
    import psycopg
    from psycopg import errors as e
    where = f"The database {shown(url)}" if url else "The database"
    if isinstance(exc, (e.LockNotAvailable, e.DeadlockDetected, e.SerializationFailure)) or \
            (isinstance(exc, e.QueryCanceled) and "lock timeout" in str(exc)):
        return DatabaseBusy(f"{where} is in use by another user, who held it for more than "
                            f"{BUSY_TIMEOUT_MS / 1000:g} seconds: nothing was changed. Try again in a moment.")
    if isinstance(exc, e.InsufficientPrivilege):
        return StorageReadOnly(f"{where} refused the change: your server login may not do this. "
                               "Nothing was changed. Ask your IT team for the right role.")
    if isinstance(exc, (e.DiskFull, e.OutOfMemory)):
        return StorageFault(f"The server holding {shown(url) if url else 'the database'} has no room left: nothing "
                            "was changed. Ask your IT team to free space, then try again.")
    if isinstance(exc, (e.InvalidPassword, e.InvalidAuthorizationSpecification)):
        return BadPath(f"{where} refused the server login ({str(exc).strip().splitlines()[0]}). Check the user in "
                       "the address and the password in your ~/.pgpass file.")
    if isinstance(exc, e.QueryCanceled):
        return StorageFault(f"{where} stopped the work asked of it ({str(exc).strip().splitlines()[0]}): nothing was "
                            "changed. Try again; if it happens again, ask your IT team.")
    if isinstance(exc, psycopg.OperationalError) and "does not exist" in str(exc) and "database" in str(exc):
        return BadPath(f"{where} does not exist on that server. Check the address, or ask your IT team to create "
                       "it (see the README) and set it up with 'htdesk init --server'.")
    if isinstance(exc, psycopg.OperationalError):
        first = (str(exc).strip().splitlines() or [""])[0]
        return StorageFault(f"{where} could not be reached or the connection was lost ({first}): what was not "
                            "saved is not saved. Check the network and that the server is running, then try again.")
    return StoreFault(f"PostgreSQL error {type(exc).__name__}: {exc}")
