"""store.referrals: referrals, contact attempts, allocation, closing and the waiting list."""
from __future__ import annotations

from datetime import date

from .. import clients, referrals
from ..api import Part, changed, client_view, read, write
from ..records import AuditNote, Changes, Referral, WaitingItem
from .owners import referral_client


def _adding(values: dict, _actor) -> str:
    # Adding a referral for an under-16 needs a manager's override on top of the right to add.
    return "override_age" if values.get("age_override") else "add_client"


class ReferralsPart(Part):

    @read("view_client", client=("referral_id", referral_client), audit_view=client_view("referral"))
    def get(self, referral_id: int) -> Referral:
        return referrals.get(self.db, referral_id)

    @read("signed_in")
    def id_for_ref(self, referral_ref: str) -> int:
        return referrals.id_for_ref(self.db, referral_ref)

    @write(_adding)
    def add(self, client_id: int, values: dict, *, age_override: bool = False,
            today: date | None = None) -> Changes:
        client = clients.get(self.db, client_id)
        clean = referrals.validate(values, client.date_of_birth, today, age_override)
        referral_id = referrals.insert(self.db, client.service_id, client_id, clean, self.by(),
                                       age_override_by=self.by() if age_override else None)
        return changed("referral", referral_id, "create", after=clean)

    @write("edit_client", client=("referral_id", referral_client))
    def add_contact_attempt(self, referral_id: int, attempt_date, method: str, outcome: str,
                            note: str | None = None, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        attempt_id = referrals.add_contact_attempt(self.db, referral_id, attempt_date, method, outcome, note,
                                                   self.by(), today)
        # The referral changed (its status, its attempts); the audit names the attempt itself.
        return changed("referral", referral_id, "update",
                       notes=(AuditNote("create", "contact_attempt", attempt_id,
                                        after={"referral": referral.referral_ref, "date": str(attempt_date),
                                               "method": method, "outcome": outcome}),))

    @write("allocate")
    def allocate(self, referral_id: int, staff_id: int | None, *, expected_version: int | None = None) -> Changes:
        before = referrals.allocate(self.db, referral_id, staff_id, expected_version, self.by())
        return changed("referral", referral_id, "update", before={"allocated_staff_id": before.allocated_staff_id},
                       after={"allocated_staff_id": staff_id})

    @write("edit_client", client=("referral_id", referral_client))
    def close(self, referral_id: int, closed_date, reason: str, *, expected_version: int | None = None,
              today: date | None = None) -> Changes:
        referrals.close(self.db, referral_id, closed_date, reason, expected_version, self.by(), today)
        return changed("referral", referral_id, "update",
                       after={"closed_date": str(closed_date), "closure_reason": reason})

    @write("allocate")
    def close_many(self, ids: list[int], closed_date, reason: str, today: date | None = None) -> Changes:
        """Close several referrals in one transaction: all or none."""
        for referral_id in ids:
            referrals.close(self.db, referral_id, closed_date, reason, None, self.by(), today)
        return changed("referral", list(ids), "update",
                       after={"closed_date": str(closed_date), "closure_reason": reason})

    @read("allocate")
    def waiting_list(self, *, status: str | None = None, staff_id: int | None = None, source: str | None = None,
                     today: date | None = None) -> list[WaitingItem]:
        return referrals.waiting_list(self.db, status=status, staff_id=staff_id, source=source, today=today)
