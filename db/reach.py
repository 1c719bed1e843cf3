"""Reach and equity (issue 13): the dashboard's figures, eight quarters at a time, and the
data-quality lists.

One engine with the quarterly return: every figure that is in the return (starts, the share
from the two most deprived fifths, community referrals, the DNA rate, outcomes...) is
computed by db.returns' own specs over db.returns' own sources, so the dashboard cannot
disagree with the return's Data sheet (a test checks it). The few figures the return does
not carry (sessions in community venues, signposting that was followed through, caseload
per trainer, each group's share of starts) are specs of the same kinds over two more
sources, and are explained the same way: the referrals behind any figure.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Iterable

from sqlite_utils import Database

from .errors import Cancelled, FieldError, ValidationError
from .periods import Period
from .returns import (_SQL_SOURCES, AGE_BANDS, ERASED_COLUMNS, MEASURES, Figure, _bulk, _Count, _Data, _Percent,
                      _ScorePercent, _Values, _INSTRUMENT_OF_SCORE, _dims_of_starts, _is_start, _listed, _matcher,
                      _pct_figure, _specs, active_row, round_half_away)
from .rules import ATTENDED, attended_sql

QUARTERS = 8
QUARTERS_OFFERED = 12            # the dashboard offers the next quarter, the one in progress and ten before
_STOPPED = "Stopped: the dashboard was not brought up to date."

# Venue types: community settings against clinical ones (DATA.md "Venue type"). A client's
# home, the telephone or a video call and "other" are neither, and are left out of the share.
COMMUNITY_VENUES = ("COMMUNITY", "LEISURE", "LIBRARY", "FAITH", "WORKPLACE", "OUTDOOR")
CLINICAL_VENUES = ("GP", "PHARMACY")


# --- the figures the return does not carry ---------------------------------------------------------

_REACH_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    # Attended sessions in the period with their venue's type (no venue: NULL).
    "venue_sessions": ("FROM sessions s JOIN referrals r ON r.id = s.referral_id "
                       "LEFT JOIN venues v ON v.id = s.venue_id "
                       "WHERE s.session_date BETWEEN :start AND :end AND r.service_id = :service AND "
                       + attended_sql("s.attendance"), ("v.type",)),
    # Signposting dated in the period, with its outcome.
    "signpost_outcomes": ("FROM signposting x JOIN referrals r ON r.id = x.referral_id "
                          "WHERE x.signpost_date BETWEEN :start AND :end AND r.service_id = :service",
                          ("x.outcome",)),
    # Staff who held an attended session in the period (one row per staff member per referral).
    "trainers": ("FROM (SELECT DISTINCT s.staff_id, s.referral_id FROM sessions s "
                 "WHERE s.session_date BETWEEN :start AND :end AND " + attended_sql("s.attendance") + ") t "
                 "JOIN referrals r ON r.id = t.referral_id WHERE r.service_id = :service", ("t.staff_id",)),
}


class _ReachData(_Data):
    """db.returns' sources for one quarter, plus the dashboard's own."""

    def rows(self, name: str) -> list:
        if name in _REACH_SOURCES and name not in self._cache:
            where, cols = _REACH_SOURCES[name]
            conn = self.db.conn
            if self.with_refs:
                sql = f"SELECT r.referral_ref, {', '.join(cols)} {where} ORDER BY r.referral_ref"
                self._cache[name] = [(tuple(r[1:]), 1, r[0]) for r in conn.execute(sql, self.params)]
            else:
                listed = ", ".join(cols)
                sql = f"SELECT {listed}, COUNT(*) {where} GROUP BY {listed}"
                self._cache[name] = [(tuple(r[:-1]), r[-1], None) for r in conn.execute(sql, self.params)]
        return super().rows(name)


@dataclass(frozen=True)
class _Share:
    """Each code's share of a count (starts by ethnic group, by age band): 100 x code / all."""
    measure: str
    source: str
    keep: Any
    dims: tuple

    def figures(self, data) -> list[Figure]:
        kept = [r for r in data.rows(self.source) if self.keep(r[0])]
        total = sum(w for _, w, _ in kept)
        out = []
        for dim in self.dims:
            counts: Counter = Counter()
            for row, w, _ in kept:
                counts[dim.key(row)] += w
            out.extend(_pct_figure(self.measure, f"{dim.name}={code}", counts.get(key, 0), total)
                       for code, key in _listed(dim, counts))
        return out

    def members(self, data, breakdown: str) -> list[str]:
        kept = [r for r in data.rows(self.source) if self.keep(r[0])]
        match = _matcher(self.dims, breakdown, False, self.measure, kept)
        return [ref for row, _, ref in kept if match(row)]


