"""The client screens as a new user meets them (issue 10, section 3), driven through the real widgets:
the duplicate check's safe default, the mouse wheel over drop-downs, changed and saved states,
read-only forms for people who may not edit, archived people in the search, the date picker,
the phone field, and unique Alt mnemonics."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPalette, QWheelEvent
from PySide6.QtWidgets import (QAbstractButton, QApplication, QComboBox, QGroupBox, QLabel, QSpinBox, QTabBar,
                               QTableView, QWidget)

from db.store import CaseStore
from desktop_helpers import fill_new_client, open_by_typing


@pytest.fixture
def window_as(qtbot, db_path):
    """The main window for another user (the shared `window` fixture signs in the coordinator)."""
    opened = []

    def make(username: str, password: str):
        from desktop.main_window import MainWindow, SessionInfo
        store = CaseStore.open(db_path)
        store.sign_in(username, password)
        w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
        w.show()
        opened.append((w, store))
        qtbot.waitUntil(lambda: w.clients.results.rowCount() == 4)
        return w
    yield make
    for w, store in opened:
        w.confirm_unsaved = False
        w.close()
        w.deleteLater()
        store.close()


def client_count(db_path) -> int:
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        return len(other.clients.search("", limit=1000, include_archived=True))


# --- 1. the duplicate check -------------------------------------------------------------------------

def test_enter_at_possible_duplicate_opens_the_existing_record(qtbot, window, db_path):
    record = fill_new_client(qtbot, window, "Maggie", "Smith", "20/01/1950", "2", "A")
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: getattr(record.form, "duplicate_dialog", None) is not None)
    dialog = record.form.duplicate_dialog
    qtbot.waitExposed(dialog)
    assert dialog.open_button.isDefault()
    assert not dialog.save_button.isDefault()
    # Enter where the focus is (the list of possible matches) takes the safe choice.
    focused = QApplication.focusWidget()
    assert focused is dialog.view
    qtbot.keyClick(focused, Qt.Key_Return)
    qtbot.waitUntil(lambda: record.client is not None and record.client.client_ref == "HT-000004")
    assert record.form.fields.fields["first_name"].widget.text() == "Margaret"
    assert client_count(db_path) == 4   # no duplicate was made


# --- 2. the mouse wheel, and a changed form saying so --------------------------------------------------

def wheel(widget: QWidget, steps: int = -1) -> bool:
    """One notch of the mouse wheel over the middle of the widget (negative: towards the user).
    Returns whether the widget took it; a real wheel event it leaves goes on to the page behind
    (Qt passes only spontaneous wheel events to the parent, so a test sees the flag, not the scroll)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_wheel_over_a_closed_drop_down_leaves_the_record_alone(qtbot, window):
    record = open_by_typing(qtbot, window, "nguy")
    form = record.form
    gender = form.fields.fields["gender"].widget
    before = gender.code()
    # The same notch does change a plain drop-down: the event is a real one.
    plain = QComboBox()
    plain.addItems(["a", "b", "c"])
    assert wheel(plain) and plain.currentIndex() == 1
    # Over the form's drop-down, focused or not, it changes nothing and is left for the page behind.
    assert not wheel(gender)
    gender.setFocus()
    assert not wheel(gender)
    assert not wheel(gender, +1)
    assert gender.code() == before
    assert not form.dirty and "unsaved" not in record.name.text()
    assert gender.focusPolicy() == Qt.StrongFocus   # a passing wheel does not take the focus


def test_a_spin_box_in_a_form_takes_the_wheel_only_while_focused(qtbot):
    from desktop.widgets.fields import ErrorLabel, FieldSet
    fields = FieldSet()
    holder = QWidget()
    spin = QSpinBox(holder)
    qtbot.addWidget(holder)
    fields.register("count", spin, ErrorLabel(holder), get=spin.value, set=lambda v: spin.setValue(v or 0))
    holder.show()
    wheel(spin, +1)
    assert spin.value() == 0
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel(spin, +1)
    assert spin.value() == 1


