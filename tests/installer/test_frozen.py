"""Smoke test of the frozen build (issue 17): `python installer/build.py`, then the frozen `htdesk` alone.

Marked `installer`: the main suite deselects it (pyproject's addopts) and `.ci/run` runs it as its own step
after the main suite (`pytest -m installer tests/installer`). Skipped, saying why, when PyInstaller is
missing. HTDESK_FROZEN_REUSE=1 reuses a dist/htdesk/ already built (the release workflow builds first).

The frozen program runs with an environment of its own (no PYTHONPATH, no virtual environment, PATH of the
system only, HOME and the data folders in tmp), from a folder outside the project, so nothing it does can
come from the project's Python packages.
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.installer

ROOT = Path(__file__).resolve().parents[2]
WINDOWS, LINUX = sys.platform == "win32", sys.platform.startswith("linux")
FOLDER = ROOT / "dist" / "htdesk"
EXE = FOLDER / ("htdesk.exe" if WINDOWS else "htdesk")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture(scope="module")
def frozen() -> Path:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install -e '.[build]'), "
                                               "so the frozen build cannot be made here")
    if not (os.environ.get("HTDESK_FROZEN_REUSE") and EXE.exists()):
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "installer" / "build.py")], check=True, cwd=ROOT, timeout=1500)
        print(f"\nbuild: {time.monotonic() - started:.0f} s")
    assert EXE.is_file()
    return EXE


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("frozen-user")


def clean_env(home: Path, **extra) -> dict:
    """What a new user's session has: the system's PATH, a home, no Python settings at all."""
    env = {"PATH": os.pathsep.join(p for p in ("/usr/bin", "/bin") if Path(p).is_dir()) if not WINDOWS
           else os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    for name in ("SYSTEMROOT", "TEMP", "TMP", "USERPROFILE"):      # Windows cannot start a process without them
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               HTDESK_DATA_DIR=str(home / "data" / "htdesk"), HTDESK_CACHE_DIR=str(home / "cache" / "htdesk"))
    env.update(extra)
    return env


def htdesk(exe: Path, home: Path, *args: str, password: str | None = "demo", code: int | None = 0, **extra):
    env = clean_env(home, **({"HTDESK_PASSWORD": password} if password else {}), **extra)
    done = subprocess.run([str(exe), *args], env=env, cwd=home, capture_output=True, text=True, timeout=300)
    if code is not None:
        assert done.returncode == code, f"htdesk {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def previous_quarter(today: datetime.date) -> str:
    """The financial quarter before today's (April to March, e.g. 2026-27-Q2)."""
    month = today.month - 3 if today.month > 3 else today.month + 9            # months since April, 1-based
    start_year = today.year if today.month > 3 else today.year - 1
    quarter = (month - 1) // 3                                                 # 0..3, this quarter
    if quarter == 0:
        start_year, quarter = start_year - 1, 4
    return f"{start_year}-{str(start_year + 1)[2:]}-Q{quarter}"


@pytest.fixture(scope="module")
def demo(frozen, home) -> Path:
    database = home / "demo.sqlite3"
    done = htdesk(frozen, home, "demo", "--clients", "300", "--db", str(database), password=None)
    assert "300 clients" in done.stdout and "recovery key" in done.stdout.lower()
    return database


def test_version_shows_the_packages_version(frozen, home):
    done = htdesk(frozen, home, "--version", password=None)
    assert done.stdout.strip() == f"htdesk {VERSION}"


def test_every_command_is_in_the_frozen_program(frozen, home):
    """The command modules are imported by name at run time: each must be in the build."""
    import argparse

    from desktop.cli import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    names = sorted(sub.choices)
    assert {"demo", "check", "return", "plan", "template", "import", "export", "backup", "user"} <= set(names)
    for name in names:
        done = htdesk(frozen, home, name, "--help", password=None)
        assert done.stdout.startswith(f"usage: htdesk {name}"), (name, done.stdout[:200])


def test_check_signs_in_to_the_encrypted_demo(frozen, home, demo):
    done = htdesk(frozen, home, "--db", str(demo), "--user", "manager", "check")
    assert "checks passed" in done.stdout
    wrong = htdesk(frozen, home, "--db", str(demo), "--user", "manager", "check", password="not-the-password", code=3)
    assert "Traceback" not in wrong.stdout + wrong.stderr


