"""The quarterly return (RETURN.md): every figure of the Data sheet, computed from the database.

One engine serves three callers, so they cannot disagree:
  compute_figures  the figures of a service and period (the workbook, the dialog, the runs)
  explain          the referral references behind one figure (a commissioner's query)
  apply_disclosure the publication policy, applied to computed figures

How it is built
- Each measure is a *spec* over a *source*: a set of rows fetched once, set-wise.
  SQL sources (sessions, referrals received, plans, goals, signposting) come back
  GROUP BY'd when counting, and row by row with the referral reference when
  explaining; both go through the same keep/dimension functions, so an
  explanation always lists exactly as many references as the count.
- Starts need the client's age on the start date and other per-person values, so
  that source is fetched row by row (a few thousand rows a quarter at scale).
- Outcome pairing is INSTRUMENTS.md's, from db.instruments (never re-implemented
  here); only referrals closed in the period have their assessments fetched.
- Values are exact (Fraction/Decimal) until the one rounding, half away from zero.
"""
from __future__ import annotations

import gc
import json
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterable, NamedTuple

from sqlite_utils import Database

from . import codes, instruments
from .assessments import point_maker, point_rows
from .errors import FieldError, NotFound, ValidationError
from .instruments import (INSTRUMENTS, MEANINGFUL_SCORE_KEYS, OUTCOME_SCORE_KEYS, auditc_positive_to_negative,
                          pairs_by_referral_rows, smoking_quit)
from .periods import Period
from .return_labels import UNKNOWN
from .validation import age_on, nhs_number_valid

NHS_VALID_KEPT = "valid-before-erasure"   # db/rights.py: an erased person's NHS number was valid

SPEC_VERSION = "1"
POLICY_NONE, POLICY_NHSE = "none", "nhs-england"
POLICIES = (POLICY_NONE, POLICY_NHSE)
COUNT, PERCENT, MEAN, MEDIAN = "count", "percent", "mean", "median"
SUPPRESSED = "*"
DATA_COLUMNS = ("measure", "breakdown", "value", "numerator", "denominator")

from .rules import ATTENDED, DNA, attended_sql
DNA_RATE_BASE = ("5", "6", "7", "3")
GOAL_CLOSED = ("FULL", "PARTLY", "NOT")
GOAL_ACHIEVED = ("FULL", "PARTLY")
AGE_BANDS = ("under16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75plus")
QUINTILES = ("1", "2", "3", "4", "5")
POSTCODE_MATCHED = ("found", "terminated")


# --- what each measure is ----------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    id: str
    kind: str                  # count, percent, mean, median
    unit: str                  # what a value is counted in, for column headings
    definition: str            # plain English, for the Definitions sheet
    breakdowns: str            # the breakdowns, as RETURN.md lists them


def _m(id_, kind, unit, breakdowns, definition):
    return Measure(id_, kind, unit, definition, breakdowns)


_MEASURE_LIST = (
    _m("REFERRALS_RECEIVED", COUNT, "referrals", "all; source; source_group",
       "Referrals the service received in the period, by where they came from."),
    _m("STARTS", COUNT, "referrals", "all",
       "People starting support: referrals whose first attended session (attendance 5 or 6) was in the period."),
    _m("ACTIVE_REFERRALS", COUNT, "referrals", "all",
       "Referrals with at least one attended session in the period."),
    _m("SESSIONS_ATTENDED", COUNT, "sessions", "all; mode",
       "Sessions in the period that the client attended (attended, or arrived late and was seen), by mode."),
    _m("SESSIONS_DNA", COUNT, "sessions", "all",
       "Sessions in the period the client did not attend without warning (attendance 3)."),
    _m("DNA_RATE", PERCENT, "%", "all",
       "Did-not-attend sessions as a percentage of sessions in the period that were attended, "
       "arrived late, or not attended (attendance 5, 6, 7 and 3)."),
    _m("WAIT_DAYS_MEDIAN", MEDIAN, "days", "all",
       "Median number of calendar days from the referral being received to the first attended session, "
       "over the people starting support (same day is 0). Denominator: number of starts."),
    _m("WAIT_WITHIN_28_DAYS", PERCENT, "%", "all",
       "Percentage of people starting support who waited 28 days or fewer."),
    _m("CLOSED", COUNT, "referrals", "all; closure_reason",
       "Referrals closed in the period, by closure reason."),
    _m("STARTS_BY", COUNT, "referrals", "gender; age_band; ethnic_group; imd_quintile; gp_registered; employment; disability",
       "People starting support by their current details: gender, age on the start date, ethnic group, "
       "deprivation quintile of their postcode (1 = most deprived), GP registration, employment, disability. "
       "Each breakdown adds up to STARTS."),
    _m("STARTS_IMD_Q1_Q2", PERCENT, "%", "all",
       "Percentage of people starting support, among those whose deprivation quintile is known, "
       "who live in the most deprived two fifths of England (quintiles 1 and 2)."),
    _m("STARTS_COMMUNITY_SOURCE", PERCENT, "%", "all",
       "Percentage of people starting support who were referred by community sources or themselves "
       "rather than the NHS."),
    _m("PLANS_AGREED", COUNT, "plans", "all",
       "Personal health plans agreed in the period."),
    _m("GOALS_SET", COUNT, "goals", "all; area",
       "Goals on the plans agreed in the period, by area."),
    _m("GOALS_CLOSED", COUNT, "goals", "all; area; status",
       "Goals marked fully, partly or not achieved with a status date in the period."),
    _m("GOALS_ACHIEVED", PERCENT, "%", "all; area",
       "Percentage of the goals closed in the period that were fully or partly achieved."),
    _m("OUTCOME_PAIRS", COUNT, "referrals", "instrument",
       "Referrals closed in the period with a before-and-after pair for the instrument: the first baseline "
       "result and the last exit result (or the last review result when there is no exit)."),
    _m("OUTCOME_STOOD_IN", COUNT, "referrals", "instrument",
       "Of those pairs, how many used a review result because there was no exit result."),
    _m("OUTCOME_MEAN_BASELINE", MEAN, "score", "score",
       "Mean baseline value of the score, over the pairs where the score exists both before and after."),
    _m("OUTCOME_MEAN_EXIT", MEAN, "score", "score",
       "Mean exit (or stood-in review) value of the score, over the same pairs."),
    _m("OUTCOME_MEAN_CHANGE", MEAN, "score", "score",
       "Mean of each pair's change (exit minus baseline), over the same pairs. A fall is negative."),
    _m("OUTCOME_IMPROVED", PERCENT, "%", "score",
       "Percentage of pairs whose score moved in the better direction (down for weight, BMI, waist, "
       "anxiety and AUDIT-C; up for the others)."),
    _m("OUTCOME_MEANINGFUL", PERCENT, "%", "score",
       "Percentage of pairs with a meaningful improvement: wellbeing (SWEMWBS metric or WEMWBS) up by 3 or more, "
       "or weight down by 5% of the baseline weight or more."),
    _m("SMOKERS_QUIT", PERCENT, "%", "all",
       "Of the smoking pairs with a current smoker at baseline, the percentage who were ex-smokers at exit "
       "(self-reported)."),
    _m("AUDITC_POSITIVE_TO_NEGATIVE", PERCENT, "%", "all",
       "Of the AUDIT-C pairs scoring 5 or more at baseline (increasing or higher risk), the percentage "
       "scoring under 5 at exit."),
    _m("SIGNPOSTED", COUNT, "records", "all; category; type",
       "Signposting and onward referrals dated in the period, by kind of service and by whether the client "
       "was given details or referred."),
    _m("DQ_NHS_NUMBER", PERCENT, "%", "all",
       "Data quality: percentage of people starting support whose record has a valid NHS number."),
    _m("DQ_POSTCODE_MATCHED", PERCENT, "%", "all",
       "Data quality: percentage of people starting support whose postcode was found in the postcode "
       "lookup (current or terminated), so their deprivation is known."),
    _m("DQ_ETHNICITY_RECORDED", PERCENT, "%", "all",
       "Data quality: percentage of people starting support whose ethnicity was asked (anything but "
       "'not known'; choosing not to say counts as asked)."),
    _m("DQ_PAIRED_WELLBEING", PERCENT, "%", "all",
       "Data quality: percentage of referrals closed in the period with a SWEMWBS before-and-after pair."),
)
MEASURES: dict[str, Measure] = {m.id: m for m in _MEASURE_LIST}


