"""No crash, ever: the real main window worked hard in a process of its own.

PySide6 6.12.0 on Python 3.11 aborted the app after about 100 rounds of Ctrl+F, surname,
Down, Enter ("Fatal Python error: bool_dealloc"); pyproject.toml keeps that combination
out. This test would catch such a regression: soak_app.py runs as a subprocess, so a crash
fails the test with its stack instead of killing pytest, and the test passes only when
the process exits cleanly having counted everything it did.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SOAK_APP = Path(__file__).with_name("soak_app.py")
CYCLES, EMISSIONS = 1000, 20000


def test_main_window_survives_a_thousand_searches_and_twenty_thousand_signals(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONFAULTHANDLER", None)
    done = subprocess.run([sys.executable, str(SOAK_APP), str(CYCLES), str(EMISSIONS), str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    tail = f"exit code {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-6000:]}"
    assert done.returncode == 0, tail
    last = done.stdout.strip().splitlines()[-1]
    counts = dict(re.findall(r"(\w+)=(\d+)", last))
    assert last.startswith("SOAK DONE"), tail
    assert {k: int(v) for k, v in counts.items()} == {
        "opened": CYCLES, "page_switches": 2 * (CYCLES // 10), "bools": EMISSIONS, "objects": EMISSIONS}, tail
    assert "Fatal Python error" not in done.stderr, tail
