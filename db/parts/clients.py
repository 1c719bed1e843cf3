"""store.clients: finding, reading and changing client records."""
from __future__ import annotations

from datetime import date

from .. import assessments, audit, clients, plans, referrals, sessions, signposting
from ..api import Part, changed, client_view, read, write
from ..errors import ValidationError
from ..records import Changes, Client, ClientRecord, ClientSummary
from ..timeline import build_timeline
from ..validation import normalise_nhs_number, normalise_postcode, parse_date


def _duplicate_check_seen(found, _args) -> tuple:
    # The people shown are named in the audit trail: a duplicate check discloses them.
    refs = ", ".join(summary.client_ref for summary, _ in found) or "none"
    return "client", None, f"duplicate check before adding a client: shown {refs}"


class ClientsPart(Part):

    def _staff_filter(self) -> int | None:
        """Champions see only the clients allocated to them."""
        if self.actor.has("TRAINER", "COORD", "MANAGER", "ADMIN"):
            return None
        return self.actor.staff_id if self.actor.staff_id is not None else -1

    @read("view_client")
    def search(self, typed: str, *, limit: int = 200, include_archived: bool = False) -> list[ClientSummary]:
        return clients.search(self.db, typed, limit=limit, include_archived=include_archived,
                              only_staff_id=self._staff_filter())

    @read("view_client", client="client_id", audit_view=client_view("client details"))
    def get(self, client_id: int) -> Client:
        return clients.get(self.db, client_id)

    @read("signed_in")
    def id_for_ref(self, client_ref: str) -> int:
        return clients.id_for_ref(self.db, client_ref)

    @read("view_client", client="client_id", audit_view=client_view("client record opened", opening="opening"))
    def record(self, client_id: int, *, opening: bool = True) -> ClientRecord:
        """Everything about one client, for the record screen. Opening the record is always audited as a
        view; a screen reading it again while it stays open (opening=False) is the same opening."""
        client = clients.get(self.db, client_id)
        refs = referrals.for_client(self.db, client_id)
        sess = sessions.for_client(self.db, client_id)
        pls = plans.for_client(self.db, client_id)
        assess = assessments.for_client(self.db, client_id)
        signs = signposting.for_client(self.db, client_id)
        return ClientRecord(client=client, referrals=tuple(refs), sessions=tuple(sess), plans=tuple(pls),
                            assessments=tuple(assess), signposting=tuple(signs),
                            timeline=tuple(build_timeline(client, refs, sess, pls, assess, signs)))

    @read("add_client", audit_view=_duplicate_check_seen)
    def check_duplicates(self, values: dict, exclude_id: int | None = None) -> list[tuple[ClientSummary, str]]:
        """People already known who may be this one (run before saving a new client); only for those
        who may add clients, and audited, since it shows who else is on the books."""
        clean = dict(values)
        for key, normalise in (("nhs_number", normalise_nhs_number), ("postcode", normalise_postcode)):
            try:
                clean[key] = normalise(values.get(key)) or None
            except ValidationError:
                clean[key] = None
        try:
            dob = parse_date(values.get("date_of_birth"), "date_of_birth")
            clean["date_of_birth"] = dob.isoformat() if dob else None
        except ValidationError:
            clean["date_of_birth"] = None
        return clients.possible_duplicates(self.db, clean, exclude_id)

    @write("add_client")
    def add(self, values: dict, *, service_code: str | None = None, today: date | None = None) -> Changes:
        clean = clients.validate(values, today)
        service = self._store.service.get(service_code)
        deprivation = self._store.reference.deprivation_for(clean.get("postcode"))
        client_id = clients.insert(self.db, service.id, clean, deprivation, self.by())
        return changed("client", client_id, "create", after={**clean, **deprivation})

    @write("edit_client", client="client_id")
    def update(self, client_id: int, values: dict, *, expected_version: int, today: date | None = None) -> Changes:
        """Change a client's details; fails with ConflictError if someone saved first."""
        current = clients.get(self.db, client_id)
        merged = {f: getattr(current, f) for f in clients.CLIENT_FIELDS}
        merged.update(values)
        clean = clients.validate(merged, today)
        deprivation = None
        if clean.get("postcode") != current.postcode or (clean.get("postcode") and current.postcode_status is None):
            deprivation = self._store.reference.deprivation_for(clean.get("postcode"))
        before, after = audit.diff(*clients.update(self.db, client_id, clean, deprivation, expected_version,
                                                   self.by()))
        return changed("client", client_id, "update", before=before, after=after)

    @write("edit_client", client="client_id")
    def archive(self, client_id: int, *, expected_version: int, archived: bool = True) -> Changes:
        """People are archived, never deleted: hidden from lists, kept in every figure."""
        clients.set_archived(self.db, client_id, archived, expected_version, self.by())
        return changed("client", client_id, "archive", audit_action="archive" if archived else "update",
                       after={"archived": archived})