@dataclass(frozen=True)
class _PerTrainer:
    """Referrals with an attended session in the period per member of staff who held one."""
    measure: str

    def figures(self, data) -> list[Figure]:
        active = sum(w for _, w, _ in data.rows("active"))
        staff = len({row[0] for row, _, _ in data.rows("trainers")})
        value = round_half_away(Fraction(active, staff), 1) if staff else None
        return [Figure(self.measure, "all", value, active, staff)]

    def members(self, data, breakdown: str) -> list[str]:
        if breakdown != "all":
            raise ValidationError(FieldError("breakdown", f"{self.measure} has no breakdown '{breakdown}': "
                                                          "choose all."))
        return sorted(ref for _, _, ref in data.rows("active"))


@dataclass(frozen=True)
class ReachMeasure:
    id: str
    kind: str
    definition: str


REACH_MEASURES = {m.id: m for m in (
    ReachMeasure("STARTS_NHS_SOURCE", "percent",
                 "Percentage of people starting support who were referred by the NHS (GP, NHS Health Check, "
                 "pharmacy, stop smoking, hospital or community health, mental health, social prescribing)."),
    ReachMeasure("SESSIONS_COMMUNITY_VENUE", "percent",
                 "Of the attended sessions held in a community venue (community centre, leisure centre, library, "
                 "faith venue, workplace, outdoors) or a clinical one (GP surgery or health centre, pharmacy), "
                 "the percentage in a community venue. Home visits, telephone and video are left out."),
    ReachMeasure("SIGNPOSTING_COMPLETED", "percent",
                 "Of the signposting and onward referrals dated in the period, the percentage the client went to "
                 "(outcome 'attended')."),
    ReachMeasure("CASELOAD_PER_TRAINER", "ratio",
                 "Referrals with an attended session in the period, per member of staff who held an attended "
                 "session in the period."),
    ReachMeasure("STARTS_SHARE", "percent",
                 "Each group's share of the people starting support (ethnic group, age on the start date)."),
)}


def _reach_specs() -> list:
    dims = {d.name: d for d in _dims_of_starts()}
    return [
        _Percent("STARTS_NHS_SOURCE", "active", _is_start, lambda a: a.source_group == "NHS"),
        _Percent("SESSIONS_COMMUNITY_VENUE", "venue_sessions",
                 lambda v: v[0] in COMMUNITY_VENUES or v[0] in CLINICAL_VENUES, lambda v: v[0] in COMMUNITY_VENUES),
        _Percent("SIGNPOSTING_COMPLETED", "signpost_outcomes", None, lambda v: v[0] == "attended"),
        _PerTrainer("CASELOAD_PER_TRAINER"),
        _Share("STARTS_SHARE", "active", _is_start, (dims["ethnic_group"], dims["age_band"])),
    ]


# --- what the dashboard shows ------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    key: str
    section: str             # activity, reach, outcomes
    title: str
    measure: str
    breakdown: str = "all"
    unit: str = "%"          # %, count, days, per trainer
    drift: str | None = None  # on the drift view: the name its sentence uses