# --- figures ---------------------------------------------------------------------------

Value = int | Decimal | str | None


@dataclass(frozen=True)
class Figure:
    """One row of the Data sheet. value is an int (counts), a Decimal (rounded once),
    None (empty: a zero denominator) or '*' (suppressed under a disclosure policy)."""
    measure: str
    breakdown: str
    value: Value
    numerator: int | str | None = None
    denominator: int | str | None = None

    @property
    def kind(self) -> str:
        return MEASURES[self.measure].kind

    @property
    def key(self) -> tuple[str, str]:
        return self.measure, self.breakdown

    def row(self) -> tuple:
        """The five Data sheet columns."""
        return self.measure, self.breakdown, self.value, self.numerator, self.denominator


@dataclass(frozen=True)
class ReturnMeta:
    service_code: str
    service_name: str
    period: Period
    generated_at: datetime
    generated_by: str
    disclosure: str = POLICY_NONE
    spec_version: str = SPEC_VERSION
    instruments: tuple[str, ...] = ()
    # Figures changed since the submitted return of the period (its own sheet in the workbook).
    late_changes: tuple["LateChange", ...] = ()
    submitted_at: str | None = None         # when the return they are compared with was submitted


@dataclass(frozen=True)
class ReturnFigures:
    meta: ReturnMeta
    figures: tuple[Figure, ...]

    def get(self, measure: str, breakdown: str = "all") -> Figure | None:
        for f in self.figures:
            if f.measure == measure and f.breakdown == breakdown:
                return f
        return None

    def value(self, measure: str, breakdown: str = "all") -> Value:
        f = self.get(measure, breakdown)
        if f is None:
            raise KeyError((measure, breakdown))
        return f.value

    def rows(self) -> list[tuple]:
        return [f.row() for f in self.figures]


@dataclass(frozen=True)
class LateChange:
    """A figure that differs from the latest submitted run of the same period."""
    measure: str
    breakdown: str
    old: Value
    new: Value


@dataclass(frozen=True)
class ReturnRun:
    """What building a return did: where it wrote, the run recorded, the late changes."""
    run_id: int
    path: str
    sha256: str
    figures: ReturnFigures
    late_changes: tuple[LateChange, ...] = ()
    compared_with: dict | None = None     # the submitted run the late changes are against

    def summary(self) -> str:
        f = self.figures
        m = f.meta

        def show(measure):
            v = f.get(measure)
            return "-" if v is None or v.value is None else str(v.value)
        return (f"{m.service_code} {m.period.label}: {show('REFERRALS_RECEIVED')} referrals received, "
                f"{show('STARTS')} starts, {show('SESSIONS_ATTENDED')} sessions attended, "
                f"{show('CLOSED')} closed ({len(f.figures)} figures, disclosure {m.disclosure})")


# --- exact rounding --------------------------------------------------------------------

