"""Clients screen driven through the real widgets: search, record, validation, new client, conflicts."""
from __future__ import annotations

from PySide6.QtCore import Qt

from db.store import CaseStore
from desktop.clients.form import ConflictDialog
from desktop.clients.duplicates import DuplicateDialog
from desktop_helpers import fill_new_client, open_by_typing


def test_typing_part_of_a_name_finds_and_opens_the_client(qtbot, window):
    page = window.clients
    record = open_by_typing(qtbot, window, "nguy")
    assert page.results.rows[0].last_name == "Nguyen"
    assert record.name.text() == "Peter Nguyen"
    assert record.form.fields.fields["first_name"].widget.text() == "Peter"
    ethnicity = record.form.fields.fields["ethnicity"].widget
    # DATA.md: `L` Asian or Asian British – Any other Asian background.
    assert (ethnicity.code(), ethnicity.currentText()) == ("L",
                                                           "Asian or Asian British \u2013 Any other Asian background")
    # Accented names are found typed without accents, and by date of birth.
    open_by_typing(qtbot, window, "siob o'ne")
    assert record.client.first_name == "Siobh\u00e1n"
    open_by_typing(qtbot, window, "30/11/1975")
    assert record.client.last_name == "Ali-Khan"


def test_stale_search_results_are_dropped(qtbot, window):
    page = window.clients
    seen = []
    page.searched.connect(lambda text, n, s: seen.append(text))
    for text in ("s", "sm", "smi"):
        page.search.setText(text)
        page.run_search()   # three queries in a row, as if each pause were long enough
    qtbot.waitUntil(lambda: page.last_search == "smi")
    qtbot.wait(50)
    assert seen == ["smi"]
    assert [r.last_name for r in page.results.rows] == ["Smith"]


def test_bad_value_shows_message_next_to_the_field_then_a_good_one_saves(qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "peter")
    nhs = record.form.fields.fields["nhs_number"]
    nhs.widget.setFocus()
    nhs.widget.clear()
    qtbot.keyClicks(nhs.widget, "943 476 5918")
    dob = record.form.fields.fields["date_of_birth"]
    dob.widget.setText("31/02/1990")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    assert nhs.error.isVisible() and "NHS number" in nhs.error.text()
    assert dob.error.isVisible() and "not a real date" in dob.error.text()
    assert record.form.fields.fields["first_name"].error.isHidden()
    # The first bad field on screen has the focus.
    assert record.form.focusWidget() is dob.widget
    assert "Problem" in nhs.widget.accessibleDescription()

    nhs.widget.setText("401 023 2137")
    dob.widget.setText("15/06/1990")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client.nhs_number == "4010232137" and record.client.row_version == 2)
    assert nhs.error.isHidden()
    with CaseStore.open(db_path) as other:
        other.sign_in("boss", "cobalt-lantern-17")
        assert other.clients.get(record.client.id).nhs_number == "4010232137"


def test_new_client_meets_the_duplicate_check_and_can_open_the_existing_record(qtbot, window):
    record = fill_new_client(qtbot, window, "Maggie", "Smith", "20/01/1950", "2", "A")
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: getattr(record.form, "duplicate_dialog", None) is not None)
    dialog = record.form.duplicate_dialog
    assert isinstance(dialog, DuplicateDialog)
    assert dialog.model.rowCount() == 1
    assert "same date of birth" in dialog.model.index(0, dialog.model.column_index("why")).data()
    qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client is not None and record.client.client_ref == "HT-000004")
    assert record.form.fields.fields["first_name"].widget.text() == "Margaret"


def test_new_client_saved_anyway_after_the_duplicate_check(qtbot, window, store):
    record = fill_new_client(qtbot, window, "Maggie", "Smith", "20/01/1950", "2", "A")
    record.form.fields.fields["preferred_name"].widget.setText("Zo\u00eb")   # non-ASCII by setText
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: getattr(record.form, "duplicate_dialog", None) is not None)
    qtbot.mouseClick(record.form.duplicate_dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client is not None and record.client.client_ref == "HT-000005")
    assert record.client.preferred_name == "Zo\u00eb"
    # The search list is read again and shows the new person.
    qtbot.waitUntil(lambda: any(r.client_ref == "HT-000005" for r in window.clients.results.rows))


def test_new_client_needs_the_required_fields(qtbot, window):
    qtbot.keyClick(window, Qt.Key_N, Qt.ControlModifier)
    record = window.clients.record
    qtbot.keyClicks(record.form.fields.fields["last_name"].widget, "Jones")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    fields = record.form.fields.fields
    for key in ("first_name", "date_of_birth", "gender", "ethnicity"):
        assert fields[key].error.isVisible(), key
    assert fields["first_name"].widget.hasFocus()
    assert getattr(record.form, "duplicate_dialog", None) is None


