"""Diary dialogs: book (one-to-one, group, a block of weekly sessions), record a session (keyboard only,
with the next booking), a group's attendance on one screen, move and cancel with a reason.

A clash found by the store is shown next to the field with a button that fills in the next free
slot it offers; a date in the past is booked only after ticking "Book it in the past"."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QPlainTextEdit, QSpinBox, QTableWidget, QTableWidgetItem, QTimeEdit,
                               QWidget)

from db.errors import Clash, ConflictError, FieldError, NeedsConfirmation, ValidationError
from db.public import codes

from ..models.columns import show_date
from ..widgets.common import button, show_error
from ..widgets.date_field import DateField, typed_date
from ..widgets.fields import CodeCombo, ErrorLabel, check_box, guard_wheel, line_edit
from ..widgets.form_dialog import FormDialog
from .common import REMOTE_MODES, client_label, long_day, session_label, where

RECORD_OUTCOMES = ("5", "3", "2", "4", "6", "7")       # the usual first; Up/Down or the first letter choose


def time_edit(accessible_name: str) -> QTimeEdit:
    edit = QTimeEdit()
    edit.setDisplayFormat("HH:mm")
    edit.setAccessibleName(accessible_name)
    edit.setAccessibleDescription("Time as hours and minutes, 24-hour clock; Up and Down change it")
    guard_wheel(edit)
    return edit


def time_text(edit: QTimeEdit) -> str:
    return edit.time().toString("HH:mm")


def set_time(edit: QTimeEdit, text: str | None) -> None:
    edit.setTime(QTime.fromString(text or "10:00", "HH:mm"))


def minutes_box(accessible_name: str = "Length in minutes") -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 600)          # 0 and over 480 reach the store, which names the field
    box.setSingleStep(15)
    box.setSuffix(" minutes")
    box.setAccessibleName(accessible_name)
    guard_wheel(box)
    return box


class WhereCombo(QComboBox):
    """Where the session is held: a venue of the service, or telephone, video or a home visit."""

    def __init__(self, venues, accessible_name: str = "Where"):
        super().__init__()
        self.setAccessibleName(accessible_name)
        guard_wheel(self)
        self.addItem("Choose\u2026", None)
        for v in venues:
            self.addItem(v.name, ("F2F", v.id))
        for mode, text in REMOTE_MODES:
            self.addItem(text, (mode, None))

    def value(self) -> tuple[str | None, int | None]:
        return self.currentData() or (None, None)

    def set_value(self, mode: str | None, venue_id: int | None) -> None:
        for i in range(self.count()):
            data = self.itemData(i)
            if data and ((venue_id is not None and data[1] == venue_id) or (venue_id is None and data[0] == mode)):
                self.setCurrentIndex(i)
                return
        self.setCurrentIndex(0)


class _ClashHandling:
    """Shows a clash beside its field with a button filling in the offered slot; a past date asks first."""

    def _build_offer_row(self, form) -> None:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.offer_button = button("&Use the next free slot", "Use the next free slot")
        self.offer_button.hide()
        self.offer_button.clicked.connect(self.use_offer)
        self.past_box = check_box("Book it in the &past (entered after it happened)",
                                  "Book it in the past")
        self.past_box.hide()
        line.addWidget(self.offer_button)
        line.addWidget(self.past_box)
        line.addStretch(1)
        form.addRow(row)
        self.offer: tuple[str, str] | None = None

    def use_offer(self) -> None:
        if self.offer is None:
            return
        day, start = self.offer
        self.date_field.set_iso(day)
        set_time(self.start_field, start)
        self.offer_button.hide()
        self.fields.clear_errors()
        self.save_button.setFocus()

    def _handle(self, exc: BaseException) -> bool:
        if isinstance(exc, Clash):
            self.offer = exc.suggestion
            if exc.suggestion:
                day, start = exc.suggestion
                self.offer_button.setText(f"&Use the next free slot: {long_day(day)} at {start}")
                self.offer_button.setAccessibleName(f"Use the next free slot: {long_day(day)} at {start}")
                self.offer_button.show()
            self._show(exc.errors)
            (self.offer_button if exc.suggestion else self.start_field).setFocus()
            return True
        if isinstance(exc, NeedsConfirmation):
            self._show(exc.errors)
            self.past_box.show()
            self.past_box.setFocus()
            return True
        return False

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if self._handle(exc):
            return
        if isinstance(exc, ConflictError):
            show_error(self, exc, "Someone else changed this session")
            self.reject()
            return
        FormDialog._failed(self, exc)


class BookingDialog(_ClashHandling, FormDialog):
    title = "Book a session"
    save_text = "&Book"

    def __init__(self, store, worker, parent=None, *, staff_id: int | None = None, referral_id: int | None = None,
                 day: date | None = None, start: str | None = None, group: bool = False, today: date | None = None):
        self.today = today or date.today()
        self.own_only = not store.may("diary_any")
        self.staff_id = store.actor.staff_id if self.own_only or staff_id is None else staff_id
        self.venues = store.service.venues()
        self.trainers = store.service.trainers() if not self.own_only else []
        self.chosen_referral = referral_id
        super().__init__(store, worker, parent, intro="Book one session, a group, or a block of weekly sessions. "
                                                      "Clashes are checked before saving.")
        self.load(None)
        self.date_field.set_iso((day or self.today).isoformat())
        set_time(self.start_field, start or "10:00")
        self.group_box.setChecked(group)
        self._group_changed()

    def build(self, form) -> None:
        f = self.fields
        self.trainer = QComboBox()
        self.trainer.setAccessibleName("Trainer")
        guard_wheel(self.trainer)
        if self.own_only:
            actor = self.store.actor
            self.trainer.addItem(actor.full_name or actor.username, actor.staff_id)
            self.trainer.setEnabled(False)
        else:
            for s in self.trainers:
                self.trainer.addItem(s.full_name, s.id)
            self.trainer.setCurrentIndex(max(0, self.trainer.findData(self.staff_id)))
        f.add(form, "staff_id", "&Trainer", self.trainer, get=self.trainer.currentData, set=lambda v: None)
        self.group_box = check_box("&Group session (several clients at one venue)", "Group session")
        form.addRow(self.group_box)
        self.client = QComboBox()
        self.client.setAccessibleName("Client")
        guard_wheel(self.client)
        f.add(form, "referral_id", "Cli&ent", self.client, get=self.client.currentData, set=lambda v: None)
        self.members = QListWidget()
        self.members.setAccessibleName("Clients in the group")
        self.members.setAccessibleDescription("Tick each client in the group; Space ticks the current one")
        self.members_row = f.add(form, "clients", "Clie&nts", self.members, get=self._member_ids, set=lambda v: None)
        self.group_title = f.add(form, "group_title", "Group na&me",
                                 line_edit("Group name", 120, "e.g. Walking group")).widget
        self.date_field = f.add(form, "session_date", "&Date", DateField("Session date")).widget
        self.start_field = f.add(form, "start_time", "&Start", time_edit("Start time"),
                                 get=lambda: time_text(self.start_field), set=lambda v: None).widget
        self.length = f.add(form, "duration_minutes", "&Length", minutes_box(),
                            get=lambda: self.length.value(), set=lambda v: self.length.setValue(int(v or 60))).widget
        self.where_field = WhereCombo(self.venues)
        where_row = f.add(form, "venue_id", "&Where", self.where_field, get=lambda: self.where_field.value()[1],
                          set=lambda v: None)
        f.register("mode", self.where_field, where_row.error, get=lambda: self.where_field.value()[0],
                   set=lambda v: None)
        self.type_field = f.add(form, "type", "T&ype", CodeCombo("session_type", "Session type",
                                                                  blank="Automatic (first session, then support)")).widget
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 26)
        self.weeks.setAccessibleName("Weekly sessions")
        self.weeks.setAccessibleDescription("How many sessions, one a week at the same time, to book in one step")
        guard_wheel(self.weeks)
        f.add(form, "weeks", "Wee&kly sessions", self.weeks, get=self.weeks.value, set=lambda v: None)
        self._build_offer_row(form)
        self.trainer.currentIndexChanged.connect(self._fill_clients)
        self.group_box.checkStateChanged.connect(lambda _s: self._group_changed())
        self._fill_clients()

    def load(self, record) -> None:
        self.length.setValue(60)
        self.weeks.setValue(1)

    def _fill_clients(self) -> None:
        staff_id = self.trainer.currentData()
        items = self.store.diary.caseload(staff_id, today=self.today) if staff_id is not None else []
        self.client.clear()
        self.members.clear()
        self.client.addItem("Choose\u2026", None)
        for c in items:
            text = f"{c.client_name} ({c.client_ref}, {c.referral_ref})"
            self.client.addItem(text, c.referral_id)
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, c.referral_id)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable | Qt.ItemIsSelectable)
            item.setCheckState(Qt.Unchecked)
            self.members.addItem(item)
        if self.chosen_referral is not None:
            self.client.setCurrentIndex(max(0, self.client.findData(self.chosen_referral)))

    def _member_ids(self) -> list[int]:
        return [self.members.item(i).data(Qt.UserRole) for i in range(self.members.count())
                if self.members.item(i).checkState() == Qt.Checked]

    def check_member(self, referral_id: int) -> None:
        for i in range(self.members.count()):
            if self.members.item(i).data(Qt.UserRole) == referral_id:
                self.members.item(i).setCheckState(Qt.Checked)

    def _group_changed(self) -> None:
        group = self.group_box.isChecked()
        form = self.form
        for key, shown in (("referral_id", not group), ("clients", group), ("group_title", group)):
            form.setRowVisible(self.fields.fields[key].widget.parentWidget(), shown)
        self.weeks.setEnabled(True)

    def validate(self) -> list[FieldError]:
        if self.group_box.isChecked():
            if len(self._member_ids()) < 2:
                return [FieldError("clients", "Clients: tick at least two clients for a group session.")]
        elif self.client.currentData() is None:
            return [FieldError("referral_id", "Client: choose whom the session is with.")]
        return []

    def values(self) -> dict:
        mode, venue_id = self.where_field.value()
        if self.group_box.isChecked() and mode == "F2F":
            mode = "GROUP"
        return {"session_date": self.date_field.text(), "start_time": time_text(self.start_field),
                "duration_minutes": self.length.value(), "mode": mode, "venue_id": venue_id,
                "type": self.type_field.code(), "staff_id": self.trainer.currentData()}

    def call(self):
        confirm = self.past_box.isChecked()
        if self.group_box.isChecked():
            return self.store.diary.book_group, (self._member_ids(), self.values()), {
                "title": self.group_title.text(), "weeks": self.weeks.value(), "confirm_past": confirm,
                "today": self.today}
        return self.store.diary.book, (self.client.currentData(), self.values()), {
            "weeks": self.weeks.value(), "confirm_past": confirm, "today": self.today}


class GoalsList(QListWidget):
    def __init__(self, goals):
        super().__init__()
        self.setAccessibleName("Goals worked on")
        self.setAccessibleDescription("Tick the goals worked on in this session; Space ticks the current one")
        for g in goals:
            item = QListWidgetItem(f"{codes.label('area', g.area)}: {g.goal_text}")
            item.setData(Qt.UserRole, g.id)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable | Qt.ItemIsSelectable)
            item.setCheckState(Qt.Unchecked)
            self.addItem(item)
        self.setMaximumHeight(self.sizeHintForRow(0) * min(max(self.count(), 1), 4) + 2 * self.frameWidth() + 4)

    def ids(self) -> list[int]:
        return [self.item(i).data(Qt.UserRole) for i in range(self.count())
                if self.item(i).checkState() == Qt.Checked]


class RecordDialog(_ClashHandling, FormDialog):
    """Record a session in under a minute, keyboard only: outcome (Up/Down), Tab, notes, Tab, Space on the
    goals worked on, the next booking ticked and filled in, Ctrl+Enter (or Enter outside the notes)."""
    title = "Record a session"
    save_text = "&Save"

    def __init__(self, store, worker, entry, parent=None, *, today: date | None = None):
        self.entry = entry
        self.today = today or date.today()
        self.goals = store.diary.goals(entry.referral_id)
        self.booked_ahead = [s for s in store.diary.next_booked(entry.client_id, today=self.today)
                             if s.referral_id == entry.referral_id and s.id != entry.session_id]
        self.outcome_code: str | None = None
        self.recorded = None
        super().__init__(store, worker, parent, intro=session_label(entry))
        self.load(entry)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.save)
        self.outcome.setFocus()

    def build(self, form) -> None:
        f = self.fields
        items = [(c, codes.label("attendance", c)) for c in RECORD_OUTCOMES]
        self.outcome = f.add(form, "attendance", "&Outcome", CodeCombo("attendance", "Outcome", blank=None,
                                                                        items=items)).widget
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("What was talked about, what the client will do next")
        self.notes.setMaximumHeight(self.notes.fontMetrics().lineSpacing() * 5)
        f.add(form, "notes", "&Notes", self.notes)
        if self.goals:
            self.goal_list = GoalsList(self.goals)
            f.add(form, "goals", "&Goals worked on", self.goal_list, get=self.goal_list.ids, set=lambda v: None)
        else:
            self.goal_list = None
            note = QLabel("No plan agreed yet: goals are listed here once a plan is agreed.")
            note.setWordWrap(True)
            note.setAccessibleName("Goals worked on: no plan agreed yet")
            form.addRow("Goals", note)
        self.book_next = check_box("Book the ne&xt session", "Book the next session")
        form.addRow(self.book_next)
        self.date_field = f.add(form, "session_date", "Next &date", DateField("Next session date")).widget
        self.start_field = f.add(form, "start_time", "Next s&tart", time_edit("Next session start"),
                                 get=lambda: time_text(self.start_field), set=lambda v: None).widget
        f.register("duration_minutes", self.start_field, self.fields.fields["start_time"].error,
                   get=lambda: None, set=lambda v: None)
        self._build_offer_row(form)
        self.book_next.checkStateChanged.connect(lambda _s: self._book_next_changed())

    def load(self, entry) -> None:
        if entry is None:
            return
        self.outcome.set_code("5")
        self.notes.setPlainText(entry.notes or "")
        base = max(date.fromisoformat(entry.session_date), self.today)
        self.date_field.set_iso((base + timedelta(days=7)).isoformat())
        set_time(self.start_field, entry.start_time)
        ahead = self.booked_ahead
        self.book_next.setChecked(not ahead)
        if ahead:
            self.book_next.setText(f"Book the ne&xt session (already booked: {show_date(ahead[0].session_date)} "
                                   f"{ahead[0].start_time or ''})")
        self._book_next_changed()

    def _book_next_changed(self) -> None:
        on = self.book_next.isChecked()
        self.date_field.setEnabled(on)
        self.start_field.setEnabled(on)

    def call(self):
        self.outcome_code = self.outcome.code()
        next_booking = None
        if self.book_next.isChecked():
            next_booking = {"session_date": self.date_field.text(), "start_time": time_text(self.start_field)}
        goals = self.goal_list.ids() if self.goal_list is not None else []
        return self.store.diary.record, (self.entry.session_id, self.outcome_code), {
            "expected_version": self.entry.row_version, "notes": self.notes.toPlainText(), "goal_ids": goals,
            "next_booking": next_booking, "confirm_past": self.past_box.isChecked(), "today": self.today}

    def _done(self, recorded) -> None:
        self.recorded = recorded
        super()._done(recorded)


class GroupDialog(FormDialog):
    """A group session's attendance on one screen: one outcome per member, counted per client."""
    title = "Group attendance"
    save_text = "&Save attendance"

    def __init__(self, store, worker, members, parent=None, *, today: date | None = None):
        self.members = list(members)
        self.today = today or date.today()
        first = self.members[0]
        intro = (f"{first.group_title}: {long_day(first.session_date)} {first.start_time or ''}, {where(first)}. "
                 f"{len(self.members)} clients: choose each one's outcome (Up/Down in a row's outcome).")
        self.recorded = None
        super().__init__(store, worker, parent, intro=intro)
        self.load(None)

    def build(self, form) -> None:
        self.table = QTableWidget(len(self.members), 2)
        self.table.setAccessibleName("Group members and their outcomes")
        self.table.setHorizontalHeaderLabels(["Client", "Outcome"])
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.outcomes: list[CodeCombo] = []
        items = [(c, codes.label("attendance", c)) for c in RECORD_OUTCOMES]
        for row, m in enumerate(self.members):
            cell = QTableWidgetItem(client_label(m))
            self.table.setItem(row, 0, cell)
            combo = CodeCombo("attendance", f"Outcome for {m.client_name}", blank="Not recorded yet", items=items)
            combo.set_code(m.attendance if m.attendance != "0" else None)
            self.table.setCellWidget(row, 1, combo)
            self.outcomes.append(combo)
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * min(len(self.members) + 1, 9)
                                    + 8)
        self.all_attended = button("Mark all &attended", "Mark all attended")
        self.all_attended.clicked.connect(lambda: [c.set_code("5") for c in self.outcomes])
        form.addRow(self.all_attended)
        self.error = ErrorLabel()
        form.addRow(self.table)
        form.addRow(self.error)
        self.fields.register("attendance", self.table, self.error, get=lambda: None, set=lambda v: None)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(self.notes.fontMetrics().lineSpacing() * 4)
        self.fields.add(form, "notes", "&Notes for the group", self.notes)

    def validate(self) -> list[FieldError]:
        if not any(c.code() for c in self.outcomes):
            return [FieldError("attendance", "Outcome: choose at least one client's outcome.")]
        return []

    def call(self):
        outcomes = {m.session_id: c.code() for m, c in zip(self.members, self.outcomes) if c.code()}
        versions = {m.session_id: m.row_version for m in self.members}
        return self.store.diary.record_group, (outcomes,), {"versions": versions,
                                                             "notes": self.notes.toPlainText() or None,
                                                             "today": self.today}

    def _done(self, recorded) -> None:
        self.recorded = recorded
        super()._done(recorded)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):
            self.save_button.setEnabled(True)
            show_error(self, exc, "Someone else changed this session")
            self.reject()
            return
        super()._failed(exc)


