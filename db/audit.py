"""The audit trail: every opening of a client record, every write, print and export.

Tamper-evident: each row carries `hash`, the SHA-256 of the row before's hash and this row's
own fields, computed here at insert inside the write's transaction. What a row says about a
person (before, after, detail) enters the chain through `payload_sha`, its own SHA-256, so an
erasure can blank that text in rows about an anonymised person (`redact_client`) without
breaking the chain. `verify` recomputes the chain and names the first row that disagrees.
The schema (0011_audit_chain_and_rights) adds triggers refusing DELETE, and any UPDATE other
than that redaction, so the audit cannot be changed through the store.

Each row also names the client it is about (`client_id`, worked out from the entity), so the
trail of one person can be read, exported and handed over in a subject access bundle.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from . import driver
from .records import Actor

ACTIONS = ("view", "create", "update", "archive", "print", "export", "import", "login",
           "failed_login", "lock", "unlock", "backup", "restore", "erase", "submit")

REDACTED = "[removed at erasure]"

# Which client an audited entity belongs to: entity -> SQL taking the entity id.
_CLIENT_OF = {
    "client": "SELECT id FROM clients WHERE id = ?",
    "referral": "SELECT client_id FROM referrals WHERE id = ?",
    "contact_attempt": "SELECT r.client_id FROM contact_attempts a JOIN referrals r ON r.id = a.referral_id "
                       "WHERE a.id = ?",
    "session": "SELECT client_id FROM sessions WHERE id = ?",
    "plan": "SELECT r.client_id FROM plans p JOIN referrals r ON r.id = p.referral_id WHERE p.id = ?",
    "goal": "SELECT r.client_id FROM goals g JOIN plans p ON p.id = g.plan_id "
            "JOIN referrals r ON r.id = p.referral_id WHERE g.id = ?",
    "assessment": "SELECT client_id FROM assessments WHERE id = ?",
    "signposting": "SELECT client_id FROM signposting WHERE id = ?",
    "document": "SELECT client_id FROM documents WHERE id = ?",
    "safeguarding": "SELECT client_id FROM safeguarding_prompts WHERE id = ?",
}


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def client_of(db: Database, entity: str | None, entity_id) -> int | None:
    sql = _CLIENT_OF.get(entity or "")
    if sql is None or entity_id is None:
        return None
    try:
        row = db.conn.execute(sql, (int(entity_id),)).fetchone()
    except (TypeError, ValueError):
        return None
    return row[0] if row else None


def payload_sha(before: str | None, after: str | None, detail: str | None) -> str:
    return hashlib.sha256(json.dumps([before, after, detail], ensure_ascii=False).encode("utf-8")).hexdigest()


def row_hash(previous: str, row_id: int, at: str, username, action, entity, entity_id, client_id,
             payload: str) -> str:
    fields = [row_id, at, username, action, entity, entity_id, client_id, payload]
    text = previous + json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(db: Database, actor: Actor | None, action: str, entity: str | None = None,
           entity_id=None, before: dict | None = None, after: dict | None = None,
           detail: str | None = None) -> None:
    """Write one audit event (inside the caller's transaction, so it lands with the change),
    chained to the row before."""
    assert action in ACTIONS, action
    if not db.conn.in_transaction:
        # Every caller holds a write transaction; should one not, take the write lock first so the
        # row before cannot change between reading its hash and inserting this one.
        db.conn.execute("BEGIN IMMEDIATE")
    try:
        last = db.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    except driver.OperationalError:
        # A database from before the chain (a restored older backup, about to be migrated): the row
        # goes in as before, and the schema step 0011 chains every row when it runs.
        db.conn.execute(
            "INSERT INTO audit (at, username, action, entity, entity_id, before, after, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now_iso(), actor.username if actor else None, action, entity,
             None if entity_id is None else str(entity_id), _json(before), _json(after), detail))
        return
    row_id = (last[0] + 1) if last else 1
    previous = (last[1] or "") if last else ""
    at, username = now_iso(), actor.username if actor else None
    entity_id = None if entity_id is None else str(entity_id)
    client_id = client_of(db, entity, entity_id)
    before_j, after_j = _json(before), _json(after)
    payload = payload_sha(before_j, after_j, detail)
    db.conn.execute(
        "INSERT INTO audit (id, at, username, action, entity, entity_id, client_id, before, after, detail, "
        "payload_sha, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, at, username, action, entity, entity_id, client_id, before_j, after_j, detail, payload,
         row_hash(previous, row_id, at, username, action, entity, entity_id, client_id, payload)),
    )


def chain_all(conn) -> None:
    """Give every row its client, payload fingerprint and hash, in id order (the schema step's
    backfill of rows written before the chain existed)."""
    previous = ""
    rows = conn.execute("SELECT id, at, username, action, entity, entity_id, before, after, detail "
                        "FROM audit ORDER BY id").fetchall()
    db = Database(conn)
    for row_id, at, username, action, entity, entity_id, before, after, detail in rows:
        client_id = client_of(db, entity, entity_id)
        payload = payload_sha(before, after, detail)
        previous = row_hash(previous, row_id, at, username, action, entity, entity_id, client_id, payload)
        conn.execute("UPDATE audit SET client_id = ?, payload_sha = ?, hash = ? WHERE id = ?",
                     (client_id, payload, previous, row_id))


@dataclass(frozen=True)
class ChainBreak:
    row_id: int
    reason: str


def verify(db: Database) -> tuple[int, ChainBreak | None]:
    """Recompute the chain: (rows checked, the first row that disagrees or None)."""
    previous, n = "", 0
    erased = {r[0] for r in db.conn.execute("SELECT id FROM clients WHERE anonymised_at IS NOT NULL")}
    cursor = db.conn.execute("SELECT id, at, username, action, entity, entity_id, client_id, before, after, "
                             "detail, payload_sha, hash, redacted_at FROM audit ORDER BY id")
    for (row_id, at, username, action, entity, entity_id, client_id, before, after, detail, payload, stored,
         redacted_at) in cursor:
        n += 1
        if redacted_at is None:
            if payload_sha(before, after, detail) != payload:
                return n, ChainBreak(row_id, "its content (before, after or detail) was changed")
        elif client_id not in erased or before is not None or after is not None or detail != REDACTED:
            return n, ChainBreak(row_id, "it was blanked, but not by the erasure of the person it is about")
        expected = row_hash(previous, row_id, at, username, action, entity, entity_id, client_id, payload)
        if stored != expected:
            return n, ChainBreak(row_id, "its hash does not follow from the row before it "
                                         "(the row, or one before it, was changed, added or removed)")
        previous = stored
    return n, None


def redact_client(db: Database, client_id: int) -> int:
    """Blank what the audit says about an anonymised person (erasure); the chain still verifies."""
    cur = db.conn.execute("UPDATE audit SET before = NULL, after = NULL, detail = ?, redacted_at = ? "
                          "WHERE client_id = ? AND redacted_at IS NULL AND action <> 'erase'",
                          (REDACTED, now_iso(), client_id))
    return cur.rowcount


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


def search(db: Database, *, client_id: int | None = None, username: str | None = None,
           action: str | None = None, since: str | None = None, until: str | None = None,
           limit: int | None = 5000) -> list[dict]:
    """Audit events newest first, filtered by client, account, action and date (ISO, inclusive)."""
    where, params = [], []
    if client_id is not None:
        where.append("a.client_id = ?")
        params.append(client_id)
    if username:
        where.append("a.username = ? COLLATE NOCASE")
        params.append(username)
    if action:
        where.append("a.action = ?")
        params.append(action)
    if since:
        where.append("a.at >= ?")
        params.append(since)
    if until:
        where.append("a.at < date(?, '+1 day')")
        params.append(until)
    sql = ("SELECT a.id, a.at, a.username, a.action, a.entity, a.entity_id, a.client_id, c.client_ref, "
           "a.before, a.after, a.detail FROM audit a LEFT JOIN clients c ON c.id = a.client_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return list(db.query(sql, params))