def round_half_away(x: Fraction | Decimal | int, places: int) -> Decimal:
    """Round once, half away from zero (17.285 -> 17.29), never giving -0."""
    x = Fraction(x)
    n = int(abs(x) * 10 ** places + Fraction(1, 2))     # floor(|x| + 1/2)
    signed = -n if x < 0 and n else n
    return Decimal(signed).scaleb(-places)


def _percent(numerator: int, denominator: int) -> Decimal | None:
    return None if not denominator else round_half_away(Fraction(100 * numerator, denominator), 1)


def _mean(values: list) -> Decimal | None:
    if not values:
        return None
    with localcontext() as ctx:
        ctx.prec = 200            # wide enough that every sum of these values is exact
        total = sum(_exact(v) for v in values)
    return round_half_away(Fraction(total) / len(values), 2)


def _median(values: list) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(_exact(v) for v in values)      # ints and Decimals compare exactly
    mid = len(ordered) // 2
    middle = Fraction(ordered[mid]) if len(ordered) % 2 else (Fraction(ordered[mid - 1]) + Fraction(ordered[mid])) / 2
    return round_half_away(middle, 1)


def _exact(v) -> Decimal | int:
    # Floats as written (72.3 is 72.3), the same reading db.instruments compares with.
    return instruments.dec(v) if isinstance(v, float) else v



# --- dimensions --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Dim:
    name: str
    key: Callable[[Any], str | None]
    codes: tuple[str, ...]
    unknown: bool = False        # a blank is allowed: the breakdown ends with an `unknown` row


def _age_band(age: int) -> str:
    if age < 16:
        return "under16"
    if age < 25:
        return "16-24"
    if age >= 75:
        return "75plus"
    low = 25 + (age - 25) // 10 * 10
    return f"{low}-{low + 9}"


def _group(group: str, code: str | None) -> str | None:
    return codes.group_of(group, code) if code is not None else None


_SOURCE_GROUP = {c: codes.group_of("source_group", c) for c in codes.codes("source")}
_ETHNIC_GROUP = {c: codes.group_of("ethnic_group", c) for c in codes.codes("ethnicity")}


# --- rows behind the figures ---------------------------------------------------------------
# Named tuples: immutable like frozen dataclasses, and made several times as fast (tens of thousands a count).

class _Active(NamedTuple):
    """A referral with an attended session in the period; a start when none came before."""
    ref: str
    is_start: bool
    start_date: str | None
    wait: int | None
    source_group: str | None
    gender: str | None
    age_band: str | None
    ethnicity: str | None
    ethnic_group: str | None
    imd_quintile: str | None
    gp_registered: str | None
    employment: str | None
    disability: str | None
    nhs_number: str | None        # checked only when a figure asks (most callers never do)
    postcode_matched: bool

    @property
    def nhs_valid(self) -> bool:
        return self.nhs_number == NHS_VALID_KEPT or (bool(self.nhs_number) and nhs_number_valid(self.nhs_number))


class _Closed(NamedTuple):
    ref: str
    closure_reason: str | None
    pairs: dict


class _PairRow(NamedTuple):
    ref: str
    instrument: str
    pair: instruments.Pair
    values: dict           # score key -> (baseline, exit) as recorded, where both exist


def _exact_part(both: tuple, pick: int):
    """The exact baseline (0), exit (1) or change, exit - baseline (2), of a score's (baseline, exit):
    the change worked out exactly, not through a float."""
    if pick == 2:
        return _exact(both[1]) - _exact(both[0])
    return _exact(both[pick])


_SQL_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (FROM ... WHERE ..., columns). Every source has `r` = the referral behind the row.
    "received": ("FROM referrals r WHERE r.service_id = :service AND r.received_date BETWEEN :start AND :end",
                 ("r.source",)),
    "sessions": ("FROM sessions s JOIN referrals r ON r.id = s.referral_id "
                 "WHERE s.session_date BETWEEN :start AND :end AND r.service_id = :service",
                 ("s.mode", "s.attendance")),
    "plans": ("FROM plans p JOIN referrals r ON r.id = p.referral_id "
              "WHERE p.agreed_date BETWEEN :start AND :end AND r.service_id = :service", ()),
    "goals_set": ("FROM plans p JOIN goals g ON g.plan_id = p.id JOIN referrals r ON r.id = p.referral_id "
                  "WHERE p.agreed_date BETWEEN :start AND :end AND r.service_id = :service", ("g.area",)),
    "goals_closed": ("FROM goals g JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id "
                     "WHERE g.status_date BETWEEN :start AND :end AND g.status IN ('FULL', 'PARTLY', 'NOT') "
                     "AND r.service_id = :service", ("g.area", "g.status")),
    "signposting": ("FROM signposting x JOIN referrals r ON r.id = x.referral_id "
                    "WHERE x.signpost_date BETWEEN :start AND :end AND r.service_id = :service",
                    ("x.category", "x.type")),
}

# The client's columns active_row reads. For a person erased on request (db/rights.py, joined as
# `er`) the figures read what was kept of the referral: a date giving the same age on the start date,
# and whether the NHS number was valid, so past returns keep their counts.
ERASED_COLUMNS = (
    "COALESCE(er.figures_dob, c.date_of_birth) AS date_of_birth, c.gender, c.ethnicity, c.imd_quintile, "
    "c.gp_registered, c.employment, c.disability, "
    f"CASE WHEN er.referral_id IS NULL THEN c.nhs_number WHEN er.nhs_valid = 1 THEN '{NHS_VALID_KEPT}' END "
    "AS nhs_number, c.postcode_status")

