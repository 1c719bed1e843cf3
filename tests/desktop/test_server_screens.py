"""The app on a service's PostgreSQL server (issue 18), with real widgets: the sign-in window names the
server and offers nothing that is a file's (restoring a backup, the recovery key); two PCs editing the
same person see the conflict through the row version, the second PC keeping what it typed. Skipped,
saying why, where PostgreSQL is not installed."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizard

from db.errors import ConflictError
from db.store import CaseStore
from pg_cluster import MISSING, Cluster, binaries

PW = "amber-kettle-42"


@pytest.fixture(scope="module")
def server_url():
    if binaries() is None:
        pytest.skip(MISSING)
    cluster = Cluster()
    url = cluster.create("screens")
    store = CaseStore.create_new(url, service_name="Gateshead Health Trainers", service_code="GATES",
                                 admin_username="admin", admin_password=PW, contact={"phone": "0191 000 0000"})
    store.sign_in("admin", PW)
    store.reference.deprivation_for = lambda postcode: {}
    store.service.add_staff("Colin Coordinator", "COORD", username="colin", password=PW)
    store.clients.add({"first_name": "Siobhán", "last_name": "O'Neill", "date_of_birth": "12/03/1980", "gender": "2",
                       "ethnicity": "A"}, today=date(2026, 11, 1))
    store.close()
    yield url
    cluster.stop()


def test_the_sign_in_window_names_the_server_and_signs_in(qtbot, server_url):
    from desktop.signin import SignInDialog
    store = CaseStore.open(server_url)
    dialog = SignInDialog(store, "Gateshead Health Trainers", False)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any(t == f"Database: {server_url}" for t in texts), texts
    assert not dialog.restore_button.isVisible() and not dialog.recovery_button.isVisible()
    qtbot.keyClicks(dialog.username, "colin")
    qtbot.keyClicks(dialog.password, PW)
    qtbot.keyClick(dialog.password, Qt.Key_Return)
    assert dialog.result() == SignInDialog.Accepted and store.actor.username == "colin"
    store.close()


def test_the_sign_in_window_of_a_secured_server_offers_nothing_that_is_a_files(qtbot, server_url):
    """A secured server (no user in the address): the window stands in for the store until sign-in."""
    from desktop.app import _OpeningStore
    from desktop.signin import SignInDialog
    dialog = SignInDialog(_OpeningStore(server_url, as_person=True), "", False)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any(t == f"Database: {server_url}" for t in texts), texts
    assert not dialog.restore_button.isVisible() and not dialog.recovery_button.isVisible()


def test_two_pcs_editing_one_person_the_second_sees_the_conflict_and_keeps_its_typing(qtbot, server_url,
                                                                                       monkeypatch):
    from desktop.main_window import MainWindow, SessionInfo
    windows = []
    for user in ("colin", "admin"):
        store = CaseStore.open(server_url)
        store.sign_in(user, PW)
        store.reference.deprivation_for = lambda postcode: {}
        window = MainWindow(store, SessionInfo("Gateshead Health Trainers", False, server_url))
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
    client_id = windows[0].store.clients.search("O'Neill")[0].id
    for window in windows:
        window.clients.open_client(client_id)
        qtbot.waitUntil(lambda w=window: w.clients.record.record is not None, timeout=10_000)
    shown = []
    monkeypatch.setattr(type(windows[1].clients.record.form), "show_conflict",
                        lambda form, exc: shown.append(exc))
    for window, typed in zip(windows, ("Shiv", "Siobh")):
        field = window.clients.record.form.fields.fields["preferred_name"].widget
        field.clear()
        qtbot.keyClicks(field, typed)
    windows[0].clients.record.save()
    qtbot.waitUntil(lambda: not windows[0].clients.record.form.is_dirty(), timeout=10_000)
    windows[1].clients.record.save()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert isinstance(shown[0], ConflictError) and "colin" in str(shown[0])
    assert windows[1].clients.record.form.fields.fields["preferred_name"].widget.text() == "Siobh"
    assert windows[1].store.clients.record(client_id).client.preferred_name == "Shiv"
    for window in windows:
        window.confirm_unsaved = False
        window.worker.stop()
        window.store.close()


def test_the_status_bar_says_backups_are_the_servers(qtbot, server_url):
    from desktop.main_window import MainWindow, SessionInfo
    store = CaseStore.open(server_url)
    store.sign_in("admin", PW)
    window = MainWindow(store, SessionInfo("Gateshead Health Trainers", False, server_url))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.backup_label.text() != "", timeout=5_000)
    assert window.backup_label.text() == "Backups: the server's"
    window.confirm_unsaved = False
    window.worker.stop()
    store.close()


def test_a_connection_lost_mid_save_keeps_the_typing_says_so_and_try_again_saves(qtbot, server_url):
    from desktop.main_window import MainWindow, SessionInfo
    from desktop.widgets.common import shown_errors
    from db.pg.adapter import connect_raw
    store = CaseStore.open(server_url)
    store.sign_in("colin", PW)
    store.reference.deprivation_for = lambda postcode: {}
    window = MainWindow(store, SessionInfo("Gateshead Health Trainers", False, server_url))
    qtbot.addWidget(window)
    window.show()
    client_id = store.clients.search("O'Neill")[0].id
    window.clients.open_client(client_id)
    qtbot.waitUntil(lambda: window.clients.record.record is not None, timeout=10_000)
    form = window.clients.record.form
    field = form.fields.fields["town"].widget
    field.clear()
    qtbot.keyClicks(field, "Gateshead")
    pid = store.db.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with connect_raw(server_url) as admin:
        admin.execute(f"SELECT pg_terminate_backend({pid})")      # the network drops, or the server restarts
    before = len(shown_errors)
    window.clients.record.save()
    qtbot.waitUntil(lambda: len(shown_errors) > before, timeout=10_000)
    box = shown_errors[-1]
    assert "connection was lost" in box.text() and box.informativeText() == "What you typed is kept."
    assert field.text() == "Gateshead" and form.is_dirty()
    again = next(b for b in box.buttons() if b.text() == "&Try again")
    again.click()
    qtbot.waitUntil(lambda: not form.is_dirty(), timeout=10_000)
    assert store.clients.get(client_id).town == "Gateshead"
    window.confirm_unsaved = False
    window.worker.stop()
    store.close()


def test_the_first_run_wizard_connects_this_pc_to_its_services_server(qtbot, server_url, tmp_path, monkeypatch):
    from db.public import saved_server
    from desktop.first_run import FirstRunWizard
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    wizard = FirstRunWizard(tmp_path / "htdesk.sqlite3")
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentPage() is wizard.service_page
    qtbot.mouseClick(wizard.to_server, Qt.LeftButton)
    assert wizard.currentPage() is wizard.server_page
    field = wizard.server_page.fields.fields["server"]
    for typed, said in ((server_url.replace("postgres@", "postgres:secret@"), "password"),
                        (server_url.replace("@/screens", "@/nosuch"), "does not exist"),
                        ("db.example.nhs.uk/gateshead", "postgresql://HOST/DBNAME")):
        wizard.server_address.setText(typed)
        qtbot.mouseClick(wizard.button(QWizard.FinishButton), Qt.LeftButton)      # "Connect"
        assert wizard.currentPage() is wizard.server_page and said in field.error.text(), field.error.text()
        assert saved_server() is None
    wizard.back()                                   # back to setting up here: the service's checks apply again
    wizard.next()
    assert wizard.currentPage() is wizard.service_page
    qtbot.mouseClick(wizard.to_server, Qt.LeftButton)
    wizard.server_address.setText(server_url)
    assert wizard.button(QWizard.FinishButton).text() == "&Connect"
    qtbot.mouseClick(wizard.button(QWizard.FinishButton), Qt.LeftButton)
    assert wizard.result() == FirstRunWizard.Accepted and wizard.connected
    assert wizard.store.url == server_url and saved_server() == server_url and not (tmp_path / "htdesk.sqlite3").exists()
    assert wizard.store.sign_in("colin", PW).username == "colin"
    wizard.store.close()
