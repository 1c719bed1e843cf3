"""Each command loads only what it needs: `htdesk --help` loads neither Qt nor the data layer,
and the desktop app puts its sign-in window on screen before the store, the return engine,
openpyxl and reportlab load. Run in fresh processes, so nothing a test imported counts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("PySide6", "openpyxl", "reportlab", "sqlite_utils", "argon2", "db.store", "db.returns", "reports")


def _modules_after(code: str, *args: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


HELP = """
import contextlib, io, json, sys
from desktop.cli import main
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps({"modules": sorted(sys.modules), "help": shown.getvalue()}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["return", "--help"], ["plan", "--help"], ["import", "--help"],
                                  ["letter", "--help"], ["demo", "--help"], ["diary", "--help"]])
def test_help_loads_neither_qt_nor_the_data_layer(argv):
    seen = _modules_after(HELP, *argv)
    assert "usage: htdesk" in seen["help"]
    assert [name for name in HEAVY if _loaded(seen["modules"], name)] == []


def test_choices_written_out_for_help_match_the_data_layer():
    from db.documents import LETTER_KINDS
    from db.returns import POLICIES
    from desktop.cli import document_commands, return_commands
    assert document_commands.LETTER_KINDS == LETTER_KINDS
    assert return_commands.SDC_POLICIES == POLICIES


SIGN_IN = """
import json, os, sys
import PySide6.QtWidgets as W
loaded_when_shown = []
class _Dialog(W.QDialog):
    def exec(self):
        loaded_when_shown.extend(sorted(sys.modules))
        visible = self.isVisible()
        self.username.setText("coordinator")
        self.password.setText("demo")
        self.try_sign_in()
        actor = self.store.store.actor.username if self.store.store and self.store.store.actor else None
        print(json.dumps({"modules": loaded_when_shown, "visible": visible, "accepted": self.result() == 1,
                          "actor": actor, "message": self.message.text()}))
        sys.stdout.flush()
        os._exit(0)
W.QDialog = _Dialog
from desktop.cli import main
main(["--db", sys.argv[1]])
"""


def test_sign_in_window_is_on_screen_before_the_heavy_modules_load_and_signing_in_works(tmp_path):
    from db.demo import create_demo
    path = tmp_path / "demo.sqlite3"
    create_demo(path, clients=30, seed=2, today=date(2026, 11, 1))
    seen = _modules_after(SIGN_IN, str(path))
    assert seen["visible"]
    assert [name for name in ("openpyxl", "reportlab", "sqlite_utils", "db.store", "db.returns",
                              "desktop.main_window") if _loaded(seen["modules"], name)] == []
    assert seen["accepted"] and seen["actor"] == "coordinator", seen["message"]
