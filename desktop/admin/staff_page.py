"""Staff and accounts for administrators (issue 14): add a staff member with an account, change
roles, reset a password (a one-time password shown once, changed at the next sign-in), lock, unlock,
and end an account when someone leaves. The store refuses what would leave no active administrator;
its message is shown as it is."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QStyle, QVBoxLayout, QWidget)

from db.errors import HTDeskError, ValidationError

from ..models import RowTableModel
from ..models.table import Column
from ..widgets.common import button, heading, show_error, table_view
from ..widgets.fields import ErrorLabel, FieldSet, line_edit
from ..widgets.nav import Nav

ROLE_NAMES = (("COORD", "Coordinator"), ("TRAINER", "Health trainer"), ("CHAMPION", "Champion"),
              ("MANAGER", "Manager"), ("ADMIN", "Administrator"))


@dataclass(frozen=True)
class AccountRow:
    username: str
    full_name: str
    roles: tuple[str, ...]
    state: str
    last_login: str


COLUMNS = (
    Column("username", "Username"),
    Column("full_name", "Name"),
    Column("roles", "Roles", lambda r: ", ".join(dict(ROLE_NAMES).get(x, x) for x in r.roles)),
    Column("state", "State"),
    Column("last_login", "Last signed in", lambda r: (r.last_login or "").replace("T", " ")[:16]),
)


class AccountDialog(QDialog):
    """A new staff member with an account, or the roles of an existing one."""

    def __init__(self, parent, account: AccountRow | None = None):
        super().__init__(parent)
        self.account = account
        title = f"Roles of {account.username}" if account else "Add a staff member"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.fields = FieldSet()
        self.full_name = self.fields.add(form, "full_name", "&Full name", line_edit("Full name", 120)).widget
        self.username = self.fields.add(form, "username", "&Username", line_edit("Username", 60, "e.g. jsmith")).widget
        self.password = self.fields.add(form, "password", "&Password", line_edit("Password", 200,
                                                                                  "at least 10 characters")).widget
        self.password.setEchoMode(QLineEdit.Password)
        roles = QWidget()
        row = QHBoxLayout(roles)
        row.setContentsMargins(0, 0, 0, 0)
        self.role_boxes: dict[str, QCheckBox] = {}
        for code, name in ROLE_NAMES:
            box = QCheckBox(name)
            box.setAccessibleName(f"Role {name}")
            row.addWidget(box)
            self.role_boxes[code] = box
        self.fields.add(form, "roles", "Roles", roles, get=self.roles, set=lambda v: None)
        layout.addLayout(form)
        if account:
            self.full_name.setText(account.full_name)
            self.username.setText(account.username)
            for w in (self.full_name, self.username, self.password):
                w.setEnabled(False)
            self.fields.fields["password"].widget.hide()
            for code in account.roles:
                self.role_boxes[code].setChecked(True)
        else:
            self.role_boxes["TRAINER"].setChecked(True)
        self.message = ErrorLabel()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("&Save")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def roles(self) -> list[str]:
        return [code for code, box in self.role_boxes.items() if box.isChecked()]


class StaffPage(QWidget):
    NAV = Nav("Sta&ff", QStyle.SP_DirHomeIcon, lambda store: store.may("admin"))

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Staff and accounts"))
        bar = QHBoxLayout()
        self.add_button = button("&Add staff member\u2026", "Add staff member")
        self.roles_button = button("&Roles\u2026", "Change roles")
        self.reset_button = button("Reset pass&word", "Reset password",
                                   tip="A one-time password to hand over; they choose their own at the next sign-in")
        self.lock_button = button("&Lock", "Lock account")
        self.unlock_button = button("U&nlock", "Unlock account")
        self.end_button = button("&End account\u2026", "End account", tip="When someone leaves: they can no "
                                                                           "longer sign in")
        for b in (self.add_button, self.roles_button, self.reset_button, self.lock_button, self.unlock_button,
                  self.end_button):
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result")
        layout.addWidget(self.message)
        self.model = RowTableModel(COLUMNS, self)
        self.view = table_view("Accounts", self.model)
        layout.addWidget(self.view, 1)
        self.add_button.clicked.connect(lambda: self.add())
        self.roles_button.clicked.connect(lambda: self.change_roles())
        self.reset_button.clicked.connect(lambda: self.reset_password())
        self.lock_button.clicked.connect(lambda: self._act("lock"))
        self.unlock_button.clicked.connect(lambda: self._act("unlock"))
        self.end_button.clicked.connect(lambda: self.end())
        self.view.selectionModel().selectionChanged.connect(self._enable)
        self.refresh()

    def refresh(self) -> None:
        try:
            accounts = self.store.admin.accounts()
            states = {r[0]: r[1:] for r in self.store.admin.account_states()}
        except HTDeskError as exc:
            self.message.setText(str(exc))
            return
        rows = []
        for a in accounts:
            ended, until = states.get(a.username, (None, None))
            state = ("Ended " + ended if ended else "Locked" if a.locked else
                     f"Locked until {until[11:16]}" if until else
                     "Must choose a password" if a.must_change_password else "Active")
            rows.append(AccountRow(a.username, a.full_name or "", tuple(a.roles), state, a.last_login or ""))
        chosen = self.selected()
        self.model.set_rows(rows)
        self.view.resizeColumnsToContents()
        if chosen:
            self.select(chosen.username)
        self._enable()

    def selected(self) -> AccountRow | None:
        index = self.view.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def select(self, username: str) -> None:
        for i in range(self.model.rowCount()):
            r = self.model.row_at(i)
            if r.username == username:
                self.view.selectRow(i)
                return

    def _enable(self, *_args) -> None:
        row = self.selected()
        for b in (self.roles_button, self.reset_button, self.lock_button, self.unlock_button, self.end_button):
            b.setEnabled(row is not None and not row.state.startswith("Ended"))

    def _run(self, fn, *args, done_text, on_done=None) -> None:
        def finished(result):
            self.message.setText(done_text(result) if callable(done_text) else done_text)
            self.refresh()
            if on_done:
                on_done(result)

        def failed(exc):
            if isinstance(exc, (ValidationError, HTDeskError)):
                self.message.setText(str(exc).replace("Nothing was changed. Please correct:\n    - ", ""))
            else:
                show_error(self, exc)
        self.worker.submit(fn, *args, on_done=finished, on_error=failed)

    def add(self, values: dict | None = None) -> None:
        dialog = AccountDialog(self)
        self.dialog = dialog
        if values is not None:
            dialog.full_name.setText(values["full_name"])
            dialog.username.setText(values["username"])
            dialog.password.setText(values["password"])
            for code, box in dialog.role_boxes.items():
                box.setChecked(code in values["roles"])
        elif dialog.exec() != QDialog.Accepted:
            return
        roles = dialog.roles()
        primary = next((r for r in roles if r != "ADMIN"), roles[0] if roles else "")
        name, username, password = dialog.full_name.text(), dialog.username.text().strip(), dialog.password.text()
        self._run(lambda: self.store.service.add_staff(name, primary, username=username, password=password,
                                                       extra_roles=tuple(r for r in roles if r != primary)),
                  done_text=f"{name} added with the account {username}.",
                  on_done=lambda _: self.select(username))

    def change_roles(self, roles: list[str] | None = None) -> None:
        row = self.selected()
        if row is None:
            return
        if roles is None:
            dialog = AccountDialog(self, row)
            self.dialog = dialog
            if dialog.exec() != QDialog.Accepted:
                return
            roles = dialog.roles()
        self._run(self.store.admin.set_roles, row.username, roles, done_text=f"Roles of {row.username} changed.")

    def reset_password(self) -> None:
        row = self.selected()
        if row is None:
            return
        self._run(self.store.admin.reset_password, row.username,
                  done_text=lambda one_time: (f"One-time password for {row.username}: {one_time}   Give it to them "
                                              "in person; they choose their own when they next sign in."))

    def _act(self, what: str) -> None:
        row = self.selected()
        if row is None:
            return
        self._run(self.store.admin.set_locked, row.username, what == "lock",
                  done_text=f"{row.username} {what}ed.")

    def end(self, confirmed: bool = False) -> None:
        row = self.selected()
        if row is None:
            return
        if not confirmed:
            box = QMessageBox(QMessageBox.Question, "End account",
                              f"End {row.username}'s account? They will no longer be able to sign in, and "
                              f"{row.full_name or row.username} is marked as having left today. Their records "
                              "stay.", QMessageBox.NoButton, self)
            yes = box.addButton("&End account", QMessageBox.AcceptRole)
            box.addButton("Cancel", QMessageBox.RejectRole)
            box.exec()
            if box.clickedButton() is not yes:
                return
        self._run(self.store.admin.end_account, row.username, done_text=f"{row.username}'s account ended.")

    def on_store_changed(self, changes, visible: bool) -> None:
        if changes.entity in ("account", "staff"):
            self.refresh()
