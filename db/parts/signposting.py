"""store.signposting: signposting clients on, and the local directory of services."""
from __future__ import annotations

from datetime import date

from .. import referrals, services, signposting
from ..api import Done, Part, changed, read, write
from ..records import Changes, DirectoryEntry
from .owners import referral_client


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