# Referrals with an attended session in the period, each with its first such date and
# whether an attended session came before the period (then it is not a start).
_ACTIVE_SQL = """
SELECT r.referral_ref, r.received_date, r.source, f.first_in_period,
       EXISTS (SELECT 1 FROM sessions p WHERE p.referral_id = f.referral_id AND p.session_date < :start
               AND {p_attended}) AS started_before,
       {erased_columns}
FROM (SELECT s.referral_id, MIN(s.session_date) AS first_in_period FROM sessions s
      WHERE s.session_date BETWEEN :start AND :end AND {s_attended}
      GROUP BY s.referral_id) f
JOIN referrals r ON r.id = f.referral_id
JOIN clients c ON c.id = r.client_id
LEFT JOIN erased_referrals er ON er.referral_id = r.id
WHERE r.service_id = :service
""".format(p_attended=attended_sql("p.attendance"), s_attended=attended_sql("s.attendance"),
           erased_columns=ERASED_COLUMNS)

_CLOSED_WHERE = "service_id = :service AND closed_date BETWEEN :start AND :end"


def active_row(ref, received, source, first, before, dob, gender, ethnicity, quintile, gp, employment, disability,
               nhs, postcode_status) -> _Active:
    """One row of _ACTIVE_SQL's columns as the figures read it (also db.reach's, eight quarters at once)."""
    is_start = not before
    start = date.fromisoformat(first) if is_start else None
    return _Active(
        ref=ref, is_start=is_start, start_date=first if is_start else None,
        wait=(start - date.fromisoformat(received)).days if is_start else None,
        source_group=_SOURCE_GROUP.get(source) or _group("source_group", source),
        gender=gender or None,
        age_band=_age_band(age_on(date.fromisoformat(dob), start)) if is_start and dob else None,
        ethnicity=ethnicity or None,
        ethnic_group=_ETHNIC_GROUP.get(ethnicity) or _group("ethnic_group", ethnicity),
        imd_quintile=str(quintile) if quintile is not None else None,
        gp_registered=gp or None, employment=employment or None, disability=disability or None,
        nhs_number=nhs or None,
        postcode_matched=postcode_status in POSTCODE_MATCHED)


class _Data:
    """The rows of each source for one service and period, fetched once, on first use.

    rows(name) -> [(row, weight, referral_ref or None)]. When counting, SQL sources
    come grouped (weight = COUNT(*), no reference); when explaining (with_refs),
    one row per counted thing with its referral reference."""

    def __init__(self, db: Database, service_id: int, period: Period, instruments_on: Iterable[str],
                 with_refs: bool = False):
        self.db, self.with_refs = db, with_refs
        self.instruments_on = tuple(instruments_on)
        self.params = {"service": service_id, "start": period.start.isoformat(), "end": period.end.isoformat()}
        self._cache: dict[str, list] = {}
        # The scores whose (baseline, exit, change) a pair row carries: None for all of them; a
        # caller counting only some measures (the dashboard) names the scores they read.
        self.score_keys: frozenset[str] | None = None

    def rows(self, name: str) -> list:
        if name not in self._cache:
            if name in _SQL_SOURCES:
                self._cache[name] = self._sql(name)
            elif name == "active":
                self._cache[name] = self._active()
            elif name == "closed":
                self._cache[name] = self._closed()
            elif name == "pairs":
                self._cache[name] = [r for code in self.instruments_on for r in self.rows(f"pairs/{code}")]
            elif name.startswith("pairs/"):
                self._cache[name] = self._pairs(name.split("/", 1)[1])
            else:
                raise KeyError(name)
        return self._cache[name]

    def _sql(self, name: str) -> list:
        where, cols = _SQL_SOURCES[name]
        conn = self.db.conn
        if self.with_refs:
            sql = f"SELECT r.referral_ref{''.join(', ' + c for c in cols)} {where} ORDER BY r.referral_ref"
            return [(tuple(r[1:]), 1, r[0]) for r in conn.execute(sql, self.params)]
        if not cols:
            return [((), conn.execute(f"SELECT COUNT(*) {where}", self.params).fetchone()[0], None)]
        listed = ", ".join(cols)
        sql = f"SELECT {listed}, COUNT(*) {where} GROUP BY {listed}"
        return [(tuple(r[:-1]), r[-1], None) for r in conn.execute(sql, self.params)]

    def _active(self) -> list:
        return [(active_row(*row), 1, row[0]) for row in self.db.conn.execute(_ACTIVE_SQL, self.params)]

    def _closed(self) -> list:
        return [row for row, _ in self.closed_on()]

    def closed_on(self) -> list[tuple]:
        """The "closed" rows, each with the date its referral closed: (row, closed date)."""
        closed = list(self.db.conn.execute(
            f"SELECT id, referral_ref, closure_reason, closed_date FROM referrals WHERE {_CLOSED_WHERE} "
            "ORDER BY referral_ref", self.params))
        pairs: dict = {}
        if closed and self.instruments_on:
            # Only the assessments of referrals closed in the period, of instruments switched on.
            marks = ", ".join("?" * len(self.instruments_on))
            # Follow-ups and non-results never make a BASELINE/EXIT pair: leave them in the table.
            where = (f"referral_id IN (SELECT id FROM referrals WHERE service_id = ? AND closed_date BETWEEN ? AND ?) "
                     f"AND instrument IN ({marks}) AND timepoint IN ('BASELINE', 'REVIEW', 'EXIT') AND is_result = 1")
            params = (self.params["service"], self.params["start"], self.params["end"], *self.instruments_on)
            # A score is read only from its own instrument's assessments: those are the pairs it is read from.
            owners = None if self.score_keys is None else {k: _INSTRUMENT_OF_SCORE[k] for k in self.score_keys}
            rows = point_rows(self.db, where=where, params=params, score_keys=self.score_keys, owners=owners)
            pairs = pairs_by_referral_rows(rows, point_maker(self.score_keys))
        return [((_Closed(ref, reason, pairs.get(rid, {})), 1, ref), day) for rid, ref, reason, day in closed]

    def _pairs(self, instrument: str) -> list:
        keys = [k for k in OUTCOME_SCORE_KEYS if _INSTRUMENT_OF_SCORE.get(k) == instrument
                and (self.score_keys is None or k in self.score_keys)]
        out = []
        for closed, _, ref in self.rows("closed"):
            pair = closed.pairs.get(instrument)
            if pair is None:
                continue
            values = {}
            for k in keys:
                both = pair.values(k)      # only when the score exists on both sides
                if both is not None:
                    values[k] = both
            out.append((_PairRow(ref, instrument, pair, values), 1, ref))
        return out


