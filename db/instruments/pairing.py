"""Pairing for outcomes (INSTRUMENTS.md "Pairing for outcomes"), pure.

The store turns assessments into AssessmentPoint rows; everything here is
deterministic given the same points, whatever order they come in, so a return
built twice from the same data is identical.
"""
from __future__ import annotations

from datetime import date as Date
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from .definitions import INSTRUMENTS
from .model import Number
from .outcomes import DEFAULT_MEANINGFUL_POINTS, change, improved, meaningful

BASELINE, REVIEW, EXIT = "BASELINE", "REVIEW", "EXIT"
FOLLOWUP_TIMEPOINTS = ("FU3", "FU6", "FU12")
TIMEPOINTS = (BASELINE, REVIEW, EXIT) + FOLLOWUP_TIMEPOINTS


_NO_SCORES: Mapping[str, Any] = MappingProxyType({})


# Named tuples, not dataclasses: as immutable and comparable, and made four times as fast (a return or
# the dashboard makes a hundred thousand points at scale).
class AssessmentPoint(NamedTuple):
    id: Any                     # the assessment's id (last-resort tie-break only)
    referral_id: Any
    instrument: str
    date: Date | str            # date, or ISO text; the same kind for all points
    timepoint: str              # BASELINE, REVIEW, EXIT, FU3, FU6, FU12
    order: int                  # order recorded: breaks same-date ties
    is_result: bool             # scoring.is_result(...): only results are ever paired
    scores: Mapping[str, Any] = _NO_SCORES


class Pair(NamedTuple):
    instrument: str
    baseline: AssessmentPoint
    exit: AssessmentPoint       # the EXIT result, a REVIEW standing in, or a follow-up
    stood_in: bool = False      # True: a REVIEW result stands in for a missing EXIT

    @property
    def timepoint(self) -> str:
        return self.exit.timepoint

    def values(self, score_key: str) -> tuple[Any, Any] | None:
        b, e = self.baseline.scores.get(score_key), self.exit.scores.get(score_key)
        return None if b is None or e is None else (b, e)

    def compare(self, score_key: str) -> tuple[Any, Any, int | float | None] | None:
        """(baseline value, exit value, exit − baseline), only when the score exists
        on both sides (a pair may have weight but no waist). The change is None for
        a coded score such as smoking_status."""
        both = self.values(score_key)
        if both is None:
            return None
        b, e = both
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in both)
        return b, e, change(b, e) if numeric else None

    def improved(self, score_key: str) -> bool | None:
        both = self.values(score_key)
        return improved(score_key, *both) if both else None

    def meaningful(self, score_key: str, threshold: Number = DEFAULT_MEANINGFUL_POINTS) -> bool | None:
        both = self.values(score_key)
        return meaningful(score_key, *both, threshold=threshold) if both else None


def _when(p: AssessmentPoint) -> tuple:
    # By date, then order recorded; the id only makes a (bad-data) full tie deterministic.
    return (p.date, p.order, str(p.id))


def _one_referral(points: Iterable[AssessmentPoint]) -> list[AssessmentPoint]:
    points = list(points)
    if len({p.referral_id for p in points}) > 1:
        raise ValueError("pairing is per referral: points from several referrals were given")
    return points


def _results(points: list[AssessmentPoint], instrument: str, timepoint: str) -> list[AssessmentPoint]:
    return [p for p in points if p.instrument == instrument and p.timepoint == timepoint and p.is_result]


def _pair(points: list[AssessmentPoint], instrument: str, later: tuple[str, ...]) -> Pair | None:
    """Earliest BASELINE result with the latest result of the first timepoint in
    `later` that has one (EXIT, then REVIEW standing in; or one follow-up)."""
    baselines = _results(points, instrument, BASELINE)
    if not baselines:
        return None
    for n, timepoint in enumerate(later):
        candidates = _results(points, instrument, timepoint)
        if candidates:
            return Pair(instrument, min(baselines, key=_when), max(candidates, key=_when), stood_in=n > 0)
    return None


_SPEC_ORDER = {code: n for n, code in enumerate(INSTRUMENTS)}


def _spec_place(code: str) -> tuple:
    return (0, _SPEC_ORDER[code], "") if code in _SPEC_ORDER else (1, 0, code)


def _in_spec_order(present) -> list[str]:
    """The spec's instruments in its order, then any other code alphabetically."""
    return sorted(present, key=_spec_place)


def _codes(points: list[AssessmentPoint]) -> list[str]:
    return _in_spec_order({p.instrument for p in points})


def pair_for(points: Iterable[AssessmentPoint], instrument: str) -> Pair | None:
    """The outcome pair of one referral for one instrument, or None (no BASELINE
    result, or neither an EXIT nor a REVIEW result)."""
    return _pair(_one_referral(points), instrument, (EXIT, REVIEW))


