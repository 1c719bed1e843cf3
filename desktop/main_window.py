"""The main window: navigation, menus with shortcuts, status bar; one page per screen."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMainWindow, QMessageBox, QStackedWidget, QToolBar,
                               QVBoxLayout, QWidget)

from db.public import app_version, licence_lines

from .clients.page import ClientsPage
from .dashboard.page import DashboardPage
from .diary.my_day import MyDayPage
from .diary.page import DiaryPage
from .referrals.waiting import WaitingListPage
from .returns.page import ReturnsPage
from .admin.audit_page import AuditPage
from .admin.session import install as install_session
from .admin.settings_page import ServiceSettingsPage
from .admin.staff_page import StaffPage
from .transfer.page import TransferPage
from .signin import demo_banner
from .widgets.common import show_error
from .widgets.drafts import keep_drafts
from .worker import Worker

APP_NAME = "Health Trainer Desk"


def settings() -> QSettings:
    return QSettings("HealthTrainerDesk", "htdesk")


@dataclass
class SessionInfo:
    """What the window shows about who is signed in and where the data is (read at start)."""
    service_name: str
    is_demo: bool
    database: Path


# The screens, in navigation order (Ctrl+1, Ctrl+2, ...). Each page class carries its NAV
# (title, icon, who sees it) and on_store_changed(changes, visible): adding a screen is one line here.
# My day is shown to trainers and champions only, so it is first (Ctrl+1) for them alone.
PAGE_TYPES = (MyDayPage, ClientsPage, WaitingListPage, DiaryPage, ReturnsPage, DashboardPage, TransferPage,
              AuditPage, StaffPage, ServiceSettingsPage)


class MainWindow(QMainWindow):
    store_changed = Signal()            # a committed write's db.records.Changes waits in _changes

    def __init__(self, store, info: SessionInfo, worker: Worker | None = None):
        super().__init__()
        self.store, self.info = store, info
        self.worker = worker or Worker(self, default_error=lambda exc: show_error(self, exc))
        if self.worker.default_error is None:
            self.worker.default_error = lambda exc: show_error(self, exc)
        self.setObjectName("mainWindow")
        demo = " \u2014 DEMO DATABASE" if info.is_demo else ""
        self.setWindowTitle(f"{APP_NAME} \u2014 {info.service_name}{demo}")
        self.setAccessibleName(self.windowTitle())

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        if info.is_demo:
            outer.addWidget(demo_banner())
        body = QHBoxLayout()
        body.setContentsMargins(8, 4, 8, 4)
        outer.addLayout(body, 1)

        self.stack = QStackedWidget()
        # Every page the user's roles allow, each describing its own place in the navigation.
        self.pages: list[QWidget] = [page_type(store, self.worker) for page_type in PAGE_TYPES
                                     if page_type.NAV.shown_to(store)]
        self.clients: ClientsPage = next(p for p in self.pages if isinstance(p, ClientsPage))
        self.waiting: WaitingListPage | None = next((p for p in self.pages if isinstance(p, WaitingListPage)), None)
        # Pages that list referrals (the waiting list, the return's explain) open the record at one.
        for page in self.pages:
            if hasattr(page, "open_referral"):
                page.open_referral.connect(self.open_referral)
            if hasattr(page, "open_client_record"):
                page.open_client_record.connect(self.open_client)
            if hasattr(page, "open_client_section"):
                page.open_client_section.connect(self.open_client_section)
        body.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # One change notice: the store reports each committed write once; every page refreshes what it
        # shows. Queued, since a write may commit on the worker thread; the Changes wait in a deque (safe
        # to append from any thread) and the signal carries nothing, so no Python object rides in a
        # queued Qt event (desktop/worker.py says why).
        self._changes: deque = deque()
        self.store_changed.connect(self._broadcast, Qt.QueuedConnection)
        self._stop_listening = store.on_change(self._changed)

        # Screens along the top: the width goes to the lists and forms, not to a sidebar.
        self.nav = QToolBar("Screens")
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Screens")
        self.nav.setMovable(False)
        self.nav.setFloatable(False)
        self.nav.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.TopToolBarArea, self.nav)
        self.nav_group = QActionGroup(self)
        self.nav_group.setExclusive(True)
        self.nav_actions: list[QAction] = []
        for i, page in enumerate(self.pages):
            nav = page.NAV
            self.stack.addWidget(page)
            action = QAction(self.style().standardIcon(nav.icon), nav.plain_title, self)
            action.setCheckable(True)
            action.setToolTip(f"{nav.plain_title} (Ctrl+{i + 1})")
            action.triggered.connect(lambda _=False, i=i: self.show_page(i))
            self.nav_group.addAction(action)
            self.nav.addAction(action)
            self.nav.widgetForAction(action).setAccessibleName(nav.plain_title)
            self.nav_actions.append(action)

        self._build_menus()
        self._build_status_bar()
        self.show_page(0)
        self._restore()
        self.clients.run_search()
        self.draft_offer = keep_drafts(self)   # typing kept through a crash, offered back
        self.session = install_session(self)   # idle lock, sign out, switch user, backups (issue 14)

    # --- menus and shortcuts ----------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut: str | QKeySequence | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)   # shortcuts work wherever the focus is
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_client_action = self._action(file_menu, "&New client\u2026", self.new_client, "Ctrl+N",
                                              "Add a new client, checking first that they are not already known")
        self.new_client_action.setEnabled(self.store.may("add_client"))
        file_menu.addSeparator()
        self._action(file_menu, "E&xit", self.close, QKeySequence.Quit if not QKeySequence(QKeySequence.Quit).isEmpty()
                     else "Ctrl+Q")

        go = bar.addMenu("&Go")
        for i, page in enumerate(self.pages):
            self._action(go, page.NAV.title, lambda _=False, i=i: self.show_page(i), f"Ctrl+{i + 1}")
        go.addSeparator()
        self._action(go, "&Find a client", self.find_client, "Ctrl+F", "Go to the client search box")
        self._action(go, "Re&fresh", self.refresh, "F5", "Read the lists again")

        client = bar.addMenu("C&lient")
        self._action(client, "&Save", self.clients.record.save, QKeySequence.Save)
        self._action(client, "New &referral\u2026", self._new_referral, "Ctrl+R")
        self._action(client, "Log contact &attempt\u2026", self._log_attempt, "Ctrl+L")
        self._action(client, "Arc&hive\u2026", self.clients.record.archive)
        # People's rights (issue 14): shown to those the policy lets do them.
        self.sar_action = self._action(client, "Subject access &bundle\u2026", self.subject_access)
        self.sar_action.setVisible(self.store.may("sar"))
        self.erase_action = self._action(client, "Erase on re&quest\u2026", self.erase_client)
        self.erase_action.setVisible(self.store.may("erase"))
        client.addSeparator()
        # Alt+digit and Ctrl+PgUp/PgDn: no character comes of them, so a text field with the focus never
        # takes the key (Alt+Shift+digit typed "@" or "#" there). Window-wide, like every menu shortcut.
        self._action(client, "&Details", lambda: self._tab(0), "Alt+1")
        self._action(client, "Re&ferrals", lambda: self._tab(1), "Alt+2")
        self._action(client, "&Timeline", lambda: self._tab(2), "Alt+3")
        self._action(client, "&Next section", lambda: self._tab_step(1), "Ctrl+PgDown")
        self._action(client, "&Previous section", lambda: self._tab_step(-1), "Ctrl+PgUp")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Health Trainer Desk", self.show_about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        actor = self.store.actor
        who = actor.full_name or actor.username if actor else "nobody"
        roles = ", ".join(sorted(actor.roles)).lower() if actor else ""
        self.user_label = QLabel(f"Signed in as {who} ({actor.username if actor else ''}; {roles})")
        self.user_label.setAccessibleName("Signed-in user")
        self.db_label = QLabel(f"Database: {self.info.database}")
        self.db_label.setAccessibleName("Database file")
        self.db_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.db_label.setToolTip(str(self.info.database))
        # A long path is clipped rather than forcing the window wider than a small screen.
        self.db_label.setMinimumWidth(1)
        self.user_label.setMinimumWidth(1)
        self.busy_label = QLabel("Working\u2026")
        self.busy_label.setAccessibleName("Working")
        self.busy_label.hide()
        if self.info.is_demo:
            demo = QLabel(" DEMO ")
            demo.setObjectName("demoBadge")
            demo.setAccessibleName("Demo database")
            demo.setStyleSheet("QLabel#demoBadge { background: #6a1b9a; color: white; font-weight: bold; }")
            bar.addPermanentWidget(demo)
        bar.addWidget(self.user_label)
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.db_label)
        self.worker.busy_changed.connect(self.busy_label.setVisible)
        self.clients.searched.connect(
            lambda text, n, seconds: bar.showMessage(f"Search: {n} found in {seconds * 1000:.0f} ms", 4000)
            if text else None)

    # --- navigation -------------------------------------------------------------------------------------

    def show_page(self, row: int) -> None:
        page = self.pages[row]
        self.nav_actions[row].setChecked(True)
        self.stack.setCurrentWidget(page)
        if page is self.waiting and not self.waiting.loaded_once:
            self.waiting.refresh()
        if isinstance(page, (MyDayPage, DiaryPage)):
            page.on_shown()
        if page is self.clients:
            self.clients.focus_search()

    def go_to(self, page: QWidget) -> None:
        for i, p in enumerate(self.pages):
            if p is page:
                self.show_page(i)

    def find_client(self) -> None:
        self.go_to(self.clients)
        self.clients.focus_search()

    def new_client(self) -> None:
        self.go_to(self.clients)
        self.clients.new_client()

    def open_client(self, client_id: int) -> None:
        self.go_to(self.clients)
        self.clients.open_client(client_id)

    def _open_record_client(self):
        client = self.clients.record.client
        if client is None or self.stack.currentWidget() is not self.clients:
            self.statusBar().showMessage("Open a client's record first.", 10_000)
            return None
        return client

    def subject_access(self, path: str | None = None) -> None:
        from .admin.rights import subject_access
        subject_access(self, self.store, self.worker, self._open_record_client(), path)

    def erase_client(self, dialog_hook=None) -> None:
        from .admin.rights import erase_client
        client = self._open_record_client()
        erase_client(self, self.store, self.worker, client, dialog_hook=dialog_hook,
                     on_done=lambda _: self.clients.record.load_client(client.id, keep_tab=True, opening=False))

    def open_referral(self, client_id: int, referral_id: int) -> None:
        """Open the client's record at this referral (from the waiting list)."""
        record = self.clients.record

        def arrived(got) -> None:
            record.loaded.disconnect(arrived)
            rows = record.referrals.rows
            row = next((i for i, r in enumerate(rows) if r.id == referral_id), None)
            if got is None or got.client.id != client_id or row is None:
                return
            record.tabs.setCurrentIndex(1)
            record.referrals_view.selectRow(row)
            record.referrals_view.scrollTo(record.referrals.index(row, 0))
            record.panel.show_referral(rows[row])
            record.referrals_view.setFocus()

        # Once, on the next record shown (another client's, if the user kept editing: then nothing).
        record.loaded.connect(arrived)
        self.open_client(client_id)

    def open_client_section(self, client_id: int, referral_id: int, section: str) -> None:
        """Open the record where the next thing due is done (My day): the plan, the assessments, or the
        referral itself."""
        record = self.clients.record
        tab = {"plan": getattr(record, "plan_tab", None), "assessments": getattr(record, "assessments_tab", None)
               }.get(section)
        if tab is None:
            self.open_referral(client_id, referral_id)
            return

        def arrived(got) -> None:
            record.loaded.disconnect(arrived)
            if got is None or got.client.id != client_id:
                return
            page = next((p for p in record.section_pages if p.widget() is tab), None)
            if page is not None:
                record.tabs.setCurrentWidget(page)
                page.setFocus()

        record.loaded.connect(arrived)
        self.open_client(client_id)

    def _tab(self, index: int) -> None:
        if self.stack.currentWidget() is self.clients and self.clients.stack.currentWidget() is self.clients.record:
            if self.clients.record.tabs.isTabEnabled(index):
                self.clients.record.tabs.setCurrentIndex(index)
                self.clients.record.tabs.currentWidget().setFocus()

    def _tab_step(self, step: int) -> None:
        tabs = self.clients.record.tabs
        index = tabs.currentIndex() + step
        while 0 <= index < tabs.count() and not tabs.isTabEnabled(index):
            index += step
        if 0 <= index < tabs.count():
            self._tab(index)

    def _new_referral(self) -> None:
        if self.stack.currentWidget() is self.clients:
            self.clients.record.new_referral()

    def _log_attempt(self) -> None:
        page = self.stack.currentWidget()
        if page is self.waiting:
            self.waiting.panel.log_attempt()
        elif page is self.clients:
            self.clients.record.panel.log_attempt()

    def refresh(self) -> None:
        page = self.stack.currentWidget()
        if page is self.waiting:
            self.waiting.refresh()
        elif isinstance(page, (MyDayPage, DiaryPage)):
            page.refresh()
        else:
            self.clients.run_search()

    def _changed(self, changes) -> None:
        self._changes.append(changes)
        self.store_changed.emit()

    def _broadcast(self) -> None:
        while self._changes:
            changes = self._changes.popleft()
            for page in self.pages:
                page.on_store_changed(changes, page is self.stack.currentWidget())

    # --- help ---------------------------------------------------------------------------------------------

    def show_about(self) -> None:
        licences = "".join(f"<li>{line}</li>" for line in licence_lines())
        text = (f"<h3>{APP_NAME}</h3><p>Version {app_version()}</p>"
                "<p>Case management for health trainer services in England.</p>"
                f"<p>Reference data (postcodes and the English Indices of Deprivation 2019):</p><ul>{licences}</ul>")
        box = QMessageBox(QMessageBox.Information, f"About {APP_NAME}", text, QMessageBox.Ok, self)
        box.setTextFormat(Qt.RichText)
        box.setAccessibleName(f"About {APP_NAME}")
        self.about_box = box
        box.open()

    def show_shortcuts(self) -> None:
        rows = [(a.text().replace("&", "").replace("\u2026", ""), a.shortcut().toString(QKeySequence.NativeText))
                for a in self.actions() if not a.shortcut().isEmpty()]
        rows += [("Move to the list from the search box", "Down"), ("Open the chosen client", "Enter"),
                 ("Tick a reason in a list", "Space")]
        table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>" for name, keys in rows)
        box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts",
                          f"<p>Underlined letters work with Alt.</p><table>{table}</table>", QMessageBox.Ok, self)
        box.setTextFormat(Qt.RichText)
        box.setAccessibleName("Keyboard shortcuts")
        self.shortcuts_box = box
        box.open()

    # --- window state ----------------------------------------------------------------------------------------

    def _restore(self) -> None:
        s = settings()
        geometry = s.value("main/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            screen = self.screen().availableGeometry() if self.screen() else None
            if screen is not None:
                self.resize(min(1280, screen.width()), min(800, screen.height()))
                if screen.height() < 800:
                    # A short or scaled screen (1366x768 is 911x512 at 150%): the title bar would push
                    # a screen-high window's bottom edge off the screen, so it opens maximised.
                    self.setWindowState(self.windowState() | Qt.WindowMaximized)
        for key, splitter in self._splitters().items():
            state = s.value(f"main/{key}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)

    def _splitters(self) -> dict:
        found = {"clients": self.clients.splitter, "referrals": self.clients.record.referrals_split}
        if self.waiting is not None:
            found["waiting"] = self.waiting.splitter
        return found

    confirm_unsaved = True

    def closeEvent(self, event) -> None:
        if self.confirm_unsaved and self.clients.stack.currentWidget() is self.clients.record and self.clients.record.form.is_dirty():
            from .widgets.common import confirm
            if not confirm(self, "Unsaved changes", "The client's details have changes that are not saved. "
                           "Close anyway?", "&Close without saving", "Keep &editing"):
                event.ignore()
                return
        s = settings()
        s.setValue("main/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            s.setValue(f"main/{key}", splitter.saveState())
        self._stop_listening()
        self.worker.stop()
        super().closeEvent(event)
