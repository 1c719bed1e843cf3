"""Accounts: argon2 password hashes (argon2-cffi), lockout after failed sign-ins."""
from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from . import audit, connection, versioned
from .errors import AuthenticationError, ValidationError, FieldError
from .permissions import ROLES
from .records import Account, Actor

MAX_FAILED_ATTEMPTS = 5

# RFC 9106's second recommended option (argon2id, t=3, m=64 MiB, p=4): named here, not taken
# from argon2-cffi's defaults, so a library upgrade cannot change what real databases get.
PRODUCTION_HASHING = profiles.RFC_9106_LOW_MEMORY

# Tests only: production cost is most of a test run's time. tests/conftest.py sets this
# variable (so CLI tests run as subprocesses inherit it); nothing else does. It is read once,
# at import, and only this exact value switches it on, so a stray "1" or "true" does nothing.
CHEAP_HASHING_VARIABLE = "HTDESK_TESTS_ONLY_CHEAP_PASSWORD_HASHES"
CHEAP_HASHING_VALUE = "insecure-for-tests-only"
CHEAP_HASHING = dataclasses.replace(PRODUCTION_HASHING, time_cost=1, memory_cost=8, parallelism=1)

_production_hasher = PasswordHasher.from_parameters(PRODUCTION_HASHING)
_hasher = (PasswordHasher.from_parameters(CHEAP_HASHING)
           if os.environ.get(CHEAP_HASHING_VARIABLE) == CHEAP_HASHING_VALUE else _production_hasher)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _needs_rehash(stored: str) -> bool:
    """Rehash a hash made with other parameters, but never weaken one made at production cost.

    Verifying reads the parameters from the hash itself, so either kind signs in; in a normal
    run the two hashers are one and this is argon2's own check."""
    return _hasher.check_needs_rehash(stored) and _production_hasher.check_needs_rehash(stored)


MIN_PASSWORD_LENGTH = 10
ADMIN_LOCKOUT_MINUTES = 15


