"""Personal health plans and their goals, in the client's own words."""
from __future__ import annotations

import json
from datetime import date

from sqlite_utils import Database

from . import codes, engine, versioned
from .errors import ConflictError, NotFound
from .records import DirectoryEntry, Goal, GoalReview, Plan, PlanVersion, from_row
from .validation import ErrorCollector, check_not_future, clean_text, parse_date

CLOSED_STATUSES = ("FULL", "PARTLY", "NOT")
NEEDS_STATUS_DATE = ("FULL", "PARTLY", "NOT", "DROPPED")


def validate_plan(values: dict, received_date: str, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out = {}
    day = errors.check(parse_date, values.get("agreed_date"), "agreed_date", required=True)
    if day is not None:
        errors.check(check_not_future, day, "agreed_date", today)
        if day.isoformat() < received_date:
            errors.add("agreed_date", f"Date agreed {day.isoformat()} is before the referral was received ({received_date}).")
        out["agreed_date"] = day.isoformat()
    out["what_matters"] = errors.check(clean_text, values.get("what_matters"), "what_matters", 4000) or None
    errors.raise_if_any()
    return out


def _score_0_10(values: dict, field: str, errors: ErrorCollector):
    raw = values.get(field)
    if raw in (None, ""):
        return None
    try:
        number = float(raw)
        if number != int(number) or not 0 <= number <= 10:
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        errors.add(field, f"{field.capitalize()} '{raw}' must be a whole number from 0 to 10.")
        return None


def validate_goal(values: dict, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    out["area"] = codes.match("area", values.get("area"))
    if out["area"] is None:
        errors.add("area", "Area: choose what the goal is about (healthy eating, money, housing…).")
    out["goal_text"] = errors.check(clean_text, values.get("goal_text"), "goal_text", 1000, required=True)
    for field, limit in (("steps", 2000), ("barriers", 2000), ("who_can_help", 1000)):
        out[field] = errors.check(clean_text, values.get(field), field, limit) or None
    out["importance"] = _score_0_10(values, "importance", errors)
    out["confidence"] = _score_0_10(values, "confidence", errors)
    start = errors.check(parse_date, values.get("start_date"), "start_date")
    out["start_date"] = start.isoformat() if start else None
    review = errors.check(parse_date, values.get("review_date"), "review_date")   # may be in the future
    out["review_date"] = review.isoformat() if review else None
    status = values.get("status") or "NOTSTARTED"
    out["status"] = codes.match("goal_status", status)
    if out["status"] is None:
        errors.add("status", "Status: choose one from the list.")
    status_date = errors.check(parse_date, values.get("status_date"), "status_date")
    if status_date is not None:
        errors.check(check_not_future, status_date, "status_date", today)
    if out["status"] in NEEDS_STATUS_DATE and status_date is None:
        errors.add("status_date", "Status date: give the date the goal was achieved, not achieved or dropped.")
    out["status_date"] = status_date.isoformat() if status_date else None
    errors.raise_if_any()
    return out


def insert_plan(db: Database, referral_id: int, clean: dict, by: str) -> int:
    cur = db.conn.execute("INSERT INTO plans (referral_id, agreed_date, what_matters, created_by) VALUES (?, ?, ?, ?) "
                          "RETURNING id", (referral_id, clean["agreed_date"], clean.get("what_matters"), by))
    return cur.fetchone()[0]


GOAL_COLUMNS = ("area", "goal_text", "steps", "barriers", "who_can_help", "importance", "confidence",
                 "start_date", "review_date", "status", "status_date")


def insert_goal(db: Database, plan_id: int, clean: dict, by: str) -> int:
    position = db.conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM goals WHERE plan_id = ?", (plan_id,)).fetchone()[0]
    cur = db.conn.execute(
        f"INSERT INTO goals (plan_id, {', '.join(GOAL_COLUMNS)}, position, created_by) "
        f"VALUES (?, {', '.join('?' * len(GOAL_COLUMNS))}, ?, ?) RETURNING id",
        (plan_id, *[clean.get(c) for c in GOAL_COLUMNS], position, by))
    return cur.fetchone()[0]


def update_goal(db: Database, goal_id: int, clean: dict, expected_version: int, by: str) -> tuple[dict, dict]:
    current = get_goal(db, goal_id)
    before = {c: getattr(current, c) for c in GOAL_COLUMNS}

    def conflict() -> ConflictError:
        who, when = versioned.who_changed(db, "goals", goal_id)
        return ConflictError(f"Someone else ({who}) changed this goal at {when} after you opened it: reopen the "
                             "plan and try again.", current=get_goal(db, goal_id))
    versioned.update(db, "goals", goal_id, {c: clean.get(c) for c in GOAL_COLUMNS}, expected_version, by,
                     conflict=conflict)
    return before, {c: clean.get(c) for c in GOAL_COLUMNS}


def get_goal(db: Database, goal_id: int) -> Goal:
    rows = list(db.query("SELECT * FROM goals WHERE id = ?", [goal_id]))
    if not rows:
        raise NotFound(f"There is no goal with id {goal_id}.")
    return from_row(Goal, rows[0])


def get_plan(db: Database, plan_id: int) -> Plan:
    rows = list(db.query("SELECT * FROM plans WHERE id = ?", [plan_id]))
    if not rows:
        raise NotFound(f"There is no plan with id {plan_id}.")
    goals = tuple(from_row(Goal, r) for r in db.query("SELECT * FROM goals WHERE plan_id = ? ORDER BY position, id", [plan_id]))
    contacts = tuple(from_row(DirectoryEntry, r) for r in db.query(
        "SELECT d.* FROM plan_contacts p JOIN directory d ON d.id = p.directory_id WHERE p.plan_id = ? ORDER BY d.name", [plan_id]))
    return from_row(Plan, rows[0], goals=goals, contacts=contacts)


def for_client(db: Database, client_id: int) -> list[Plan]:
    ids = [r[0] for r in db.conn.execute(
        "SELECT p.id FROM plans p JOIN referrals r ON r.id = p.referral_id WHERE r.client_id = ? "
        "ORDER BY p.agreed_date DESC, p.id DESC", (client_id,))]
    return [get_plan(db, i) for i in ids]


def choose_contacts(db: Database, plan_id: int, directory_ids: list[int]) -> None:
    db.conn.execute("DELETE FROM plan_contacts WHERE plan_id = ?", (plan_id,))
    db.conn.executemany("INSERT INTO plan_contacts (plan_id, directory_id) VALUES (?, ?)",
                        [(plan_id, d) for d in dict.fromkeys(directory_ids)])


# --- versions and reviews (issue 12, schema 0007) ---------------------------------------------------

# Reviewing a goal: achieved, partly, not this time, or changed (the goal's words change; it goes on).
REVIEW_OUTCOMES = {"FULL": "Achieved", "PARTLY": "Partly achieved", "NOT": "Not this time",
                   "CHANGED": "Changed the goal"}


def snapshot(db: Database, plan_id: int, by: str) -> int:
    """Keep the plan as it stands now as its next agreed version (its agreed date, what matters, the
    goals and contacts), and return the version number."""
    plan = get_plan(db, plan_id)
    version = db.conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM plan_versions WHERE plan_id = ?",
                              (plan_id,)).fetchone()[0]
    goals = [{"id": g.id, **{c: getattr(g, c) for c in GOAL_COLUMNS}} for g in plan.goals]
    db.conn.execute(
        "INSERT INTO plan_versions (plan_id, version, agreed_date, what_matters, goals, contacts, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (plan_id, version, plan.agreed_date, plan.what_matters, json.dumps(goals, ensure_ascii=False),
         json.dumps([c.id for c in plan.contacts]), by))
    return version


