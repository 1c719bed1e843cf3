"""The scale benchmark of PRODUCT.md: a large service on this PC, timed operation by operation.

    python benchmarks/run.py [--clients 50000] [--db PATH] [--rebuild]

Builds (or reuses) a demo database of the large-service size with `htdesk demo`,
then times what people wait for and prints one table: operation, median, worst,
target. Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import importlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.deprivation import DeprivationLookup  # noqa: E402
from db.store import CaseStore  # noqa: E402

Row = tuple[str, float, float, float]     # operation, median s, worst s, target s


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def build(path: Path, clients: int, rebuild: bool) -> list[Row]:
    if path.exists() and not rebuild:
        return []
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "desktop.cli", "demo", "--db", str(path), "--clients", str(clients)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - started
    return [(f"htdesk demo --clients {clients}", took, took, 60.0)]


def bench_core(path: Path) -> list[Row]:
    rows: list[Row] = []
    median, worst = timed(lambda: _open_and_sign_in(path).close(), 3)
    rows.append(("open database and sign in", median, worst, 1.5))
    store = _open_and_sign_in(path)
    store.reference.prepare()
    rng = random.Random(1)
    # What a coordinator types, keystroke by keystroke: each prefix is one search.
    people = store.db.conn.execute(
        "SELECT first_name, last_name, nhs_number, postcode, date_of_birth, client_ref FROM clients "
        "WHERE nhs_number IS NOT NULL AND postcode IS NOT NULL AND postcode <> 'NFA' ORDER BY id LIMIT 200").fetchall()
    typed = []
    for first, last, nhs, postcode, dob, ref in rng.sample(people, 12):
        for text in (last, f"{first} {last[:3]}", nhs, postcode, f"{dob[8:10]}/{dob[5:7]}/{dob[:4]}", ref):
            typed += [text[:i] for i in range(1, len(text) + 1)]
    keystrokes = iter(typed)
    median, worst = timed(lambda: store.clients.search(next(keystrokes)), len(typed))
    rows.append((f"client search, per keystroke ({len(typed)} keystrokes)", median, worst, 0.050))
    ids = [r[0] for r in store.db.conn.execute("SELECT id FROM clients ORDER BY RANDOM() LIMIT 100")]
    it = iter(ids)
    median, worst = timed(lambda: store.clients.record(next(it)), len(ids))
    rows.append(("open a client record", median, worst, 0.150))
    store.close()
    return rows


def bench_reference() -> list[Row]:
    rows = []
    lookup = DeprivationLookup.open()
    postcodes = ["NE1 7RU", "ne17ru", "DH1 3LE", "SW1A 1AA", "ZZ9 9ZZ", "TS1 2AA", "SR1 1AA", "M1 1AE"] * 250
    it = iter(postcodes)
    median, worst = timed(lambda: lookup.lookup(next(it)), len(postcodes))
    rows.append(("postcode to deprivation lookup", median, worst, 0.010))
    lookup.close()
    with tempfile.TemporaryDirectory() as cache:
        import os
        os.environ["HTDESK_CACHE_DIR"] = cache
        started = time.perf_counter()
        DeprivationLookup.open().close()
        took = time.perf_counter() - started
        del os.environ["HTDESK_CACHE_DIR"]
    rows.append(("build postcode reference (once per PC)", took, took, 30.0))
    return rows


def _open_and_sign_in(path: Path) -> CaseStore:
    store = CaseStore.open(path)
    store.sign_in("manager", "demo")
    return store


def bench_desktop(path: Path) -> list[Row]:
    """The window's figures, in a process of their own (Qt, and this process's memory figure
    stays the data layer's)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_desktop.py"), "--db", str(path), "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return [("desktop benchmark FAILED (see above)", float("inf"), float("inf"), 0.0)]
    return [tuple(r) for r in json.loads(done.stdout.strip().splitlines()[-1])]


def bench_extras(path: Path, work: Path) -> list[Row]:
    """Operations that later capabilities add, each in its own benchmarks/bench_*.py."""
    rows: list[Row] = []
    for module, function, args in (("bench_startup", "bench_startup", (path,)),
                                   ("bench_return", "bench_return", (path, "manager", "demo")),
                                   ("bench_reach", "bench_reach", (path, "manager", "demo")),
                                   ("bench_documents", "bench_plan", (path, "manager", "demo")),
                                   ("bench_import", "bench_import", (work,)),
                                   ("bench_diary", "bench_diary", (path,)),
                                   ("bench_diary", "bench_window", (path,))):
        try:
            mod = importlib.import_module(f"benchmarks.{module}")
        except ModuleNotFoundError:
            continue
        rows += getattr(mod, function)(*args)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="database to build or reuse (default: a file in the temp folder)")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"htdesk-bench-{args.clients}.sqlite3"
    rows = build(path, args.clients, args.rebuild)
    rows += bench_core(path)
    rows += bench_desktop(path)
    rows += bench_reference()
    with tempfile.TemporaryDirectory() as work:
        rows += bench_extras(path, Path(work))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    width = max(len(r[0]) for r in rows)
    print(f"\n{'operation':<{width}}  {'median':>9}  {'worst':>9}  {'target':>8}  met")
    for name, median, worst, target in rows:
        print(f"{name:<{width}}  {median * 1000:>7.1f}ms  {worst * 1000:>7.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'yes' if worst <= target else ('median' if median <= target else 'NO')}")
    print(f"peak memory of this process: {peak_mb:.0f} MB (target 400 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