ACTIVITY, REACH, OUTCOMES = "activity", "reach", "outcomes"
SECTIONS = {ACTIVITY: "Activity", REACH: "Reach", OUTCOMES: "Outcomes"}
OPERATIONAL = (ACTIVITY,)        # what coordinators see (with data quality)

ITEMS: tuple[Item, ...] = (
    Item("received", ACTIVITY, "Referrals received", "REFERRALS_RECEIVED", unit="count"),
    Item("starts", ACTIVITY, "People starting support", "STARTS", unit="count"),
    Item("wait", ACTIVITY, "Median days from referral to first session", "WAIT_DAYS_MEDIAN", unit="days"),
    Item("completed", ACTIVITY, "Completed support", "CLOSED", "closure_reason=COMPLETED", unit="count"),
    Item("dna", ACTIVITY, "Did-not-attend rate", "DNA_RATE"),
    Item("caseload", ACTIVITY, "Caseload per trainer", "CASELOAD_PER_TRAINER", unit="per trainer"),
    Item("imd_q12", REACH, "Starts from the two most deprived fifths", "STARTS_IMD_Q1_Q2",
         drift="Starts from the most deprived two fifths"),
    Item("community_source", REACH, "Starts referred by community or self", "STARTS_COMMUNITY_SOURCE",
         drift="Starts referred by community organisations or themselves"),
    Item("nhs_source", REACH, "Starts referred by the NHS", "STARTS_NHS_SOURCE",
         drift="Starts referred by the NHS"),
    Item("community_venue", REACH, "Sessions in community rather than clinical venues", "SESSIONS_COMMUNITY_VENUE",
         drift="Sessions in community venues"),
    *(Item(f"eth_{g.lower()}", REACH, f"Starts: {label}", "STARTS_SHARE", f"ethnic_group={g}")
      for g, label in (("WHITE", "White"), ("MIXED", "Mixed or multiple"), ("ASIAN", "Asian or Asian British"),
                       ("BLACK", "Black or Black British"), ("OTHER", "Other ethnic group"),
                       ("NOTSTATED", "ethnicity not stated or not known"))),
    *(Item(f"age_{b}", REACH, f"Starts aged {b.replace('-', '–').replace('under16', 'under 16').replace('75plus', '75 and over')}",
           "STARTS_SHARE", f"age_band={b}") for b in AGE_BANDS),
    Item("swemwbs", OUTCOMES, "Meaningful wellbeing improvement (SWEMWBS up 3 or more)", "OUTCOME_MEANINGFUL",
         "score=swemwbs_metric", drift="Closed referrals with a meaningful wellbeing improvement"),
    Item("weight", OUTCOMES, "Lost 5% of body weight or more", "OUTCOME_MEANINGFUL", "score=weight_kg"),
    Item("goals", OUTCOMES, "Goals fully or partly achieved", "GOALS_ACHIEVED"),
    Item("signposting", OUTCOMES, "Signposting the client went to", "SIGNPOSTING_COMPLETED"),
)
ITEM = {i.key: i for i in ITEMS}
# The instruments behind the outcome figures shown (SWEMWBS for wellbeing, BODY for weight).
OUTCOME_INSTRUMENTS = frozenset(_INSTRUMENT_OF_SCORE[i.breakdown.split("=", 1)[1]] for i in ITEMS
                                if i.measure.startswith("OUTCOME_") and i.breakdown.startswith("score="))
MOVED_POINTS = Decimal(5)        # a share that moved by 5 percentage points or more gets a sentence


@dataclass(frozen=True)
class QuarterFigures:
    period: Period
    figures: dict                # (measure, breakdown) -> Figure

    def get(self, item: Item) -> Figure | None:
        return self.figures.get((item.measure, item.breakdown))