class MoveDialog(_ClashHandling, FormDialog):
    title = "Move a session"
    save_text = "&Move"

    def __init__(self, store, worker, entry, parent=None, *, today: date | None = None):
        self.entry = entry
        self.today = today or date.today()
        self.venues = store.service.venues()
        intro = session_label(entry) + (" The whole group moves." if entry.group_id else "")
        super().__init__(store, worker, parent, intro=intro)
        self.load(entry)

    def build(self, form) -> None:
        f = self.fields
        self.date_field = f.add(form, "session_date", "New &date", DateField("New date")).widget
        self.start_field = f.add(form, "start_time", "New &start", time_edit("New start time"),
                                 get=lambda: time_text(self.start_field), set=lambda v: None).widget
        self.length = f.add(form, "duration_minutes", "&Length", minutes_box(), get=lambda: self.length.value(),
                            set=lambda v: None).widget
        self.where_field = WhereCombo(self.venues)
        row = f.add(form, "venue_id", "&Where", self.where_field, get=lambda: self.where_field.value()[1],
                    set=lambda v: None)
        f.register("mode", self.where_field, row.error, get=lambda: self.where_field.value()[0], set=lambda v: None)
        self.reason = f.add(form, "reason", "&Reason", line_edit("Reason for the move", 500,
                                                                 "e.g. Client asked for a later time")).widget
        self._build_offer_row(form)

    def load(self, entry) -> None:
        if entry is None:
            return
        self.date_field.set_iso(entry.session_date)
        set_time(self.start_field, entry.start_time)
        self.length.setValue(entry.duration_minutes or 60)
        self.where_field.set_value(entry.mode if entry.mode != "GROUP" else "F2F", entry.venue_id)

    def call(self):
        mode, venue_id = self.where_field.value()
        if self.entry.mode == "GROUP" and mode == "F2F":
            mode = "GROUP"
        values = {"session_date": self.date_field.text(), "start_time": time_text(self.start_field),
                  "duration_minutes": self.length.value(), "mode": mode, "venue_id": venue_id}
        return self.store.diary.move, (self.entry.session_id, values, self.reason.text()), {
            "expected_version": self.entry.row_version, "confirm_past": self.past_box.isChecked(),
            "today": self.today}


