"""Who is at the keyboard, and the database's safety copies (issue 14).

- Idle lock: after the service's idle minutes (a setting, default 10) with no key or mouse, the
  window locks: an opaque screen covers every record, the menus and the screens. The same user's
  password unlocks it with nothing lost (an open form keeps its typing). Another user may sign in
  there: the first user's unsaved client form is saved or discarded first (they are asked), then
  the window is built again for the newcomer's roles.
- Sign out and Switch user (File menu) and Lock now (Ctrl+Shift+L).
- Backups: Back up now, Copy backups to a folder, Restore from a backup (administrators); the last
  backup's age in the status bar, and a reminder when it is older than 7 days.

Everything here is installed on a main window by `install(window)`.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import (QApplication, QDialog, QFileDialog, QFormLayout, QInputDialog, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from db.errors import AuthenticationError, HTDeskError

from ..widgets.common import heading, show_error
from ..widgets.fields import ErrorLabel

BACKUP_REMINDER_DAYS = 7
_INPUT = {QEvent.KeyPress, QEvent.MouseButtonPress, QEvent.MouseMove, QEvent.Wheel, QEvent.TouchBegin}


class _IdleWatch(QObject):
    """Notes the time of the last key or mouse input anywhere in the application."""

    def __init__(self, parent):
        super().__init__(parent)
        self.last_input = time.monotonic()

    def eventFilter(self, obj, event) -> bool:
        if event.type() in _INPUT:
            self.last_input = time.monotonic()
        return False


class LockScreen(QWidget):
    """Covers the whole window while it is locked or nobody is signed in."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("lockScreen")
        self.setAccessibleName("Locked")
        self.setAutoFillBackground(True)
        self.setStyleSheet("QWidget#lockScreen { background: #eef1f5; }")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setObjectName("lockBox")
        box.setStyleSheet("QWidget#lockBox { background: white; border: 1px solid #c5ccd6; }")
        box.setFixedWidth(self.fontMetrics().averageCharWidth() * 72)
        col = QVBoxLayout(box)
        self.title = heading("Locked")
        col.addWidget(self.title)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.MinimumExpanding)
        self.explain.setMinimumHeight(self.fontMetrics().height() * 4)
        self.explain.setAccessibleName("Why the window is locked")
        col.addWidget(self.explain)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setAccessibleName("Username")
        self.password = QLineEdit()
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.Password)
        user_label, pw_label = QLabel("&Username"), QLabel("&Password")
        user_label.setBuddy(self.username)
        pw_label.setBuddy(self.password)
        form.addRow(user_label, self.username)
        form.addRow(pw_label, self.password)
        col.addLayout(form)
        # Shown after unlocking with a one-time password (an administrator's reset): choose your own.
        self.change_box = QWidget()
        change = QFormLayout(self.change_box)
        change.setContentsMargins(0, 0, 0, 0)
        self.new_password = QLineEdit()
        self.new_password.setAccessibleName("New password")
        self.new_password.setPlaceholderText("at least 10 characters")
        self.new_password2 = QLineEdit()
        self.new_password2.setAccessibleName("Repeat new password")
        for edit in (self.new_password, self.new_password2):
            edit.setEchoMode(QLineEdit.Password)
        new_label, again_label = QLabel("&New password"), QLabel("&Repeat new password")
        new_label.setBuddy(self.new_password)
        again_label.setBuddy(self.new_password2)
        change.addRow(new_label, self.new_password)
        change.addRow(again_label, self.new_password2)
        self.change_box.hide()
        col.addWidget(self.change_box)
        self.message = ErrorLabel()
        col.addWidget(self.message)
        self.unlock_button = QPushButton("&Sign in")
        self.unlock_button.setAccessibleName("Sign in to unlock")
        self.unlock_button.setDefault(True)
        col.addWidget(self.unlock_button, 0, Qt.AlignLeft)
        row = QVBoxLayout()
        row.addWidget(box, 0, Qt.AlignHCenter)
        outer.addLayout(row)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(self._try)
        self.password.returnPressed.connect(self._try)
        self.username.returnPressed.connect(self.password.setFocus)
        self.new_password.returnPressed.connect(self.new_password2.setFocus)
        self.new_password2.returnPressed.connect(self._try)
        self.then = None      # what follows once a one-time password is replaced (unlock or a new window)
        self.then_store = None    # whose password that is, when not the window's store's (a newcomer's own)
        self.hide()

    def ask_new_password(self, then, store=None) -> None:
        """store: the newcomer's own (a secured server's login), else the window's."""
        self.then = then
        self.then_store = store
        for edit in (self.username, self.password):
            edit.setEnabled(False)
        self.change_box.show()
        self.unlock_button.setText("&Save password")
        self.message.show_message("You signed in with a one-time password: choose your own now (at least 10 "
                                  "characters; three random words make a good one).")
        self.new_password.setFocus()

    def _end_password_step(self) -> None:
        self.then = self.then_store = None
        for edit in (self.username, self.password):
            edit.setEnabled(True)
        for edit in (self.new_password, self.new_password2):
            edit.clear()
        self.change_box.hide()
        self.unlock_button.setText("&Sign in")

    def show_for(self, username: str | None, why: str) -> None:
        self._end_password_step()
        self.title.setText("Locked" if username else "Signed out")
        self.explain.setText(why)
        self.username.setText(username or "")
        self.password.clear()
        self.message.show_message(None)
        self.setGeometry(self.window_.rect())
        self.show()
        self.raise_()
        (self.password if username else self.username).setFocus()

    def _try(self) -> None:
        if self.then is not None:
            self._choose_password()
            return
        self.window_.session.unlock(self.username.text().strip(), self.password.text())

    def _choose_password(self) -> None:
        store = self.then_store or self.window_.store
        if self.new_password.text() != self.new_password2.text():
            self.message.show_message("Repeat new password: the two are not the same.")
            self.new_password2.selectAll()
            self.new_password2.setFocus()
            return
        try:
            store.admin.set_password(store.actor.username, self.new_password.text())
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            self.new_password.setFocus()
            return
        then = self.then
        self._end_password_step()
        then()


