"""store.diary: sessions booked and held, and attendance."""
from __future__ import annotations

from datetime import date

from .. import referrals, sessions
from ..api import Part, changed, read, write
from ..records import Changes, Session
from .owners import referral_client, session_client


class DiaryPart(Part):

    @write("edit_client", client=("referral_id", referral_client))
    def add(self, referral_id: int, values: dict, *, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        clean = sessions.validate(values, referral.received_date, today)
        session_id = sessions.insert(self.db, referral_id, clean, self.by(), today)
        return changed("session", session_id, "create", after=clean)

    @write("edit_client", client=("session_id", session_client))
    def record_attendance(self, session_id: int, attendance: str, *, expected_version: int,
                          today: date | None = None) -> Changes:
        before = sessions.record_attendance(self.db, session_id, attendance, expected_version, self.by(), today)
        return changed("session", session_id, "update", before={"attendance": before.attendance},
                       after={"attendance": attendance})

    @read("view_client", client="client_id")
    def next_booked(self, client_id: int, today: date | None = None) -> list[Session]:
        return sessions.next_booked(self.db, client_id, today)