class CancelDialog(FormDialog):
    title = "Cancel a session"
    save_text = "Cancel the &session"

    def __init__(self, store, worker, entry, parent=None):
        self.entry = entry
        intro = session_label(entry) + (" The whole group's meeting is cancelled." if entry.group_id else "")
        super().__init__(store, worker, parent, intro=intro)
        self.cancel_button.setText("&Keep it")
        self.cancel_button.setAccessibleName("Keep it")
        self.load(None)

    def build(self, form) -> None:
        f = self.fields
        self.by = f.add(form, "attendance", "Cancelled &by", CodeCombo(
            "", "Cancelled by", blank=None, items=[("client", "The client (code 2)"),
                                                    ("service", "The service (code 4)")])).widget
        self.reason = f.add(form, "reason", "&Reason", line_edit("Reason for cancelling", 500,
                                                                 "e.g. Client unwell")).widget

    def call(self):
        return self.store.diary.cancel, (self.entry.session_id, self.by.code(), self.reason.text()), {
            "expected_version": self.entry.row_version}

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):
            self.save_button.setEnabled(True)
            show_error(self, exc, "Someone else changed this session")
            self.reject()
            return
        super()._failed(exc)


def parse_day(text: str) -> date | None:
    return typed_date(text)


__all__ = ["BookingDialog", "RecordDialog", "GroupDialog", "MoveDialog", "CancelDialog", "ValidationError"]
