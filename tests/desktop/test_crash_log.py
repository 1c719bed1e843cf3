"""A hard crash (segfault, abort inside Qt) leaves its traceback in the log file, from the
desktop app and from the command line, through the set-up they run first."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each script crashes the process at a point of the real start-up, after the crash log is set up.
GUI_CRASH = textwrap.dedent("""
    import argparse, faulthandler
    from desktop import app

    def crash_at_sign_in(args, qt_app):   # the sign-in window would open here
        faulthandler._sigsegv()

    app.start = crash_at_sign_in
    app.run_app(argparse.Namespace(db=None, user=None))
""")

CLI_CRASH = textwrap.dedent("""
    import faulthandler
    from desktop import cli

    def crash_while_reading_arguments():
        faulthandler._sigsegv()

    cli.build_parser = crash_while_reading_arguments
    cli.main(["check"])
""")


@pytest.mark.parametrize("script,frames", [
    (GUI_CRASH, ("line 6 in crash_at_sign_in", os.path.join("desktop", "app.py") + '", line', "in run_app")),
    (CLI_CRASH, ("line 6 in crash_while_reading_arguments", os.path.join("desktop", "cli", "__init__.py") + '", line', "in main")),
])
def test_a_hard_crash_writes_its_traceback_to_the_log_file(tmp_path, script, frames):
    data = tmp_path / "data"
    env = {**os.environ, "HTDESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONFAULTHANDLER", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGSEGV, done.stderr
    log = (data / "logs" / "htdesk.log").read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in log
    for frame in frames:                                   # the Python frames of the crash
        assert frame in log, log
    assert "Fatal Python error" not in done.stderr         # it went to the log, not to a console nobody reads
