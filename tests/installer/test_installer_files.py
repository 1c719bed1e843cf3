"""Issue 17, the parts that cannot run here checked as far as they can be: the release workflow's YAML
(GitHub Actions cannot run on this machine), the NSIS installer script compiled with makensis for a
stand-in folder (the installer itself cannot run: no Windows), the Windows file-details resource, the
Linux .desktop file and its install script. Fast: part of the main suite."""
from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def _build_module():
    spec = importlib.util.spec_from_file_location("htdesk_installer_build", ROOT / "installer" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _workflow() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML (the dev extra) reads the workflow")
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_release_workflow_builds_smoke_tests_and_releases_on_all_three_systems():
    flow = _workflow()
    on = flow.get("on", flow.get(True))          # YAML 1.1 reads the key `on` as True
    assert "tags" in on["push"] and "workflow_dispatch" in on
    build = flow["jobs"]["build"]
    systems = build["strategy"]["matrix"]["os"]
    assert any(s.startswith("windows") for s in systems)
    assert any(s.startswith("macos") for s in systems)
    assert any(s.startswith("ubuntu") for s in systems)
    assert build["runs-on"] == "${{ matrix.os }}"
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "installer/build.py" in runs
    assert re.search(r"pytest .*-m installer", runs), "the smoke test runs on each system"
    assert "python -m build" in runs, "the wheel is built"
    for step in build["steps"] + flow["jobs"]["release"]["steps"]:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"pin actions to a major version: {step}"
    release = flow["jobs"]["release"]
    assert release["needs"] == "build" and release["permissions"]["contents"] == "write"
    uploads = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and "dist/" in uploads[0]["with"]["path"]
    attach = "\n".join(s.get("run", "") for s in release["steps"])
    assert "gh release" in attach


def test_nsis_script_compiles_into_an_installer(tmp_path):
    makensis = shutil.which("makensis")
    if makensis is None:
        pytest.skip("makensis is not installed (Debian's nsis package); .ci/run installs it")
    folder = tmp_path / "htdesk"
    (folder / "_internal" / "resources").mkdir(parents=True)
    for name in ("htdesk.exe", "HealthTrainerDesk.exe"):
        (folder / name).write_bytes(b"MZ stand-in for the frozen executable")
    (folder / "_internal" / "resources" / "x.txt").write_text("a resource", encoding="utf-8")
    (folder / "LICENSES.txt").write_text("licences", encoding="utf-8")
    build = _build_module()
    out = build.compile_installer(makensis, folder, tmp_path / "htdesk-0.0.0-setup.exe")
    data = out.read_bytes()
    assert data[:2] == b"MZ" and b"Nullsoft" in data
    if shutil.which("7z"):        # 7-Zip reads NSIS installers: the folder went in whole, with the uninstaller
        listing = subprocess.run(["7z", "l", str(out)], capture_output=True, text=True, check=True).stdout
        for name in ("htdesk.exe", "HealthTrainerDesk.exe", "LICENSES.txt", "_internal/resources/x.txt",
                     "uninstall.exe"):
            assert re.search(rf"\s{re.escape(name)}$", listing, re.M), (name, listing)
    # Without the defines build.py passes, makensis stops with the reason (no half-made installer).
    bare = subprocess.run([makensis, "-V1", str(ROOT / "installer" / "htdesk.nsi")], capture_output=True, text=True)
    assert bare.returncode != 0 and "installer/build.py" in bare.stdout + bare.stderr


def test_nsis_script_installs_per_user_and_documents_the_machine_wide_silent_install():
    text = (ROOT / "installer" / "htdesk.nsi").read_text(encoding="utf-8")
    assert "RequestExecutionLevel user" in text
    assert 'InstallDir "$LOCALAPPDATA\\Programs\\' in text
    assert "/S /ALLUSERS" in text and "$PROGRAMFILES64" in text
    assert "CreateShortcut \"$SMPROGRAMS\\" in text
    uninstall = text[text.index('Section "Uninstall"'):]
    uninstall = uninstall[:uninstall.index("SectionEnd")]
    assert "HealthTrainerDesk" not in re.sub(r'"\$INSTDIR\\HealthTrainerDesk\.exe"|UNINST_KEY', "", uninstall), \
        "the uninstaller never touches the data folder"
    assert 'RMDir /r "$INSTDIR"' not in uninstall


def test_windows_file_details_resource_parses(tmp_path):
    """The version resource PyInstaller writes into htdesk.exe (PyInstaller evaluates this text on Windows;
    its module cannot be imported elsewhere, so the expression is read with ast)."""
    import ast
    build = _build_module()
    build.windows_version_file(tmp_path / "v.txt")
    tree = ast.parse((tmp_path / "v.txt").read_text(encoding="utf-8"), mode="eval")
    assert isinstance(tree.body, ast.Call) and tree.body.func.id == "VSVersionInfo"
    strings = {node.args[0].value: node.args[1].value for node in ast.walk(tree)
               if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "StringStruct"}
    assert strings["ProductName"] == "Health Trainer Desk" and strings["OriginalFilename"] == "htdesk.exe"
    assert strings["FileVersion"] == strings["ProductVersion"] == build.version()
    fixed = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and node.func.id == "FixedFileInfo")
    filevers = ast.literal_eval(next(k.value for k in fixed.keywords if k.arg == "filevers"))
    assert len(filevers) == 4 and ".".join(map(str, filevers[:3])) == build.version()


