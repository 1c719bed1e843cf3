"""store.assessments: scoring and recording instruments, series for charts, outcome pairs."""
from __future__ import annotations

from datetime import date

from .. import assessments, referrals
from ..api import Done, Part, changed, read, write
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

    @read("view_client", client="client_id")
    def series(self, client_id: int, instrument: str) -> list[Assessment]:
        """A client's results of one instrument over time, oldest first (for charts)."""
        return assessments.series(self.db, client_id, instrument)

    @read("view_client", client=("referral_id", referral_client))
    def outcome_pairs(self, referral_id: int):
        """The BASELINE/EXIT pairs of one referral (INSTRUMENTS.md "Pairing")."""
        return assessments.pairs_for_referral(self.db, referral_id)
