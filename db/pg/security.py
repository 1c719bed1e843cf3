"""A shared server that itself refuses what the role table refuses (issue 18, the security items).

`htdesk init --server`, run by the IT team's owner login (a login with CREATEROLE that owns the
database and is never used by the app), installs on the service's database, after its schema:

- Group roles, one per app role, named after the database so two services on one server never share
  one: <db>_admin, <db>_manager, <db>_coord, <db>_trainer, <db>_champion, each a member of <db>_app.
  They hold the table grants below; none can log in.
- One server login per app account, named <db>.<username> (so "boss" on the database gateshead is
  the login "gateshead.boss"), a member of the groups of the account's roles; its password is the
  app account's password. The app sends the server a SCRAM-SHA-256 verifier (scram_verifier), never
  the password itself, so the password is not in any statement the server might log.
- The narrow account-administration path: PostgreSQL 15 lets a role with CREATEROLE alter any other
  non-superuser role and grant it any membership, so no app login has CREATEROLE. Instead the function
  htdesk_account_login(username, verifier, groups, enabled) is SECURITY DEFINER, owned by the
  non-login role <db>_accounts (the only role with CREATEROLE besides the IT team's owner), callable
  only by <db>_admin. It accepts only an app username (letters, digits and . _ @ -), only the five
  groups, only a SCRAM verifier, and alters only a login <db>.<username> that is a member of <db>_app
  and holds neither SUPERUSER nor CREATEROLE nor BYPASSRLS. A login changes its own password with
  ALTER ROLE CURRENT_USER (PostgreSQL lets any role do that).
- Row-level security on clients and every table hanging off them: a champion's login reads and
  writes only the rows of clients with a referral allocated to them (htdesk_my_clients(), resolved
  from the session's login, not from anything the PC says). Trainers, coordinators, managers and
  administrators see every client, as db/policy.py says; the store's own refusals stay as they are
  (the server is the second wall). The views are security_invoker, so they show what the tables do.
- The accounts table: a login may update only its own row's sign-in bookkeeping and password, never
  its username or staff_id (through which a champion's clients are found); administrators any row.
- The audit table: the app's groups may INSERT and SELECT; none may DELETE or TRUNCATE; only
  administrators may UPDATE, and only the columns erasure redacts (the owner's trigger
  audit_only_redaction refuses anything but a redaction of an erased person's rows). Champions and
  trainers read only its id and hash (enough to chain a new row). The triggers belong to the owner.

Sign-in on a server secured this way is connecting as that login: the PC's address names no user,
the app connects with the typed username as <db>.<username> and the typed password (see the README);
no shared password is kept anywhere. `check` (checks()) says what a server lacks.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stringprep
import unicodedata

GROUPS = {"ADMIN": "admin", "MANAGER": "manager", "COORD": "coord", "TRAINER": "trainer", "CHAMPION": "champion"}
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,40}$")

# Tables holding one client's records, with how a row names its client (for a champion's policy).
_MINE = "IN (SELECT htdesk_my_clients())"
_MY_REFERRALS = "referral_id IN (SELECT htdesk_my_referrals())"
CLIENT_TABLES = {
    "clients": f"id {_MINE}",
    "clients_search": f"rowid {_MINE}",
    "referrals": f"client_id {_MINE}",
    "sessions": f"client_id {_MINE}",
    "assessments": f"client_id {_MINE}",
    "signposting": f"client_id {_MINE}",
    "safeguarding_prompts": f"client_id {_MINE}",
    "documents": f"client_id {_MINE}",
    "referral_reasons": _MY_REFERRALS,
    "contact_attempts": _MY_REFERRALS,
    "plans": _MY_REFERRALS,
    "erased_referrals": _MY_REFERRALS,
    "goals": "plan_id IN (SELECT id FROM plans)",
    "plan_contacts": "plan_id IN (SELECT id FROM plans)",
    "plan_versions": "plan_id IN (SELECT id FROM plans)",
    "goal_reviews": "goal_id IN (SELECT id FROM goals)",
    "session_goals": "session_id IN (SELECT id FROM sessions)",
    "session_history": "session_id IN (SELECT id FROM sessions)",
}
# Who writes what (db/policy.py's roles table, per table; reading is everyone's but the audit's).
_CARE = ("champion", "trainer", "coord", "manager")
WRITERS = {
    **{t: _CARE for t in CLIENT_TABLES},
    "session_groups": _CARE,
    "directory": ("coord", "manager", "admin"),
    "return_runs": ("manager",), "return_submissions": ("manager",), "reach_figures": ("coord", "manager"),
    "services": ("admin",), "staff": ("admin", "manager", "coord"), "account_roles": ("admin",),
    "venues": ("admin", "manager", "coord"),
    # Everyone: a new client's or referral's number (counters), their own drafts (DRAFTS_OWN). Settings:
    # administrators, and managers importing a workbook's. Meta (the app's version, the demo flag): only the
    # owner, at set-up and upgrades. Accounts: administrators; anyone else only their own row's sign-in
    # bookkeeping and password (ACCOUNT_OWN).
    "counters": ("app",), "drafts": ("app",), "settings": ("admin", "manager"), "meta": (), "accounts": ("admin",),
}
# A login reads and writes only its own drafts (typing kept for recovery); erasure (administrators)
# deletes the drafts of the erased person's forms whoever typed them.
DRAFTS_OWN = "username = htdesk_app_username()"
# Never username or staff_id: a champion's clients are found through their account's staff_id.
ACCOUNT_OWN = ("password_hash", "locked", "failed_attempts", "last_login", "must_change_password", "row_version",
               "updated_at", "updated_by", "locked_until")
# Erasure (administrators) anonymises client records in place.
ERASERS = ("admin",)
# The whole row: those the role table shows the audit to (db/policy.py, audit_view); the others its id and
# hash only, to chain a new row. The reach count's look at what changed since a count (coordinators
# count too) goes through htdesk_audit_dates (db/engine.py): ids, what each is about and a date.
AUDIT_READERS = ("admin", "manager")
AUDIT_DATES = ("admin", "manager", "coord")


def prefix(db) -> str:
    return db.conn.execute("SELECT current_database()").fetchone()[0]


def group(db_name: str, name: str) -> str:
    return f"{db_name}_{name}"


def login_name(db_name: str, username: str) -> str:
    return f"{db_name}.{username}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL keeps for a password (RFC 5802/7677), made here so the
    password itself never reaches the server (libpq's PQencryptPasswordConn does the same)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


_PROHIBITED = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4,
               stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
               stringprep.in_table_c9, stringprep.in_table_a1)


def saslprep(password: str) -> str:
    """The password as PostgreSQL's SCRAM prepares it (RFC 4013 SASLprep, as src/common/saslprep.c does on
    both the client and the server): a pure-ASCII password as it is; otherwise non-ASCII spaces become
    spaces, characters mapped to nothing go, NFKC; and when the result holds a prohibited or unassigned
    character or breaks the bidirectional rule, PostgreSQL uses the password as typed, and so does this."""
    if password.isascii():
        return password
    # Spaces first: U+200B is in both tables, and PostgreSQL makes it a space.
    mapped = "".join(" " if stringprep.in_table_c12(c) else "" if stringprep.in_table_b1(c) else c for c in password)
    prepared = unicodedata.normalize("NFKC", mapped)
    if not prepared or any(test(c) for c in prepared for test in _PROHIBITED):
        return password
    if any(stringprep.in_table_d1(c) for c in prepared):          # right-to-left text: RFC 3454 section 6
        if any(stringprep.in_table_d2(c) for c in prepared) or not (
                stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            return password
    return prepared


def _account_function(p: str) -> str:
    groups = ", ".join(f"'{g}'" for g in GROUPS.values())
    return f"""CREATE OR REPLACE FUNCTION htdesk_account_login(p_username text, p_verifier text, p_groups text[],
                                                p_enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    db text := current_database();
    login text := current_database() || '.' || p_username;
    allowed text[] := ARRAY[{groups}];
    g text;
    r record;
BEGIN
    IF p_username IS NULL OR p_username !~ '{USERNAME.pattern}' THEN
        RAISE EXCEPTION 'not an app username: %', p_username USING ERRCODE = '22023';
    END IF;
    IF p_verifier IS NOT NULL AND p_verifier !~ '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'a password is given to the server as a SCRAM-SHA-256 verifier only' USING ERRCODE = '22023';
    END IF;
    IF p_groups IS NOT NULL AND NOT (p_groups <@ allowed) THEN
        RAISE EXCEPTION 'not an app group: %', p_groups USING ERRCODE = '22023';
    END IF;
    SELECT rolsuper, rolcreaterole, rolbypassrls, rolreplication INTO r FROM pg_roles WHERE rolname = login;
    IF FOUND THEN
        IF r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolreplication
                OR NOT pg_has_role(login, db || '_app', 'MEMBER') THEN
            RAISE EXCEPTION 'the login % is not an app login: it is left alone', login USING ERRCODE = '42501';
        END IF;
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
                       'IN ROLE %I', login, db || '_app');
    END IF;
    IF p_verifier IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', login, p_verifier);
    END IF;
    IF p_groups IS NOT NULL THEN
        FOREACH g IN ARRAY allowed LOOP
            IF g = ANY (p_groups) THEN
                IF NOT pg_has_role(login, db || '_' || g, 'MEMBER') THEN
                    EXECUTE format('GRANT %I TO %I', db || '_' || g, login);
                END IF;
            ELSIF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.roleid
                          JOIN pg_roles b ON b.oid = m.member WHERE a.rolname = db || '_' || g AND b.rolname = login) THEN
                EXECUTE format('REVOKE %I FROM %I', db || '_' || g, login);
            END IF;
        END LOOP;
    END IF;
    IF p_enabled IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I %s', login, CASE WHEN p_enabled THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END IF;
