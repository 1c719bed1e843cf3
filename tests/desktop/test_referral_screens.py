"""Referral screens tried as a new user would (issue 10, section 3): messages that fit, the age
override, allocating someone never reached, the waiting list opening the referral, 150% scaling
on 1366x768, and tab shortcuts that type nothing."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from db.store import CaseStore
from desktop.referrals.dialogs import AllocateDialog, CloseReferralDialog, ContactAttemptDialog, NewReferralDialog
from desktop.widgets import common

from desktop_helpers import open_by_typing

# 1366x768 at 150% scaling is 911x512 device-independent pixels (what Qt lays out in).
SCREEN_150 = (1366 * 2 // 3, 768 * 2 // 3)


def _ids(store) -> dict[str, int]:
    return {c.last_name: c.id for c in store.clients.search("")}


def _visible_inside(widget, top) -> bool:
    """The widget's whole rectangle lies inside `top` (nothing clipped off the dialog)."""
    corner = widget.mapTo(top, widget.rect().topLeft())
    return top.rect().contains(QRect(corner, widget.size()))


def _messages_fit(dialog) -> bool:
    shown = [f.error for f in dialog.fields.fields.values() if f.error.isVisible()]
    return bool(shown) and all(
        e.height() >= e.heightForWidth(e.width()) and e.height() >= e.minimumSizeHint().height()
        and _visible_inside(e, dialog) for e in shown)


def _open_referrals_tab(qtbot, window, typed):
    record = open_by_typing(qtbot, window, typed)
    record.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: record.panel.referral is not None)
    return record


# --- 1. error text in small dialogs is shown whole ---------------------------------------------------

def test_close_referral_messages_wrap_and_the_dialog_grows_to_show_them(qtbot, window, store):
    store.referrals.add(_ids(store)["Smith"], {"received_date": "2024-01-10", "source": "GP"})
    record = _open_referrals_tab(qtbot, window, "smith")
    qtbot.mouseClick(record.panel.close_button, Qt.LeftButton)
    dialog = record.panel.dialog
    assert isinstance(dialog, CloseReferralDialog)
    qtbot.waitExposed(dialog)
    dialog.day.setText("01/01/2020")          # before the date received, and no reason chosen
    dialog.reason.set_code(None)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    closed, reason = dialog.fields.fields["closed_date"].error, dialog.fields.fields["closure_reason"].error
    assert closed.isVisible() and reason.isVisible()
    assert closed.wordWrap() and closed.heightForWidth(closed.width()) > closed.fontMetrics().lineSpacing() * 1.5
    qtbot.waitUntil(lambda: _messages_fit(dialog))
    dialog.reject()


def test_contact_attempt_and_new_referral_messages_fit_too(qtbot, window, store):
    store.referrals.add(_ids(store)["Smith"], {"received_date": "2024-01-10", "source": "GP"})
    record = _open_referrals_tab(qtbot, window, "smith")
    qtbot.mouseClick(record.panel.attempt_button, Qt.LeftButton)
    dialog = record.panel.dialog
    assert isinstance(dialog, ContactAttemptDialog)
    qtbot.waitExposed(dialog)
    dialog.day.setText("31/12/2099")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _messages_fit(dialog))
    dialog.reject()
    qtbot.waitUntil(lambda: record.panel.dialog is None)

    qtbot.mouseClick(record.referral_button, Qt.LeftButton)
    dialog = record.dialog
    assert isinstance(dialog, NewReferralDialog)
    qtbot.waitExposed(dialog)
    dialog.received.setText("01/01/2099")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _messages_fit(dialog))
    dialog.reject()


# --- 2. the age override a manager can give ------------------------------------------------------------

