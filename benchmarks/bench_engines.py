"""The same large service on a file and on a PostgreSQL server, side by side (issue 18).

    python benchmarks/bench_engines.py [--clients 50000] [--server postgresql://HOST/EMPTYDB] [--file PATH]

Builds the same demo (same seed, same day) on an SQLite file and on a server database (a throwaway
PostgreSQL cluster started here unless --server names an empty database), checks that the quarterly
return's figures are the same on both, then times what people wait for on each, and prints one table:
operation, the file's median, the server's median, and the server's time over the file's.
Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from db.store import CaseStore  # noqa: E402

TODAY = date(2026, 11, 1)
PERIOD = "2026-27-Q2"


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def signed_in(where) -> CaseStore:
    store = CaseStore.open(where)
    store.sign_in("manager", "demo")
    store.reference.deprivation_for = lambda postcode: {}      # the postcode reference is the PC's, not the engine's
    return store


def typed_keystrokes(store: CaseStore) -> list[str]:
    rng = random.Random(1)
    people = store.db.conn.execute(
        "SELECT first_name, last_name, nhs_number, postcode, date_of_birth, client_ref FROM clients "
        "WHERE nhs_number IS NOT NULL AND postcode IS NOT NULL AND postcode <> 'NFA' ORDER BY id LIMIT 200").fetchall()
    typed = []
    for first, last, nhs, postcode, dob, ref in rng.sample(people, 12):
        for text in (last, f"{first} {last[:3]}", nhs, postcode, f"{dob[8:10]}/{dob[5:7]}/{dob[:4]}", ref):
            typed += [text[:i] for i in range(1, len(text) + 1)]
    return typed


def measure(where) -> dict[str, tuple[float, float]]:
    out = {}
    out["open the database and sign in"] = timed(lambda: signed_in(where).close(), 3)
    store = signed_in(where)
    typed = typed_keystrokes(store)
    keys = iter(typed)
    out[f"client search, per keystroke ({len(typed)})"] = timed(lambda: store.clients.search(next(keys)), len(typed))
    every = [r[0] for r in store.db.conn.execute("SELECT id FROM clients ORDER BY id")]
    ids = every[::max(1, len(every) // 100)][:100]
    it = iter(ids)
    out[f"open a client record ({len(ids)})"] = timed(lambda: store.clients.record(next(it)), len(ids))
    saves = iter(ids[:30])

    def save():
        client = store.clients.get(next(saves))
        store.clients.update(client.id, {"town": f"Town {time.perf_counter_ns() % 1000}"},
                             expected_version=client.row_version, today=TODAY)
    out["save a client's details (30)"] = timed(save, 30)
    out[f"quarterly return figures ({PERIOD})"] = timed(lambda: store.returns.figures(PERIOD), 3)
    out["quarterly return figures (a whole year)"] = timed(lambda: store.returns.figures("2025-26"), 1)
    out["reach dashboard, first opening (8 quarters counted)"] = timed(lambda: store.reach.dashboard(PERIOD), 1)
    out["reach dashboard, opened again (quarters kept)"] = timed(lambda: store.reach.dashboard(PERIOD), 3)
    store.close()
    return out


def build(where, clients: int) -> float:
    started = time.perf_counter()
    CaseStore.create_demo(where, clients=clients, seed=1, today=TODAY)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--server", help="an EMPTY server database, e.g. postgresql://htdesk@db/bench")
    parser.add_argument("--file", type=Path, help="the file to build (default: one in the temp folder)")
    args = parser.parse_args(argv)
    cluster = None
    work = tempfile.TemporaryDirectory()
    file = args.file or Path(work.name) / f"engines-{args.clients}.sqlite3"
    try:
        if args.server:
            url = args.server
        else:
            from pg_cluster import Cluster
            cluster = Cluster()
            url = cluster.create("bench")
        built = {"file": build(file, args.clients), "server": build(url, args.clients)}
        print(f"demo of {args.clients} clients built: file {built['file']:.0f} s, server {built['server']:.0f} s",
              flush=True)
        a, b = signed_in(file), signed_in(url)
        same = a.returns.figures(PERIOD).rows() == b.returns.figures(PERIOD).rows()
        a.close()
        b.close()
        print(f"the return's figures for {PERIOD} are {'the same' if same else 'DIFFERENT'} on both engines", flush=True)
        rows = {"file": measure(file), "server": measure(url)}
    finally:
        if cluster:
            cluster.stop()
        work.cleanup()
    width = max(len(k) for k in rows["file"])
    print(f"\n{'operation (' + str(args.clients) + ' clients)':<{width}}  {'file':>10}  {'server':>10}  {'server/file':>11}")
    print(f"{'htdesk demo':<{width}}  {built['file']:>9.1f}s  {built['server']:>9.1f}s  "
          f"{built['server'] / built['file']:>10.1f}x")
    for name, (median, _) in rows["file"].items():
        other = rows["server"][name][0]
        print(f"{name:<{width}}  {median * 1000:>8.1f}ms  {other * 1000:>8.1f}ms  {other / median:>10.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
