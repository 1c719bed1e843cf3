"""How every public store method declares its rule (calibre's @read_api/@write_api habit).

    @write("edit_client", client="client_id")
    def update(self, client_id, values, *, expected_version): ...

One declaration does, once and in this order: the policy check (db/policy.py), for
a client-scoped decision against the client the arguments name; the transaction
(BEGIN IMMEDIATE, or a savepoint inside another write); the audit events the method
hands back in its `Changes`; and, after the commit, the change notice that the main
window broadcasts to every open screen.

- `read`: a check, then the body inside one snapshot (connection.snapshot: BEGIN ... ROLLBACK on a
  file, REPEATABLE READ READ ONLY on a server), so a read of several queries sees one moment of the
  data however many PCs write meanwhile (issue 18); inside a write it joins the write's transaction.
  A read that keeps something it worked out (the dashboard's counted quarters) says
  `snapshot=False` and takes its own snapshot around its queries, writing after it; a write inside
  a read's snapshot is refused (a program fault), never rolled back unseen. `audit_view=` records a "view" event in a short
  transaction of its own. For reads of a person's record, plan, assessments, documents or
  outcomes, `audit_view=client_view("what")` audits against the client the rule names, once
  per opening rather than per query: the store remembers, per account and client, when it
  last audited a view, and a further read of the same person within VIEW_WINDOW seconds of
  the last read (a screen's tabs, charts and refreshes) adds no row. A read that opens the
  record (`opening=` names the argument saying so; store.clients.record by default) is always
  audited and starts a new window. The window is kept in memory by one open store, so every
  command-line run and every sign-in audits its first read of each person.
- `write`: the body runs inside the transaction and returns `Changes` (whose audit
  notes are written before the commit) or `Done(value, changes)` to hand back a value.
- `job`: long work (import, the return, backups) that reports progress, honours a
  cancel flag and keeps its own all-or-nothing transactions; the declaration still
  checks first and sends the change notice after.

A test walks every part of the store and fails when a public method declares nothing.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from . import audit, connection, policy
from .errors import PermissionDenied
from .records import AuditNote, Changes


@dataclass(frozen=True)
class Rule:
    kind: str                         # "read", "write" or "job"
    decision: str | Callable          # a policy decision, or a function of the arguments naming one
    client: str | tuple | None        # the argument naming the client, or (argument, resolver)

    def describe(self) -> str:
        decision = self.decision if isinstance(self.decision, str) else f"{self.decision.__name__}(...)"
        about = ""
        if isinstance(self.client, str):
            about = f" [{self.client}]"
        elif self.client:
            about = f" [{self.client[0]} via {self.client[1].__name__}]"
        return f"{self.kind} {decision}{about}"


@dataclass(frozen=True)
class ClientView:
    """A read of one person's data, audited once per opening (see the module's notes)."""
    what: str                         # "client record", "assessment series", ... (the audit's detail)
    opening: str | None = None        # the argument that says this read opens the record (default True)


def client_view(what: str, *, opening: str | None = None) -> ClientView:
    return ClientView(what, opening)


# A person's data read again by the same account within this many seconds of its last read is the
# same opening (the screens' tabs, charts and refreshes after a save).
VIEW_WINDOW = 15 * 60


@dataclass(frozen=True)
class Done:
    """A write's value together with what it changed."""
    value: Any
    changes: Changes


def changed(entity: str, ids, action: str = "update", *, audit_action: str | None = None,
            before: dict | None = None, after: dict | None = None, detail: str | None = None,
            notes: tuple[AuditNote, ...] = ()) -> Changes:
    """A Changes value with its audit note (one per id unless notes are given)."""
    ids = tuple(ids) if isinstance(ids, (tuple, list)) else (ids,)
    if not notes:
        notes = tuple(AuditNote(audit_action or action, entity, i, before, after, detail)
                      for i in ids)
    return Changes(entity, ids, action, notes=notes)


