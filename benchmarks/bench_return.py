"""The quarterly return at scale (PRODUCT.md: "quarterly return, file written: 5 s, and
within 3× a bare SQL computation of the same figures").

    python benchmarks/bench_return.py DB [--user manager] [--password demo] [--period 2026-27-Q2]

bench_return() is called by benchmarks/run.py. Beside the real build it times a bare
SQL computation of the same figures, written here independently of db/returns.py
on purpose: a yardstick must not share the code it measures. It is the one place
outside db/ with SQL, because it is a measuring tool, not part of the app. Note that
each timed build records a return run (and its audit event) in the database given.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.periods import Period, parse_period, period_containing  # noqa: E402
from db.store import CaseStore  # noqa: E402
from reports.quarterly_return import build_return  # noqa: E402

TARGET_S = 5.0
RATIO_TARGET = 3.0
Row = tuple[str, float, float, float]     # operation, median s, worst s, target s


def last_complete_quarter(today: date | None = None) -> Period:
    current = period_containing(today or date.today())
    if current.quarter == 1:
        return Period(current.first_year - 1, 4)
    return Period(current.first_year, current.quarter - 1)


def bench_return(db_path, user: str, password: str, period: str | None = None, repeat: int = 5) -> list[Row]:
    period_ = parse_period(period) if period else last_complete_quarter()
    store = CaseStore.open(db_path)
    try:
        store.sign_in(user, password)
        service = store.service.get()
        figures_t = _timed(lambda: store.returns.figures(period_), repeat)
        with tempfile.TemporaryDirectory() as work:
            out = Path(work) / "return.xlsx"
            file_t = _timed(lambda: build_return(store, period_, out), repeat)
        counted = store.returns.figures(period_)
    finally:
        store.close()
    from db import connection, keys      # the database is encrypted: the bare SQL reads it with its key
    key = keys.KeyFile.load(db_path).unwrap_password(user, password)[0] if keys.is_encrypted_file(db_path) else None
    conn = connection.connect(Path(db_path), readonly=True, key=key)
    try:
        bare = {}
        bare_t = _timed(lambda: bare.update(bare_sql(conn, service.id, period_)), repeat)
    finally:
        conn.close()
    _check_same(counted, bare)
    ratio = statistics.median(file_t) / statistics.median(bare_t)
    print(f"quarterly return {period_.label}: file written in {statistics.median(file_t):.2f} s (median), "
          f"bare SQL of the same figures {statistics.median(bare_t):.2f} s: ratio {ratio:.1f}× "
          f"(target {RATIO_TARGET:.0f}×)", flush=True)
    bare_median = statistics.median(bare_t)
    return [
        (f"quarterly return figures ({period_.label})", statistics.median(figures_t), max(figures_t), TARGET_S),
        (f"quarterly return, file written ({period_.label})", statistics.median(file_t), max(file_t), TARGET_S),
        ("bare SQL of the same figures (yardstick)", bare_median, max(bare_t), TARGET_S),
        (f"quarterly return file within {RATIO_TARGET:.0f}× bare SQL (target = {RATIO_TARGET:.0f}× its median)",
         statistics.median(file_t), max(file_t), RATIO_TARGET * bare_median),
    ]


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _check_same(counted, bare: dict) -> None:
    """The yardstick must compute the same figures, or the ratio means nothing."""
    for key, value in bare.items():
        measure, breakdown = key
        f = counted.get(measure, breakdown)
        if f is not None and f.value != value and f.numerator != value:
            print(f"  note: bare SQL gives {measure} {breakdown} = {value}, the return {f.value}", flush=True)


# --- the yardstick ---------------------------------------------------------------------------

_SCORES = {"BODY": ("weight_kg", "bmi", "waist_cm"), "SWEMWBS": ("swemwbs_metric",), "WEMWBS": ("wemwbs",),
           "ONS4": ("ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious"), "AUDITC": ("auditc",),
           "ACTIVITY": ("activity_days",), "FRUITVEG": ("fruitveg_portions",), "CONFIDENCE": ("confidence",)}


def bare_sql(conn, service_id: int, period: Period) -> dict:
    p = {"s": service_id, "a": period.start.isoformat(), "b": period.end.isoformat()}
    q = conn.execute
    out: dict = {}
    for source, n in q("SELECT source, COUNT(*) FROM referrals WHERE service_id = :s AND received_date BETWEEN :a AND :b "
                       "GROUP BY source", p):
        out[("REFERRALS_RECEIVED", f"source={source}")] = n
    out[("REFERRALS_RECEIVED", "all")] = sum(v for k, v in out.items() if k[0] == "REFERRALS_RECEIVED")
    for mode, att, n in q("SELECT s.mode, s.attendance, COUNT(*) FROM sessions s JOIN referrals r ON r.id = s.referral_id "
                          "WHERE r.service_id = :s AND s.session_date BETWEEN :a AND :b GROUP BY 1, 2", p):
        if att in ("5", "6"):
            out[("SESSIONS_ATTENDED", f"mode={mode}")] = out.get(("SESSIONS_ATTENDED", f"mode={mode}"), 0) + n
            out[("SESSIONS_ATTENDED", "all")] = out.get(("SESSIONS_ATTENDED", "all"), 0) + n
        if att == "3":
            out[("SESSIONS_DNA", "all")] = out.get(("SESSIONS_DNA", "all"), 0) + n
    # Starts with the client's details: first attended session ever falls in the period.
    starts = """
        WITH first AS (SELECT referral_id, MIN(session_date) AS d FROM sessions WHERE attendance IN ('5', '6')
                       GROUP BY referral_id)
        SELECT c.gender, c.ethnicity, c.imd_quintile, c.gp_registered, c.employment, c.disability,
               CAST(strftime('%Y', f.d) AS INT) - CAST(strftime('%Y', c.date_of_birth) AS INT)
                 - (strftime('%m-%d', f.d) < strftime('%m-%d', c.date_of_birth)) AS age,
               julianday(f.d) - julianday(r.received_date) AS wait, COUNT(*)
        FROM first f JOIN referrals r ON r.id = f.referral_id JOIN clients c ON c.id = r.client_id
        WHERE r.service_id = :s AND f.d BETWEEN :a AND :b GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""
    total = within = 0
    for gender, ethnicity, quintile, gp, employment, disability, age, wait, n in q(starts, p):
        total += n
        within += n if wait <= 28 else 0
        for dim, code in (("gender", gender), ("imd_quintile", quintile if quintile is not None else "unknown"),
                          ("gp_registered", gp or "unknown"), ("employment", employment or "unknown"),
                          ("disability", disability or "unknown")):
            key = ("STARTS_BY", f"{dim}={code}")
            out[key] = out.get(key, 0) + n
    out[("STARTS", "all")] = total
    out[("WAIT_WITHIN_28_DAYS", "all")] = within
    out[("ACTIVE_REFERRALS", "all")] = q(
        "SELECT COUNT(DISTINCT s.referral_id) FROM sessions s JOIN referrals r ON r.id = s.referral_id "
        "WHERE r.service_id = :s AND s.session_date BETWEEN :a AND :b AND s.attendance IN ('5', '6')", p).fetchone()[0]
    for reason, n in q("SELECT closure_reason, COUNT(*) FROM referrals WHERE service_id = :s AND closed_date "
                       "BETWEEN :a AND :b GROUP BY 1", p):
        out[("CLOSED", f"closure_reason={reason}")] = n
    out[("CLOSED", "all")] = sum(v for k, v in out.items() if k[0] == "CLOSED")
    out[("PLANS_AGREED", "all")] = q("SELECT COUNT(*) FROM plans p JOIN referrals r ON r.id = p.referral_id "
                                     "WHERE r.service_id = :s AND p.agreed_date BETWEEN :a AND :b", p).fetchone()[0]
    for area, n in q("SELECT g.area, COUNT(*) FROM goals g JOIN plans p ON p.id = g.plan_id JOIN referrals r "
                     "ON r.id = p.referral_id WHERE r.service_id = :s AND p.agreed_date BETWEEN :a AND :b GROUP BY 1", p):
        out[("GOALS_SET", f"area={area}")] = n
    for area, status, n in q("SELECT g.area, g.status, COUNT(*) FROM goals g JOIN plans p ON p.id = g.plan_id "
                             "JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = :s AND g.status IN "
                             "('FULL', 'PARTLY', 'NOT') AND g.status_date BETWEEN :a AND :b GROUP BY 1, 2", p):
        out[("GOALS_CLOSED", f"status={status}")] = out.get(("GOALS_CLOSED", f"status={status}"), 0) + n
    for category, kind, n in q("SELECT x.category, x.type, COUNT(*) FROM signposting x JOIN referrals r "
                               "ON r.id = x.referral_id WHERE r.service_id = :s AND x.signpost_date BETWEEN :a AND :b "
                               "GROUP BY 1, 2", p):
        out[("SIGNPOSTED", f"category={category}")] = out.get(("SIGNPOSTED", f"category={category}"), 0) + n
    # Outcome pairs: earliest BASELINE result with the latest EXIT result, else the latest REVIEW;
    # picked by window functions and gathered per (referral, instrument) without a self-join.
    score_cols = ", ".join(
        f"AVG(CASE WHEN json_extract(bs, '$.{k}') IS NOT NULL AND json_extract(xs, '$.{k}') IS NOT NULL "
        f"THEN json_extract(xs, '$.{k}') - json_extract(bs, '$.{k}') END)"
        for keys in _SCORES.values() for k in keys)
    pairs = f"""
        WITH a AS (SELECT id, referral_id, instrument, timepoint, assessed_date, scores FROM assessments
                   WHERE is_result = 1 AND timepoint IN ('BASELINE', 'REVIEW', 'EXIT') AND referral_id IN
                   (SELECT id FROM referrals WHERE service_id = :s AND closed_date BETWEEN :a AND :b)),
        ranked AS (SELECT referral_id, instrument, timepoint, scores,
                          ROW_NUMBER() OVER (PARTITION BY referral_id, instrument, timepoint = 'BASELINE'
                                             ORDER BY CASE WHEN timepoint = 'BASELINE' THEN assessed_date END,
                                                      CASE WHEN timepoint = 'BASELINE' THEN id END,
                                                      timepoint = 'EXIT' DESC, assessed_date DESC, id DESC) AS n
                   FROM a),
        paired AS (SELECT referral_id, instrument,
                          MAX(CASE WHEN timepoint = 'BASELINE' THEN scores END) AS bs,
                          MAX(CASE WHEN timepoint <> 'BASELINE' THEN scores END) AS xs,
                          MAX(timepoint = 'REVIEW') AS stood_in
                   FROM ranked WHERE n = 1 GROUP BY referral_id, instrument)
        SELECT instrument, COUNT(*), SUM(stood_in), {score_cols}
        FROM paired WHERE bs IS NOT NULL AND xs IS NOT NULL GROUP BY instrument"""
    for instrument, n, stood_in, *_ in q(pairs, p):
        out[("OUTCOME_PAIRS", f"instrument={instrument}")] = n
        out[("OUTCOME_STOOD_IN", f"instrument={instrument}")] = stood_in
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", type=Path)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--period", help="default: the last complete quarter")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = bench_return(args.db, args.user, args.password, args.period, args.repeat)
    for name, median, worst, target in rows:
        print(f"{name:<80} {median:7.3f} s  worst {worst:7.3f} s  target {target:6.3f} s  "
              f"{'met' if worst <= target else ('median met' if median <= target else 'NOT MET')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