END $$"""


def _statements(p: str, owner: str) -> list[str]:
    from .. import engine
    app = _q(group(p, "app"))
    g = {name: _q(group(p, name)) for name in (*GROUPS.values(), "app")}
    accounts_role = _q(group(p, "accounts"))
    out = [
        # Run again on a server secured by an earlier version: what it granted and this one does not is
        # taken back first (revoking a table's privilege also revokes its column privileges), then granted.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {', '.join(g.values())}",
        f"REVOKE ALL ON DATABASE {_q(p)} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(p)} TO {app}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {app}",
        f"REVOKE SELECT ON audit FROM {', '.join(g.values())}",
        f"GRANT SELECT (id, hash) ON audit TO {app}",
        f"GRANT INSERT ON audit TO {app}",
        f"GRANT SELECT ON audit TO {', '.join(g[n] for n in AUDIT_READERS)}",
        f"GRANT UPDATE (before, after, detail, redacted_at) ON audit TO {g['admin']}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"GRANT EXECUTE ON FUNCTION json_each(text) TO {app}",
    ]
    for table, who in WRITERS.items():
        if who:
            out.append(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {', '.join(g[n] for n in who)}")
    for table in CLIENT_TABLES:
        out.append(f"GRANT UPDATE, DELETE ON {table} TO {', '.join(g[n] for n in ERASERS)}")
    out.append(f"GRANT INSERT ON erased_referrals TO {g['admin']}")
    # Row-level security: champions see their allocated clients only; everyone else every client.
    out += [
        f"""CREATE OR REPLACE FUNCTION htdesk_app_username() RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN left(session_user::text, length(current_database()) + 1) = current_database() || '.'
                THEN substr(session_user::text, length(current_database()) + 2) END