def check_new_password(password: str | None, field: str = "password", *, username: str | None = None,
                       service_names: tuple[str, ...] = ()) -> None:
    """NCSC guidance: long enough, not a common or breached password, not built from the username or
    the service's name, and no composition rules (no demand for digits or symbols).

    The common-password check is zxcvbn's (the maintained Python port of Dropbox's estimator): it ships
    the 30,000 most frequent passwords of published breaches and sees through the usual dodges
    (l33t spellings, a year or digits on the end, keyboard runs, repeats), which a plain list cannot."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(FieldError(field, f"Password: choose at least {MIN_PASSWORD_LENGTH} characters "
                                                "(three random words make a good one)."))
    folded = password.casefold()
    compact = re.sub(r"[^a-z0-9]", "", folded)
    words = [w for name in service_names for w in _name_words(name)]
    if username and len(username) >= 3 and username.casefold() in folded:
        raise ValidationError(FieldError(field, "Password: it contains your username; choose one that does not."))
    if any(w in folded or w in compact for w in words):
        raise ValidationError(FieldError(field, "Password: it contains the service's name; choose one that "
                                                "does not."))
    from zxcvbn import zxcvbn
    found = zxcvbn(password[:100], user_inputs=[u for u in (username, *service_names) if u])
    if found["score"] < 2:
        raise ValidationError(FieldError(field, "Password: it is too common or too easy to guess (it is on lists "
                                                "of leaked passwords, or made of a common word with a few changes). "
                                                "Three random words make a strong one."))


def _name_words(name: str) -> list[str]:
    whole = re.sub(r"[^a-z0-9]", "", name.casefold())
    words = [w for w in re.split(r"[^a-z0-9]+", name.casefold()) if len(w) >= 5]
    common = {"health", "trainer", "trainers", "service", "services", "community", "council", "limited"}
    return [w for w in [whole, *words] if w and w not in common and len(w) >= 5]


def create(db: Database, username: str, password: str, roles: list[str], staff_id: int | None,
           by: str | None, password_hash: str | None = None, must_change: bool = False,
           no_roles_ok: bool = False) -> int:
    """A new account. no_roles_ok: an imported account may have no role yet (it can do nothing until an
    administrator gives it one; the import never gives the administrator role)."""
    username = (username or "").strip()
    if not username or any(ch.isspace() for ch in username):
        raise ValidationError(FieldError("username", "Username: give a name with no spaces, e.g. jsmith."))
    bad = [r for r in roles if r not in ROLES]
    if (not roles and not no_roles_ok) or bad:
        raise ValidationError(FieldError("roles", f"Roles: choose from {', '.join(ROLES)}."))
    if db.conn.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone():
        raise ValidationError(FieldError("username", f"Username: {username} is already taken; choose another."))
    if password_hash is None:
        check_new_password(password, username=username, service_names=service_names(db))
        password_hash = hash_password(password)
    account_id = db.conn.execute(
        "INSERT INTO accounts (username, password_hash, staff_id, must_change_password, created_by) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id", (username, password_hash, staff_id, int(must_change), by)).fetchone()[0]
    db.conn.executemany("INSERT INTO account_roles (account_id, role) VALUES (?, ?)",
                        [(account_id, r) for r in dict.fromkeys(roles)])
    _server_login(db, username, password)
    return account_id


def _roles(db: Database, account_id: int) -> tuple[str, ...]:
    return tuple(r[0] for r in db.conn.execute(
        "SELECT role FROM account_roles WHERE account_id = ? ORDER BY role", (account_id,)))


def get(db: Database, username: str) -> Account | None:
    row = db.conn.execute(
        "SELECT a.id, a.username, a.staff_id, a.locked, a.failed_attempts, a.last_login, "
        "a.must_change_password, s.full_name FROM accounts a LEFT JOIN staff s ON s.id = a.staff_id "
        "WHERE a.username = ?", (username,)).fetchone()
    if row is None:
        return None
    return Account(id=row[0], username=row[1], roles=_roles(db, row[0]), staff_id=row[2], locked=row[3],
                   failed_attempts=row[4], last_login=row[5], must_change_password=row[6], full_name=row[7])


def list_accounts(db: Database) -> list[Account]:
    names = [r[0] for r in db.conn.execute("SELECT username FROM accounts ORDER BY username")]
    return [get(db, n) for n in names]


def states(db: Database) -> list[tuple[str, str | None, str | None]]:
    now = audit.now_iso()
    return [(u, e, t if t and t > now else None) for u, e, t in db.conn.execute(
        "SELECT username, ended_on, locked_until FROM accounts ORDER BY username")]


def count(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]


def actor_for(account: Account) -> Actor:
    return Actor(username=account.username, roles=frozenset(account.roles), account_id=account.id,
                 staff_id=account.staff_id, full_name=account.full_name or account.username)


def service_names(db: Database) -> tuple[str, ...]:
    return tuple(v for row in db.conn.execute("SELECT name, code FROM services") for v in row if v)


# A hash of nothing anyone types, verified against for unknown usernames, so an unknown name takes
# as long to refuse as a wrong password (made lazily at the hasher's own cost).
_dummy_hash: str | None = None


def password_matches(db: Database, username: str, password: str) -> bool:
    """Whether password is the account's own (its stored hash), without signing in or counting a failure."""
    row = db.conn.execute("SELECT password_hash FROM accounts WHERE username = ?", (username,)).fetchone()
    return _verify(row[0] if row else None, password)


def _verify(stored: str | None, password: str) -> bool:
    global _dummy_hash
    if stored is None:
        _dummy_hash = _dummy_hash or _hasher.hash(os.urandom(16).hex())
        stored = _dummy_hash
    try:
        return _hasher.verify(stored, password or "") and stored is not _dummy_hash
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def active_account_refusal(db: Database, account_id: int, now: str | None = None) -> str | None:
    """Why this account may not be used now (locked, ended, its holder left), or None."""
    now = now or audit.now_iso()
    row = db.conn.execute(
        "SELECT a.username, a.locked, a.locked_until, a.ended_on, s.active, s.end_date "
        "FROM accounts a LEFT JOIN staff s ON s.id = a.staff_id WHERE a.id = ?", (account_id,)).fetchone()
    username, locked, until, ended, staff_active, staff_end = row
    today = now[:10]
    if ended and ended <= today or staff_active == 0 or (staff_end and staff_end < today):
        return (f"The account {username} has ended (its holder has left the service), so it cannot sign in. "
                "Ask an administrator if this is wrong.")
    if locked:
        return f"The account {username} is locked. Ask an administrator to unlock it."
    if until and until > now:
        return (f"The account {username} is locked for {ADMIN_LOCKOUT_MINUTES} minutes after "
                f"{MAX_FAILED_ATTEMPTS} wrong passwords, until {until[11:16]}. Try again then.")
    return None


