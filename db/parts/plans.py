"""store.plans: personal health plans and their goals."""
from __future__ import annotations

from datetime import date

from .. import audit, plans, referrals
from ..api import Done, Part, changed, client_view, read, write
from ..errors import FieldError, ValidationError
from ..records import Changes, GoalReview, Plan, PlanVersion
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
        plans.snapshot(self.db, plan_id, self.by())          # version 1, as agreed
        return changed("plan", plan_id, "create", after={**clean, "goals": len(clean_goals)})

    @write("edit_client", client=("goal_id", goal_client))
    def update_goal(self, goal_id: int, values: dict, *, expected_version: int, today: date | None = None) -> Changes:
        goal = plans.get_goal(self.db, goal_id)
        merged = {c: getattr(goal, c) for c in plans.GOAL_COLUMNS}
        merged.update(values)
        clean = plans.validate_goal(merged, today)
        before, after = audit.diff(*plans.update_goal(self.db, goal_id, clean, expected_version, self.by()))
        return changed("goal", goal_id, "update", before=before, after=after)

    @read("view_client", client=("plan_id", plan_client), audit_view=client_view("personal health plan"))
    def get(self, plan_id: int) -> Plan:
        return plans.get_plan(self.db, plan_id)

    @read("view_client", client="client_id", audit_view=client_view("personal health plan"))
    def current(self, client_id: int) -> Plan | None:
        found = plans.for_client(self.db, client_id)
        return found[0] if found else None

    # --- versions, goals and reviews (issue 12) -------------------------------------------------------

    @write("edit_client", client=("plan_id", plan_client))
    def agree(self, plan_id: int, values: dict, *, expected_version: int, today: date | None = None) -> Changes:
        """Agree the plan as it stands again (a new date, perhaps new words for what matters): the plan
        takes the date and the whole plan is kept as its next version."""
        plan = plans.get_plan(self.db, plan_id)
        referral = referrals.get(self.db, plan.referral_id)
        merged = {"agreed_date": plan.agreed_date, "what_matters": plan.what_matters, **values}
        clean = plans.validate_plan(merged, referral.received_date, today)
        if clean["agreed_date"] < plan.agreed_date:
            raise ValidationError(FieldError("agreed_date", f"Date agreed: the plan was last agreed on "
                                                            f"{plan.agreed_date}; a new version cannot be earlier."))
        before, after = audit.diff(*plans.update_plan(self.db, plan_id, clean, expected_version, self.by()))
        version = plans.snapshot(self.db, plan_id, self.by())
        return changed("plan", plan_id, "update", before=before, after={**after, "version": version},
                       detail=f"Plan agreed (version {version})")

    @write("edit_client", client=("plan_id", plan_client))
    def add_goal(self, plan_id: int, values: dict, today: date | None = None) -> int:
        """A new goal on a plan (kept in the next agreed version)."""
        clean = plans.validate_goal(values, today)
        goal_id = plans.insert_goal(self.db, plan_id, clean, self.by())
        return Done(goal_id, changed("goal", goal_id, "create", after=clean))

    @write("edit_client", client=("plan_id", plan_client))
    def choose_contacts(self, plan_id: int, directory_ids: list[int]) -> Changes:
        """The directory entries printed on the plan as "Useful contacts near me"."""
        before = [c.id for c in plans.get_plan(self.db, plan_id).contacts]
        plans.choose_contacts(self.db, plan_id, list(directory_ids))
        return changed("plan", plan_id, "update", before={"contacts": before},
                       after={"contacts": list(dict.fromkeys(directory_ids))})

    @write("edit_client", client=("goal_id", goal_client))
    def review_goal(self, goal_id: int, values: dict, *, expected_version: int, today: date | None = None) -> int:
        """Review a goal on a date: achieved (FULL), partly (PARTLY), not this time (NOT) or changed
        (CHANGED, with the goal's new words). The review is kept; the goal takes its outcome."""
        goal = plans.get_goal(self.db, goal_id)
        clean = plans.validate_review(values, goal, today)
        review_id = plans.insert_review(self.db, goal, clean, self.by())
        new_values = plans.reviewed_goal_values(goal, clean)
        before, after = audit.diff(*plans.update_goal(self.db, goal_id, new_values, expected_version, self.by()))
        return Done(review_id, changed("goal", goal_id, "update", before=before, after=after,
                                       detail=f"Goal reviewed {clean['review_date']}: "
                                              f"{plans.REVIEW_OUTCOMES[clean['outcome']]}"))

    @read("view_client", client=("plan_id", plan_client), audit_view=client_view("plan versions"))
    def versions(self, plan_id: int) -> list[PlanVersion]:
        """The plan's history: each agreed version with its date, newest first."""
        return plans.versions(self.db, plan_id)

    @read("view_client", client=("plan_id", plan_client), audit_view=client_view("goal reviews"))
    def reviews(self, plan_id: int) -> list[GoalReview]:
        """Every review of the plan's goals, newest first."""
        return plans.reviews(self.db, plan_id)