def test_return_for_a_quarter_reopens_with_openpyxl(frozen, home, demo):
    import openpyxl
    out = home / "return.xlsx"
    quarter = previous_quarter(datetime.date.today())
    htdesk(frozen, home, "--db", str(demo), "--user", "manager", "return", quarter, "--out", str(out))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == "Cover" and "Activity" in book.sheetnames
    cover = [c.value for c in book["Cover"]["B"] if c.value] + [c.value for c in book["Cover"]["A"] if c.value]
    assert any(quarter.replace("-Q", " Q") in str(v) for v in cover), cover


def test_plan_pdf_reopens_with_pypdf_with_its_fonts_embedded(frozen, home, demo):
    from pypdf import PdfReader
    out = home / "plan.pdf"
    for number in range(1, 60):           # the first demo client with an agreed plan
        done = htdesk(frozen, home, "--db", str(demo), "--user", "manager", "plan", f"HT-{number:06d}",
                      "--out", str(out), code=None)
        if done.returncode == 0:
            break
        assert done.returncode == 2 and "no personal health plan" in done.stderr + done.stdout
    else:
        pytest.fail("no demo client with a plan among the first 60")
    reader = PdfReader(out)
    assert "My health plan" in reader.pages[0].extract_text()
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("/FontFile2" in font["/FontDescriptor"].get_object() for font in fonts), \
        "every font embedded (DejaVu from the shipped fonts folder)"


def test_template_then_export_and_dry_run_import(frozen, home, demo):
    import openpyxl
    template = home / "template.xlsx"
    htdesk(frozen, home, "template", str(template), password=None)
    book = openpyxl.load_workbook(template)
    assert "Codes" in book.sheetnames and "Clients" in book.sheetnames
    export = home / "export.xlsx"
    htdesk(frozen, home, "--db", str(demo), "--user", "manager", "export", str(export))
    done = htdesk(frozen, home, "--db", str(demo), "--user", "manager", "import", str(export), "--dry-run")
    assert "Dry run" in done.stdout and "Clients: 300 row(s) read" in done.stdout   # calamine reads it


def test_reach_report_weak_password_and_server_driver(frozen, home, demo):
    """reportlab's chart, zxcvbn's frequency lists and psycopg's bundled libpq, frozen."""
    out = home / "reach.pdf"
    htdesk(frozen, home, "--db", str(demo), "--user", "manager", "report", "reach",
           previous_quarter(datetime.date.today()), "--out", str(out))
    assert out.read_bytes()[:5] == b"%PDF-"
    weak = htdesk(frozen, home, "--db", str(demo), "--user", "admin", "user", "add", "newbie",
                  HTDESK_NEW_PASSWORD="password123", code=2)
    assert "too common" in weak.stdout + weak.stderr
    server = htdesk(frozen, home, "--db", "postgresql://nobody@127.0.0.1:1/none", "--user", "admin", "check", code=4)
    assert "could not be reached" in server.stdout + server.stderr and "Connection refused" in server.stdout + server.stderr


def _xvfb(tmp: Path):
    """A private X display (Xvfb) and its number, or a skip saying what is missing."""
    if not LINUX or not shutil.which("Xvfb") or not shutil.which("xdotool"):
        pytest.skip("the window test types into the real window: it needs Linux with Xvfb and xdotool "
                    "(.ci/run installs them)")
    for number in range(90, 190):                  # a display number nobody on this machine uses
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert server.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    return server, f":{number}"


def _wait_for_window(display: str, title: str, app: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise AssertionError(f"the app ended (exit {app.returncode}) before a window titled {title!r} showed:\n"
                                 + app.stdout.read())
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True,
                               text=True, env={"DISPLAY": display, "PATH": os.environ["PATH"]})
        if found.stdout.strip():
            return found.stdout.split()[0]
        time.sleep(0.1)
    raise AssertionError(f"no window titled {title!r} within {timeout} s")


