"""The Clients screen: search as you type on the left, the open record on the right."""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QLineEdit, QSplitter, QStackedWidget, QStyle,
                               QVBoxLayout, QWidget)

from ..models import RowTableModel
from ..models.columns import CLIENT_SEARCH
from ..widgets.common import button, confirm, heading, table_view
from ..widgets.nav import Nav
from .record import ClientRecordView

SEARCH_DELAY_MS = 150   # wait for a pause in typing: one query per pause, not per key
SEARCH_LIMIT = 200


class ClientsPage(QWidget):
    NAV = Nav("&Clients", QStyle.SP_FileDialogDetailedView)     # everyone signed in
    searched = Signal(str, int, float)   # text, rows, seconds from query sent to rows on screen

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.last_search: str | None = None
        self._columns_sized = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        layout.addWidget(self.splitter)

        # --- search ---------------------------------------------------------------------------
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 6, 0)
        left_box.addWidget(heading("Clients"))
        find_label = QLabel("Find a client (Ctrl+F)")
        self.search = QLineEdit()
        self.search.setAccessibleName("Find a client")
        self.search.setAccessibleDescription("Type part of a name, a reference, NHS number, postcode or date of "
                                             "birth; the list updates as you type. Down arrow moves to the list.")
        self.search.setPlaceholderText("Name, HT-ref, NHS number, postcode or DD/MM/YYYY")
        self.search.setClearButtonEnabled(True)
        find_label.setBuddy(self.search)
        left_box.addWidget(find_label)
        left_box.addWidget(self.search)
        options = QHBoxLayout()
        self.include_archived = QCheckBox("Include a&rchived")
        self.include_archived.setAccessibleName("Include archived clients")
        options.addWidget(self.include_archived)
        options.addStretch(1)
        self.new_button = button("&New client\u2026", "New client", tip="Add a new client (Ctrl+N)")
        options.addWidget(self.new_button)
        left_box.addLayout(options)
        self.results = RowTableModel(CLIENT_SEARCH, self)
        self.results_view = table_view("Matching clients", self.results)
        self.results_view.setSortingEnabled(False)   # the store's order (by name) is kept
        left_box.addWidget(self.results_view, 1)
        self.count = QLabel()
        self.count.setAccessibleName("Number of matching clients")
        self.count.setWordWrap(True)
        left_box.addWidget(self.count)
        self.splitter.addWidget(left)

        # --- record ----------------------------------------------------------------------------
        self.stack = QStackedWidget()
        empty = QWidget()
        empty_box = QVBoxLayout(empty)
        empty_box.addStretch(1)
        hint = QLabel("Find a client on the left and press Enter to open their record,\n"
                      "or choose New client (Ctrl+N) to add someone.")
        hint.setAlignment(Qt.AlignCenter)
        hint.setAccessibleName("How to open a record")
        empty_box.addWidget(hint)
        empty_box.addStretch(1)
        self.stack.addWidget(empty)
        self.record = ClientRecordView(store, worker)
        self.stack.addWidget(self.record)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        chars = self.fontMetrics().averageCharWidth()
        self.splitter.setSizes([chars * 68, chars * 124])   # until the PC's own sizes are restored

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(self._typed)
        self.search.returnPressed.connect(self._open_current)
        self.search.installEventFilter(self)
        self.include_archived.toggled.connect(lambda _: self.run_search())
        self.results_view.activated.connect(lambda index: self.open_row(index.row()))
        self.results_view.clicked.connect(lambda index: self.open_row(index.row()))
        self.new_button.clicked.connect(self.new_client)
        self.new_button.setEnabled(store.may("add_client"))
        self.record.open_client.connect(lambda client_id: self.open_client(client_id, ask=False))
        self.setTabOrder(self.search, self.include_archived)
        self.setTabOrder(self.include_archived, self.new_button)
        self.setTabOrder(self.new_button, self.results_view)

    # --- search as you type ------------------------------------------------------------------------

    def eventFilter(self, obj, event) -> bool:
        if obj is self.search and event.type() == QEvent.KeyPress and event.key() == Qt.Key_Down:
            self.results_view.setFocus()
            if self.results.rowCount() and not self.results_view.selectionModel().hasSelection():
                self.results_view.selectRow(0)
            return True
        return super().eventFilter(obj, event)

    def _typed(self, _text: str) -> None:
        self.timer.start()   # restarts on every key: the search runs once typing pauses

    def run_search(self) -> None:
        self.timer.stop()
        text = self.search.text()
        started = time.perf_counter()
        self.worker.submit(self.store.clients.search, text, limit=SEARCH_LIMIT,
                           include_archived=self.include_archived.isChecked(), key="client-search",
                           on_done=lambda rows: self._show_results(text, rows, started))

    def _show_results(self, text: str, rows, started: float) -> None:
        self.results.set_rows(rows)
        if rows and not self._columns_sized:
            # Once: measuring every cell in view took ~7 ms a keystroke, and columns that
            # jumped with each key were harder to read.
            self.results_view.resizeColumnsToContents()
            self._columns_sized = True
        n = len(rows)
        if n >= SEARCH_LIMIT:
            self.count.setText(f"The first {n} matches are shown: type more to narrow the search.")
        elif n == 0:
            self.count.setText("No clients match. Check the spelling, or add a new client.")
        else:
            self.count.setText(f"{n} client{'s' if n != 1 else ''} {'match' if text.strip() else 'shown'}.")
        self.last_search = text
        self.searched.emit(text, n, time.perf_counter() - started)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.ShortcutFocusReason)
        self.search.selectAll()

    # --- opening records ----------------------------------------------------------------------------

    def _open_current(self) -> None:
        rows = self.results_view.selectionModel().selectedRows()
        row = rows[0].row() if rows else 0
        if self.timer.isActive():   # Enter before the pause ended: search first, then open the top match
            self.timer.stop()
            text = self.search.text()
            self.worker.submit(self.store.clients.search, text, limit=SEARCH_LIMIT,
                               include_archived=self.include_archived.isChecked(), key="client-search",
                               on_done=lambda found: (self._show_results(text, found, time.perf_counter()),
                                                      self.open_row(0)))
            return
        self.open_row(row)

    def open_row(self, row: int) -> None:
        summary = self.results.row_at(row)
        if summary is not None:
            self.open_client(summary.id)

    def _may_leave(self) -> bool:
        if self.stack.currentWidget() is self.record and self.record.form.is_dirty():
            return confirm(self, "Unsaved changes", "The client's details have changes that are not saved. "
                           "Leave them and go on?", "&Discard changes", "Keep &editing")
        return True

    def open_client(self, client_id: int, ask: bool = True) -> None:
        if self.record.client is not None and self.record.client.id == client_id and \
                self.stack.currentWidget() is self.record:
            self.record.load_client(client_id, keep_tab=True)
            return
        if ask and not self._may_leave():
            return
        self.stack.setCurrentWidget(self.record)
        self.record.load_client(client_id)

    def new_client(self) -> None:
        if not self.store.may("add_client") or not self._may_leave():
            return
        self.stack.setCurrentWidget(self.record)
        self.record.show_new()

    def on_store_changed(self, changes, visible: bool) -> None:
        """A change anywhere: names and references in the results may have changed, and the open
        record may show what changed (its lists are read again; typing in its form is kept)."""
        if changes.entity in ("client", "import"):
            self.run_search()
        self.record.on_store_changed(changes)
