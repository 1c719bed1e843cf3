"""The quarterly return page (RETURN.md "Behaviour"): the same engine and file as `htdesk return`.

Choose a quarter (an unfinished or future one says why its figures will move), build its
figures on the worker with progress and Cancel, read them in a table, ask which referrals
are behind any figure and open one, save the workbook, mark it submitted. Once a return
is submitted, figures that changed since are marked in the table and listed on their own
sheet of a rebuilt workbook."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QStyle,
                               QVBoxLayout, QWidget)

from db.errors import Cancelled
from db.public import SDC_POLICIES, RETURN_DIMENSION_LABELS, parse_period, period_containing, return_code_label

from ..models import RowFilterProxy, RowTableModel
from ..models.columns import Column
from ..widgets.common import ProgressDialog, button, confirm, heading, show_error, table_view
from ..widgets.nav import Nav
from .explain import ReferralListDialog

QUARTERS_SHOWN = 12        # this quarter, the next one and the ten before


def quarter_code(first_year: int, quarter: int) -> str:
    return f"{first_year}-{(first_year + 1) % 100:02d}-Q{quarter}"


def quarters_back(period, n: int) -> list:
    """period and the n - 1 quarters before it, oldest first."""
    fy, q = period.first_year, period.quarter
    out = []
    for _ in range(n):
        out.append(parse_period(quarter_code(fy, q)))
        fy, q = (fy - 1, 4) if q == 1 else (fy, q - 1)
    return out[::-1]


def next_quarter(period):
    fy, q = period.first_year, period.quarter
    return parse_period(quarter_code(fy + 1, 1) if q == 4 else quarter_code(fy, q + 1))


def period_warning(period, today: date) -> str:
    """Why a quarter's figures will still move, in plain words; '' for a settled quarter."""
    if period.start > today:
        return (f"{period.label} has not started yet (it begins on {period.start:%-d %B %Y}): its figures are "
                "empty now and every one of them will change.")
    if period.end >= today:
        return (f"{period.label} is not over (it ends on {period.end:%-d %B %Y}): sessions, closures and "
                "assessments still to come will change its figures. Build the return once the quarter has ended.")
    if (today - period.end).days <= 28:
        return (f"{period.label} ended on {period.end:%-d %B %Y}: sessions recorded late may still change "
                "some figures.")
    return ""


@dataclass(frozen=True)
class FigureRow:
    measure: str
    breakdown: str
    title: str
    breakdown_label: str
    kind: str
    value: object
    numerator: object
    denominator: object
    submitted: object = None
    changed: bool = False


def _show(value, kind: str = "count") -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.1f}" if kind in ("percent", "median") else f"{value:,.2f}"
    return str(value)


def _number(value):
    return value if isinstance(value, (int, Decimal)) else None


FIGURE_COLUMNS = (
    Column("title", "Figure"),
    Column("breakdown_label", "Breakdown"),
    Column("value", "Value", lambda r: _show(r.value, r.kind) + (" %" if r.kind == "percent" and r.value not in (None, "*") else ""),
           lambda r: _number(r.value), align_right=True),
    Column("numerator", "Numerator", lambda r: _show(r.numerator), lambda r: _number(r.numerator), align_right=True),
    Column("denominator", "Denominator", lambda r: _show(r.denominator), lambda r: _number(r.denominator),
           align_right=True),
    Column("submitted", "As submitted", lambda r: _show(r.submitted, r.kind), lambda r: _number(r.submitted),
           align_right=True, tooltip="The figure in the return submitted for this quarter"),
    Column("measure", "Measure id", lambda r: f"{r.measure} {r.breakdown}"),
)


def breakdown_label(breakdown: str) -> str:
    if breakdown == "all":
        return "All"
    name, _, code = breakdown.partition("=")
    return f"{RETURN_DIMENSION_LABELS.get(name, name)}: {return_code_label(name, code)}"


def _late_note(row: FigureRow) -> str | None:
    return f"Changed since the submitted return (was {_show(row.submitted, row.kind) or 'empty'})" if row.changed else None


