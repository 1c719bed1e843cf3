"""store.plans: personal health plans and their goals."""
from __future__ import annotations

from datetime import date

from .. import audit, plans, referrals
from ..api import Part, changed, read, write
from ..records import Changes, Plan
from .owners import goal_client, plan_client, referral_client


class PlansPart(Part):

    @write("edit_client", client=("referral_id", referral_client))
    def add(self, referral_id: int, values: dict, goals: list[dict] = (), directory_ids: list[int] = (),
            today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        clean = plans.validate_plan(values, referral.received_date, today)
        clean_goals = [plans.validate_goal(g, today) for g in goals]
        plan_id = plans.insert_plan(self.db, referral_id, clean, self.by())
        for g in clean_goals:
            plans.insert_goal(self.db, plan_id, g, self.by())
        plans.choose_contacts(self.db, plan_id, list(directory_ids))
        return changed("plan", plan_id, "create", after={**clean, "goals": len(clean_goals)})

    @write("edit_client", client=("goal_id", goal_client))
    def update_goal(self, goal_id: int, values: dict, *, expected_version: int, today: date | None = None) -> Changes:
        goal = plans.get_goal(self.db, goal_id)
        merged = {c: getattr(goal, c) for c in plans.GOAL_COLUMNS}
        merged.update(values)
        clean = plans.validate_goal(merged, today)
        before, after = audit.diff(*plans.update_goal(self.db, goal_id, clean, expected_version, self.by()))
        return changed("goal", goal_id, "update", before=before, after=after)

    @read("view_client", client=("plan_id", plan_client))
    def get(self, plan_id: int) -> Plan:
        return plans.get_plan(self.db, plan_id)

    @read("view_client", client="client_id")
    def current(self, client_id: int) -> Plan | None:
        found = plans.for_client(self.db, client_id)
        return found[0] if found else None
