"""The Documents tab of the client record: print the plan (normal or large print) and each letter with
an on-screen preview first, and everything printed for the person, reopened exactly as printed."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from db.public import LETTER_KINDS

from ..models import RowTableModel
from ..models.columns import show_date
from ..models.table import Column
from ..widgets.common import button, show_error, table_view
from .preview import PdfPreview

KEPT = (
    Column("created_at", "Printed", lambda d: show_date(d.created_at), lambda d: d.created_at),
    Column("label", "Document", lambda d: d.label + (" (large print)" if "large-print" in d.template_version
                                                     else "")),
    Column("created_by", "By"),
    Column("file_name", "File"),
    Column("size", "Size", lambda d: f"{d.size:,} bytes", align_right=True),
)
LETTER_WORDS = {"appointment": "Appointment letter", "no-contact": "Could not reach you letter",
                "gp-outcome": "Outcome letter to the GP"}


class DocumentsTab(QWidget):
    changed = Signal(object)

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.record = None
        self.preview: PdfPreview | None = None
        layout = QVBoxLayout(self)
        printing = QGroupBox("Print with a preview first")
        pv = QVBoxLayout(printing)
        plan_row = QHBoxLayout()
        self.plan_button = button("Preview plan\u2026", "Preview the plan")
        self.large_print = QCheckBox("Large print")
        self.large_print.setAccessibleName("Large print")
        plan_row.addWidget(self.plan_button)
        plan_row.addWidget(self.large_print)
        plan_row.addStretch(1)
        pv.addLayout(plan_row)
        letter_row = QHBoxLayout()
        self.referral = QComboBox()
        self.referral.setAccessibleName("Referral for letters")
        letter_row.addWidget(QLabel("Letters for"))
        letter_row.addWidget(self.referral)
        self.letter_buttons = {}
        for kind in LETTER_KINDS:
            b = button(f"{LETTER_WORDS[kind]}\u2026", f"Preview the {LETTER_WORDS[kind].lower()}")
            b.clicked.connect(lambda _=False, k=kind: self.preview_letter(k))
            self.letter_buttons[kind] = b
            letter_row.addWidget(b)
        letter_row.addStretch(1)
        pv.addLayout(letter_row)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setAccessibleName("Why some documents cannot be printed")
        pv.addWidget(self.why)
        layout.addWidget(printing)
        self.kept = RowTableModel(KEPT, self)
        self.kept_view = table_view("Documents printed for this client", self.kept, sortable=False)
        kept_label = QLabel("Printed for this person (newest first): Enter reopens one exactly as printed")
        layout.addWidget(kept_label)
        layout.addWidget(self.kept_view, 1)
        self.reopen_button = button("Reopen\u2026", "Reopen the chosen document")
        layout.addWidget(self.reopen_button)
        self.plan_button.clicked.connect(self.preview_plan)
        self.reopen_button.clicked.connect(self.reopen)
        self.kept_view.activated.connect(lambda _: self.reopen())
        self.referral.currentIndexChanged.connect(lambda _: self._letters_allowed())

    def show_client(self, record) -> None:
        self.record = record
        client = record.client if record else None
        self.referral.blockSignals(True)
        self.referral.clear()
        for r in (record.referrals if record else ()):
            self.referral.addItem(r.referral_ref, r.id)
        self.referral.blockSignals(False)
        plan_why = None
        if client is None:
            plan_why = "No client."
        elif not self.store.may("print_plan", client.id):
            plan_why = self.store.refusal("print_plan", client.id)
        elif not record.plans:
            plan_why = "No plan has been agreed yet: agree one on the Plan tab first."
        self.plan_button.setEnabled(plan_why is None)
        self.plan_button.setToolTip(plan_why or "See the plan as it will print, then print or save it")
        self.large_print.setEnabled(plan_why is None)
        self._letters_allowed(plan_why)
        self.kept.set_rows(self.store.documents.for_client(client.id) if client else [])
        self.kept_view.resizeColumnsToContents()
        self.reopen_button.setEnabled(self.kept.rowCount() > 0)

    def _letters_allowed(self, plan_why: str | None = None) -> None:
        referral_id = self.referral.currentData()
        by_reason: dict[str, list[str]] = {}
        for kind, b in self.letter_buttons.items():
            why = "Choose a referral." if referral_id is None else \
                self.store.documents.letter_refusal(kind, referral_id)
            b.setEnabled(why is None)
            b.setToolTip(why or "See the letter as it will print, then print or save it")
            if why and referral_id is not None:
                by_reason.setdefault(why, []).append(LETTER_WORDS[kind])
        # One line per reason: a trainer is told once that letters are for coordinators.
        reasons = [f"{' and '.join([kinds[0]] + [k[0].lower() + k[1:] for k in kinds[1:]])}: {why}"
                   for why, kinds in by_reason.items()]
        if plan_why and self.record is not None:
            reasons.insert(0, f"Plan: {plan_why}")
        self.why.setText("\n".join(reasons))
        self.why.setVisible(bool(reasons))

    # --- printing ------------------------------------------------------------------------------------

    def preview_plan(self) -> None:
        if self.record is None or not self.plan_button.isEnabled():
            return
        from reports.printing import prepare_plan
        self.worker.submit(prepare_plan, self.store, self.record.client.id, large_print=self.large_print.isChecked(),
                           on_done=self._show_prepared, on_error=lambda e: show_error(self, e))

    def preview_letter(self, kind: str) -> None:
        referral_id = self.referral.currentData()
        if referral_id is None or not self.letter_buttons[kind].isEnabled():
            return
        from reports.printing import prepare_letter
        self.worker.submit(prepare_letter, self.store, kind, referral_id,
                           on_done=self._show_prepared, on_error=lambda e: show_error(self, e))

    def _show_prepared(self, prepared) -> None:
        from reports.printing import keep_prepared
        dialog = PdfPreview(prepared.title, prepared.pdf, file_name=prepared.file_name,
                            keep=lambda out: keep_prepared(self.store, prepared, out), parent=self)
        self._open(dialog)
        dialog.printed.connect(self.changed.emit)

    def reopen(self) -> None:
        index = self.kept_view.currentIndex()
        row = index.row() if index.isValid() else 0
        if self.kept.rowCount() == 0:
            return
        doc = self.store.documents.get(self.kept.row_at(row).id)
        self._open(PdfPreview(f"{doc.label}, printed {show_date(doc.created_at)}", doc.content,
                              file_name=doc.file_name, parent=self))

    def _open(self, dialog: PdfPreview) -> None:
        self.preview = dialog

        def finished(_result: int) -> None:
            if self.preview is dialog:
                self.preview = None
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()
