"""Which client a referral, session, plan, goal or document belongs to (for client-scoped decisions)."""
from __future__ import annotations

from .. import documents, plans, referrals, sessions


def referral_client(db, referral_id: int) -> int:
    return referrals.get(db, referral_id).client_id


def session_client(db, session_id: int) -> int:
    return sessions.get(db, session_id).client_id


def plan_client(db, plan_id: int) -> int:
    return referrals.get(db, plans.get_plan(db, plan_id).referral_id).client_id


def goal_client(db, goal_id: int) -> int:
    return plan_client(db, plans.get_goal(db, goal_id).plan_id)


def document_client(db, document_id: int) -> int:
    return documents.client_of(db, document_id)
