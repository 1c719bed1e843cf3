"""Signing in (the first-run wizard is desktop/first_run.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from db.errors import AuthenticationError, HTDeskError

from .widgets.common import heading
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
