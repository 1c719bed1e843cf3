"""The reach and equity dashboard, the reach report and the return page's figures at scale (issue 13:
the dashboard's eight quarters in 1 s, the reach report PDF in 3 s, the return dialog's figures in
no more than the command line's time).

    python benchmarks/bench_reach.py DB [--user manager] [--password demo] [--period 2026-27-Q2] [--repeat 3]
                                        [--coordinator coordinator]

bench_reach() is called by benchmarks/run.py. Each opening signs in to a new store, as the app does,
and asks what the dashboard page asks before it shows anything: the eight quarters' figures and
the data-quality lists.
- "cold": a count from nothing (nothing kept in the database: every quarter counted), as after an app
  update that changes the count (a new demo and an import count the dashboard's first view themselves,
  db/reach_kept.py count_and_keep, so their first opening is a warm one); also as a coordinator
  (--coordinator, the demo's 'coordinator' by default), who sees the operational half;
- "warm": a typical opening (the quarters counted before are kept in the database, table
  reach_figures, and nothing was written since);
- "after a day's work": 20 attended sessions recorded on the chosen quarter's last day for referrals
  active in it (on a copy of DB), then a new opening: only the chosen quarter is counted again (a
  session can change its own quarter's figures and later ones, never earlier ones);
- "after an app update": every kept quarter counted by an earlier version of the engine; the page shows
  those at once, said to be counting again (the count itself is the cold row);
- "kept in memory": the same store asked again with nothing changed;
- "next quarter": the chosen quarter moved on by one, that quarter never counted before.
The reach report is timed cold and warm the same way. The database keeps the counted quarters
afterwards (as the app would).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db import connection  # noqa: E402
from db.periods import Period, parse_period  # noqa: E402
from db.store import CaseStore  # noqa: E402

DASHBOARD_S = 1.0
REPORT_S = 3.0
WRITES = 20             # sessions recorded between two openings (a trainer's day), for referrals of any age
Row = tuple[str, float, float, float]


def _timed(fn, repeat: int, before=None) -> tuple[float, float]:
    """Median and worst of repeat runs of fn; before() runs untimed ahead of each."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def _next(p: Period) -> Period:
    return Period(p.first_year + 1, 1) if p.quarter == 4 else Period(p.first_year, p.quarter + 1)


def _forget(store, period: Period | None = None) -> None:
    """Empty the kept quarters (all, or one period's): the next count is a first count."""
    with connection.transaction(store.db):
        if period is None:
            store.db.conn.execute("DELETE FROM reach_figures")
        else:
            store.db.conn.execute("DELETE FROM reach_figures WHERE period = ?", (period.code,))


def _active_in(store, p: Period, n: int) -> list[tuple[int, int]]:
    """(referral id, staff id) of n open referrals with an attended session in p (many received before p)."""
    return store.db.conn.execute(
        "SELECT s.referral_id, MIN(s.staff_id) FROM sessions s JOIN referrals r ON r.id = s.referral_id "
        "WHERE s.session_date BETWEEN ? AND ? AND s.attendance IN ('5', '6') "
        "AND (r.closed_date IS NULL OR r.closed_date >= ?) GROUP BY s.referral_id ORDER BY s.referral_id LIMIT ?",
        (p.start.isoformat(), p.end.isoformat(), p.end.isoformat(), n)).fetchall()


def _return_page(store, p: Period) -> None:
    """What the return page's preview asks of the store (desktop/returns/page.py, build_preview)."""
    figures = store.returns.figures(p)
    if store.returns.submitted(p) is not None:
        store.returns.late_changes(p, figures=figures)


