"""store.reach: the reach and equity dashboard and the data-quality lists (issue 13).

Managers see every section; coordinators the operational half (activity and data quality).
The figures come from db.reach, which counts with db.returns' own specs, so the dashboard
and the quarterly return cannot disagree."""
from __future__ import annotations

from datetime import date
from typing import Callable, Iterable

from .. import assessments, connection, reach, reach_kept
from .. import data_quality as quality
from ..api import Part, read
from ..errors import Cancelled
from ..periods import Period, parse_period

ProgressFn = Callable[[int, int, str], None]
_OPERATIONAL_MEASURES = {i.measure for i in reach.ITEMS if i.section in reach.OPERATIONAL}


def _sections_decision(values, actor) -> str:
    sections = values.get("sections")
    if sections is None or set(sections) <= set(reach.OPERATIONAL):
        return "activity"
    return "reach"


def _explain_decision(values, actor) -> str:
    return "activity" if (values.get("measure") or "").strip().upper() in _OPERATIONAL_MEASURES else "reach"


def _explained(refs, args) -> tuple:
    return ("reach", parse_period(args["period"]).code,
            f"explain {args['measure'].strip().upper()} {args['breakdown']}: {len(refs)} referral reference(s)")


class ReachPart(Part):
    """Quarters already counted are kept until the data changes: any write through this store, or
    a commit by another program on the same database (SQLite's data_version), empties the memory.
    Counted quarters are also kept in the database (reach_figures), so the next opening, in this
    program or another, counts only the quarters written to since (db/reach.py, stale_periods)."""

    def __init__(self, store):
        super().__init__(store)
        self._counted: dict = {}
        self._writes = 0
        self._stamp = None
        self._listening = False

    def _fresh(self) -> dict:
        if not self._listening:
            self._store.on_change(self._changed)
            self._listening = True
        stamp = (self._writes, reach.data_version(self.db))
        if stamp != self._stamp:
            self._counted.clear()
            self._stamp = stamp
        return self._counted

    def _changed(self, _changes) -> None:
        self._writes += 1

    def _sections(self) -> tuple[str, ...]:
        """The dashboard's sections this user sees."""
        return tuple(reach.SECTIONS) if self._store.may("reach") else tuple(reach.OPERATIONAL)

    @read(_sections_decision, snapshot=False)      # its own snapshot around the count; keeps the quarters after
    def dashboard(self, period: str | Period, service_code: str | None = None, *,
                  sections: Iterable[str] | None = None, quarters: int = reach.QUARTERS,
                  on_progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None
                  ) -> reach.Dashboard:
        """The chosen quarter and the seven before it, quarter by quarter, with one sentence for each
        share that moved and (for managers) the local population's share in the two most deprived
        fifths. sections: None for everything this user may see."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        shown = tuple(sections) if sections is not None else self._sections()
        on = tuple(assessments.enabled_instruments(self.db, service.code))
        periods = reach.quarters_ending(period, quarters)
        progress = on_progress or (lambda done, total, label: None)
        if cancelled is not None and cancelled():
            raise Cancelled("Stopped: the dashboard was not brought up to date.")
        scope = reach_kept.scope_of(shown, on)
        newly: list = []
        with connection.snapshot(self.db):       # every quarter sees the same moment of the data (writers go on)
            counted = self._fresh()
            key = (service.id, shown, on)
            missing = [p for p in periods if (key, p.code) not in counted]
            if missing:
                # Quarters kept in the database since an earlier count, unless a write since may have
                # changed them (db/reach.py, stale_periods); the rest are counted and kept in turn.
                mark = reach_kept.audit_mark(self.db)
                kept = reach_kept.kept_quarters(self.db, service.id, scope, missing)
                stale = reach_kept.stale_periods(self.db, {code: m for code, (m, _) in kept.items()}, missing)
                for code, (_, q) in kept.items():
                    if code not in stale:
                        counted[(key, code)] = q
                missing = [i for i, p in enumerate(periods) if (key, p.code) not in counted]
            if missing:
                todo = periods[missing[0]:missing[-1] + 1]
                newly = reach.span_figures(self.db, service.id, todo, on, shown, progress, cancelled)
                for q in newly:
                    counted[(key, q.period.code)] = q
            out = [counted[(key, p.code)] for p in periods]
            lsoas = reach.client_lsoas(self.db, service.id) if reach.REACH in shown else {}
        if newly:
            reach_kept.keep_quarters(self.db, service.id, scope, mark, newly)
        local = self._local_area(lsoas)
        progress(len(periods), len(periods), "Done")
        return reach.Dashboard(service.code, period, tuple(out), tuple(reach.drift_sentences(out)), local, on)

    def _local_area(self, lsoas) -> reach.LocalArea | None:
        # The comparison needs the postcode reference; building it takes seconds once per PC (the
        # first-run wizard and the first postcode saved do it), so the dashboard never waits for it.
        if not lsoas or not self._store.reference.ready():
            return None
        try:
            names, n, deprived = self._store.reference.local_area(lsoas)
            return reach.LocalArea(names, n, deprived)
        except Exception:       # the postcode reference could not be opened: the comparison is left out
            return None

    @read(_sections_decision)
    def kept_dashboard(self, period: str | Period, service_code: str | None = None, *,
                       quarters: int = reach.QUARTERS) -> tuple[reach.Dashboard, tuple[str, ...]] | None:
        """The eight quarters as last counted, at once, with no counting: (dashboard, the quarters a write
        since may have changed), or None when a quarter was never counted. The page shows these while
        dashboard() brings the changed quarters up to date, saying which are being updated. After an app
        update, a quarter the new version has not counted yet is shown as the earlier version counted it
        (the dashboard says so: earlier_version), and is among those being updated."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        shown = self._sections()
        on = tuple(assessments.enabled_instruments(self.db, service.code))
        periods = reach.quarters_ending(period, quarters)
        scope = reach_kept.scope_of(shown, on)
        with connection.snapshot(self.db):
            kept = reach_kept.kept_quarters(self.db, service.id, scope, periods)
            earlier = {}
            if len(kept) < len(periods):
                earlier = reach_kept.earlier_quarters(self.db, service.id, scope,
                                                 [p for p in periods if p.code not in kept])
                if len(kept) + len(earlier) < len(periods):
                    return None
            stale = reach_kept.stale_periods(self.db, {code: m for code, (m, _) in kept.items()}, periods)
            lsoas = reach.client_lsoas(self.db, service.id) if reach.REACH in shown else {}
        stale |= set(earlier)
        out = [(kept.get(p.code) or earlier[p.code])[1] for p in periods]
        dash = reach.Dashboard(service.code, period, tuple(out), tuple(reach.drift_sentences(out)),
                               self._local_area(lsoas), on, earlier_version=bool(earlier))
        return dash, tuple(p.code for p in periods if p.code in stale)

    @read(_explain_decision, audit_view=_explained)
    def explain(self, period: str | Period, measure: str, breakdown: str = "all",
                service_code: str | None = None) -> list[str]:
        """The referral references behind one figure of the dashboard (the return's explain for the
        return's measures), audited as a view."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        on = assessments.enabled_instruments(self.db, service.code)
        return reach.explain(self.db, service.id, period, on, measure, breakdown)

    @read("activity")
    def data_quality(self, service_code: str | None = None, *, today: date | None = None
                     ) -> list[quality.QualityRow]:
        """Records that need attention (db.data_quality.QUALITY_KINDS), each naming its client and referral."""
        service = self._store.service.get(service_code)
        return quality.data_quality(self.db, service.id, today or date.today())
