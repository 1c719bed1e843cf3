"""A crash must not lose work: typing in the client form is kept in the database a moment
after it stops, and the next window offers it back (Restore or Discard), unsaved."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from db.store import CaseStore
from desktop.main_window import MainWindow, SessionInfo
from desktop_helpers import fill_new_client, open_by_typing


def _drafts_on_file(db_path, username="cal", password="amber-kettle-42"):
    with CaseStore.open(db_path) as other:   # a second connection: what the next start would read
        other.sign_in(username, password)
        return {d.form_key: d.values for d in other.drafts.mine()}


@pytest.fixture
def next_start(qtbot, db_path):
    """Windows opened 'after the crash': a new store on the same file, signed in afresh."""
    opened = []

    def start(username="cal", password="amber-kettle-42"):
        store = CaseStore.open(db_path)
        store.sign_in(username, password)
        w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
        w.show()
        qtbot.waitUntil(lambda: w.clients.results.rowCount() == 4 and not w.worker.busy)
        opened.append((w, store))
        return w
    yield start
    for w, store in opened:
        w.confirm_unsaved = False
        w.close()
        w.deleteLater()
        store.close()


def test_typing_is_kept_after_a_pause_and_restored_unsaved_in_the_next_window(qtbot, window, db_path, next_start):
    window.draft_keeper.timer.setInterval(50)   # the pause after typing (2 s in use), short for the test
    record = open_by_typing(qtbot, window, "nguy")
    client_id = record.client.id
    phone = record.form.fields.fields["phone"].widget
    phone.setFocus()
    qtbot.keyClicks(phone, "0191 496 0123")
    qtbot.keyClicks(record.form.fields.fields["town"].widget, "Gateshead")
    qtbot.waitUntil(lambda: _drafts_on_file(db_path).get(f"client:{client_id}", {}).get("town") == "Gateshead")
    kept = _drafts_on_file(db_path)[f"client:{client_id}"]
    assert kept["phone"] == "0191 496 0123" and kept["first_name"] == "Peter"

    # The app "crashed": nothing was saved. Someone else signing in is offered nothing.
    other = next_start("boss", "cobalt-lantern-17")
    assert other.draft_offer.isHidden()

    again = next_start()
    offer = again.draft_offer
    qtbot.waitUntil(offer.isVisible)
    assert "You were typing in the details of Peter Nguyen when the app closed on" in offer.message.text()
    qtbot.mouseClick(offer.restore_button, Qt.LeftButton)
    form = again.clients.record.form
    qtbot.waitUntil(lambda: form.client is not None and form.client.id == client_id
                    and form.fields.fields["town"].widget.text() == "Gateshead")
    assert form.fields.fields["phone"].widget.text() == "0191 496 0123"
    assert form.is_dirty()                                    # offered back, not saved: the user still saves
    assert offer.isHidden()
    with CaseStore.open(db_path) as check:
        check.sign_in("cal", "amber-kettle-42")
        assert check.clients.get(client_id).phone in (None, "")

    qtbot.mouseClick(again.clients.record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: again.clients.record.client.row_version == 2)
    qtbot.waitUntil(lambda: _drafts_on_file(db_path) == {})   # saved: the draft is gone


def test_a_new_client_half_typed_is_restored_or_discarded(qtbot, window, db_path, next_start):
    window.draft_keeper.timer.setInterval(50)
    fill_new_client(qtbot, window, "Ana", "Kowalska", "02/02/1992", "2", "C")
    qtbot.waitUntil(lambda: _drafts_on_file(db_path).get("client:new", {}).get("last_name") == "Kowalska")
    assert _drafts_on_file(db_path)["client:new"]["date_of_birth"] == "02/02/1992"

    first = next_start()
    qtbot.waitUntil(first.draft_offer.isVisible)
    assert "a new client (Ana Kowalska)" in first.draft_offer.message.text()
    qtbot.mouseClick(first.draft_offer.restore_button, Qt.LeftButton)
    record = first.clients.record
    assert record.name.text().startswith("New client") and record.client is None and record.form.is_dirty()
    fields = record.form.fields.fields
    assert fields["last_name"].widget.text() == "Kowalska"
    assert fields["date_of_birth"].widget.text() == "02/02/1992"
    assert fields["ethnicity"].widget.code() == "C"

    # Next time round the person chooses Discard: it is gone for good.
    second = next_start()
    qtbot.waitUntil(second.draft_offer.isVisible)
    qtbot.mouseClick(second.draft_offer.discard_button, Qt.LeftButton)
    assert second.draft_offer.isHidden()
    qtbot.waitUntil(lambda: "client:new" not in _drafts_on_file(db_path))


def test_reverting_the_changes_discards_the_draft(qtbot, window, db_path):
    window.draft_keeper.timer.setInterval(50)
    record = open_by_typing(qtbot, window, "smith")
    qtbot.keyClicks(record.form.fields.fields["town"].widget, "Jarrow")
    qtbot.waitUntil(lambda: len(_drafts_on_file(db_path)) == 1)
    qtbot.mouseClick(record.revert_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _drafts_on_file(db_path) == {})
