"""Accounts: argon2 password hashes (argon2-cffi), lockout after failed sign-ins."""
from __future__ import annotations

import dataclasses
import os

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


def check_new_password(password: str | None, field: str = "password") -> None:
    if not password or len(password) < 4:
        raise ValidationError(FieldError(field, "Password: choose at least 4 characters."))


def create(db: Database, username: str, password: str, roles: list[str], staff_id: int | None,
           by: str | None, password_hash: str | None = None, must_change: bool = False) -> int:
    username = (username or "").strip()
    if not username or any(ch.isspace() for ch in username):
        raise ValidationError(FieldError("username", "Username: give a name with no spaces, e.g. jsmith."))
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise ValidationError(FieldError("roles", f"Roles: choose from {', '.join(ROLES)}."))
    if db.conn.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone():
        raise ValidationError(FieldError("username", f"Username: {username} is already taken; choose another."))
    if password_hash is None:
        check_new_password(password)
        password_hash = hash_password(password)
    cur = db.conn.execute(
        "INSERT INTO accounts (username, password_hash, staff_id, must_change_password, created_by) VALUES (?, ?, ?, ?, ?)",
        (username, password_hash, staff_id, int(must_change), by))
    account_id = cur.lastrowid
    db.conn.executemany("INSERT INTO account_roles (account_id, role) VALUES (?, ?)",
                        [(account_id, r) for r in dict.fromkeys(roles)])
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


def count(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]


def actor_for(account: Account) -> Actor:
    return Actor(username=account.username, roles=frozenset(account.roles), account_id=account.id,
                 staff_id=account.staff_id, full_name=account.full_name or account.username)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Check a password; count failures and lock the account after MAX_FAILED_ATTEMPTS."""
    wrong = AuthenticationError("Wrong username or password. Check both and try again.")
    account = get(db, (username or "").strip())
    if account is None:
        with connection.transaction(db):
            audit.record(db, None, "failed_login", "account", None, detail=f"unknown username {username!r}")
        raise wrong
    if account.locked:
        raise AuthenticationError(f"The account {account.username} is locked. Ask an administrator to unlock it.")
    stored = db.conn.execute("SELECT password_hash FROM accounts WHERE id = ?", (account.id,)).fetchone()[0]
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        with connection.transaction(db):
            failed = account.failed_attempts + 1
            lock = failed >= MAX_FAILED_ATTEMPTS
            db.conn.execute("UPDATE accounts SET failed_attempts = ?, locked = ? WHERE id = ?",
                            (failed, int(lock), account.id))
            audit.record(db, None, "failed_login", "account", account.id, detail=account.username)
            if lock:
                audit.record(db, None, "lock", "account", account.id,
                             detail=f"locked after {failed} failed sign-ins")
        if lock:
            raise AuthenticationError(
                f"Wrong password. The account {account.username} is now locked after {MAX_FAILED_ATTEMPTS} failed tries: ask an administrator to unlock it.")
        raise wrong
    actor = actor_for(account)
    with connection.transaction(db):
        if _needs_rehash(stored):
            db.conn.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (hash_password(password), account.id))
        db.conn.execute("UPDATE accounts SET failed_attempts = 0, last_login = ? WHERE id = ?",
                        (audit.now_iso(), account.id))
        audit.record(db, actor, "login", "account", account.id)
    return actor


def set_password(db: Database, username: str, password: str, by: str, must_change: bool = False) -> None:
    check_new_password(password)
    versioned.update(db, "accounts", _account_id(db, username),
                     {"password_hash": hash_password(password), "must_change_password": int(must_change)},
                     None, by, conflict=lambda: _no_account(username))


def set_locked(db: Database, username: str, locked: bool, by: str) -> int:
    account_id = _account_id(db, username)
    versioned.update(db, "accounts", account_id, {"locked": int(locked), "failed_attempts": 0}, None, by,
                     conflict=lambda: _no_account(username))
    return account_id


def _no_account(username: str) -> ValidationError:
    return ValidationError(FieldError("username", f"There is no account called {username}."))


def _account_id(db: Database, username: str) -> int:
    row = db.conn.execute("SELECT id FROM accounts WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise _no_account(username)
    return row[0]
