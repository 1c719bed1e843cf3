"""One change notice: a write through the store reaches every open screen once, with no page wired
to another; and the navigation comes from the pages themselves."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStyle

from desktop_helpers import open_by_typing

REFERRAL = {"received_date": "2026-10-01", "source": "SELF", "reasons": ["DIET"]}


def _client_id(window, surname):
    return window.store.clients.search(surname)[0].id


def test_a_referral_added_elsewhere_shows_in_the_open_record_and_the_waiting_list(qtbot, window):
    record = open_by_typing(qtbot, window, "Smith")
    assert record.referrals.rowCount() == 0
    # Not through the record: another screen of the same window (here the store directly) makes the change.
    window.store.referrals.add(record.client.id, REFERRAL)
    qtbot.waitUntil(lambda: record.referrals.rowCount() == 1)
    assert record.tabs.tabText(1) == "R&eferrals (1)"

    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    waiting = window.waiting
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 1)
    window.store.referrals.add(_client_id(window, "Nguyen"), REFERRAL)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 2)


def test_a_hidden_waiting_list_is_read_again_when_next_shown(qtbot, window):
    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.waiting.loaded_once)
    assert window.waiting.model.rowCount() == 0
    qtbot.keyClick(window, Qt.Key_1, Qt.ControlModifier)
    window.store.referrals.add(_client_id(window, "Nguyen"), REFERRAL)
    qtbot.waitUntil(lambda: not window.waiting.loaded_once)
    assert window.waiting.model.rowCount() == 0          # nothing read while hidden
    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.waiting.model.rowCount() == 1)


def test_a_new_page_needs_only_its_own_description(qtbot, store, db_path, monkeypatch):
    from desktop import main_window
    from desktop.widgets.nav import Nav

    class NotesPage(QLabel):
        NAV = Nav("&Notes", QStyle.SP_FileIcon)
        heard: list = []

        def __init__(self, store, worker):
            super().__init__("notes")

        def on_store_changed(self, changes, visible):
            self.heard.append((changes.entity, visible))

    monkeypatch.setattr(main_window, "PAGE_TYPES", (*main_window.PAGE_TYPES, NotesPage))
    w = main_window.MainWindow(store, main_window.SessionInfo("Test", False, db_path))
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() == 4)
    try:
        titles = [a.text() for a in w.nav_actions]
        assert titles[:2] == ["Clients", "Referrals and waiting list"] and titles[-1] == "Notes"
        assert all(not a.icon().isNull() for a in w.nav_actions)
        qtbot.keyClick(w, getattr(Qt, f"Key_{len(titles)}"), Qt.ControlModifier)
        assert isinstance(w.stack.currentWidget(), NotesPage)
        store.clients.add({"first_name": "Ada", "last_name": "Lovell", "date_of_birth": "1970-01-01",
                           "gender": "2", "ethnicity": "A"})
        qtbot.waitUntil(lambda: NotesPage.heard == [("client", True)])
        qtbot.wait(50)
        assert NotesPage.heard == [("client", True)]            # once, not once per page or per listener
    finally:
        w.confirm_unsaved = False
        w.close()


def test_a_closed_window_stops_listening(qtbot, store, db_path):
    from desktop.main_window import MainWindow, SessionInfo
    w = MainWindow(store, SessionInfo("Test", False, db_path))
    w.show()
    w.confirm_unsaved = False
    w.close()
    before = len(store._listeners)
    assert before == 0

