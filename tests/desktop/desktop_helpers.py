"""Steps shared by the desktop tests."""
from __future__ import annotations

from PySide6.QtCore import Qt


def open_by_typing(qtbot, window, typed: str, expected_rows: int = 1):
    page = window.clients
    window.go_to(page)          # a trainer's window opens on My day
    page.search.clear()
    qtbot.keyClicks(page.search, typed)
    qtbot.waitUntil(lambda: page.last_search == typed and page.results.rowCount() == expected_rows)
    qtbot.keyClick(page.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: page.record.client is not None and page.record.client.id == page.results.rows[0].id)
    return page.record


def fill_new_client(qtbot, window, first: str, last: str, dob: str, gender: str, ethnicity: str):
    page = window.clients
    qtbot.keyClick(window, Qt.Key_N, Qt.ControlModifier)
    record = page.record
    assert record.name.text() == "New client"
    fields = record.form.fields.fields
    qtbot.keyClicks(fields["first_name"].widget, first)
    qtbot.keyClicks(fields["last_name"].widget, last)
    qtbot.keyClicks(fields["date_of_birth"].widget, dob)
    fields["gender"].widget.set_code(gender)
    fields["ethnicity"].widget.set_code(ethnicity)
    return record
