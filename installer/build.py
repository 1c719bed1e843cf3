"""Build Health Trainer Desk for this operating system (issue 17).

    python installer/build.py            # dist/htdesk/ (one folder, one `htdesk` executable) and
                                         # the package for this system: Linux a .tar.gz with a .desktop
                                         # file and icon, Windows the NSIS installer (when makensis is
                                         # on PATH), macOS "Health Trainer Desk.app" zipped
    python installer/build.py --folder-only   # dist/htdesk/ only

Needs the app's dependencies and PyInstaller in the running Python (`pip install -e ".[build]"`).
Prints the build time and the folder's size; exits non-zero if anything fails.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"
DIST = ROOT / "dist"
WORK = ROOT / "build"
FOLDER = DIST / "htdesk"
APP_NAME = "Health Trainer Desk"
PUBLISHER = "Health Trainer Desk"


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def platform_tag() -> str:
    import platform
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64"}.get(machine, machine)        # Windows says AMD64; macOS arm64 stays arm64
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")
    return f"{system}-{machine}"


def _requirement_names(requirements) -> list[str]:
    names = []
    for req in requirements or []:
        if "extra ==" in req:
            continue
        names.append(re.split(r"[\s;<>=!\[~(]", req.strip(), maxsplit=1)[0])
    return names


def bundled_distributions() -> list[md.Distribution]:
    """The app's dependencies, and theirs, as installed here (what PyInstaller copies)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = _requirement_names(project["dependencies"]) + ["psycopg-binary"]
    seen: dict[str, md.Distribution] = {}
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        todo += _requirement_names(dist.requires)
    return [seen[k] for k in sorted(seen)]


def write_licences(target: Path) -> None:
    """LICENSES.txt at the folder's top: the data's and fonts' licence lines, then every bundled
    package with its licence and the licence files it ships (Qt's LGPL among them)."""
    parts = [f"{APP_NAME} {version()}\n", "=" * 72 + "\n",
             "Reference data, fonts and questionnaires shipped with the app\n\n",
             (ROOT / "resources" / "reference" / "README.md").read_text(encoding="utf-8"), "\n",
             (ROOT / "resources" / "fonts" / "README.md").read_text(encoding="utf-8"), "\n",
             (ROOT / "resources" / "fonts" / "LICENSE-DejaVu.txt").read_text(encoding="utf-8"), "\n",
             "SWEMWBS (c) NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
             "all rights reserved.\n\n", "=" * 72 + "\n", "Python and the packages bundled with the app\n\n",
             f"Python {sys.version.split()[0]}: Python Software Foundation License\n\n"]
    for dist in bundled_distributions():
        meta = dist.metadata
        licence = meta.get("License-Expression") or (meta.get("License") or "").splitlines()[0:1]
        licence = licence if isinstance(licence, str) else (licence[0] if licence else "")
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        parts.append("-" * 72 + f"\n{meta['Name']} {dist.version}: {licence or ', '.join(classifiers) or 'see below'}\n"
                     f"{meta.get('Home-page') or ''}\n")
        for file in dist.files or []:
            if re.search(r"(^|/)(LICEN[CS]E|COPYING|NOTICE)[^/]*$", str(file), re.I) and "dist-info" in str(file):
                try:
                    parts.append("\n" + Path(dist.locate_file(file)).read_text(encoding="utf-8", errors="replace") + "\n")
                except OSError:
                    pass
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(parts), encoding="utf-8")


def windows_version_file(target: Path) -> None:
    """PyInstaller's version resource: the file details Windows shows for htdesk.exe."""
    numbers = [int(n) for n in re.findall(r"\d+", version())[:3]] + [0, 0, 0]
    v = tuple(numbers[:4])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={v}, prodvers={v}, mask=0x3f, flags=0x0, OS=0x40004, fileType=0x1,
                    subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('080904B0', [
      StringStruct('CompanyName', '{PUBLISHER}'),
      StringStruct('FileDescription', '{APP_NAME}'),
      StringStruct('FileVersion', '{version()}'),
      StringStruct('InternalName', 'htdesk'),
      StringStruct('LegalCopyright', 'See LICENSES.txt'),
      StringStruct('OriginalFilename', 'htdesk.exe'),
      StringStruct('ProductName', '{APP_NAME}'),
      StringStruct('ProductVersion', '{version()}')])]),
    VarFileInfo([VarStruct('Translation', [2057, 1200])])
  ]
)
""", encoding="utf-8")


VENDORED = re.compile(r"-[0-9a-f]{8}\.so|\.libs/")


def strip_debug(folder: Path) -> int:
    """Linux: debug sections out of the ELF files (libpython alone 23 MB -> 6 MB), except the libraries a
    wheel vendors (auditwheel-patched; strip breaks numpy's OpenBLAS). Returns the bytes saved."""
    strip = shutil.which("strip")
    if strip is None:
        return 0
    saved = 0
    for path in sorted(folder.rglob("*.so*")):
        if path.is_symlink() or not path.is_file() or VENDORED.search(path.relative_to(folder).as_posix()):
            continue
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        before = path.stat().st_size
        if subprocess.run([strip, "--strip-debug", str(path)], capture_output=True).returncode == 0:
            saved += before - path.stat().st_size
    return saved


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def pyinstaller() -> None:
    env = dict(os.environ, HTDESK_BUILD_VERSION=version(), HTDESK_BUILD_LICENCES=str(WORK / "LICENSES.txt"))
    write_licences(WORK / "LICENSES.txt")
    if sys.platform == "win32":
        windows_version_file(WORK / "version_info.txt")
        env["HTDESK_BUILD_WIN_VERSION_FILE"] = str(WORK / "version_info.txt")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(WORK / "pyinstaller"),
                    str(INSTALLER / "htdesk.spec")], check=True, cwd=ROOT, env=env)
    shutil.copy2(WORK / "LICENSES.txt", FOLDER / "LICENSES.txt")     # where people look: beside the program


DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Health Trainer Desk
GenericName=Case management
Comment=Case management for health trainer services
Exec=htdesk
Icon=htdesk
Terminal=false
Categories=Office;
Keywords=health;trainer;case;referral;
StartupWMClass=htdesk
"""

LINUX_INSTALL = """#!/bin/sh
# Adds Health Trainer Desk to this user's applications menu (no administrator rights needed).
# Run from the unpacked folder: ./install-desktop-entry.sh   Undo: ./install-desktop-entry.sh --remove
set -e
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
if [ "$1" = "--remove" ]; then
  rm -f "$apps/htdesk.desktop" "$icons/htdesk.png"
  echo "Removed from the applications menu. Your records and backups are left in place."
  exit 0
fi
mkdir -p "$apps" "$icons"
cp "$here/htdesk.png" "$icons/htdesk.png"
sed -e "s|^Exec=.*|Exec=\\"$here/htdesk\\"|" -e "s|^Icon=.*|Icon=$here/htdesk.png|" "$here/htdesk.desktop" > "$apps/htdesk.desktop"
chmod 0644 "$apps/htdesk.desktop"
echo "Health Trainer Desk is in your applications menu (Office). Or run $here/htdesk"
"""


def linux_extras(folder: Path) -> None:
    """The .desktop file, its icon and the script that puts them in the user's applications menu."""
    shutil.copy2(ROOT / "resources" / "icons" / "htdesk.png", folder / "htdesk.png")
    (folder / "htdesk.desktop").write_text(DESKTOP_ENTRY, encoding="utf-8")
    script = folder / "install-desktop-entry.sh"
    script.write_text(LINUX_INSTALL, encoding="utf-8")
    script.chmod(0o755)


def package_linux() -> Path:
    linux_extras(FOLDER)
    out = DIST / f"htdesk-{version()}-{platform_tag()}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(FOLDER, arcname="htdesk")
    return out


def package_windows() -> Path | None:
    makensis = shutil.which("makensis")
    if makensis is None:
        print("makensis not found: the installer is not built (install NSIS 3 and run again)", file=sys.stderr)
        return None
    return compile_installer(makensis, FOLDER, DIST / f"htdesk-{version()}-setup.exe")


def compile_installer(makensis: str, folder: Path, out: Path) -> Path:
    """makensis on installer/htdesk.nsi for the given folder (also used by the tests, on Linux)."""
    subprocess.run([makensis, "-V2", f"-DVERSION={version()}", f"-DSRCDIR={folder}", f"-DOUTFILE={out}",
                    f"-DICON={ROOT / 'resources' / 'icons' / 'htdesk.ico'}",
                    f"-DLICENCES={folder / 'LICENSES.txt'}", str(INSTALLER / "htdesk.nsi")], check=True)
    return out


def package_macos() -> Path:
    app = DIST / f"{APP_NAME}.app"
    out = DIST / f"htdesk-{version()}-{platform_tag()}.zip"
    subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(app), str(out)], check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder-only", action="store_true", help="build dist/htdesk/ only, no package")
    args = parser.parse_args(argv)
    started = time.monotonic()
    pyinstaller()
    built = time.monotonic() - started
    if sys.platform.startswith("linux"):
        print(f"stripped debug sections: {strip_debug(FOLDER) / 1e6:.1f} MB")
    package = None
    if not args.folder_only:
        package = {"win32": package_windows, "darwin": package_macos}.get(sys.platform, package_linux)()
    size = folder_size(FOLDER)
    print(f"dist/htdesk/: {size / 1e6:.1f} MB; PyInstaller {built:.0f} s, total {time.monotonic() - started:.0f} s")
    if package is not None:
        print(f"{package.relative_to(ROOT)}: {package.stat().st_size / 1e6:.1f} MB")
    if size > 150e6:
        print("warning: the folder is over the 150 MB goal", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
