"""How a page describes its own place in the main window's navigation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtWidgets import QStyle


@dataclass(frozen=True)
class Nav:
    title: str                                   # with its Alt mnemonic, e.g. "&Clients"
    icon: QStyle.StandardPixmap
    shown_to: Callable[[object], bool] = lambda store: True   # store -> whether this user sees the page

    @property
    def plain_title(self) -> str:
        return self.title.replace("&", "")
