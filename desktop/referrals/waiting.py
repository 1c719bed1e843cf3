"""Referrals and waiting list: everyone not yet in support, urgent first, longest wait first."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QStyle, QVBoxLayout, QWidget

from db.public import codes

from ..models import RowFilterProxy, RowTableModel
from ..models.columns import WAITING_LIST, three_tries_reached, tries_reached
from ..widgets.common import button, heading, table_view
from ..widgets.fields import CodeCombo
from ..widgets.nav import Nav
from .panel import ReferralPanel

_WAITING_STATUSES = ("NEW", "CONTACTING", "WAITING")
NOT_ALLOCATED = -1
ROWS_IN_VIEW = 10   # the list keeps this many rows in view before the details get more room


class _Split(QSplitter):
    """A splitter that tells its page after each resize (the page then keeps the list's rows)."""

    def __init__(self, orientation, on_resized):
        super().__init__(orientation)
        self.on_resized = on_resized

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.on_resized()


def _three_tries_note(item) -> str | None:
    if three_tries_reached(item):
        return f"{item.unsuccessful_attempts} unsuccessful contact attempts: {tries_reached(item.tries_needed).lower()}"
    return None


class WaitingListPage(QWidget):
    # Coordinators and managers run the waiting list.
    NAV = Nav("&Referrals and waiting list", QStyle.SP_FileDialogListView, lambda store: store.may("allocate"))
    open_referral = Signal(int, int)   # client id, referral id: the record opens at that referral

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.loaded_once = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(heading("Referrals and waiting list"), 1)
        self.refresh_button = button("Refresh", "Refresh the waiting list", tip="Read the list again (F5)")
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        filters = QHBoxLayout()
        statuses = [(c, codes.label("referral_status", c)) for c in _WAITING_STATUSES]
        self.status_filter = CodeCombo("referral_status", "Filter by status", blank="All statuses", items=statuses)
        self.trainer_filter = CodeCombo("", "Filter by trainer", blank="All trainers",
                                        items=[(NOT_ALLOCATED, "Not allocated")])
        self.source_filter = CodeCombo("source", "Filter by source", blank="All sources")
        for text, combo in (("&Status", self.status_filter), ("Trai&ner", self.trainer_filter),
                            ("Sou&rce", self.source_filter)):
            label = QLabel(text)
            label.setBuddy(combo)
            filters.addWidget(label)
            filters.addWidget(combo)
        filters.addStretch(1)
        self.count = QLabel()
        self.count.setAccessibleName("Number of referrals shown")
        filters.addWidget(self.count)
        layout.addLayout(filters)

        split = _Split(Qt.Vertical, self._keep_rows_in_view)
        split.setChildrenCollapsible(False)
        self.splitter = split
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        self.model = RowTableModel(WAITING_LIST, self, highlight=_three_tries_note)
        self.model.fed.connect(self._fed)
        self._reselect: int | None = None
        self._columns_sized = False
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = table_view("Waiting list", self.proxy)
        self.view.sortByColumn(self.model.column_index("priority"), Qt.AscendingOrder)
        table_layout.addWidget(self.view)
        split.addWidget(table_box)

        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        self.panel = ReferralPanel(store, worker)
        self.open_button = button("Open &client record", "Open client record", tip="Open the client's record (Enter)")
        self.panel.actions.insertWidget(0, self.open_button)
        lower_box.addWidget(self.panel)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)

        self.refresh_button.clicked.connect(self.refresh)
        for combo in (self.status_filter, self.trainer_filter, self.source_filter):
            combo.currentIndexChanged.connect(self._apply_filters)
        self.view.selectionModel().currentRowChanged.connect(lambda current, _: self._selected(current.row()))
        self.view.activated.connect(lambda index: self._open(index.row()))
        self.open_button.clicked.connect(lambda: self._open(self.view.currentIndex().row()))
        self.open_button.setEnabled(False)

    # --- data ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.worker.submit(lambda: (self.store.referrals.waiting_list(), self.store.service.trainers()), key="waiting-list",
                           on_done=lambda got: self._show(*got))

    def _show(self, items, trainers) -> None:
        keep = self.current_item()
        self.loaded_once = True
        chosen = self.trainer_filter.code()
        self.trainer_filter.blockSignals(True)
        while self.trainer_filter.count() > 2:
            self.trainer_filter.removeItem(2)
        for s in trainers:
            self.trainer_filter.addItem(s.full_name, s.id)
        self.trainer_filter.set_code(chosen)
        self.trainer_filter.blockSignals(False)
        self.model.set_rows(items)   # the first screenful now, the rest over the next few frames
        if items and not self._columns_sized:
            self.view.resizeColumnsToContents()   # once: columns that jump at each refresh are hard to read
            self._columns_sized = True
        self._apply_filters()
        if keep is not None and not self.select_referral(keep.referral_id) and self.model.feeding():
            self._reselect = keep.referral_id     # further down the list: selected once it is in

    def _fed(self) -> None:
        if self._reselect is not None:
            self.select_referral(self._reselect)
            self._reselect = None

    def _apply_filters(self) -> None:
        status, trainer, source = self.status_filter.code(), self.trainer_filter.code(), self.source_filter.code()
        if trainer == NOT_ALLOCATED:
            by_trainer = lambda r: r.allocated_staff_id is None  # noqa: E731
        else:
            by_trainer = (lambda r: r.allocated_staff_id == trainer) if trainer else None
        self.proxy.set_filters({"status": (lambda r: r.status == status) if status else None,
                                "trainer": by_trainer,
                                "source": (lambda r: r.source == source) if source else None})
        rows = self.proxy.shown_rows()
        shown, total = len(rows), len(self.model.all_rows())
        urgent = sum(1 for r in rows if r.priority == "urgent")
        self.count.setText(f"{shown} of {total} waiting" + (f", {urgent} urgent" if urgent else ""))

    def current_item(self):
        index = self.view.currentIndex()
        return self.proxy.row_at(index.row()) if index.isValid() else None

    def select_referral(self, referral_id: int) -> bool:
        for i in range(self.proxy.rowCount()):
            if self.proxy.row_at(i).referral_id == referral_id:
                self.view.selectRow(i)
                self.view.scrollTo(self.proxy.index(i, 0))
                return True
        return False

    def _selected(self, row: int) -> None:
        item = self.proxy.row_at(row)
        self.open_button.setEnabled(item is not None)
        if item is None:
            self.panel.show_referral(None)
            return
        self.worker.submit(self.store.referrals.get, item.referral_id, key="waiting-referral",
                           on_done=self.panel.show_referral)

    def _open(self, row: int) -> None:
        item = self.proxy.row_at(row)
        if item is not None:
            self.open_referral.emit(item.client_id, item.referral_id)

    # --- layout -------------------------------------------------------------------------------------

    def list_height(self, rows: int) -> int:
        v = self.view
        return (rows * v.verticalHeader().defaultSectionSize() + v.horizontalHeader().sizeHint().height()
                + v.horizontalScrollBar().sizeHint().height() + 2 * v.frameWidth())

    def rows_in_view(self) -> float:
        v = self.view
        return v.viewport().height() / v.verticalHeader().defaultSectionSize()

    def _keep_rows_in_view(self) -> None:
        # On a short screen (150% scaling on 1366x768) the split by stretch left 3-4 rows; the
        # list keeps ten and the details (which scroll) take the rest.
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        want = self.list_height(ROWS_IN_VIEW)
        if sizes[0] < want:
            top = min(want, total - self.splitter.widget(1).minimumSizeHint().height())
            if top > sizes[0]:
                self.splitter.setSizes([top, total - top])

    def on_store_changed(self, changes, visible: bool) -> None:
        """Any change to referrals or clients may move the list: read it again now if it is on screen,
        else on the next visit (as good as now, and costs nothing while hidden)."""
        if changes.entity in ("referral", "client", "session", "import"):
            if visible:
                self.refresh()
            else:
                self.loaded_once = False
