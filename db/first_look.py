"""What the sign-in window shows, read before the data layer loads.

The desktop app puts its sign-in window on screen first and loads the store (sqlite-utils,
the return engine, the workbook reader: most of a second on a slow PC) while the person
types. This module reads the three facts that window needs with the standard library's
sqlite3 alone, read-only. Anything unusual (not our file, locked, an older schema) answers
None, and the caller opens the store the ordinary way, which explains the problem.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

APPLICATION_ID = 0x4854444B   # db.connection.APPLICATION_ID, not imported: that module loads sqlite-utils


@dataclass(frozen=True)
class FirstLook:
    service_name: str
    is_demo: bool
    has_accounts: bool


def first_look(path: Path) -> FirstLook | None:
    keys_file = Path(str(path) + ".keys")     # db.keys.key_file_of, not imported: it loads no crypto, but keep it lean
    if keys_file.is_file():
        look = _from_key_file(path, keys_file)
        if look is not None:
            return look
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except (sqlite3.Error, OSError, ValueError):
        return None
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return None
        names = [r[0] for r in conn.execute("SELECT name FROM services ORDER BY code")]
        demo = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
        accounts = conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return FirstLook(", ".join(names), bool(demo and demo[0] == "1"), accounts > 0)


def _from_key_file(path: Path, keys_file: Path) -> FirstLook | None:
    """An encrypted database: the facts the key file keeps for the sign-in window (db/keys.py)."""
    import json
    try:
        with open(path, "rb") as f:
            if f.read(16) == b"SQLite format 3\x00":
                return None          # still plain (being converted): read it as such
        data = json.loads(keys_file.read_text(encoding="utf-8"))
        return FirstLook(str(data["service"]["name"]), bool(data["demo"]), bool(data["has_accounts"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
