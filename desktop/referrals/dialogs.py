"""Referral forms: a new referral, a contact attempt, allocation, closing."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QMessageBox, QVBoxLayout, QWidget

from db.errors import FieldError, ValidationError
from db.public import MIN_AGE, age_on, check_closure, check_not_future, codes, parse_date, validate_referral

from ..models.columns import show_date, tries_reached
from ..widgets.date_field import DateField
from ..widgets.fields import CodeCombo, ErrorLabel, check_box, line_edit
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
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # Every area in view at once where the screen has room (16 short rows: no scrolling to find
        # "Money and debt"); on a short screen (150% on 1366x768) six rows, scrolling, so the
        # messages by the other fields keep the lines they need.
        row = self.sizeHintForRow(1)
        self.full_height = row * self.count() + 2 * self.frameWidth() + 4
        self.setMinimumHeight(row * 6 + 2 * self.frameWidth() + 4)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setHeight(self.full_height)
        return hint

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
        self._build_age_row(form)
        self.received.textChanged.connect(self._show_age_row)

    def _build_age_row(self, form) -> None:
        """Under 16 on the date received: a manager may override the age limit (with a reason);
        anyone else is told, before typing the rest, that a manager must add the referral."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.age_note = QLabel()
        self.age_note.setWordWrap(True)
        self.age_note.setAccessibleName("Age limit")
        column.addWidget(self.age_note)
        self.may_override = self.store.may("override_age")
        self.age_override = check_box("Override the age limit (&manager)")
        self.age_reason = line_edit("Reason for overriding the age limit", 200, "Reason, kept with the referral")
        self.age_reason.setEnabled(False)
        self.age_override.toggled.connect(self.age_reason.setEnabled)
        column.addWidget(self.age_override)
        column.addWidget(self.age_reason)
        self.age_override.setVisible(self.may_override)
        self.age_reason.setVisible(self.may_override)
        self.age_error = ErrorLabel(box)
        column.addWidget(self.age_error)
        self.age_label = QLabel("Age limit")
        self.age_label.setBuddy(self.age_override)
        form.addRow(self.age_label, box)
        self.age_row = box
        self.fields.register("age_override", self.age_override, self.age_error)
        self.fields.register("age_reason", self.age_reason, self.age_error)

    def age_on_received(self) -> int | None:
        try:
            received = parse_date(self.received.text(), "received_date", required=True)
            return age_on(parse_date(self.client.date_of_birth, "date_of_birth", required=True), received)
        except ValidationError:
            return None

    def under_age(self) -> bool:
        age = self.age_on_received()
        return age is not None and 0 <= age < MIN_AGE

    def _show_age_row(self) -> None:
        under = self.under_age()
        self.form.setRowVisible(self.age_row, under)
        if not under:
            self.age_override.setChecked(False)
            return
        name, age = self.client.display_name, self.age_on_received()
        if self.may_override:
            self.age_note.setText(f"{name} is {age} on the date received, under {MIN_AGE}: "
                                  "tick the override and give the reason.")
        else:
            self.age_note.setText(f"{name} is {age} on the date received. Under {MIN_AGE} needs a manager's "
                                  "override: ask a manager to add this referral, or check the dates.")

    def load(self, record) -> None:
        super().load(record)
        self.received.set_today()
        self.priority.set_code("routine")
        self._show_age_row()

    def overriding(self) -> bool:
        return self.may_override and self.under_age() and self.age_override.isChecked()

    def values(self) -> dict:
        """The referral's fields; an override's reason is kept in the referral's notes (audited with it)."""
        values = {k: v for k, v in self.fields.values().items() if k not in ("age_override", "age_reason")}
        if self.overriding():
            values["notes"] = f"Age limit overridden: {self.age_reason.text().strip()}"
        return values

    def validate(self) -> list[FieldError]:
        errors = []
        try:
            validate_referral(self.values(), self.client.date_of_birth, age_override=self.overriding())
        except ValidationError as exc:
            errors += exc.errors
        if self.overriding() and not self.age_reason.text().strip():
            errors.append(FieldError("age_reason", "Give the reason for overriding the age limit."))
        return errors

    def call(self):
        return self.store.referrals.add, (self.client.id, self.values()), {"age_override": self.overriding()}

    def _show(self, errors: list[FieldError]) -> None:
        # The age rule names the date of birth, which is not on this form. Under 16, its message goes in
        # the age row, short (the note there says why); any other date-of-birth problem by the date received.
        if self.under_age():
            short = ("Not saved: tick the override and give the reason, or check the dates." if self.may_override
                     else f"Not saved: a manager must add a referral for someone under {MIN_AGE}.")
            errors = [FieldError("age_override", short) if e.field == "date_of_birth" else e for e in errors]
        super()._show([FieldError("received_date", e.message) if e.field == "date_of_birth" else e for e in errors])


