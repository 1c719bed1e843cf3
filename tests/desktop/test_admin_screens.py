"""Issue 14's administration screens, with real widgets: service settings, staff and accounts, the
one-time password at sign-in, the idle lock (same user, another user), sign out, and backups."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from db.store import CaseStore

BOSS, BOSS_PW = "boss", "cobalt-lantern-17"
PW = "amber-kettle-42"


def _window(qtbot, db_path, user=BOSS, password=BOSS_PW):
    from desktop.main_window import MainWindow, SessionInfo
    store = CaseStore.open(db_path)
    store.sign_in(user, password)
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() == 4)
    return w, store


@pytest.fixture
def admin_window(qtbot, db_path):
    w, store = _window(qtbot, db_path)
    yield w
    w.confirm_unsaved = False
    w.close()
    store.close()


def _page(window, kind):
    page = next(p for p in window.pages if isinstance(p, kind))
    window.go_to(page)
    return page


def test_admin_pages_are_shown_to_administrators_only(qtbot, db_path):
    from desktop.admin.settings_page import ServiceSettingsPage
    from desktop.admin.staff_page import StaffPage
    w, store = _window(qtbot, db_path)
    assert {StaffPage, ServiceSettingsPage} <= {type(p) for p in w.pages}
    # An administrator backs up and restores a file; a server's backups are the server's own (pg_dump), so
    # the File menu offers none of the app's there.
    on_file = w.store.url is None
    assert [a.isVisible() for a in (w.backup_action, w.copy_backups_action, w.restore_action)] == [on_file] * 3
    w.close()
    store.close()
    w, store = _window(qtbot, db_path, "cal", PW)
    assert not {StaffPage, ServiceSettingsPage} & {type(p) for p in w.pages}
    assert not w.backup_action.isVisible()
    w.close()
    store.close()


def test_settings_page_saves_contact_details_signer_rules_instruments_and_venue_days(qtbot, admin_window):
    from desktop.admin.settings_page import ServiceSettingsPage
    store = admin_window.store
    venue = store.service.add_venue("LIB", "Central Library", "COMMUNITY")
    page = _page(admin_window, ServiceSettingsPage)
    page.load()
    assert page.phone.text() == "0191 496 0000" and page.numbers["idle_lock_minutes"].value() == 10
    page.phone.clear()
    page.save()
    assert "at least one" in page.fields.error_text("phone")          # nothing saved without a way in
    qtbot.keyClicks(page.phone, "0191 222 3333")
    qtbot.keyClicks(page.signer, "Pat Lead")
    qtbot.keyClicks(page.signer_role, "Service lead")
    page.numbers["idle_lock_minutes"].setValue(3)
    first = next(iter(page.instrument_boxes))
    page.instrument_boxes[first].setChecked(not page.instrument_boxes[first].isChecked())
    wanted = first in {c for c, b in page.instrument_boxes.items() if b.isChecked()}
    page.venue_days[venue]["Sat"].setChecked(True)
    page.venue_days[venue]["Mon"].setChecked(False)
    qtbot.mouseClick(page.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.saved_label.text().startswith("Saved"))
    assert store.service.get().phone == "0191 222 3333"
    got = store.service.settings()
    assert (got["letters.signer_name"], got["letters.signer_role"], got["idle_lock_minutes"]) == \
        ("Pat Lead", "Service lead", 3)
    assert (first in store.service.enabled_instruments()) == wanted
    assert store.service.venue_days()[venue] == ["Tue", "Wed", "Thu", "Fri", "Sat"]


def test_staff_page_adds_resets_locks_ends_and_keeps_the_last_administrator(qtbot, admin_window, db_path):
    from desktop.admin.staff_page import StaffPage
    page = _page(admin_window, StaffPage)
    page.add({"full_name": "Tia Trainer", "username": "tia", "password": "1234", "roles": ["TRAINER"]})
    qtbot.waitUntil(lambda: "at least 10" in page.message.text())
    page.add({"full_name": "Tia Trainer", "username": "tia", "password": "plum tractor singing",
              "roles": ["TRAINER"]})
    qtbot.waitUntil(lambda: "Tia Trainer added" in page.message.text())
    assert page.selected().username == "tia" and page.selected().state == "Active"
    page.reset_password()
    qtbot.waitUntil(lambda: "One-time password for tia" in page.message.text())
    one_time = page.message.text().split("tia: ")[1].split()[0]
    assert page.selected().state == "Must choose a password"
    with CaseStore.open(db_path) as other:
        other.sign_in("tia", one_time)
        assert other.must_change_password
    page.end(confirmed=True)
    qtbot.waitUntil(lambda: page.selected() is not None and page.selected().state.startswith("Ended"))
    assert not page.lock_button.isEnabled()
    page.select("boss")
    page._act("lock")
    qtbot.waitUntil(lambda: "only active administrator" in page.message.text())
    page.change_roles(["MANAGER"])
    qtbot.waitUntil(lambda: "only active administrator" in page.message.text()
                    and "Roles of" not in page.message.text())
    assert page.selected().state == "Active"


def test_signing_in_with_a_one_time_password_asks_for_a_new_one(qtbot, db_path):
    from desktop.signin import SignInDialog
    with CaseStore.open(db_path) as admin:
        admin.sign_in(BOSS, BOSS_PW)
        one_time = admin.admin.reset_password("amy")
    store = CaseStore.open(db_path)
    dialog = SignInDialog(store, "Test Health Trainers", False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "amy")
    qtbot.keyClicks(dialog.password, one_time)
    qtbot.keyClick(dialog.password, Qt.Key_Return)
    assert dialog.change_box.isVisible() and dialog.result() == 0
    qtbot.keyClicks(dialog.new_password, "demo")
    qtbot.keyClicks(dialog.new_password2, "demo")
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    assert "at least 10" in dialog.fields.error_text("new_password") and dialog.result() == 0
    dialog.new_password.setText("velvet cabbage orbit")
    dialog.new_password2.setText("velvet cabbage orbit")
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    assert dialog.result() == SignInDialog.Accepted and not store.must_change_password
    store.close()
    with CaseStore.open(db_path) as s:
        assert s.sign_in("amy", "velvet cabbage orbit").username == "amy"


def _idle(window, minutes):
    window.session.watch.last_input = time.monotonic() - minutes * 60 - 1
    window.session.check_idle()


def test_idle_lock_hides_every_record_and_the_same_user_unlocks_with_typing_kept(qtbot, db_path):
    w, store = _window(qtbot, db_path, "cal", PW)
    w.clients.open_client(store.clients.search("Smith")[0].id)
    qtbot.waitUntil(lambda: w.clients.record.form.client is not None)
    w.clients.record.form.fields.fields["first_name"].widget.setText("Maggie")
    _idle(w, 9)
    assert not w.session.locked
    _idle(w, 10)
    assert w.session.locked and w.session.lock_screen.isVisible()
    assert not w.centralWidget().isVisible() and not w.menuBar().isVisible() and not w.nav.isVisible()
    assert w.session.lock_screen.username.text() == "cal"
    w.session.lock_screen.password.setText("wrong-guess-xyz")
    qtbot.mouseClick(w.session.lock_screen.unlock_button, Qt.LeftButton)
    assert w.session.locked and "Wrong username or password" in w.session.lock_screen.message.text()
    w.session.lock_screen.password.setText(PW)
    qtbot.keyClick(w.session.lock_screen.password, Qt.Key_Return)
    assert not w.session.locked and w.centralWidget().isVisible()
    assert w.clients.record.form.fields.fields["first_name"].widget.text() == "Maggie"
    w.confirm_unsaved = False
    w.close()
    store.close()


def test_the_lock_hides_an_open_form_and_a_one_time_password_is_replaced_before_unlocking(qtbot, db_path):
    w, store = _window(qtbot, db_path, "cal", PW)
    w.clients.open_client(store.clients.search("Smith")[0].id)
    qtbot.waitUntil(lambda: w.clients.record.form.client is not None)
    qtbot.mouseClick(w.clients.record.referral_button, Qt.LeftButton)
    dialog = w.clients.record.dialog
    qtbot.keyClicks(dialog.referrer, "Jo Bloggs")
    assert dialog.isVisible()
    with CaseStore.open(db_path) as admin:          # meanwhile an administrator resets cal's password
        admin.sign_in(BOSS, BOSS_PW)
        one_time = admin.admin.reset_password("cal")
    w.session.lock()
    screen = w.session.lock_screen
    assert screen.isVisible() and not dialog.isVisible()       # no form shows over the lock screen
    screen.password.setText(one_time)
    qtbot.mouseClick(screen.unlock_button, Qt.LeftButton)
    assert w.session.locked and screen.change_box.isVisible() and not dialog.isVisible()
    assert "one-time password" in screen.message.text()
    screen.new_password.setText("tangerine harbour wobble")
    screen.new_password2.setText("tangerine harbour wobbly")
    qtbot.mouseClick(screen.unlock_button, Qt.LeftButton)
    assert w.session.locked and "not the same" in screen.message.text()
    screen.new_password2.setText("tangerine harbour wobble")
    qtbot.keyClick(screen.new_password2, Qt.Key_Return)
    assert not w.session.locked and not store.must_change_password
    assert dialog.isVisible() and dialog.referrer.text() == "Jo Bloggs"     # the form comes back as it was
    with CaseStore.open(db_path) as again:
        assert again.sign_in("cal", "tangerine harbour wobble").username == "cal"
    dialog.reject()
    w.confirm_unsaved = False
    w.close()
    store.close()


def test_another_user_at_the_lock_screen_first_settles_the_open_form(qtbot, db_path):
    w, store = _window(qtbot, db_path, "cal", PW)
    w.clients.open_client(store.clients.search("Smith")[0].id)
    qtbot.waitUntil(lambda: w.clients.record.form.client is not None)
    w.clients.record.form.fields.fields["first_name"].widget.setText("Maggie")
    w.session.switch_user()
    asked = []
    w.session.ask_settle = lambda who: asked.append(who) or None      # Cancel: nothing changes hands
    w.session.lock_screen.username.setText("amy")
    w.session.lock_screen.password.setText(PW)
    qtbot.mouseClick(w.session.lock_screen.unlock_button, Qt.LeftButton)
    assert asked == ["Cal Coordinator"] and store.actor.username == "cal" and w.session.replacement is None
    w.session.ask_settle = lambda who: "save"
    qtbot.mouseClick(w.session.lock_screen.unlock_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.session.replacement is not None)
    new = w.session.replacement
    assert store.actor.username == "amy" and new.isVisible() and not w.isVisible()
    assert store.clients.search("Maggie")                           # saved as cal before amy came in
    assert store.db.conn.execute("SELECT updated_by FROM clients WHERE first_name = 'Maggie'").fetchone()[0] == "cal"
    new.confirm_unsaved = False
    new.close()
    store.close()


def test_backup_now_shows_its_age_reminds_when_old_and_restore_checks_the_service(qtbot, db_path, tmp_path):
    w, store = _window(qtbot, db_path)
    assert w.backup_label.text().startswith("No backup yet")
    w.session.back_up_now()
    qtbot.waitUntil(lambda: w.backup_label.text() == "Last backup today")
    written = w.session.last_backup_path
    old = (datetime.now() - timedelta(days=9)).timestamp()
    os.utime(written, (old, old))
    w.session.reminded = False
    w.session.show_backup_age()
    assert w.backup_label.text().startswith("Last backup 9 days ago \u2014 back up now")
    assert "color: #b00020" in w.backup_label.styleSheet()
    stick = tmp_path / "stick"
    stick.mkdir()
    w.session.copy_backups(str(stick))
    qtbot.waitUntil(lambda: (stick / written.name).exists())
    # Another service's backup: refused without its code, restored with it; then everyone signs in again.
    other = tmp_path / "other.sqlite3"
    with CaseStore.create_new(other, service_name="Gateshead Health Trainers", service_code="GATES",
                              admin_username="gboss", admin_password=PW, contact={"phone": "0191 000 0000"}) as g:
        g.sign_in("gboss", PW)
        theirs = g.admin.backup(tmp_path / "gates-backup.sqlite3")
        their_recovery_key = g.recovery_key
    errors = []
    w.worker.default_error = errors.append
    # Encrypted with that database's key: it opens with its recovery key.
    w.session.restore(str(theirs), confirm_code="TESTHT", backup_key=their_recovery_key)
    qtbot.waitUntil(lambda: bool(errors))
    assert "another service" in str(errors[0]) and store.service.get().code == "TESTHT"
    w.session.restore(str(theirs), confirm_code="GATES", backup_key=their_recovery_key)
    qtbot.waitUntil(lambda: w.session.locked)
    assert store.actor is None and "Restored" in w.session.lock_screen.explain.text()
    assert store.service.get().code == "GATES"
    w.confirm_unsaved = False
    w.close()
    store.close()


def test_restore_is_offered_at_sign_in_to_an_administrator_with_the_backup_checked(qtbot, db_path, tmp_path):
    from desktop.signin import SignInDialog
    other = tmp_path / "other.sqlite3"
    with CaseStore.create_new(other, service_name="Gateshead Health Trainers", service_code="GATES",
                              admin_username="gboss", admin_password=PW, contact={"phone": "0191 000 0000"}) as g:
        g.sign_in("gboss", PW)
        theirs = g.admin.backup(tmp_path / "gates-backup.sqlite3")
        their_recovery_key = g.recovery_key
    store = CaseStore.open(db_path)
    dialog = SignInDialog(store, "Test Health Trainers", False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.restore_button.isVisible()
    dialog.username.setText("cal")
    dialog.password.setText(PW)
    assert not dialog.restore_backup(str(theirs), confirm=lambda info, other: (True, "GATES"))
    assert "Only an administrator" in dialog.message.text() and store.actor is None
    dialog.username.setText(BOSS)
    dialog.password.setText(BOSS_PW)
    seen = []
    asked = []
    assert not dialog.restore_backup(str(theirs), confirm=lambda info, other: seen.append((info, other)) or (True, "X"),
                                     confirm_key=lambda message: asked.append(message) or their_recovery_key)
    assert "encrypted backup of Gateshead" in asked[0]
    assert seen[0][1] is True and seen[0][0].services == (("GATES", "Gateshead Health Trainers"),)
    assert "another service" in dialog.message.text() and store.service.get().code == "TESTHT"
    dialog.password.setText(BOSS_PW)
    assert dialog.restore_backup(str(theirs), confirm=lambda info, other: (True, "gates"),
                                 confirm_key=lambda message: their_recovery_key)
    assert "Restored Gateshead Health Trainers (GATES)" in dialog.message.text() and store.actor is None
    assert dialog.message.accessibleName().startswith("Done:")              # told as done, not as a problem
    assert dialog.service_label.text() == "Gateshead Health Trainers"       # whose records are here now
    assert store.service.get().code == "GATES"
    store.close()


def test_sign_out_discarding_the_open_form_then_the_next_person_gets_their_own_window(qtbot, db_path):
    w, store = _window(qtbot, db_path, "cal", PW)
    w.clients.open_client(store.clients.search("Smith")[0].id)
    qtbot.waitUntil(lambda: w.clients.record.form.client is not None)
    w.clients.record.form.fields.fields["first_name"].widget.setText("Maggie")
    w.session.ask_settle = lambda who: "discard"
    w.sign_out_action.trigger()
    assert store.actor is None and w.session.locked and w.session.lock_screen.title.text() == "Signed out"
    assert not w.centralWidget().isVisible()
    w.session.lock_screen.username.setText("amy")
    w.session.lock_screen.password.setText(PW)
    qtbot.mouseClick(w.session.lock_screen.unlock_button, Qt.LeftButton)
    new = w.session.replacement
    assert new is not None and new.isVisible() and store.actor.username == "amy"
    assert "Signed in as Amy Trainer" in new.user_label.text()
    with CaseStore.open(db_path) as check:
        check.sign_in(BOSS, BOSS_PW)
        assert not check.clients.search("Maggie")                     # discarded, never saved
    new.confirm_unsaved = False
    new.close()
    store.close()
