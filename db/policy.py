"""Who may do what: PRODUCT.md's roles table and every named decision, in one place.

Each public store method declares one of the decisions below (db/api.py); the
declaration runs the check before any work. Screens ask the same decisions through
`store.may(...)` so a form is read-only before anyone types, not refused on Save.

A decision is a role rule ("allocate": coordinators and managers) and, for some,
a rule about the record in hand: a champion or trainer may change only the clients
allocated to them; a gp-outcome letter is for the client's own trainer. Record
rules read the database through one small query (clients.allocated_to).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import clients
from .errors import PermissionDenied
from .records import Actor

CHAMPION, TRAINER, COORD, MANAGER, ADMIN = "CHAMPION", "TRAINER", "COORD", "MANAGER", "ADMIN"
ROLES = (COORD, TRAINER, CHAMPION, MANAGER, ADMIN)
ANYONE = frozenset(ROLES)


@dataclass(frozen=True)
class Decision:
    name: str
    roles: frozenset[str]          # who may at all
    what: str                      # "may not <what>": the refusal names the act
    # An extra rule about one client: (db, actor, client_id) -> refusal message or None.
    about_client: Callable | None = None
    signed_in: bool = True         # False: allowed before anyone signs in (sign-in itself)


def _own_client_only(db, actor: Actor, client_id) -> str | None:
    """Champions (and anyone without view_any) see and change only clients allocated to them."""
    if client_id is None or actor.has(TRAINER, COORD, MANAGER, ADMIN):
        return None
    if clients.allocated_to(db, client_id, actor.staff_id):
        return None
    return f"{actor.username} may only see clients allocated to them."


def _edit_own_client_only(db, actor: Actor, client_id) -> str | None:
    if client_id is None or actor.has(COORD, MANAGER):
        return None
    if clients.allocated_to(db, client_id, actor.staff_id):
        return None
    return (f"{actor.username} may only change clients allocated to them. "
            "Ask a coordinator to allocate the referral.")


def _edit_not_erased(db, actor: Actor, client_id) -> str | None:
    """An erased person's record is never changed again (issue 14), then the own-client rule."""
    erased = clients.erased(db, client_id) if client_id is not None else None
    if erased is not None:
        return (f"{erased[0]} was erased on request on {erased[1][:10]}: the record can no longer be changed. "
                "If the person comes back, add them as a new client.")
    return _edit_own_client_only(db, actor, client_id)


def _gp_letter(db, actor: Actor, client_id) -> str | None:
    if actor.has(COORD, MANAGER):
        return None
    if client_id is not None and actor.has(TRAINER) and clients.allocated_to(db, client_id, actor.staff_id):
        return None
    return (f"{actor.username} may not print the outcome letter to the GP: only the client's own health "
            "trainer, a coordinator or a manager can. Ask a coordinator.")


_ALL = (
    # Open to anyone signed in (reading the service's own set-up: its name, venues, code lists).
    Decision("signed_in", ANYONE, "use this database"),
    # Before sign-in: whether accounts exist, signing in, the service's name on the sign-in window.
    Decision("open", ANYONE, "open the database", signed_in=False),
    Decision("view_client", frozenset({CHAMPION, TRAINER, COORD, MANAGER, ADMIN}), "see client records",
             _own_client_only),
    Decision("edit_client", frozenset({CHAMPION, TRAINER, COORD, MANAGER}), "change client records",
             _edit_not_erased),
    Decision("add_client", frozenset({COORD, MANAGER}), "add clients or referrals"),
    Decision("allocate", frozenset({COORD, MANAGER}),
             "allocate referrals, run the waiting list or send letters"),
    Decision("override_age", frozenset({MANAGER}), "override the age limit for a referral"),
    Decision("print_plan", frozenset({CHAMPION, TRAINER, COORD, MANAGER}), "print plans", _own_client_only),
    Decision("print_letter", frozenset({COORD, MANAGER}), "print letters"),
    Decision("print_gp_letter", frozenset({TRAINER, COORD, MANAGER}), "print the outcome letter to the GP",
             _gp_letter),
    Decision("returns", frozenset({MANAGER}), "build returns or see their figures"),
    # The reach and equity dashboard (issue 13): managers see it all; coordinators the operational
    # half (activity figures and the data-quality lists).
    Decision("reach", frozenset({MANAGER}), "see the reach, equity and outcome figures"),
    Decision("activity", frozenset({COORD, MANAGER}), "see the service's activity figures and data-quality lists"),
    Decision("export", frozenset({MANAGER}), "export data"),
    # Importing writes client records, which an administrator (view-only on clients) may not change.
    Decision("import", frozenset({MANAGER}), "import workbooks"),
    Decision("audit_view", frozenset({MANAGER, ADMIN}), "see the audit log"),
    Decision("manage_directory", frozenset({COORD, MANAGER, ADMIN}), "change the signposting directory"),
    # The diary (issue 11): everyone who holds sessions keeps their own; coordinators and managers run
    # everyone's (a trainer's or champion's own clients are checked by edit_client as they book).
    Decision("own_diary", frozenset({CHAMPION, TRAINER, COORD, MANAGER}), "keep a diary"),
    Decision("diary_any", frozenset({COORD, MANAGER}), "see or book other people's diaries"),
    Decision("admin", frozenset({ADMIN}), "manage accounts, settings or reference data"),
    Decision("backup", frozenset({ADMIN}), "back up the database"),
    Decision("restore", frozenset({ADMIN}), "restore a backup"),
    Decision("check", frozenset({ADMIN, MANAGER}), "run the integrity checks"),
    # People's rights (issue 14, CLI.md v2): a subject access bundle for managers and administrators;
    # erasure (anonymising in place) and the retention list for administrators.
    Decision("sar", frozenset({MANAGER, ADMIN}), "produce a subject access bundle"),
    Decision("erase", frozenset({ADMIN}), "erase records"),
)
DECISIONS: dict[str, Decision] = {d.name: d for d in _ALL}


def refusal(db, actor: Actor | None, decision: str, client_id=None) -> str | None:
    """Why the actor may not (a message for people), or None when they may."""
    rule = DECISIONS[decision]
    if actor is None:
        return None if not rule.signed_in else "Sign in first: nobody is signed in."
    if not actor.roles & rule.roles:
        who = "an administrator" if ADMIN in rule.roles else "a manager or coordinator" \
            if COORD in rule.roles else "a manager"
        if actor.roles & {ADMIN} and ADMIN not in rule.roles:
            who = "a manager or coordinator" if COORD in rule.roles else "a manager"
        return (f"{actor.username} may not {rule.what} (roles: {', '.join(sorted(actor.roles))}). "
                f"Ask {who} if you need this done.")
    if rule.about_client is not None:
        return rule.about_client(db, actor, client_id)
    return None


def allows(db, actor: Actor | None, decision: str, client_id=None) -> bool:
    return refusal(db, actor, decision, client_id) is None


def require(db, actor: Actor | None, decision: str, client_id=None) -> None:
    message = refusal(db, actor, decision, client_id)
    if message is not None:
        raise PermissionDenied(message)
