"""The first-run wizard: the service, its first account, where the database and backups live, and
the recovery key (shown once, with its printable recovery sheet).

Its own module so the everyday start (an existing database, straight to sign-in) does not
load it: it is needed once per service.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget, QWizard,
                               QWizardPage)

from db import paths
from db.errors import FieldError, HTDeskError, ValidationError

from .admin.recovery import recovery_key_label, save_recovery_sheet
from .widgets.common import button, describe_error
from .widgets.fields import FieldSet, line_edit, new_form

if TYPE_CHECKING:
    from db.store import CaseStore


class _Page(QWizardPage):
    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.fields = FieldSet()
        self.form = new_form()
        self.setLayout(self.form)

    def show_errors(self, errors: list[FieldError]) -> bool:
        self.fields.show_errors(errors)
        return not errors


class FirstRunWizard(QWizard):
    """Service name and code, the first account, where the database and its backups live.
    Finishing calls CaseStore.create_new and signs the new administrator in."""

    def __init__(self, database: Path, parent=None):
        super().__init__(parent)
        self.store: CaseStore | None = None
        self.setWindowTitle("Set up Health Trainer Desk")
        self.setAccessibleName("Set up Health Trainer Desk")
        self.setWizardStyle(QWizard.ClassicStyle)
        self.setOption(QWizard.NoBackButtonOnStartPage, True)

        self.service_page = _Page("Your service", "The name and short code your service uses on letters and returns.")
        f = self.service_page.fields
        self.service_name = f.add(self.service_page.form, "service_name", "Service &name",
                                  line_edit("Service name", 120, "e.g. Tyneside Health Trainers")).widget
        self.service_code = f.add(self.service_page.form, "service_code", "Service &code",
                                  line_edit("Service code", 12, "e.g. TYNEHT")).widget
        # How clients reach the service: printed on every letter and plan (at least one is needed to print).
        self.service_phone = f.add(self.service_page.form, "phone", "P&hone",
                                   line_edit("Service phone", 40, "e.g. 0191 496 0123")).widget
        self.service_email = f.add(self.service_page.form, "email", "&Email",
                                   line_edit("Service email", 120, "e.g. healthtrainers@example.org")).widget
        self.service_address = f.add(self.service_page.form, "address", "A&ddress",
                                     line_edit("Service address", 300, "e.g. Riverside House, Newcastle NE1 3DX")).widget
        # A PC joining a service whose records are on its PostgreSQL server sets nothing up (issue 18).
        self.to_server = button("&Use my service's server instead\u2026", "Use my service's server instead")
        self.to_server.setToolTip("Your service keeps its records on a server (your IT team gives you its address): "
                                  "connect this PC to it instead of setting up a new service here")
        self.to_server.clicked.connect(self._choose_server)
        self.service_page.form.addRow(self.to_server)
        self._server_chosen = False
        self.connected = False          # finished by connecting to a server: sign in next
        self.server_url: str | None = None
        self.addPage(self.service_page)

        self.account_page = _Page("The first account",
                                  "This person will be the administrator and a manager. They can add everyone else.")
        f = self.account_page.fields
        form = self.account_page.form
        self.full_name = f.add(form, "full_name", "&Full name", line_edit("Full name", 100)).widget
        self.username = f.add(form, "username", "&Username", line_edit("Username", 60, "no spaces, e.g. jsmith")).widget
        self.password = f.add(form, "password", "&Password", line_edit("Password", 200)).widget
        self.password.setEchoMode(QLineEdit.Password)
        self.password2 = f.add(form, "password2", "&Repeat password", line_edit("Repeat password", 200)).widget
        self.password2.setEchoMode(QLineEdit.Password)
        self.addPage(self.account_page)

        self.place_page = _Page("Where the data lives",
                                "The database file holds every record. Backups are kept in a folder beside it, "
                                "so copying that one folder keeps both.")
        f = self.place_page.fields
        form = self.place_page.form
        row = QWidget()
        row_box = QHBoxLayout(row)
        row_box.setContentsMargins(0, 0, 0, 0)
        self.database = line_edit("Database file")
        self.database.setText(str(database))
        self.browse = button("&Browse\u2026", "Choose the database file")
        row_box.addWidget(self.database, 1)
        row_box.addWidget(self.browse)
        f.add(form, "db", "&Database file", row, get=self.database.text, set=lambda v: None)
        self.database.setAccessibleName("Database file")
        self.backups = QLabel()
        self.backups.setWordWrap(True)
        self.backups.setAccessibleName("Backups folder")
        self.backups.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow(QLabel("Backups folder"), self.backups)
        self.addPage(self.place_page)
        # The database is made when this page is done: no going back to make it twice.
        self.place_page.setCommitPage(True)
        self.place_page.setButtonText(QWizard.CommitButton, "&Create")

        self.recovery_page = _RecoveryPage(self)
        self.addPage(self.recovery_page)

        self.server_page = _Page("Your service's server",
                                 "The address your IT team gave you (postgresql://HOST/DBNAME). This PC keeps "
                                 "only the address, never a password: you sign in next as yourself.")
        self.server_address = self.server_page.fields.add(
            self.server_page.form, "server", "Server &address",
            line_edit("Server address", 300, "postgresql://HOST/DBNAME")).widget
        self.server_page.setButtonText(QWizard.FinishButton, "&Connect")
        self._server_id = self.addPage(self.server_page)
        self.currentIdChanged.connect(self._page_changed)

        self.database.textChanged.connect(self._show_backups)
        self.browse.clicked.connect(self._browse)
        self._show_backups()
        self.resize(self.fontMetrics().averageCharWidth() * 90, self.fontMetrics().height() * 28)

    def _choose_server(self) -> None:
        self._server_chosen = True
        self.next()

    def _page_changed(self, _id: int) -> None:
        if self.currentPage() is self.service_page:      # back from the server page: setting up here again
            self._server_chosen = False

    def nextId(self) -> int:
        page = self.currentPage()
        if page is self.service_page and self._server_chosen:
            return self._server_id
        if page is self.server_page or page is self.recovery_page:
            return -1
        return super().nextId()

    def _connect(self) -> bool:
        """Open the service's database on the server (refusing an address with a password, a database that
        is not a set-up service's) and save its address on this PC; the person signs in next. An address
        naming no user is a secured server's: nothing can be read there before a person signs in as their
        own login, so the sign-in window connects, and the address is saved once someone has signed in."""
        from db.public import check_server_url, names_no_user, save_server
        from db.store import CaseStore
        address = self.server_address.text().strip()
        page = self.server_page
        if not address.lower().startswith(("postgresql://", "postgres://")):
            return page.show_errors([FieldError("server", "Server address: give it as postgresql://HOST/DBNAME, "
                                                          "as your IT team wrote it.")])
        if names_no_user(address):
            try:
                check_server_url(address)
            except HTDeskError as exc:
                return page.show_errors([FieldError("server", str(exc))])
            self.server_url, self.connected, self.store = address, True, None
            return True
        try:
            store = CaseStore.open(address)
            if not store.has_accounts():
                store.close()
                return page.show_errors([FieldError("server", "That database has no service set up yet: ask your "
                                                              "IT team (htdesk init --server).")])
            save_server(address)
        except HTDeskError as exc:
            return page.show_errors([FieldError("server", str(exc))])
        self.store, self.connected, self.server_url = store, True, address
        return True

    def _show_backups(self) -> None:
        text = self.database.text().strip()
        self.backups.setText(str(paths.backups_dir(Path(text))) if text else "")

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Database file", self.database.text(),
                                                "Health Trainer Desk database (*.sqlite3)")
        if chosen:
            self.database.setText(chosen if chosen.endswith(".sqlite3") else chosen + ".sqlite3")

    def save_recovery_sheet(self, out: str | None = None) -> Path | None:
        """Write the recovery sheet (PDF) where the person chooses, then open it to print. out: tests."""
        if self.store is None or not self.store.recovery_key:
            return None
        return save_recovery_sheet(self, self.store, self.store.recovery_key, self.recovery_page.note,
                                   self.recovery_page.open_after, out)

    def validateCurrentPage(self) -> bool:
        from db.public import check_new_password, validate_service
        page = self.currentPage()
        if page is self.service_page and self._server_chosen:
            return True
        if page is self.server_page:
            return self._connect()
        if page is self.service_page:
            errors = []
            try:
                validate_service(self.service_name.text(), self.service_code.text())
            except ValidationError as exc:
                errors += exc.errors
            if not any(w.text().strip() for w in (self.service_phone, self.service_email, self.service_address)):
                errors.append(FieldError("phone", "Phone, email or address: give at least one, so clients can get "
                                                  "in touch (they are printed on every letter and plan)."))
            return page.show_errors(errors)
        if page is self.account_page:
            errors = []
            username = self.username.text().strip()
            if not username or any(ch.isspace() for ch in username):
                errors.append(FieldError("username", "Username: give a name with no spaces, e.g. jsmith."))
            try:
                check_new_password(self.password.text(), username=username,
                                   service_names=(self.service_name.text(), self.service_code.text()))
            except ValidationError as exc:
                errors += exc.errors
            if not errors and self.password.text() != self.password2.text():
                errors.append(FieldError("password2", "Repeat password: the two passwords are not the same."))
            return page.show_errors(errors)
        if page is self.place_page:
            return self._create()
        return True

    def _create(self) -> bool:
        from db.store import CaseStore
        path = Path(self.database.text().strip()).expanduser()
        page = self.place_page
        if not self.database.text().strip():
            return page.show_errors([FieldError("db", "Database file: choose where to keep it.")])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return page.show_errors([FieldError("db", f"The folder {path.parent} cannot be made: {exc.strerror}. "
                                                      "Choose another place.")])
        try:
            store = CaseStore.create_new(path, service_name=self.service_name.text(),
                                         service_code=self.service_code.text(),
                                         admin_username=self.username.text().strip(),
                                         admin_password=self.password.text(),
                                         admin_full_name=self.full_name.text().strip() or None,
                                         contact={"phone": self.service_phone.text(),
                                                  "email": self.service_email.text(),
                                                  "address": self.service_address.text()})
            store.sign_in(self.username.text().strip(), self.password.text())
        except ValidationError as exc:
            return page.show_errors(exc.errors if all(e.field == "db" for e in exc.errors)
                                    else [FieldError("db", describe_error(exc))])
        except HTDeskError as exc:
            return page.show_errors([FieldError("db", str(exc))])
        self.store = store
        return True


class _RecoveryPage(QWizardPage):
    """The recovery key, shown this once: written down or printed before the wizard can finish."""

    def __init__(self, wizard: FirstRunWizard):
        super().__init__()
        self.wizard_ = wizard
        self.open_after = True       # tests switch the PDF viewer off
        self.setTitle("Your recovery key")
        self.setSubTitle("The records are encrypted. Each account's password opens them; this key opens them "
                         "too when no administrator can sign in. It is shown only now.")
        layout = QVBoxLayout(self)
        self.key = recovery_key_label()
        layout.addWidget(self.key)
        advice = QLabel("Print the recovery sheet (or write the key down) and keep it locked away, apart from "
                        "this PC. Whoever holds it and a copy of the database can read every record. An "
                        "administrator who forgets their password uses it on the sign-in window.")
        advice.setWordWrap(True)
        layout.addWidget(advice)
        self.print_button = button("&Print recovery sheet\u2026", "Print recovery sheet")
        self.print_button.clicked.connect(lambda: wizard.save_recovery_sheet())
        row = QHBoxLayout()
        row.addWidget(self.print_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Recovery sheet")
        layout.addWidget(self.note)
        self.kept = QCheckBox("I have &kept the recovery key (printed or written down, locked away)")
        self.kept.setAccessibleName("I have kept the recovery key")
        self.kept.toggled.connect(self.completeChanged)
        layout.addWidget(self.kept)
        layout.addStretch(1)

    def initializePage(self) -> None:
        store = self.wizard_.store
        self.key.setText(store.recovery_key if store is not None and store.recovery_key else "")

    def isComplete(self) -> bool:
        return self.kept.isChecked()
