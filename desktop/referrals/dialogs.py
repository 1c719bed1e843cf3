"""Referral forms: a new referral, a contact attempt, allocation, closing."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from db import codes
from db import referrals as referral_rules
from db.errors import FieldError, ValidationError
from db.validation import check_closure, check_not_future, parse_date

from ..models.columns import show_date
from ..widgets.fields import CodeCombo, DateField, line_edit
from ..widgets.form_dialog import FormDialog

_GROUP_TITLES = {"LIFESTYLE": "Lifestyle", "WIDER": "Wider determinants"}


class ReasonsList(QListWidget):
    """Reasons as a checkable list (Space ticks), lifestyle and wider determinants alike."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Reasons for referral")
        self.setAccessibleDescription("Tick every area the client wants help with; Space ticks the current one")
        for group in codes.group_order("area_kind"):
            head = QListWidgetItem(_GROUP_TITLES.get(group, group))
            head.setFlags(Qt.ItemIsEnabled)
            font = QFont(head.font())
            font.setBold(True)
            head.setFont(font)
            self.addItem(head)
            for code in codes.group_members("area_kind", group):
                item = QListWidgetItem(codes.label("area", code))
                item.setData(Qt.UserRole, code)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable | Qt.ItemIsSelectable)
                item.setCheckState(Qt.Unchecked)
                self.addItem(item)
        self.itemActivated.connect(self._toggle)
        # Every area in view at once (16 short rows): no scrolling to find "Money and debt".
        self.setMinimumHeight(self.sizeHintForRow(1) * self.count() + 2 * self.frameWidth() + 4)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

    def _toggle(self, item: QListWidgetItem) -> None:
        if item.flags() & Qt.ItemIsUserCheckable:
            item.setCheckState(Qt.Unchecked if item.checkState() == Qt.Checked else Qt.Checked)

    def codes(self) -> list[str]:
        return [self.item(i).data(Qt.UserRole) for i in range(self.count())
                if self.item(i).data(Qt.UserRole) and self.item(i).checkState() == Qt.Checked]

    def set_codes(self, chosen) -> None:
        chosen = set(chosen or ())
        for i in range(self.count()):
            item = self.item(i)
            if item.data(Qt.UserRole):
                item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in chosen else Qt.Unchecked)

    def check(self, code: str) -> None:
        self.set_codes({*self.codes(), code})


class NewReferralDialog(FormDialog):
    title = "New referral"
    save_text = "&Save referral"

    def __init__(self, store, worker, client, parent=None):
        self.client = client
        super().__init__(store, worker, parent,
                         intro=f"A new referral (episode of support) for {client.display_name} ({client.client_ref}).")
        self.load(None)

    def build(self, form) -> None:
        f = self.fields
        self.received = f.add(form, "received_date", "Date &received", DateField("Date received")).widget
        self.source = f.add(form, "source", "&Source", CodeCombo("source", "Referral source", blank="Choose\u2026")).widget
        self.referrer = f.add(form, "referrer_name", "Referrer &name", line_edit("Referrer name", 100)).widget
        self.organisation = f.add(form, "referrer_organisation", "Referrer &organisation",
                                  line_edit("Referrer organisation", 120)).widget
        self.reasons = ReasonsList()
        f.add(form, "reasons", "Rea&sons", self.reasons, get=self.reasons.codes, set=self.reasons.set_codes)
        self.priority = f.add(form, "priority", "&Priority", CodeCombo("priority", "Priority", blank=None)).widget

    def load(self, record) -> None:
        super().load(record)
        self.received.set_today()
        self.priority.set_code("routine")

    def validate(self) -> list[FieldError]:
        try:
            referral_rules.validate(self.fields.values(), self.client.date_of_birth)
        except ValidationError as exc:
            return exc.errors
        return []

    def call(self):
        return self.store.add_referral, (self.client.id, self.fields.values()), {}


