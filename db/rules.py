"""Domain rules that several parts of the app need, each written once.

- What counts as attended: attendance codes 5 (attended) and 6 (arrived late but
  seen), as DATA.md and RETURN.md define; 3 is "did not attend" without warning.
- The three-tries protocol: after three unsuccessful contact attempts on a referral
  never reached (and not yet allocated), the coordinator sends the could-not-reach
  letter and may close it.
"""
from __future__ import annotations

ATTENDED = ("5", "6")
DNA = "3"

THREE_TRIES = 3
UNSUCCESSFUL = ("NOANSWER", "MESSAGE", "LETTER", "WRONGNUM")   # as counted by the waiting_list view


def attended(code: str | None) -> bool:
    return code in ATTENDED


def attended_sql(column: str = "attendance") -> str:
    """The same rule as SQL, for queries over sessions."""
    return f"{column} IN ({', '.join(repr(c) for c in ATTENDED)})"


def three_tries_reached(unsuccessful: int, first_contact_date: str | None, status: str,
                        needed: int = THREE_TRIES) -> bool:
    """Three (or the service's setting, three_tries.attempts) unsuccessful attempts on an open referral
    never reached nor allocated: time for the could-not-reach letter, or to close it as unable to contact."""
    return unsuccessful >= needed and first_contact_date is None and status not in ("WAITING", "CLOSED")


TRIES_SETTING = "three_tries.attempts"
