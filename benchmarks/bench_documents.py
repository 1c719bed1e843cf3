"""Plan PDF (PRODUCT.md target: 0.5 s), for benchmarks/run.py.

    python benchmarks/bench_documents.py DB [--user manager] [--password demo] [--repeat 20]

Times what a trainer waits for after pressing Print: reading the client's plan,
measures and sessions from the store, and laying out the PDF (normal and large
print), over a sample of clients with plans, the one with the most goals always
among them. The first build in the process, which also loads the fonts, counts
too. Nothing is kept: the benchmark leaves the database as it found it (keeping
is one insert of the bytes). Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.store import CaseStore  # noqa: E402
from reports.plan_pdf import build_plan_pdf  # noqa: E402

TARGET_S = 0.5
Row = tuple[str, float, float, float]     # operation, median s, worst s, target s


def _clients_with_plans(store: CaseStore, count: int) -> list[int]:
    # Choosing whom to print for is the benchmark's own business, so it reads the ids directly.
    conn = store.db.conn
    most_goals = conn.execute(
        "SELECT r.client_id FROM plans p JOIN referrals r ON r.id = p.referral_id "
        "ORDER BY (SELECT COUNT(*) FROM goals g WHERE g.plan_id = p.id) DESC LIMIT 1").fetchone()
    ids = [row[0] for row in conn.execute(
        "SELECT DISTINCT r.client_id FROM plans p JOIN referrals r ON r.id = p.referral_id")]
    chosen = random.Random(1).sample(ids, min(count, len(ids)))
    if most_goals and most_goals[0] not in chosen:
        chosen[0] = most_goals[0]
    return chosen


def bench_plan(db_path, user: str, password: str, repeat: int = 20) -> list[Row]:
    store = CaseStore.open(Path(db_path))
    try:
        store.sign_in(user, password)
        clients = _clients_with_plans(store, repeat)
        if not clients:
            return []
        rows: list[Row] = []
        for label, large in (("plan PDF (read the plan and lay it out)", False),
                             ("plan PDF, large print", True)):
            times = []
            for client_id in clients:
                started = time.perf_counter()
                build_plan_pdf(store.documents.plan_data(client_id), None, large_print=large)
                times.append(time.perf_counter() - started)
            rows.append((f"{label} ({len(times)} clients)", statistics.median(times), max(times), TARGET_S))
        return rows
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", type=Path)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--repeat", type=int, default=20, help="how many clients to print for")
    args = parser.parse_args()
    for name, median, worst, target in bench_plan(args.db, args.user, args.password, args.repeat):
        print(f"{name:<50} {median:7.3f} s  worst {worst:7.3f} s  target {target:6.3f} s  "
              f"{'met' if worst <= target else ('median met' if median <= target else 'NOT MET')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
