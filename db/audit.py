"""The audit trail: every opening of a client record, every write, print and export."""
from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from .records import Actor

ACTIONS = ("view", "create", "update", "archive", "print", "export", "import", "login",
           "failed_login", "lock", "unlock", "backup", "restore", "erase", "submit")


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(db: Database, actor: Actor | None, action: str, entity: str | None = None,
           entity_id=None, before: dict | None = None, after: dict | None = None,
           detail: str | None = None) -> None:
    """Write one audit event (inside the caller's transaction, so it lands with the change)."""
    assert action in ACTIONS, action
    db.conn.execute(
        "INSERT INTO audit (at, username, action, entity, entity_id, before, after, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now_iso(), actor.username if actor else None, action, entity,
         None if entity_id is None else str(entity_id), _json(before), _json(after), detail),
    )


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def events(db: Database, entity: str | None = None, entity_id=None, limit: int = 500) -> list[dict]:
    sql = "SELECT * FROM audit"
    params: list = []
    if entity is not None:
        sql += " WHERE entity = ?"
        params.append(entity)
        if entity_id is not None:
            sql += " AND entity_id = ?"
            params.append(str(entity_id))
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return list(db.query(sql, params))
