"""store.signposting: signposting clients on, and the local directory of services."""
from __future__ import annotations

from datetime import date

from .. import audit, referrals, services, signposting
from ..api import Done, Part, changed, client_view, read, write
from ..records import Changes, DirectoryEntry, FollowUpItem, Signpost
from .owners import referral_client


def signpost_client(db, signpost_id: int) -> int:
    return signposting.get(db, signpost_id).client_id


class SignpostingPart(Part):

    @write("edit_client", client=("referral_id", referral_client))
    def add(self, referral_id: int, values: dict, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        clean = signposting.validate(values, referral.received_date, today)
        sign_id = signposting.insert(self.db, referral.client_id, referral_id, clean, self.by())
        return changed("signposting", sign_id, "create", after=clean)

    @read("signed_in")
    def directory(self) -> list[DirectoryEntry]:
        return services.list_directory(self.db)

    @write("manage_directory")
    def add_directory_entry(self, name: str, category: str, service_code: str | None = None, **details) -> int:
        service = self._store.service.get(service_code)
        entry_id = services.add_directory_entry(self.db, service.id, name, category, self.by(), **details)
        return Done(entry_id, changed("directory", entry_id, "create", after={"name": name}))

    # --- outcomes, follow-up and the directory (issue 12) -------------------------------------------

    @read("view_client", client="client_id", audit_view=client_view("signposting"))
    def for_client(self, client_id: int) -> list[Signpost]:
        """A client's signposting, newest first."""
        return signposting.for_client(self.db, client_id)

    @write("edit_client", client=("signpost_id", signpost_client))
    def record_outcome(self, signpost_id: int, values: dict, *, expected_version: int,
                       today: date | None = None) -> Changes:
        """Record what came of a signposting (went, did not go, not known) and when it was learnt; a
        new follow-up date may be set while it stays unknown."""
        current = signposting.get(self.db, signpost_id)
        clean = signposting.validate_outcome(values, current, today)
        before, after = audit.diff(*signposting.update_outcome(self.db, signpost_id, clean, expected_version,
                                                               self.by()))
        return changed("signposting", signpost_id, "update", before=before, after=after)

    @read("view_client")
    def follow_up(self, *, mine: bool = False, due_by: date | None = None) -> list[FollowUpItem]:
        """Signposting whose outcome is still unknown, oldest follow-up date first. Champions see only
        their own clients; `mine` narrows anyone with a staff record to their own caseload."""
        staff_id = None
        if mine or not self.actor.has("TRAINER", "COORD", "MANAGER", "ADMIN"):
            staff_id = self.actor.staff_id if self.actor.staff_id is not None else -1
        return signposting.follow_up(self.db, staff_id=staff_id,
                                     due_by=due_by.isoformat() if due_by else None)

    @read("signed_in")
    def find_in_directory(self, text: str = "", category: str | None = None) -> list[DirectoryEntry]:
        """Directory entries holding every word typed, in category then name order."""
        return signposting.search_directory(services.list_directory(self.db), text, category)

    @write("manage_directory")
    def update_directory_entry(self, entry_id: int, values: dict, *, expected_version: int) -> Changes:
        """Edit a directory entry (name, category, phone, address, web, notes)."""
        current = signposting.get_directory_entry(self.db, entry_id)
        merged = {f: getattr(current, f) for f in signposting.DIRECTORY_FIELDS}
        merged.update(values)
        clean = signposting.validate_directory(merged)
        before, after = audit.diff(*signposting.update_directory_entry(self.db, entry_id, clean, expected_version,
                                                                       self.by()))
        return changed("directory", entry_id, "update", before=before, after=after)
