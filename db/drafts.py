"""Drafts: what a person was typing into a form, kept so a crash or a power cut loses no work.

One draft per person and form (`client:123`, `client:new`); a newer save replaces it.
Drafts belong to the person who typed them: nobody else lists or restores them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database


@dataclass(frozen=True)
class Draft:
    form_key: str
    values: dict
    saved_at: str       # local time, ISO (YYYY-MM-DDTHH:MM:SS)


def save(db: Database, username: str, form_key: str, values: dict) -> None:
    db.conn.execute(
        "INSERT INTO drafts (username, form_key, field_values, saved_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(username, form_key) DO UPDATE SET field_values = excluded.field_values, "
        "saved_at = excluded.saved_at",
        (username, form_key, json.dumps(values, ensure_ascii=False), datetime.now().isoformat(timespec="seconds")))


def for_user(db: Database, username: str) -> list[Draft]:
    """The person's own drafts, newest first."""
    rows = db.conn.execute("SELECT form_key, field_values, saved_at FROM drafts WHERE username = ? "
                           "ORDER BY saved_at DESC, form_key", (username,)).fetchall()
    return [Draft(key, json.loads(values), saved_at) for key, values, saved_at in rows]


def discard(db: Database, username: str, form_key: str) -> None:
    db.conn.execute("DELETE FROM drafts WHERE username = ? AND form_key = ?", (username, form_key))