$$""",
        f"""CREATE OR REPLACE FUNCTION htdesk_my_clients() RETURNS SETOF bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
    SELECT r.client_id FROM referrals r JOIN accounts a ON a.staff_id = r.allocated_staff_id
    WHERE a.username = htdesk_app_username()
$$""",
        f"""CREATE OR REPLACE FUNCTION htdesk_my_referrals() RETURNS SETOF bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
    SELECT r.id FROM referrals r WHERE r.client_id IN (SELECT htdesk_my_clients())
$$""",
    ]
    for fn in ("htdesk_app_username()", "htdesk_my_clients()", "htdesk_my_referrals()"):
        out += [f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC", f"GRANT EXECUTE ON FUNCTION {fn} TO {app}"]
    out += [
        engine.AUDIT_DATES_FUNCTION,
        "REVOKE ALL ON FUNCTION htdesk_audit_dates(bigint, text[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION htdesk_audit_dates(bigint, text[]) TO {', '.join(g[n] for n in AUDIT_DATES)}",
    ]
    out += [
        f"GRANT UPDATE ({', '.join(ACCOUNT_OWN)}) ON accounts TO {app}",
        "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS htdesk_read ON accounts",
        "DROP POLICY IF EXISTS htdesk_own ON accounts",
        "DROP POLICY IF EXISTS htdesk_admin ON accounts",
        f"CREATE POLICY htdesk_read ON accounts FOR SELECT TO {app} USING (true)",
        f"CREATE POLICY htdesk_own ON accounts FOR UPDATE TO {app} USING (username = htdesk_app_username()) "
        "WITH CHECK (username = htdesk_app_username())",
        f"CREATE POLICY htdesk_admin ON accounts TO {g['admin']} USING (true) WITH CHECK (true)",
    ]
    out += [
        "ALTER TABLE drafts ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS htdesk_own ON drafts",
        "DROP POLICY IF EXISTS htdesk_erasure ON drafts",
        f"CREATE POLICY htdesk_own ON drafts TO {app} USING ({DRAFTS_OWN}) WITH CHECK ({DRAFTS_OWN})",
        f"CREATE POLICY htdesk_erasure ON drafts FOR DELETE TO {', '.join(g[n] for n in ERASERS)} USING (true)",
    ]
    others = ", ".join(g[n] for n in ("admin", "manager", "coord", "trainer"))
    for table, link in CLIENT_TABLES.items():
        out += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS htdesk_staff ON {table}",
            f"DROP POLICY IF EXISTS htdesk_champion ON {table}",
            f"CREATE POLICY htdesk_staff ON {table} TO {others} USING (true) WITH CHECK (true)",
            f"CREATE POLICY htdesk_champion ON {table} TO {g['champion']} USING ({link}) WITH CHECK ({link})",
        ]
    out.append(lambda db: [db.conn.execute(f"ALTER VIEW {_q(v)} SET (security_invoker = true)") for (v,) in
                           db.conn.execute("SELECT viewname FROM pg_views WHERE schemaname = 'public'").fetchall()])
    # The narrow account path: a non-login role with CREATEROLE owns the one function that uses it.
    out += [
        # PostgreSQL 15: to give it the function (or replace it, run again), the owner must be a member and
        # it able to create there (and, a member, says who may call it: granted as by the function's owner).
        f"GRANT {accounts_role} TO {_q(owner)}",
        f"GRANT CREATE ON SCHEMA public TO {accounts_role}",
        _account_function(p),
        f"ALTER FUNCTION htdesk_account_login(text, text, text[], boolean) OWNER TO {accounts_role}",
        f"REVOKE CREATE ON SCHEMA public FROM {accounts_role}",
        "REVOKE ALL ON FUNCTION htdesk_account_login(text, text, text[], boolean) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION htdesk_account_login(text, text, text[], boolean) TO {g['admin']}, {_q(owner)}",
        f"REVOKE {accounts_role} FROM {_q(owner)}",
    ]
    return out


def _make_roles(db, p: str) -> None:
    existing = {r[0] for r in db.conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE ?", (p + "\\_%",))}
    for name in ("app", *GROUPS.values()):
        if group(p, name) not in existing:
            db.conn.execute(f"CREATE ROLE {_q(group(p, name))} NOLOGIN")
    for name in GROUPS.values():
        db.conn.execute(f"GRANT {_q(group(p, 'app'))} TO {_q(group(p, name))}")
    if group(p, "accounts") not in existing:
        db.conn.execute(f"CREATE ROLE {_q(group(p, 'accounts'))} NOLOGIN CREATEROLE")


def installed(db) -> bool:
    cached = getattr(db, "_htdesk_secured", None)
    if cached is None:
        cached = db.conn.execute(
            "SELECT to_regprocedure('htdesk_account_login(text, text, text[], boolean)') IS NOT NULL").fetchone()[0]
        cached = bool(cached)
        try:
            db._htdesk_secured = cached
        except AttributeError:
            pass
    return cached


def install(db, first_logins: dict[str, str] | None = None) -> list[str]:
    """apply() in a transaction of its own."""
    from .server import write_transaction
    with write_transaction(db):
        return apply(db, first_logins)


def apply(db, first_logins: dict[str, str] | None = None) -> list[str]:
    """Roles, grants, policies and the account function (run by the owner login; again is harmless),
    then a login for every account (first_logins: username -> password, for those whose password is
    known here: the first administrator at init, the administrator securing an older database).
    Returns the accounts whose login was made now without a password: they cannot sign in until an
    administrator gives them a one-time password (an account's password is kept only as its hash)."""
    p = prefix(db)
    owner = db.conn.execute("SELECT current_user").fetchone()[0]
    had = {r[0] for r in db.conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE ?", (p + ".%",))}
    _make_roles(db, p)
    for statement in _statements(p, owner):
        statement(db) if callable(statement) else db.conn.execute(statement)
    db._htdesk_secured = True
    no_password = []
    for (username,) in db.conn.execute("SELECT username FROM accounts ORDER BY id").fetchall():
        password = (first_logins or {}).get(username)
        sync_login(db, username, password)
        if password is None and login_name(p, username) not in had:
            no_password.append(username)
    return no_password


def secure_existing(db, username: str, password: str) -> list[str]:
    """store.admin.secure_server: an administrator, connected as the IT team's owner login, gives a
    service's database set up before per-person logins (or by an earlier version) its roles, logins and
    policies; their own login gets the password they signed in with. Inside the caller's transaction."""
    from . import is_postgres
    from ..errors import FieldError, ValidationError
    if not is_postgres(db):
        raise ValidationError(FieldError("db", "Only a service's database on a PostgreSQL server has server "
                                               "logins to set up; a file is protected by its encryption."))
    me, owner, createrole, superuser = db.conn.execute(
        "SELECT r.rolname, pg_get_userbyid(d.datdba), r.rolcreaterole, r.rolsuper FROM pg_roles r, pg_database d "
        "WHERE r.rolname = current_user AND d.datname = current_database()").fetchone()
    if not superuser and (me != owner or not createrole):
        raise ValidationError(FieldError("db", f"Connected as {me}: securing the server is done as the IT team's "
                                               "owner login (it owns the database and has CREATEROLE), with an "
                                               "address naming it: --db postgresql://OWNER@HOST/DBNAME."))
    return apply(db, {username: password})


def sync_login(db, username: str, password: str | None = None) -> None:
    """The account's server login as the account is now: its groups, a password when one is given,
    able to log in unless the account is locked or ended. Called in the same transaction as the
    account's own change, so both are saved or neither."""
    from datetime import date
    row = db.conn.execute("SELECT id, locked, ended_on FROM accounts WHERE username = ?", (username,)).fetchone()
    if row is None:
        return
    account_id, locked, ended_on = row
    roles = [r[0] for r in db.conn.execute("SELECT role FROM account_roles WHERE account_id = ?", (account_id,))]
    enabled = not locked and not (ended_on and ended_on <= date.today().isoformat())
    verifier = scram_verifier(password) if password is not None else None
    me = db.conn.execute("SELECT session_user").fetchone()[0]
    if verifier is not None and me == login_name(prefix(db), username):
        db.conn.execute(f"ALTER ROLE CURRENT_USER PASSWORD '{verifier}'")    # one's own: no admin needed
        return
    db.conn.execute("SELECT htdesk_account_login(?, ?, CAST(? AS text[]), CAST(? AS integer) = 1)",
                    (username, verifier, "{" + ",".join(sorted({GROUPS[r] for r in roles if r in GROUPS})) + "}",
                     enabled))


def after_account_change(db, username: str, password: str | None = None) -> None:
    """db/accounts.py's hook: on a secured server, the login follows the account."""
    from . import is_postgres
    if is_postgres(db) and installed(db):
        sync_login(db, username, password)


def names_no_user(url: str) -> bool:
    """A server address naming no user: each person connects as their own login (sign-in)."""
    from urllib.parse import parse_qsl, urlsplit
    parts = urlsplit(url)
    return not parts.username and "user" not in dict(parse_qsl(parts.query))


def open_as_person(cls, url: str, username: str, password: str):
    """Sign-in on a secured server: connect as the person's own login <db>.<username> with the typed
    password (given to libpq for this connection only; nothing is saved), then sign in to the app as
    that account. A wrong password or a locked or ended account is refused by the server first."""
    from urllib.parse import urlsplit
    from .. import connection
    from .server import open_server_database
    from ..errors import AuthenticationError, HTDeskError
    if not USERNAME.match(username or ""):
        raise AuthenticationError(f"{username!r} is not a username of this service.")
    login = login_name(urlsplit(url).path.strip("/"), username)
    try:
        with connection.plain_errors(None):
            store = cls(open_server_database(url, migrate=False, login=(login, password)), None)
    except HTDeskError as exc:
        refused = str(exc.__cause__ or "")
        if "password authentication failed" in refused or "not permitted to log in" in refused:
            raise AuthenticationError("Wrong username or password, or the account is locked or ended (the server "
                                      "refused the sign-in).") from None
        raise
    store.url = url
    try:
        store.sign_in(username, password)
    except BaseException:
        store.close()
        raise
    return store


def secure_store(store, first_logins: dict[str, str] | None = None) -> list[str]:
    """install() on a store's server database (htdesk init --server)."""
    return install(store.db, first_logins)


def server_checks(store) -> list:
    """What the store's server lacks (htdesk check); nothing for a file."""
    from . import is_postgres
    return checks(store.db) if is_postgres(store.db) else []


# --- what a server lacks (htdesk check) ------------------------------------------------------------------

def checks(db) -> list:
    from ..maintenance import CheckResult
    p = prefix(db)
    c = db.conn
    out = []
    ssl = c.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    local = c.execute("SELECT inet_client_addr() IS NULL").fetchone()[0]
    out.append(CheckResult("server: TLS", bool(ssl and ssl[0]) or bool(local),
                           "this connection is encrypted (TLS)" if ssl and ssl[0] else
                           "a local socket (no network between the app and the server)" if local else
                           "this connection is not encrypted: set ssl = on on the server and a 'hostssl ... "
                           "scram-sha-256' line in pg_hba.conf, then connect with sslmode=verify-full"))
    me, owner, su, createrole = c.execute(
        "SELECT r.rolname, pg_get_userbyid(d.datdba), r.rolsuper, r.rolcreaterole FROM pg_roles r, pg_database d "
        "WHERE r.rolname = session_user AND d.datname = current_database()").fetchone()
    bad = "a superuser" if su else "the database's owner" if me == owner else \
        "a login with CREATEROLE" if createrole else None
    out.append(CheckResult("server: app login", bad is None,
                           f"the app connects as {me}, an app login" if bad is None else
                           f"the app connects as {me}, {bad}: the owner login is the IT team's, for 'htdesk init "
                           "--server' only; each person connects as their own login (see the README)"))
    secured = installed(db)
    out.append(CheckResult("server: per-person logins", secured,
                           "one login per account, in the role groups" if secured else
                           "no per-person logins or role groups: as the IT team's owner login, run 'htdesk secure "
                           "--db postgresql://OWNER@HOST/DBNAME --user ADMIN' (see the README)"))
    wide = [r[0] for r in c.execute(
        "SELECT r.rolname FROM pg_roles r WHERE (r.rolcreaterole OR r.rolsuper OR r.rolbypassrls) "
        "AND r.rolname LIKE ? AND pg_has_role(r.rolname, ?, 'MEMBER')", (p + ".%", group(p, "app")))] if secured else []
    out.append(CheckResult("server: CREATEROLE", not wide,
                           "no app login may create or alter roles" if not wide else
                           f"app logins with CREATEROLE, SUPERUSER or BYPASSRLS: {', '.join(wide)}: remove it "
                           "(ALTER ROLE ... NOCREATEROLE NOSUPERUSER NOBYPASSRLS)"))
    no_rls = [r[0] for r in c.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
        "AND relname = ANY(?) AND NOT relrowsecurity ORDER BY relname", (list(CLIENT_TABLES),))]
    out.append(CheckResult("server: row-level security", not no_rls,
                           "champions' logins read only their allocated clients' rows" if not no_rls else
                           f"row-level security is off on {', '.join(no_rls)}: run 'htdesk init --server' as "
                           "the owner login"))
    who = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"
    wide_audit = [f"{r[0]} may {r[1]}" for r in c.execute(
        f"SELECT {who}, a.privilege_type FROM pg_class t, aclexplode(t.relacl) a WHERE t.oid = 'audit'::regclass "
        "AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND a.grantee <> t.relowner ORDER BY 1, 2")]
    wide_audit += [f"{r[0]} may UPDATE {r[1]}" for r in c.execute(
        f"SELECT {who}, t.attname FROM pg_attribute t, aclexplode(t.attacl) a WHERE t.attrelid = 'audit'::regclass "
        "AND a.privilege_type = 'UPDATE' AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ?) "
        "AND t.attname NOT IN ('before', 'after', 'detail', 'redacted_at') ORDER BY 1, 2", (group(p, "admin"),))]
    triggers = c.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND tgenabled <> 'D' "
                         "AND NOT tgisinternal").fetchone()[0]
    if triggers < 3:
        wide_audit.append(f"only {triggers} of the audit's 3 guarding triggers are enabled")
    out.append(CheckResult("server: audit grants", not wide_audit,
                           "the app's logins may only add to the audit trail" if not wide_audit else
                           "; ".join(wide_audit) + ": REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM those roles, "
                           "ALTER TABLE audit ENABLE TRIGGER ALL"))
    out.append(_lockout_check(c))
    return out