def _matches_raw(stored: str | None, raw: bytes | None) -> bool:
    """The raw argon2id output the key file's unwrapping computed (db/keys.py) against the stored hash
    it came from: no second argon2 computation when the key file is in step with the accounts."""
    import hmac
    from . import keys
    split = keys.split_hash(stored) if stored and raw else None
    return split is not None and hmac.compare_digest(split[1], raw)


def record_failures(db: Database, account_id: int, username: str, n: int = 1) -> None:
    """n wrong passwords for the account: counted, and the account locked at MAX_FAILED_ATTEMPTS (an
    administrator for ADMIN_LOCKOUT_MINUTES only). Inside the caller's transaction."""
    roles = _roles(db, account_id)
    for _ in range(n):
        failed = db.conn.execute("SELECT failed_attempts FROM accounts WHERE id = ?", (account_id,)).fetchone()[0] + 1
        lock = failed >= MAX_FAILED_ATTEMPTS
        if lock and "ADMIN" in roles:
            # An administrator's lockout lasts a fixed time, never for ever: nobody could unlock it.
            until = (datetime.now() + timedelta(minutes=ADMIN_LOCKOUT_MINUTES)).isoformat(timespec="seconds")
            db.conn.execute("UPDATE accounts SET failed_attempts = 0, locked_until = ? WHERE id = ?",
                            (until, account_id))
            detail = f"locked until {until} after {failed} failed sign-ins"
        else:
            db.conn.execute("UPDATE accounts SET failed_attempts = ?, locked = CASE WHEN ? = 1 THEN 1 ELSE locked END "
                            "WHERE id = ?", (failed, int(lock), account_id))
            detail = f"locked after {failed} failed sign-ins"
        audit.record(db, None, "failed_login", "account", account_id, detail=username)
        if lock:
            audit.record(db, None, "lock", "account", account_id, detail=detail)


def recover(db: Database, username: str) -> Actor:
    """Sign-in with the database's recovery key (the store has checked the key): only an administrator
    whose account has not ended, who must then choose a new password; a timed lockout is lifted."""
    account = get(db, (username or "").strip())
    if account is None or "ADMIN" not in account.roles:
        raise AuthenticationError("The recovery key signs in an administrator only: give an administrator's "
                                  "username.")
    refused = active_account_refusal(db, account.id)
    if refused and "minutes after" not in refused:
        raise AuthenticationError(refused)
    actor = actor_for(account)
    with connection.transaction(db):
        db.conn.execute("UPDATE accounts SET failed_attempts = 0, locked_until = NULL, must_change_password = 1, "
                        "last_login = ? WHERE id = ?", (audit.now_iso(), account.id))
        audit.record(db, actor, "login", "account", account.id, detail="with the recovery key")
    return actor


def authenticate(db: Database, username: str, password: str, raw: bytes | None = None) -> Actor:
    """Check a password; count failures and lock the account after MAX_FAILED_ATTEMPTS.

    The answer and its time are the same whether the username exists, the account is locked or
    ended, or the password is wrong: an unknown name is verified against a dummy hash, and whether
    the account may be used is told only to someone who gave its right password. What was typed as
    a username is never written to the audit unless it is an account's name (it may be a password
    typed into the wrong box)."""
    wrong = AuthenticationError("Wrong username or password. Check both and try again.")
    account = get(db, (username or "").strip())
    stored = None if account is None else db.conn.execute(
        "SELECT password_hash FROM accounts WHERE id = ?", (account.id,)).fetchone()[0]
    ok = _matches_raw(stored, raw) or _verify(stored, password)
    if account is None:
        with connection.transaction(db):
            audit.record(db, None, "failed_login", "account", None, detail="unknown username")
        raise wrong
    if not ok:
        with connection.transaction(db):
            record_failures(db, account.id, account.username)
        raise wrong
    refused = active_account_refusal(db, account.id)
    if refused:
        with connection.transaction(db):
            audit.record(db, None, "failed_login", "account", account.id, detail=f"{account.username}: refused")
        raise AuthenticationError(refused)
    actor = actor_for(account)
    with connection.transaction(db):
        if _needs_rehash(stored):
            db.conn.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (hash_password(password), account.id))
        db.conn.execute("UPDATE accounts SET failed_attempts = 0, locked_until = NULL, last_login = ? WHERE id = ?",
                        (audit.now_iso(), account.id))
        audit.record(db, actor, "login", "account", account.id)
    return actor