@dataclass(frozen=True)
class Preview:
    period: object
    sdc: str
    rows: list
    submitted: dict | None       # the submitted run (no bytes, no figures) or None
    late: int


def build_preview(job, store, period, sdc: str) -> Preview:
    """On the worker: the figures, the submitted run and the late changes, as table rows."""
    from reports.quarterly_return import TITLES
    if job.cancelled():
        raise Cancelled("Stopped: no figures were built.")
    job.progress(0, 3, "Counting the figures")
    figures = store.returns.figures(period, sdc=sdc)
    if job.cancelled():
        raise Cancelled("Stopped: no figures were built.")
    job.progress(1, 3, "Looking for a submitted return")
    sent = store.returns.submitted(period)
    late = {}
    if sent is not None:
        late = {(c.measure, c.breakdown): c for c in store.returns.late_changes(period, figures=figures)}
    if job.cancelled():
        raise Cancelled("Stopped: no figures were built.")
    job.progress(2, 3, "Laying out the table")
    was = {f.key: f.value for f in sent["figures"]} if sent else {}
    rows = [FigureRow(f.measure, f.breakdown, TITLES.get(f.measure, f.measure), breakdown_label(f.breakdown),
                      f.kind, f.value, f.numerator, f.denominator, was.get(f.key),
                      (f.measure, f.breakdown) in late)
            for f in figures.figures]
    info = None
    if sent is not None:
        info = {k: v for k, v in sent.items() if k not in ("workbook", "figures")}
    job.progress(3, 3, "Done")
    return Preview(period, sdc, rows, info, len(late))


