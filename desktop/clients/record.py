"""A client's record: details form, referrals with their contact attempts, and the timeline."""
from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from db.records import Client, ClientRecord

from ..models import RowTableModel
from ..models.columns import CLIENT_REFERRALS, TIMELINE, show_date
from ..referrals.dialogs import NewReferralDialog
from ..referrals.panel import ReferralPanel
from ..widgets.common import button, confirm, heading, show_error, table_view
from .form import ClientForm


def _age(dob: str | None) -> str:
    if not dob:
        return ""
    born, today = date.fromisoformat(dob), date.today()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return f"{years} years"


def read_record(store, client_id: int, opening: bool = True) -> tuple[ClientRecord, str | None]:
    """Runs on the worker: the record, and the LSOA's name when the lookup is already on this PC.
    Opening the record is audited; reading it again while it stays open (opening=False) is not a
    new opening (the store audits it only if the record was left unread for a while)."""
    record = store.clients.record(client_id, opening=opening)
    area = None
    code = record.client.lsoa_code
    if code and store.reference.ready():
        info = store.reference.lsoa_info(code)
        if info is not None:
            area = ", ".join(x for x in (info.name, info.lad_name) if x)
    return record, area


class ClientRecordView(QWidget):
    saved = Signal(object)            # Changes (client or referral)
    open_client = Signal(int)         # go to another record (chosen at the duplicate check)
    loaded = Signal(object)           # the ClientRecord now on screen, or None for a new client

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.record: ClientRecord | None = None
        self.area: str | None = None
        self.dialog = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        # Two rows: the name, badge and buttons; then the summary with the save state at its right,
        # so the summary has the full width (one line at 150% scaling) and the state never moves it.
        top = QHBoxLayout()
        self.name = heading("New client")
        self.name.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setAccessibleName("Client summary")
        self.subtitle.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)   # large system fonts: wrap rather than widen the window
        top.addWidget(self.name, 1)
        self.archived_badge = QLabel("ARCHIVED")
        self.archived_badge.setObjectName("archivedBadge")
        self.archived_badge.setAccessibleName("This record is archived")
        self.archived_badge.setStyleSheet("QLabel#archivedBadge { border: 2px solid #555; padding: 4px 8px; "
                                          "font-weight: bold; color: #333; }")
        self.archived_badge.hide()
        top.addWidget(self.archived_badge, 0, Qt.AlignTop)
        # Mnemonics here, in the form and on the tabs are unique on the Clients screen, menus included
        # (tests/desktop/test_client_screens.py). Archive has none left: it is in the Client menu.
        self.state_label = QLabel()   # "Unsaved changes", or "Saved at 14:32" for a while after saving
        self.state_label.setObjectName("saveState")
        self.state_label.setAccessibleName("Save state")
        self.state_label.setTextFormat(Qt.PlainText)
        self.save_button = button("&Save", "Save client", tip="Save the client's details (Ctrl+S)", default=False)
        self.revert_button = button("Re&vert", "Revert changes", tip="Put back the details as last saved")
        self.referral_button = button("Ne&w referral\u2026", "New referral", tip="Add a referral (Ctrl+R)")
        self.archive_button = button("Archive\u2026", "Archive client",
                                     tip="Hide this person from lists; the record and its figures are kept")
        for b in (self.save_button, self.revert_button, self.referral_button, self.archive_button):
            top.addWidget(b, 0, Qt.AlignTop)
        summary = QHBoxLayout()
        summary.addWidget(self.subtitle, 1)
        summary.addWidget(self.state_label, 0, Qt.AlignTop | Qt.AlignRight)
        self.saved_at: str | None = None
        self.saved_id: int | None = None
        self.title_text = self.title_accessible = "New client"
        self.saved_timer = QTimer(self)
        self.saved_timer.setSingleShot(True)
        self.saved_timer.setInterval(60_000)   # "Saved at" is news for a minute, then goes
        self.saved_timer.timeout.connect(self._forget_saved)
        layout.addLayout(top)
        layout.addLayout(summary)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Client record sections")
        self.form = ClientForm(store, worker)
        self.tabs.addTab(self.form, "&Details")

        referrals_tab = QSplitter(Qt.Vertical)
        referrals_tab.setChildrenCollapsible(False)
        self.referrals = RowTableModel(CLIENT_REFERRALS, self)
        self.referrals_view = table_view("Referrals of this client", self.referrals, sortable=False)
        referrals_tab.addWidget(self.referrals_view)
        self.panel = ReferralPanel(store, worker)
        referrals_tab.addWidget(self.panel)
        referrals_tab.setStretchFactor(0, 1)
        referrals_tab.setStretchFactor(1, 3)
        self.referrals_split = referrals_tab
        self.tabs.addTab(referrals_tab, "R&eferrals")

        self.timeline = RowTableModel(TIMELINE, self)
        self.timeline_view = table_view("Timeline", self.timeline, sortable=False)
        self.tabs.addTab(self.timeline_view, "Ti&meline")
        self._add_sections(store, worker)
        layout.addWidget(self.tabs, 1)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.referral_button.clicked.connect(self.new_referral)
        self.archive_button.clicked.connect(self.archive)
        self.form.saved.connect(self._form_saved)
        self.form.dirty_changed.connect(self._show_state)
        self.form.open_existing.connect(self.open_client)
        self.form.busy.connect(lambda busy: self.save_button.setEnabled(not busy))
        self.form.conflict_resolved.connect(self._conflict_resolved)
        self.referrals_view.selectionModel().currentRowChanged.connect(
            lambda current, _: self.panel.show_referral(self.referrals.row_at(current.row())))
        self.panel.changed.connect(self._referral_changed)

    def _add_sections(self, store, worker) -> None:
        """The plan, assessments, signposting and documents tabs (desktop/plans, assessments, signposting,
        documents). Each is filled when it is shown, so opening a record reads no more than before."""
        from ..assessments.tab import AssessmentsTab
        from ..documents.tab import DocumentsTab
        from ..plans.tab import PlanTab
        from ..signposting.tab import SignpostingTab
        self.plan_tab, self.assessments_tab = PlanTab(store, worker), AssessmentsTab(store, worker)
        self.signposting_tab, self.documents_tab = SignpostingTab(store, worker), DocumentsTab(store, worker)
        self.sections = (self.plan_tab, self.assessments_tab, self.signposting_tab, self.documents_tab)
        self.section_pages = []
        for tab, text in zip(self.sections, ("Plan", "Assessments", "Signposting", "Documents")):
            page = QScrollArea()          # a narrow window (150% scaling) scrolls rather than clips
            page.setWidgetResizable(True)
            page.setFrameShape(QScrollArea.NoFrame)
            page.setWidget(tab)
            self.section_pages.append(page)
            self.tabs.addTab(page, text)
            tab.changed.connect(lambda _changes: self.refresh_lists())
        self.signposting_tab.open_client.connect(self.open_client)
        self._sections_stale = True
        self.tabs.currentChanged.connect(lambda _: self._show_section())

    def _show_section(self) -> None:
        if self._sections_stale and self.tabs.currentWidget() in self.section_pages:
            self._sections_stale = False
            for tab in self.sections:
                tab.show_client(self.record)

    # --- showing ----------------------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        return self.record.client if self.record else None

    def show_new(self) -> None:
        self.record = None
        self.form.load(None)
        self.referrals.set_rows([])
        self.timeline.set_rows([])
        self.panel.show_referral(None)
        self._forget_saved()
        self._set_title("New client", "New client")
        self.subtitle.setText("Fill in what you know; names, date of birth, gender and ethnicity are needed. "
                              "People already known are checked for before saving.")
        self.subtitle.setWordWrap(True)
        self.archived_badge.hide()
        self.tabs.setCurrentIndex(0)
        self.tabs.setTabText(1, "R&eferrals")
        for i in range(1, self.tabs.count()):
            self.tabs.setTabEnabled(i, False)
        self._update_buttons()
        self.loaded.emit(None)
        self.form.fields.fields["first_name"].widget.setFocus()

    def load_client(self, client_id: int, keep_tab: bool = False, opening: bool = True) -> None:
        self.worker.submit(read_record, self.store, client_id, opening, key="client-record",
                           on_done=lambda got: self.show_record(*got, keep_tab=keep_tab))

    def show_record(self, record: ClientRecord, area: str | None = None, keep_tab: bool = False) -> None:
        previous = self.panel.referral.id if self.panel.referral else None
        self.record, self.area = record, area
        c = record.client
        if self.saved_id != c.id:
            self._forget_saved()
        self.form.load(c, area)
        self._show_header(c)
        self.referrals.set_rows(record.referrals)
        self.referrals_view.resizeColumnsToContents()
        self.timeline.set_rows(record.timeline)
        self.timeline_view.resizeColumnsToContents()
        for i in range(1, self.tabs.count()):
            self.tabs.setTabEnabled(i, True)
        self._sections_stale = True
        self._show_section()
        self.tabs.setTabText(1, f"R&eferrals ({len(record.referrals)})")
        row = next((i for i, r in enumerate(record.referrals) if r.id == previous), 0)
        if record.referrals:
            self.referrals_view.selectRow(row)
            self.panel.show_referral(record.referrals[row])
        else:
            self.panel.show_referral(None)
        if not keep_tab:
            self.tabs.setCurrentIndex(0)
        self._update_buttons()
        self.loaded.emit(record)

    def _show_header(self, c: Client) -> None:
        self._set_title(c.display_name, f"Client {c.display_name}")
        if c.anonymised_at:
            # Erased on request (issue 14): only the year of birth is kept; the date shown is not a birthday.
            bits = [c.client_ref, f"born {(c.date_of_birth or '')[:4]}", f"erased on {show_date(c.anonymised_at)[:10]}"]
            self.subtitle.setText(" \u00b7 ".join(bits))
            self.archived_badge.setText("ERASED")
            self.archived_badge.setAccessibleName("This person was erased on request")
            self.archived_badge.setVisible(True)
            return
        self.archived_badge.setText("ARCHIVED")
        self.archived_badge.setAccessibleName("This record is archived")
        bits = [c.client_ref, f"born {show_date(c.date_of_birth)} ({_age(c.date_of_birth)})"]
        if c.nhs_number:
            bits.append(f"NHS {c.nhs_number[:3]} {c.nhs_number[3:6]} {c.nhs_number[6:]}")
        if c.postcode:
            bits.append(c.postcode)
        self.subtitle.setText(" \u00b7 ".join(bits))
        self.archived_badge.setVisible(c.archived)

    def _set_title(self, text: str, accessible: str) -> None:
        self.title_text, self.title_accessible = text, accessible
        self._show_state()

    def _show_state(self) -> None:
        """Changed and not saved: said in the title and beside Save; after saving, when."""
        dirty = self.form.dirty
        self.name.setText(f"{self.title_text} (unsaved changes)" if dirty else self.title_text)
        self.name.setAccessibleName(f"{self.title_accessible}, unsaved changes" if dirty else self.title_accessible)
        if dirty:
            self.state_label.setText("\u25cf Unsaved changes")
            self.state_label.setStyleSheet("QLabel#saveState { color: #8a3b00; font-weight: bold; }")
        elif self.saved_at:
            self.state_label.setText(f"\u2713 Saved at {self.saved_at}")
            self.state_label.setStyleSheet("QLabel#saveState { color: #1b5e20; font-weight: bold; }")
        else:
            self.state_label.setText("")
        self.state_label.setVisible(bool(self.state_label.text()))

    def _forget_saved(self) -> None:
        self.saved_at, self.saved_id = None, None
        self.saved_timer.stop()
        self._show_state()

    def _update_buttons(self) -> None:
        """Buttons follow the policy before anyone types; the form says why when it is read-only."""
        c = self.client
        creating = c is None
        may_edit = self.store.may("add_client") if creating else self.store.may("edit_client", c.id)
        why = self.form.read_only_note.text()
        self.save_button.setEnabled(self.form.editable)
        self.save_button.setToolTip("Save the client's details (Ctrl+S)" if self.form.editable else why)
        self.revert_button.setEnabled(self.form.editable)
        self.referral_button.setEnabled(not creating and not c.archived and self.store.may("add_client"))
        self.archive_button.setEnabled(not creating and may_edit)
        archived = c is not None and c.archived
        self.archive_button.setText("Unarchive\u2026" if archived else "Archive\u2026")
        self.archive_button.setAccessibleName("Unarchive client" if archived else "Archive client")
        if not may_edit and not creating:
            self.archive_button.setToolTip(why)

    # --- actions ----------------------------------------------------------------------------------

    def save(self) -> None:
        if self.save_button.isEnabled():
            self.tabs.setCurrentIndex(0)
            self.form.save()

    def revert(self) -> None:
        if self.record is None:
            self.show_new()
        else:
            self.form.load(self.record.client, self.area)

    def _form_saved(self, changes) -> None:
        self.saved_at, self.saved_id = datetime.now().strftime("%H:%M"), changes.ids[0]
        self.saved_timer.start()
        self._show_state()
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Saved {self.title_text} at {self.saved_at}", 10_000)
        self._saved(changes)

    def _saved(self, changes) -> None:
        self.load_client(changes.ids[0], opening=changes.ids[0] != (self.client.id if self.client else None))
        self.saved.emit(changes)

    def _conflict_resolved(self, current: Client) -> None:
        # The form now holds their version; the rest of the record is read again too.
        self.record = ClientRecord(client=current, referrals=self.record.referrals if self.record else (),
                                   timeline=self.record.timeline if self.record else ())
        self._show_header(current)
        self.worker.submit(read_record, self.store, current.id, False, key="client-record",
                           on_done=lambda got: self._refresh_lists(got[0]))

    def on_store_changed(self, changes) -> None:
        """The main window's broadcast of a committed write: whatever changed (a referral allocated on
        the waiting list, an attempt logged here) shows in the lists; the form's own saves reload it."""
        if self.client is not None and changes.entity != "client":
            self.refresh_lists()

    def refresh_lists(self) -> None:
        """Read the referrals and timeline again, leaving any typing in the form alone."""
        if self.client is not None:
            self.worker.submit(read_record, self.store, self.client.id, False, key="client-record-lists",
                               on_done=lambda got: self._refresh_lists(got[0]))

    def _refresh_lists(self, record: ClientRecord) -> None:
        self.record = ClientRecord(client=self.record.client if self.record else record.client,
                                   referrals=record.referrals, sessions=record.sessions, plans=record.plans,
                                   assessments=record.assessments, signposting=record.signposting,
                                   timeline=record.timeline)
        current = self.panel.referral.id if self.panel.referral else None
        self.referrals.set_rows(record.referrals)
        self.tabs.setTabText(1, f"R&eferrals ({len(record.referrals)})")
        self.timeline.set_rows(record.timeline)
        self._sections_stale = True
        self._show_section()
        row = next((i for i, r in enumerate(record.referrals) if r.id == current), None)
        if row is not None:
            self.referrals_view.selectRow(row)
            self.panel.show_referral(record.referrals[row])

    def new_referral(self) -> None:
        if self.client is None or not self.referral_button.isEnabled():
            return
        dialog = NewReferralDialog(self.store, self.worker, self.client, self)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            if result and dialog.changes is not None:
                self._referral_changed(dialog.changes, select_id=dialog.changes.ids[0])
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def _referral_changed(self, changes, select_id: int | None = None) -> None:
        # Only the lists are read again: typing in the details form is left alone.
        if self.client is None:
            return
        if select_id is not None:
            self.tabs.setCurrentIndex(1)

            def pick(got):
                self._refresh_lists(got[0])
                row = next((i for i, r in enumerate(self.referrals.rows) if r.id == select_id), None)
                if row is not None:
                    self.referrals_view.selectRow(row)
                    self.panel.show_referral(self.referrals.rows[row])
            # Same key as the broadcast's refresh: the later read (this one, which also selects) wins.
            self.worker.submit(read_record, self.store, self.client.id, False, key="client-record-lists",
                               on_done=pick)

    def archive(self) -> None:
        c = self.client
        if c is None or not self.archive_button.isEnabled():
            return
        archiving = not c.archived
        if archiving:
            ok = confirm(self, "Archive client",
                         f"Archive {c.display_name} ({c.client_ref})?\n\nThe record is kept and still counts in "
                         "returns, but the person no longer appears in searches or on the waiting list. "
                         "Records are never deleted.", "&Archive")
        else:
            ok = confirm(self, "Unarchive client", f"Bring {c.display_name} ({c.client_ref}) back into the lists?",
                         "&Unarchive")
        if not ok:
            return
        self.worker.submit(self.store.clients.archive, c.id, expected_version=c.row_version, archived=archiving,
                           on_done=self._saved, on_error=self._archive_failed)

    def _archive_failed(self, exc) -> None:
        from db.errors import ConflictError
        if isinstance(exc, ConflictError):
            self.form.show_conflict(exc)
        else:
            show_error(self, exc)
