"""Tests only: a raw connection to an app database beside the store, to look at what it wrote or
change a row behind its back. An encrypted database needs its key: from an unlocked store, or
unwrapped from the key file with an administrator's password used by the tests."""
from __future__ import annotations

from pathlib import Path

from db import driver, keys

_USERS = ("admin", "boss", "gboss", "a")
_PASSWORDS = ("amber-kettle-42", "granite-violet-64", "correct horse battery staple", "cobalt-lantern-17",
              "cobalt-lantern-18", "strong-fennel-19", "demo")


def database_key(target, user: str | None = None, password: str | None = None) -> bytes | None:
    if hasattr(target, "_key") and getattr(target, "_key", None) is not None:
        return target._key
    path = Path(getattr(target, "path", target))
    if not keys.is_encrypted_file(path):
        return None
    keyfile = keys.KeyFile.load(path)
    tries = [(user, password)] if user else [(u, p) for u in _USERS for p in _PASSWORDS]
    for u, p in tries:
        if keys.account_index_known(keyfile, u):
            key, _ = keyfile.unwrap_password(u, p)
            if key is not None:
                return key
    raise AssertionError(f"no test credentials open {path}")


def raw_connect(target, user: str | None = None, password: str | None = None, **kw):
    """sqlcipher3's connection (plain SQLite without a key) to the store's or path's database."""
    key = database_key(target, user, password)
    path = Path(getattr(target, "path", target))
    conn = driver.connect(str(path), **kw)
    if key is not None:
        conn.execute(keys.pragma_key(key))
    return conn


def dump(conn) -> str:
    """Every table's schema and rows as text (the stdlib's iterdump, which SQLCipher's connection lacks)."""
    lines = []
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        lines.append(sql or "")
        if sql and sql.upper().startswith("CREATE VIRTUAL"):
            continue
        lines += [repr(row) for row in conn.execute(f'SELECT * FROM "{name}"')]
    return "\n".join(lines)
