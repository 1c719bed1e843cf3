"""PRODUCT.md's roles table as pure functions; the store calls these before every act."""
from __future__ import annotations

from .errors import PermissionDenied
from .records import Actor

CHAMPION, TRAINER, COORD, MANAGER, ADMIN = "CHAMPION", "TRAINER", "COORD", "MANAGER", "ADMIN"
ROLES = (COORD, TRAINER, CHAMPION, MANAGER, ADMIN)

# action -> roles allowed, and what to tell someone who may not.
_RULES: dict[str, tuple[frozenset[str], str]] = {
    "view_any_client": (frozenset({TRAINER, COORD, MANAGER, ADMIN}), "see clients who are not allocated to you"),
    "edit_any_client": (frozenset({COORD, MANAGER}), "change clients who are not allocated to you"),
    "edit_own_client": (frozenset({CHAMPION, TRAINER, COORD, MANAGER}), "change client records"),
    "create_client": (frozenset({COORD, MANAGER}), "add clients or referrals"),
    "allocate": (frozenset({COORD, MANAGER}), "allocate referrals, run the waiting list or send letters"),
    "print_plan": (frozenset({CHAMPION, TRAINER, COORD, MANAGER}), "print plans"),
    "returns": (frozenset({MANAGER}), "build returns, see dashboards or export data"),
    "import": (frozenset({MANAGER, ADMIN}), "import workbooks"),
    "audit_view": (frozenset({MANAGER, ADMIN}), "see the audit log"),
    "erase": (frozenset({MANAGER}), "erase records"),
    "admin": (frozenset({ADMIN}), "manage accounts, settings, backups or reference data"),
}


def allowed(actor: Actor | None, action: str) -> bool:
    if actor is None:
        return False
    roles, _ = _RULES[action]
    return bool(actor.roles & roles)


def require(actor: Actor | None, action: str) -> None:
    if actor is None:
        raise PermissionDenied("Sign in first: nobody is signed in.")
    if not allowed(actor, action):
        _, what = _RULES[action]
        raise PermissionDenied(
            f"{actor.username} may not {what} (roles: {', '.join(sorted(actor.roles))}). "
            "Ask a manager or administrator if you need this.")
