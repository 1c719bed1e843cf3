"""People's rights from the record (issue 14): a subject access bundle written with progress, and
erasure on request confirmed by typing the person's reference and a reason (both audited)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QMessageBox,
                               QVBoxLayout)

from ..widgets.common import ProgressDialog, show_error


def subject_access(parent, store, worker, client, path: str | None = None, on_done=None) -> None:
    """Ask where, then write the bundle on the worker with progress; say where it went."""
    if client is None:
        return
    refused = store.refusal("sar", client.id)
    if refused:
        QMessageBox.information(parent, "Subject access bundle", refused)
        return
    if path is None:
        path, _ = QFileDialog.getSaveFileName(parent, "Subject access bundle",
                                              str(Path(QDir.homePath()) / f"{client.client_ref}-subject-access.zip"),
                                              "Zip file (*.zip)")
        if not path:
            return

    def run(job):
        from db.public import check_output_path
        from reports.sar import write_bundle
        out = check_output_path(path, (".zip",), "the subject access bundle")
        return str(store.privacy.write_subject_access(client.id, out, write_bundle=write_bundle,
                                                      on_progress=job.progress))

    progress = ProgressDialog(parent, "Subject access bundle", f"Gathering everything held about {client.client_ref}\u2026")

    def done(out):
        progress.close()
        window = parent.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Wrote the subject access bundle to {out}", 15_000)
        if on_done:
            on_done(out)

    def failed(exc):
        progress.close()
        show_error(parent, exc)

    job = worker.submit(run, with_job=True, on_done=done, on_error=failed)
    progress.follow(worker, job)
    progress.show()


class EraseDialog(QDialog):
    """Erase on request: what it does, a reason, and the reference typed to confirm."""

    def __init__(self, people: list[tuple[int, str]], default_reason: str = "", parent=None):
        super().__init__(parent)
        self.people = people
        one = len(people) == 1
        self.setWindowTitle("Erase on request" if one else "Anonymise people past the retention period")
        layout = QVBoxLayout(self)
        who = people[0][1] if one else f"{len(people):,} people"
        text = QLabel(f"Erase {who}: their names, contact details, NHS number, free text and date of birth "
                      "(kept to its year) are anonymised, and the plans and letters printed for them are removed. "
                      "Referrals, sessions and assessments stay without names, so past returns keep their "
                      "counts. This cannot be undone; it is recorded in the audit trail with the reason.")
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.reason = QLineEdit(default_reason)
        self.reason.setAccessibleName("Reason for erasure")
        self.confirm = QLineEdit()
        self.confirm.setAccessibleName("Type to confirm")
        self.expected = people[0][1] if one else "ERASE"
        self.confirm.setPlaceholderText(self.expected)
        r, c = QLabel("&Reason:"), QLabel(f"&Type {self.expected} to confirm:")
        r.setBuddy(self.reason)
        c.setBuddy(self.confirm)
        form.addRow(r, self.reason)
        form.addRow(c, self.confirm)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.erase_button = self.buttons.addButton("&Erase" if one else "&Anonymise", QDialogButtonBox.DestructiveRole)
        self.erase_button.setAccessibleName("Erase" if one else "Anonymise")
        self.erase_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for field in (self.reason, self.confirm):
            field.textChanged.connect(self._enable)
        self._enable()
        self.resize(520, self.sizeHint().height())

    def _enable(self) -> None:
        self.erase_button.setEnabled(len(self.reason.text().strip()) >= 5 and
                                     self.confirm.text().strip().upper() == self.expected.upper())


def erase_people(parent, store, worker, people: list[tuple[int, str]], *, default_reason: str = "",
                 on_done=None, dialog_hook=None) -> EraseDialog:
    """Confirm, then erase on the worker (one person: store.privacy.erase; several: erase_many)."""
    dialog = EraseDialog(people, default_reason, parent)

    def finished(result: int) -> None:
        if not result:
            return
        reason = dialog.reason.text().strip()
        ids = [i for i, _ in people]
        call = (lambda: store.privacy.erase(ids[0], reason)) if len(ids) == 1 else \
            (lambda: store.privacy.erase_many(ids, reason))

        def done(got):
            window = parent.window()
            if hasattr(window, "statusBar"):
                window.statusBar().showMessage(f"Erased {len(got):,} " + ("person" if len(got) == 1 else "people")
                                               + "; the audit trail records why.", 15_000)
            if on_done:
                on_done(got)

        worker.submit(call, on_done=done, on_error=lambda exc: show_error(parent, exc))

    dialog.finished.connect(finished)
    if dialog_hook:
        dialog_hook(dialog)
    dialog.open()
    return dialog


def erase_client(parent, store, worker, client, on_done=None, dialog_hook=None):
    if client is None:
        return None
    refused = store.refusal("erase", client.id)
    if refused:
        QMessageBox.information(parent, "Erase on request", refused)
        return None
    if client.anonymised_at:
        QMessageBox.information(parent, "Erase on request", f"{client.client_ref} was already erased.")
        return None
    return erase_people(parent, store, worker, [(client.id, client.client_ref)], on_done=on_done,
                        dialog_hook=dialog_hook)
