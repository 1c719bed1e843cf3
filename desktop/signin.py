"""Signing in (the first-run wizard is desktop/first_run.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from db.errors import AuthenticationError, FieldError, HTDeskError

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
        self.service_label = QLabel(service_name)
        self.service_label.setAccessibleName("Service")
        self.service_label.setVisible(bool(service_name))
        layout.addWidget(self.service_label)
        server = getattr(store, "url", None)      # a service's database on a PostgreSQL server
        where = QLabel(f"Database: {server or store.path}")
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
        # Shown after signing in with a one-time password (an administrator's reset): choose your own.
        self.change_box = QWidget()
        change_form = new_form()
        self.change_box.setLayout(change_form)
        self.new_password = self.fields.add(change_form, "new_password", "&New password",
                                            line_edit("New password", 200, "at least 10 characters")).widget
        self.new_password.setEchoMode(QLineEdit.Password)
        self.new_password2 = self.fields.add(change_form, "new_password2", "&Repeat new password",
                                             line_edit("Repeat new password", 200)).widget
        self.new_password2.setEchoMode(QLineEdit.Password)
        self.change_box.hide()
        layout.addWidget(self.change_box)
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
        self.restore_button = buttons.addButton("Res&tore a backup\u2026", QDialogButtonBox.ActionRole)
        self.restore_button.setAccessibleName("Restore a backup")
        self.restore_button.setToolTip("An administrator types their username and password above, then chooses "
                                       "the backup; the service and date inside it are shown before anything "
                                       "is replaced")
        self.restore_button.clicked.connect(lambda: self.restore_backup())
        self.recovery_button = buttons.addButton("Use the recovery &key\u2026", QDialogButtonBox.ActionRole)
        self.recovery_button.setAccessibleName("Use the recovery key")
        self.recovery_button.setToolTip("An administrator who has lost their password types their username above, "
                                        "then the recovery key from the recovery sheet, and chooses a new password")
        self.recovery_button.clicked.connect(lambda: self.use_recovery_key())
        self.recovery_key: str | None = None
        if server:
            # A server's backups are restored on the server (pg_restore), and it has no key file to recover.
            self.restore_button.hide()
            self.recovery_button.hide()
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

    def _real_store(self):
        return getattr(self.store, "store", None) or self.store

    def try_sign_in(self) -> None:
        # Quick (one password hash) and before the main window exists, so on this thread.
        self.message.show_message(None)
        if self.change_box.isVisible():
            self._choose_password()
            return
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
        if self._real_store().must_change_password:
            self._choose_now("You signed in with a one-time password: choose your own now (at least 10 "
                             "characters; three random words make a good one).")
            self.restore_button.hide()
            return
        self.accept()

    def _choose_now(self, message: str) -> None:
        for key in ("username", "password"):
            self.fields.fields[key].widget.setEnabled(False)
        self.change_box.show()
        self.sign_in_button.setText("&Save password")
        self.recovery_button.hide()
        self.message.show_message(message)
        self.new_password.setFocus()

    def use_recovery_key(self, recovery_key: str | None = None) -> bool:
        """An administrator who has lost their password signs in with the recovery key, then must choose a
        new password here (or restore a backup first). recovery_key: tests, instead of asking."""
        from PySide6.QtWidgets import QInputDialog
        self.message.show_message(None)
        username = self.username.text().strip()
        if not username:
            self.fields.show_errors([FieldError("username", "Username: type the administrator's username first.")])
            return False
        if recovery_key is None:
            recovery_key, ok = QInputDialog.getText(
                self, "Use the recovery key", "The recovery key from the recovery sheet (eight groups of four "
                "letters and digits):", QLineEdit.Normal)
            if not ok or not recovery_key.strip():
                return False
        if hasattr(self.store, "load"):
            self.store.load()
        store = self._real_store()
        try:
            self.actor = store.sign_in_with_recovery_key(username, recovery_key)
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            return False
        self.recovery_key = recovery_key
        self._choose_now(f"Signed in as {username} with the recovery key: choose a new password now (at least 10 "
                         "characters), or restore a backup first.")
        return True

    def _choose_password(self) -> None:
        from db.errors import ValidationError
        if self.new_password.text() != self.new_password2.text():
            self.fields.show_errors([FieldError("new_password2", "Repeat new password: the two are not the same.")])
            return
        try:
            self._real_store().admin.set_password(self.actor.username, self.new_password.text())
        except ValidationError as exc:
            self.fields.show_errors([FieldError("new_password", e.message) for e in exc.errors])
            return
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            return
        self.accept()

    # --- restore, offered before anyone is signed in ------------------------------------------------

    def restore_backup(self, source: str | None = None, confirm=None, confirm_key=None) -> bool:
        """Restore a backup as the administrator whose username and password are typed above (or who used
        the recovery key). confirm (tests) is called as confirm(info, other_service) -> (go_ahead, typed_code)
        instead of asking; confirm_key(message) -> the password or recovery key that opens a backup made with
        another key."""
        from PySide6.QtWidgets import QFileDialog
        self.message.show_message(None)
        if hasattr(self.store, "load"):
            self.store.load()
        store = self._real_store()
        if store is None:
            self.message.show_message("The database could not be opened: sign in to see why.")
            return False
        try:
            if self.recovery_key is None or store.actor is None:
                store.sign_in(self.username.text().strip(), self.password.text())
        except HTDeskError as exc:
            self.message.show_message(f"To restore, an administrator signs in first. {exc}")
            return False
        if not store.may("restore"):
            store.sign_out()
            self.message.show_message("Only an administrator may restore a backup: type an administrator's "
                                      "username and password above.")
            return False
        source = source or QFileDialog.getOpenFileName(self, "Restore from a backup",
                                                       str(store.path.parent / "backups"), "Backups (*.sqlite3)")[0]
        if not source:
            store.sign_out()
            return False
        # A backup made with another key opens with this administrator's password of its time, or with the
        # recovery key (the one used to sign in, or that database's, asked for).
        unlock = {"password": self.password.text() or None, "recovery_key": self.recovery_key}
        try:
            try:
                info = store.admin.backup_info(source, **unlock)
            except AuthenticationError as exc:
                typed = (confirm_key or self._ask_backup_key)(str(exc))
                if not typed:
                    raise
                unlock = {"password": typed, "recovery_key": typed}
                info = store.admin.backup_info(source, **unlock)
            here = {s.code for s in store.service.all()}
            other = bool(here) and not here & {code for code, _ in info.services}
            go, code = (confirm or self._confirm_restore)(info, other)
            if go:
                kept = store.admin.restore(source, confirm_code=code, **unlock)
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            store.sign_out()
            return False
        store.sign_out()
        if not go:
            return False
        if self.recovery_key is not None:          # signed out: the recovery key is asked again if needed
            self.recovery_key = None
            for key in ("username", "password"):
                self.fields.fields[key].widget.setEnabled(True)
            self.change_box.hide()
            self.sign_in_button.setText("&Sign in")
            self.recovery_button.show()
        self.service_label.setText(", ".join(name for _, name in info.services))   # whose records are here now
        self.service_label.setVisible(bool(info.services))
        self.message.show_done(f"Restored {info.service_text}, saved {info.saved_at.replace('T', ' ')}."
                               + (f" The database as it was is kept at {kept}." if kept else "")
                               + " Sign in to carry on.")
        self.password.clear()
        return True

    def _ask_backup_key(self, message: str) -> str | None:
        from PySide6.QtWidgets import QInputDialog
        import textwrap
        text, ok = QInputDialog.getText(self, "Restore from a backup",
                                        textwrap.fill(message, 72) + "\n\nPassword or recovery key:", QLineEdit.Password)
        return text.strip() if ok and text.strip() else None

    def _confirm_restore(self, info, other: bool):
        from PySide6.QtWidgets import QInputDialog, QMessageBox
        text = (f"The backup holds {info.service_text}, {info.clients} clients, saved "
                f"{info.saved_at.replace('T', ' ')}. Restoring replaces every record here (the database as it is "
                "now is kept as a backup first).")
        if other:
            code, ok = QInputDialog.getText(self, "Restore another service's backup",
                                            text + "\n\nThis is a backup of another service. To restore it anyway, "
                                                   "type its service code:")
            return ok, code
        box = QMessageBox(QMessageBox.Question, "Restore from a backup", text, QMessageBox.NoButton, self)
        yes = box.addButton("&Restore", QMessageBox.AcceptRole)
        box.addButton("Cancel", QMessageBox.RejectRole)
        box.exec()
        return box.clickedButton() is yes, None
