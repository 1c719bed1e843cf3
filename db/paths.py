"""Where the app keeps its files on this PC (no Qt: the command line uses it too)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "htdesk"


def data_dir() -> Path:
    """Per-user data folder: the default home of the database and its backups."""
    if os.environ.get("HTDESK_DATA_DIR"):
        return Path(os.environ["HTDESK_DATA_DIR"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "HealthTrainerDesk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "HealthTrainerDesk"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP_DIR_NAME


def cache_dir() -> Path:
    """Per-user cache: derived files that can be rebuilt (the postcode reference database)."""
    if os.environ.get("HTDESK_CACHE_DIR"):
        return Path(os.environ["HTDESK_CACHE_DIR"])
    if sys.platform == "win32":
        return data_dir() / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "HealthTrainerDesk"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_DIR_NAME


def default_database() -> Path:
    if os.environ.get("HTDESK_DB"):
        return Path(os.environ["HTDESK_DB"])
    return data_dir() / "htdesk.sqlite3"


def backups_dir(database: Path) -> Path:
    """Backups live in a folder beside the database, so copying one folder keeps both."""
    return Path(database).resolve().parent / "backups"


def owner_only(path: Path, folder: bool = False) -> None:
    """Narrow a file (0600) or folder (0700) the app made to its owner; where modes mean nothing
    (Windows: the per-user folders are the user's already) it changes nothing."""
    try:
        os.chmod(path, 0o700 if folder else 0o600)
    except OSError:
        pass


def log_file() -> Path:
    return data_dir() / "logs" / "htdesk.log"
