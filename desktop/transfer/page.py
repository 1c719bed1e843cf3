"""Import and export (IMPORT.md), the same engine as `htdesk import` and `htdesk export`.

Import is checked first: a dry run lists every problem by sheet, row, column, value and
reason in a table; only a workbook whose dry run found no problem (and that has not changed
since) can then be imported, with progress and Cancel. Export writes every record in the
import format, with progress and Cancel."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QStyle,
                               QVBoxLayout, QWidget)

from db.errors import Cancelled

from ..models import RowFilterProxy, RowTableModel
from ..models.columns import Column
from ..widgets.common import ProgressDialog, button, heading, show_error, table_view
from ..widgets.nav import Nav

KINDS = ("Problem", "Conflict", "Warning")


@dataclass(frozen=True)
class IssueRow:
    kind: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str


ISSUE_COLUMNS = (
    Column("kind", "Kind"),
    Column("sheet", "Sheet"),
    Column("row", "Row", lambda r: "" if r.row is None else str(r.row), lambda r: r.row or 0, align_right=True),
    Column("column", "Column"),
    Column("value", "Value"),
    Column("reason", "Reason"),
)


def issue_rows(report) -> list[IssueRow]:
    out = []
    for kind, issues in zip(KINDS, (report.failures, report.conflicts, report.warnings)):
        out += [IssueRow(kind, i.sheet or "(workbook)", i.row, i.column or "", i.value or "", i.told) for i in issues]
    return out


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _problem(row: IssueRow) -> str | None:
    return "Must be corrected before the import" if row.kind == "Problem" else None


class TransferPage(QWidget):
    NAV = Nav("&Import and export", QStyle.SP_DriveHDIcon,
              lambda store: store.may("import") or store.may("export"))

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.checked: tuple[str, str] | None = None      # (path, sha256) of a workbook whose dry run passed
        self.report = None
        self.progress: ProgressDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Import and export"))

        box = QGroupBox("Import a workbook")
        inner = QVBoxLayout(box)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("No workbook chosen")
        self.path.setAccessibleName("Workbook to import")
        label = QLabel("&Workbook")
        label.setBuddy(self.path)
        self.choose_button = button("Ch&oose\u2026", "Choose a workbook to import")
        self.check_button = button("Chec&k (dry run)", "Check the workbook (dry run)",
                                   tip="Check every row and list every problem; nothing is changed")
        self.import_button = button("Im&port", "Import the checked workbook",
                                    tip="Import the workbook once its dry run found no problem (all or nothing)")
        self.template_button = button("Blank te&mplate\u2026", "Write a blank import workbook",
                                      tip="A workbook with every sheet, header, code list and an example row")
        for w in (label, self.path):
            row.addWidget(w, 1 if w is self.path else 0)
        for b in (self.choose_button, self.check_button, self.import_button, self.template_button):
            row.addWidget(b)
        inner.addLayout(row)
        self.outcome = QLabel("Choose a workbook, then check it: a dry run lists every problem without changing anything.")
        self.outcome.setWordWrap(True)
        self.outcome.setAccessibleName("Import report summary")
        self.outcome.setTextInteractionFlags(Qt.TextSelectableByMouse)
        inner.addWidget(self.outcome)
        filters = QHBoxLayout()
        self.kind_filter = QComboBox()
        self.kind_filter.setAccessibleName("Show problems, conflicts or warnings")
        self.kind_filter.addItem("Everything", None)
        for k in KINDS:
            self.kind_filter.addItem(f"{k}s", k)
        shown = QLabel("&Show")
        shown.setBuddy(self.kind_filter)
        filters.addWidget(shown)
        filters.addWidget(self.kind_filter)
        filters.addStretch(1)
        self.count = QLabel()
        self.count.setAccessibleName("Number of report lines shown")
        filters.addWidget(self.count)
        inner.addLayout(filters)
        self.model = RowTableModel(ISSUE_COLUMNS, self, highlight=_problem)
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = table_view("Import report: problems by sheet, row, column, value and reason", self.proxy)
        inner.addWidget(self.view, 1)
        layout.addWidget(box, 1)

        out = QGroupBox("Export")
        out_row = QHBoxLayout(out)
        about = QLabel("Every record of the service in the import workbook's format: a fresh database imports it "
                       "back unchanged.")
        about.setWordWrap(True)
        self.export_button = button("E&xport everything\u2026", "Export everything")
        self.export_status = QLabel()
        self.export_status.setAccessibleName("Export status")
        self.export_status.setWordWrap(True)
        out_row.addWidget(about, 1)
        out_row.addWidget(self.export_button)
        layout.addWidget(out)
        layout.addWidget(self.export_status)

        self.choose_button.clicked.connect(self.choose)
        self.check_button.clicked.connect(lambda: self.run_import(dry_run=True))
        self.import_button.clicked.connect(lambda: self.run_import(dry_run=False))
        self.template_button.clicked.connect(self.template)
        self.export_button.clicked.connect(self.export)
        self.kind_filter.currentIndexChanged.connect(self._filter)
        may_import, may_export = store.may("import"), store.may("export")
        for w in (self.choose_button, self.check_button, self.template_button):
            w.setEnabled(may_import)
        self.export_button.setEnabled(may_export)
        if not may_export:
            self.export_status.setText(store.refusal("export") or "")
        self._enable()

    # --- import --------------------------------------------------------------------------------------

    def _folder(self) -> str:
        return str(QSettings("HealthTrainerDesk", "htdesk").value("transfer/folder", str(Path.home())))

    def _remember(self, path: str) -> None:
        QSettings("HealthTrainerDesk", "htdesk").setValue("transfer/folder", str(Path(path).parent))

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a workbook to import", self._folder(),
                                              "Excel workbook (*.xlsx)")
        if path:
            self.set_workbook(path)

    def set_workbook(self, path: str) -> None:
        self._remember(path)
        self.path.setText(path)
        self.checked = None
        self.report = None
        self.model.set_rows([])
        self.outcome.setText("Check the workbook first: a dry run lists every problem without changing anything.")
        self._enable()

    def _enable(self) -> None:
        have = bool(self.path.text())
        self.check_button.setEnabled(have and self.store.may("import"))
        self.import_button.setEnabled(self.checked is not None and self.checked[0] == self.path.text())

    def run_import(self, dry_run: bool) -> None:
        path = self.path.text()
        if not path:
            return
        expected = None if dry_run else self.checked[1]

        def run(job):
            if expected is not None and _sha(path) != expected:
                raise Cancelled("The workbook has changed since it was checked: check it again before importing.")
            return self.store.transfer.import_workbook(path, dry_run=dry_run, on_progress=job.progress,
                                                       cancelled=job.cancelled, write_report=False)

        job = self.worker.submit(run, with_job=True, on_done=lambda report: self._reported(report, path),
                                 on_error=self._failed)
        title = "Checking the workbook" if dry_run else "Importing the workbook"
        self.progress = ProgressDialog(self, title, f"{title}\u2026")
        self.progress.follow(self.worker, job)
        self.progress.show()

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _failed(self, exc) -> None:
        self._close_progress()
        if isinstance(exc, Cancelled):
            self.checked = None
            self.outcome.setText(str(exc))
            self._enable()
            return
        show_error(self, exc)

    def _reported(self, report, path: str) -> None:
        self._close_progress()
        self.report = report
        self.model.set_rows(issue_rows(report))
        self.view.resizeColumnsToContents()
        self._filter()
        lines = [report.outcome(), *report.summary_lines()]
        if report.failures:
            lines.append(f"{len(report.failures)} problem(s), {len(report.conflicts)} conflict(s), "
                         f"{len(report.warnings)} warning(s) are listed below.")
        elif report.conflicts or report.warnings:
            lines.append(f"{len(report.conflicts)} conflict(s) and {len(report.warnings)} warning(s) are listed below.")
        if report.dry_run and report.ok:
            lines.append("Press Import to import it.")
        self.outcome.setText("\n".join(lines))
        self.checked = (path, report.sha256) if report.dry_run and report.ok and report.sha256 else None
        self._enable()

    def _filter(self) -> None:
        kind = self.kind_filter.currentData()
        self.proxy.set_filter("kind", (lambda r: r.kind == kind) if kind else None)
        self.count.setText(f"{self.proxy.rowCount():,} of {self.model.rowCount():,} line(s)")

    def template(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write a blank import workbook",
                                              str(Path(self._folder()) / "import-template.xlsx"),
                                              "Excel workbook (*.xlsx)")
        if not path:
            return

        def write():
            from db.public import check_output_path
            from reports import transfer_workbook
            out = check_output_path(path, (".xlsx",), "the workbook", overwrite=True)
            return str(transfer_workbook.write_template(out))

        self.worker.submit(write, on_done=lambda p: self.outcome.setText(
            f"Wrote a blank import workbook to {p}. Fill it in (the grey EXAMPLE rows are skipped), then choose it here."),
            on_error=lambda exc: show_error(self, exc))

    # --- export --------------------------------------------------------------------------------------

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export every record", str(Path(self._folder()) / "export.xlsx"),
                                              "Excel workbook (*.xlsx)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        self._remember(path)

        def run(job):
            from db.public import check_output_path
            from reports import transfer_workbook
            if job.cancelled():         # cancelled before it began (the writer looks every 1,000 rows)
                raise Cancelled("The export was cancelled: no file was written.")
            out = check_output_path(path, (".xlsx",), "the workbook", overwrite=True)
            # Audited as an export only once the whole file is written (a cancelled or failed export is not).
            counts = self.store.transfer.export_workbook(out, write_workbook=transfer_workbook.write_export,
                                                         on_progress=job.progress, cancelled=job.cancelled)
            return str(out), counts

        job = self.worker.submit(run, with_job=True, on_done=self._exported, on_error=self._export_failed)
        self.progress = ProgressDialog(self, "Exporting", "Writing every record\u2026")
        self.progress.follow(self.worker, job)
        self.progress.show()

    def _exported(self, got) -> None:
        self._close_progress()
        path, counts = got
        self.export_status.setText(f"Exported to {path}: " +
                                   ", ".join(f"{n:,} {sheet.lower()}" for sheet, n in counts.items()) + ".")

    def _export_failed(self, exc) -> None:
        self._close_progress()
        if isinstance(exc, Cancelled):
            self.export_status.setText(str(exc))
            return
        show_error(self, exc)

    def on_store_changed(self, changes, visible: bool) -> None:
        # A dry run said what the database held then; after another change it must be checked again.
        if self.checked is not None and changes.entity not in ("import", "workbook", "return_run"):
            self.checked = None
            self.outcome.setText(self.outcome.text() + "\nRecords have changed since the check: check it again.")
            self._enable()