def _instrument_of_score() -> dict[str, str]:
    found = {}
    for inst in INSTRUMENTS.values():
        for s in inst.scores:
            found.setdefault(s.key, inst.code)
    return found


_INSTRUMENT_OF_SCORE = _instrument_of_score()


# --- specs: how each measure is counted ---------------------------------------------------------

Keep = Callable[[Any], bool] | None


@dataclass(frozen=True)
class _Count:
    measure: str
    source: str
    keep: Keep = None
    dims: tuple[_Dim, ...] = ()
    has_all: bool = True

    def _kept(self, data: _Data) -> list:
        rows = data.rows(self.source)
        return rows if self.keep is None else [r for r in rows if self.keep(r[0])]

    def figures(self, data: _Data) -> list[Figure]:
        kept = self._kept(data)
        out = [Figure(self.measure, "all", sum(w for _, w, _ in kept))] if self.has_all else []
        for dim in self.dims:
            counts: Counter = Counter()
            for row, w, _ in kept:
                counts[dim.key(row)] += w
            out.extend(Figure(self.measure, f"{dim.name}={code}", counts.get(key, 0))
                       for code, key in _listed(dim, counts))
        return out

    def members(self, data: _Data, breakdown: str) -> list[str]:
        kept = self._kept(data)
        match = _matcher(self.dims, breakdown, self.has_all, self.measure, kept)
        return [ref for row, _, ref in kept if match(row)]


@dataclass(frozen=True)
class _Percent:
    measure: str
    source: str
    denominator: Keep
    numerator: Callable[[Any], bool]
    dims: tuple[_Dim, ...] = ()

    def figures(self, data: _Data) -> list[Figure]:
        kept = [r for r in data.rows(self.source) if self.denominator is None or self.denominator(r[0])]
        out = [_pct_figure(self.measure, "all",
                           sum(w for row, w, _ in kept if self.numerator(row)), sum(w for _, w, _ in kept))]
        for dim in self.dims:
            den: Counter = Counter()
            num: Counter = Counter()
            for row, w, _ in kept:
                k = dim.key(row)
                den[k] += w
                if self.numerator(row):
                    num[k] += w
            out.extend(_pct_figure(self.measure, f"{dim.name}={code}", num.get(key, 0), den.get(key, 0))
                       for code, key in _listed(dim, den))
        return out

    def members(self, data: _Data, breakdown: str) -> list[str]:
        """The references behind the numerator."""
        rows = data.rows(self.source)
        match = _matcher(self.dims, breakdown, True, self.measure, rows)
        return [ref for row, _, ref in rows
                if (self.denominator is None or self.denominator(row)) and self.numerator(row) and match(row)]


@dataclass(frozen=True)
class _ScorePercent:
    """OUTCOME_IMPROVED / OUTCOME_MEANINGFUL: per score, over its own instrument's pairs
    where the score exists on both sides; `better(score, baseline, exit)` is db.instruments'."""
    measure: str
    scores: tuple[str, ...]
    better: Callable[[str, Any, Any], bool | None]

    def _rows(self, data: _Data, score: str) -> list:
        return [r for r in data.rows(f"pairs/{_INSTRUMENT_OF_SCORE[score]}") if score in r[0].values]

    def _yes(self, row, score: str) -> bool:
        return self.better(score, *row.values[score]) is True

    def figures(self, data: _Data) -> list[Figure]:
        out = []
        for k in self.scores:
            rows = self._rows(data, k)
            out.append(_pct_figure(self.measure, f"score={k}", sum(1 for r in rows if self._yes(r[0], k)), len(rows)))
        return out

    def members(self, data: _Data, breakdown: str) -> list[str]:
        for k in self.scores:
            if breakdown == f"score={k}":
                return [ref for row, _, ref in self._rows(data, k) if self._yes(row, k)]
        raise _no_breakdown(self.measure, breakdown, [f"score={k}" for k in self.scores])


@dataclass(frozen=True)
class _Values:
    """Means or medians: (breakdown, source, keep, value) per row of the measure."""
    measure: str
    kind: str
    parts: tuple[tuple[str, str, Callable, Callable], ...]

    def figures(self, data: _Data) -> list[Figure]:
        out = []
        for breakdown, source, keep, value in self.parts:
            values = [value(row) for row, _, _ in data.rows(source) if keep(row)]
            result = _median(values) if self.kind == MEDIAN else _mean(values)
            out.append(Figure(self.measure, breakdown, result, None, len(values)))
        return out

    def members(self, data: _Data, breakdown: str) -> list[str]:
        """The references whose values the mean or median is taken over."""
        for b, source, keep, _ in self.parts:
            if b == breakdown:
                return [ref for row, _, ref in data.rows(source) if keep(row)]
        raise _no_breakdown(self.measure, breakdown, [p[0] for p in self.parts])


def _pct_figure(measure: str, breakdown: str, numerator: int, denominator: int) -> Figure:
    return Figure(measure, breakdown, _percent(numerator, denominator), numerator, denominator)


