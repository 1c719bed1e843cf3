"""store.documents: plan PDFs and letters kept as printed.

Printing is three steps, so that what is kept is exactly what was printed:
gather (`plan_data` / `letter_data`, whose declarations check permission), build the
bytes (reports/), then `keep`, which stores them and audits the
"print". `reports.printing` runs the three for the GUI and the command line.

Who may print what (PRODUCT.md's roles table):
- plan: anyone with print_plan (champion, trainer, coordinator, manager) who can
  see the client (a champion only their own clients);
- appointment and no-contact letters: coordinators and managers ("allocate":
  letters go with the waiting list);
- gp-outcome: coordinators and managers, and the health trainer the client is
  allocated to, since it is the trainer who can vouch for the summary; never a
  volunteer champion. Refused whatever the role unless the client's consent to
  share with the GP is "Y".
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from .. import assessments, policy, rules, clients, documents, plans, referrals, services, sessions, signposting
from ..api import Done, Part, changed, client_view, read, write
from .owners import document_client, referral_client
from ..documents import (LETTER_KINDS, PLAN, KeptDocument, Letterhead, LetterData, MeasurePair, PlanPrintData,
                        letter_kind)
from ..errors import FieldError, NotFound, ValidationError
from ..instruments import INSTRUMENTS
from ..records import Referral, Staff



def print_decision(kind: str) -> str:
    """The policy decision for printing one kind of document."""
    if kind == PLAN:
        return "print_plan"
    if kind == letter_kind("gp-outcome"):
        return "print_gp_letter"
    if kind not in documents.KIND_LABELS:
        raise ValidationError(FieldError("kind", f"Document kind '{kind}' is not one this app prints "
                                                 f"({', '.join(documents.KIND_LABELS)})."))
    return "print_letter"


def _letter(values: dict, _actor) -> str:
    if values["kind"] not in LETTER_KINDS:
        raise ValidationError(FieldError("kind", f"There is no '{values['kind']}' letter. "
                                                 f"Letters: {', '.join(LETTER_KINDS)}."))
    return print_decision(letter_kind(values["kind"]))


def _keeping(values: dict, _actor) -> str:
    return print_decision(values["kind"])


def _viewed_document(doc, _args) -> tuple:
    return "document", doc.id, f"{doc.label} kept {doc.created_at}"


class DocumentsPart(Part):

    def _check_consent_for_gp(self, client_id: int) -> None:
        client = clients.get(self.db, client_id)
        if client.consent_share_gp != "Y":
            raise ValidationError(FieldError(
                "consent_share_gp", f"{client.client_ref} has not agreed to share information with their GP, so "
                                    "the outcome letter cannot be printed until their consent is recorded."))

    def _refusal(self, kind: str, referral: Referral, today: date):
        client = clients.get(self.db, referral.client_id)
        held = [s for s in sessions.for_client(self.db, client.id) if s.referral_id == referral.id]
        return documents.letter_refusal(kind, referral, client, held, today), client, held

    # --- gathering ------------------------------------------------------------------------

    def _letterhead(self, service_id: int) -> Letterhead:
        service = documents.service_by_id(self.db, service_id)
        return Letterhead(service, documents.service_logo(self.db, service_id),
                          services.get_setting(self.db, "service.website", None, scope=service.code) or None)

    def _trainer(self, referral: Referral) -> Staff | None:
        return services.get_staff(self.db, referral.allocated_staff_id) if referral.allocated_staff_id else None

    def _printed_by(self) -> str:
        return self.actor.full_name or self.actor.username

    def _signer(self, service) -> tuple[str, str]:
        """The name and role that sign letters: the service's setting, else the signed-in person's staff
        name (never a bare username), else the team."""
        name = services.get_setting(self.db, "letters.signer_name", None, scope=service.code)
        role = services.get_setting(self.db, "letters.signer_role", None, scope=service.code)
        if not name:
            own = self.actor.full_name
            name = own if own and own != self.actor.username else f"The {service.name} team"
        return name, role or ""

    def _contactable(self, letterhead: Letterhead) -> None:
        refused = services.contact_refusal(letterhead.service)
        if refused:
            raise ValidationError(FieldError("service", refused))

    @read("print_plan", client="client_id", audit_view=client_view("plan read for printing"))
    def plan_data(self, client_id: int, *, today: date | None = None) -> PlanPrintData:
        """Everything the client's current plan prints, in one read (the print itself is audited by keep)."""
        today = today or date.today()
        client = clients.get(self.db, client_id)
        found = plans.for_client(self.db, client_id)
        plan = found[0] if found else None
        if plan is None:
            raise NotFound(f"{client.client_ref} has no personal health plan yet: agree one at a session, "
                           "then print it.")
        referral = referrals.get(self.db, plan.referral_id)
        self._contactable(self._letterhead(referral.service_id))
        upcoming = tuple(sessions.next_booked(self.db, client_id, today))
        results = sorted((a for a in assessments.for_client(self.db, client_id)
                          if a.referral_id == referral.id and a.is_result),
                         key=lambda a: (a.assessed_date, a.id))
        return PlanPrintData(
            client=client, letterhead=self._letterhead(referral.service_id), referral=referral,
            trainer=self._trainer(referral), plan=plan, next_sessions=upcoming,
            measures=_measure_pairs(results), series=_chart_series(results),
            next_review=_next_review(plan, upcoming, today), printed_on=today.isoformat(),
            printed_by=self._printed_by(), is_demo=self._store.is_demo)

    @read(_letter, client=("referral_id", referral_client))
    def letter_data(self, kind: str, referral_id: int, *, today: date | None = None,
                    session_id: int | None = None) -> LetterData:
        """What a letter of LETTER_KINDS prints for one referral (consent checked here). An appointment
        letter gives the session chosen (session_id, from the diary) or else the next one booked."""
        today = today or date.today()
        referral = referrals.get(self.db, referral_id)
        refused, client, held = self._refusal(kind, referral, today)
        if refused is not None:
            raise ValidationError(FieldError(refused.field, refused.message))
        letterhead = self._letterhead(referral.service_id)
        self._contactable(letterhead)
        extra: dict = {}
        if kind == "appointment":
            booked = documents.future_booked(held, today)
            if session_id is not None:
                booked = [s for s in booked if s.id == session_id]
                if not booked:
                    raise ValidationError(FieldError(
                        "session", f"That session is not a booking of {referral.referral_ref} still to come "
                                   f"after {today.isoformat()}: an appointment letter is only for a future session."))
            extra = {"session": booked[0], "venue": documents.venue(self.db, booked[0].venue_id)}
        elif kind == "gp-outcome":
            held = sorted(held, key=lambda s: (s.session_date, s.start_time or ""))
            found = [p for p in plans.for_client(self.db, client.id) if p.referral_id == referral.id]
            extra = {
                "plan": found[0] if found else None,
                "outcomes": tuple(assessments.pairs_for_referral(self.db, referral.id).values()),
                "attended": tuple(s for s in held if rules.attended(s.attendance)),
                "missed": sum(1 for s in held if s.attendance == rules.DNA),
                "signposting": tuple(s for s in signposting.for_client(self.db, client.id)
                                     if s.referral_id == referral.id),
            }
        signer, role = self._signer(letterhead.service)
        return LetterData(kind=kind, client=client, letterhead=letterhead,
                          referral=referral, trainer=self._trainer(referral), printed_on=today.isoformat(),
                          signed_by=signer, signed_role=role, is_demo=self._store.is_demo, **extra)

    @read("view_client", client=("referral_id", referral_client))
    def letter_refusal(self, kind: str, referral_id: int, *, today: date | None = None) -> str | None:
        """Why this letter may not print for this referral now (who may print it, then the letter rules of
        db.documents.letter_refusal), in one sentence; None when it may. Screens ask before offering it."""
        if kind not in LETTER_KINDS:
            return f"There is no '{kind}' letter."
        referral = referrals.get(self.db, referral_id)
        refused = policy.refusal(self.db, self.actor, print_decision(letter_kind(kind)), referral.client_id)
        if refused:
            return refused
        found, _, _ = self._refusal(kind, referral, today or date.today())
        if found:
            return found.message
        return services.contact_refusal(documents.service_by_id(self.db, referral.service_id))

    # --- keeping ----------------------------------------------------------------------------

    @write(_keeping, client="client_id")
    def keep(self, client_id: int, referral_id: int | None, kind: str, file_name: str, content: bytes,
             template_version: str) -> KeptDocument:
        """Keep a printed document with the record, byte for byte, and audit the print."""
        if kind == letter_kind("gp-outcome"):
            self._check_consent_for_gp(client_id)
        client = clients.get(self.db, client_id)
        referral_ref = None
        if referral_id is not None:
            referral = referrals.get(self.db, referral_id)
            if referral.client_id != client_id:
                raise ValidationError(FieldError("referral_id", f"{referral.referral_ref} is not a referral of "
                                                                f"{client.client_ref}."))
            referral_ref = referral.referral_ref
        if not isinstance(content, (bytes, bytearray)) or not content:
            raise ValidationError(FieldError("content", "The document is empty: nothing was kept."))
        content = bytes(content)
        doc_id = documents.insert(self.db, client_id, referral_id, kind, file_name, content, template_version,
                                  self.by())
        kept = documents.get(self.db, doc_id)
        return Done(_without_content(kept), changed(
            "document", doc_id, "create", audit_action="print",
            after={"kind": kind, "client_ref": client.client_ref, "referral_ref": referral_ref,
                   "file_name": file_name, "template_version": template_version,
                   "sha256": kept.sha256, "bytes": kept.size},
            detail=f"{documents.KIND_LABELS[kind]} for {client.client_ref}"))

    @read("view_client", client="client_id", audit_view=client_view("documents kept"))
    def for_client(self, client_id: int) -> list[KeptDocument]:
        """The documents kept with a client's record, newest first (without their bytes)."""
        return documents.for_client(self.db, client_id)

    @read("view_client", client=("document_id", document_client), audit_view=_viewed_document)
    def get(self, document_id: int) -> KeptDocument:
        """A kept document with its bytes exactly as printed; audited as a view."""
        doc = documents.get(self.db, document_id)
        if documents.sha256(doc.content) != doc.sha256:
            # Never hand over something that is not what was printed.
            raise ValidationError(FieldError("content", f"Kept document {document_id} no longer matches its "
                                                        "fingerprint (sha256): restore the database from a backup."))
        return doc



