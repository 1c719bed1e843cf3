"""The diary at the large-service scale (PRODUCT.md: a trainer's week 150 ms, all trainers' week 300 ms;
issue 11: recording an outcome 100 ms), for benchmarks/run.py.

    python benchmarks/bench_diary.py DB [--password demo] [--repeat 5] [--window]

Times, through the store as the screens call it: a trainer's week (signed in as that trainer, over
a sample of trainers and the weeks either side of today), My day (today's sessions and the whole
caseload with what is due), the coordinator's week across every trainer, the follow-up list, and
recording an outcome with the next booking in the same step (on a copy of the database, so the
benchmark leaves the one it was given as it found it). With --window it also times the week as the
diary page shows it (the store read, then the week grid filled), in an offscreen Qt process of its
own. Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.store import CaseStore  # noqa: E402
from db.connection import copy_database  # noqa: E402

Row = tuple[str, float, float, float]     # operation, median s, worst s, target s


def _timed(calls) -> tuple[float, float]:
    times = []
    for fn in calls:
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def _trainers(store: CaseStore, count: int) -> list[str]:
    # Whom to sign in as is the benchmark's own business, so it reads the user names directly.
    names = [r[0] for r in store.db.conn.execute(
        "SELECT a.username FROM accounts a JOIN staff s ON s.id = a.staff_id WHERE s.role = 'TRAINER' "
        "ORDER BY a.username")]
    return random.Random(1).sample(names, min(count, len(names)))


def bench_diary(path: Path, coordinator: str = "coordinator", password: str = "demo", repeat: int = 5,
                trainers: int = 8) -> list[Row]:
    rows: list[Row] = []
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    weeks = [monday + timedelta(weeks=k) for k in (-1, 0, 1)]
    store = CaseStore.open(path)
    try:
        names = _trainers(store, trainers)
        week_calls, day_calls, opened = [], [], []
        for name in names:
            trainer = CaseStore.open(path)
            opened.append(trainer)
            trainer.sign_in(name, password)
            staff = trainer.actor.staff_id
            for first in weeks:
                week_calls.append(lambda t=trainer, f=first, s=staff: t.diary.week(f, 7, staff_id=s))
            day_calls += [lambda t=trainer: t.diary.my_day()] * 2
            week_calls[-1]()          # the first read of each trainer's pages warms SQLite's cache as a day's use does
        rows.append((f"a trainer's week ({len(names)} trainers x {len(weeks)} weeks)", *_timed(week_calls), 0.150))
        rows.append((f"My day: today and the caseload ({len(names)} trainers)", *_timed(day_calls), 0.150))
        for trainer in opened:
            trainer.close()
        store.sign_in(coordinator, password)
        all_calls = [lambda f=f: store.diary.week(f, 7) for f in weeks for _ in range(repeat)]
        rows.append(("all trainers' week (coordinator)", *_timed(all_calls), 0.300))
        rows.append(("follow-up list after two DNAs", *_timed([store.diary.follow_up] * repeat), 0.300))
    finally:
        store.close()
    rows += _bench_recording(path, names[0], password, repeat * 4)
    return rows


def _bench_recording(path: Path, trainer: str, password: str, count: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "diary.sqlite3"
        src = CaseStore.open(path)
        src.sign_in(trainer, password)           # an encrypted database opens only for an account
        src.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        src.close()
        copy_database(path, copy)                # with its key file
        store = CaseStore.open(copy)
        try:
            store.sign_in(trainer, password)
            today = date.today()
            open_referrals = {c.referral_id for c in store.diary.caseload(store.actor.staff_id)}
            past = [e for e in store.diary.week(today - timedelta(days=28), 28, staff_id=store.actor.staff_id)
                    if e.attendance not in ("2", "4") and e.group_id is None
                    and e.referral_id in open_referrals][:count]
            calls, plain = [], []
            # Next bookings on Tuesdays and Wednesdays (every demo venue is open) at early hours no demo
            # session takes, each in a slot of its own, so none clashes.
            days = [d for d in (today + timedelta(days=7 + k) for k in range(70)) if d.weekday() in (1, 2)]
            for i, e in enumerate(past):
                nxt = days[i % len(days)].isoformat()
                booking = {"session_date": nxt, "start_time": f"{7 + (i // len(days)) % 2:02d}:00",
                           "duration_minutes": 30}
                if i % 2:
                    calls.append(lambda e=e, b=booking: store.diary.record(
                        e.session_id, "5", expected_version=e.row_version, notes="Benchmark note",
                        next_booking=b, confirm_past=False))
                else:
                    plain.append(lambda e=e: store.diary.record(e.session_id, "3", expected_version=e.row_version,
                                                                notes="Did not come"))
            rows: list[Row] = []
            if plain:
                rows.append((f"record an outcome ({len(plain)} sessions)", *_timed(plain), 0.100))
            if calls:
                rows.append((f"record an outcome and book the next ({len(calls)})", *_timed(calls), 0.100))
            return rows
        finally:
            store.close()


WINDOW = """
import json, statistics, sys, time
from datetime import date, timedelta
from PySide6.QtWidgets import QApplication
app = QApplication([])
from db.store import CaseStore
from desktop.diary.page import TrainersWeekModel, WeekModel
path, who, password = sys.argv[1:4]
store = CaseStore.open(path); store.sign_in(who, password)
staff = store.actor.staff_id if who != "coordinator" else None
model = WeekModel() if staff is not None else TrainersWeekModel()   # everyone's week: trainers by days
monday = date.today() - timedelta(days=date.today().weekday())
times = []
for k in (-1, 0, 1) * 3:
    first = monday + timedelta(weeks=k)
    t = time.perf_counter()
    entries = store.diary.week(first, 7, staff_id=staff)
    if staff is None:
        model.set_week(first, entries)
    else:
        model.set_week(first, entries, with_trainer=False)
    for c in range(model.columnCount()):
        for r in range(model.rowCount()):
            model.data(model.index(r, c))
    times.append(time.perf_counter() - t)
print(json.dumps([statistics.median(times), max(times)]))
"""


def bench_window(path: Path, password: str = "demo") -> list[Row]:
    rows: list[Row] = []
    for who, label, target in (("trainer1", "a trainer's week in the diary grid", 0.150),
                               ("coordinator", "all trainers' week in the overview grid", 0.300)):
        done = subprocess.run([sys.executable, "-c", WINDOW, str(path), who, password], cwd=ROOT,
                              capture_output=True, text=True, env={**__import__("os").environ,
                                                                   "QT_QPA_PLATFORM": "offscreen"})
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            continue
        median, worst = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((label, median, worst, target))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--password", default="demo")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--window", action="store_true")
    args = parser.parse_args()
    rows = bench_diary(args.db, password=args.password, repeat=args.repeat)
    if args.window:
        rows += bench_window(args.db, args.password)
    width = max(len(r[0]) for r in rows)
    for name, median, worst, target in rows:
        print(f"{name:<{width}}  {median * 1000:>7.1f}ms  {worst * 1000:>7.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'yes' if worst <= target else ('median' if median <= target else 'NO')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
