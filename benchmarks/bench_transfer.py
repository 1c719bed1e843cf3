"""Export and round trip of a demo service (issue 15), for benchmarks/run.py or on its own:

    python benchmarks/bench_transfer.py [--clients 50000]

Times `export` of the demo (goal: 20 s at 50,000 clients), then imports the workbook into a fresh
database, exports that again and checks the round trip the way tests/db/test_transfer_roundtrip.py
does on 300 clients: the two workbooks equal cell by cell (read back with the import's own reader),
and the two databases holding the same facts table by table, column by column. Timings belong here,
never in the tests.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
for folder in (ROOT / "tests", ROOT / "tests" / "db"):       # the round-trip test's _enrich and its rawdb
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from db.demo import create_demo  # noqa: E402
from db.store import CaseStore  # noqa: E402
from db.transfer.roundtrip import differences, tables  # noqa: E402
from db.transfer.xlsx_reader import Workbook  # noqa: E402
from reports.transfer_workbook import write_export  # noqa: E402

EXPORT_TARGET_S = 20.0


def _cells(path: Path) -> dict[str, list]:
    out = {}
    with Workbook(path) as wb:
        for name in wb.sheet_names:
            scan = wb.scan(name)
            out[name] = list(wb.rows(name, scan.last_row))
    return out


def bench_transfer(work: Path, clients: int = 50_000) -> list[tuple[str, float, float, float]]:
    from test_transfer_roundtrip import EXCLUDE, IGNORE_COLUMNS, SKIP_TABLES, _enrich
    demo = work / "demo.sqlite3"
    started = time.perf_counter()
    create_demo(demo, clients=clients, seed=1)
    _enrich(demo)
    print(f"demo of {clients:,} clients made in {time.perf_counter() - started:.0f} s", flush=True)
    first, second = work / "first.xlsx", work / "second.xlsx"
    store = CaseStore.open(demo)
    store.sign_in("manager", "demo")
    started = time.perf_counter()
    counts = store.transfer.export_workbook(first, write_workbook=write_export)
    export_s = time.perf_counter() - started
    store.close()
    print(f"export: {export_s:.1f} s ({counts})", flush=True)
    fresh = work / "fresh.sqlite3"
    store = CaseStore.create_new(fresh, service_name="Fresh", service_code="FRESH", admin_username="admin",
                                 admin_password="cobalt-lantern-18")
    store.sign_in("admin", "cobalt-lantern-18")
    store.reference.prepare()
    started = time.perf_counter()
    report = store.transfer.import_workbook(first, write_report=False)
    import_s = time.perf_counter() - started
    print(f"import: {import_s:.1f} s, committed {report.committed}", flush=True)
    if not report.committed:
        print(report.text(limit=20))
    store.transfer.export_workbook(second, write_workbook=write_export)
    store.close()
    started = time.perf_counter()
    a, b = _cells(first), _cells(second)
    for book in (a, b):
        book["Staff"] = [r for r in book["Staff"] if r[1].get(1) != "admin"]
    same_cells = a == b
    sheets_differing = [name for name in a if a.get(name) != b.get(name)]
    # Each database through its own store (open, then sign in: encrypted or not), read as it is.
    demo_store, fresh_store = CaseStore.open(demo), CaseStore.open(fresh)
    demo_store.sign_in("manager", "demo")
    fresh_store.sign_in("admin", "cobalt-lantern-18")
    ca, cb = demo_store.db.conn, fresh_store.db.conn
    diffs = differences(ca, cb, skip_tables=SKIP_TABLES, ignore_columns=IGNORE_COLUMNS, exclude=EXCLUDE)
    print(f"round trip: workbooks equal cell by cell: {same_cells} ({sum(len(r) for r in a.values()):,} rows in "
          f"{len(a)} sheets{'; differing: ' + ', '.join(sheets_differing) if sheets_differing else ''}); "
          f"tables differing: {len(diffs)} (checked in {time.perf_counter() - started:.0f} s)")
    for line in diffs:
        print("  " + line[:300])
    print("rows per table (demo / fresh; the fresh database's own first account left out of both):")
    for table in tables(ca):
        where = f" WHERE NOT ({EXCLUDE[table]})" if table in EXCLUDE else ""
        na = ca.execute(f'SELECT COUNT(*) FROM "{table}"{where}').fetchone()[0]
        nb = cb.execute(f'SELECT COUNT(*) FROM "{table}"{where}').fetchone()[0]
        note = "" if na == nb else ("  (skipped: " + SKIP_TABLES[table] + ")" if table in SKIP_TABLES else "  DIFFERS")
        print(f"  {table:28s} {na:>9,} {nb:>9,}{note}")
    demo_store.close()
    fresh_store.close()
    return [(f"export a {clients:,}-client demo", export_s, export_s, EXPORT_TARGET_S),
            (f"import that export into a fresh database", import_s, import_s, float("nan"))]


def main() -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for name, median, worst, target in bench_transfer(Path(work), args.clients):
            print(f"{name}: {median:.1f} s" + (f" (target {target:.0f} s)" if target == target else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