def must_change_password(db: Database, account_id: int) -> bool:
    row = db.conn.execute("SELECT must_change_password FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return bool(row and row[0])


def active_admin_ids(db: Database, now: str | None = None) -> list[int]:
    """Accounts that can act as administrator now (or once a timed lockout ends): not locked for good,
    not ended, their holder not gone."""
    ids = [r[0] for r in db.conn.execute(
        "SELECT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id AND r.role = 'ADMIN'")]
    return [i for i in ids if not _ended_or_locked(db, i, now)]


def _ended_or_locked(db: Database, account_id: int, now: str | None) -> bool:
    refused = active_account_refusal(db, account_id, now)
    return refused is not None and "minutes after" not in refused


def guard_last_admin(db: Database, account_id: int, what: str) -> None:
    """Refuse to lock, end or demote the last administrator who can still sign in."""
    active = active_admin_ids(db)
    if account_id in active and len(active) == 1:
        name = db.conn.execute("SELECT username FROM accounts WHERE id = ?", (account_id,)).fetchone()[0]
        raise ValidationError(FieldError("username", f"{name} is the only active administrator, so the account "
                                                     f"cannot be {what}: nobody could then manage accounts. "
                                                     "Give another account the administrator role first."))


def generate_one_time_password() -> str:
    """Four random words from zxcvbn's English list and two digits: easy to read out, long."""
    import secrets
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    words = [w for w in FREQUENCY_LISTS["english_wikipedia"] if 4 <= len(w) <= 7 and w.isalpha()][:8000]
    return "-".join(secrets.choice(words) for _ in range(4)) + f"-{secrets.randbelow(90) + 10}"


def set_password(db: Database, username: str, password: str, by: str, must_change: bool = False,
                 checked: bool = True) -> None:
    if checked:
        check_new_password(password, username=username, service_names=service_names(db))
    versioned.update(db, "accounts", _account_id(db, username),
                     {"password_hash": hash_password(password), "must_change_password": int(must_change)},
                     None, by, conflict=lambda: _no_account(username))
    _server_login(db, username, password)


def set_locked(db: Database, username: str, locked: bool, by: str) -> int:
    account_id = _account_id(db, username)
    if locked:
        guard_last_admin(db, account_id, "locked")
    versioned.update(db, "accounts", account_id, {"locked": int(locked), "failed_attempts": 0, "locked_until": None},
                     None, by, conflict=lambda: _no_account(username))
    _server_login(db, username)
    return account_id


def end_account(db: Database, username: str, on: str, by: str) -> int:
    """End an account when its holder leaves (and their staff record with it): it can no longer sign in."""
    account_id = _account_id(db, username)
    guard_last_admin(db, account_id, "ended")
    versioned.update(db, "accounts", account_id, {"ended_on": on}, None, by, conflict=lambda: _no_account(username))
    staff_id = db.conn.execute("SELECT staff_id FROM accounts WHERE id = ?", (account_id,)).fetchone()[0]
    if staff_id is not None:
        end = db.conn.execute("SELECT end_date FROM staff WHERE id = ?", (staff_id,)).fetchone()[0]
        versioned.update(db, "staff", staff_id, {"active": 0, "end_date": end if end and end <= on else on}, None, by,
                         conflict=lambda: _no_account(username))
    _server_login(db, username)
    return account_id


def set_roles(db: Database, username: str, roles: list[str], by: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    account_id = _account_id(db, username)
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise ValidationError(FieldError("roles", f"Roles: choose from {', '.join(ROLES)}."))
    before = _roles(db, account_id)
    if "ADMIN" in before and "ADMIN" not in roles:
        guard_last_admin(db, account_id, "demoted")
    db.conn.execute("DELETE FROM account_roles WHERE account_id = ?", (account_id,))
    db.conn.executemany("INSERT INTO account_roles (account_id, role) VALUES (?, ?)",
                        [(account_id, r) for r in dict.fromkeys(roles)])
    versioned.update(db, "accounts", account_id, {}, None, by, conflict=lambda: _no_account(username))
    _server_login(db, username)
    return before, _roles(db, account_id)


def _server_login(db, username: str, password: str | None = None) -> None:
    """On a server secured by db/pg/security.py, the account's server login follows the account."""
    if getattr(db, "engine", None) == "postgresql":
        from .pg import security
        security.after_account_change(db, username, password)


def _no_account(username: str) -> ValidationError:
    return ValidationError(FieldError("username", f"There is no account called {username}."))


def _account_id(db: Database, username: str) -> int:
    row = db.conn.execute("SELECT id FROM accounts WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise _no_account(username)
    return row[0]