@dataclass(frozen=True)
class LocalArea:
    """The local population's share in the two most deprived fifths: LSOAs (neighbourhoods of
    similar population, about 1,500 people each) of the local authorities the service's
    clients live in."""
    authorities: tuple[str, ...]
    neighbourhoods: int
    in_q1_q2: int

    @property
    def share(self) -> Decimal | None:
        return round_half_away(Fraction(100 * self.in_q1_q2, self.neighbourhoods), 1) if self.neighbourhoods else None


@dataclass(frozen=True)
class Dashboard:
    service_code: str
    period: Period
    quarters: tuple[QuarterFigures, ...]       # oldest first, the chosen quarter last
    sentences: tuple[str, ...]
    local: LocalArea | None = None
    instruments: tuple[str, ...] = ()
    # Shown while counting: some quarters are as an earlier version of the app counted them.
    earlier_version: bool = False

    def series(self, item: Item) -> list:
        return [q.get(item).value if q.get(item) is not None else None for q in self.quarters]

    def current(self, item: Item) -> Figure | None:
        return self.quarters[-1].get(item)


def quarters_ending(period: Period, n: int = QUARTERS) -> list[Period]:
    if period.quarter is None:
        raise ValidationError(FieldError("period", f"{period.code} is a whole year: choose a quarter, "
                                                   "for example 2026-27-Q2."))
    fy, q = period.first_year, period.quarter
    out = []
    for _ in range(n):
        out.append(Period(fy, q))
        fy, q = (fy - 1, 4) if q == 1 else (fy, q - 1)
    return out[::-1]


def _needed_return_measures() -> set[str]:
    return {i.measure for i in ITEMS if i.measure in MEASURES} | {"STARTS_IMD_Q1_Q2"}


# --- eight quarters at once ---------------------------------------------------------------------------
# The figures of each quarter are db.returns' specs over db.returns' sources; only the fetching is
# shared: each source is read once for the whole span, every row tagged with its quarter, and each
# quarter's view holds its own rows (a test checks each quarter against the return's own figures).

_BETWEEN = re.compile(r"(\w+\.\w+) BETWEEN :start AND :end")
# The span's sessions by day, attendance, mode and venue (a covering index, 0009_reach_indexes, serves it).
_SPAN_SESSIONS_SQL = ("SELECT s.session_date, s.attendance, s.mode, s.venue_id, COUNT(*) FROM sessions s "
                      "WHERE s.session_date BETWEEN :start AND :end")
# Attendance tested through COALESCE, which no index serves: SQLite then reads the span's sessions by
# date from a covering index (sessions_span) or in referral order, instead of looking up each session
# found by its attendance code (sessions_booked), which took four times as long.
_SPAN_ATTENDED = attended_sql("COALESCE(s.attendance, '')")
# Each referral's first attended session in the span, and the quarters (a bit each: 1 << quarter) it
# had one in. Grouped by the referral itself, SQLite reads every session in referral order (no sort);
# by referral_id + 0, only the span's, by date, then sorts them: on the 50,000-client demo that pays
# for one or two quarters (45 against 128 ms for one), not for more (351 against 202 ms for eight).
_SPAN_FIRST_SQL = ("SELECT {group}, MIN(s.session_date), SUM(DISTINCT 1 << {bucket}) FROM sessions s "
                   "WHERE s.session_date BETWEEN :start AND :end AND " + _SPAN_ATTENDED + "{service} "
                   "GROUP BY {group}")
# The members of staff who held an attended session, by quarter.
_SPAN_STAFF_SQL = ("SELECT DISTINCT {bucket}, s.staff_id FROM sessions s "
                   "WHERE s.session_date BETWEEN :start AND :end AND " + _SPAN_ATTENDED + "{service}")
# Which of :ids (a JSON list) had an attended session before the span (so are not starts in their
# first quarter of it): looked up referral by referral, never by reading every earlier session.
_SPAN_BEFORE_SQL = ("SELECT j.value FROM json_each(:ids) j WHERE EXISTS (SELECT 1 FROM sessions p "
                    "WHERE p.referral_id = j.value AND p.session_date < :start AND " + attended_sql("p.attendance") + ")")
