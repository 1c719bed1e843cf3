"""Another program holds the database longer than the busy timeout while a form saves (issue 16):
a plain message offering to try again, what was typed kept, and Try again saves it."""
from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from db import connection
from db.store import CaseStore
from desktop.widgets import common
from desktop_helpers import open_by_typing
from rawdb import raw_connect


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)


def test_a_save_meeting_a_busy_database_keeps_the_typing_and_tries_again(quick_timeout, qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "nguy")
    town = record.form.fields.fields["town"].widget
    town.setText("Jarrow")
    holder = raw_connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        qtbot.mouseClick(record.save_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: any("in use by another program" in b.text() for b in common.shown_errors))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    box = next(b for b in common.shown_errors if "in use by another program" in b.text())
    assert "Something went wrong" not in box.text() and "OperationalError" not in box.text()
    assert town.text() == "Jarrow" and record.form.dirty          # nothing typed is lost
    again = next(b for b in box.buttons() if b.accessibleName() == "Try again")
    assert box.defaultButton() is again
    again.click()
    qtbot.waitUntil(lambda: record.client.town == "Jarrow" and not record.form.dirty)
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        assert other.clients.get(record.client.id).town == "Jarrow"