def test_edit_conflict_says_who_and_offers_to_reload(qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "smith")
    with CaseStore.open(db_path) as other:
        other.sign_in("boss", "cobalt-lantern-17")
        client = other.clients.get(record.client.id)
        other.clients.update(client.id, {"town": "Gateshead"}, expected_version=client.row_version)
        theirs = other.clients.get(client.id)
    record.form.fields.fields["phone"].widget.setText("0191 000 0000")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: getattr(record.form, "conflict_dialog", None) is not None)
    dialog = record.form.conflict_dialog
    assert isinstance(dialog, ConflictDialog)
    what_happened = [w for w in dialog.findChildren(type(record.name)) if w.accessibleName() == "What happened"]
    assert [w.text() for w in what_happened] == [
        f"Someone else (boss) changed {theirs.client_ref} at {theirs.updated_at} "
        "after you opened it. Your changes were not saved: look at their changes, then make yours again."]
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert texts == ["Town"]
    assert dialog.table.item(0, 2).text() == "Gateshead"
    message = [w.text() for w in dialog.findChildren(type(record.subtitle)) if "Someone else" in w.text()]
    assert message and "boss" in message[0]
    qtbot.mouseClick(dialog.merge_button, Qt.LeftButton)
    # Their town and my phone number are on screen; saving now succeeds.
    fields = record.form.fields.fields
    assert fields["town"].widget.text() == "Gateshead"
    assert fields["phone"].widget.text() == "0191 000 0000"
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client.phone == "0191 000 0000")
    assert record.client.town == "Gateshead"


def test_conflict_reload_takes_their_version(qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "smith")
    with CaseStore.open(db_path) as other:
        other.sign_in("boss", "cobalt-lantern-17")
        client = other.clients.get(record.client.id)
        other.clients.update(client.id, {"first_name": "Peggy"}, expected_version=client.row_version)
    record.form.fields.fields["first_name"].widget.setText("Meg")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: getattr(record.form, "conflict_dialog", None) is not None)
    qtbot.mouseClick(record.form.conflict_dialog.reload_button, Qt.LeftButton)
    assert record.form.fields.fields["first_name"].widget.text() == "Peggy"
    assert record.name.text() == "Peggy Smith"


def test_archive_after_confirmation(qtbot, window, monkeypatch):
    import desktop.clients.record as record_module
    asked = []
    monkeypatch.setattr(record_module, "confirm", lambda *a, **k: asked.append(a[2]) or True)
    record = open_by_typing(qtbot, window, "smith")
    qtbot.mouseClick(record.archive_button, Qt.LeftButton)
    assert asked and "never deleted" in asked[0]
    qtbot.waitUntil(lambda: record.client.archived)
    assert record.archived_badge.isVisible()
    assert not record.save_button.isEnabled()
    qtbot.waitUntil(lambda: all(r.last_name != "Smith" for r in window.clients.results.rows))


def test_postcode_gives_deprivation_after_preparing_the_lookup(qtbot, tmp_path, monkeypatch, db_path):
    """The one test with a postcode: the lookup is built (small North East file) with a progress dialog."""
    from db.deprivation import NORTH_EAST_SOURCE
    from desktop.main_window import MainWindow, SessionInfo
    monkeypatch.setenv("HTDESK_CACHE_DIR", str(tmp_path / "cache"))
    store = CaseStore.open(db_path, reference_source=NORTH_EAST_SOURCE)
    store.sign_in("cal", "amber-kettle-42")
    window = MainWindow(store, SessionInfo("Test", False, db_path))
    window.show()
    window.confirm_unsaved = False
    try:
        record = open_by_typing(qtbot, window, "smith")
        record.form.fields.fields["postcode"].widget.setText("ne1 1ad")
        qtbot.mouseClick(record.save_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: getattr(record.form, "progress_dialog", None) is not None)
        qtbot.waitUntil(lambda: record.client.postcode == "NE1 1AD", timeout=30000)
        labels = record.form.depr_labels
        assert labels["lsoa"].text() == "E01033545"
        assert labels["decile"].text().startswith("3 of 10")
        assert labels["quintile"].text().startswith("2 of 5")
        assert labels["status"].text().startswith("Found")
    finally:
        window.close()
        store.close()


def test_a_whole_date_of_birth_typed_in_the_search_box_finds_exactly_that_person(qtbot, window):
    """'19/10/1977' used to match parts of NHS numbers and postcodes and miss the client."""
    page = window.clients
    for typed in ("04/03/1980", "4.3.1980", "1980-03-04"):
        page.search.clear()
        qtbot.keyClicks(page.search, typed)
        qtbot.waitUntil(lambda: page.last_search == typed)
        qtbot.waitUntil(lambda: [r.last_name for r in page.results.rows] == ["O'Neill"])
