"""Referrals and the waiting list through the real widgets."""
from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.referrals.dialogs import AllocateDialog, CloseReferralDialog, ContactAttemptDialog, NewReferralDialog

from desktop_helpers import open_by_typing


def add_referral(qtbot, window, typed="smith", urgent=False):
    record = open_by_typing(qtbot, window, typed)
    qtbot.mouseClick(record.referral_button, Qt.LeftButton)
    dialog = record.dialog
    assert isinstance(dialog, NewReferralDialog)
    dialog.source.set_code("HOUSING")
    qtbot.keyClicks(dialog.referrer, "Jo Bloggs")
    dialog.reasons.check("MONEY")      # a wider determinant
    dialog.reasons.check("ACTIVITY")
    if urgent:
        dialog.priority.set_code("urgent")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.panel.referral is not None and record.dialog is None)
    return record


def log_attempt(qtbot, panel, outcome="NOANSWER"):
    before = len(panel.referral.contact_attempts)
    qtbot.mouseClick(panel.attempt_button, Qt.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, ContactAttemptDialog)
    dialog.outcome.set_code(outcome)
    qtbot.keyClicks(dialog.note, "rang twice")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is None and len(panel.referral.contact_attempts) == before + 1)


def test_referral_attempts_allocation_waiting_list_and_closing(qtbot, window):
    record = add_referral(qtbot, window)
    panel = record.panel
    referral = panel.referral
    assert referral.reasons == ("ACTIVITY", "MONEY")
    assert referral.status == "NEW"
    assert record.tabs.currentIndex() == 1
    assert "Money and debt" in panel.info["reasons"].text()

    # On the waiting list as newly received.
    window.go_to(window.waiting)
    waiting = window.waiting
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 1)
    item = waiting.model.rows[0]
    assert (item.referral_ref, item.status, item.trainer_name) == (referral.referral_ref, "NEW", None)

    # Two contact attempts from the client's record.
    window.go_to(window.clients)
    log_attempt(qtbot, panel)
    log_attempt(qtbot, panel)
    assert panel.referral.status == "CONTACTING"
    assert panel.attempts.rowCount() == 2
    assert panel.three_tries.isHidden()

    # The waiting list follows: status and attempts.
    window.go_to(window.waiting)
    qtbot.waitUntil(lambda: waiting.model.rows and waiting.model.rows[0].attempts == 2)
    assert waiting.model.rows[0].status == "CONTACTING"

    # Allocate from the waiting list.
    waiting.view.selectRow(0)
    qtbot.waitUntil(lambda: waiting.panel.referral is not None)
    qtbot.mouseClick(waiting.panel.allocate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: isinstance(waiting.panel.dialog, AllocateDialog))
    dialog = waiting.panel.dialog
    dialog.trainer.setCurrentIndex(dialog.trainer.findText("Amy Trainer (health trainer)"))
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    # Nobody has reached the client yet: the dialog asks first (tests/desktop/test_referral_screens.py).
    anyway = next(b for b in dialog.question.buttons() if b.text() == "Allocate &anyway")
    qtbot.mouseClick(anyway, Qt.LeftButton)
    qtbot.waitUntil(lambda: waiting.model.rows and waiting.model.rows[0].status == "WAITING")
    assert waiting.model.rows[0].trainer_name == "Amy Trainer"
    status_col = waiting.model.column_index("status")
    assert waiting.proxy.index(0, status_col).data() == "Waiting for first session"

    # Filters: by trainer and status keep it; another status hides it.
    waiting.trainer_filter.setCurrentIndex(waiting.trainer_filter.findText("Amy Trainer"))
    assert waiting.proxy.rowCount() == 1
    waiting.status_filter.set_code("NEW")
    assert waiting.proxy.rowCount() == 0
    waiting.status_filter.set_code(None)
    waiting.trainer_filter.set_code(-1)   # not allocated
    assert waiting.proxy.rowCount() == 0
    waiting.trainer_filter.set_code(None)
    assert waiting.proxy.rowCount() == 1

    # Close it: it leaves the waiting list.
    waiting.view.selectRow(0)
    qtbot.waitUntil(lambda: waiting.panel.referral is not None and waiting.panel.referral.status == "WAITING")
    qtbot.mouseClick(waiting.panel.close_button, Qt.LeftButton)
    dialog = waiting.panel.dialog
    assert isinstance(dialog, CloseReferralDialog)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)   # no reason yet: message next to the field
    assert dialog.fields.fields["closure_reason"].error.isVisible()
    dialog.reason.set_code("DECLINED")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 0)
    qtbot.waitUntil(lambda: waiting.panel.referral.status == "CLOSED")
    assert not waiting.panel.close_button.isEnabled()
    # The client's record shows it closed too.
    qtbot.waitUntil(lambda: record.referrals.rows and record.referrals.rows[0].status == "CLOSED")