def _fourteen_year_old(db_path) -> None:
    """A client who is 14 today, and a manager's account (as the administrator)."""
    today = date.today()
    boss = CaseStore.open(db_path)
    boss.sign_in("boss", "cobalt-lantern-17")
    boss.service.add_staff("Meg Manager", "MANAGER", username="meg", password="amber-kettle-42")
    boss.clients.add(dict(first_name="Tia", last_name="Young", date_of_birth=f"{today.year - 14}-01-01",
                         gender="2", ethnicity="A"))
    boss.close()


@pytest.fixture
def manager_window(qtbot, db_path):
    from desktop.main_window import MainWindow, SessionInfo
    _fourteen_year_old(db_path)
    store = CaseStore.open(db_path)
    store.sign_in("meg", "amber-kettle-42")
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() == 5)
    yield w
    w.confirm_unsaved = False
    w.close()
    w.deleteLater()
    store.close()


def _new_referral(qtbot, record) -> NewReferralDialog:
    qtbot.mouseClick(record.referral_button, Qt.LeftButton)
    dialog = record.dialog
    assert isinstance(dialog, NewReferralDialog)
    qtbot.waitExposed(dialog)
    dialog.source.set_code("GP")
    dialog.reasons.check("ACTIVITY")
    return dialog


def test_a_manager_overrides_the_age_limit_with_a_reason(qtbot, manager_window):
    record = open_by_typing(qtbot, manager_window, "young")
    dialog = _new_referral(qtbot, record)
    assert dialog.age_row.isVisible()
    assert "Tia Young is 14" in dialog.age_note.text()
    assert dialog.age_override.isVisible()
    assert dialog.age_override.text().replace("&", "") == "Override the age limit (manager)"
    assert not dialog.age_reason.isEnabled()

    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)   # not ticked: the rule's message, by the box
    assert "tick the override and give the reason" in dialog.age_error.text()
    assert not common.shown_errors

    dialog.age_override.setChecked(True)
    assert dialog.age_reason.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)   # ticked, no reason
    assert "reason" in dialog.age_error.text()

    dialog.age_reason.setText("Agreed with the school nurse")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.dialog is None and record.panel.referral is not None)
    saved = record.panel.referral
    assert saved.age_override_by == "meg"
    assert saved.notes == "Age limit overridden: Agreed with the school nurse"


def test_a_coordinator_is_told_a_manager_must_add_an_under_16_referral(qtbot, db_path, window):
    _fourteen_year_old(db_path)
    window.clients.run_search()
    record = open_by_typing(qtbot, window, "young")
    dialog = _new_referral(qtbot, record)
    assert dialog.age_row.isVisible()
    assert "ask a manager to add this referral" in dialog.age_note.text()
    assert not dialog.age_override.isVisible()
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert dialog.age_error.isVisible()
    assert "a manager must add a referral for someone under 16" in dialog.age_error.text()
    assert not common.shown_errors          # by the field, not in a box
    assert record.dialog is dialog          # nothing saved
    # An adult's referral shows no age row at all.
    dialog.reject()
    qtbot.waitUntil(lambda: record.dialog is None)
    record = open_by_typing(qtbot, window, "smith")
    dialog = _new_referral(qtbot, record)
    assert not dialog.age_row.isVisible()
    dialog.reject()


# --- 3. allocating someone nobody has reached ------------------------------------------------------------

def _allocate_from_waiting_list(qtbot, window):
    waiting = window.waiting
    window.go_to(waiting)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 1)
    waiting.view.selectRow(0)
    qtbot.waitUntil(lambda: waiting.panel.referral is not None)
    qtbot.mouseClick(waiting.panel.allocate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: isinstance(waiting.panel.dialog, AllocateDialog))
    dialog = waiting.panel.dialog
    dialog.trainer.setCurrentIndex(dialog.trainer.findText("Amy Trainer (health trainer)"))
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    return waiting, dialog


