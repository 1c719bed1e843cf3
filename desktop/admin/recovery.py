"""A new recovery key (administrators, File menu): the old key stops opening the database; the new one is
shown once, with its recovery sheet to print."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QMessageBox, QVBoxLayout

from db.errors import HTDeskError

from ..widgets.common import show_error


def recovery_key_label(text: str = "") -> QLabel:
    """The recovery key as shown this once (the wizard, File → New recovery key): large, monospace, selectable."""
    key = QLabel(text)
    key.setAccessibleName("Recovery key")
    key.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
    font = key.font()
    font.setFamily("monospace")
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    key.setFont(font)
    key.setStyleSheet("QLabel { background: #e3eef8; padding: 10px; }")
    return key


class RecoveryKeyDialog(QDialog):
    def __init__(self, store, recovery_key: str, parent=None):
        super().__init__(parent)
        self.store, self.recovery_key = store, recovery_key
        self.open_after = True        # tests switch the PDF viewer off
        self.setWindowTitle("New recovery key")
        self.setAccessibleName("New recovery key")
        layout = QVBoxLayout(self)
        intro = QLabel("The database's new recovery key, shown only now. The previous key no longer opens the "
                       "database (backups made before keep theirs). Print the recovery sheet and keep it locked "
                       "away, apart from this PC.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.key = recovery_key_label(recovery_key)
        layout.addWidget(self.key)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Recovery sheet")
        layout.addWidget(self.note)
        buttons = QDialogButtonBox()
        self.print_button = buttons.addButton("&Print recovery sheet\u2026", QDialogButtonBox.ActionRole)
        self.print_button.setAccessibleName("Print recovery sheet")
        self.print_button.clicked.connect(lambda: self.save_sheet())
        close = buttons.addButton("Close", QDialogButtonBox.AcceptRole)
        close.setAccessibleName("Close")
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)

    def save_sheet(self, out: str | None = None) -> Path | None:
        return save_recovery_sheet(self, self.store, self.recovery_key, self.note, self.open_after, out)


def save_recovery_sheet(parent, store, recovery_key: str, note, open_after: bool, out: str | None = None) -> Path | None:
    """Write the recovery sheet (PDF) where the person chooses, say so in the note label, then open it to
    print (open_after). out: tests, instead of asking. The first-run wizard and File → New recovery key."""
    if out is None:
        out, _ = QFileDialog.getSaveFileName(parent, "Save the recovery sheet to print",
                                             str(Path.home() / "recovery-sheet.pdf"), "PDF (*.pdf)")
        if not out:
            return None
    from reports.recovery_sheet import build_recovery_sheet
    try:
        build_recovery_sheet(store.service_name, store.service_code, store.database_id, recovery_key, out,
                             database_path=str(store.path), is_demo=store.is_demo)
    except OSError as exc:
        note.setText(f"The sheet could not be written to {out}: {exc.strerror}. Choose another place.")
        return None
    note.setText(f"Recovery sheet saved to {out}: print it, then delete the file.")
    if open_after:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))
    return Path(out)


def new_recovery_key(window, confirm: bool | None = None) -> RecoveryKeyDialog | None:
    """Ask, make the key, show it (the dialog is returned for tests; confirm=True skips the question)."""
    if confirm is None:
        answer = QMessageBox.question(window, "New recovery key",
                                      "Make a new recovery key? The current one will no longer open the database "
                                      "(backups made before keep theirs). Do this when the recovery sheet is lost "
                                      "or may have been seen.")
        confirm = answer == QMessageBox.Yes
    if not confirm:
        return None
    try:
        key = window.store.admin.new_recovery_key()
    except HTDeskError as exc:
        show_error(window, exc)
        return None
    dialog = RecoveryKeyDialog(window.store, key, window)
    dialog.setAttribute(Qt.WA_DeleteOnClose, False)
    dialog.show()
    return dialog
