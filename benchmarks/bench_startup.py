"""Cold start, as people feel it: from starting the program to the sign-in window on screen,
against a bare PySide6 dialog started the same way, and `htdesk --help`. For benchmarks/run.py
or by hand:

    python benchmarks/bench_startup.py [--db PATH] [--repeat 7]

Each start is a fresh `python` process. The app goes through the `htdesk` entry point
(desktop.cli.main, as the console script does) on an existing database; the bare dialog is a
QApplication with an empty QDialog. In both, the same few lines end the process when a dialog is first
painted (the sign-in window on screen). The two kinds
of start are interleaved and repeated, and the ratio is of their medians in this one run.
Runs offscreen unless a display is set. Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Row = tuple[str, float, float, float]

# Shared by both kinds of start: the first paint of a dialog ends the process. QDialog is swapped,
# before either program imports it, for a subclass that notices its own paint (one Python call per
# paint; an application-wide event filter would cost the larger window more than the bare one).
_STOP_AT_FIRST_DIALOG = """
import os, sys
import PySide6.QtWidgets as W
class _Dialog(W.QDialog):
    def paintEvent(self, event):
        super().paintEvent(event)
        sys.stdout.write("shown " + type(self).__name__ + "\\n"); sys.stdout.flush()
        os._exit(0)
W.QDialog = _Dialog
"""

BARE = _STOP_AT_FIRST_DIALOG + """
app = W.QApplication(sys.argv[:1])
W.QDialog().exec()
"""

APP = _STOP_AT_FIRST_DIALOG + """
from desktop.cli import main
sys.exit(main(["--db", sys.argv[1]]))
"""


def _environment() -> dict:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONDONTWRITEBYTECODE"] = "1"    # both read the same .pyc files; neither writes
    return env


def _time_start(script: str, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=_environment(),
                          capture_output=True, text=True, timeout=60)
    took = time.perf_counter() - started
    if not done.stdout.startswith("shown"):
        raise RuntimeError(f"the start did not reach a dialog:\n{done.stdout}\n{done.stderr}")
    return took


def cold_start(path: Path, repeat: int = 7) -> tuple[list[float], list[float]]:
    """(app times, bare dialog times), interleaved, after one warm-up of each."""
    _time_start(APP, str(path)), _time_start(BARE)
    app, bare = [], []
    for _ in range(repeat):
        app.append(_time_start(APP, str(path)))
        bare.append(_time_start(BARE))
    return app, bare


def help_times(repeat: int = 7) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "desktop.cli", "--help"], cwd=ROOT, env=_environment(),
                       check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def bench_startup(path: Path, repeat: int = 7) -> list[Row]:
    app, bare = cold_start(path, repeat)
    ratio = statistics.median(app) / statistics.median(bare)
    print(f"cold start to the sign-in window: median {statistics.median(app) * 1000:.0f} ms "
          f"(range {min(app) * 1000:.0f}-{max(app) * 1000:.0f}); bare PySide6 dialog: median "
          f"{statistics.median(bare) * 1000:.0f} ms (range {min(bare) * 1000:.0f}-{max(bare) * 1000:.0f}); "
          f"ratio of medians {ratio:.2f} (goal <= 1.5)")
    helps = help_times(repeat)
    return [("cold start to sign-in window (bare dialog x1.5)", statistics.median(app), max(app),
             1.5 * statistics.median(bare)),
            ("htdesk --help", statistics.median(helps), max(helps), 0.5)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/htdesk-bench-desktop.sqlite3"),
                        help="an existing database (make one with `htdesk demo`)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, median, worst, target in bench_startup(args.db, args.repeat):
        print(f"{name}: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms, target {target * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