# Settings of the server's modules that slow down or stop password guessing: PostgreSQL checks a
# login's password before the app sees anything, so the app's own five-tries lock cannot apply there.
LOCKOUT_SETTINGS = ("credcheck.max_auth_failure", "auth_delay.milliseconds")


def _lockout_check(c):
    from ..maintenance import CheckResult
    found = {}
    for name in LOCKOUT_SETTINGS:
        row = c.execute("SELECT setting FROM pg_settings WHERE name = ?", (name,)).fetchone()   # unit-less
        if row is not None and row[0] not in ("", "0"):
            found[name] = row[0]
    if "credcheck.max_auth_failure" in found:
        said = f"a login is locked after {found['credcheck.max_auth_failure']} wrong passwords (credcheck)"
    elif found:
        said = (f"each wrong password waits {found['auth_delay.milliseconds']} ms (auth_delay); for a lock after "
                "five, add the credcheck extension (credcheck.max_auth_failure = 5) or fail2ban on the server's log")
    else:
        said = ("the server neither slows down nor locks out wrong passwords, and the app cannot (the server refuses "
                "a wrong password before the app sees it): add auth_delay to shared_preload_libraries with "
                "auth_delay.milliseconds = 1000 (it comes with PostgreSQL), and for a lock after five wrong "
                "passwords the credcheck extension (credcheck.max_auth_failure = 5) or fail2ban on the server's log")
    return CheckResult("server: wrong passwords", bool(found), said)