# The service's referrals among :ids (a JSON list: those with an attended session in the span), with
# what active_row needs of them.
_SPAN_PEOPLE_SQL = """
SELECT r.id, r.referral_ref, r.received_date, r.source,
       {erased_columns}
FROM referrals r JOIN clients c ON c.id = r.client_id
LEFT JOIN erased_referrals er ON er.referral_id = r.id
WHERE r.service_id = :service AND r.id IN (SELECT value FROM json_each(:ids))
""".format(erased_columns=ERASED_COLUMNS)


# A source whose joins only find the service of each row, read without them when every referral in the
# file is the service's (every goal has its plan, every plan and signposting record its referral: NOT NULL
# foreign keys).
_ONE_SERVICE_SOURCES = {
    "goals_closed": ("FROM goals g WHERE g.status_date BETWEEN :start AND :end "
                     "AND g.status IN ('FULL', 'PARTLY', 'NOT')", ("g.area", "g.status")),
    "signpost_outcomes": ("FROM signposting x WHERE x.signpost_date BETWEEN :start AND :end", ("x.outcome",)),
}


def _bucket(column: str, n: int) -> str:
    whens = " ".join(f"WHEN {column} <= :e{i} THEN {i}" for i in range(n - 1))
    return f"(CASE {whens} ELSE {n - 1} END)" if n > 1 else "0"


# The referrals of a quarter that are not starts, as one row (db.returns._Active) weighted by their number.
_NOT_A_START = active_row(None, None, None, None, True, None, None, None, None, None, None, None, None, None)