def test_the_tries_shown_follow_the_services_setting(qtbot, db_path, window):
    from db.store import CaseStore
    with CaseStore.open(db_path) as admin:
        admin.sign_in("boss", "cobalt-lantern-17")
        admin.service.set_settings({"three_tries.attempts": "4"})
    record = add_referral(qtbot, window, "nguyen")
    panel = record.panel
    for outcome in ("NOANSWER", "MESSAGE", "WRONGNUM"):
        log_attempt(qtbot, panel, outcome)
    assert panel.three_tries.isHidden() and panel.attempts.index(2, 0).data(Qt.BackgroundRole) is None
    log_attempt(qtbot, panel, "NOANSWER")
    assert panel.three_tries.isVisible() and "4 tries reached" in panel.three_tries.text()
    assert panel.attempts.index(2, 0).data(Qt.BackgroundRole) is None
    assert "4 tries reached" in panel.attempts.index(3, 0).data(Qt.ToolTipRole)


def test_three_tries_are_highlighted_and_said_in_words(qtbot, window):
    record = add_referral(qtbot, window, "nguyen")
    panel = record.panel
    for outcome in ("NOANSWER", "MESSAGE", "WRONGNUM"):
        log_attempt(qtbot, panel, outcome)
    assert panel.three_tries.isVisible()
    assert "Three tries reached" in panel.three_tries.text()
    model = panel.attempts
    assert model.index(2, 0).data(Qt.BackgroundRole) is not None
    assert model.index(1, 0).data(Qt.BackgroundRole) is None
    assert "three tries reached" in model.index(2, 0).data(Qt.AccessibleTextRole)
    assert "three tries reached" in model.index(2, 0).data(Qt.ToolTipRole)
    # Closing suggests "Unable to contact".
    qtbot.mouseClick(panel.close_button, Qt.LeftButton)
    assert panel.dialog.reason.code() == "UNABLE"
    panel.dialog.reject()
    # On the waiting list the row is marked too, and says so.
    window.go_to(window.waiting)
    qtbot.waitUntil(lambda: window.waiting.model.rowCount() == 1)
    attempts_col = window.waiting.model.column_index("attempts")
    assert window.waiting.proxy.index(0, attempts_col).data() == "3: 3 tries"


def test_waiting_list_puts_urgent_first_then_longest_wait(qtbot, window, store):
    ids = {c.last_name: c.id for c in store.clients.search("")}
    store.referrals.add(ids["Smith"], {"received_date": "2024-01-10", "source": "GP"})
    store.referrals.add(ids["Nguyen"], {"received_date": "2024-03-01", "source": "SELF", "priority": "urgent"})
    store.referrals.add(ids["Ali-Khan"], {"received_date": "2023-12-01", "source": "VCS"})
    window.go_to(window.waiting)
    waiting = window.waiting
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 3)
    order = [waiting.proxy.row_at(i).client_name for i in range(3)]
    assert order == ["Peter Nguyen", "Zo\u00eb Ali-Khan", "Margaret Smith"]
    waiting.source_filter.set_code("GP")
    assert [waiting.proxy.row_at(i).client_name for i in range(waiting.proxy.rowCount())] == ["Margaret Smith"]
    assert "1 of 3" in waiting.count.text()


def test_new_referral_messages_next_to_fields(qtbot, window):
    record = open_by_typing(qtbot, window, "peter")
    qtbot.mouseClick(record.referral_button, Qt.LeftButton)
    dialog = record.dialog
    dialog.received.setText("01/01/2099")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert dialog.fields.fields["source"].error.isVisible()
    assert "future" in dialog.fields.fields["received_date"].error.text()
    assert dialog.focusWidget() is dialog.received
    dialog.reject()