def _listed(dim: _Dim, counts: Counter) -> list[tuple[str, str | None]]:
    """(code shown, key counted under): the list's codes in order, zeros included; then
    (only with bad data) any code found that is not on the list, so the breakdown still
    adds up; then `unknown` for blanks."""
    listed = [(c, c) for c in dim.codes]
    listed += [(k, k) for k in sorted(k for k in counts if k is not None and k not in dim.codes)]
    if dim.unknown or counts.get(None):
        listed.append((UNKNOWN, None))
    return listed


def _matcher(dims: tuple[_Dim, ...], breakdown: str, has_all: bool, measure: str,
             rows: list = ()) -> Callable[[Any], bool]:
    """Which rows a breakdown takes. A breakdown or code the Data sheet would not show is
    refused with the allowed names (an empty list would read as a zero). Codes off the
    list that the data itself holds (bad data the figures still show) are accepted."""
    if breakdown == "all" and has_all:
        return lambda row: True
    name, sep, code = breakdown.partition("=")
    for dim in dims:
        if sep and dim.name == name:
            allowed = list(dim.codes) + ([UNKNOWN] if dim.unknown else [])
            if code not in allowed:
                found = {dim.key(row) for row, _, _ in rows}
                if not (code in found or (code == UNKNOWN and None in found)):
                    raise ValidationError(FieldError(
                        "breakdown", f"{measure} {dim.name} has no code '{code}': choose one of "
                                     f"{', '.join(f'{dim.name}={c}' for c in allowed)}."))
            wanted = None if code == UNKNOWN else code
            return lambda row: dim.key(row) == wanted
    choices = (["all"] if has_all else []) + [f"{d.name}=CODE" for d in dims]
    raise _no_breakdown(measure, breakdown, choices)


def _no_breakdown(measure: str, breakdown: str, choices: list[str]) -> ValidationError:
    return ValidationError(FieldError("breakdown", f"{measure} has no breakdown '{breakdown}': choose one of "
                                                   f"{', '.join(choices)}."))


def breakdown_names(measure: str, instruments_on: Iterable[str] = tuple(INSTRUMENTS)) -> list[str]:
    """Every breakdown `explain` takes for a measure, in the Data sheet's order."""
    measure = (measure or "").strip().upper()
    for spec in _specs(instruments_on):
        if spec.measure == measure:
            return _breakdowns_of(spec)
    return []


def _breakdowns_of(spec) -> list[str]:
    if isinstance(spec, (_Count, _Percent)):
        out = ["all"] if getattr(spec, "has_all", True) else []
        for dim in spec.dims:
            out += [f"{dim.name}={c}" for c in dim.codes] + ([f"{dim.name}={UNKNOWN}"] if dim.unknown else [])
        return out
    if isinstance(spec, _ScorePercent):
        return [f"score={k}" for k in spec.scores]
    return [p[0] for p in spec.parts]


def _dims_of_starts() -> tuple[_Dim, ...]:
    eth_groups = tuple(codes.group_order("ethnic_group"))
    return (
        _Dim("gender", lambda a: a.gender, tuple(codes.codes("gender"))),
        _Dim("age_band", lambda a: a.age_band, AGE_BANDS),
        _Dim("ethnic_group", lambda a: a.ethnic_group, eth_groups),
        _Dim("imd_quintile", lambda a: a.imd_quintile, QUINTILES, unknown=True),
        _Dim("gp_registered", lambda a: a.gp_registered, tuple(codes.codes("yes_no_unknown")), unknown=True),
        _Dim("employment", lambda a: a.employment, tuple(codes.codes("employment")), unknown=True),
        _Dim("disability", lambda a: a.disability, tuple(codes.codes("disability")), unknown=True),
    )


def _is_start(a: _Active) -> bool:
    return a.is_start