class _Span:
    """Each source read once for consecutive quarters; view(i) is quarter i's _Data."""

    def __init__(self, db: Database, service_id: int, periods: list[Period], instruments_on: Iterable[str]):
        self.db, self.periods = db, periods
        self.instruments_on = tuple(instruments_on)
        self.params = {"service": service_id, "start": periods[0].start.isoformat(),
                       "end": periods[-1].end.isoformat(), **{f"e{i}": p.end.isoformat() for i, p in enumerate(periods)}}
        self.views = [_QuarterView(self, i, db, service_id, p, self.instruments_on) for i, p in enumerate(periods)]
        self.loaded: set[str] = set()
        self._only_service: bool | None = None
        self.cancelled: Callable[[], bool] | None = None

    def load(self, name: str) -> None:
        # Most of a count is reading: Cancel is looked at before each source, not only between quarters.
        if self.cancelled is not None and self.cancelled():
            raise Cancelled(_STOPPED)
        if name in ("sessions", "venue_sessions"):
            self._load_session_counts()
        elif name in ("active", "trainers"):
            self._load_attended()
        elif name == "closed":
            self._load_closed()
        else:
            self._load_grouped(name)

    def close(self) -> None:
        """Let the rows go now: a span and its views refer to each other, so without this the
        hundreds of thousands of rows wait for the cyclic collector, whose next full pass (in
        whatever runs next, such as the data-quality lists) then walks them all."""
        for view in self.views:
            view.span = None
            view._cache.clear()
        self.views = []

    def _fill(self, name: str, buckets: list[list]) -> None:
        for view, rows in zip(self.views, buckets):
            view._cache[name] = rows
        self.loaded.add(name)

    def _quarter_of(self) -> Callable[[str], int]:
        """The quarter (0 = the earliest) an ISO date of the span falls in, remembered per date."""
        ends, memo = [p.end.isoformat() for p in self.periods], {}

        def quarter(day: str) -> int:
            q = memo.get(day)
            if q is None:
                q = memo[day] = bisect_left(ends, day)
            return q
        return quarter

    def _service_filter(self, column: str) -> str:
        """SQL keeping rows of the service's referrals; empty when every referral is the service's
        (one service in the file), which spares a look-up of the referral for each session."""
        if self._only_service is None:
            self._only_service = self.db.conn.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM referrals WHERE service_id IS DISTINCT FROM :service)", self.params
            ).fetchone()[0] == 1
        return "" if self._only_service else f" AND {column} IN (SELECT id FROM referrals WHERE service_id = :service)"

    def _load_session_counts(self) -> None:
        """db.returns' "sessions" (mode, attendance) and the dashboard's "venue_sessions" (attended
        sessions by venue type), from one grouped read of the span's sessions."""
        n, quarter = len(self.periods), self._quarter_of()
        venue_type = dict(self.db.conn.execute("SELECT id, type FROM venues"))
        sessions: list[Counter] = [Counter() for _ in range(n)]
        venues: list[Counter] = [Counter() for _ in range(n)]
        sql = (_SPAN_SESSIONS_SQL + self._service_filter("s.referral_id")
               + " GROUP BY s.session_date, s.attendance, s.mode, s.venue_id")
        for day, attendance, mode, venue, count in self.db.conn.execute(sql, self.params):
            q = quarter(day)
            sessions[q][(mode, attendance)] += count
            if attendance in ATTENDED:
                venues[q][(venue_type.get(venue),)] += count
        self._fill("sessions", [[(key, w, None) for key, w in c.items()] for c in sessions])
        self._fill("venue_sessions", [[(key, w, None) for key, w in c.items()] for c in venues])

    def _load_attended(self) -> None:
        """db.returns' "active" and the dashboard's "trainers", from the span's attended sessions read
        grouped by referral. A referral is a start in the quarter of its first attended session of the
        span unless it had one before the span (db.returns' rule: no attended session before the
        quarter); its row is db.returns.active_row's. The referrals active in a quarter that are not
        starts are one row weighted by their number: no figure reads more of them (each quarter's
        figures are checked against the quarter counted alone, which has a row for each). "trainers"
        lists each member of staff once a quarter: only their number is read."""
        n, conn = len(self.periods), self.db.conn
        bucket, service = _bucket("s.session_date", n), self._service_filter("s.referral_id")
        first: dict = {}                       # referral id -> its first attended date in the span
        masks: Counter = Counter()             # the quarters a referral was active in (a bit each) -> referrals
        group = "s.referral_id + 0" if n <= 2 else "s.referral_id"
        for rid, day, quarters in conn.execute(_SPAN_FIRST_SQL.format(group=group, bucket=bucket, service=service),
                                               self.params):
            first[rid] = day
            masks[quarters] += 1
        active_in = [sum(count for mask, count in masks.items() if mask >> q & 1) for q in range(n)]
        ids = json.dumps(sorted(first))
        before = {rid for (rid,) in conn.execute(_SPAN_BEFORE_SQL, {**self.params, "ids": ids})}
        starting = json.dumps(sorted(rid for rid in first if rid not in before))
        quarter = self._quarter_of()
        active: list[list] = [[] for _ in range(n)]
        for rid, ref, received, source, *person in conn.execute(_SPAN_PEOPLE_SQL, {**self.params, "ids": starting}):
            day = first[rid]
            active[quarter(day)].append((active_row(ref, received, source, day, False, *person), 1, ref))
        for q in range(n):
            if active_in[q] > len(active[q]):
                active[q].append((_NOT_A_START, active_in[q] - len(active[q]), None))
        trainers: list[list] = [[] for _ in range(n)]
        for q, staff_id in conn.execute(_SPAN_STAFF_SQL.format(bucket=bucket, service=service), self.params):
            trainers[q].append(((staff_id,), 1, None))
        self._fill("active", active)
        self._fill("trainers", trainers)

    def _load_closed(self) -> None:
        """db.returns' own closed rows (with their outcome pairs, paired once) for the whole span,
        then by the quarter each referral closed in."""
        n, quarter = len(self.periods), self._quarter_of()
        whole = _Data(self.db, self.params["service"], self.periods[0], self.instruments_on)
        whole.params = {"service": self.params["service"], "start": self.params["start"], "end": self.params["end"]}
        whole.score_keys = self.views[0].score_keys
        buckets: list[list] = [[] for _ in range(n)]
        for row, day in whole.closed_on():
            buckets[quarter(day)].append(row)
        self._fill("closed", buckets)

    def _load_grouped(self, name: str) -> None:
        n = len(self.periods)
        buckets: list[list] = [[] for _ in range(n)]
        where, cols = _REACH_SOURCES[name] if name in _REACH_SOURCES else _SQL_SOURCES[name]
        if name in _ONE_SERVICE_SOURCES and self._service_filter("") == "":
            where, cols = _ONE_SERVICE_SOURCES[name]
        column = _BETWEEN.search(where).group(1)
        listed = ", ".join(("b",) + cols)
        sql = f"SELECT {_bucket(column, n)} AS b{''.join(', ' + c for c in cols)}, COUNT(*) {where} GROUP BY {listed}"
        for row in self.db.conn.execute(sql, self.params):
            buckets[row[0]].append((tuple(row[1:-1]), row[-1], None))
        self._fill(name, buckets)