def pairs_by_instrument(points: Iterable[AssessmentPoint]) -> dict[str, Pair]:
    """Every pair of one referral, keyed by instrument code in the spec's order."""
    return _pairs_of(_one_referral(points))


def _pairs_of(points: list[AssessmentPoint]) -> dict[str, Pair]:
    """_pair(points, code, (EXIT, REVIEW)) for each instrument of one referral's points, the
    results sorted out once (a return pairs tens of thousands of referrals)."""
    results: dict[tuple[str, str], list[AssessmentPoint]] = {}
    for p in points:
        if p.is_result:
            results.setdefault((p.instrument, p.timepoint), []).append(p)
    out = {}
    for code in _in_spec_order({p.instrument for p in points}):
        baselines = results.get((code, BASELINE))
        if not baselines:
            continue
        for n, timepoint in enumerate((EXIT, REVIEW)):
            candidates = results.get((code, timepoint))
            if candidates:
                out[code] = Pair(code, min(baselines, key=_when), max(candidates, key=_when), stood_in=n > 0)
                break
    return out


def followup_pairs(points: Iterable[AssessmentPoint], timepoint: str) -> dict[str, Pair]:
    """BASELINE result paired with the latest FU3, FU6 or FU12 result (no stand-in)."""
    if timepoint not in FOLLOWUP_TIMEPOINTS:
        raise ValueError(f"follow-up timepoint must be one of {', '.join(FOLLOWUP_TIMEPOINTS)}")
    points = _one_referral(points)
    pairs = {code: _pair(points, code, (timepoint,)) for code in _codes(points)}
    return {code: pair for code, pair in pairs.items() if pair}


def pairs_by_referral(points: Iterable[AssessmentPoint]) -> dict[Any, dict[str, Pair]]:
    """pairs_by_instrument for each referral among many points (for the return)."""
    grouped: dict[Any, list[AssessmentPoint]] = {}
    for p in points:
        grouped.setdefault(p.referral_id, []).append(p)
    return {ref: _pairs_of(pts) for ref, pts in grouped.items()}     # grouped by referral already


# The first fields of a row read for pairing: the assessment's id (also its order recorded), its
# referral, instrument, date, timepoint and whether it is a result; the rest is the reader's own.
_ID, _REFERRAL, _INSTRUMENT, _DATE, _TIMEPOINT, _IS_RESULT = range(6)


def pairs_by_referral_rows(rows: Iterable[tuple], point: Callable[[tuple], AssessmentPoint]
                           ) -> dict[Any, dict[str, Pair]]:
    """pairs_by_referral of the points these rows are (point(row) makes one; the order recorded is
    the id, as the store's points have it), for the referrals with a pair: the same pairs by the same
    rule, each referral's earliest BASELINE result of an instrument with its latest EXIT result, or
    its latest REVIEW result standing in. Only the points paired are made (a return or the dashboard
    pairs a hundred thousand points at scale)."""
    first: dict[tuple, tuple] = {}       # (referral, instrument) -> its earliest BASELINE result
    last: dict[tuple, tuple] = {}        # (referral, instrument, EXIT or REVIEW) -> its latest result
    for row in rows:
        if not row[_IS_RESULT]:
            continue
        timepoint = row[_TIMEPOINT]
        if timepoint == BASELINE:
            key = (row[_REFERRAL], row[_INSTRUMENT])
            held = first.setdefault(key, row)
            if held is not row and (row[_DATE], row[_ID]) < (held[_DATE], held[_ID]):
                first[key] = row
        elif timepoint == EXIT or timepoint == REVIEW:
            key = (row[_REFERRAL], row[_INSTRUMENT], timepoint)
            held = last.setdefault(key, row)
            if held is not row and (row[_DATE], row[_ID]) > (held[_DATE], held[_ID]):
                last[key] = row
    found: dict[Any, list] = {}          # referral -> [(instrument, baseline row, later row, stood in)]
    for (referral, code), baseline in first.items():
        later = last.get((referral, code, EXIT))
        if later is not None:
            found.setdefault(referral, []).append((code, baseline, later, False))
            continue
        later = last.get((referral, code, REVIEW))
        if later is not None:
            found.setdefault(referral, []).append((code, baseline, later, True))
    out: dict[Any, dict[str, Pair]] = {}
    for referral, pairs in found.items():
        if len(pairs) > 1:
            pairs.sort(key=lambda p: _spec_place(p[0]))
        out[referral] = {code: Pair(code, point(b), point(e), stood_in=stood_in) for code, b, e, stood_in in pairs}
    return out
