"""The drift chart: shares as lines over eight quarters (pyqtgraph).

Why pyqtgraph: it is maintained, draws with Qt itself (so it follows the window's fonts,
high-DPI scaling and palette, and works offscreen for the tests and under Xvfb), installs
from pip beside PySide6-Essentials (Qt Charts is not in Essentials, and matplotlib's Qt
backend would add a second drawing stack and ~40 MB for a few lines). It is imported only
when the chart is first shown, so signing in does not wait for it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

# Distinct by colour (Okabe-Ito, safe for colour-blind readers) and by marker, so colour is
# never the only way to tell the lines apart.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
SYMBOLS = ("o", "s", "t", "d", "+", "x")


def make_chart(title: str, parent=None):
    import pyqtgraph as pg
    pg.setConfigOptions(antialias=True, background="w", foreground="#222222")
    plot = pg.PlotWidget(parent)
    plot.setAccessibleName(title)
    plot.setAccessibleDescription("The same numbers are in the table below the chart.")
    plot.setTitle(title, size="11pt", bold=True)
    font = QFont(plot.font())
    font.setPointSizeF(max(9.0, font.pointSizeF()))
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setStyle(tickFont=font)
        axis.label.setFont(font)
    plot.setLabel("left", "Share (%)")
    plot.setLabel("bottom", "Financial quarter")
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMinimumHeight(260)
    return plot


SYMBOL_TEXT = {"o": "\u25cf", "s": "\u25a0", "t": "\u25bc", "d": "\u25c6", "+": "+", "x": "\u00d7"}


def draw(plot, quarter_labels: list[str], series: list[tuple[str, list]], local: tuple[str, float] | None) -> str:
    """series: (name, values per quarter, None where there is no figure). Returns the legend as rich
    text for a label under the chart (a legend inside the plot would cover the lines)."""
    import pyqtgraph as pg
    plot.clear()
    xs = list(range(len(quarter_labels)))
    legend = []
    for i, (name, values) in enumerate(series):
        colour, symbol = COLOURS[i % len(COLOURS)], SYMBOLS[i % len(SYMBOLS)]
        points = [(x, float(v)) for x, v in zip(xs, values) if v is not None]
        if not points:
            continue
        plot.plot([p[0] for p in points], [p[1] for p in points], name=name,
                  pen=pg.mkPen(colour, width=2.5), symbol=symbol, symbolSize=9,
                  symbolBrush=colour, symbolPen=colour)
        legend.append(f"<span style='color:{colour}; font-size:large'>\u2501{SYMBOL_TEXT[symbol]}\u2501</span> {name}")
    if local is not None:
        label, value = local
        line = pg.InfiniteLine(pos=float(value), angle=0, pen=pg.mkPen("#555555", width=2, style=Qt.DashLine))
        plot.addItem(line)
        legend.append(f"<span style='color:#555555; font-size:large'>\u2505\u2505\u2505</span> {label}")
    plot.getAxis("bottom").setTicks([[(x, label.replace(" ", "\n")) for x, label in zip(xs, quarter_labels)]])
    plot.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 20)]])
    plot.setXRange(-0.3, len(xs) - 0.7, padding=0)
    plot.setYRange(-2, 104, padding=0)
    return "&nbsp;&nbsp;&nbsp; ".join(legend)
