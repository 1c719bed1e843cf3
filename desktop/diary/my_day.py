"""My day: the first screen for trainers and champions. Today's sessions in time order (with any past
session still waiting for its outcome first), then the caseload with last and next session, sessions
attended, plan, review due and what is due next; overdue things stand out in colour, bold and words.
Enter on a session records it; Enter on a caseload row opens the client at that referral."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QSplitter, QStyle, QVBoxLayout, QWidget

from ..models import RowTableModel
from ..widgets.common import button, heading, table_view
from ..widgets.nav import Nav
from .actions import SessionActions
from .common import CASELOAD, attention, caseload_attention, long_day, one_line_per_group, today_sessions


def section_for(item) -> str:
    """Where in the record the first thing due is done."""
    first = (item.overdue or item.due or ("",))[0]
    if "assessment" in first:
        return "assessments"
    if first.startswith(("Plan", "Review")):
        return "plan"
    return "referral"


def _holds_sessions(store) -> bool:
    actor = store.actor
    return actor is not None and actor.has("TRAINER", "CHAMPION") and store.may("own_diary")


class MyDayPage(QWidget):
    NAV = Nav("My &day", QStyle.SP_DialogYesButton, _holds_sessions)   # first for trainers and champions
    open_referral = Signal(int, int)     # client id, referral id
    open_client_section = Signal(int, int, str)   # client id, referral id, where: plan, assessments, referral

    def __init__(self, store, worker, parent=None, *, today: date | None = None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.fixed_today = today
        self.loaded_once = False
        self.data = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = heading("My day")
        top.addWidget(self.title, 1)
        self.summary = QLabel()
        self.summary.setAccessibleName("Summary of the day")
        top.addWidget(self.summary)
        layout.addLayout(top)

        split = QSplitter(Qt.Vertical)
        split.setChildrenCollapsible(False)
        upper = QWidget()
        upper_box = QVBoxLayout(upper)
        upper_box.setContentsMargins(0, 0, 0, 0)
        upper_box.addWidget(heading("Today's sessions", 2))
        self.sessions = RowTableModel(today_sessions(lambda: self.data.day if self.data else self.today().isoformat()),
                                      self, highlight=attention)
        self.sessions_view = table_view("Today's sessions", self.sessions, sortable=False)
        upper_box.addWidget(self.sessions_view)
        self.empty_day = QLabel("No sessions booked today.")
        self.empty_day.setAccessibleName("No sessions booked today")
        self.empty_day.hide()
        upper_box.addWidget(self.empty_day)
        self.actions = SessionActions(self, store, worker, self.current_session, today=today)
        row = QHBoxLayout()
        self.record_button = button("Record &outcome\u2026", "Record outcome", tip="Record the chosen session (Enter)")
        self.book_button = button("&Book a session\u2026", "Book a session", tip="Book one session or a weekly block")
        self.group_button = button("Group &attendance\u2026", "Group attendance",
                                   tip="Record every member of the chosen group session on one screen")
        for b in (self.record_button, self.group_button, self.book_button):
            row.addWidget(b)
        row.addStretch(1)
        upper_box.addLayout(row)
        split.addWidget(upper)

        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        self.caseload_title = heading("My caseload", 2)
        lower_box.addWidget(self.caseload_title)
        self.caseload = RowTableModel(CASELOAD, self, highlight=caseload_attention)
        self.caseload_view = table_view("My caseload", self.caseload)
        # What is overdue first, then what is due: the working order.
        self.caseload_view.sortByColumn(self.caseload.column_index("due"), Qt.AscendingOrder)
        lower_box.addWidget(self.caseload_view)
        row2 = QHBoxLayout()
        self.open_button = button("O&pen client record", "Open client record",
                                  tip="Open the chosen client's record at this referral (Enter)")
        self.book_for_button = button("Book for this &client\u2026", "Book for this client")
        row2.addWidget(self.open_button)
        row2.addWidget(self.book_for_button)
        row2.addStretch(1)
        lower_box.addLayout(row2)
        split.addWidget(lower)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout.addWidget(split, 1)

        self.sessions_view.activated.connect(lambda _i: self.actions.record())
        self.record_button.clicked.connect(self.actions.record)
        self.group_button.clicked.connect(self.actions.group)
        self.book_button.clicked.connect(lambda: self.actions.book())
        self.caseload_view.activated.connect(lambda index: self._open(index.row()))
        self.open_button.clicked.connect(lambda: self._open(self.caseload_view.currentIndex().row()))
        self.book_for_button.clicked.connect(self._book_for)
        self.sessions_view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.caseload_view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self._enable()

    def today(self) -> date:
        return self.fixed_today or date.today()

    def refresh(self) -> None:
        self.worker.submit(self.store.diary.my_day, key="my-day", on_done=self._show, today=self.today())

    def on_shown(self) -> None:
        if not self.loaded_once:
            self.refresh()

    def _show(self, day) -> None:
        self.loaded_once = True
        self.data = day
        keep = self.current_session()
        self.title.setText(f"My day \u2014 {long_day(day.day)}")
        self.title.setAccessibleName(self.title.text())
        rows = one_line_per_group(list(day.not_recorded) + list(day.today))
        self.sessions.set_rows(rows)
        self.sessions_view.setVisible(bool(rows))
        self.empty_day.setVisible(not rows)
        self.caseload.set_rows(day.caseload)
        for view in (self.sessions_view, self.caseload_view):
            view.resizeColumnsToContents()
            view.horizontalHeader().setSectionResizeMode(view.model().columnCount() - 1, QHeaderView.Stretch)
        overdue = sum(1 for c in day.caseload if c.overdue)
        self.caseload_title.setText(f"My caseload ({len(day.caseload)} open"
                                    + (f", {overdue} with something overdue)" if overdue else ")"))
        self.caseload_title.setAccessibleName(self.caseload_title.text())
        late = len(day.not_recorded)
        held = len(one_line_per_group(day.today))
        self.summary.setText(f"{held} session{'s' if held != 1 else ''} today"
                             + (f"; {late} earlier still to record" if late else ""))
        if rows:
            index = next((i for i, r in enumerate(rows) if keep and r.session_id == keep.session_id), 0)
            self.sessions_view.selectRow(index)
        self._enable()

    def current_session(self):
        index = self.sessions_view.currentIndex()
        return self.sessions.row_at(index.row()) if index.isValid() else None

    def current_case(self):
        index = self.caseload_view.currentIndex()
        return self.caseload.row_at(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        entry = self.current_session()
        self.record_button.setEnabled(entry is not None)
        self.group_button.setEnabled(entry is not None and entry.group_id is not None)
        self.open_button.setEnabled(self.current_case() is not None)
        self.book_for_button.setEnabled(self.current_case() is not None)

    def _open(self, row: int) -> None:
        """Open the client at the right place: where the first thing due (overdue first) is done."""
        item = self.caseload.row_at(row) if row >= 0 else None
        if item is not None:
            self.open_client_section.emit(item.client_id, item.referral_id, section_for(item))

    def _book_for(self) -> None:
        item = self.current_case()
        if item is not None:
            self.actions.book(referral_id=item.referral_id)

    def on_store_changed(self, changes, visible: bool) -> None:
        if changes.entity in ("session", "referral", "client", "plan", "goal", "assessment", "import"):
            if visible:
                self.refresh()
            else:
                self.loaded_once = False
