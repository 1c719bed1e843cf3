"""Start-up of the frozen build beside the installed package's (issue 17): from starting the program to
the sign-in window on screen, both the same way, interleaved, in one run.

    python installer/build.py --folder-only      # dist/htdesk/ first
    python benchmarks/bench_frozen_startup.py [--repeat 7]

Each start is a new process with a clean environment (the system's PATH, a home in tmp) on one demo
database, on a private Xvfb display; the window is found from outside with xdotool (polled every 10 ms),
since nothing can be added to a frozen program. The frozen `dist/htdesk/htdesk` and the installed
package's console script (`.venv/bin/htdesk`, the command the README's developers run) alternate. Before
each start the page cache is dropped when this process may (root, /proc/sys/vm/drop_caches writable):
those are cold starts; otherwise warm ones, and the table says which. Needs Linux, Xvfb and xdotool.
Timings belong here, never in the tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ROOT / "dist" / "htdesk" / "htdesk"
INSTALLED = Path(sys.executable).parent / "htdesk"


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def start_display() -> tuple[subprocess.Popen, str]:
    for number in range(140, 240):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        time.sleep(0.05)
    return server, f":{number}"


def one_start(program: Path, database: Path, home: Path, display: str) -> float:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "DISPLAY": display,
           "HTDESK_DATA_DIR": str(home / "data"), "HTDESK_CACHE_DIR": str(home / "cache")}
    started = time.perf_counter()
    app = subprocess.Popen([str(program), "--db", str(database), "--user", "manager"], env=env, cwd=home,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Sign in"],
                                   env={"DISPLAY": display, "PATH": "/usr/bin:/bin"}, capture_output=True)
            if found.stdout.strip():
                return time.perf_counter() - started
            if app.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"{program} showed no sign-in window")
            time.sleep(0.01)
    finally:
        app.terminate()
        app.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not FROZEN.exists():
        print("dist/htdesk/htdesk is missing: run python installer/build.py first", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="htdesk-startup-"))
    database = home / "demo.sqlite3"
    subprocess.run([str(INSTALLED), "demo", "--clients", "300", "--db", str(database)], check=True,
                   capture_output=True, env=dict(os.environ, HTDESK_DATA_DIR=str(home / "data")))
    server, display = start_display()
    times: dict[str, list[float]] = {"frozen (dist/htdesk/htdesk)": [], "installed package (.venv/bin/htdesk)": []}
    cold = True
    try:
        for _ in range(args.repeat):
            for name, program in zip(times, (FROZEN, INSTALLED)):
                cold = drop_caches() and cold
                times[name].append(one_start(program, database, home, display))
    finally:
        server.terminate()
    kind = "cold (page cache dropped before each start)" if cold else "warm (the page cache could not be dropped)"
    print(f"Start to the sign-in window on screen, {args.repeat} starts each, interleaved; {kind}")
    print(f"{'program':40} {'median':>8} {'min':>8} {'max':>8} {'first':>8}")
    for name, values in times.items():
        print(f"{name:40} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s {values[0]:7.2f}s")
    frozen, installed = (statistics.median(v) for v in times.values())
    print(f"frozen / installed: {frozen / installed:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
