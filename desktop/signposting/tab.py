"""The Signposting tab of the client record: a searchable local directory, signposting the client to an
entry with a follow-up date, recording the outcome, and adding or editing directory entries (managers
and coordinators; others see why not)."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QSplitter, QVBoxLayout, QWidget)

from db.public import codes

from ..models import RowTableModel
from ..models.columns import show_date
from ..models.table import Column
from ..widgets.common import button, show_error, table_view
from ..widgets.date_field import DateField

DIRECTORY = (
    Column("name", "Service"),
    Column("category", "Category", lambda e: codes.label("signposting_category", e.category)),
    Column("phone", "Phone"),
    Column("notes", "Notes"),
)
FOLLOW_UPS = (
    Column("follow_up_date", "Follow up", lambda i: show_date(i.follow_up_date) or "no date",
           lambda i: i.follow_up_date or "9999"),
    Column("client", "Client", lambda i: f"{i.preferred_name or i.first_name} {i.last_name} ({i.client_ref})"),
    Column("where", "Signposted to", lambda i: i.where),
    Column("signpost_date", "On", lambda i: show_date(i.signpost_date), lambda i: i.signpost_date),
)
SIGNPOSTS = (
    Column("signpost_date", "Date", lambda s: show_date(s.signpost_date), lambda s: s.signpost_date),
    Column("destination", "To", lambda s: s.destination or codes.label("signposting_category", s.category)),
    Column("type", "How", lambda s: codes.label("signposting_type", s.type)),
    Column("follow_up_date", "Follow up", lambda s: show_date(s.follow_up_date)),
    Column("outcome", "Outcome", lambda s: codes.label("signposting_outcome", s.outcome)
           + (f" ({show_date(s.outcome_date)})" if getattr(s, "outcome_date", None) else "")),
)


def _combo(name: str, list_name: str, blank: str | None = None) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    if blank:
        combo.addItem(blank, None)
    for code in codes.codes(list_name):
        combo.addItem(codes.label(list_name, code), code)
    return combo


class DirectoryEntryDialog(QDialog):
    def __init__(self, entry=None, parent=None):
        super().__init__(parent)
        self.entry = entry
        self.setWindowTitle("Edit directory entry" if entry else "New directory entry")
        self.setAccessibleName(self.windowTitle())
        form = QFormLayout(self)
        self.fields = {}
        for key, label in (("name", "Name"), ("category", "Category"), ("phone", "Phone"),
                           ("address", "Address"), ("web", "Web"), ("notes", "Notes")):
            widget = _combo("Category", "signposting_category") if key == "category" else QLineEdit()
            if key != "category":
                widget.setAccessibleName(label.replace("&", ""))
                widget.setText(getattr(entry, key, None) or "" if entry else "")
            elif entry:
                widget.setCurrentIndex(max(widget.findData(entry.category), 0))
            lab = QLabel(label)
            lab.setBuddy(widget)
            form.addRow(lab, widget)
            self.fields[key] = widget
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        return {k: (w.currentData() if isinstance(w, QComboBox) else w.text()) for k, w in self.fields.items()}


class OutcomeDialog(QDialog):
    def __init__(self, signpost, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Signposting outcome")
        self.setAccessibleName("Signposting outcome")
        form = QFormLayout(self)
        self.outcome = _combo("Outcome", "signposting_outcome")
        self.outcome.setCurrentIndex(max(self.outcome.findData(signpost.outcome), 0))
        self.date = DateField("Date the outcome was learnt")
        self.date.set_iso(date.today().isoformat())
        self.follow_up = DateField("Next follow-up date")
        self.follow_up.set_iso(signpost.follow_up_date)
        for label, widget in (("Outcome", self.outcome), ("Learnt on", self.date),
                              ("Follow up again on", self.follow_up)):
            lab = QLabel(label)
            lab.setBuddy(widget)
            form.addRow(lab, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Save outcome")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        return {"outcome": self.outcome.currentData(), "outcome_date": self.date.text(),
                "follow_up_date": self.follow_up.text()}


class SignpostingTab(QWidget):
    changed = Signal(object)
    open_client = Signal(int)          # a client on the follow-up list, to open their record

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.record = None
        self.dialog = None
        layout = QVBoxLayout(self)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)

        left = QGroupBox("Local directory")
        lv = QVBoxLayout(left)
        find = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setAccessibleName("Search the directory")
        self.search.setPlaceholderText("Search: debt, housing, food, walking\u2026")
        self.category = _combo("Directory category", "signposting_category", "All categories")
        search_label = QLabel("Find")
        search_label.setBuddy(self.search)
        find.addWidget(search_label)
        find.addWidget(self.search, 1)
        find.addWidget(self.category)
        lv.addLayout(find)
        self.directory = RowTableModel(DIRECTORY, self)
        self.directory_view = table_view("Directory entries", self.directory)
        lv.addWidget(self.directory_view, 1)
        edit_row = QHBoxLayout()
        self.add_entry_button = button("New entry\u2026", "New directory entry")
        self.edit_entry_button = button("Edit entry\u2026", "Edit directory entry")
        edit_row.addWidget(self.add_entry_button)
        edit_row.addWidget(self.edit_entry_button)
        edit_row.addStretch(1)
        lv.addLayout(edit_row)
        self.directory_note = QLabel()
        self.directory_note.setWordWrap(True)
        lv.addWidget(self.directory_note)
        split.addWidget(left)

        right = QGroupBox("Signposting for this client")
        rv = QVBoxLayout(right)
        form = QFormLayout()
        self.type = _combo("Signposted or referred", "signposting_type")
        self.date = DateField("Date signposted")
        self.follow_up = DateField("Follow-up date")
        for label, widget in (("How", self.type), ("Date", self.date), ("Follow up on", self.follow_up)):
            lab = QLabel(label)
            lab.setBuddy(widget)
            form.addRow(lab, widget)
        rv.addLayout(form)
        self.signpost_button = button("Signpost to the chosen service", "Signpost to the chosen service")
        rv.addWidget(self.signpost_button)
        self.signposts = RowTableModel(SIGNPOSTS, self)
        self.signposts_view = table_view("Signposting of this client", self.signposts, sortable=False)
        rv.addWidget(self.signposts_view, 1)
        self.outcome_button = button("Record outcome\u2026", "Record outcome")
        rv.addWidget(self.outcome_button)
        self.read_only_note = QLabel()
        self.read_only_note.setWordWrap(True)
        rv.addWidget(self.read_only_note)
        split.addWidget(right)
        layout.addWidget(split, 3)

        follow = QGroupBox("Follow-ups: signposting whose outcome is not known yet (my clients)")
        fv = QVBoxLayout(follow)
        self.follow_ups = RowTableModel(FOLLOW_UPS, self)
        self.follow_view = table_view("Signposting follow-ups", self.follow_ups, sortable=False)   # oldest due first
        self.follow_view.setMinimumHeight(self.fontMetrics().height() * 6)
        fv.addWidget(self.follow_view)
        self.open_follow_button = button("Open this client", "Open the client of the chosen follow-up")
        fv.addWidget(self.open_follow_button)
        layout.addWidget(follow, 1)
        self.open_follow_button.clicked.connect(self._open_follow_up)
        self.follow_view.activated.connect(lambda _: self._open_follow_up())

        self.search.textChanged.connect(lambda _: self.find())
        self.category.currentIndexChanged.connect(lambda _: self.find())
        self.signpost_button.clicked.connect(self.signpost)
        self.outcome_button.clicked.connect(self.record_outcome)
        self.add_entry_button.clicked.connect(lambda: self.edit_entry(None))
        self.edit_entry_button.clicked.connect(lambda: self.edit_entry(self._chosen_entry()))

    def show_client(self, record) -> None:
        self.record = record
        client = record.client if record else None
        may = client is not None and bool(record.referrals) and self.store.may("edit_client", client.id)
        why = "" if may or client is None else (self.store.refusal("edit_client", client.id)
                                                or "Add a referral first: signposting belongs to one.")
        self.read_only_note.setText(why)
        self.read_only_note.setVisible(bool(why))
        for w in (self.signpost_button, self.outcome_button, self.type, self.date, self.follow_up):
            w.setEnabled(may)
        self.date.set_iso(date.today().isoformat())
        self.follow_up.set_iso((date.today() + timedelta(days=28)).isoformat())
        manage = self.store.may("manage_directory")
        self.add_entry_button.setEnabled(manage)
        self.edit_entry_button.setEnabled(manage)
        self.directory_note.setText("" if manage else (self.store.refusal("manage_directory") or ""))
        self.directory_note.setVisible(not manage)
        self.signposts.set_rows(list(record.signposting) if record else [])
        self.signposts_view.resizeColumnsToContents()
        self.find()
        self.follow_ups.set_rows(self.store.signposting.follow_up(mine=self.store.actor is not None
                                                                  and self.store.actor.staff_id is not None))
        self.follow_view.resizeColumnsToContents()
        self.open_follow_button.setEnabled(self.follow_ups.rowCount() > 0)

    def _open_follow_up(self) -> None:
        index = self.follow_view.currentIndex()
        if index.isValid():
            self.open_client.emit(self.follow_ups.row_at(index.row()).client_id)

    def find(self) -> None:
        self.directory.set_rows(self.store.signposting.find_in_directory(self.search.text(),
                                                                        self.category.currentData()))
        self.directory_view.resizeColumnsToContents()

    def _chosen_entry(self):
        index = self.directory_view.currentIndex()
        return self.directory.row_at(index.row()) if index.isValid() else None

    def _referral_id(self):
        refs = list(self.record.referrals) if self.record else []
        chosen = next((r for r in refs if r.status != "CLOSED"), refs[0] if refs else None)
        return chosen.id if chosen else None

    def signpost(self) -> None:
        entry = self._chosen_entry()
        referral_id = self._referral_id()
        if entry is None or referral_id is None:
            show_error(self, _field_error("destination", "Choose a service in the directory first."))
            return
        values = {"signpost_date": self.date.text(), "category": entry.category, "type": self.type.currentData(),
                  "directory_id": entry.id, "destination": entry.name, "follow_up_date": self.follow_up.text()}
        self.worker.submit(self.store.signposting.add, referral_id, values, on_done=self.changed.emit,
                           on_error=lambda e: show_error(self, e))

    def record_outcome(self) -> None:
        index = self.signposts_view.currentIndex()
        if not index.isValid():
            return
        signpost = self.signposts.row_at(index.row())
        dialog = OutcomeDialog(signpost, self)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            if result:
                self.worker.submit(self.store.signposting.record_outcome, signpost.id, dialog.values(),
                                   expected_version=signpost.row_version, on_done=self.changed.emit,
                                   on_error=lambda e: show_error(self, e))
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def edit_entry(self, entry) -> None:
        if not self.store.may("manage_directory"):
            return
        dialog = DirectoryEntryDialog(entry, self)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            if result:
                v = dialog.values()
                if entry is None:
                    name, category = v.pop("name"), v.pop("category")
                    self.worker.submit(self.store.signposting.add_directory_entry, name, category, **v,
                                       on_done=lambda _: self._directory_changed(),
                                       on_error=lambda e: show_error(self, e))
                else:
                    self.worker.submit(self.store.signposting.update_directory_entry, entry.id, v,
                                       expected_version=entry.row_version,
                                       on_done=lambda _: self._directory_changed(),
                                       on_error=lambda e: show_error(self, e))
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def _directory_changed(self) -> None:
        self.find()


def _field_error(field: str, message: str):
    from db.errors import FieldError, ValidationError
    return ValidationError(FieldError(field, message))