def test_a_changed_form_says_so_until_saved_then_says_when_it_was_saved(qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "nguy")
    form = record.form
    assert record.name.text() == "Peter Nguyen" and record.state_label.isHidden()
    town = form.fields.fields["town"].widget
    qtbot.keyClicks(town, "Gateshead")
    assert record.name.text() == "Peter Nguyen (unsaved changes)"
    assert record.state_label.isVisible() and "Unsaved changes" in record.state_label.text()
    # Typing it back as it was is not a change.
    town.clear()
    assert record.name.text() == "Peter Nguyen" and record.state_label.isHidden()
    # A drop-down changed from the keyboard is a change; Revert puts it back.
    employment = form.fields.fields["employment"].widget
    employment.setFocus()
    qtbot.keyClick(employment, Qt.Key_Down)
    assert form.dirty and "Unsaved changes" in record.state_label.text()
    qtbot.mouseClick(record.revert_button, Qt.LeftButton)
    assert not form.dirty and record.name.text() == "Peter Nguyen" and record.state_label.isHidden()

    qtbot.keyClicks(town, "Gateshead")
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: record.client.row_version == 2)
    qtbot.waitUntil(lambda: record.client.town == "Gateshead" and not form.dirty)
    assert record.name.text() == "Peter Nguyen"
    assert re.fullmatch(r"\u2713 Saved at \d\d:\d\d", record.state_label.text())
    assert record.state_label.isVisible()
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        assert other.clients.get(record.client.id).town == "Gateshead"
    # Opening someone else: the news is about the other record, so it goes.
    open_by_typing(qtbot, window, "smith")
    assert record.state_label.isHidden()


def test_saving_says_so_in_the_status_bar(qtbot, window):
    record = open_by_typing(qtbot, window, "nguy")
    window.clients.search.clear()   # no search text: the list's refresh puts no message over it
    record.form.fields.fields["town"].widget.setText("Jarrow")
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client.town == "Jarrow")
    assert any(re.fullmatch(r"Saved Peter Nguyen at \d\d:\d\d", m) for m in messages), messages


# --- 3. read-only before typing --------------------------------------------------------------------------

def assert_read_only(record) -> None:
    fields = record.form.fields.fields
    assert fields["first_name"].widget.isReadOnly()
    # It looks read-only too: the window's grey behind the text, not the white of a field to type in.
    first = fields["first_name"].widget
    assert first.palette().color(QPalette.Base) != QApplication.palette(first).color(QPalette.Base)
    assert fields["date_of_birth"].widget.isReadOnly()
    assert not fields["date_of_birth"].widget.calendar_action.isEnabled()
    assert not fields["gender"].widget.isEnabled()
    assert not fields["contact_phone"].widget.isEnabled()
    assert not record.save_button.isEnabled()
    assert not record.archive_button.isEnabled()
    assert record.form.read_only_note.isVisible()


def test_an_administrator_sees_a_read_only_record_with_a_reason_that_does_not_say_ask_an_administrator(
        qtbot, window_as, db_path):
    with CaseStore.open(db_path) as other:   # an administrator only (the first account is a manager too)
        other.sign_in("boss", "cobalt-lantern-17")
        other.service.add_staff("Ada Admin", "ADMIN", username="ada", password="amber-kettle-42")
    window = window_as("ada", "amber-kettle-42")
    record = open_by_typing(qtbot, window, "nguy")
    assert_read_only(record)
    note = record.form.read_only_note.text()
    assert note == "Read only. " + window.store.refusal("edit_client", record.client.id)
    assert note.startswith("Read only. ada may not change client records")
    assert "Ask a manager or coordinator" in note
    assert "administrator" not in note.lower()
    assert not record.referral_button.isEnabled()
    # Typing and Ctrl+S change nothing and lose nothing: there was nothing to type into.
    first = record.form.fields.fields["first_name"].widget
    first.setFocus()
    qtbot.keyClicks(first, "xyz")
    assert first.text() == "Peter"
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    qtbot.wait(50)
    assert record.client.row_version == 1 and not record.form.dirty


def test_a_trainer_sees_clients_not_allocated_to_them_read_only_and_a_coordinator_can_edit(
        qtbot, window_as, window):
    trainer = window_as("amy", "amber-kettle-42")
    record = open_by_typing(qtbot, trainer, "smith")
    assert_read_only(record)
    assert "amy may only change clients allocated to them" in record.form.read_only_note.text()
    assert "Ask a coordinator" in record.form.read_only_note.text()

    coordinator = open_by_typing(qtbot, window, "smith")
    assert coordinator.form.read_only_note.isHidden()
    assert not coordinator.form.fields.fields["first_name"].widget.isReadOnly()
    assert coordinator.form.fields.fields["gender"].widget.isEnabled()
    first = coordinator.form.fields.fields["first_name"].widget
    assert first.palette().color(QPalette.Base) == QApplication.palette(first).color(QPalette.Base)
    assert coordinator.save_button.isEnabled() and coordinator.archive_button.isEnabled()