def _specs(instruments_on: Iterable[str]) -> list:
    """Every measure in the Data sheet's order (RETURN.md's table), for the instruments switched on."""
    on = [c for c in INSTRUMENTS if c in set(instruments_on)]
    scores = [k for k in OUTCOME_SCORE_KEYS if _INSTRUMENT_OF_SCORE.get(k) in on]
    meaningful_scores = [k for k in MEANINGFUL_SCORE_KEYS if k in scores]
    area = _Dim("area", lambda v: v[0], tuple(codes.codes("area")))
    instrument = _Dim("instrument", lambda p: p.instrument, tuple(on))

    def pairs(score):
        return f"pairs/{_INSTRUMENT_OF_SCORE[score]}"

    def both(score):
        return lambda p: score in p.values

    specs: list = [
        _Count("REFERRALS_RECEIVED", "received", dims=(
            _Dim("source", lambda v: v[0], tuple(codes.codes("source"))),
            _Dim("source_group", lambda v: _SOURCE_GROUP.get(v[0]) or _group("source_group", v[0]),
                 tuple(codes.group_order("source_group"))))),
        _Count("STARTS", "active", _is_start),
        _Count("ACTIVE_REFERRALS", "active"),
        _Count("SESSIONS_ATTENDED", "sessions", lambda v: v[1] in ATTENDED,
               (_Dim("mode", lambda v: v[0], tuple(codes.codes("mode"))),)),
        _Count("SESSIONS_DNA", "sessions", lambda v: v[1] == DNA),
        _Percent("DNA_RATE", "sessions", lambda v: v[1] in DNA_RATE_BASE, lambda v: v[1] == DNA),
        _Values("WAIT_DAYS_MEDIAN", MEDIAN, (("all", "active", _is_start, lambda a: a.wait),)),
        _Percent("WAIT_WITHIN_28_DAYS", "active", _is_start, lambda a: a.wait <= 28),
        _Count("CLOSED", "closed", dims=(
            _Dim("closure_reason", lambda c: c.closure_reason, tuple(codes.codes("closure_reason"))),)),
        _Count("STARTS_BY", "active", _is_start, _dims_of_starts(), has_all=False),
        _Percent("STARTS_IMD_Q1_Q2", "active", lambda a: a.is_start and a.imd_quintile is not None,
                 lambda a: a.imd_quintile in ("1", "2")),
        _Percent("STARTS_COMMUNITY_SOURCE", "active", _is_start, lambda a: a.source_group == "COMMUNITY"),
        _Count("PLANS_AGREED", "plans"),
        _Count("GOALS_SET", "goals_set", dims=(area,)),
        _Count("GOALS_CLOSED", "goals_closed", dims=(area, _Dim("status", lambda v: v[1], GOAL_CLOSED))),
        _Percent("GOALS_ACHIEVED", "goals_closed", None, lambda v: v[1] in GOAL_ACHIEVED, (area,)),
    ]
    if on:
        specs += [
            _Count("OUTCOME_PAIRS", "pairs", dims=(instrument,), has_all=False),
            _Count("OUTCOME_STOOD_IN", "pairs", lambda p: p.pair.stood_in, (instrument,), has_all=False),
        ]
    for measure, pick in (("OUTCOME_MEAN_BASELINE", 0), ("OUTCOME_MEAN_EXIT", 1), ("OUTCOME_MEAN_CHANGE", 2)):
        if scores:
            specs.append(_Values(measure, MEAN, tuple(
                (f"score={k}", pairs(k), both(k), (lambda p, k=k, i=pick: _exact_part(p.values[k], i))) for k in scores)))
    if scores:
        specs.append(_ScorePercent("OUTCOME_IMPROVED", tuple(scores), _improved))
    if meaningful_scores:
        specs.append(_ScorePercent("OUTCOME_MEANINGFUL", tuple(meaningful_scores), _meaningful))
    if "SMOKING" in on:
        specs.append(_Percent("SMOKERS_QUIT", "pairs/SMOKING", lambda p: _quit(p) is not None,
                              lambda p: _quit(p) is True))
    if "AUDITC" in on:
        specs.append(_Percent("AUDITC_POSITIVE_TO_NEGATIVE", "pairs/AUDITC", lambda p: _p2n(p) is not None,
                              lambda p: _p2n(p) is True))
    specs += [
        _Count("SIGNPOSTED", "signposting", dims=(
            _Dim("category", lambda v: v[0], tuple(codes.codes("signposting_category"))),
            _Dim("type", lambda v: v[1], tuple(codes.codes("signposting_type"))))),
        _Percent("DQ_NHS_NUMBER", "active", _is_start, lambda a: a.nhs_valid),
        _Percent("DQ_POSTCODE_MATCHED", "active", _is_start, lambda a: a.postcode_matched),
        _Percent("DQ_ETHNICITY_RECORDED", "active", _is_start, lambda a: a.ethnicity != "99"),
    ]
    if "SWEMWBS" in on:
        specs.append(_Percent("DQ_PAIRED_WELLBEING", "closed", None, lambda c: "SWEMWBS" in c.pairs))
    return specs


# db.instruments' own comparisons, remembered: scores on short scales repeat a great deal,
# and these are pure functions of (score, baseline, exit).
_improved = lru_cache(maxsize=1 << 16)(instruments.improved)
_meaningful = lru_cache(maxsize=1 << 16)(instruments.meaningful)


def _quit(p: _PairRow):
    both = p.pair.values("smoking_status")
    return smoking_quit(*both) if both else None


def _p2n(p: _PairRow):
    both = p.pair.values("auditc")
    return auditc_positive_to_negative(*both) if both else None


# --- the public functions --------------------------------------------------------------------

def compute_figures(db: Database, service_id: int, period: Period, instruments_on: Iterable[str]) -> list[Figure]:
    """Every figure of the Data sheet, in order, before any disclosure policy."""
    data = _Data(db, service_id, period, instruments_on)
    figures: list[Figure] = []
    with _bulk():
        for spec in _specs(data.instruments_on):
            figures.extend(spec.figures(data))
        data = None      # its rows let go before the collector is back on, whose first pass would walk them all
    return figures


