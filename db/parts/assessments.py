"""store.assessments: scoring and recording instruments, series for charts, outcome pairs."""
from __future__ import annotations

from datetime import date

from .. import assessments, referrals, safeguarding
from ..api import Done, Part, changed, client_view, read, write
from ..records import Assessment, Changes
from .owners import referral_client


class AssessmentsPart(Part):

    @write("edit_client", client=("referral_id", referral_client))
    def add(self, referral_id: int, assessed_date, timepoint: str, instrument: str, answers: dict,
            today: date | None = None) -> tuple[Changes, Assessment]:
        """Score and record one assessment; the app computes every score."""
        referral = referrals.get(self.db, referral_id)
        assessment_id = assessments.record(self.db, referral, assessed_date, timepoint, instrument, answers,
                                           self.by(), today)
        saved = assessments.get(self.db, assessment_id)
        changes = changed("assessment", assessment_id, "create",
                          after={"instrument": instrument, "timepoint": timepoint, "scores": saved.scores,
                                 "flags": list(saved.flags)})
        return Done((changes, saved), changes)

    @read("view_client", client="client_id", audit_view=client_view("assessment results"))
    def series(self, client_id: int, instrument: str) -> list[Assessment]:
        """A client's results of one instrument over time, oldest first (for charts)."""
        return assessments.series(self.db, client_id, instrument)

    @read("view_client", client=("referral_id", referral_client), audit_view=client_view("outcomes"))
    def outcome_pairs(self, referral_id: int):
        """The BASELINE/EXIT pairs of one referral (INSTRUMENTS.md "Pairing")."""
        return assessments.pairs_for_referral(self.db, referral_id)

    # --- the safeguarding prompt and the form's needs (issue 12) ---------------------------------------

    @write("edit_client", client=("referral_id", referral_client))
    def acknowledge_safeguarding(self, referral_id: int, instrument: str, answer, steps: str) -> int:
        """The person at the form saw the service's safeguarding steps for a PHQ-9 item 9 answer above 0
        (INSTRUMENTS.md): kept with the client and audited (entity "safeguarding"), before the form goes on."""
        referral = referrals.get(self.db, referral_id)
        prompt_id = safeguarding.insert(self.db, referral.client_id, referral_id, instrument, answer, steps,
                                        self.by())
        return Done(prompt_id, changed(
            "safeguarding", prompt_id, "create",
            after={"referral_id": referral_id, "instrument": instrument, "item": safeguarding.ITEM,
                   "answer": answer, "steps": steps},
            detail="Safeguarding prompt raised (PHQ-9 item 9) and acknowledged"))

    @read("view_client", client="client_id", audit_view=client_view("safeguarding prompts"))
    def safeguarding_prompts(self, client_id: int) -> list[dict]:
        """The safeguarding prompts raised for a client, newest first."""
        return safeguarding.for_client(self.db, client_id)

    @read("view_client", client="client_id")
    def carried_height(self, client_id: int, before_date: str) -> float | None:
        """The height a BODY form carries forward: the latest earlier BODY height (any referral)."""
        height = assessments.carried_height(self.db, client_id, before_date)
        return None if height is None else float(height)

    @read("view_client", client="client_id")
    def preview(self, client_id: int, instrument: str, answers: dict, assessed_date: str | None = None):
        """Score answers as the form is filled in, without keeping anything: the same scoring as add
        (the client's sex, ethnicity and carried height), so the live score is the one that will be
        saved. Raises ValidationError naming each out-of-range item."""
        from .. import instruments
        day = assessed_date or date.today().isoformat()
        return instruments.score(instrument, answers, assessments.context_for(self.db, client_id, day))