def test_allocating_a_client_never_reached_asks_first_and_defaults_to_the_safe_choice(qtbot, window, store):
    referral_id = store.referrals.add(_ids(store)["Smith"], {"received_date": "2024-01-10", "source": "GP"}).ids[0]
    store.referrals.add_contact_attempt(referral_id, "2024-01-11", "PHONE", "NOANSWER")
    waiting, dialog = _allocate_from_waiting_list(qtbot, window)
    box = dialog.question
    assert isinstance(box, QMessageBox)
    assert "Nobody has reached Margaret Smith yet" in box.text()
    assert "'Waiting for first session'" in box.text()
    assert {b.text() for b in box.buttons()} == {"Allocate &anyway", "&Log a contact attempt first", "Cancel"}
    assert box.defaultButton().text() == "&Log a contact attempt first"

    qtbot.keyClick(box, Qt.Key_Return)   # Enter takes the safe choice: log an attempt, allocate nothing
    qtbot.waitUntil(lambda: isinstance(waiting.panel.dialog, ContactAttemptDialog))
    assert store.referrals.get(referral_id).allocated_staff_id is None
    waiting.panel.dialog.reject()
    qtbot.waitUntil(lambda: waiting.panel.dialog is None)

    waiting.panel.allocate()
    qtbot.waitUntil(lambda: isinstance(waiting.panel.dialog, AllocateDialog))
    dialog = waiting.panel.dialog
    dialog.trainer.setCurrentIndex(dialog.trainer.findText("Amy Trainer (health trainer)"))
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    anyway = next(b for b in dialog.question.buttons() if b.text() == "Allocate &anyway")
    qtbot.mouseClick(anyway, Qt.LeftButton)
    qtbot.waitUntil(lambda: waiting.model.rows and waiting.model.rows[0].status == "WAITING")
    assert store.referrals.get(referral_id).allocated_name == "Amy Trainer"


def test_allocating_a_client_already_reached_asks_nothing(qtbot, window, store):
    referral_id = store.referrals.add(_ids(store)["Smith"], {"received_date": "2024-01-10", "source": "GP"}).ids[0]
    store.referrals.add_contact_attempt(referral_id, "2024-01-11", "PHONE", "REACHED")
    waiting, dialog = _allocate_from_waiting_list(qtbot, window)
    assert dialog.question is None
    qtbot.waitUntil(lambda: waiting.model.rows and waiting.model.rows[0].status == "WAITING")


# --- 4. the waiting list opens the record at that referral ---------------------------------------------------

def test_opening_a_client_from_the_waiting_list_lands_on_that_referral(qtbot, window, store):
    smith = _ids(store)["Smith"]
    older = store.referrals.add(smith, {"received_date": "2024-01-10", "source": "GP"}).ids[0]
    store.referrals.add(smith, {"received_date": "2024-03-01", "source": "SELF"})   # listed first in the record
    waiting = window.waiting
    window.go_to(waiting)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 2)
    assert waiting.select_referral(older)
    qtbot.mouseClick(waiting.open_button, Qt.LeftButton)
    record = window.clients.record
    qtbot.waitUntil(lambda: record.panel.referral is not None and record.panel.referral.id == older)
    assert window.stack.currentWidget() is window.clients
    assert record.tabs.currentIndex() == 1
    assert record.referrals.row_at(record.referrals_view.currentIndex().row()).id == older


# --- 5. 150% scaling on a 1366x768 screen -------------------------------------------------------------------

def _at_150_percent(qtbot, window):
    window.showNormal()
    window.resize(*SCREEN_150)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == SCREEN_150)


def test_the_window_fits_a_1366x768_screen_at_150_percent(qtbot, window, store):
    store.referrals.add(_ids(store)["Smith"], {"received_date": "2024-01-10", "source": "GP"})
    window.go_to(window.waiting)
    qtbot.waitUntil(lambda: window.waiting.model.rowCount() == 1)
    for page in (window.clients, window.waiting):
        window.go_to(page)
        hint = window.minimumSizeHint()
        assert hint.width() <= SCREEN_150[0] and hint.height() <= SCREEN_150[1], (page, hint)
    # The same screen with the font made 1.5 times larger instead (QT_FONT_DPI=144).
    font = window.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    window.setFont(font)
    for page in (window.clients, window.waiting):
        window.go_to(page)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1366 and hint.height() <= 768, (page, hint)


