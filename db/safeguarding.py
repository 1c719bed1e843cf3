"""PHQ-9 item 9 safeguarding prompts (INSTRUMENTS.md): any answer above 0 on item 9 stops the form with
the service's escalation steps; the person who saw them acknowledges it, and that is kept and audited."""
from __future__ import annotations

from sqlite_utils import Database

from .errors import FieldError, ValidationError

ITEM = "phq9_9"


def needs_prompt(instrument: str, answers: dict) -> bool:
    """True when the answers hold PHQ-9 item 9 above 0 (the form must stop and show the steps)."""
    if instrument != "PHQ9":
        return False
    value = answers.get(ITEM)
    try:
        return value not in (None, "") and int(value) > 0
    except (TypeError, ValueError):
        return False


def insert(db: Database, client_id: int, referral_id: int, instrument: str, answer, steps: str, by: str) -> int:
    if not (steps or "").strip():
        raise ValidationError(FieldError("steps", "The service's safeguarding steps are empty: an administrator "
                                                  "must set them before PHQ-9 can be used."))
    cur = db.conn.execute(
        "INSERT INTO safeguarding_prompts (client_id, referral_id, instrument, item, answer, steps, acknowledged_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id", (client_id, referral_id, instrument, ITEM, answer, steps, by))
    return cur.fetchone()[0]


def for_client(db: Database, client_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM safeguarding_prompts WHERE client_id = ? ORDER BY id DESC", [client_id]))
