"""The server this PC works on, saved once (issue 18): `htdesk connect postgresql://HOST/DBNAME`.

Only the address is kept, in the per-user data folder (server.txt, readable by its owner only); an
address holding a password is refused (check_url), so no password is ever saved by the app: the
server's password lives in the user's ~/.pgpass, or a client certificate stands for it. The database
is chosen as: --db, else $HTDESK_DB, else this saved server, else the local file.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths


def _file() -> Path:
    return paths.data_dir() / "server.txt"


def saved_server() -> str | None:
    try:
        text = _file().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def save_server(url: str) -> Path:
    from .server import check_url
    check_url(url)
    target = _file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(url.strip() + "\n", encoding="utf-8")
    paths.owner_only(tmp)
    tmp.replace(target)
    return target


def forget_server() -> bool:
    try:
        _file().unlink()
        return True
    except FileNotFoundError:
        return False