def versions(db: Database, plan_id: int) -> list[PlanVersion]:
    """Every agreed version of a plan, newest first."""
    return [from_row(PlanVersion, r, goals=tuple(json.loads(r["goals"] or "[]")),
                     contacts=tuple(json.loads(r["contacts"] or "[]")))
            for r in db.query("SELECT * FROM plan_versions WHERE plan_id = ? ORDER BY version DESC", [plan_id])]


def update_plan(db: Database, plan_id: int, clean: dict, expected_version: int, by: str) -> tuple[dict, dict]:
    current = get_plan(db, plan_id)
    before = {"agreed_date": current.agreed_date, "what_matters": current.what_matters}

    def conflict() -> ConflictError:
        who, when = versioned.who_changed(db, "plans", plan_id)
        return ConflictError(f"Someone else ({who}) changed this plan at {when} after you opened it: reopen the "
                             "plan and try again.", current=get_plan(db, plan_id))
    versioned.update(db, "plans", plan_id, {"agreed_date": clean["agreed_date"],
                                            "what_matters": clean.get("what_matters")},
                     expected_version, by, conflict=conflict)
    return before, {"agreed_date": clean["agreed_date"], "what_matters": clean.get("what_matters")}


def validate_review(values: dict, goal: Goal, today: date | None = None) -> dict:
    errors = ErrorCollector()
    out: dict = {}
    day = errors.check(parse_date, values.get("review_date"), "review_date", required=True)
    if day is not None:
        errors.check(check_not_future, day, "review_date", today)
        out["review_date"] = day.isoformat()
    outcome = values.get("outcome")
    if outcome not in REVIEW_OUTCOMES:
        errors.add("outcome", "Outcome: choose achieved, partly achieved, not this time or changed.")
    out["outcome"] = outcome
    out["note"] = errors.check(clean_text, values.get("note"), "note", 2000) or None
    new_text = errors.check(clean_text, values.get("goal_text"), "goal_text", 1000) or None
    if outcome == "CHANGED" and not new_text:
        errors.add("goal_text", "New goal: write the changed goal in the client's own words.")
    out["goal_text"] = new_text
    nxt = errors.check(parse_date, values.get("next_review_date"), "next_review_date")
    if nxt is not None and day is not None and nxt <= day:
        errors.add("next_review_date", "Next review: choose a date after this review.")
    out["next_review_date"] = nxt.isoformat() if nxt else None
    errors.raise_if_any()
    return out