class Part:
    """One subject part of the store (store.clients, store.referrals, ...)."""

    def __init__(self, store):
        self._store = store

    @property
    def db(self):
        return self._store.db

    @property
    def actor(self):
        return self._store.actor

    def by(self) -> str:
        if self.actor is None:
            raise PermissionDenied("Sign in first: nobody is signed in.")
        return self.actor.username


def _decide(part: Part, rule: Rule, fn, args, kwargs) -> tuple[dict, int | None]:
    bound = _signature(fn).bind(part, *args, **kwargs)
    bound.apply_defaults()
    values = bound.arguments
    decision = rule.decision if isinstance(rule.decision, str) else rule.decision(values, part.actor)
    client_id = None
    if isinstance(rule.client, str):
        client_id = values[rule.client]
    elif rule.client:
        name, resolve = rule.client
        client_id = resolve(part.db, values[name])
    policy.require(part.db, part.actor, decision, client_id)
    return values, client_id


def _audit_client_view(part: Part, view: ClientView, values: dict, client_id) -> None:
    """One "view" event per opening: see the module's notes."""
    if client_id is None or part.actor is None:
        return
    import time
    now = time.monotonic()
    key = (part.actor.username.casefold(), int(client_id))
    seen = part._store._views
    opening = bool(values.get(view.opening, True)) if view.opening else False
    last = seen.get(key)
    seen[key] = now
    if not opening and last is not None and now - last <= VIEW_WINDOW:
        return
    with connection.transaction(part.db):
        audit.record(part.db, part.actor, "view", "client", client_id, detail=view.what)


@functools.lru_cache(maxsize=None)
def _signature(fn) -> inspect.Signature:
    return inspect.signature(fn)


def _declare(kind: str, decision, client, audit_view=None, snapshot=True):
    rule = Rule(kind, decision, client)

    def wrap(fn):
        @functools.wraps(fn)
        def run(part: Part, *args, **kwargs):
            # No raw sqlite3 error leaves the store: busy, disk full, read-only... become db.errors types.
            with connection.plain_errors(part._store.path):
                return _run(part, *args, **kwargs)

        def _run(part: Part, *args, **kwargs):
            store = part._store
            if kind == "read":
                # The rule's check (whose client a plan is, a champion's allocation) and the body see
                # the same moment of the data.
                with connection.snapshot(part.db, reading=True) if snapshot else contextlib.nullcontext(part.db) as db, \
                        store._reading_through(db):
                    values, client_id = _decide(part, rule, fn, args, kwargs)
                    result = fn(part, *args, **kwargs)
                if isinstance(audit_view, ClientView):
                    _audit_client_view(part, audit_view, values, client_id)
                elif audit_view is not None:
                    entity, entity_id, detail = audit_view(result, values)
                    with connection.transaction(part.db):
                        audit.record(part.db, part.actor, "view", entity, entity_id, detail=detail)
                return result
            values, client_id = _decide(part, rule, fn, args, kwargs)
            if kind == "job":
                result = fn(part, *args, **kwargs)
            else:
                with connection.transaction(part.db):
                    result = fn(part, *args, **kwargs)
                    changes = result.changes if isinstance(result, Done) else result
                    for note in getattr(changes, "notes", ()):
                        audit.record(part.db, part.actor, note.action, note.entity, note.entity_id,
                                     before=note.before, after=note.after, detail=note.detail)
            changes = result.changes if isinstance(result, Done) else result
            if isinstance(changes, Changes) and not part.db.conn.in_transaction:
                store._publish(changes)
            return result.value if isinstance(result, Done) else result

        run.__rule__ = rule
        return run
    return wrap


def read(decision, *, client=None, audit_view=None, snapshot=True):
    return _declare("read", decision, client, audit_view, snapshot)


def write(decision, *, client=None):
    return _declare("write", decision, client)


def job(decision, *, client=None):
    return _declare("job", decision, client)


def rule_of(method) -> Rule | None:
    return getattr(method, "__rule__", None)
