"""Shown before a new client is saved when people already known may be the same person."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from ..models import Column, RowTableModel
from ..models.columns import CLIENT_SEARCH
from ..widgets.common import table_view

# (ClientSummary, why) pairs: the search columns (an archived person's name says so) plus the reason.
_COLUMNS = tuple(Column(c.key, c.header, (lambda c: lambda pair: c.text(pair[0]))(c)) for c in CLIENT_SEARCH) + (
    Column("why", "Why it may be the same person", lambda pair: pair[1]),
)


class DuplicateDialog(QDialog):
    OPEN, SAVE_ANYWAY = 10, 11

    def __init__(self, found, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Possible duplicate")
        self.setAccessibleName("Possible duplicate")
        layout = QVBoxLayout(self)
        n = len(found)
        text = QLabel(f"{n} person{'s are' if n > 1 else ' is'} already known who may be the one you are adding. "
                      "Open the existing record if it is the same person; save anyway only if you are sure "
                      "it is someone else.")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.model = RowTableModel(_COLUMNS, self)
        self.model.set_rows(found)
        self.view = table_view("Possible duplicates", self.model, sortable=False)
        self.view.resizeColumnsToContents()
        self.view.selectRow(0)
        self.view.doubleClicked.connect(lambda _: self.done(self.OPEN))
        layout.addWidget(self.view)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open the existing record", QDialogButtonBox.AcceptRole)
        self.open_button.setAccessibleName("Open the existing record")
        self.save_button = buttons.addButton("&Save as a new client anyway", QDialogButtonBox.ApplyRole)
        self.save_button.setAccessibleName("Save as a new client anyway")
        cancel = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        cancel.setAccessibleName("Cancel")
        self.open_button.clicked.connect(lambda: self.done(self.OPEN))
        self.save_button.clicked.connect(lambda: self.done(self.SAVE_ANYWAY))
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)
        # The safe choice is the default, so Enter opens the existing record. Set only once the
        # buttons are inside the dialog: before that Qt has no dialog to tell, and at show it
        # made the first button in its own order ("Save anyway") the default instead.
        self.open_button.setDefault(True)
        self.view.setFocus()
        self.resize(max(self.sizeHint().width(), self.view.horizontalHeader().length() + 40), self.sizeHint().height())

    def chosen_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        pair = self.model.row_at(rows[0].row()) if rows else self.model.row_at(0)
        return pair[0].id if pair else None