def _without_content(doc: KeptDocument) -> KeptDocument:
    return replace(doc, content=None)


def _measure_pairs(results) -> tuple[MeasurePair, ...]:
    """First result (a BASELINE one when there is one) and the latest, per instrument, in the spec's order."""
    by_code: dict[str, list] = {}
    for a in results:
        by_code.setdefault(a.instrument, []).append(a)
    out = []
    for code in [c for c in INSTRUMENTS if c in by_code] + sorted(set(by_code) - set(INSTRUMENTS)):
        found = by_code[code]
        first = next((a for a in found if a.timepoint == "BASELINE"), found[0])
        latest = found[-1] if found[-1].id != first.id else None
        out.append(MeasurePair(code, first, latest))
    return tuple(out)


def _chart_series(results) -> dict[str, tuple[tuple[str, float], ...]]:
    keys = {"weight": ("BODY", "weight_kg"), "wellbeing": ("SWEMWBS", "swemwbs_metric")}
    return {name: tuple((a.assessed_date, float(a.scores[key])) for a in results
                        if a.instrument == code and a.scores.get(key) is not None)
            for name, (code, key) in keys.items()}


def _next_review(plan, upcoming, today: date) -> str | None:
    """The earliest review date still ahead: a goal's review date, else a booked review session."""
    ahead = sorted(g.review_date for g in plan.goals
                   if g.review_date and g.review_date >= today.isoformat() and g.status not in plans.CLOSED_STATUSES)
    if ahead:
        return ahead[0]
    reviews = [s.session_date for s in upcoming if s.type == "REVIEW"]
    return reviews[0] if reviews else None