def test_an_archived_record_is_read_only_and_says_why(qtbot, window, db_path):
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        smith = next(c for c in other.clients.search("smith") if c.last_name == "Smith")
        other.clients.archive(smith.id, expected_version=other.clients.get(smith.id).row_version)
    window.clients.include_archived.setChecked(True)
    record = open_by_typing(qtbot, window, "smith")
    assert record.client.archived
    assert not record.save_button.isEnabled()
    assert record.form.fields.fields["first_name"].widget.isReadOnly()
    assert "archived" in record.form.read_only_note.text() and record.form.read_only_note.isVisible()
    assert record.archive_button.isEnabled() and record.archive_button.text() == "Unarchive\u2026"


# --- 5. archived people in the search ---------------------------------------------------------------------

def test_archived_clients_are_marked_in_search_results(qtbot, window, db_path):
    with CaseStore.open(db_path) as other:
        other.sign_in("cal", "amber-kettle-42")
        smith = next(c for c in other.clients.search("smith") if c.last_name == "Smith")
        other.clients.archive(smith.id, expected_version=other.clients.get(smith.id).row_version)
    page = window.clients
    page.run_search()
    qtbot.waitUntil(lambda: page.results.rowCount() == 3)
    page.include_archived.setChecked(True)
    qtbot.waitUntil(lambda: page.results.rowCount() == 4)
    name_column = page.results.column_index("name")
    names = {r.last_name: page.results.index(i, name_column).data() for i, r in enumerate(page.results.rows)}
    assert names["Smith"] == "(archived) Smith, Margaret"
    assert names["Nguyen"] == "Nguyen, Peter"
    accessible = page.results.index(page.results.rows.index(
        next(r for r in page.results.rows if r.last_name == "Smith")), name_column).data(Qt.AccessibleTextRole)
    assert accessible == "(archived) Smith, Margaret"


# --- 6. dates: typed, or picked from a calendar -------------------------------------------------------------

def test_date_of_birth_can_be_typed_or_picked_from_the_calendar(qtbot, window):
    from desktop.referrals import dialogs
    from desktop.widgets.date_field import DateField
    record = fill_new_client(qtbot, window, "Ada", "Lovell", "19/10/1977", "2", "A")
    dob = record.form.fields.fields["date_of_birth"].widget
    assert isinstance(dob, DateField)
    assert isinstance(record.form.fields.fields["consent_date"].widget, DateField)
    assert dialogs.DateField is DateField   # the referral dialogs use the same field
    assert dob.text() == "19/10/1977"
    # Alt+Down opens a calendar on the date typed; a day picked by keyboard fills the field in.
    dob.setFocus()
    qtbot.keyClick(dob, Qt.Key_Down, Qt.AltModifier)
    popup = dob.popup
    qtbot.waitUntil(popup.isVisible)
    assert popup.calendar.selectedDate().toString("yyyy-MM-dd") == "1977-10-19"
    view = popup.calendar.findChild(QTableView)
    qtbot.keyClick(view, Qt.Key_Right)
    qtbot.keyClick(view, Qt.Key_Return)
    assert not popup.isVisible()
    assert dob.text() == "20/10/1977"
    assert record.form.values()["date_of_birth"] == "20/10/1977"   # still text, as the form reads it
    # The small button opens it too, and a click on a day picks it.
    dob.calendar_action.trigger()
    qtbot.waitUntil(popup.isVisible)
    popup.calendar.clicked.emit(popup.calendar.selectedDate().addDays(3))
    assert dob.text() == "23/10/1977" and not popup.isVisible()
    # Typing still works afterwards.
    dob.clear()
    qtbot.keyClicks(dob, "01/02/1983")
    assert record.form.values()["date_of_birth"] == "01/02/1983"


# --- 7. the phone field ---------------------------------------------------------------------------------------

