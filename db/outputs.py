"""Where a file the user asked for may be written: one check, one set of messages."""
from __future__ import annotations

from pathlib import Path

from .errors import BadPath


def check_output_path(path, suffixes: tuple[str, ...], what: str, *, example: str | None = None,
                      overwrite: bool = True) -> Path:
    """The path, or BadPath naming what to do: wrong ending, a folder, a missing folder, or a file
    already there when overwrite is False."""
    out = Path(path).expanduser()
    example = example or f"{out.stem or 'file'}{suffixes[0]}"
    if out.suffix.lower() not in suffixes:
        raise BadPath(f"{out.name}: give {what} a file name ending in {' or '.join(suffixes)}, e.g. {example}.")
    if out.is_dir():
        raise BadPath(f"{out} is a folder: give a file name for {what}, e.g. {example}.")
    if not out.parent.exists():
        raise BadPath(f"The folder {out.parent} does not exist. Create it first or choose another place.")
    if out.exists() and not overwrite:
        raise BadPath(f"{out} already exists: choose another name, or add --overwrite to replace it.")
    return out