class _QuarterView(_ReachData):
    """One quarter's rows, read by its _Span; derived sources (pairs) are worked out per quarter."""

    def __init__(self, span: _Span, index: int, *args):
        super().__init__(*args)
        self.span, self.index = span, index

    def rows(self, name: str) -> list:
        if name not in self._cache and name in _SPAN_SOURCES:
            self.span.load(name)
        return super().rows(name)


_SPAN_SOURCES = frozenset({"active", "trainers", "closed", *_REACH_SOURCES, *_SQL_SOURCES})


def span_figures(db: Database, service_id: int, periods: list[Period], instruments_on: Iterable[str],
                 sections: Iterable[str] = tuple(SECTIONS), on_progress=None, cancelled=None) -> list[QuarterFigures]:
    """quarter_figures for consecutive quarters, each source read once for all of them."""
    wanted = {i.measure for i in ITEMS if i.section in set(sections)}
    # Only the instruments whose scores the dashboard shows: their figures are the same whatever
    # else is switched on (each score is paired within its own instrument), and the other
    # instruments' assessments are most of the reading.
    instruments_on = tuple(c for c in instruments_on if c in OUTCOME_INSTRUMENTS)
    span = _Span(db, service_id, list(periods), instruments_on)
    span.cancelled = cancelled
    specs = [spec for spec in _specs(span.instruments_on) + _reach_specs() if spec.measure in wanted]
    scores = _scores_read(specs)
    for view in span.views:
        view.score_keys = scores
    if not any(_reads_pairs(spec) for spec in specs):
        span.instruments_on = ()        # the operational half: closed referrals counted, no assessment read
    out = []
    # The rows are let go before the collector is switched back on: on again with them still held, its
    # first pass would walk every one of them (0.4 s at 50,000 clients).
    with _bulk():
        try:
            for i, view in enumerate(span.views):
                if cancelled is not None and cancelled():
                    raise Cancelled(_STOPPED)
                if on_progress is not None:
                    on_progress(i, len(span.views), f"Counting {view_label(periods[i])}")
                figures: dict = {}
                for spec in specs:
                    for f in spec.figures(view):
                        figures[f.key] = f
                out.append(QuarterFigures(periods[i], figures))
        finally:
            span.close()
    return out


def _reads_pairs(spec) -> bool:
    """Whether a spec may read outcome pairs: over a pairs source, or over closed referrals other than
    by counting them."""
    if isinstance(spec, _PerTrainer):
        return False                                       # active referrals and trainers
    if isinstance(spec, _Values):
        return any(source.startswith("pairs") or source == "closed" for _, source, _, _ in spec.parts)
    source = getattr(spec, "source", None)
    if isinstance(spec, _ScorePercent) or source is None or source.startswith("pairs"):
        return True
    return source == "closed" and not (isinstance(spec, _Count) and spec.keep is None)


