"""The diary: a day or a week, per trainer and per venue. Coordinators and managers see everyone's (and
the follow-up list after two missed sessions in a row); trainers and champions their own. Book, record,
move, cancel, group attendance, appointment letters, the week as a PDF and as a calendar file."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QStackedWidget, QStyle, QTableView, QVBoxLayout, QWidget)

from ..models import RowTableModel
from ..models.table import ROW_ROLE
from ..widgets.common import button, heading, show_error, table_view
from ..widgets.date_field import DateField, typed_date
from ..widgets.fields import guard_wheel
from ..widgets.nav import Nav
from .actions import SessionActions
from .common import DAY_LIST, FOLLOW_UP, attention, long_day, outcome, short_day, where

DAY, WEEK, FOLLOW = "day", "week", "follow-up"
ALL = -1


def _cell_text(e, with_trainer: bool, members: int) -> str:
    who = f"{e.group_title} ({members} clients)" if e.group_id else f"{e.client_name} ({e.client_ref})"
    first = f"{e.start_time or '--:--'} {who}"
    second = [where(e)]
    if with_trainer and e.staff_name:
        second.insert(0, e.staff_name)
    if e.attendance != "0" or e.outcome_not_recorded:
        second.append(outcome(e))
    return first + "\n" + " \u00b7 ".join(second)


class WeekModel(QAbstractTableModel):
    """A week as columns of days; each cell one session (a group's meeting once), in time order."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.days: list[str] = []
        self.cells: list[list[tuple]] = []    # per day: (entry, members)
        self.with_trainer = False

    def set_week(self, first: date, entries, with_trainer: bool) -> None:
        self.beginResetModel()
        self.with_trainer = with_trainer
        weekend = any(date.fromisoformat(e.session_date).weekday() >= 5 for e in entries)
        count = 7 if weekend else 5
        self.days = [(first + timedelta(days=i)).isoformat() for i in range(count)]
        by_day: dict[str, list] = {d: [] for d in self.days}
        groups: dict[tuple, list] = {}
        for e in entries:
            if e.session_date not in by_day:
                continue
            if e.group_id is not None:
                key = (e.group_id, e.session_date, e.start_time)
                if key in groups:
                    groups[key][1] += 1
                    continue
                groups[key] = [e, 1]
                by_day[e.session_date].append(groups[key])
            else:
                by_day[e.session_date].append([e, 1])
        self.cells = [by_day[d] for d in self.days]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else max((len(c) for c in self.cells), default=0)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.days)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role in (Qt.DisplayRole, Qt.AccessibleTextRole) and section < len(self.days):
            n = len(self.cells[section])
            return f"{short_day(self.days[section])}: {n} session{'s' if n != 1 else ''}"
        return None

    def cell(self, row: int, column: int):
        if 0 <= column < len(self.cells) and 0 <= row < len(self.cells[column]):
            return self.cells[column][row]
        return None

    def data(self, index, role=Qt.DisplayRole):
        found = self.cell(index.row(), index.column())
        if found is None:
            return None
        entry, members = found
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole, Qt.ToolTipRole):
            text = _cell_text(entry, self.with_trainer, members)
            note = attention(entry)
            if role != Qt.DisplayRole and note:
                text += f". {note}"
            if role != Qt.DisplayRole and entry.attendance in ("2", "4"):
                text += ". Cancelled"
            return text
        if role == ROW_ROLE:
            return entry
        if role == Qt.BackgroundRole and entry.outcome_not_recorded:
            return QBrush(QColor(255, 236, 179))
        if role == Qt.FontRole and (entry.outcome_not_recorded or entry.attendance in ("2", "4")):
            font = QFont()
            font.setBold(entry.outcome_not_recorded)
            font.setStrikeOut(entry.attendance in ("2", "4"))
            return font
        if role == Qt.ForegroundRole and entry.attendance in ("2", "4"):
            return QBrush(QColor(110, 110, 110))
        return None