class ContactAttemptDialog(FormDialog):
    title = "Log a contact attempt"
    save_text = "&Log attempt"

    def __init__(self, store, worker, referral, parent=None):
        self.referral = referral
        done = referral.unsuccessful_attempts
        intro = f"Referral {referral.referral_ref}: {done} unsuccessful attempt{'s' if done != 1 else ''} so far."
        if referral.three_tries_reached:
            intro += f" {tries_reached(referral.tries_needed)}: send the could-not-reach letter or close as unable to contact."
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
        return self.store.referrals.add_contact_attempt, (self.referral.id, v["attempt_date"], v["method"], v["outcome"],
                                                v["note"] or None), {}


class AllocateDialog(FormDialog):
    title = "Allocate to a trainer"
    save_text = "&Allocate"
    log_attempt_first = Signal()   # the user chose to log a contact attempt instead

    def __init__(self, store, worker, referral, trainers, parent=None, client_name: str = "the client"):
        self.referral, self.trainers, self.client_name = referral, trainers, client_name
        self.question: QMessageBox | None = None   # the "nobody has reached them" question, while open
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
        return (self.store.referrals.allocate, (self.referral.id, self.trainer.code()),
                {"expected_version": self.referral.row_version})

    def changes_status_unreached(self) -> bool:
        """Allocating makes the status 'Waiting for first session' (referrals.status_case: allocated,
        no session attended), even when nobody has reached the client yet."""
        r = self.referral
        return (self.trainer.code() is not None and r.allocated_staff_id is None
                and r.first_contact_date is None and r.first_attended_date is None)

    def save(self) -> bool:
        if not self.changes_status_unreached():
            return super().save()
        waiting = codes.label("referral_status", "WAITING")
        box = QMessageBox(QMessageBox.Question, "Nobody has reached the client yet",
                          f"Nobody has reached {self.client_name} yet: no contact attempt on referral "
                          f"{self.referral.referral_ref} got through.\n\nAllocating now puts the referral in "
                          f"'{waiting}', so it no longer shows as needing contact, and the trainer is expected "
                          "to make the first contact.", QMessageBox.NoButton, self)
        box.setAccessibleName("Nobody has reached the client yet")
        allocate = box.addButton("Allocate &anyway", QMessageBox.AcceptRole)
        log_first = box.addButton("&Log a contact attempt first", QMessageBox.ActionRole)
        cancel = box.addButton("Cancel", QMessageBox.RejectRole)
        box.setDefaultButton(log_first)   # the safe choice: nothing changes on Enter
        box.setEscapeButton(cancel)
        self.question = box

        def answered(_result: int) -> None:
            self.question = None
            chosen = box.clickedButton()
            box.deleteLater()
            if chosen is allocate:
                super(AllocateDialog, self).save()
            elif chosen is log_first:
                self.log_attempt_first.emit()
                self.reject()

        box.finished.connect(answered)
        box.open()
        return False


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
        if record is not None and record.three_tries_reached:
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
        return (self.store.referrals.close, (self.referral.id, self.day.text(), self.reason.code()),
                {"expected_version": self.referral.row_version})