def test_linux_desktop_entry_installs_into_the_users_menu(tmp_path):
    build = _build_module()
    folder = tmp_path / "unpacked" / "htdesk"
    folder.mkdir(parents=True)
    build.linux_extras(folder)
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(folder / "htdesk.desktop")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Health Trainer Desk"
    assert section["Terminal"] == "false" and (folder / "htdesk.png").read_bytes()[:4] == b"\x89PNG"
    if shutil.which("desktop-file-validate"):
        assert subprocess.run(["desktop-file-validate", str(folder / "htdesk.desktop")]).returncode == 0
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "share"))
    done = subprocess.run([str(folder / "install-desktop-entry.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    installed = configparser.ConfigParser(interpolation=None)
    installed.optionxform = str
    installed.read(home / "share" / "applications" / "htdesk.desktop")
    assert installed["Desktop Entry"]["Exec"] == f'"{folder}/htdesk"'
    assert installed["Desktop Entry"]["Icon"] == f"{folder}/htdesk.png"
    if shutil.which("desktop-file-validate"):
        assert subprocess.run(["desktop-file-validate", str(home / "share" / "applications" / "htdesk.desktop")]
                              ).returncode == 0
    removed = subprocess.run([str(folder / "install-desktop-entry.sh"), "--remove"], env=env, capture_output=True,
                             text=True)
    assert removed.returncode == 0 and "left in place" in removed.stdout
    assert not (home / "share" / "applications" / "htdesk.desktop").exists()


def test_spec_keeps_what_pyqtgraph_needs_and_ships_the_version_metadata():
    """Two things a frozen build got wrong here first: pyqtgraph imports QtOpenGL at import time (left
    out, the main window failed to open), and without the package metadata the version is unknown."""
    spec = (ROOT / "installer" / "htdesk.spec").read_text(encoding="utf-8")
    unused = re.search(r"QT_UNUSED = \[(.*?)\]", spec, re.S).group(1)
    assert '"QtOpenGL"' not in unused and '"QtOpenGLWidgets"' not in unused
    assert 'copy_metadata("htdesk")' in spec
    assert sys.platform != "win32" or "console=False" in spec


def test_reach_fingerprint_falls_back_to_the_version_where_the_source_is_not_at_hand(monkeypatch, tmp_path):
    """A frozen build holds no .py files beside db/: the kept quarters' fingerprint is then the app's
    version (a new release counts every quarter again), not the code lists' alone."""
    from db import reach_kept
    from db.version import app_version
    monkeypatch.setattr(reach_kept, "_ENGINE", [])
    here = reach_kept.engine_version()
    assert not here.startswith("app-")
    frozen_db = tmp_path / "_internal" / "db"
    frozen_db.mkdir(parents=True)
    monkeypatch.setattr(reach_kept, "__file__", str(frozen_db / "reach_kept.pyc"))
    monkeypatch.setattr(reach_kept, "_ENGINE", [])
    assert reach_kept.engine_version() == "app-" + app_version()