def test_window_opens_signs_in_and_closes_cleanly(frozen, home, demo, tmp_path):
    server, display = _xvfb(tmp_path)
    try:
        env = clean_env(home, DISPLAY=display)
        app = subprocess.Popen([str(frozen), "--db", str(demo), "--user", "coordinator"], env=env, cwd=home,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            xdo = {"DISPLAY": display, "PATH": os.environ["PATH"]}
            window = _wait_for_window(display, "^Sign in", app)
            subprocess.run(["xdotool", "windowfocus", "--sync", window], env=xdo, check=True)
            subprocess.run(["xdotool", "type", "--delay", "40", "demo"], env=xdo, check=True)
            subprocess.run(["xdotool", "key", "Return"], env=xdo, check=True)
            main = _wait_for_window(display, "^Health Trainer Desk .*DEMO", app)
            time.sleep(1.5)                                   # the pages fill (pyqtgraph, the worker)
            subprocess.run(["xdotool", "windowfocus", "--sync", main], env=xdo, check=True)
            subprocess.run(["xdotool", "key", "ctrl+q"], env=xdo, check=True)
            output, _ = app.communicate(timeout=30)
        finally:
            if app.poll() is None:
                app.kill()
        assert app.returncode == 0, output
        assert "Traceback" not in output and "Something went wrong" not in output, output
        log = (home / "data" / "htdesk" / "logs" / "htdesk.log").read_text(encoding="utf-8")
        assert "unhandled error" not in log and "Something went wrong" not in log
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(not LINUX, reason="the .tar.gz is the Linux package")
def test_linux_archive_unpacks_and_runs_with_nothing_but_itself(frozen, tmp_path):
    archives = sorted((ROOT / "dist").glob(f"htdesk-{VERSION}-linux-*.tar.gz"))
    assert archives, "build.py makes the .tar.gz on Linux"
    with tarfile.open(archives[-1]) as tar:
        names = set(tar.getnames())
        assert {"htdesk/htdesk", "htdesk/htdesk.desktop", "htdesk/htdesk.png", "htdesk/install-desktop-entry.sh",
                "htdesk/LICENSES.txt"} <= names
        assert any(n.endswith("resources/reference/postcode_lsoa11_england.csv.gz") for n in names)
        assert any(n.endswith("resources/fonts/DejaVuSans.ttf") for n in names)
        assert any(n.endswith("resources/codes/codes.json") for n in names)
        # Extension modules the app falls back from silently (calamine: the row parser reads instead;
        # psycopg: a system libpq), so their use cannot be seen from outside: they must at least ship.
        for prefix in ("htdesk/_internal/python_calamine/_python_calamine", "htdesk/_internal/psycopg_binary/_psycopg",
                       "htdesk/_internal/sqlcipher3/_sqlite3", "htdesk/_internal/pypdfium2_raw/libpdfium"):
            assert any(n.startswith(prefix) for n in names), prefix
        assert any(n.endswith(("htdesk-" + VERSION + ".dist-info/METADATA", "htdesk.egg-info/PKG-INFO"))
                   for n in names), "the version metadata (importlib.metadata reads it frozen)"
        tar.extractall(tmp_path / "unpacked", filter="tar")
    exe = tmp_path / "unpacked" / "htdesk" / "htdesk"
    home = tmp_path / "home"
    home.mkdir()
    assert htdesk(exe, home, "--version", password=None).stdout.strip() == f"htdesk {VERSION}"
    licences = (tmp_path / "unpacked" / "htdesk" / "LICENSES.txt").read_text(encoding="utf-8")
    for needed in ("Open Government Licence", "DejaVu", "SWEMWBS", "PySide6", "sqlcipher3", "LGPL"):
        assert needed in licences, needed
    size = sum(p.stat().st_size for p in (ROOT / "dist" / "htdesk").rglob("*") if p.is_file() and not p.is_symlink())
    print(f"\ndist/htdesk/: {size / 1e6:.1f} MB (issue 17's goal: 150 MB)")
    # The goal is not met (see the README's "Build a release"): this catches the folder growing further.
    assert size < 300e6


def test_wheel_installs_in_a_clean_virtual_environment_and_works(tmp_path):
    """python -m build, then pip install htdesk-*.whl in a new virtual environment (its dependencies from
    the package index), then the installed command from a folder outside the project."""
    pytest.importorskip("build", reason="the 'build' package is not installed (pip install -e '.[build]')")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "wheel"), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp_path / "wheel").glob("htdesk-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if WINDOWS else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    home = tmp_path / "home"
    home.mkdir()
    exe = bin_dir / ("htdesk.exe" if WINDOWS else "htdesk")
    assert htdesk(exe, home, "--version", password=None).stdout.strip() == f"htdesk {VERSION}"
    database = home / "w.sqlite3"
    htdesk(exe, home, "demo", "--clients", "30", "--db", str(database), password=None)
    template = home / "t.xlsx"
    htdesk(exe, home, "template", str(template), password=None)
    done = htdesk(exe, home, "--db", str(database), "--user", "manager", "check")
    assert "checks passed" in done.stdout
    where = subprocess.run([str(bin_dir / "python"), "-c", "import resources, db; print(resources.ROOT, db.__file__)"],
                           capture_output=True, text=True, cwd=home, env=clean_env(home), check=True).stdout
    assert str(venv) in where and str(ROOT) not in where, where
