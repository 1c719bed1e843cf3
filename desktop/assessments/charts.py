"""Charts of a client's series (weight, BMI, waist, SWEMWBS, ONS4, AUDIT-C) with the meaningful-change
threshold of INSTRUMENTS.md marked as a dashed line and said in words beside the chart.

Drawn with pyqtgraph (a maintained plotting library that runs on PySide6, fast with many points and
with date axes built in) rather than by hand: the record needs axes, ticks, legends and resizing, which
is a charting library's job.

What each line marks:
- weight: 5% below the first weight (a "5% weight loss", the spec's outcome);
- BMI: the BMI that 5% weight loss would give (the same height), for the same reason;
- waist: the NICE waist bands for the client's sex (94/102 cm men, 80/88 cm women): the spec sets no
  individual change threshold for waist;
- SWEMWBS / WEMWBS: 3 points above the first score (meaningful individual improvement);
- ONS4: the spec sets no individual threshold; the bands' edge of "high" (7) is marked for the three
  positive answers;
- AUDIT-C: 5, where a score becomes positive (increasing or higher risk).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from db.public import MEANINGFUL_POINTS, WEIGHT_LOSS_PCT

_COLOURS = ("#005eb8", "#007f3b", "#8a1538", "#ed8b00")


@dataclass(frozen=True)
class Series:
    title: str
    lines: dict                     # label -> [(iso date, value)]
    threshold: float | list | None  # y of the dashed line(s)
    threshold_words: str
    unit: str = ""


def _start(results, key):
    """The first value of the latest referral with this score: the threshold is measured from the start
    of the current support, not from an earlier referral's."""
    found = [a for a in results if a.scores.get(key) is not None]
    if not found:
        return None
    latest = found[-1].referral_id
    return float(next(a for a in found if a.referral_id == latest).scores[key])


def client_series(store, client) -> list[Series]:
    """The client's series, each with its threshold; read through the store (view_client)."""
    out = []
    body = store.assessments.series(client.id, "BODY")
    weight = [(a.assessed_date, float(a.scores["weight_kg"])) for a in body if a.scores.get("weight_kg") is not None]
    if weight:
        line = _start(body, "weight_kg") * float(100 - WEIGHT_LOSS_PCT) / 100
        out.append(Series("Weight", {"Weight (kg)": weight}, line,
                          f"Dashed line: {WEIGHT_LOSS_PCT}% below the weight at the start of this support "
                          f"({line:.1f} kg): at or below it, the loss is a real change.",
                          "kg"))
    bmi = [(a.assessed_date, float(a.scores["bmi"])) for a in body if a.scores.get("bmi") is not None]
    if bmi:
        line = _start(body, "bmi") * float(100 - WEIGHT_LOSS_PCT) / 100
        out.append(Series("BMI", {"BMI": bmi}, line,
                          f"Dashed line: the BMI {WEIGHT_LOSS_PCT}% weight loss would give ({line:.1f})."))
    waist = [(a.assessed_date, float(a.scores["waist_cm"])) for a in body if a.scores.get("waist_cm") is not None]
    if waist:
        edges = [94, 102] if client.gender == "1" else [80, 88]
        out.append(Series("Waist", {"Waist (cm)": waist}, edges,
                          f"Dashed lines: NICE waist bands at {edges[0]} and {edges[1]} cm (no individual "
                          "change threshold is set for waist).", "cm"))
    for code, key, label in (("SWEMWBS", "swemwbs_metric", "SWEMWBS"), ("WEMWBS", "wemwbs", "WEMWBS")):
        results = store.assessments.series(client.id, code)
        found = [(a.assessed_date, float(a.scores[key])) for a in results if a.scores.get(key) is not None]
        if found:
            line = _start(results, key) + float(MEANINGFUL_POINTS)
            out.append(Series(label, {f"{label} score": found}, line,
                              f"Dashed line: {MEANINGFUL_POINTS:g} points above the score at the start of this "
                              f"support ({line:.1f}): at or above it, a meaningful improvement."))
    ons = store.assessments.series(client.id, "ONS4")
    if ons:
        lines = {}
        for key, label in (("ons4_satisfied", "Satisfied"), ("ons4_worthwhile", "Worthwhile"),
                           ("ons4_happy", "Happy"), ("ons4_anxious", "Anxious (lower is better)")):
            pts = [(a.assessed_date, float(a.scores[key])) for a in ons if a.scores.get(key) is not None]
            if pts:
                lines[label] = pts
        if lines:
            out.append(Series("ONS4 personal wellbeing", lines, 7,
                              "Dashed line: 7, where \u201chigh\u201d begins for satisfied, worthwhile and happy "
                              "(the spec sets no individual change threshold for ONS4)."))
    audit = [(a.assessed_date, float(a.scores["auditc"])) for a in store.assessments.series(client.id, "AUDITC")
             if a.scores.get("auditc") is not None]
    if audit:
        out.append(Series("AUDIT-C", {"AUDIT-C": audit}, 5,
                          "Dashed line: 5, where AUDIT-C becomes positive (increasing or higher risk)."))
    return out


def _x(iso: str) -> float:
    return datetime.combine(date.fromisoformat(iso[:10]), datetime.min.time()).timestamp()


class SeriesChart(QWidget):
    def __init__(self, series: Series, parent=None):
        super().__init__(parent)
        self.series = series
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>{series.title}</b>")
        layout.addWidget(title)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground("w")
        self.plot.setAccessibleName(f"Chart of {series.title}")
        self.plot.setFixedHeight(max(200, self.fontMetrics().height() * 12))
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self.plot.addLegend(offset=(5, 5)) if len(series.lines) > 1 else None
        for n, (label, points) in enumerate(series.lines.items()):
            colour = _COLOURS[n % len(_COLOURS)]
            self.plot.plot([_x(d) for d, _ in points], [v for _, v in points], name=label,
                           pen=pg.mkPen(colour, width=2), symbol="o", symbolBrush=colour, symbolSize=7)
        thresholds = series.threshold if isinstance(series.threshold, list) else [series.threshold]
        self.threshold_lines = []
        for y in thresholds:
            if y is None:
                continue
            line = pg.InfiniteLine(pos=y, angle=0, pen=pg.mkPen("#d5281b", width=1.5, style=Qt.DashLine))
            self.plot.addItem(line)
            self.threshold_lines.append(line)
        words = QLabel(series.threshold_words)
        words.setWordWrap(True)
        words.setAccessibleName(f"{series.title}: threshold")
        layout.addWidget(self.plot)
        layout.addWidget(words)
        # Text for screen readers and tests: every point, in words.
        summary = "; ".join(f"{label}: " + ", ".join(f"{v:g} on {d}" for d, v in pts)
                            for label, pts in series.lines.items())
        self.setAccessibleDescription(summary)


class ChartsPanel(QScrollArea):
    """Every series of the client, two charts a row."""

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.setWidgetResizable(True)
        self.setAccessibleName("Charts of measures over time")
        self.charts: list[SeriesChart] = []
        self.show_client(None)

    def show_client(self, client) -> None:
        holder = QWidget()
        grid = QGridLayout(holder)
        self.charts = []
        series = client_series(self.store, client) if client is not None else []
        if not series:
            grid.addWidget(QLabel("No measures recorded yet: charts appear after the first assessment."), 0, 0)
        for n, s in enumerate(series):
            chart = SeriesChart(s)
            self.charts.append(chart)
            grid.addWidget(chart, n // 2, n % 2)
        self.setWidget(holder)
