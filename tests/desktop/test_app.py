"""Starting the app: no display, first run, sign-in, the main window, errors, accessibility."""
from __future__ import annotations

import argparse
import logging

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QComboBox, QLineEdit, QPlainTextEdit,
                               QTabWidget)

from db import paths
from db.store import CaseStore
from desktop import app as desktop_app
from desktop.first_run import FirstRunWizard
from desktop.signin import SignInDialog
from desktop.worker import Worker


def test_no_display_gives_a_message_not_a_crash(monkeypatch, capsys):
    monkeypatch.setattr(desktop_app.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert desktop_app.run_app(argparse.Namespace(db=None, user=None)) == 1
    err = capsys.readouterr().err
    assert "needs a screen" in err and "Traceback" not in err


def test_cli_without_a_command_opens_the_app(monkeypatch, capsys):
    from desktop import cli
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(desktop_app.sys, "platform", "linux")
    assert cli.main([]) == 1
    assert "needs a screen" in capsys.readouterr().err


def test_sign_in(qtbot, db_path):
    store = CaseStore.open(db_path)
    try:
        dialog = SignInDialog(store, "Test Health Trainers", False)
        qtbot.addWidget(dialog)
        dialog.show()
        field_height = dialog.username.height()
        qtbot.keyClicks(dialog.username, "cal")
        qtbot.keyClicks(dialog.password, "wrong")
        qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
        assert dialog.message.isVisible() and "Wrong username or password" in dialog.message.text()
        # A message of two lines or more (a server's refusal): the window grows to show it, and the
        # fields keep their height (they were squeezed flat).
        dialog.message.show_message("Wrong username or password, or the account is locked or ended (the server "
                                    "refused the sign-in).")
        assert dialog.username.height() >= field_height and dialog.password.height() >= field_height
        assert dialog.message.height() >= dialog.message.heightForWidth(dialog.message.width())
        assert store.actor is None and dialog.result() == 0
        dialog.password.setText("amber-kettle-42")
        qtbot.keyClick(dialog.password, Qt.Key_Return)
        assert dialog.result() == SignInDialog.Accepted
        assert store.actor.username == "cal" and "COORD" in store.actor.roles
    finally:
        store.close()


def test_demo_database_says_demo(qtbot, tmp_path):
    path = tmp_path / "demo.sqlite3"
    CaseStore.create_new(path, service_name="Demo HT", service_code="DEMO", admin_username="admin",
                         admin_password="demo", demo=True).close()
    store = CaseStore.open(path)
    try:
        dialog = SignInDialog(store, "Demo HT", store.is_demo, "admin")
        qtbot.addWidget(dialog)
        assert "DEMO" in dialog.windowTitle()
        assert dialog.username.text() == "admin"
        store.sign_in("admin", "demo")
        from desktop.main_window import MainWindow, SessionInfo
        window = MainWindow(store, SessionInfo("Demo HT", True, path))
        window.confirm_unsaved = False
        assert "DEMO" in window.windowTitle()
        status_texts = [w.text() for w in window.statusBar().findChildren(type(dialog.message).__mro__[1])]
        assert any("DEMO" in t for t in status_texts)
        window.close()
    finally:
        store.close()


def test_first_run_wizard_creates_the_database_and_signs_in(qtbot, tmp_path):
    path = tmp_path / "new" / "htdesk.sqlite3"
    wizard = FirstRunWizard(path)
    qtbot.addWidget(wizard)
    wizard.show()
    assert str(paths.backups_dir(path)) in wizard.backups.text()
    qtbot.keyClicks(wizard.service_name, "Tyneside Health Trainers")
    wizard.next()
    assert wizard.currentPage() is wizard.service_page          # the code is missing
    assert wizard.service_page.fields.fields["service_code"].error.isVisible()
    qtbot.keyClicks(wizard.service_code, "TYNEHT")
    wizard.next()
    assert wizard.currentPage() is wizard.service_page          # no way for clients to get in touch
    assert "at least one" in wizard.service_page.fields.fields["phone"].error.text()
    qtbot.keyClicks(wizard.service_phone, "0191 496 0123")
    qtbot.keyClicks(wizard.service_email, "ht@example.org")
    wizard.next()
    assert wizard.currentPage() is wizard.account_page
    qtbot.keyClicks(wizard.full_name, "Pat Manager")
    qtbot.keyClicks(wizard.username, "pat")
    for weak, why in (("demo", "at least 10"), ("password123", "too common"), ("tyneside-rocks-1", "service")):
        wizard.password.setText(weak)
        wizard.password2.setText(weak)
        wizard.next()
        assert wizard.currentPage() is wizard.account_page
        assert why in wizard.account_page.fields.fields["password"].error.text()
    wizard.password.clear()
    wizard.password2.clear()
    qtbot.keyClicks(wizard.password, "quartz-meadow-88")
    qtbot.keyClicks(wizard.password2, "different")
    wizard.next()
    assert wizard.account_page.fields.fields["password2"].error.isVisible()
    wizard.password2.setText("quartz-meadow-88")
    wizard.next()
    assert wizard.currentPage() is wizard.place_page
    wizard.button(wizard.WizardButton.CommitButton).click()
    assert wizard.store is not None and path.exists()
    # The recovery key, shown once: the wizard finishes only once it is kept; the sheet prints it.
    assert wizard.currentPage() is wizard.recovery_page
    key = wizard.recovery_page.key.text()
    assert key == wizard.store.recovery_key and len(key.replace("-", "")) == 32
    assert not wizard.button(wizard.WizardButton.FinishButton).isEnabled()
    wizard.recovery_page.open_after = False
    sheet = wizard.save_recovery_sheet(str(tmp_path / "sheet.pdf"))
    from pypdf import PdfReader
    text = PdfReader(sheet).pages[0].extract_text().replace("\n", "")
    assert key in text and "Tyneside Health Trainers" in text and wizard.store.database_id in text
    qtbot.mouseClick(wizard.recovery_page.kept, Qt.LeftButton, pos=wizard.recovery_page.kept.rect().bottomLeft()
                     + QPoint(4, -4))
    assert wizard.button(wizard.WizardButton.FinishButton).isEnabled()
    wizard.button(wizard.WizardButton.FinishButton).click()
    assert wizard.store.actor.username == "pat"
    assert wizard.store.service.get().code == "TYNEHT"
    assert (wizard.store.service.get().phone, wizard.store.service.get().email) == ("0191 496 0123", "ht@example.org")
    wizard.store.close()


def test_unhandled_errors_go_to_the_log_with_a_message(qtbot, monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr("desktop.widgets.common.show_error", lambda parent, exc: shown.append(exc))
    desktop_app._ensure_logging()
    try:
        raise ValueError("boom")
    except ValueError as exc:
        desktop_app.report_unhandled(type(exc), exc, exc.__traceback__)
    for h in logging.getLogger().handlers:
        h.flush()
    assert "boom" in paths.log_file().read_text(encoding="utf-8")
    assert shown and isinstance(shown[0], ValueError)
    from desktop.widgets.common import describe_error
    text = describe_error(ValueError("boom"))
    assert str(paths.log_file()) in text and "Traceback" not in text


def test_worker_delivers_on_the_gui_thread_and_drops_stale_results(qtbot):
    import threading
    worker = Worker()
    got, threads = [], []
    try:
        gate = threading.Event()
        worker.submit(gate.wait, 5)                     # holds the thread while the next three queue up
        for n in (1, 2, 3):
            worker.submit(lambda n=n: n * 10, key="k", on_done=lambda r: (got.append(r),
                                                                          threads.append(threading.current_thread())))
        errors = []
        worker.submit(lambda: 1 / 0, on_error=errors.append)
        gate.set()
        qtbot.waitUntil(lambda: bool(errors) and not worker.busy)
        assert got == [30]
        assert threads == [threading.main_thread()]
        assert isinstance(errors[0], ZeroDivisionError)
    finally:
        worker.stop()


def test_worker_progress_and_results_cross_threads_as_numbers_and_text_only(qtbot, window):
    """What crosses from the worker thread in a queued Qt event is the job's number and plain values; the
    result, the progress's job and the store's change notice are handed over on the GUI thread (no Python
    object in a queued event: desktop/worker.py)."""
    import threading
    from desktop.worker import _Thread
    meta = _Thread.staticMetaObject
    crossing = [meta.method(i) for i in range(meta.methodOffset(), meta.methodCount())]
    assert {bytes(m.name()).decode() for m in crossing} == {"finished_job", "progress"}
    assert all(bytes(t).decode() in ("int", "QString") for m in crossing for t in m.parameterTypes())
    store_changed = window.metaObject().method(window.metaObject().indexOfSignal("store_changed()"))
    assert store_changed.isValid() and store_changed.parameterCount() == 0

    worker = Worker()
    seen, done = [], []
    try:
        def reports(job):
            job.progress(1, 2, "half")
            return {"counted": threading.current_thread() is not threading.main_thread()}
        worker.progress.connect(lambda job, n, total, label: seen.append((job, n, total, label)))
        job = worker.submit(reports, with_job=True, on_done=done.append)
        qtbot.waitUntil(lambda: bool(done))
        assert seen == [(job, 1, 2, "half")] and done == [{"counted": True}]
        assert job.result is None and worker._jobs == {}          # nothing kept once delivered
    finally:
        worker.stop()

    # A write on the worker reaches every page once, on the GUI thread, in order.
    heard = []
    page = window.pages[0]
    real = page.on_store_changed
    page.on_store_changed = lambda changes, visible: (heard.append((changes.entity, threading.current_thread())),
                                                      real(changes, visible))
    window.worker.submit(window.store.clients.update, 1, {"phone": "0191 496 0001"},
                         expected_version=window.store.clients.record(1).client.row_version)
    qtbot.waitUntil(lambda: bool(heard))
    assert heard == [("client", threading.main_thread())]


_CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QPlainTextEdit, QTabWidget)


def unnamed_controls(root) -> list[str]:
    missing = []
    from PySide6.QtWidgets import QWidget
    for w in root.findChildren(QWidget):
        if not isinstance(w, _CONTROLS):
            continue
        if w.focusPolicy() == Qt.NoFocus or not w.isVisibleTo(root):
            continue
        if type(w).__name__ in ("QScrollBar",) or w.objectName().startswith("qt_"):
            continue
        if not w.accessibleName():
            missing.append(f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r}")
    return missing


def test_every_control_has_an_accessible_name(qtbot, window):
    from desktop_helpers import open_by_typing
    assert unnamed_controls(window) == []
    record = open_by_typing(qtbot, window, "smith")
    for i in range(record.tabs.count()):
        record.tabs.setCurrentIndex(i)
        assert unnamed_controls(window) == [], record.tabs.tabText(i)
    qtbot.mouseClick(record.referral_button, Qt.LeftButton)
    assert unnamed_controls(record.dialog) == []
    record.dialog.reject()
    window.go_to(window.waiting)
    assert unnamed_controls(window) == []


def test_status_bar_menus_and_about(qtbot, window, db_path):
    assert "Cal Coordinator" in window.user_label.text() and "cal" in window.user_label.text()
    assert str(db_path) in window.db_label.text()
    shortcuts = {a.text(): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["&Find a client"] == "Ctrl+F" and shortcuts["&New client\u2026"] == "Ctrl+N"
    window.show_about()
    text = window.about_box.text()
    assert "Open Government Licence" in text and "Version 0.1.0" in text
    window.about_box.close()
    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    assert window.stack.currentWidget() is window.waiting


def test_trainer_sees_no_waiting_list(qtbot, db_path):
    from desktop.main_window import MainWindow, SessionInfo
    store = CaseStore.open(db_path)
    store.sign_in("amy", "amber-kettle-42")
    window = MainWindow(store, SessionInfo("Test", False, db_path))
    try:
        # My day first, the clients and the trainer's own diary: no waiting list.
        assert window.waiting is None
        assert [type(p).__name__ for p in window.pages] == ["MyDayPage", "ClientsPage", "DiaryPage"]
        assert not window.clients.new_button.isEnabled()
    finally:
        window.confirm_unsaved = False
        window.close()
        store.close()


def test_window_geometry_is_remembered(qtbot, store, db_path):
    from desktop.main_window import MainWindow, SessionInfo
    first = MainWindow(store, SessionInfo("Test", False, db_path))
    first.show()
    first.resize(first.width(), 520)   # the offscreen screen is only 800x600
    qtbot.waitUntil(lambda: first.clients.results.rowCount() == 4)
    size = (first.width(), first.height())
    first.close()
    second = MainWindow(store, SessionInfo("Test", False, db_path))
    try:
        assert second.height() == 520 and size[1] == 520   # widths are clamped to the offscreen screen
    finally:
        second.close()


@pytest.mark.parametrize("size", [(1366, 768)])
def test_layout_fits_a_small_screen_with_large_fonts(qtbot, window, size):
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    font = app.font()
    try:
        bigger = app.font()
        bigger.setPointSizeF(font.pointSizeF() * 1.5)
        app.setFont(bigger)
        window.resize(*size)
        assert window.minimumSizeHint().width() <= size[0]
        assert window.minimumSizeHint().height() <= size[1]
    finally:
        app.setFont(font)


def test_missing_x11_libraries_give_a_message_not_an_abort(monkeypatch, capsys):
    import ctypes
    monkeypatch.setattr(desktop_app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)

    def missing(*a, **k):
        raise OSError("libxcb-icccm.so.4: cannot open shared object file")
    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert desktop_app.run_app(argparse.Namespace(db=None, user=None)) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm" in err and "libxcb-cursor0" in err
