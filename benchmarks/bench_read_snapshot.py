"""What one snapshot per read costs (issue 18: every multi-query read sees one moment of the data):
the store's common reads timed one by one on a demo database, signed in as the demo coordinator.

    python benchmarks/bench_read_snapshot.py [--db PATH|postgresql://...] [--clients 2000] [--repeat 200]
                                             [--without-snapshot]

Each read is a store method as the screens call it (a declared @read, which takes its snapshot:
BEGIN ... ROLLBACK on a file, BEGIN REPEATABLE READ READ ONLY ... ROLLBACK on a server). Prints the
median and the 90th percentile of each in milliseconds. The database is a copy made by
`htdesk demo` when PATH does not exist. --without-snapshot runs the same reads with the declaration's
snapshot left out (as before issue 18's change), to measure what it costs. Timings belong here, never
in the tests.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/htdesk-bench-snapshot.sqlite3")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--without-snapshot", action="store_true",
                        help="leave the declaration's snapshot out, to measure its cost")
    args = parser.parse_args()
    if args.without_snapshot:
        import contextlib
        from db import connection
        taken = connection.snapshot
        connection.snapshot = lambda db, reading=False: contextlib.nullcontext(db) if reading else taken(db)
    from db.demo import DEMO_PASSWORD
    from db.store import CaseStore
    if not args.db.startswith("postgresql://") and not Path(args.db).exists():
        subprocess.run([sys.executable, "-m", "desktop.cli", "demo", "--db", args.db, "--clients", str(args.clients)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    store = CaseStore.open(args.db)
    store.sign_in("coordinator", DEMO_PASSWORD)
    ids = [r[0] for r in store.db.conn.execute("SELECT id FROM clients ORDER BY id LIMIT 500").fetchall()]
    rnd = random.Random(7)
    monday = date.today()
    reads = {
        "clients.record (6 queries)": lambda: store.clients.record(rnd.choice(ids), opening=False),
        "clients.search 'smith'": lambda: store.clients.search("smith"),
        "referrals.waiting_list": lambda: store.referrals.waiting_list(),
        "diary.week": lambda: store.diary.week(monday),
        "clients.id_for_ref (1 query)": lambda: store.clients.id_for_ref("HT-000001"),
    }
    print(f"{args.db}: {len(ids)} clients sampled, {args.repeat} reads each, "
          f"{'without' if args.without_snapshot else 'with'} the read's snapshot")
    for name, call in reads.items():
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - a read this database cannot answer is reported, not timed
            print(f"{name:32s} skipped: {exc}")
            continue
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{name:32s} median {statistics.median(times):8.3f} ms   p90 {times[int(len(times) * 0.9)]:8.3f} ms")
    store.close()


if __name__ == "__main__":
    main()