class TrainersWeekModel(QAbstractTableModel):
    """Everyone's week at a glance: a row per trainer, a column per day; each cell how many sessions,
    from when to when, and how many still wait for their outcome. Enter on a cell opens that day."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.days: list[str] = []
        self.staff: list[tuple[int, str]] = []
        self.cells: list[list[list]] = []      # [trainer row][day column] -> entries (a group's meeting once)

    def set_week(self, first: date, entries) -> None:
        self.beginResetModel()
        weekend = any(date.fromisoformat(e.session_date).weekday() >= 5 for e in entries)
        self.days = [(first + timedelta(days=i)).isoformat() for i in range(7 if weekend else 5)]
        names = {e.staff_id: e.staff_name or "" for e in entries}
        self.staff = sorted(names.items(), key=lambda s: s[1].casefold())
        row_of = {sid: r for r, (sid, _) in enumerate(self.staff)}
        col_of = {d: c for c, d in enumerate(self.days)}
        self.cells = [[[] for _ in self.days] for _ in self.staff]
        seen = set()
        for e in entries:
            if e.session_date not in col_of or e.attendance in ("2", "4"):
                continue
            if e.group_id is not None:
                key = (e.group_id, e.session_date, e.start_time)
                if key in seen:
                    continue
                seen.add(key)
            self.cells[row_of[e.staff_id]][col_of[e.session_date]].append(e)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.staff)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.days)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role not in (Qt.DisplayRole, Qt.AccessibleTextRole):
            return None
        if orientation == Qt.Horizontal and section < len(self.days):
            n = sum(len(row[section]) for row in self.cells)
            return f"{short_day(self.days[section])}: {n}"
        if orientation == Qt.Vertical and section < len(self.staff):
            return self.staff[section][1]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        found = self.cells[index.row()][index.column()]
        late = sum(1 for e in found if e.outcome_not_recorded)
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            if not found:
                return "" if role == Qt.DisplayRole else "No sessions"
            first, last = found[0], max(found, key=lambda e: e.end_time or "")
            text = f"{len(found)} session{'s' if len(found) != 1 else ''}\n{first.start_time or ''}\u2013{last.end_time or ''}"
            if late:
                text += f" \u00b7 {late} not recorded"
            return text
        if role == Qt.ToolTipRole and found:
            return "\n".join(f"{e.start_time or ''} {e.group_title + ' (group)' if e.group_id else e.client_ref} "
                             f"\u2014 {where(e)}" for e in found)
        if role == Qt.BackgroundRole and late:
            return QBrush(QColor(255, 236, 179))
        if role == Qt.FontRole and late:
            font = QFont()
            font.setBold(True)
            return font
        return None


class DiaryPage(QWidget):
    NAV = Nav("Di&ary", QStyle.SP_FileDialogContentsView, lambda store: store.may("own_diary"))
    open_referral = Signal(int, int)

    def __init__(self, store, worker, parent=None, *, today: date | None = None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.fixed_today = today
        self.loaded_once = False
        self._reselect: int | None = None
        self.entries: list = []
        self.everyone = store.may("diary_any")
        self.may_print_letters = store.may("print_letter")     # letters are sent by coordinators
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = heading("Diary")
        top.addWidget(self.title, 1)
        self.summary = QLabel()
        self.summary.setAccessibleName("Sessions shown")
        top.addWidget(self.summary)
        layout.addLayout(top)

        controls = QHBoxLayout()
        self.view_choice = QComboBox()
        self.view_choice.setAccessibleName("View")
        guard_wheel(self.view_choice)
        self.view_choice.addItem("Week", WEEK)
        self.view_choice.addItem("Day", DAY)
        if store.may("allocate"):
            self.view_choice.addItem("Follow-up (two missed)", FOLLOW)
        self.day_field = DateField("Date shown")
        self.prev_button = button("Pre&vious", "Previous", tip="The day or week before")
        self.next_button = button("Ne&xt", "Next", tip="The day or week after")
        self.today_button = button("Toda&y", "Today")
        self.trainer = QComboBox()
        self.trainer.setAccessibleName("Trainer shown")
        guard_wheel(self.trainer)
        if self.everyone:
            self.trainer.addItem("All trainers", ALL)
            for s in store.service.trainers():
                self.trainer.addItem(s.full_name, s.id)
        else:
            actor = store.actor
            self.trainer.addItem(actor.full_name or actor.username, actor.staff_id)
            self.trainer.setEnabled(False)
        self.venue = QComboBox()
        self.venue.setAccessibleName("Venue shown")
        guard_wheel(self.venue)
        self.venue.addItem("All venues", ALL)
        for v in store.service.venues():
            self.venue.addItem(v.name, v.id)
        for text, widget in (("Vie&w", self.view_choice), ("Dat&e", self.day_field)):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
        for b in (self.prev_button, self.next_button, self.today_button):
            controls.addWidget(b)
        controls.addStretch(1)
        layout.addLayout(controls)
        controls = QHBoxLayout()      # whose diary, on a line of its own: the window stays narrow
        for combo in (self.view_choice, self.trainer, self.venue):
            # As narrow as a short name: a long venue name must not widen the window past a small screen.
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(22 if combo is self.view_choice else 10)
        for text, widget in (("Trai&ner", self.trainer), ("Ven&ue", self.venue)):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget, 1)
        controls.addStretch(1)
        layout.addLayout(controls)

        self.stack = QStackedWidget()
        self.week_model = WeekModel(self)
        self.week_view = QTableView()
        self.week_view.setAccessibleName("Week")
        self.week_view.setModel(self.week_model)
        self.week_view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.week_view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.week_view.setTabKeyNavigation(False)
        self.week_view.setWordWrap(True)
        self.week_view.verticalHeader().hide()
        self.week_view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.week_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().lineSpacing() * 2 + 10)
        self.week_view.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.week_view.horizontalHeader().setHighlightSections(False)
        self.team_model = TrainersWeekModel(self)
        self.team_view = QTableView()
        self.team_view.setAccessibleName("Everyone's week")
        self.team_view.setAccessibleDescription("A row per trainer, a column per day; Enter opens that "
                                                "trainer's day")
        self.team_view.setModel(self.team_model)
        self.team_view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.team_view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.team_view.setTabKeyNavigation(False)
        self.team_view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.team_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().lineSpacing() * 2 + 10)
        self.team_view.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.day_model = RowTableModel(DAY_LIST, self, highlight=attention)
        self.day_view = table_view("Day", self.day_model)
        self.follow_model = RowTableModel(FOLLOW_UP, self)
        self.follow_view = table_view("Follow-up after two missed sessions", self.follow_model)
        for v in (self.week_view, self.day_view, self.follow_view, self.team_view):
            self.stack.addWidget(v)
        layout.addWidget(self.stack, 1)

        self.actions = SessionActions(self, store, worker, self.current, today=today, staff_id=self._booking_staff)
        row = QHBoxLayout()
        self.record_button = button("Record &outcome\u2026", "Record outcome", tip="Record the chosen session (Enter)")
        self.book_button = button("&Book\u2026", "Book a session", tip="Book a session, a group or a weekly block")
        self.move_button = button("&Move\u2026", "Move the session", tip="Move the chosen session, with a reason")
        self.cancel_button = button("Can&cel\u2026", "Cancel the session", tip="Cancel the chosen session, with a reason")
        self.letter_button = button("Le&tter\u2026", "Appointment letter",
                                    tip="Print the appointment letter for a session still to come, kept with the record")
        self.pdf_button = button("&Print\u2026", "Print the diary shown as a PDF", tip="The day or week shown as a PDF to carry")
        self.ics_button = button("Calen&dar\u2026", "Save the week as a calendar file",
                                 tip="An iCalendar file for a phone calendar: initials and reference only, no names")
        self.open_button = button("Open reco&rd", "Open client record", tip="Open the client's record at this referral")
        for b in (self.record_button, self.book_button, self.move_button, self.cancel_button, self.letter_button,
                  self.open_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.pdf_button)
        row.addWidget(self.ics_button)
        layout.addLayout(row)

        self.view_choice.currentIndexChanged.connect(lambda _i: self.refresh())
        self.trainer.currentIndexChanged.connect(lambda _i: self.refresh())
        self.venue.currentIndexChanged.connect(lambda _i: self.refresh())
        self.day_field.editingFinished.connect(self.refresh)
        self.day_field.textChanged.connect(lambda t: self.refresh() if typed_date(t) and len(t) == 10 else None)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(self.go_today)
        self.record_button.clicked.connect(self.actions.record)
        self.book_button.clicked.connect(lambda: self.actions.book(day=max(self.shown_day(), self.today())))
        self.move_button.clicked.connect(self.actions.move)
        self.cancel_button.clicked.connect(self.actions.cancel)
        self.letter_button.clicked.connect(self._letter)
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.ics_button.clicked.connect(lambda: self.export("ics"))
        self.open_button.clicked.connect(self._open_current)
        self.week_view.activated.connect(lambda _i: self._activated())
        self.day_view.activated.connect(lambda _i: self._activated())
        self.follow_view.activated.connect(lambda _i: self._open_current())
        self.team_view.activated.connect(lambda _i: self.open_team_cell())
        for v in (self.week_view, self.day_view, self.follow_view, self.team_view):
            v.selectionModel().currentChanged.connect(lambda *_: self._enable())
        self.day_field.blockSignals(True)
        self.day_field.set_iso(self.today().isoformat())
        self.day_field.blockSignals(False)
        self._enable()

    # --- what is shown ------------------------------------------------------------------------------

    def today(self) -> date:
        return self.fixed_today or date.today()

    def mode(self) -> str:
        return self.view_choice.currentData()

    def shown_day(self) -> date:
        return typed_date(self.day_field.text()) or self.today()

    def first_day(self) -> date:
        day = self.shown_day()
        return day - timedelta(days=day.weekday()) if self.mode() == WEEK else day

    def staff_shown(self) -> int | None:
        data = self.trainer.currentData()
        return None if data == ALL else data

    def venue_shown(self) -> int | None:
        data = self.venue.currentData()
        return None if data == ALL else data

    def team_shown(self) -> bool:
        """Everyone's week: the trainers-by-day overview rather than each session."""
        return self.mode() == WEEK and self.staff_shown() is None and self.everyone

    def open_team_cell(self) -> None:
        """From everyone's week to that trainer's day."""
        index = self.team_view.currentIndex()
        if not index.isValid():
            return
        staff_id = self.team_model.staff[index.row()][0]
        day = date.fromisoformat(self.team_model.days[index.column()])
        for w in (self.view_choice, self.trainer):
            w.blockSignals(True)
        self.set_view(DAY)
        self.show_trainer(staff_id)
        for w in (self.view_choice, self.trainer):
            w.blockSignals(False)
        self.show_day(day)
        self.day_view.setFocus()

    def _booking_staff(self) -> int | None:
        return self.staff_shown()

    def set_view(self, mode: str) -> None:
        self.view_choice.setCurrentIndex(max(0, self.view_choice.findData(mode)))

    def show_trainer(self, staff_id: int | None) -> None:
        self.trainer.setCurrentIndex(max(0, self.trainer.findData(ALL if staff_id is None else staff_id)))

    def show_day(self, day: date) -> None:
        self.day_field.blockSignals(True)
        self.day_field.set_iso(day.isoformat())
        self.day_field.blockSignals(False)
        self.refresh()

    def step(self, direction: int) -> None:
        self.show_day(self.shown_day() + timedelta(days=direction * (7 if self.mode() == WEEK else 1)))

    def go_today(self) -> None:
        self.show_day(self.today())

    def on_shown(self) -> None:
        if not self.loaded_once:
            self.refresh()

    def refresh(self) -> None:
        mode = self.mode()
        self.stack.setCurrentIndex(3 if mode == WEEK and self.staff_shown() is None and self.everyone
                                   else {WEEK: 0, DAY: 1, FOLLOW: 2}[mode])
        for w in (self.day_field, self.prev_button, self.next_button, self.today_button, self.trainer, self.venue):
            w.setEnabled(mode != FOLLOW and (w is not self.trainer or self.everyone))
        if mode == FOLLOW:
            self.worker.submit(self.store.diary.follow_up, key="diary", on_done=self._show_follow_up)
            return
        first, days = self.first_day(), (7 if mode == WEEK else 1)
        self.worker.submit(self.store.diary.week, first, days, key="diary", staff_id=self.staff_shown(),
                           venue_id=self.venue_shown(), today=self.today(),
                           on_done=lambda got: self._show(first, days, got))

    def _show(self, first: date, days: int, entries) -> None:
        self.loaded_once = True
        self.entries = list(entries)
        mode = self.mode()
        who = self.trainer.currentText() if self.staff_shown() is not None or not self.everyone else "All trainers"
        place = f", {self.venue.currentText()}" if self.venue_shown() is not None else ""
        if mode == WEEK:
            last = first + timedelta(days=6)
            self.title.setText(f"Diary \u2014 week of {long_day(first)} \u2014 {who}{place}")
            if self.team_shown():
                self.team_model.set_week(first, self.entries)
                if self.team_model.rowCount():
                    self.team_view.setCurrentIndex(self.team_model.index(0, 0))
                    self.team_view.resizeColumnToContents(0)
            else:
                self.week_model.set_week(first, self.entries, with_trainer=self.staff_shown() is None)
                if self.week_model.rowCount():
                    self.week_view.setCurrentIndex(self.week_model.index(0, self._first_column_with_sessions()))
        else:
            last = first
            self.title.setText(f"Diary \u2014 {long_day(first)} \u2014 {who}{place}")
            self.day_model.set_rows(self.entries)
            # A single trainer's day needs neither the date nor the trainer on every line.
            self.day_view.setColumnHidden(self.day_model.column_index("session_date"), True)
            self.day_view.setColumnHidden(self.day_model.column_index("staff_name"), self.staff_shown() is not None
                                          or not self.everyone)
            self.day_view.resizeColumnsToContents()
            if self.entries:
                self.day_view.selectRow(0)
        if self._reselect is not None:
            self.select_session(self._reselect)
            self._reselect = None
        self.title.setAccessibleName(self.title.text())
        live = [e for e in self.entries if e.attendance not in ("2", "4")]
        late = sum(1 for e in self.entries if e.outcome_not_recorded)
        self.summary.setText(f"{len(live)} session place{'s' if len(live) != 1 else ''} "
                             f"{short_day(first.isoformat())}" + (f" to {short_day(last.isoformat())}" if days > 1 else "")
                             + (f"; {late} outcome{'s' if late != 1 else ''} not recorded" if late else ""))
        self._enable()

    def _first_column_with_sessions(self) -> int:
        for c, cells in enumerate(self.week_model.cells):
            if cells:
                return c
        return 0

    def _show_follow_up(self, items) -> None:
        self.loaded_once = True
        self.title.setText("Follow-up: two missed sessions in a row")
        self.title.setAccessibleName(self.title.text())
        self.follow_model.set_rows(items)
        self.follow_view.resizeColumnsToContents()
        if items:
            self.follow_view.selectRow(0)
        self.summary.setText(f"{len(items)} referral{'s' if len(items) != 1 else ''} to follow up")
        self._enable()

    # --- the chosen session ----------------------------------------------------------------------------

    def current(self):
        mode = self.mode()
        if self.team_shown():
            return None
        if mode == WEEK:
            index = self.week_view.currentIndex()
            return index.data(ROW_ROLE) if index.isValid() else None
        if mode == DAY:
            index = self.day_view.currentIndex()
            return self.day_model.row_at(index.row()) if index.isValid() else None
        return None

    def current_follow_up(self):
        index = self.follow_view.currentIndex()
        return self.follow_model.row_at(index.row()) if self.mode() == FOLLOW and index.isValid() else None

    def select_session(self, session_id: int) -> bool:
        if self.mode() == WEEK:
            for c, cells in enumerate(self.week_model.cells):
                for r, (e, _) in enumerate(cells):
                    if e.session_id == session_id:
                        self.week_view.setCurrentIndex(self.week_model.index(r, c))
                        return True
        elif self.mode() == DAY:
            for r, e in enumerate(self.day_model.all_rows()):
                if e.session_id == session_id:
                    self.day_view.selectRow(r)
                    return True
        return False

    def _enable(self) -> None:
        entry = self.current()
        booked = entry is not None and entry.attendance == "0"
        follow = self.mode() == FOLLOW
        self.record_button.setEnabled(entry is not None)
        self.move_button.setEnabled(booked)
        self.cancel_button.setEnabled(booked)
        letter_fits = ((booked and entry.session_date >= self.today().isoformat() and entry.group_id is None)
                       or (follow and self.current_follow_up() is not None))
        self.letter_button.setEnabled(self.may_print_letters and letter_fits)
        self.letter_button.setToolTip(
            self.store.refusal("print_letter")
            or ("Print the could-not-reach letter for this referral, kept with the record" if follow else
                "Print the appointment letter for a session still to come, kept with the record"))
        self.open_button.setEnabled(entry is not None or (follow and self.current_follow_up() is not None))
        self.book_button.setEnabled(not follow)
        self.pdf_button.setEnabled(not follow)
        self.ics_button.setEnabled(not follow)

    def _letter(self) -> None:
        """The appointment letter for a session still to come; on the follow-up list, the could-not-reach
        letter for the referral chosen."""
        if self.mode() == FOLLOW:
            item = self.current_follow_up()
            if item is not None:
                self.actions.letter("no-contact", item)
        else:
            self.actions.letter("appointment")

    def _activated(self) -> None:
        entry = self.current()
        if entry is not None:
            self.actions.record()

    def _open_current(self) -> None:
        item = self.current_follow_up() if self.mode() == FOLLOW else self.current()
        if item is not None:
            self.open_referral.emit(item.client_id, item.referral_id)

    # --- printing ---------------------------------------------------------------------------------------------

    def export(self, kind: str, path: str | None = None) -> None:
        """The week shown (or the day) as a PDF to carry, or an iCalendar file with no client names."""
        first = self.first_day()
        days = 7 if self.mode() == WEEK else 1
        if path is None:
            suffix = "PDF files (*.pdf)" if kind == "pdf" else "Calendar files (*.ics)"
            name = f"diary-{first.isoformat()}.{kind}"
            path, _ = QFileDialog.getSaveFileName(self, "Save the diary as", name, suffix)
            if not path:
                return
        who = self.trainer.currentText() if self.staff_shown() is not None or not self.everyone else "All trainers"
        if kind == "pdf":
            from reports.diary_pdf import build_diary_pdf
            fn, args = build_diary_pdf, (list(self.entries), path)
            kwargs = {"title": f"{who}: {long_day(first)}" + (" (week)" if days > 1 else ""),
                      "first": first, "days": days, "service": None}
        else:
            from reports.diary_ics import build_ics
            fn, args, kwargs = build_ics, (list(self.entries), path), {}
        self.last_export = None
        self.worker.submit(fn, *args, on_done=lambda _r: self._exported(path),
                           on_error=lambda exc: show_error(self, exc), **kwargs)

    def _exported(self, path: str) -> None:
        self.last_export = path
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Saved {path}", 6000)

    def on_store_changed(self, changes, visible: bool) -> None:
        if changes.entity in ("session", "referral", "client", "venue", "import"):
            if visible:
                keep = self.current()
                self._reselect = keep.session_id if keep is not None else None
                self.refresh()
            else:
                self.loaded_once = False