class ReturnsPage(QWidget):
    NAV = Nav("Quarterly re&turn", QStyle.SP_FileDialogDetailedView, lambda store: store.may("returns"))
    open_referral = Signal(int, int)

    def __init__(self, store, worker, parent=None, *, today: date | None = None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.today = today or date.today()
        self.preview: Preview | None = None
        self.last_saved: str | None = None
        self.progress: ProgressDialog | None = None
        self.stale = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Quarterly return"))

        choose = QHBoxLayout()
        self.quarter = QComboBox()
        self.quarter.setAccessibleName("Quarter")
        current = period_containing(self.today)
        for p in reversed(quarters_back(next_quarter(current), QUARTERS_SHOWN)):
            self.quarter.addItem(f"{p.label}  ({p.start:%-d %b %Y} to {p.end:%-d %b %Y})", p.code)
        self.quarter.setCurrentIndex(2)        # the last quarter that has ended
        self.sdc = QComboBox()
        self.sdc.setAccessibleName("Disclosure control")
        for policy, text in zip(SDC_POLICIES, ("none: to the commissioner", "nhs-england: for publication")):
            self.sdc.addItem(text, policy)
        for text, widget in (("&Quarter", self.quarter), ("&Disclosure", self.sdc)):
            label = QLabel(text)
            label.setBuddy(widget)
            choose.addWidget(label)
            choose.addWidget(widget)
        self.build_button = button("&Build figures", "Build figures", tip="Count every figure of the return for this quarter")
        self.save_button = button("Sa&ve workbook\u2026", "Save workbook", tip="Write the return workbook and record the run")
        self.submit_button = button("Mark as submi&tted\u2026", "Mark as submitted",
                                    tip="Mark the workbook you sent to the commissioner as submitted; the app keeps a copy")
        for b in (self.build_button, self.save_button, self.submit_button):
            choose.addWidget(b)
        choose.addStretch(1)
        layout.addLayout(choose)

        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Why these figures will move")
        self.warning.setStyleSheet("QLabel { background: #fff3cd; color: #5c4400; padding: 4px; }")
        layout.addWidget(self.warning)
        self.status = QLabel("Choose a quarter and build its figures.")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Return status")
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.status)

        tools = QHBoxLayout()
        self.only_late = QCheckBox("Only figures changed since &submission")
        self.only_late.setAccessibleName("Only figures changed since submission")
        self.explain_button = button("Show the &referrals behind it\u2026", "Show the referrals behind the figure",
                                     tip="List the referrals counted in the selected figure (Enter)")
        self.copy_button = button("Save a &copy of the submitted return\u2026", "Save a copy of the submitted return",
                                  tip="Write the workbook exactly as it was submitted")
        tools.addWidget(self.only_late)
        tools.addStretch(1)
        tools.addWidget(self.explain_button)
        tools.addWidget(self.copy_button)
        layout.addLayout(tools)

        self.model = RowTableModel(FIGURE_COLUMNS, self, highlight=_late_note)
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = table_view("Figures of the return", self.proxy, sortable=False)
        layout.addWidget(self.view, 1)

        self.quarter.currentIndexChanged.connect(self._period_changed)
        self.sdc.currentIndexChanged.connect(self._period_changed)
        self.build_button.clicked.connect(self.build)
        self.save_button.clicked.connect(self.save)
        self.submit_button.clicked.connect(self.submit)
        self.explain_button.clicked.connect(self.explain_current)
        self.copy_button.clicked.connect(self.save_submitted_copy)
        self.view.activated.connect(lambda _: self.explain_current())
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.only_late.toggled.connect(
            lambda on: self.proxy.set_filter("late", (lambda r: r.changed) if on else None))
        self._period_changed()

    # --- state ---------------------------------------------------------------------------------------

    def period(self):
        return parse_period(self.quarter.currentData())

    def policy(self) -> str:
        return self.sdc.currentData()

    def _period_changed(self) -> None:
        text = period_warning(self.period(), self.today)
        self.warning.setText(text)
        self.warning.setVisible(bool(text))
        self.preview = None
        self.model.set_rows([])
        self.status.setText(f"{self.period().label}: {self.period().dates_text()}. Build the figures to see them.")
        self._enable()

    def _enable(self) -> None:
        have = self.preview is not None
        self.save_button.setEnabled(have)
        self.submit_button.setEnabled(have)
        self.explain_button.setEnabled(have and self.view.currentIndex().isValid())
        self.copy_button.setEnabled(have and self.preview.submitted is not None)
        self.only_late.setEnabled(have and bool(self.preview.late))

    def selected_row(self) -> FigureRow | None:
        index = self.view.currentIndex()
        return self.model.row_at(self.proxy.mapToSource(index).row()) if index.isValid() else None

    # --- build ---------------------------------------------------------------------------------------

    def _progress(self, title: str, text: str, job) -> None:
        self.progress = ProgressDialog(self, title, text)
        self.progress.follow(self.worker, job)
        self.progress.show()

    def _done_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def build(self) -> None:
        period, sdc = self.period(), self.policy()
        job = self.worker.submit(build_preview, self.store, period, sdc, with_job=True,
                                 on_done=self._built, on_error=self._failed)
        self._progress("Building the return", f"Counting the figures of {period.label}\u2026", job)

    def _failed(self, exc) -> None:
        self._done_progress()
        if isinstance(exc, Cancelled):
            self.status.setText(str(exc))
            return
        show_error(self, exc)

    def _built(self, preview: Preview) -> None:
        self._done_progress()
        if preview.period.code != self.period().code or preview.sdc != self.policy():
            return          # the user chose another quarter meanwhile
        self.preview = preview
        self.stale = False
        self.model.set_rows(preview.rows)
        self.view.resizeColumnsToContents()
        self._describe()
        self._enable()

    def _describe(self, extra: str = "") -> None:
        p = self.preview
        text = f"{p.period.label}: {len(p.rows):,} figures, disclosure {p.sdc}."
        if p.submitted is None:
            text += " Not submitted yet."
        else:
            text += (f" Submitted on {p.submitted['submitted_at']} by {p.submitted['submitted_by']}"
                     f" ({p.submitted.get('sent_file_name') or p.submitted['file_name']}).")
            text += (f" {p.late} figure(s) changed since (late entries), shaded in the table."
                     if p.late else " No figure has changed since.")
        if self.stale:
            text += " Records have changed since these figures were built: build them again."
        self.status.setText(text + (" " + extra if extra else ""))

    # --- explain -------------------------------------------------------------------------------------

    def explain_current(self) -> None:
        row = self.selected_row()
        if row is None or self.preview is None:
            return
        period = self.preview.period

        def load(as_submitted: bool):
            return self.store.returns.explain(period, row.measure, row.breakdown, as_submitted=as_submitted)

        value = _show(row.value, row.kind) + ("%" if row.kind == "percent" and isinstance(row.value, Decimal) else "")
        about = (f"{row.title} — {row.breakdown_label}, {period.label}: {value or 'empty'}. "
                 "For a count, the referral behind each thing counted; for a percentage, its numerator; "
                 "for a mean or median, the referrals it is taken over.")
        dialog = ReferralListDialog(self.store, self.worker, "Referrals behind the figure", about, load, self,
                                    submitted_too=self.preview.submitted is not None)
        dialog.open_referral.connect(self.open_referral)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.explain_dialog = dialog
        dialog.open()

    # --- save and submit -----------------------------------------------------------------------------

    def _folder(self) -> str:
        return str(QSettings("HealthTrainerDesk", "htdesk").value("returns/folder", str(Path.home())))

    def save(self) -> None:
        period = self.period()
        path, _ = QFileDialog.getSaveFileName(self, "Save the return workbook",
                                              str(Path(self._folder()) / f"return-{period.code}.xlsx"),
                                              "Excel workbook (*.xlsx)")
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> None:
        from reports.quarterly_return import build_return
        period, sdc = self.period(), self.policy()
        QSettings("HealthTrainerDesk", "htdesk").setValue("returns/folder", str(Path(path).parent))

        def run(job):
            return build_return(self.store, period, path, sdc=sdc, on_progress=job.progress, cancelled=job.cancelled)

        job = self.worker.submit(run, with_job=True, on_done=self._saved, on_error=self._failed)
        self._progress("Saving the return", f"Writing the return for {period.label}\u2026", job)

    def _saved(self, run) -> None:
        self._done_progress()
        self.last_saved = run.path
        extra = f"Saved to {run.path}."
        if run.late_changes:
            extra += f" The sheet 'Late changes' lists the {len(run.late_changes)} figure(s) changed since submission."
        if self.preview is not None:
            self._describe(extra)
        else:
            self.status.setText(extra)

    def submit(self) -> None:
        start = self.last_saved or self._folder()
        path, _ = QFileDialog.getOpenFileName(self, "The return workbook you sent", start, "Excel workbook (*.xlsx)")
        if path:
            self.submit_file(path)

    def submit_file(self, path: str, *, ask: bool = True) -> None:
        period = self.period()
        if ask and not confirm(self, "Mark as submitted",
                               f"Mark {Path(path).name} as the return submitted for {period.label}?\n\n"
                               "The app keeps a copy of this file. Later builds of the quarter will list the "
                               "figures that changed since.", "Mark as submitted"):
            return
        self.worker.submit(self.store.returns.submit, period, path, on_done=lambda run: self._submitted(run, path),
                           on_error=lambda exc: show_error(self, exc))

    def _submitted(self, run, path) -> None:
        self.status.setText(f"Marked {Path(path).name} as submitted for {self.period().label}.")
        self.build()

    def save_submitted_copy(self) -> None:
        if self.preview is None or self.preview.submitted is None:
            return
        period = self.preview.period
        path, _ = QFileDialog.getSaveFileName(self, "Save a copy of the submitted return",
                                              str(Path(self._folder()) / f"return-{period.code}-as-submitted.xlsx"),
                                              "Excel workbook (*.xlsx)")
        if path:
            self.write_submitted_copy(path)

    def write_submitted_copy(self, path: str) -> None:
        from db.public import check_output_path
        period = self.preview.period

        def write():
            out = check_output_path(path, (".xlsx",), "the copy", example="return-as-submitted.xlsx")
            sent = self.store.returns.submitted(period)
            Path(out).write_bytes(sent["workbook"])
            return str(out)

        self.worker.submit(write, on_done=lambda p: self.status.setText(f"Wrote the submitted return to {p}."),
                           on_error=lambda exc: show_error(self, exc))

    # --- the change notice ---------------------------------------------------------------------------

    def on_store_changed(self, changes, visible: bool) -> None:
        if self.preview is None or changes.entity == "return_run":
            return
        self.stale = True
        self._describe()