class ContactAttemptDialog(FormDialog):
    title = "Log a contact attempt"
    save_text = "&Log attempt"

    def __init__(self, store, worker, referral, parent=None):
        self.referral = referral
        done = referral_rules.unsuccessful_attempts(referral)
        intro = f"Referral {referral.referral_ref}: {done} unsuccessful attempt{'s' if done != 1 else ''} so far."
        if done >= referral_rules.THREE_TRIES:
            intro += " Three tries reached: send the could-not-reach letter or close as unable to contact."
        super().__init__(store, worker, parent, intro=intro)
        self.load(None)

    def build(self, form) -> None:
        f = self.fields
        self.day = f.add(form, "attempt_date", "&Date", DateField("Attempt date")).widget
        self.method = f.add(form, "method", "&Method", CodeCombo("contact_method", "Method", blank=None)).widget
        self.outcome = f.add(form, "outcome", "&Outcome", CodeCombo("contact_outcome", "Outcome", blank="Choose\u2026")).widget
        self.note = f.add(form, "note", "&Note", line_edit("Note", 1000)).widget

    def load(self, record) -> None:
        super().load(record)
        self.day.set_today()

    def validate(self) -> list[FieldError]:
        errors = []
        try:
            day = parse_date(self.day.text(), "attempt_date", required=True)
            check_not_future(day, "attempt_date")
        except ValidationError as exc:
            errors += exc.errors
        if not self.outcome.code():
            errors.append(FieldError("outcome", "Outcome: choose what happened."))
        return errors

    def call(self):
        v = self.fields.values()
        return self.store.add_contact_attempt, (self.referral.id, v["attempt_date"], v["method"], v["outcome"],
                                                v["note"] or None), {}


class AllocateDialog(FormDialog):
    title = "Allocate to a trainer"
    save_text = "&Allocate"

    def __init__(self, store, worker, referral, trainers, parent=None):
        self.referral, self.trainers = referral, trainers
        super().__init__(store, worker, parent,
                         intro=f"Referral {referral.referral_ref}: choose the health trainer or champion who will support the client.")
        self.load(referral)

    def build(self, form) -> None:
        role = {"TRAINER": "health trainer", "CHAMPION": "health champion"}
        items = [(s.id, f"{s.full_name} ({role.get(s.role, s.role.lower())})") for s in self.trainers]
        self.trainer = self.fields.add(form, "allocated_staff_id", "&Trainer",
                                       CodeCombo("", "Trainer", blank="Not allocated", items=items)).widget

    def load(self, record) -> None:
        self.fields.load({"allocated_staff_id": record.allocated_staff_id if record else None})

    def call(self):
        return (self.store.allocate, (self.referral.id, self.trainer.code()),
                {"expected_version": self.referral.row_version})


class CloseReferralDialog(FormDialog):
    title = "Close referral"
    save_text = "&Close referral"

    def __init__(self, store, worker, referral, parent=None):
        self.referral = referral
        super().__init__(store, worker, parent,
                         intro=f"Close referral {referral.referral_ref} (received {show_date(referral.received_date)}). "
                               "Closed referrals leave the waiting list; their record is kept.")
        self.load(referral)

    def build(self, form) -> None:
        f = self.fields
        self.day = f.add(form, "closed_date", "Closed &date", DateField("Closed date")).widget
        self.reason = f.add(form, "closure_reason", "&Reason",
                            CodeCombo("closure_reason", "Closure reason", blank="Choose\u2026")).widget

    def load(self, record) -> None:
        super().load(record)
        self.day.set_today()
        unsuccessful = referral_rules.unsuccessful_attempts(record) if record else 0
        if record and unsuccessful >= referral_rules.THREE_TRIES and record.first_contact_date is None:
            self.reason.set_code("UNABLE")   # the three-tries protocol's usual ending

    def validate(self) -> list[FieldError]:
        try:
            check_closure(self.referral.received_date, self.day.text() or None, self.reason.code())
            if not self.day.text().strip():
                return [FieldError("closed_date", "Closed date is required: enter it as DD/MM/YYYY.")]
        except ValidationError as exc:
            return exc.errors
        return []

    def call(self):
        return (self.store.close_referral, (self.referral.id, self.day.text(), self.reason.code()),
                {"expected_version": self.referral.row_version})

