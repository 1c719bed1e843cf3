"""One referral: its details, contact attempts (with the three-tries protocol) and actions."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from db.public import THREE_TRIES, UNSUCCESSFUL, codes
from db.records import Referral

from ..models import RowTableModel
from ..models.columns import CONTACT_ATTEMPTS, show_date, tries_reached
from ..widgets.common import button, heading, table_view
from .dialogs import AllocateDialog, CloseReferralDialog, ContactAttemptDialog


def attempt_rows(referral: Referral) -> list[tuple[int, object, int, int]]:
    """(number, attempt, unsuccessful attempts up to and including this one, the tries the service's
    setting asks for before the could-not-reach letter)."""
    rows, unsuccessful = [], 0
    for n, a in enumerate(referral.contact_attempts, 1):
        if a.outcome in UNSUCCESSFUL:
            unsuccessful += 1
        rows.append((n, a, unsuccessful, referral.tries_needed))
    return rows


def _attempt_note(row) -> str | None:
    n, attempt, unsuccessful, needed = row
    if attempt.outcome in UNSUCCESSFUL and unsuccessful >= needed:
        return f"Unsuccessful attempt {unsuccessful}: {tries_reached(needed).lower()}"
    return None


class ReferralPanel(QWidget):
    changed = Signal(object)   # Changes

    def __init__(self, store, worker, parent=None, trainers_source=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.referral: Referral | None = None
        self.dialog = None   # the form open over this panel, if any
        self.trainers_source = trainers_source   # callable(callback) giving the trainers list
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The details scroll, the action buttons stay in view: on a short screen (150% scaling on
        # 1366x768 leaves 512 px) wrapped lines get the height they need instead of overlapping.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setAccessibleName("Referral details")
        self.scroll.setMinimumHeight(self.fontMetrics().lineSpacing() * 2 + 8)   # the title and a line at least
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll.setWidget(self.body)
        outer.addWidget(self.scroll, 1)
        self.title = heading("", 2)
        layout.addWidget(self.title)
        details = QFormLayout()
        details.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.info: dict[str, QLabel] = {}
        for key, text in (("status", "Status"), ("source", "Source and referrer"), ("reasons", "Reasons"),
                          ("trainer", "Trainer"), ("dates", "Dates")):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setAccessibleName(text)
            self.info[key] = value
            details.addRow(QLabel(text + ":"), value)
        layout.addLayout(details)

        self.three_tries = QLabel()
        self.three_tries.setObjectName("threeTries")
        self.three_tries.setWordWrap(True)
        self.three_tries.setFrameShape(QFrame.StyledPanel)
        self.three_tries.setStyleSheet("QLabel#threeTries { background: #ffecb3; color: #3d2c00; padding: 6px; "
                                       "border: 1px solid #b37400; font-weight: bold; }")
        self.three_tries.setAccessibleName("Three tries protocol")
        self.three_tries.hide()
        layout.addWidget(self.three_tries)

        self.attempts_heading = QLabel("Contact attempts")
        layout.addWidget(self.attempts_heading)
        self.attempts = RowTableModel(CONTACT_ATTEMPTS, self, highlight=_attempt_note)
        self.attempts_view = table_view("Contact attempts", self.attempts, sortable=False)
        self.attempts_heading.setBuddy(self.attempts_view)
        layout.addWidget(self.attempts_view)
        layout.addStretch(1)

        actions = QHBoxLayout()
        self.attempt_button = button("Log contact &attempt\u2026", "Log contact attempt",
                                     tip="Record a phone call, text, letter, email or visit (Ctrl+L)")
        self.allocate_button = button("Allocate to &trainer\u2026", "Allocate to trainer")
        self.close_button = button("Cl&ose referral\u2026", "Close referral")
        for b in (self.attempt_button, self.allocate_button, self.close_button):
            actions.addWidget(b)
        actions.addStretch(1)
        outer.addLayout(actions)
        self.actions = actions   # screens add their own buttons here
        self.attempt_button.clicked.connect(self.log_attempt)
        self.allocate_button.clicked.connect(self.allocate)
        self.close_button.clicked.connect(self.close_referral)
        self.show_referral(None)

    def sizeHint(self):
        # Asks for all the details with three attempts in view; a splitter gives this first.
        hint = super().sizeHint()
        hint.setHeight(self.body.minimumSizeHint().height() + self.actions.sizeHint().height()
                       + self.layout().spacing())
        return hint

    def show_referral(self, referral: Referral | None) -> None:
        self.referral = referral
        if referral is None:
            self.title.setText("No referral chosen")
            for label in self.info.values():
                label.clear()
            self.attempts.set_rows([])
            self._fit_attempts(0)
            self.three_tries.hide()
            for b in (self.attempt_button, self.allocate_button, self.close_button):
                b.setEnabled(False)
            return
        r = referral
        self.title.setText(f"Referral {r.referral_ref}")
        self.title.setAccessibleName(self.title.text())
        priority = codes.label("priority", r.priority)
        self.info["status"].setText(f"{codes.label('referral_status', r.status)} \u00b7 {priority} priority")
        referrer = ", ".join(x for x in (r.referrer_name, r.referrer_organisation) if x)
        self.info["source"].setText(codes.label("source", r.source) + (f" \u2014 {referrer}" if referrer else ""))
        self.info["reasons"].setText(", ".join(codes.label("area", a) for a in r.reasons) or "None recorded")
        self.info["trainer"].setText(r.allocated_name or "Not allocated")
        dates = [f"received {show_date(r.received_date)}"]
        if r.first_contact_date:
            dates.append(f"first contact {show_date(r.first_contact_date)}")
        if r.first_attended_date:
            dates.append(f"first session {show_date(r.first_attended_date)}")
        if r.closed_date:
            dates.append(f"closed {show_date(r.closed_date)} ({codes.label('closure_reason', r.closure_reason)})")
        self.info["dates"].setText(", ".join(dates).capitalize())
        rows = attempt_rows(r)
        self.attempts.set_rows(rows)
        self.attempts_view.resizeColumnsToContents()
        self._fit_attempts(len(rows))
        self.attempts_heading.setText(f"Contact attem&pts ({len(rows)})")
        if r.three_tries_reached:
            self.three_tries.setText(
                f"\u26a0 {tries_reached(r.tries_needed)}: {r.unsuccessful_attempts} unsuccessful contact attempts and no contact yet. "
                "Send the could-not-reach letter, or close the referral as 'Unable to contact'.")
            self.three_tries.show()
        else:
            self.three_tries.hide()
        is_open = not r.closed_date
        may_allocate = self.store.may("allocate")
        self.attempt_button.setEnabled(is_open)
        self.allocate_button.setEnabled(is_open and may_allocate)
        self.close_button.setEnabled(is_open)

    def _fit_attempts(self, count: int) -> None:
        """The attempts table as tall as its rows (three at least, for the three-tries protocol; eight at
        most, then it scrolls): the details around it then scroll as one page, never overlapping."""
        view = self.attempts_view
        rows = min(max(count, THREE_TRIES), 8)
        scroll_bar = view.horizontalScrollBar().sizeHint().height()
        view.setFixedHeight(rows * view.verticalHeader().defaultSectionSize() + scroll_bar
                            + view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth())

    # --- actions: each opens its form; on save the referral is read again ----------------------------

    def log_attempt(self) -> None:
        if self.referral and not self.referral.closed_date:
            self._run(ContactAttemptDialog(self.store, self.worker, self.referral, self))

    def allocate(self) -> None:
        if not (self.referral and self.store.may("allocate") and not self.referral.closed_date):
            return
        referral = self.referral

        def ask(got) -> None:
            trainers, client = got
            dialog = AllocateDialog(self.store, self.worker, referral, trainers, self, client.display_name)
            dialog.log_attempt_first.connect(lambda: QTimer.singleShot(0, self.log_attempt))
            self._run(dialog)
        self.worker.submit(lambda: (self.store.service.trainers(), self.store.clients.get(referral.client_id)),
                           on_done=ask)

    def close_referral(self) -> None:
        if self.referral and not self.referral.closed_date:
            self._run(CloseReferralDialog(self.store, self.worker, self.referral, self))

    def _run(self, dialog) -> None:
        # open(), not exec(): the window stays responsive and tests can reach the form.
        self.dialog = dialog

        def finished(result: int) -> None:
            if result and dialog.changes is not None:
                self.reload()
                self.changed.emit(dialog.changes)
            self.dialog = None
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def reload(self) -> None:
        if self.referral is None:
            return
        self.worker.submit(self.store.referrals.get, self.referral.id, key=f"referral-panel-{id(self)}",
                           on_done=self.show_referral)
