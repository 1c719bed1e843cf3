"""The reach and equity dashboard, the reach report and the return page's figures at scale (issue 13:
the dashboard's eight quarters in 1 s, the reach report PDF in 3 s, the return dialog's figures in
no more than the command line's time).

    python benchmarks/bench_reach.py DB [--user manager] [--password demo] [--period 2026-27-Q2] [--repeat 3]

bench_reach() is called by benchmarks/run.py. Each opening signs in to a new store, as the app does.
- "cold": the first count ever (nothing kept in the database: every quarter counted);
- "warm": a typical opening (the quarters counted before are kept in the database, table
  reach_figures, and nothing was written since);
- "after a write": a session recorded in the chosen quarter for a person who started in it (on a
  copy of DB), then a new opening: the quarters from that person's earliest date are counted again;
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


def _a_start_in(store, p: Period) -> tuple[int, int]:
    """(referral id, staff id) of a referral whose first attended session is in p."""
    row = store.db.conn.execute(
        "SELECT r.id, s.staff_id FROM referrals r JOIN sessions s ON s.referral_id = r.id "
        "WHERE r.first_attended_date BETWEEN ? AND ? AND r.received_date >= ? AND s.attendance IN ('5', '6') "
        "ORDER BY r.id LIMIT 1", (p.start.isoformat(), p.end.isoformat(), p.start.isoformat())).fetchone()
    return row[0], row[1]


def bench_reach(db_path, user: str, password: str, period: str | None = None, repeat: int = 3) -> list[Row]:
    from benchmarks.bench_return import last_complete_quarter
    from reports.quarterly_return import build_return
    from reports.reach_pdf import build_reach_report
    p = parse_period(period) if period else last_complete_quarter()

    def opened(path=db_path):
        s = CaseStore.open(path)
        s.sign_in(user, password)
        return s

    def opening(path=db_path):
        s = opened(path)
        try:
            s.reach.dashboard(p)
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
        figures_t = _timed(lambda: (store.returns.figures(p), store.returns.late_changes(p)), repeat)
        with tempfile.TemporaryDirectory() as work:
            cli_t = _timed(lambda: build_return(store, p, Path(work) / "return.xlsx"), repeat)
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

        def a_session():
            referral, staff = _a_start_in(writer, p)
            day = p.end.isoformat()
            writer.diary.add(referral, {"session_date": day, "attendance": "5", "mode": "F2F", "staff_id": staff},
                             today=p.end)
        try:
            written_t = _timed(lambda: opening(copy), repeat, before=a_session)
        finally:
            writer.close()

    rows.append((f"dashboard {p.label} and 7 before, cold (first count ever)", *cold_t, DASHBOARD_S))
    rows.append(("dashboard, warm (typical opening: quarters kept in the database)", *warm_t, DASHBOARD_S))
    rows.append(("dashboard, opening after a session recorded in the chosen quarter", *written_t, DASHBOARD_S))
    rows.append(("dashboard, asked again (kept in memory)", *kept_t, DASHBOARD_S))
    rows.append(("dashboard, next quarter chosen (never counted before)", *next_t, DASHBOARD_S))
    rows.append((f"reach report PDF {p.label}, cold", *report_cold_t, REPORT_S))
    rows.append((f"reach report PDF {p.label}, warm", *report_warm_t, REPORT_S))
    rows.append(("return page figures (target: the command's build)", *figures_t, cli_t[0]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", type=Path)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--period")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = bench_reach(args.db, args.user, args.password, args.period, args.repeat)
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'median':>9}  {'worst':>9}  {'target':>8}  met")
    for name, median, worst, target in rows:
        print(f"{name:<{width}}  {median * 1000:>7.1f}ms  {worst * 1000:>7.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'yes' if worst <= target else ('median' if median <= target else 'NO')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