def _labels_do_not_overlap(panel) -> bool:
    labels = [w for w in panel.findChildren(QLabel) if w.isVisibleTo(panel) and w.text()]
    rects = [QRect(w.mapTo(panel, w.rect().topLeft()), w.size()) for w in labels]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            if a.intersects(b):
                return False
    # Nor is any squeezed below the height its wrapped text needs.
    return all(w.height() >= (w.heightForWidth(w.width()) if w.wordWrap() else w.minimumSizeHint().height())
               for w in labels)


def test_referral_details_do_not_overlap_at_150_percent(qtbot, window, store):
    smith = _ids(store)["Smith"]
    referral_id = store.referrals.add(smith, {"received_date": "2024-01-10", "source": "GP",
                                             "referrer_name": "Dr Anne Longname-Practitioner",
                                             "referrer_organisation": "Riverside Health Centre and Surgery",
                                             "reasons": ["ACTIVITY", "MONEY", "WEIGHT", "ALCOHOL", "SMOKING"]}).ids[0]
    store.referrals.add_contact_attempt(referral_id, "2024-01-11", "PHONE", "REACHED")
    _at_150_percent(qtbot, window)
    record = _open_referrals_tab(qtbot, window, "smith")
    qtbot.waitUntil(lambda: record.panel.isVisible() and record.panel.info["dates"].text() != "")
    qtbot.waitUntil(lambda: _labels_do_not_overlap(record.panel.body))   # once the layout has run
    assert record.panel.allocate_button.isVisible()

    window.go_to(window.waiting)
    waiting = window.waiting
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 1)
    waiting.view.selectRow(0)
    qtbot.waitUntil(lambda: waiting.panel.referral is not None)
    qtbot.waitUntil(lambda: _labels_do_not_overlap(waiting.panel.body))


def test_the_waiting_list_shows_ten_rows_at_150_percent(qtbot, window, store):
    ids = list(_ids(store).values())
    for n in range(12):
        store.referrals.add(ids[n % len(ids)], {"received_date": f"2024-01-{n + 1:02d}", "source": "GP"})
    _at_150_percent(qtbot, window)
    waiting = window.waiting
    window.go_to(waiting)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 12)
    qtbot.waitUntil(lambda: waiting.rows_in_view() >= 10)
    assert waiting.panel.height() >= waiting.panel.minimumSizeHint().height()
    assert waiting.open_button.isVisible()


# --- 6. tab shortcuts that type nothing --------------------------------------------------------------------------

def test_section_shortcuts_switch_tabs_and_type_nothing_into_the_field(qtbot, window):
    record = open_by_typing(qtbot, window, "smith")
    field = record.form.fields.fields["first_name"].widget
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    before = field.text()
    qtbot.keyClick(field, Qt.Key_2, Qt.AltModifier)
    assert record.tabs.currentIndex() == 1
    assert field.text() == before
    qtbot.keyClick(record.tabs.currentWidget(), Qt.Key_3, Qt.AltModifier)
    assert record.tabs.currentIndex() == 2
    qtbot.keyClick(record.tabs.currentWidget(), Qt.Key_1, Qt.AltModifier)
    assert record.tabs.currentIndex() == 0

    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(field, Qt.Key_PageDown, Qt.ControlModifier)
    assert record.tabs.currentIndex() == 1
    qtbot.keyClick(window.focusWidget() or window, Qt.Key_PageUp, Qt.ControlModifier)
    assert record.tabs.currentIndex() == 0
    assert field.text() == before
    shortcuts = {a.shortcut().toString() for a in window.actions()}
    assert not any(s.startswith("Alt+Shift+") for s in shortcuts)