def test_an_email_address_in_the_phone_field_is_refused_next_to_the_field(qtbot, window, db_path):
    record = open_by_typing(qtbot, window, "nguy")
    phone = record.form.fields.fields["phone"]
    phone.widget.setText("peter@example.org")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    assert phone.error.isVisible()
    assert "Phone 'peter@example.org' is an email address" in phone.error.text()
    assert "put it in Email" in phone.error.text()
    assert phone.widget.hasFocus()
    qtbot.wait(50)
    assert record.client.row_version == 1
    phone.widget.setText("0191 496 0000")
    qtbot.mouseClick(record.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.client.phone == "0191 496 0000")
    assert phone.error.isHidden()


# --- 8. Alt mnemonics ----------------------------------------------------------------------------------------

def mnemonic(text: str) -> str | None:
    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).casefold() if m else None


def mnemonics(root: QWidget) -> dict[str, list[str]]:
    """Alt+letter -> the visible labels, buttons, group boxes and tabs under `root` that answer it."""
    found: dict[str, list[str]] = defaultdict(list)

    def add(text: str, where: str) -> None:
        key = mnemonic(text)
        if key:
            found[key].append(f"{where} {text!r}")
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QLabel):
            add(w.text(), "label")
        elif isinstance(w, QAbstractButton):
            add(w.text(), "button")
        elif isinstance(w, QGroupBox):
            add(w.title(), "group")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                add(w.tabText(i), "tab")
    return found


def test_alt_mnemonics_of_the_record_are_unique_on_the_clients_screen(qtbot, window):
    record = open_by_typing(qtbot, window, "nguy")
    mine = mnemonics(record)
    clashes = {k: v for k, v in mine.items() if len(v) > 1}
    assert not clashes, clashes
    # Nor may they take a key the menu bar or the search side of the screen already answers.
    around: dict[str, list[str]] = defaultdict(list)
    for action in window.menuBar().actions():
        if mnemonic(action.text()):
            around[mnemonic(action.text())].append(f"menu {action.text()!r}")
    left = window.clients.splitter.widget(0)
    for key, targets in mnemonics(left).items():
        around[key] += targets
    shared = {k: mine[k] + around[k] for k in mine if k in around}
    assert not shared, shared
    # Every field people use most has its own key.
    assert {"i", "t", "b", "u", "y", "c", "p", "o", "a"} <= set(mine)
    assert len(mine) >= 15
    # On the Referrals tab the tabs and the record's buttons still answer alone.
    record.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: record.panel.isVisible())
    ours = {mnemonic(record.tabs.tabText(i)) for i in range(record.tabs.count())}
    ours |= {mnemonic(b.text()) for b in (record.save_button, record.revert_button, record.referral_button,
                                          record.archive_button)} - {None}
    everything = mnemonics(window)
    for action in window.menuBar().actions():
        if mnemonic(action.text()):
            everything[mnemonic(action.text())].append(f"menu {action.text()!r}")
    shared = {k: everything[k] for k in ours if len(everything[k]) > 1}
    assert not shared, shared


def _window_clashes(window) -> dict[str, list[str]]:
    everything = mnemonics(window)
    for action in window.menuBar().actions():
        if mnemonic(action.text()):
            everything[mnemonic(action.text())].append(f"menu {action.text()!r}")
    return {k: v for k, v in everything.items() if len(v) > 1}


def test_no_alt_key_answers_twice_anywhere_in_the_window(qtbot, window):
    """Alt+F had 5 targets, Alt+H 4, Alt+R 3: every visible screen state, menus included, is checked."""
    record = open_by_typing(qtbot, window, "nguy")
    window.store.referrals.add(record.client.id, {"received_date": "2026-10-01", "source": "SELF",
                                                  "reasons": ["DIET"]})
    qtbot.waitUntil(lambda: record.referrals.rowCount() == 1)
    states = {}
    for tab in range(record.tabs.count()):
        record.tabs.setCurrentIndex(tab)
        if tab == 1:
            record.referrals_view.selectRow(0)
            qtbot.waitUntil(lambda: record.panel.isVisible())
        states[f"record tab {record.tabs.tabText(tab)!r}"] = _window_clashes(window)
    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.waiting.model.rowCount() == 1)
    window.waiting.view.selectRow(0)
    qtbot.waitUntil(lambda: window.waiting.panel.isVisible())
    states["waiting list"] = _window_clashes(window)
    found = {state: clashes for state, clashes in states.items() if clashes}
    assert found == {}, "\n".join(f"{s}: {c}" for s, c in found.items())
