"""Reach and equity (issue 13): for the chosen quarter and the seven before it, activity, reach
and outcomes quarter by quarter; the drift view (shares as lines, one sentence for each that
moved); data-quality lists. Every figure opens the referrals behind it, every row the record.

Managers see it all; coordinators the operational half (activity and data quality). The
figures are counted on the worker by store.reach.dashboard, the same engine as the return."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QStyle, QTabWidget, QVBoxLayout,
                               QWidget)

from db.errors import Cancelled
from db.public import (QUALITY_KINDS, REACH_ITEMS, REACH_QUARTERS_OFFERED, REACH_SECTIONS, parse_period,
                       period_containing)

from ..models import RowFilterProxy, RowTableModel
from ..models.columns import Column
from ..returns.explain import ReferralListDialog
from ..returns.page import next_quarter, quarters_back
from ..widgets.common import button, heading, show_error, table_view
from ..widgets.nav import Nav


@dataclass(frozen=True)
class FigureLine:
    """One row of the figures table: a section heading (item None) or an item with a figure per quarter."""
    title: str
    item: object = None
    figures: tuple = ()          # db.returns.Figure or None, one per quarter

    def text(self, i: int) -> str:
        if self.item is None:
            return ""
        return show_figure(self.figures[i], self.item.unit)


def show_figure(f, unit: str) -> str:
    if f is None or f.value is None:
        return "–"
    v = f.value
    if unit == "%":
        return f"{v:.1f}%" if isinstance(v, Decimal) else str(v)
    if unit == "count":
        return f"{v:,}" if isinstance(v, int) else str(v)
    return f"{v:.1f}" if isinstance(v, Decimal) else str(v)


def _sort(f):
    return None if f is None or not isinstance(f.value, (int, Decimal)) else f.value


def figure_columns(labels: list[str]) -> list[Column]:
    cols = [Column("title", "Figure")]
    for i, label in enumerate(labels):
        cols.append(Column(f"q{i}", label, (lambda r, i=i: r.text(i)),
                           (lambda r, i=i: _sort(r.figures[i]) if r.item is not None else None), align_right=True,
                           tooltip="Enter or double-click a figure to see the referrals behind it"))
    return cols


def _heading_row(row: FigureLine) -> str | None:
    return "Section" if row.item is None else None


QUALITY_COLUMNS = (
    Column("client_ref", "Client"),
    Column("name", "Name"),
    Column("referral_ref", "Referral", lambda r: r.referral_ref or ""),
    Column("detail", "What needs doing"),
    Column("since", "Since", lambda r: r.since or ""),
)


class DashboardPage(QWidget):
    NAV = Nav("Reach and &equity", QStyle.SP_FileDialogInfoView, lambda store: store.may("activity"))
    open_referral = Signal(int, int)
    open_client_record = Signal(int)

    def __init__(self, store, worker, parent=None, *, today: date | None = None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.today = today or date.today()
        self.full = store.may("reach")
        self.dashboard = None
        self.quality: list = []
        self.loaded_once = False
        self.stale = False
        self.chart = None
        self.job = None
        self.quality_shown_once = False
        # The earlier quarters offered, counted behind on the worker once the figures shown are (_count_behind).
        self.behind: list = []
        self.behind_job = None
        self._behind_done: set[str] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(heading("Reach and equity" if self.full else "Activity and data quality"), 1)
        self.quarter = QComboBox()
        self.quarter.setAccessibleName("Quarter shown with the seven before it")
        current = period_containing(self.today)
        for p in reversed(quarters_back(next_quarter(current), REACH_QUARTERS_OFFERED)):
            self.quarter.addItem(p.label, p.code)
        self.quarter.setCurrentIndex(1)          # the quarter in progress: the newest figures
        label = QLabel("&Quarter")
        label.setBuddy(self.quarter)
        top.addWidget(label)
        top.addWidget(self.quarter)
        self.refresh_button = button("&Recount", "Count the figures again", tip="Count the figures again (F5 reads the lists)")
        top.addWidget(self.refresh_button)
        self.cancel_button = button("&Cancel counting", "Cancel the count",
                                    tip="Stop counting; the figures shown are left as they were")
        self.cancel_button.setVisible(False)
        top.addWidget(self.cancel_button)
        self.report_button = button("Reach re&port (PDF)\u2026", "Save the reach report as a PDF",
                                    tip="Two or three A4 pages for a commissioner or board")
        self.report_button.setVisible(self.full)
        top.addWidget(self.report_button)
        layout.addLayout(top)
        self.status = QLabel("")
        self.status.setAccessibleName("Dashboard status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Dashboard views")
        layout.addWidget(self.tabs, 1)

        # Figures: every item, quarter by quarter.
        figures = QWidget()
        fl = QVBoxLayout(figures)
        fl.setContentsMargins(0, 4, 0, 0)
        hint = QLabel("Each column is a quarter; the last is the one chosen. Select a figure and press Enter "
                      "(or double-click it) to see the referrals behind it.")
        hint.setWordWrap(True)
        fl.addWidget(hint)
        self.figures_model = RowTableModel(figure_columns([""] * 8), self, highlight=None)
        self.figures_view = table_view("Figures quarter by quarter", self.figures_model, sortable=False)
        self.figures_view.setSelectionBehavior(self.figures_view.SelectionBehavior.SelectItems)
        fl.addWidget(self.figures_view, 1)
        self.explain_button = button("Referrals &behind this figure\u2026", "Referrals behind the selected figure")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.explain_button)
        fl.addLayout(row)
        self.tabs.addTab(figures, "F&igures")

        # Drift: the shares as lines, the sentences, the same numbers as a table.
        self.drift = QWidget()
        dl = QVBoxLayout(self.drift)
        dl.setContentsMargins(0, 4, 0, 0)
        self.sentences = QLabel("")
        self.sentences.setWordWrap(True)
        self.sentences.setAccessibleName("What moved over eight quarters")
        self.sentences.setTextInteractionFlags(Qt.TextSelectableByMouse)
        font = self.sentences.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.sentences.setFont(font)
        dl.addWidget(self.sentences)
        self.chart_box = QVBoxLayout()
        dl.addLayout(self.chart_box, 3)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setAccessibleName("Key to the chart's lines")
        dl.addWidget(self.legend)
        self.drift_model = RowTableModel(figure_columns([""] * 8), self)
        self.drift_view = table_view("The drift chart's numbers", self.drift_model, sortable=False)
        self.drift_view.setSelectionBehavior(self.drift_view.SelectionBehavior.SelectItems)
        dl.addWidget(self.drift_view, 2)
        if self.full:
            self.tabs.addTab(self.drift, "&Drift over eight quarters")

        # Data quality: a list per kind, each row opening the record.
        quality = QWidget()
        ql = QVBoxLayout(quality)
        ql.setContentsMargins(0, 4, 0, 0)
        kinds = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.setAccessibleName("Which records need attention")
        for key, text in QUALITY_KINDS.items():
            self.kind.addItem(text, key)
        kind_label = QLabel("&Show")
        kind_label.setBuddy(self.kind)
        kinds.addWidget(kind_label)
        kinds.addWidget(self.kind, 1)
        self.open_button = button("&Open record", "Open the record", tip="Open the client's record (Enter)")
        kinds.addWidget(self.open_button)
        self.quality_summary = QLabel("")
        self.quality_summary.setTextFormat(Qt.RichText)
        self.quality_summary.setAccessibleName("How many records need attention, by kind")
        ql.addWidget(self.quality_summary)
        ql.addLayout(kinds)
        self.quality_model = RowTableModel(QUALITY_COLUMNS, self)
        self.quality_proxy = RowFilterProxy(self)
        self.quality_proxy.setSourceModel(self.quality_model)
        self.quality_view = table_view("Records that need attention", self.quality_proxy)
        self.quality_view.horizontalHeader().setStretchLastSection(False)
        self.quality_view.horizontalHeader().setSectionResizeMode(3, self.quality_view.horizontalHeader().ResizeMode.Stretch)
        ql.addWidget(self.quality_view, 1)
        self.tabs.addTab(quality, "Data q&uality")

        self.quarter.currentIndexChanged.connect(lambda _: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.cancel_button.clicked.connect(self.cancel)
        self.figures_view.activated.connect(lambda index: self.explain(self.figures_model, index))
        self.drift_view.activated.connect(lambda index: self.explain(self.drift_model, index))
        self.explain_button.clicked.connect(lambda: self.explain(self.figures_model, self.figures_view.currentIndex()))
        self.kind.currentIndexChanged.connect(lambda _: self._filter_quality())
        self.quality_view.activated.connect(lambda index: self.open_quality(index.row()))
        self.open_button.clicked.connect(lambda: self.open_quality(self.quality_view.currentIndex().row()))
        self.report_button.clicked.connect(self.save_report)
        self.tabs.currentChanged.connect(lambda _: self._ensure_chart())

    # --- loading ------------------------------------------------------------------------------------

    def period(self):
        return parse_period(self.quarter.currentData())

    def on_shown(self) -> None:
        if not self.loaded_once or self.stale:
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.on_shown)

    def refresh(self) -> None:
        self.loaded_once = True
        self.stale = False
        period = self.period()
        self.status.setText(f"Counting {period.label} and the seven quarters before it\u2026")
        if self.job is not None:
            self.job.cancel()
        self._stop_behind()                     # the count asked for comes first

        def load(job):
            dash = self.store.reach.dashboard(period, on_progress=job.progress, cancelled=job.cancelled)
            return dash, self.store.reach.data_quality(today=self.today)

        # First the quarters as last counted (a read, no counting), then the count that brings the ones
        # written to since up to date: after a day's work the figures appear at once, said as updating.
        self.worker.submit(self.store.reach.kept_dashboard, period, key="dashboard-kept",
                           on_done=lambda got: self._show_kept(got, job), on_error=lambda exc: None)
        job = self.worker.submit(load, with_job=True, key="dashboard", on_done=lambda got: self._show(got, job),
                                 on_error=lambda exc: self._failed(exc, job))
        self.job = job
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)

    def cancel(self) -> None:
        """Cancel the count on the worker; what was shown stays until Recount."""
        if self.job is None:
            return
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling the count…")

    def _counting_over(self, job) -> bool:
        """True when job is the page's current count (an older, replaced one is ignored)."""
        if job is not self.job:
            return False
        self.job = None
        self.cancel_button.setVisible(False)
        return True

    def _failed(self, exc, job=None) -> None:
        if not self._counting_over(job):
            return
        if isinstance(exc, Cancelled):
            self.stale = True
            self.status.setText("Counting was cancelled: the figures were not brought up to date. "
                                "Press Recount to count them.")
            return
        self.status.setText("The figures could not be counted.")
        show_error(self, exc)

    def _show_kept(self, got, job) -> None:
        """The quarters as last counted, while the count for those changed since goes on."""
        if got is None or job is not self.job or job.cancelled():   # never counted, counted, or cancelled
            return
        dash, stale = got
        self._show_figures(dash)
        names = ", ".join(q.period.label for q in dash.quarters if q.period.code in stale)
        if len(stale) == len(dash.quarters) > 1:
            names = f"all {len(stale)} quarters"
        if dash.earlier_version:
            self.status.setText("Figures as the earlier version of Health Trainer Desk counted them; this "
                                f"version is counting {names} again\u2026")
        elif stale:
            self.status.setText(f"Figures as last counted; bringing {names} up to date with the records "
                                "changed since\u2026")

    def _show(self, got, job=None) -> None:
        if not self._counting_over(job):
            return
        dash, quality = got
        self._show_figures(dash)
        self._show_quality(quality)
        self.status.setText(f"{dash.period.label} and the seven quarters before it, counted as the quarterly "
                            "return counts them." + (" Records have changed since: refresh." if self.stale else ""))
        self._count_behind()

    # --- the earlier quarters, counted behind ----------------------------------------------------------

    def _count_behind(self) -> None:
        """Once the figures shown are counted: each earlier quarter offered is brought up to date on the
        worker (its quarters this version has not kept, or a write since may have changed, counted and
        kept), newest first, one job per quarter offered (so it counts about one quarter, and anything
        the user asks meanwhile waits for that only). Choosing one later then reads kept figures instead
        of counting up to eight quarters (2 s at 50,000 clients)."""
        offered = [self.quarter.itemData(i) for i in range(self.quarter.count())]
        current = period_containing(self.today).code
        older = offered[offered.index(current) + 1:] if current in offered else []
        self.behind = [code for code in older if code not in self._behind_done]
        self._next_behind()

    def _next_behind(self) -> None:
        self.behind_job = None
        if not self.behind or self.job is not None:
            return
        code = self.behind.pop(0)

        def count(job):
            # The dashboard reads the quarters this version kept and counts (and keeps) only the others.
            if not job.cancelled():
                self.store.reach.dashboard(code, cancelled=job.cancelled)

        def done(_):
            if job is self.behind_job:              # not one stopped since (a count was asked for)
                self._behind_done.add(code)
                self._next_behind()

        def failed(_exc):
            if job is self.behind_job:
                self._stop_behind()
        job = self.worker.submit(count, with_job=True, key="dashboard-behind", on_done=done, on_error=failed)
        self.behind_job = job

    def _stop_behind(self) -> None:
        """Counting behind stops (a count asked for, a failure): it starts again after the next count."""
        self.behind = []
        if self.behind_job is not None:
            self.behind_job.cancel()
            self.behind_job = None

    def _show_figures(self, dash) -> None:
        self.dashboard = dash
        labels = [q.period.label for q in dash.quarters]
        rows = []
        sections = [s for s in REACH_SECTIONS if any(i.section == s and dash.current(i) is not None for i in REACH_ITEMS)]
        for section in sections:
            rows.append(FigureLine(REACH_SECTIONS[section].upper()))
            for item in REACH_ITEMS:
                if item.section == section and dash.current(item) is not None:
                    rows.append(FigureLine(_title(item), item, tuple(q.get(item) for q in dash.quarters)))
        self.figures_model = self._reset(self.figures_view, labels, rows, _heading_row)
        drift = [FigureLine(_title(i), i, tuple(q.get(i) for q in dash.quarters)) for i in REACH_ITEMS
                 if i.drift and dash.current(i) is not None]
        self.drift_model = self._reset(self.drift_view, labels, drift, None)
        text = "\n".join(f"\u2022 {line}" for line in dash.sentences) if dash.sentences else \
            "No share moved by 5 percentage points or more over these eight quarters."
        if dash.local is not None and dash.local.share is not None:
            imd = next((i for i in REACH_ITEMS if i.key == "imd_q12"), None)
            now = show_figure(dash.current(imd), "%") if imd else "–"
            text += (f"\n\nLocal population in the two most deprived fifths: {dash.local.share:.0f}% "
                     f"({_places(dash.local.authorities)}); the service's starts this quarter: {now}.")
        self.sentences.setText(text)
        self._ensure_chart()

    def _show_quality(self, quality) -> None:
        self.quality = quality
        self.quality_model.set_rows(quality)
        counts = {}
        for r in quality:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        for i in range(self.kind.count()):
            key = self.kind.itemData(i)
            self.kind.setItemText(i, f"{QUALITY_KINDS[key]} ({counts.get(key, 0):,})")
        cells = [f"<td>{text}</td><td align='right'><b>{counts.get(key, 0):,}</b></td>"
                 for key, text in QUALITY_KINDS.items()]
        half = (len(cells) + 1) // 2
        rows = "".join(f"<tr>{a}<td width='40'></td>{b}</tr>" for a, b in
                       zip(cells[:half], cells[half:] + [""] * (2 * half - len(cells))))
        self.quality_summary.setText(f"<table cellspacing='2'>{rows}</table>")
        if not self.quality_shown_once and counts:
            # The first list with something to do, the first time the lists come.
            first = next(i for i in range(self.kind.count()) if counts.get(self.kind.itemData(i)))
            self.kind.setCurrentIndex(first)
            self.quality_shown_once = True
        self._filter_quality()
        self.quality_view.resizeColumnsToContents()

    def _reset(self, view, labels, rows, highlight) -> RowTableModel:
        model = RowTableModel(figure_columns(labels), self, highlight=highlight)
        model.set_rows(rows)
        old = view.model()
        view.setModel(model)
        if old is not None:
            old.deleteLater()
        view.resizeColumnsToContents()
        # The figures' names take the spare width; each quarter keeps its own narrow column.
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, header.ResizeMode.Stretch)
        return model

    def _ensure_chart(self) -> None:
        if not self.full or self.dashboard is None or self.tabs.currentWidget() is not self.drift:
            return
        from .chart import draw, make_chart
        if self.chart is None:
            self.chart = make_chart("Who the service reaches: shares over eight quarters")
            self.chart_box.addWidget(self.chart)
        dash = self.dashboard
        labels = [q.period.label for q in dash.quarters]
        series = [(i.drift, dash.series(i)) for i in REACH_ITEMS if i.drift and dash.current(i) is not None]
        local = None
        if dash.local is not None and dash.local.share is not None:
            local = (f"Local population in the two most deprived fifths ({dash.local.share:.0f}%)", dash.local.share)
        self.legend.setText(draw(self.chart, labels, series, local))

    # --- explain and open ---------------------------------------------------------------------------

    def explain(self, model, index) -> None:
        if self.dashboard is None or not index.isValid() or index.column() < 1:
            return
        line = model.row_at(index.row())
        if line is None or line.item is None:
            return
        q = self.dashboard.quarters[index.column() - 1]
        item = line.item
        f = q.get(item)

        def load(_as_submitted):
            return self.store.reach.explain(q.period, item.measure, item.breakdown)

        about = (f"{line.title}, {q.period.label}: {show_figure(f, item.unit)}. For a count, the referral behind "
                 "each thing counted; for a share, those in it; for a median or a caseload, those it is taken over.")
        dialog = ReferralListDialog(self.store, self.worker, "Referrals behind the figure", about, load, self)
        dialog.open_referral.connect(self.open_referral)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.explain_dialog = dialog
        dialog.open()

    def _filter_quality(self) -> None:
        kind = self.kind.currentData()
        self.quality_proxy.set_filter("kind", lambda r: r.kind == kind)

    def open_quality(self, row: int) -> None:
        index = self.quality_proxy.index(row, 0)
        if not index.isValid():
            return
        r = self.quality_model.row_at(self.quality_proxy.mapToSource(index).row())
        if r.referral_id is not None:
            self.open_referral.emit(r.client_id, r.referral_id)
        else:
            self.open_client_record.emit(r.client_id)

    # --- the report ----------------------------------------------------------------------------------

    def save_report(self) -> None:
        period = self.period()
        folder = QSettings("HealthTrainerDesk", "htdesk").value("reports/folder", str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(self, "Save the reach report", str(Path(folder) / f"reach-{period.code}.pdf"),
                                              "PDF (*.pdf)")
        if path:
            self.write_report(path)

    def write_report(self, path: str) -> None:
        QSettings("HealthTrainerDesk", "htdesk").setValue("reports/folder", str(Path(path).parent))
        period = self.period()

        def run(job):
            from reports.reach_pdf import build_reach_report
            return build_reach_report(self.store, period, path, on_progress=job.progress, cancelled=job.cancelled)

        self.worker.submit(run, with_job=True, on_done=self._report_saved,
                           on_error=lambda exc: show_error(self, exc))
        self.status.setText("Writing the reach report\u2026")

    def _report_saved(self, report) -> None:
        self.last_report = report.path
        self.status.setText(f"Saved the reach report to {report.path}.")

    # --- the change notice ---------------------------------------------------------------------------

    def on_store_changed(self, changes, visible: bool) -> None:
        if changes.entity in ("return_run", "workbook"):
            return
        self.stale = True
        if self.dashboard is not None:
            self.status.setText(self.status.text().split(" Records have changed")[0] +
                                " Records have changed since: refresh.")


def _title(item) -> str:
    unit = {"%": " (%)", "days": " (days)", "count": "", "per trainer": " (referrals)"}.get(item.unit, "")
    return item.title + unit


def _places(names) -> str:
    names = list(names)
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more local authorities"