@contextmanager
def _bulk():
    """Pause the cyclic garbage collector while tens of thousands of small, acyclic
    objects are made (assessment points, pairs): its repeated full scans otherwise
    cost about a third of the run. Reference counting still frees everything."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def explain(db: Database, service_id: int, period: Period, instruments_on: Iterable[str], measure: str,
            breakdown: str = "all") -> list[str]:
    """The referral references behind one figure, sorted: for a count, one per thing
    counted (a referral with three sessions appears three times in SESSIONS_ATTENDED),
    so the list is exactly as long as the count; for a percentage, those in its
    numerator; for a mean or median, those it is taken over."""
    measure = (measure or "").strip().upper()
    breakdown = (breakdown or "all").strip()
    if measure not in MEASURES:
        raise ValidationError(FieldError("measure", f"There is no measure '{measure}' in the return. "
                                                    f"Measures: {', '.join(MEASURES)}."))
    data = _Data(db, service_id, period, instruments_on, with_refs=True)
    for spec in _specs(data.instruments_on):
        if spec.measure == measure:
            return sorted(spec.members(data, breakdown))
    raise NotFound(f"{measure} is not in this return: its instrument is switched off for the service.")


def apply_disclosure(figures: Iterable[Figure], policy: str) -> list[Figure]:
    """RETURN.md "Disclosure control": none leaves figures as they are; nhs-england
    shows counts 1–7 as '*', rounds other counts to the nearest 5 (0 stays 0),
    computes percentages from the rounded counts ('*' if either is suppressed), and
    shows '*' for means and medians based on 1 to 7 people."""
    policy = check_policy(policy)
    if policy == POLICY_NONE:
        return list(figures)
    out = []
    for f in figures:
        if f.kind == COUNT:
            out.append(replace(f, value=_protect(f.value)))
        elif f.kind == PERCENT:
            num, den = _protect(f.numerator), _protect(f.denominator)
            if SUPPRESSED in (num, den):
                value = SUPPRESSED
            else:
                value = _percent(num, den)
            out.append(replace(f, value=value, numerator=num, denominator=den))
        else:
            n = f.denominator
            value = SUPPRESSED if isinstance(n, int) and 1 <= n <= 7 else f.value
            out.append(replace(f, value=value, denominator=_protect(n)))
    return out


def _protect(n):
    if not isinstance(n, int) or n == 0:
        return n
    if 1 <= n <= 7:
        return SUPPRESSED
    return int(round_half_away(Fraction(n, 5), 0)) * 5


def check_policy(policy: str | None) -> str:
    policy = (policy or POLICY_NONE).strip().lower()
    if policy not in POLICIES:
        raise ValidationError(FieldError("sdc", f"Disclosure policy '{policy}' is not known: choose none "
                                                "(a return to the commissioner) or nhs-england (tables for publication)."))
    return policy


def late_changes(old: Iterable[Figure], new: Iterable[Figure]) -> list[LateChange]:
    """Figures whose value differs from the submitted run's, in the new run's order
    (then figures the submitted run had and this one lacks)."""
    before = {f.key: f.value for f in old}
    changes, seen = [], set()
    for f in new:
        seen.add(f.key)
        if f.key not in before or _same(before[f.key], f.value) is False:
            changes.append(LateChange(f.measure, f.breakdown, before.get(f.key), f.value))
    changes += [LateChange(m, b, v, None) for (m, b), v in before.items() if (m, b) not in seen]
    return changes


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)):
        return Decimal(a) == Decimal(b)
    return a == b


# --- storing figures -----------------------------------------------------------------------------

def figures_to_json(figures: Iterable[Figure]) -> str:
    """Stable JSON of the Data sheet rows; decimals as text so they come back exact."""
    def enc(v):
        return str(v) if isinstance(v, Decimal) else v
    return json.dumps([{"measure": f.measure, "breakdown": f.breakdown, "value": enc(f.value),
                        "numerator": enc(f.numerator), "denominator": enc(f.denominator)} for f in figures],
                      ensure_ascii=False, separators=(",", ":"))


def figures_from_json(text: str) -> list[Figure]:
    def dec(v):
        if isinstance(v, str) and v != SUPPRESSED:
            return Decimal(v)
        return v
    return [Figure(d["measure"], d["breakdown"], dec(d["value"]), d.get("numerator"), d.get("denominator"))
            for d in json.loads(text)]


def insert_run(db: Database, service_id: int, meta: ReturnMeta, figures: Iterable[Figure], file_name: str,
               sha256: str) -> int:
    cur = db.conn.execute(
        "INSERT INTO return_runs (service_id, period, spec_version, disclosure, generated_at, generated_by, figures, "
        "file_name, file_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (service_id, meta.period.code, meta.spec_version, meta.disclosure,
         meta.generated_at.isoformat(timespec="seconds"), meta.generated_by, figures_to_json(figures),
         file_name, sha256))
    return cur.fetchone()[0]


_RUN_COLUMNS = ("id", "service_id", "period", "spec_version", "disclosure", "generated_at", "generated_by",
                "file_name", "file_sha256", "submitted", "submitted_at", "submitted_by")


def _run(row) -> dict:
    return dict(zip(_RUN_COLUMNS, row))


def latest_submitted_run(db: Database, service_id: int, period: Period) -> dict | None:
    row = db.conn.execute(
        f"SELECT {', '.join(_RUN_COLUMNS)}, figures FROM return_runs WHERE service_id = ? AND period = ? "
        "AND submitted = 1 ORDER BY submitted_at DESC, id DESC LIMIT 1", (service_id, period.code)).fetchone()
    if row is None:
        return None
    run = _run(row[:-1])
    run["figures"] = figures_from_json(row[-1])
    return run


def runs_with_sha(db: Database, sha256: str) -> list[dict]:
    return [_run(r) for r in db.conn.execute(
        f"SELECT {', '.join(_RUN_COLUMNS)} FROM return_runs WHERE file_sha256 = ? ORDER BY id DESC", (sha256,))]


def list_runs(db: Database, service_id: int, period: Period | None = None) -> list[dict]:
    sql = f"SELECT {', '.join(_RUN_COLUMNS)} FROM return_runs WHERE service_id = ?"
    params: list = [service_id]
    if period is not None:
        sql += " AND period = ?"
        params.append(period.code)
    return [_run(r) for r in db.conn.execute(sql + " ORDER BY id DESC", params)]


def runs_of_period(db: Database, service_id: int, period: Period) -> list[dict]:
    """The period's runs, newest first, with their figures."""
    out = []
    for row in db.conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)}, figures FROM return_runs WHERE service_id = ? AND period = ? "
            "ORDER BY id DESC", (service_id, period.code)):
        run = _run(row[:-1])
        run["figures"] = figures_from_json(row[-1])
        out.append(run)
    return out


def mark_submitted(db: Database, run_id: int, at: str, by: str) -> None:
    db.conn.execute("UPDATE return_runs SET submitted = 1, submitted_at = ?, submitted_by = ? WHERE id = ? "
                    "AND submitted = 0", (at, by, run_id))
