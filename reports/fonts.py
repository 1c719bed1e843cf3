"""DejaVu Sans, registered with reportlab once per process and embedded in every PDF.

The PDF standard fonts cannot print names such as Nguyễn (and print Siobhán or
Zoë only by luck of encoding), so every PDF uses the shipped TrueType files,
which reportlab embeds as subsets with a ToUnicode map (text can be searched
and copied back exactly).
"""
from __future__ import annotations

import threading

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

import resources

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_lock = threading.Lock()   # PDFs are built on a worker thread; registration must happen once
_done = False


def register() -> None:
    """Register the fonts (cheap after the first call) and map <b> in paragraphs to the bold face."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        for name, file in _FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(resources.path("fonts", file))))
        # No italic faces are shipped: italic markup falls back to the upright ones.
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
        _done = True


def canvas_options() -> dict:
    """Canvas settings so not even an unused standard font is named in the file."""
    register()
    return {"initialFontName": REGULAR, "initialFontSize": 12}
