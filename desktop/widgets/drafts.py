"""Typing kept through a crash: the client form's draft is saved a moment after typing stops,
and offered back after the next sign-in ("Restore" or "Discard").

Drafts live in the database through `store.drafts` (never in a plain file, so an encrypted
database keeps them encrypted). The window wires this in with one call, `keep_drafts(window)`;
the form itself knows nothing about drafts.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit

from ..models.columns import show_date
from .common import button

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 2000   # after the last change: a pause in typing, not every key
NEW_CLIENT = "client:new"


def form_key(form) -> str:
    """Which form a draft belongs to: the client being edited, or a new client."""
    return NEW_CLIENT if form.client is None else f"client:{form.client.id}"


def _log_failure(what: str):
    # A draft that cannot be written must not interrupt the person: the form still has the typing.
    return lambda exc: log.warning("could not %s a draft: %s", what, exc.__class__.__name__)


def _changed_signal(widget):
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.checkStateChanged   # not `toggled`: no bool crosses into Python
    if isinstance(widget, (QLineEdit, QPlainTextEdit)):
        return widget.textChanged
    return None


class DraftKeeper(QObject):
    """Keeps one draft in step with the client form: written while the form has unsaved
    changes, discarded once it has none (saved, reverted, or left with 'Discard changes')."""

    def __init__(self, form, store, worker):
        super().__init__(form)
        self.form, self.store, self.worker = form, store, worker
        self.kept_key: str | None = None    # the draft this window wrote and has not discarded
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self.keep)
        for field in form.fields.fields.values():
            signal = _changed_signal(field.widget)
            if signal is not None:
                signal.connect(self._changed)
        form.saved.connect(self._saved)

    def _changed(self, *_args) -> None:
        self.timer.start()   # restarts on every change: one write per pause

    def keep(self) -> None:
        if getattr(self.form, "_saving", False):
            self.timer.start()   # a save is on its way: look again once it has landed
            return
        key = form_key(self.form)
        if self.form.is_dirty():
            if self.kept_key not in (None, key):
                self._discard(self.kept_key)
            self.kept_key = key
            self.worker.submit(self.store.drafts.save, key, self.form.values(), on_error=_log_failure("save"))
        elif self.kept_key is not None:
            self._discard(self.kept_key)

    def adopt(self, key: str) -> None:
        """A restored draft is this window's now: saving or reverting the form discards it."""
        self.kept_key = key

    def _saved(self, _changes) -> None:
        self.timer.stop()
        if self.kept_key is not None:
            self._discard(self.kept_key)

    def _discard(self, key: str) -> None:
        self.kept_key = None
        self.worker.submit(self.store.drafts.discard, key, on_error=_log_failure("discard"))


def fill_form(form, values: dict) -> None:
    """Put a draft's values back as they were typed (dates as DD/MM/YYYY text), unsaved."""
    for key, field in form.fields.fields.items():
        if key not in values:
            continue
        value = values[key]
        if isinstance(field.widget, QLineEdit):
            field.widget.setText("" if value is None else str(value))
        else:
            field.set(value)


def describe(draft) -> str:
    values = draft.values
    name = " ".join(str(values.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    if draft.form_key == NEW_CLIENT:
        what = f"a new client ({name})" if name else "a new client"
    else:
        what = f"the details of {name}" if name else "a client's details"
    when = f"{show_date(draft.saved_at)} at {draft.saved_at[11:16]}" if len(draft.saved_at) >= 16 else draft.saved_at
    return f"You were typing in {what} when the app closed on {when}. The typing was kept."


class DraftOffer(QFrame):
    """A bar across the top of the main window offering back each kept draft in turn."""

    def __init__(self, window, keeper: DraftKeeper):
        super().__init__()
        self.window, self.keeper = window, keeper
        self.pending: list = []
        self.setObjectName("draftOffer")
        self.setAccessibleName("Typing kept from last time")
        self.setStyleSheet("QFrame#draftOffer { background: #e8f0fe; border: 1px solid #3d5a99; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.PlainText)
        self.message.setAccessibleName("Typing kept from last time")
        row.addWidget(self.message, 1)
        self.restore_button = button("Restore", "Restore the kept typing",
                                     tip="Open the form with what was typed, to check and save")
        self.discard_button = button("Discard", "Discard the kept typing", tip="Throw the kept typing away")
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        self.hide()

    @property
    def current(self):
        return self.pending[0] if self.pending else None

    def offer(self, drafts) -> None:
        self.pending = [d for d in drafts if d.form_key.startswith("client:")]
        self._show_next()

    def _show_next(self) -> None:
        if not self.pending:
            self.hide()
            return
        self.message.setText(describe(self.pending[0]))
        self.message.setAccessibleDescription(self.message.text())
        self.show()

    def restore(self) -> None:
        draft = self.pending.pop(0) if self.pending else None
        if draft is not None:
            self._open(draft)
        self._show_next()

    def discard(self) -> None:
        draft = self.pending.pop(0) if self.pending else None
        if draft is not None:
            self.window.worker.submit(self.window.store.drafts.discard, draft.form_key,
                                      on_error=_log_failure("discard"))
        self._show_next()

    def _open(self, draft) -> None:
        page = self.window.clients
        record = page.record
        self.window.go_to(page)
        if draft.form_key == NEW_CLIENT:
            page.new_client()
            if page.stack.currentWidget() is record and record.client is None:
                fill_form(record.form, draft.values)
                self.keeper.adopt(draft.form_key)
            return
        client_id = int(draft.form_key.split(":", 1)[1])

        def loaded(got) -> None:   # once: the record arrives from the worker
            record.loaded.disconnect(loaded)
            if got is not None and got.client.id == client_id:
                fill_form(record.form, draft.values)
                self.keeper.adopt(draft.form_key)
        record.loaded.connect(loaded)
        page.open_client(client_id)


def keep_drafts(window) -> DraftOffer:
    """Autosave the client form's typing and offer back what the signed-in person left last time."""
    window.draft_keeper = DraftKeeper(window.clients.record.form, window.store, window.worker)
    offer = DraftOffer(window, window.draft_keeper)
    layout = window.centralWidget().layout()
    layout.insertWidget(layout.count() - 1, offer)   # under the demo banner, above the screens
    window.worker.submit(window.store.drafts.mine, on_done=offer.offer, on_error=_log_failure("read"))
    return offer