def insert_review(db: Database, goal: Goal, clean: dict, by: str) -> int:
    previous = goal.goal_text if clean["outcome"] == "CHANGED" else None
    cur = db.conn.execute(
        "INSERT INTO goal_reviews (goal_id, review_date, outcome, note, previous_text, next_review_date, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (goal.id, clean["review_date"], clean["outcome"], clean.get("note"), previous, clean.get("next_review_date"),
         by))
    return cur.fetchone()[0]


def reviewed_goal_values(goal: Goal, clean: dict) -> dict:
    """The goal's columns after a review: a closing outcome sets its status and status date; a change
    takes the new words, stays in progress and takes the next review date."""
    values = {c: getattr(goal, c) for c in GOAL_COLUMNS}
    if clean["outcome"] in CLOSED_STATUSES:
        values.update(status=clean["outcome"], status_date=clean["review_date"], review_date=goal.review_date)
    else:
        values.update(goal_text=clean["goal_text"], status="INPROGRESS", status_date=None)
    if clean.get("next_review_date"):
        values["review_date"] = clean["next_review_date"]
    return values


def reviews(db: Database, plan_id: int) -> list[GoalReview]:
    """Every review of a plan's goals, newest first."""
    return [from_row(GoalReview, r) for r in db.query(
        "SELECT v.* FROM goal_reviews v JOIN goals g ON g.id = v.goal_id WHERE g.plan_id = ? "
        "ORDER BY v.review_date DESC, v.id DESC", [plan_id])]


def first_versions(db: Database) -> int:
    """Version 1 for every plan that has none (plans written in bulk, as the demo writes them): the plan
    as it stands, the same snapshot the migration to 0007 made of existing plans. Returns how many."""
    cur = db.conn.execute("""
INSERT INTO plan_versions (plan_id, version, agreed_date, what_matters, goals, contacts, created_by)
SELECT p.id, 1, p.agreed_date, p.what_matters, {0}, {1}, p.created_by
FROM plans p WHERE NOT EXISTS (SELECT 1 FROM plan_versions v WHERE v.plan_id = p.id)""".format(*engine.json_goals_and_contacts(db)))
    return cur.rowcount