def _scores_read(specs) -> frozenset[str] | None:
    """The outcome scores these specs read from a pair row's values (the rest need not be read nor
    worked out); None (every score) when a spec reads a pair itself (smoking, AUDIT-C)."""
    keys: set[str] = set()
    for spec in specs:
        if isinstance(spec, _Percent) and spec.source.startswith("pairs"):
            return None
        if isinstance(spec, _ScorePercent):
            keys.update(spec.scores)
        elif isinstance(spec, _Values):
            keys.update(b.split("=", 1)[1] for b, source, _, _ in spec.parts if source.startswith("pairs/"))
    return frozenset(keys)


def view_label(period: Period) -> str:
    return period.label


def quarter_figures(db: Database, service_id: int, period: Period, instruments_on: Iterable[str],
                    sections: Iterable[str] = tuple(SECTIONS)) -> QuarterFigures:
    """The dashboard's figures of one quarter: db.returns' specs for the return's measures, the
    dashboard's own for the rest, over one set of sources."""
    wanted = {i.measure for i in ITEMS if i.section in set(sections)}
    data = _ReachData(db, service_id, period, instruments_on)
    specs = [spec for spec in _specs(data.instruments_on) + _reach_specs() if spec.measure in wanted]
    data.score_keys = _scores_read(specs)
    out: dict = {}
    with _bulk():
        for spec in specs:
            for f in spec.figures(data):
                out[f.key] = f
    return QuarterFigures(period, out)


def explain(db: Database, service_id: int, period: Period, instruments_on: Iterable[str], measure: str,
            breakdown: str = "all") -> list[str]:
    """The referral references behind a dashboard figure; the return's own explain for its measures."""
    from . import returns
    measure = (measure or "").strip().upper()
    if measure in MEASURES:
        return returns.explain(db, service_id, period, instruments_on, measure, breakdown)
    if measure not in REACH_MEASURES:
        raise ValidationError(FieldError("measure", f"There is no measure '{measure}' on the dashboard. Measures: "
                                                    f"{', '.join(list(MEASURES) + list(REACH_MEASURES))}."))
    data = _ReachData(db, service_id, period, instruments_on, with_refs=True)
    spec = next(s for s in _reach_specs() if s.measure == measure)
    return sorted(spec.members(data, (breakdown or "all").strip()))


def _pct(v) -> str:
    return f"{v:.0f}%"


def drift_sentences(quarters: list[QuarterFigures]) -> list[str]:
    """One plain-English sentence for each share on the drift view that moved by 5 points or more
    between the first and the last quarter with a figure."""
    out = []
    for item in ITEMS:
        if not item.drift:
            continue
        points = [(q.period, q.get(item).value) for q in quarters
                  if q.get(item) is not None and isinstance(q.get(item).value, Decimal)]
        if len(points) < 2:
            continue
        (p0, first), (p1, last) = points[0], points[-1]
        change = last - first
        if abs(change) < MOVED_POINTS:
            continue
        n = len(quarters) if (p0, p1) == (quarters[0].period, quarters[-1].period) else None
        span = "over eight quarters" if n == QUARTERS else f"from {p0.label} to {p1.label}"
        verb = "rose" if change > 0 else "fell"
        out.append(f"{item.drift} {verb} from {_pct(first)} to {_pct(last)} {span}.")
    return out


def data_version(db: Database) -> int:
    """SQLite's count of commits by other connections to this database (for keeping counted quarters)."""
    from . import engine
    return engine.data_version(db)


def client_lsoas(db: Database, service_id: int) -> dict[str, int]:
    """LSOA code -> clients of the service living there (postcodes found or terminated)."""
    return dict(db.conn.execute(
        "SELECT lsoa_code, COUNT(*) FROM clients WHERE service_id = ? AND lsoa_code IS NOT NULL "
        "GROUP BY lsoa_code", (service_id,)).fetchall())
