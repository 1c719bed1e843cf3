"""Signing in, and the first-run wizard that creates a database with its first account."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget, QWizard, QWizardPage)

from db import paths
from db.errors import AuthenticationError, FieldError, HTDeskError, ValidationError

from .widgets.common import button, describe_error, heading
from .widgets.fields import ErrorLabel, FieldSet, line_edit, new_form

# The store, accounts and services load after the sign-in window is on screen (desktop/app.py).
if TYPE_CHECKING:
    from db.store import CaseStore


def demo_banner() -> QLabel:
    label = QLabel("DEMO DATABASE \u2014 made-up people only. Do not enter real client details.")
    label.setObjectName("demoBanner")
    label.setAlignment(Qt.AlignCenter)
    label.setWordWrap(True)
    label.setAccessibleName("Demo database: made-up people only")
    label.setStyleSheet("QLabel#demoBanner { background: #6a1b9a; color: white; font-weight: bold; padding: 6px; }")
    return label


class SignInDialog(QDialog):
    def __init__(self, store: CaseStore, service_name: str = "", is_demo: bool = False,
                 username: str | None = None, parent=None):
        super().__init__(parent)
        self.store = store
        self.actor = None
        title = "Sign in \u2014 Health Trainer Desk" + (" \u2014 DEMO" if is_demo else "")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        if is_demo:
            layout.addWidget(demo_banner())
        layout.addWidget(heading("Health Trainer Desk"))
        if service_name:
            service = QLabel(service_name)
            service.setAccessibleName("Service")
            layout.addWidget(service)
        where = QLabel(f"Database: {store.path}")
        where.setWordWrap(True)
        where.setAccessibleName("Database file")
        where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(where)
        form = new_form()
        self.fields = FieldSet()
        self.username = self.fields.add(form, "username", "&Username", line_edit("Username", 60)).widget
        self.password = self.fields.add(form, "password", "&Password", line_edit("Password", 200)).widget
        self.password.setEchoMode(QLineEdit.Password)
        layout.addLayout(form)
        if is_demo:
            hint = QLabel("Demo accounts: admin, manager, coordinator, trainer1, champion1; password: demo")
            hint.setWordWrap(True)
            hint.setAccessibleName("Demo accounts")
            layout.addWidget(hint)
        self.message = ErrorLabel()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.sign_in_button = buttons.addButton("&Sign in", QDialogButtonBox.AcceptRole)
        self.sign_in_button.setAccessibleName("Sign in")
        cancel = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        cancel.setAccessibleName("Cancel")
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        self.sign_in_button.setDefault(True)
        layout.addWidget(buttons)
        if username:
            self.username.setText(username)
            self.password.setFocus()
        else:
            self.username.setFocus()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 72)

    def try_sign_in(self) -> None:
        # Quick (one password hash) and before the main window exists, so on this thread.
        self.message.show_message(None)
        try:
            self.actor = self.store.sign_in(self.username.text().strip(), self.password.text())
        except AuthenticationError as exc:
            self.message.show_message(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            return
        self.accept()


# --- first run ---------------------------------------------------------------------------------------------

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

        self.database.textChanged.connect(self._show_backups)
        self.browse.clicked.connect(self._browse)
        self._show_backups()
        self.resize(self.fontMetrics().averageCharWidth() * 90, self.fontMetrics().height() * 28)

    def _show_backups(self) -> None:
        text = self.database.text().strip()
        self.backups.setText(str(paths.backups_dir(Path(text))) if text else "")

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Database file", self.database.text(),
                                                "Health Trainer Desk database (*.sqlite3)")
        if chosen:
            self.database.setText(chosen if chosen.endswith(".sqlite3") else chosen + ".sqlite3")

    def validateCurrentPage(self) -> bool:
        from db.public import check_new_password, validate_service
        page = self.currentPage()
        if page is self.service_page:
            try:
                validate_service(self.service_name.text(), self.service_code.text())
            except ValidationError as exc:
                return page.show_errors(exc.errors)
            return page.show_errors([])
        if page is self.account_page:
            errors = []
            username = self.username.text().strip()
            if not username or any(ch.isspace() for ch in username):
                errors.append(FieldError("username", "Username: give a name with no spaces, e.g. jsmith."))
            try:
                check_new_password(self.password.text())
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
                                         admin_full_name=self.full_name.text().strip() or None)
            store.sign_in(self.username.text().strip(), self.password.text())
        except ValidationError as exc:
            return page.show_errors(exc.errors if all(e.field == "db" for e in exc.errors)
                                    else [FieldError("db", describe_error(exc))])
        except HTDeskError as exc:
            return page.show_errors([FieldError("db", str(exc))])
        self.store = store
        return True
