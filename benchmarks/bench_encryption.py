"""What encryption at rest costs (issue 14): the same operations on an encrypted database and on a plain
copy of it, in the same run, interleaved so the shared PC's noise falls on both alike.

    python benchmarks/bench_encryption.py [--clients 10000] [--db PATH] [--repeat 3]

Builds (or reuses) an encrypted demo, makes a plain copy with sqlcipher_export, then times on each:
open and sign in, client search keystrokes, opening client records, a diary week, the waiting list,
the quarterly return's figures and a verified backup. Prints each median with the ratio
encrypted / plain (goal: at most 1.15, and every PRODUCT.md budget met), and the cost of signing in
(one argon2id derivation at production cost) apart.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db import accounts, connection, keys  # noqa: E402
from db.store import CaseStore  # noqa: E402

USER, PASSWORD = "manager", "demo"


def build(path: Path, clients: int) -> None:
    if path.exists():
        return
    subprocess.run([sys.executable, "-m", "desktop.cli", "demo", "--db", str(path), "--clients", str(clients)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def plain_copy(encrypted: Path, plain: Path) -> None:
    """The same database in clear (sqlcipher_export into a plain file), for comparison only."""
    for extra in ("", "-wal", "-shm"):
        Path(str(plain) + extra).unlink(missing_ok=True)
    key, _ = keys.KeyFile.load(encrypted).unwrap_password(USER, PASSWORD)
    conn = connection.connect(encrypted, key=key)
    try:
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(plain),))
        conn.execute("SELECT sqlcipher_export('plain')")
        conn.execute(f"PRAGMA plain.application_id = {connection.APPLICATION_ID}")
        conn.execute("DETACH DATABASE plain")
    finally:
        conn.close()


def open_encrypted(path: Path) -> CaseStore:
    store = CaseStore.open(path)
    store.sign_in(USER, PASSWORD)
    return store


def open_plain(path: Path) -> CaseStore:
    # Signed in without the first-sign-in conversion (that would encrypt the copy).
    store = CaseStore(connection.open_database(path), path)
    store.actor = accounts.authenticate(store.db, USER, PASSWORD)
    return store


def workload(store: CaseStore, seed: int) -> dict[str, list[float]]:
    """Each operation's times (seconds) on one open store."""
    rng = random.Random(seed)
    out: dict[str, list[float]] = {}

    def timed(name, fn, *args):
        started = time.perf_counter()
        fn(*args)
        out.setdefault(name, []).append(time.perf_counter() - started)

    people = store.db.conn.execute("SELECT first_name, last_name, client_ref FROM clients ORDER BY id LIMIT 300").fetchall()
    for first, last, ref in rng.sample(people, 8):
        for text in (last, f"{first} {last[:3]}", ref):
            for i in range(1, len(text) + 1):
                timed("client search, per keystroke", store.clients.search, text[:i])
    ids = [r[0] for r in store.db.conn.execute("SELECT id FROM clients ORDER BY id")]
    for client_id in rng.sample(ids, 40):
        timed("open a client record", store.clients.record, client_id)
    monday = date.today() - timedelta(days=date.today().weekday())
    for weeks in range(4):
        timed("all trainers' diary week", store.diary.week, monday - timedelta(weeks=weeks), 7)
    for _ in range(3):
        timed("waiting list", store.referrals.waiting_list)
    from benchmarks.bench_return import last_complete_quarter
    period = last_complete_quarter()
    for _ in range(2):
        timed("quarterly return figures", store.returns.figures, period)
    with tempfile.TemporaryDirectory() as work:
        timed("verified backup", store.admin.backup, Path(work) / "b.sqlite3") if store.may("backup") else None
    return out


TARGETS = {"client search, per keystroke": 0.050, "open a client record": 0.150, "all trainers' diary week": 0.300,
           "waiting list": 0.300, "quarterly return figures": 5.0, "open and sign in": 1.5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    encrypted = args.db or Path(tempfile.gettempdir()) / f"htdesk-bench-enc-{args.clients}.sqlite3"
    build(encrypted, args.clients)
    plain = encrypted.with_name(encrypted.stem + "-plain.sqlite3")
    plain_copy(encrypted, plain)
    times: dict[str, dict[str, list[float]]] = {"plain": {}, "encrypted": {}}
    for round_ in range(args.repeat):
        for kind, opener, path in (("plain", open_plain, plain), ("encrypted", open_encrypted, encrypted))[::1 if
                                                                                                         round_ % 2 else -1]:
            started = time.perf_counter()
            store = opener(path)
            times[kind].setdefault("open and sign in", []).append(time.perf_counter() - started)
            try:
                for name, values in workload(store, round_).items():
                    times[kind].setdefault(name, []).extend(values)
            finally:
                store.close()
    derive = []
    keyfile = keys.KeyFile.load(encrypted)
    for _ in range(5):
        started = time.perf_counter()
        keyfile.unwrap_password(USER, PASSWORD)
        derive.append(time.perf_counter() - started)
    width = max(len(n) for n in times["plain"])
    import sqlite3
    with sqlite3.connect(plain) as probe:          # the database measured, not --clients (--db may be bigger)
        clients = probe.execute("SELECT COUNT(*) FROM clients").fetchone()[0]
    print(f"{encrypted}: {clients} clients, {args.repeat} rounds, SQLite {connection.driver.sqlite_version} (sqlcipher3)")
    print(f"{'operation':<{width}}  {'plain':>9}  {'encrypted':>9}  ratio  {'worst enc':>9}  target")
    total_plain = total_enc = 0.0
    for name in times["plain"]:
        p, e = statistics.median(times["plain"][name]), statistics.median(times["encrypted"][name])
        total_plain += sum(times["plain"][name])
        total_enc += sum(times["encrypted"][name])
        target = TARGETS.get(name)
        print(f"{name:<{width}}  {p * 1000:>7.1f}ms  {e * 1000:>7.1f}ms  {e / p:5.2f}  "
              f"{max(times['encrypted'][name]) * 1000:>7.1f}ms  "
              + (f"{target * 1000:.0f}ms {'met' if e <= target else 'NOT MET'}" if target else ""))
    print(f"{'all of the above, summed':<{width}}  {total_plain:>8.2f}s  {total_enc:>8.2f}s  {total_enc / total_plain:5.2f}")
    print(f"unwrapping the key at sign-in (argon2id {keyfile.data['accounts'] and next(iter(keyfile.data['accounts'].values()))['hash']['m']} KiB): "
          f"median {statistics.median(derive) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
