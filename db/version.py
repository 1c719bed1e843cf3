"""The app's version, one place for the About box, `htdesk --version` and the database's meta row."""
from __future__ import annotations

from pathlib import Path


def app_version() -> str:
    """The installed package's version; from a source tree that was not installed, pyproject.toml's."""
    try:
        from importlib.metadata import version
        return version("htdesk")
    except Exception:  # noqa: BLE001 - not installed (a source tree, a frozen build without metadata)
        pass
    try:
        import tomllib
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except Exception:  # noqa: BLE001
        return "unknown"
