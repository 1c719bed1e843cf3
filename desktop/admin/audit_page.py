"""The audit trail for administrators and managers (issue 14): filter by person, account, action and
date; open the person's record; export what is shown to a workbook (audited). A second tab lists
the people past the retention period, for an administrator to anonymise in one step."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDir, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QStyle,
                               QTabWidget, QVBoxLayout, QWidget)

from ..models import RowTableModel
from ..models.columns import show_date
from ..models.table import Column
from ..widgets.common import button, heading, show_error, table_view
from ..widgets.date_field import DateField, typed_date
from ..widgets.nav import Nav
from .rights import erase_people


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    username: str | None
    action: str
    client_id: int | None
    client_ref: str | None
    entity: str | None
    entity_id: str | None
    detail: str | None


def _record(row) -> str:
    """What kind of record the event is about, in words (internal row numbers mean nothing to people;
    the client's reference has its own column)."""
    if not row.entity:
        return ""
    return "client record" if row.entity == "client" else row.entity.replace("_", " ")


AUDIT_COLUMNS = (
    Column("at", "When", lambda r: show_date(r.at), lambda r: r.at),
    Column("username", "Account", lambda r: r.username or "(system)"),
    Column("action", "Action"),
    Column("client_ref", "Client", lambda r: r.client_ref or ""),
    Column("entity", "Record", lambda r: _record(r)),
    Column("detail", "Detail", lambda r: r.detail or ""),
)


@dataclass(frozen=True)
class DueRow:
    client_id: int
    client_ref: str
    name: str
    last_contact: str
    archived: bool


DUE_COLUMNS = (
    Column("client_ref", "Reference"),
    Column("name", "Name"),
    Column("last_contact", "Last contact", lambda r: show_date(r.last_contact), lambda r: r.last_contact),
    Column("archived", "Archived", lambda r: "yes" if r.archived else ""),
)

ANY = "Any action"
SHOWN = 2000


class AuditPage(QWidget):
    NAV = Nav("A&udit", QStyle.SP_FileDialogInfoView, lambda store: store.may("audit_view"))
    open_client_record = Signal(int)

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Audit trail"))
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Audit sections")
        layout.addWidget(self.tabs, 1)

        events = QWidget()
        col = QVBoxLayout(events)
        filters = QHBoxLayout()
        form_left, form_right = QFormLayout(), QFormLayout()
        self.client = QLineEdit()
        self.client.setAccessibleName("Client reference")
        self.client.setPlaceholderText("e.g. HT-000123")
        self.account = QLineEdit()
        self.account.setAccessibleName("Account")
        self.account.setPlaceholderText("username")
        self.action = QComboBox()
        self.action.setAccessibleName("Action")
        self.action.addItems([ANY, *store.privacy.audit_actions()])
        self.since, self.until = DateField("Since"), DateField("Until")
        for form, rows in ((form_left, (("&Person", self.client), ("Acc&ount", self.account))),
                           (form_right, (("Actio&n", self.action), ("&Since", self.since), ("Until", self.until)))):
            for text, widget in rows:
                label = QLabel(text)
                label.setBuddy(widget)
                form.addRow(label, widget)
        filters.addLayout(form_left)
        filters.addLayout(form_right)
        buttons = QVBoxLayout()
        self.open_button = button("Open record", "Open the client's record",
                                  tip="Open the record of the client of the chosen event (Enter)")
        self.export_button = button("Export to &workbook\u2026", "Export to workbook",
                                    tip="Write the events shown (all that match, not only the first 2,000) "
                                        "to a workbook; the export is itself audited")
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        filters.addLayout(buttons)
        filters.addStretch(1)
        col.addLayout(filters)
        self.status = QLabel()
        self.status.setAccessibleName("Audit events found")
        self.status.setWordWrap(True)
        col.addWidget(self.status)
        self.model = RowTableModel(AUDIT_COLUMNS, self)
        self.view = table_view("Audit events", self.model, sortable=False)
        col.addWidget(self.view, 1)
        self.tabs.addTab(events, "Events")

        self.due_tab = QWidget()
        due = QVBoxLayout(self.due_tab)
        self.due_note = QLabel()
        self.due_note.setWordWrap(True)
        self.due_note.setAccessibleName("Retention period")
        due.addWidget(self.due_note)
        self.due_model = RowTableModel(DUE_COLUMNS, self)
        self.due_view = table_view("People past the retention period", self.due_model, sortable=False)
        due.addWidget(self.due_view, 1)
        self.erase_button = button("Anon&ymise everyone listed\u2026", "Anonymise everyone listed",
                                   tip="Erase the people listed in one step: names, contact details, NHS "
                                       "number, date of birth to its year and free text; counts are kept")
        due.addWidget(self.erase_button, 0, Qt.AlignLeft)
        if store.may("erase"):
            self.tabs.addTab(self.due_tab, "Retention")

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.refresh)
        for field in (self.client, self.account, self.since, self.until):
            field.textChanged.connect(lambda _=None: self.timer.start())
        self.action.currentIndexChanged.connect(lambda _=None: self.timer.start())
        self.view.activated.connect(lambda index: self.open_row(index.row()))
        self.open_button.clicked.connect(lambda: self.open_row(self.view.currentIndex().row()))
        self.export_button.clicked.connect(self.export)
        self.erase_button.clicked.connect(self.erase_due)
        self.due_view.activated.connect(lambda index: self.open_client_record.emit(self.due_model.row_at(index.row()).client_id))
        self.tabs.currentChanged.connect(lambda i: self.refresh_due() if self.tabs.widget(i) is self.due_tab else None)
        self._shown = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self.refresh()

    # --- the events ------------------------------------------------------------------------------

    def filters(self) -> dict:
        """The store's filters from the fields; raises ValueError naming a field that cannot be read."""
        found = {}
        ref = self.client.text().strip()
        if ref:
            found["client_ref"] = ref.upper()
        if self.account.text().strip():
            found["username"] = self.account.text().strip()
        if self.action.currentText() != ANY:
            found["action"] = self.action.currentText()
        for key, field in (("since", self.since), ("until", self.until)):
            text = field.text().strip()
            if text:
                day = typed_date(text)
                if day is None:
                    raise ValueError(f"{field.accessibleName()}: type a date as day/month/year, e.g. 01/11/2026.")
                found[key] = day.isoformat()
        return found

    def _query(self, filters: dict, limit):
        store = self.store
        filters = dict(filters)
        ref = filters.pop("client_ref", None)
        if ref is not None:
            filters["client_id"] = store.clients.id_for_ref(ref)
        return store.privacy.audit(**filters, limit=limit)

    def refresh(self) -> None:
        try:
            filters = self.filters()
        except ValueError as exc:
            self.status.setText(str(exc))
            return

        def read():
            return [AuditRow(r["id"], r["at"], r["username"], r["action"], r["client_id"], r["client_ref"],
                             r["entity"], r["entity_id"], r["detail"]) for r in self._query(filters, SHOWN + 1)]

        self.worker.submit(read, key="audit-events", on_done=self._show, on_error=self._failed)

    def _show(self, rows) -> None:
        more = len(rows) > SHOWN
        rows = rows[:SHOWN]
        self.model.set_rows(rows)
        self.view.resizeColumnsToContents()
        if not rows:
            self.status.setText("No audit events match.")
        else:
            self.status.setText(f"{len(rows):,} events, newest first" + (
                f" (the newest {SHOWN:,}; narrow the filters, or export them all)" if more else "") + ".")
        self.open_button.setEnabled(bool(rows))

    def _failed(self, exc) -> None:
        from db.errors import NotFound
        if isinstance(exc, NotFound):
            self.model.set_rows([])
            self.status.setText(str(exc))
            return
        show_error(self, exc)

    def open_row(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            return
        event = self.model.row_at(row)
        if event.client_id is None:
            self.status.setText("That event is not about a client.")
            return
        self.open_client_record.emit(event.client_id)

    def export(self) -> None:
        try:
            filters = self.filters()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the audit events", str(Path(QDir.homePath()) / "audit.xlsx"),
                                              "Excel workbook (*.xlsx)")
        if path:
            self.export_to(path, filters)

    def export_to(self, path: str, filters: dict | None = None) -> None:
        filters = self.filters() if filters is None else filters

        def write():
            from db.public import check_output_path
            from reports.audit_workbook import write_audit
            out = check_output_path(path, (".xlsx",), "the workbook")
            query = dict(filters)
            ref = query.pop("client_ref", None)
            if ref is not None:
                query["client_id"] = self.store.clients.id_for_ref(ref)
            return str(out), self.store.privacy.export_audit(out, write_workbook=write_audit, **query)

        self.worker.submit(write, on_done=lambda got: self.status.setText(f"Wrote {got[1]:,} events to {got[0]}."),
                           on_error=lambda exc: show_error(self, exc))

    # --- the retention list ------------------------------------------------------------------------

    def refresh_due(self) -> None:
        def read():
            years, rows = self.store.privacy.retention_due()
            return years, [DueRow(r["client_id"], r["client_ref"],
                                  f"{r['last_name']}, {r['preferred_name'] or r['first_name']}",
                                  r["last_contact"], bool(r["archived_at"])) for r in rows]
        self.worker.submit(read, key="retention-due", on_done=self._show_due)

    def _show_due(self, got) -> None:
        years, rows = got
        self.due_model.set_rows(rows)
        self.due_view.resizeColumnsToContents()
        period = f"{years} year" + ("" if years == 1 else "s")
        if rows:
            self.due_note.setText(f"{len(rows):,} " + ("person has" if len(rows) == 1 else "people have") +
                                  f" had no contact for more than {period} (the retention period, set in the service "
                                  "settings), longest ago first. Anonymising keeps their counts in past returns.")
        else:
            self.due_note.setText(f"No one has gone more than {period} without contact (the retention period, set "
                                  "in the service settings): there is nobody to anonymise.")
        self.erase_button.setEnabled(bool(rows))

    def erase_due(self) -> None:
        rows = list(self.due_model.rows)
        if rows:
            erase_people(self, self.store, self.worker, [(r.client_id, r.client_ref) for r in rows],
                         default_reason="Retention period ended", on_done=lambda _: self.refresh_due())

    def on_store_changed(self, changes, visible: bool) -> None:
        if visible and changes.entity in ("client", "referral", "session", "plan", "goal", "assessment",
                                          "document", "signposting", "account"):
            self.timer.start()
