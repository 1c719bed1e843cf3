"""Two and four processes writing through the store on a PostgreSQL server for 60 s (issue 18): 0 raw
errors, 0 lost updates, every conflict reported, the checks passing afterwards.

    python benchmarks/server_load.py [--seconds 60] [--processes 2,4] [--server postgresql://HOST/EMPTYDB]

Without --server a throwaway cluster is started (tests/pg_cluster.py: initdb/pg_ctl of PostgreSQL 15, as the
postgres user when run as root) and removed at the end. The writers are benchmarks/reliability.py's own
(_writer: 20% new clients, 65% edits of 20 records every process edits, with a pause between reading and
saving so conflicts happen, 15% searches), each in its own process with its own connection; only the
database they are given differs.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import reliability  # noqa: E402
from db.store import CaseStore  # noqa: E402


def new_service(url: str, clients: int) -> None:
    store = CaseStore.create_new(url, service_name="Reliability Health Trainers", service_code="REL",
                                 admin_username="admin", admin_password=reliability.PASSWORD)
    store.sign_in("admin", reliability.PASSWORD)
    store.reference.deprivation_for = lambda postcode: {}
    for i in range(clients):
        store.clients.add({"first_name": f"Base{i}", "last_name": "Person", "date_of_birth": "1970-01-01",
                           "gender": "2", "ethnicity": "A"})
    store.close()


def load(url: str, processes: int, seconds: float) -> tuple[bool, str]:
    new_service(url, clients=40)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=reliability._writer, args=(url, w, seconds, 1000 + w, queue)) for w in range(processes)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    stats: Counter = Counter()
    logs, raws = [], []
    for _, s, log, raw in results:
        stats.update(s)
        logs += log
        raws += raw
    store = CaseStore.open(url)
    store.sign_in("admin", reliability.PASSWORD)
    lost = 0
    by_client: dict[int, list[tuple[int, str]]] = {}
    for cid, version, token in logs:
        by_client.setdefault(cid, []).append((version, token))
    for cid, done in by_client.items():
        version, town = store.db.conn.execute("SELECT row_version, town FROM clients WHERE id = ?", (cid,)).fetchone()
        versions = sorted(v for v, _ in done)
        if versions != list(range(2, 2 + len(versions))) or version != 1 + len(versions) or town != max(done)[1]:
            lost += 1
    failed = [f"{r.name}: {r.detail}" for r in store.admin.check() if not r.ok]
    store.close()
    ops = sum(stats[k] for k in ("add", "update", "read", "conflict", "busy", "other plain", "raw"))
    text = (f"{processes} processes, {seconds:.0f} s ({elapsed:.0f} s with start-up): {ops} operations "
            f"({stats['add']} adds, {stats['update']} updates, {stats['read']} searches); {stats['raw']} raw errors, "
            f"{stats['busy']} plain 'busy' refusals, {stats['conflict']} conflicts reported, {lost} records with a "
            f"lost update, checks {'all passed' if not failed else failed[:2]}")
    if raws:
        text += f"; samples: {raws[:3]}"
    ok = stats["raw"] == 0 and lost == 0 and not failed and stats["other plain"] == 0 and stats["conflict"] > 0
    return ok, text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", default="2,4")
    parser.add_argument("--server", help="an EMPTY database's address per run is needed: give a server with "
                                         "{n} in the address, e.g. postgresql://host/load{n}")
    args = parser.parse_args(argv)
    cluster = None
    if not args.server:
        from pg_cluster import Cluster
        cluster = Cluster()
    all_ok = True
    try:
        for n in (int(x) for x in args.processes.split(",")):
            url = cluster.create(f"load{n}") if cluster else args.server.format(n=n)
            ok, text = load(url, n, args.seconds)
            all_ok &= ok
            print(f"== {n} processes writing through the store on PostgreSQL\n   {text}\n   {'PASS' if ok else 'FAIL'}",
                  flush=True)
    finally:
        if cluster:
            cluster.stop()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
