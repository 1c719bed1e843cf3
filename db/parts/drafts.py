"""store.drafts: what the signed-in person was typing into a form, offered back after a crash.

Kept inside the database (never a plain file). Each person sees and discards only
their own; nobody else's typing is ever shown. Saving a draft changes no record, so
it sends no change notice and writes no audit event.
"""
from __future__ import annotations

from .. import drafts
from ..api import Part, read, write


class DraftsPart(Part):

    @write("signed_in")
    def save(self, form_key: str, values: dict) -> None:
        drafts.save(self.db, self.by(), form_key, values)

    @read("signed_in")
    def mine(self) -> list:
        """The signed-in person's own drafts (db.drafts.Draft), newest first."""
        return drafts.for_user(self.db, self.by())

    @write("signed_in")
    def discard(self, form_key: str) -> None:
        drafts.discard(self.db, self.by(), form_key)
