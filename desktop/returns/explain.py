"""The referrals behind a figure (the return's explain), each opening the client's record.

Used by the return page and the reach and equity dashboard: both ask the one engine
(store.returns.explain), so a figure and its list always agree."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget,
                               QRadioButton, QVBoxLayout)

from ..widgets.common import button, show_error


class ReferralListDialog(QDialog):
    """Lists referral references loaded on the worker by `load(as_submitted)`; Enter, a
    double-click or "Open referral" opens the client's record at that referral."""

    open_referral = Signal(int, int)      # client id, referral id

    def __init__(self, store, worker, title: str, about: str, load: Callable[[bool], list[str]],
                 parent=None, *, submitted_too: bool = False):
        super().__init__(parent)
        self.store, self.worker, self.load = store, worker, load
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(520, 480)
        layout = QVBoxLayout(self)
        heading = QLabel(about)
        heading.setWordWrap(True)
        heading.setAccessibleName("What the list is")
        layout.addWidget(heading)
        self.submitted_box = None
        if submitted_too:
            row = QHBoxLayout()
            self.now_button = QRadioButton("As it is &now")
            self.now_button.setAccessibleName("Referrals behind the figure now")
            self.sent_button = QRadioButton("As &submitted")
            self.sent_button.setAccessibleName("Referrals behind the figure as submitted")
            self.now_button.setChecked(True)
            self.submitted_box = QButtonGroup(self)
            for b in (self.now_button, self.sent_button):
                self.submitted_box.addButton(b)
                row.addWidget(b)
            row.addStretch(1)
            layout.addLayout(row)
            self.sent_button.toggled.connect(lambda _: self.reload())
        self.count = QLabel("Loading\u2026")
        self.count.setAccessibleName("Number of referrals")
        layout.addWidget(self.count)
        self.list = QListWidget()
        self.list.setAccessibleName("Referrals behind the figure")
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox()
        self.open_button = button("&Open referral", "Open referral", tip="Open the client's record at this referral (Enter)")
        self.open_button.setEnabled(False)
        buttons.addButton(self.open_button, QDialogButtonBox.ActionRole)
        close = buttons.addButton(QDialogButtonBox.Close)
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.itemActivated.connect(lambda _: self.open_current())
        self.open_button.clicked.connect(self.open_current)
        self.list.currentRowChanged.connect(lambda row: self.open_button.setEnabled(row >= 0))
        self.refs: list[str] = []
        self.reload()

    @property
    def as_submitted(self) -> bool:
        return self.submitted_box is not None and self.sent_button.isChecked()

    def reload(self) -> None:
        self.count.setText("Loading\u2026")
        self.list.clear()
        self.open_button.setEnabled(False)
        self.worker.submit(self.load, self.as_submitted, key=f"explain-{id(self)}", on_done=self._show,
                           on_error=lambda exc: (self.count.setText("The list could not be made."),
                                                 show_error(self, exc)))

    def _show(self, refs: list[str]) -> None:
        self.refs = list(refs)
        when = " as submitted" if self.as_submitted else ""
        self.count.setText(f"{len(self.refs):,} referral reference(s){when}" +
                           (" (a referral appears once for each thing counted)" if len(set(self.refs)) < len(self.refs) else ""))
        self.list.addItems(self.refs)
        if self.refs:
            self.list.setCurrentRow(0)

    def open_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        ref = item.text()

        def find():
            referral_id = self.store.referrals.id_for_ref(ref)
            return self.store.referrals.get(referral_id).client_id, referral_id

        self.worker.submit(find, on_done=self._opened, on_error=lambda exc: show_error(self, exc))

    def _opened(self, got) -> None:
        client_id, referral_id = got
        self.open_referral.emit(client_id, referral_id)
        self.accept()