class Session(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.store = window.store
        self.watch = _IdleWatch(self)
        app = QApplication.instance()
        app.installEventFilter(self.watch)
        self.lock_screen = LockScreen(window)
        window.installEventFilter(self)
        self.locked = False
        self.timer = QTimer(self)
        self.timer.setInterval(15_000)
        self.timer.timeout.connect(self.check_idle)
        self.timer.start()
        self.replacement = None          # the window built for another user, when one signs in
        self.ask_settle = None           # tests: who -> "save" | "discard" | None instead of asking
        self.reminded = False
        self.hidden_dialogs: list[QDialog] = []   # forms hidden by the lock, shown again at unlock

    # --- idle lock ------------------------------------------------------------------------------

    def idle_minutes(self) -> int:
        try:
            return int(self.store.service.setting("idle_lock_minutes", 10))
        except Exception:   # noqa: BLE001 - a restore reopening the database on the worker: keep the default
            return 10

    def check_idle(self) -> None:
        if not self.window.isVisible():
            return
        if not self.locked and time.monotonic() - self.watch.last_input >= self.idle_minutes() * 60:
            self.lock(f"The window locked itself after {self.idle_minutes()} minutes with no one using it, so "
                      "nobody passing can read the records. Sign in to carry on: anything you were typing is "
                      "kept. Someone else may sign in here too.")

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Resize and self.lock_screen.isVisible():
            self.lock_screen.setGeometry(self.window.rect())
        elif obj is self.window and event.type() == QEvent.Close:
            # Only once the window has really closed (a close refused for unsaved changes keeps the lock).
            QTimer.singleShot(0, self, self._closed)
        return False

    def _closed(self) -> None:
        if not self.window.isVisible():
            self.stop()

    def stop(self) -> None:
        """The window closes: no more idle checks (its store may close next)."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.watch)

    def _set_window_enabled(self, enabled: bool) -> None:
        w = self.window
        for part in (w.centralWidget(), w.menuBar(), w.nav, w.statusBar()):
            part.setVisible(enabled)
        for action in w.actions():
            action.setEnabled(enabled and action.property("htdesk_enabled") is not False)

    def lock(self, why: str | None = None) -> None:
        actor = self.store.actor
        self.locked = True
        for action in self.window.actions():
            action.setProperty("htdesk_enabled", action.isEnabled())
        self._set_window_enabled(False)
        self._hide_dialogs()
        self.lock_screen.show_for(actor.username if actor else None,
                                  why or "Locked. Sign in to carry on, or someone else may sign in here.")

    def _hide_dialogs(self) -> None:
        """Dialogs are windows of their own, so the lock screen cannot cover them: hide them. A form
        opened with open() (window-modal) keeps its typing and comes back at unlock; a question asked
        with exec() (application-modal) ends unanswered when hidden, which changes nothing."""
        for widget in QApplication.topLevelWidgets():
            if widget is self.window or not isinstance(widget, QDialog) or not widget.isVisible():
                continue
            if not self._belongs_here(widget):
                continue
            if widget.windowModality() != Qt.ApplicationModal:
                self.hidden_dialogs.append(widget)
            widget.hide()

    def _belongs_here(self, widget) -> bool:
        parent = widget.parentWidget()
        while parent is not None:
            if parent is self.window:
                return True
            parent = parent.parentWidget()
        return False

    def _show_dialogs(self) -> None:
        for dialog in self.hidden_dialogs:
            try:
                dialog.show()
                dialog.raise_()
            except RuntimeError:      # closed meanwhile (its C++ object is gone)
                pass
        self.hidden_dialogs = []

    def unlock(self, username: str, password: str) -> None:
        screen = self.lock_screen
        actor = self.store.actor
        if not username:
            screen.message.show_message("Username: type your username.")
            return
        if actor is not None and username.casefold() == actor.username.casefold():
            try:
                self.store.sign_in(username, password)
            except (AuthenticationError, HTDeskError) as exc:
                screen.message.show_message(str(exc))
                screen.password.selectAll()
                return
            self._then_unlock(self._unlocked)
            return
        # Someone else: check their password without touching the first user's session, then save or
        # discard the first user's open form, then build the window for the newcomer. A server's database
        # is opened by its address (its store has no path). On a secured server (no user in the address)
        # the newcomer works through their own server login: their own store, connected as them.
        from db.public import names_no_user, open_as_person
        from db.store import CaseStore
        own_login = bool(self.store.url) and names_no_user(self.store.url)
        newcomer = None
        try:
            if own_login:
                newcomer = open_as_person(CaseStore, self.store.url, username, password)
            else:
                with CaseStore.open(self.store.url or self.store.path) as check:
                    check.sign_in(username, password)
        except (AuthenticationError, HTDeskError) as exc:
            screen.message.show_message(str(exc))
            screen.password.selectAll()
            return
        if actor is not None and not self._settle_open_form(actor):
            if newcomer is not None:
                newcomer.close()
            return
        if newcomer is not None:
            self._then_unlock(lambda: self._rebuild(newcomer), newcomer)
            return
        try:
            self.store.sign_in(username, password)
        except (AuthenticationError, HTDeskError) as exc:
            screen.message.show_message(str(exc))
            return
        self._then_unlock(self._rebuild)

    def _then_unlock(self, then, store=None) -> None:
        """An account holding a one-time password chooses its own before the window opens to it."""
        if (store or self.store).must_change_password:
            self.lock_screen.ask_new_password(then, store)
        else:
            then()

    def _unlocked(self) -> None:
        self.locked = False
        self.lock_screen.hide()
        self._set_window_enabled(True)
        self._show_dialogs()
        self.watch.last_input = time.monotonic()

    def _settle_open_form(self, actor) -> bool:
        """Save (as the first user) or discard their unsaved client form; False if they chose neither."""
        w = self.window
        form = w.clients.record.form
        if not form.is_dirty():
            return True
        who = actor.full_name or actor.username
        choice = (self.ask_settle or self._ask_settle)(who)
        if choice == "discard":
            w.clients.record.revert()
            return True
        if choice != "save":
            return False
        if not form.save(check_duplicates=False):
            self.lock_screen.message.show_message(f"{who}'s changes could not be saved: sign in as {who} to "
                                                  "correct them, or choose Discard.")
            return False
        loop = QEventLoop()
        waited = QTimer(self)
        waited.setInterval(50)
        started = time.monotonic()
        waited.timeout.connect(lambda: loop.quit() if not form._saving or time.monotonic() - started > 15 else None)
        waited.start()
        loop.exec()
        waited.stop()
        return not form.is_dirty()

    def _ask_settle(self, who: str) -> str | None:
        w = self.window
        box = QMessageBox(QMessageBox.Question, "Unsaved changes",
                          f"{who} left changes to a client's details that are not saved. Save them (as {who}) or "
                          "discard them before the window changes hands?", QMessageBox.NoButton, w)
        save = box.addButton(f"&Save {who}'s changes", QMessageBox.AcceptRole)
        discard = box.addButton("&Discard them", QMessageBox.DestructiveRole)
        box.addButton("Cancel", QMessageBox.RejectRole)
        self.settle_box = box
        box.exec()
        clicked = box.clickedButton()
        return "save" if clicked is save else "discard" if clicked is discard else None

    def _rebuild(self, store=None) -> None:
        """The window for the newcomer: on the same store, or on their own (a secured server's login),
        the first person's store then closed with its window."""
        from ..main_window import MainWindow
        old = self.window
        new = MainWindow(store or self.store, old.info)
        new.setGeometry(old.geometry())
        new.show()
        self.replacement = new
        old.confirm_unsaved = False
        self.stop()
        old.close()
        if store is not None and store is not self.store:
            self.store.close()
        keep_alive.append(new)

    # --- sign out, switch user --------------------------------------------------------------------

    def sign_out(self) -> None:
        actor = self.store.actor
        if actor is not None and not self._settle_open_form(actor):
            return
        self.window.clients.record.revert()
        self.store.sign_out()
        self.lock("Signed out. The next person signs in here.")

    def switch_user(self) -> None:
        self.lock("Someone else may sign in here: their window opens once the unsaved work of the person "
                  "signed in now is saved or discarded. Or sign in as yourself to carry on.")
        self.lock_screen.username.clear()
        self.lock_screen.username.setFocus()

    # --- backups ----------------------------------------------------------------------------------

    def backup_age_text(self) -> tuple[str, bool]:
        if self.store.url:      # a server database: its backups are the server's (pg_dump), not this PC's
            return "Backups: the server's", False
        try:
            found = self.store.admin.last_backup()
        except Exception:   # noqa: BLE001 - signed out, or the database reopening during a restore
            return "", False
        if found is None:
            return "No backup yet", True
        age = datetime.now() - found[1]
        days = age.days
        when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
        return f"Last backup {when}", days > BACKUP_REMINDER_DAYS

    def show_backup_age(self) -> None:
        text, old = self.backup_age_text()
        label = self.window.backup_label
        # The reminder lives in the label itself: a status-bar message would be drawn over the
        # signed-in user's name.
        if old and self.store.may("backup"):
            text += " \u2014 back up now (File \u2192 Back up now)"
            self.reminded = True
        label.setText(text)
        label.setToolTip("Back up at least weekly, and copy the backups to a USB stick or a shared folder "
                         "(File \u2192 Copy backups to).")
        label.setStyleSheet("color: #b00020; font-weight: bold;" if old else "")
        label.setAccessibleName(text or "Last backup")

    def back_up_now(self) -> None:
        self.window.backup_label.setText("Backing up\u2026")
        self.window.worker.submit(self.store.admin.backup, on_done=self._backed_up)

    def _backed_up(self, target) -> None:
        self.last_backup_path = target
        self.show_backup_age()
        self.window.backup_label.setToolTip(f"Backup written and checked: {target}")

    def copy_backups(self, folder: str | None = None) -> None:
        folder = folder or QFileDialog.getExistingDirectory(self.window, "Copy backups to (a USB stick or a shared "
                                                                         "folder)")
        if not folder:
            return
        self.window.worker.submit(self.store.admin.copy_backups, folder, on_done=lambda copied: (
            self.window.backup_label.setText(self.backup_age_text()[0] + f"; {len(copied)} copied to {folder}")))

    def restore(self, source: str | None = None, confirm_code: str | None = None,
                backup_key: str | None = None) -> None:
        """Restore a backup (checked, its service and date shown first). A backup made with another key
        opens with the password this administrator had then, or its database's recovery key: asked for,
        or backup_key (tests)."""
        source = source or QFileDialog.getOpenFileName(self.window, "Restore from a backup",
                                                       str(Path(self.store.path).parent / "backups"),
                                                       "Backups (*.sqlite3)")[0]
        if not source:
            return
        unlock = {"password": backup_key, "recovery_key": backup_key}
        try:
            try:
                info = self.store.admin.backup_info(source, **unlock)
            except AuthenticationError as exc:
                if backup_key is not None:
                    raise
                import textwrap
                typed, ok = QInputDialog.getText(self.window, "Restore from a backup",
                                                 textwrap.fill(str(exc), 72) + "\n\nPassword or recovery key:",
                                                 QLineEdit.Password)
                if not ok or not typed.strip():
                    return
                unlock = {"password": typed.strip(), "recovery_key": typed.strip()}
                info = self.store.admin.backup_info(source, **unlock)
            here = self.store.service.all()
        except HTDeskError as exc:
            show_error(self.window, exc)
            return
        theirs = {code for code, _ in info.services}
        other = bool(here) and not theirs & {s.code for s in here}
        text = (f"<p>{Path(source).name} holds <b>{info.service_text}</b>, {info.clients} clients, saved "
                f"<b>{info.saved_at.replace('T', ' ')}</b>.</p><p>Restoring replaces every record here with the "
                "backup's (the database as it is now is kept as a backup first). People erased since the backup "
                "was made are erased again. Everyone is signed out.</p>")
        if other:
            text += (f"<p><b>This is a backup of another service.</b> This database is "
                     f"{', '.join(s.name + ' (' + s.code + ')' for s in here)}. To restore it anyway, type the "
                     f"backup's service code.</p>")
            code, ok = (confirm_code, True) if confirm_code is not None else QInputDialog.getText(
                self.window, "Restore another service's backup", text + "Service code:")
            if not ok:
                return
        else:
            box = QMessageBox(QMessageBox.Question, "Restore from a backup", text, QMessageBox.NoButton, self.window)
            box.setTextFormat(Qt.RichText)
            yes = box.addButton("&Restore", QMessageBox.AcceptRole)
            box.addButton("Cancel", QMessageBox.RejectRole)
            self.restore_box = box
            if confirm_code is None:
                box.exec()
                if box.clickedButton() is not yes:
                    return
            code = None
        self.window.worker.submit(self.store.admin.restore, source, code, unlock["password"], unlock["recovery_key"],
                                  on_done=self._restored)

    def _restored(self, kept) -> None:
        self.store.sign_out()
        self.window.clients.record.revert()
        self.lock(f"Restored. The database as it was is kept at {kept}. Sign in again." if kept else
                  "Restored. Sign in again.")


keep_alive: list = []


def install(window) -> Session:
    """Add the session and backup actions to the File menu and the backup age to the status bar."""
    session = Session(window)
    window.session = session
    file_menu = window.menuBar().actions()[0].menu()
    first = file_menu.actions()[-1]        # Exit stays last
    actions = []

    def add(text, slot, shortcut=None, visible=True):
        from PySide6.QtGui import QAction, QKeySequence
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        action.setVisible(visible)
        file_menu.insertAction(first, action)
        window.addAction(action)
        actions.append(action)
        return action

    # A server's backups are the server's own (pg_dump): the app's backups are a file's only.
    on_file = not window.store.url
    admin = window.store.may("backup") and on_file
    window.backup_action = add("&Back up now", session.back_up_now, visible=admin)
    window.copy_backups_action = add("&Copy backups to\u2026", session.copy_backups, visible=admin)
    window.restore_action = add("&Restore from a backup\u2026", session.restore,
                                visible=window.store.may("restore") and on_file)
    from .recovery import new_recovery_key
    window.recovery_key_action = add("New recovery ke&y\u2026", lambda: new_recovery_key(window),
                                     visible=window.store.may("admin") and window.store.encrypted)
    file_menu.insertSeparator(first)
    window.lock_action = add("&Lock now", session.lock, "Ctrl+Shift+L")
    window.switch_action = add("S&witch user\u2026", session.switch_user)
    window.sign_out_action = add("Sign &out", session.sign_out)
    file_menu.insertSeparator(first)
    window.backup_label = QLabel()
    window.statusBar().addPermanentWidget(window.backup_label)
    session.show_backup_age()
    return session
