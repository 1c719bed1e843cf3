"""Small line charts of a client's results over time (reportlab graphics).

Drawn by hand rather than with reportlab's LinePlot so every label can be made
large enough for large print and no label collides with another.
"""
from __future__ import annotations

import math
from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import fonts
from .layout import BLUE, GREY, RULE, TEXT, Theme
from .wording import number, short_date


def _ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    span = max(hi - lo, 1e-9)
    for step in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if span / step <= most - 1:
            break
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 0.001:
        ticks.append(round(v, 6))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 6))
    return ticks


def line_chart(points: tuple[tuple[str, float], ...], t: Theme, *, decimals: int = 1,
               ticks: tuple[float, ...] | None = None, unit: str = "") -> Drawing:
    """A chart of (ISO date, value) points, oldest first, labelled with each value.

    `ticks`: the value axis's gridlines (first and last are its ends); worked out from the values when None."""
    label_size = t.small if t.large_print else 9.5
    value_size = t.small if t.large_print else 10
    width = t.frame_width
    height = (88 if t.large_print else 62) * mm
    values = [v for _, v in points]
    if ticks is None:   # a scale of its own around the values; a fixed scale (7 to 35) otherwise
        pad = max((max(values) - min(values)) * 0.25, 1.0)
        ticks = _ticks(min(values) - pad, max(values) + pad)
    lo, hi = ticks[0], ticks[-1]
    tick_decimals = 0 if all(float(x).is_integer() for x in ticks) else 1
    tick_labels = [number(x, tick_decimals) + (f" {unit}" if unit else "") for x in ticks]
    left = max(stringWidth(s, fonts.REGULAR, label_size) for s in tick_labels) + 8
    right = stringWidth(short_date(points[-1][0]), fonts.REGULAR, label_size) / 2 + 4
    bottom = label_size * 2.2
    top = value_size * 2.0
    plot_w, plot_h = width - left - right, height - bottom - top

    d = Drawing(width, height, initialFontName=fonts.REGULAR)

    def y_of(v: float) -> float:
        return bottom + (v - lo) / (hi - lo) * plot_h

    days = [date.fromisoformat(p[0][:10]).toordinal() for p in points]
    span = days[-1] - days[0]
    # Far enough in that the first and last dates, centred under their points, clear the value axis.
    inset = max(plot_w * 0.04, stringWidth(short_date(points[0][0]), fonts.REGULAR, label_size) / 2 + 2)
    if span > 0:
        xs = [left + inset + (day - days[0]) / span * (plot_w - 2 * inset) for day in days]
    else:   # results on one day: spread them out in the order recorded
        xs = [left + inset + i / max(len(points) - 1, 1) * (plot_w - 2 * inset) for i in range(len(points))]

    for tick, text in zip(ticks, tick_labels):
        y = y_of(tick)
        d.add(Line(left, y, left + plot_w, y, strokeColor=RULE, strokeWidth=0.5))
        d.add(String(left - 5, y - label_size * 0.35, text, fontName=fonts.REGULAR, fontSize=label_size,
                     fillColor=GREY, textAnchor="end"))
    d.add(Line(left, bottom, left + plot_w, bottom, strokeColor=GREY, strokeWidth=1))

    coords = [c for x, v in zip(xs, values) for c in (x, y_of(v))]
    d.add(PolyLine(coords, strokeColor=BLUE, strokeWidth=2.5 if t.large_print else 2))
    # Label every point when they fit; otherwise the first, the last, the lowest and the highest.
    labelled = set(range(len(points)))
    if len(points) > 8:
        labelled = {0, len(points) - 1, values.index(min(values)), values.index(max(values))}
    last_label_end = -1e9
    for i, (x, v) in enumerate(zip(xs, values)):
        y = y_of(v)
        d.add(Circle(x, y, 3.6 if t.large_print else 3, fillColor=BLUE, strokeColor=BLUE))
        if i in labelled:
            text = number(v, decimals)
            w = stringWidth(text, fonts.BOLD, value_size)
            if x - w / 2 > last_label_end + 2 or i == len(points) - 1:
                d.add(String(x, y + value_size * 0.7, text, fontName=fonts.BOLD, fontSize=value_size,
                             fillColor=TEXT, textAnchor="middle"))
                last_label_end = x + w / 2
    # Dates under the axis: first and last always, others where they do not collide.
    placed: list[tuple[float, float]] = []
    order = [0, len(points) - 1] + list(range(1, len(points) - 1))
    for i in dict.fromkeys(order):
        text = short_date(points[i][0])
        w = stringWidth(text, fonts.REGULAR, label_size)
        a, b = xs[i] - w / 2, xs[i] + w / 2
        if any(a < pb + 6 and pa < b + 6 for pa, pb in placed):
            continue
        placed.append((a, b))
        d.add(Line(xs[i], bottom, xs[i], bottom - 3, strokeColor=GREY, strokeWidth=1))
        d.add(String(xs[i], bottom - label_size * 1.35, text, fontName=fonts.REGULAR, fontSize=label_size,
                     fillColor=GREY, textAnchor="middle"))
    return d
