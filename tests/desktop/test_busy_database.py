"""Another program holds the database longer than the busy timeout while a form saves (issue 16):
a plain message offering to try again, what was typed kept, and Try again saves it."""
from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from db import connection, engine
from db.pg import server
from db.store import CaseStore
from desktop.widgets import common
from desktop_helpers import open_by_typing


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)     # a file's busy timeout
    monkeypatch.setattr(server, "BUSY_TIMEOUT_MS", 300)         # a server's lock timeout (set as it connects)


def test_a_save_meeting_a_busy_database_keeps_the_typing_and_tries_again(quick_timeout, qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "nguy")
    town = record.form.fields.fields["town"].widget
    town.setText("Jarrow")
    # Another program (another PC, on a server) in the middle of a save: it holds the database's write lock
    # (a file's BEGIN IMMEDIATE, a server's write lock) longer than the busy timeout.
    busy = "in use by another user" if engine.is_postgres(window.store.db) else "in use by another program"
    holder = CaseStore.open(db_path)
    holder.sign_in("boss", "cobalt-lantern-17")
    try:
        with connection.transaction(holder.db):
            qtbot.mouseClick(record.save_button, Qt.LeftButton)
            qtbot.waitUntil(lambda: any(busy in b.text() for b in common.shown_errors))
    finally:
        holder.close()
    box = next(b for b in common.shown_errors if busy in b.text())
    assert "Something went wrong" not in box.text()
    assert not any(raw in box.text() for raw in ("OperationalError", "LockNotAvailable", "psycopg"))
    assert town.text() == "Jarrow" and record.form.dirty          # nothing typed is lost
    again = next(b for b in box.buttons() if b.accessibleName() == "Try again")
    assert box.defaultButton() is again
    again.click()
    qtbot.waitUntil(lambda: record.client.town == "Jarrow" and not record.form.dirty)
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        assert other.clients.get(record.client.id).town == "Jarrow"
