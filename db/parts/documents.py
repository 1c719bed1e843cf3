"""CaseStore's part for documents: plan PDFs and letters kept as printed.

A mixin so this subject's methods sit in their own file; CaseStore (db/store.py)
is still the one door: these methods use self.db, self.actor and the same
permission checks and audit events as the rest.

Printing is three steps, so that what is kept is exactly what was printed:
gather (`plan_print_data` / `letter_data`, which check permission), build the
bytes (reports/), then `keep_document`, which stores them and audits the
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

from . import assessments, audit, clients, documents, plans, referrals, services, sessions, signposting
from .documents import (LETTER_KINDS, PLAN, KeptDocument, Letterhead, LetterData, MeasurePair, PlanPrintData,
                        letter_kind)
from .errors import FieldError, NotFound, PermissionDenied, ValidationError
from .instruments import INSTRUMENTS
from .permissions import require
from .records import Referral, Staff

_DNA = "3"


class DocumentsDoor:

    # --- permission -------------------------------------------------------------------

    def _require_print(self, kind: str, client_id: int) -> None:
        """Refuse unless the acting user may print this kind of document for this client."""
        if kind == PLAN:
            require(self.actor, "print_plan")
            self._require_view(client_id)
            return
        if kind == letter_kind("gp-outcome") and not self.can("allocate"):
            require(self.actor, "print_plan")    # names the roles when nobody or an administrator asks
            if not (self.actor.has("TRAINER") and clients.allocated_to(self.db, client_id, self.actor.staff_id)):
                raise PermissionDenied(
                    f"{self.actor.username} may not print the outcome letter to the GP: only the client's own "
                    "health trainer, a coordinator or a manager can. Ask a coordinator.")
            return
        if kind not in documents.KIND_LABELS:
            raise ValidationError(FieldError("kind", f"Document kind '{kind}' is not one this app prints "
                                                     f"({', '.join(documents.KIND_LABELS)})."))
        require(self.actor, "allocate")

    def _check_consent_for_gp(self, client_id: int) -> None:
        client = clients.get(self.db, client_id)
        if client.consent_share_gp != "Y":
            raise ValidationError(FieldError(
                "consent_share_gp",
                f"{client.client_ref} has not agreed to share information with their GP (consent to share with "
                "GP is not 'Yes'), so the outcome letter cannot be printed. Record the client's consent first "
                "if they give it."))

    # --- gathering ------------------------------------------------------------------------

    def _letterhead(self, service_id: int) -> Letterhead:
        return Letterhead(documents.service_by_id(self.db, service_id), documents.service_logo(self.db, service_id))

    def _trainer(self, referral: Referral) -> Staff | None:
        return services.get_staff(self.db, referral.allocated_staff_id) if referral.allocated_staff_id else None

    def _printed_by(self) -> str:
        return self.actor.full_name or self.actor.username

    def plan_print_data(self, client_id: int, *, today: date | None = None) -> PlanPrintData:
        """Everything the client's current plan prints, in one read (permission checked here;
        the print itself is audited by keep_document)."""
        self._require_print(PLAN, client_id)
        today = today or date.today()
        client = clients.get(self.db, client_id)
        plan = self.current_plan(client_id)
        if plan is None:
            raise NotFound(f"{client.client_ref} has no personal health plan yet: agree one at a session, "
                           "then print it.")
        referral = referrals.get(self.db, plan.referral_id)
        upcoming = tuple(self.next_booked_sessions(client_id, today))
        results = sorted((a for a in assessments.for_client(self.db, client_id)
                          if a.referral_id == referral.id and a.is_result),
                         key=lambda a: (a.assessed_date, a.id))
        return PlanPrintData(
            client=client, letterhead=self._letterhead(referral.service_id), referral=referral,
            trainer=self._trainer(referral), plan=plan, next_sessions=upcoming,
            measures=_measure_pairs(results), series=_chart_series(results),
            next_review=_next_review(plan, upcoming, today), printed_on=today.isoformat(),
            printed_by=self._printed_by(), is_demo=self.is_demo)

    def letter_data(self, kind: str, referral_id: int, *, today: date | None = None) -> LetterData:
        """What a letter of LETTER_KINDS prints for one referral (permission and consent checked here)."""
        if kind not in LETTER_KINDS:
            raise ValidationError(FieldError("kind", f"There is no '{kind}' letter. "
                                                     f"Letters: {', '.join(LETTER_KINDS)}."))
        today = today or date.today()
        referral = referrals.get(self.db, referral_id)
        self._require_print(letter_kind(kind), referral.client_id)
        client = clients.get(self.db, referral.client_id)
        extra: dict = {}
        if kind == "appointment":
            booked = [s for s in self.next_booked_sessions(client.id, today) if s.referral_id == referral.id]
            if not booked:
                raise ValidationError(FieldError(
                    "session", f"{referral.referral_ref} has no session booked from {today.isoformat()} on: "
                               "book the session first, then print the letter."))
            extra = {"session": booked[0], "venue": documents.venue(self.db, booked[0].venue_id)}
        elif kind == "gp-outcome":
            self._check_consent_for_gp(client.id)
            held = sorted((s for s in sessions.for_client(self.db, client.id) if s.referral_id == referral.id),
                          key=lambda s: (s.session_date, s.start_time or ""))
            found = [p for p in plans.for_client(self.db, client.id) if p.referral_id == referral.id]
            extra = {
                "plan": found[0] if found else None,
                "outcomes": tuple(assessments.pairs_for_referral(self.db, referral.id).values()),
                "attended": tuple(s for s in held if s.attendance in sessions.ATTENDED),
                "missed": sum(1 for s in held if s.attendance == _DNA),
                "signposting": tuple(s for s in signposting.for_client(self.db, client.id)
                                     if s.referral_id == referral.id),
            }
        return LetterData(kind=kind, client=client, letterhead=self._letterhead(referral.service_id),
                          referral=referral, trainer=self._trainer(referral), printed_on=today.isoformat(),
                          signed_by=self._printed_by(), is_demo=self.is_demo, **extra)

    # --- keeping ----------------------------------------------------------------------------

    def keep_document(self, client_id: int, referral_id: int | None, kind: str, file_name: str, content: bytes,
                      template_version: str) -> KeptDocument:
        """Keep a printed document with the record, byte for byte, and audit the print."""
        self._require_print(kind, client_id)
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
        with self.db.atomic():
            doc_id = documents.insert(self.db, client_id, referral_id, kind, file_name, content, template_version,
                                      self._by())
            kept = documents.get(self.db, doc_id)
            audit.record(self.db, self.actor, "print", "document", doc_id,
                         after={"kind": kind, "client_ref": client.client_ref, "referral_ref": referral_ref,
                                "file_name": file_name, "template_version": template_version,
                                "sha256": kept.sha256, "bytes": kept.size},
                         detail=f"{documents.KIND_LABELS[kind]} for {client.client_ref}")
        return _without_content(kept)

    def documents(self, client_id: int) -> list[KeptDocument]:
        """The documents kept with a client's record, newest first (without their bytes)."""
        self._require_view(client_id)
        return documents.for_client(self.db, client_id)

    def get_document(self, document_id: int) -> KeptDocument:
        """A kept document with its bytes exactly as printed; audited as a view."""
        doc = documents.get(self.db, document_id)
        if doc.client_id is not None:
            self._require_view(doc.client_id)
        elif not self.can("returns"):
            require(self.actor, "audit_view")
        if documents.sha256(doc.content) != doc.sha256:
            # Never hand over something that is not what was printed.
            raise ValidationError(FieldError("content", f"Kept document {document_id} no longer matches its "
                                                        "fingerprint (sha256): restore the database from a backup."))
        with self.db.atomic():
            audit.record(self.db, self.actor, "view", "document", document_id,
                         detail=f"{doc.label} kept {doc.created_at}")
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
