"""The drift chart: shares as lines over eight quarters (pyqtgraph).

Why pyqtgraph: it is maintained, draws with Qt itself (so it follows the window's fonts,
high-DPI scaling and palette, and works offscreen for the tests and under Xvfb), installs
from pip beside PySide6-Essentials (Qt Charts is not in Essentials, and matplotlib's Qt
backend would add a second drawing stack and ~40 MB for a few lines). It is imported only
when the chart is first shown, so signing in does not wait for it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

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


def draw(plot, quarter_labels: list[str], series: list[tuple[str, list]], local: tuple[str, float] | None) -> None:
    """series: (name, values per quarter, None where there is no figure)."""
    import pyqtgraph as pg
    plot.clear()
    if plot.plotItem.legend is None:
        plot.addLegend(offset=(8, 8), labelTextSize="9pt")
    legend = plot.plotItem.legend
    legend.clear()
    xs = list(range(len(quarter_labels)))
    for i, (name, values) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        points = [(x, float(v)) for x, v in zip(xs, values) if v is not None]
        if not points:
            continue
        plot.plot([p[0] for p in points], [p[1] for p in points], name=name,
                  pen=pg.mkPen(colour, width=2.5), symbol=SYMBOLS[i % len(SYMBOLS)], symbolSize=8,
                  symbolBrush=colour, symbolPen=colour)
    if local is not None:
        label, value = local
        pen = QPen(QColor("#444444"))
        pen.setStyle(Qt.DashLine)
        pen.setWidthF(1.5)
        line = pg.InfiniteLine(pos=float(value), angle=0, pen=pen, label=label,
                               labelOpts={"position": 0.02, "color": "#333333", "anchors": [(0, 1), (0, 1)]})
        plot.addItem(line)
    plot.getAxis("bottom").setTicks([[(x, label.replace(" ", "\n")) for x, label in zip(xs, quarter_labels)]])
    plot.setXRange(-0.3, len(xs) - 0.7, padding=0)
    plot.setYRange(0, 100, padding=0.02)