def bench_reach(db_path, user: str, password: str, period: str | None = None, repeat: int = 3,
                coordinator: str = "coordinator") -> list[Row]:
    from benchmarks.bench_return import last_complete_quarter
    from reports.quarterly_return import build_return
    from reports.reach_pdf import build_reach_report
    p = parse_period(period) if period else last_complete_quarter()

    def opened(path=db_path, who=user):
        s = CaseStore.open(path)
        s.sign_in(who, password)
        return s

    def opening(path=db_path, who=user):
        """What the dashboard page's count asks (desktop/dashboard/page.py): the figures, then the
        data-quality lists, shown together."""
        s = opened(path, who)
        try:
            s.reach.dashboard(p)
            s.reach.data_quality()
        finally:
            s.close()

    def report(out):
        s = opened()
        try:
            build_reach_report(s, p, out)
        finally:
            s.close()

    rows: list[Row] = []
    store = opened()
    try:
        cold_t = _timed(opening, repeat, before=lambda: _forget(store))
        try:                            # a coordinator sees the operational half (the demo's account)
            opened(who=coordinator).close()
            coordinator_t = _timed(lambda: opening(who=coordinator), repeat, before=lambda: _forget(store))
        except Exception:  # noqa: BLE001 - no such account in this database: the row is left out
            coordinator_t = None
        opening()
        warm_t = _timed(opening, repeat)
        store.reach.dashboard(p)
        kept_t = _timed(lambda: store.reach.dashboard(p), repeat)

        # The chosen quarter moved on by one: seven quarters kept, the new one never counted before.
        def next_quarter():
            store.reach._counted.clear()
            store.reach.dashboard(p)
            _forget(store, _next(p))
        next_t = _timed(lambda: store.reach.dashboard(_next(p)), repeat, before=next_quarter)
        with tempfile.TemporaryDirectory() as work:
            report_cold_t = _timed(lambda: report(Path(work) / "reach.pdf"), repeat, before=lambda: _forget(store))
            report_warm_t = _timed(lambda: report(Path(work) / "reach.pdf"), repeat)
    finally:
        store.close()

    # A write in the chosen quarter, on a copy (the demo database stays as it was).
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "copy.sqlite3"
        shutil.copy(db_path, copy)
        for beside in Path(db_path).parent.glob(Path(db_path).name + ".*"):    # an encrypted file's key file
            shutil.copy(beside, Path(work) / ("copy.sqlite3" + beside.name[len(Path(db_path).name):]))
        writer = opened(copy)
        writer.reach.dashboard(p)                    # every quarter counted and kept

        def a_days_work():
            for referral, staff in _active_in(writer, p, WRITES):
                writer.diary.add(referral, {"session_date": p.end.isoformat(), "attendance": "5", "mode": "F2F",
                                            "staff_id": staff}, today=p.end)
        def shown_at_once(path=copy, earlier=False):
            """What the page shows first after a day's work (or an app update): the quarters as last
            counted (no count)."""
            s = opened(path)
            try:
                kept = s.reach.kept_dashboard(p)
                assert kept is not None and kept[0].earlier_version == earlier
            finally:
                s.close()
        try:
            shown_t = _timed(shown_at_once, repeat, before=a_days_work)
            written_t = _timed(lambda: opening(copy), repeat, before=a_days_work)
            # The return page against the command, taken in turns (the load on this PC varies), with
            # the period's return submitted so the page also lists the late changes.
            sent = Path(work) / "sent.xlsx"
            build_return(writer, p, sent)
            writer.returns.submit(p, sent)
            page, command = [], []
            for i in range(repeat):
                page.append(_timed(lambda: _return_page(writer, p), 1)[0])
                command.append(_timed(lambda: build_return(writer, p, Path(work) / f"return-{i}.xlsx"), 1)[0])
            figures_t = (statistics.median(page), max(page))
            cli_t = (statistics.median(command), max(command))
            # An app update that changed the counting: every kept quarter was counted by the earlier version.
            with connection.transaction(writer.db):
                writer.db.conn.execute("UPDATE reach_figures SET scope = 'earlier-version' || "
                                       "substr(scope, instr(scope, '|'))")
            updated_t = _timed(lambda: shown_at_once(earlier=True), repeat)
        finally:
            writer.close()

    rows.append((f"dashboard {p.label} and 7 before, cold (a count from nothing: behind an app update's earlier figures)",
                 *cold_t,
                 DASHBOARD_S))
    if coordinator_t is not None:
        rows.append((f"dashboard cold, a coordinator's ({coordinator}: the operational half)", *coordinator_t,
                     DASHBOARD_S))
    rows.append(("dashboard, warm (typical opening: quarters kept in the database)", *warm_t, DASHBOARD_S))
    rows.append((f"dashboard after {WRITES} sessions recorded: figures as last counted, shown at once", *shown_t,
                 DASHBOARD_S))
    rows.append(("dashboard after an app update: the earlier version's figures shown at once (all counted "
                 "again as the cold row)", *updated_t, DASHBOARD_S))
    rows.append((f"dashboard after {WRITES} sessions recorded: the changed quarter counted again", *written_t,
                 DASHBOARD_S))
    rows.append(("dashboard, asked again (kept in memory)", *kept_t, DASHBOARD_S))
    rows.append(("dashboard, next quarter chosen (never counted before)", *next_t, DASHBOARD_S))
    rows.append((f"reach report PDF {p.label}, cold", *report_cold_t, REPORT_S))
    rows.append((f"reach report PDF {p.label}, warm", *report_warm_t, REPORT_S))
    rows.append(("return page figures and late changes (target: the command's build)", *figures_t, cli_t[0]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", type=Path)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--period")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--coordinator", default="coordinator")
    args = parser.parse_args()
    rows = bench_reach(args.db, args.user, args.password, args.period, args.repeat, args.coordinator)
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'median':>9}  {'worst':>9}  {'target':>8}  met")
    for name, median, worst, target in rows:
        print(f"{name:<{width}}  {median * 1000:>7.1f}ms  {worst * 1000:>7.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'yes' if worst <= target else ('median' if median <= target else 'NO')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
