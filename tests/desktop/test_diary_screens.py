"""Issue 11, driven through the real widgets: a trainer's My day, booking a block, a clash and its offered
slot, recording (attended with notes and the next booking; DNAs and the follow-up), a group of four,
the coordinator's week across trainers, a champion's own diary only."""
from __future__ import annotations

from db.connection import copy_database
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from db.store import CaseStore
from desktop.diary.dialogs import BookingDialog, GroupDialog, RecordDialog, set_time
from desktop.diary.my_day import MyDayPage
from desktop.diary.page import DiaryPage
from desktop.worker import Worker

from test_client_screens import mnemonics

REAL_TODAY = date.today()
TODAY = REAL_TODAY + timedelta(days=7 - REAL_TODAY.weekday())      # next Monday: the pages' "today"
RECEIVED = (REAL_TODAY - timedelta(days=60)).isoformat()


def dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


@pytest.fixture(scope="session")
def _diary_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("diary") / "diary.sqlite3"
    store = CaseStore.create_new(path, service_name="Test Health Trainers", service_code="TESTHT",
                                 contact={"phone": "0191 496 0000"},
                                 admin_username="boss", admin_password="cobalt-lantern-17")
    store.sign_in("boss", "cobalt-lantern-17")
    staff = {name: store.service.add_staff(full, role, username=name, password="amber-kettle-42") for name, full, role in (
        ("amy", "Amy Trainer", "TRAINER"), ("ben", "Ben Trainer", "TRAINER"), ("cath", "Cath Champion", "CHAMPION"),
        ("cal", "Cal Coordinator", "COORD"))}
    store.service.add_venue("CC1", "Byker Community Centre", "COMMUNITY")
    store.sign_in("cal", "amber-kettle-42")
    owners = ["amy"] * 5 + ["ben", "cath"]
    names = ["Siobhán O'Neill", "Zoë Ali-Khan", "Peter Nguyen", "Margaret Smith", "Tom Bell", "Ben's Client",
             "Cath's Client"]
    referrals = {}
    for n, (owner, name) in enumerate(zip(owners, names)):
        first, last = name.split(" ", 1)
        cid = store.clients.add({"first_name": first, "last_name": last, "date_of_birth": "1980-03-04",
                                 "gender": "2", "ethnicity": "A"}).ids[0]
        rid = store.referrals.add(cid, {"received_date": RECEIVED, "source": "SELF", "reasons": ["DIET"]}).ids[0]
        store.referrals.allocate(rid, staff[owner])
        referrals[n] = rid
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, staff, referrals


@pytest.fixture
def diary_db(tmp_path, _diary_template):
    template, staff, referrals = _diary_template
    path = tmp_path / "diary.sqlite3"
    copy_database(template, path)
    return path, staff, referrals


def _store(path: Path, who: str) -> CaseStore:
    store = CaseStore.open(path)
    store.sign_in(who, "amber-kettle-42")
    return store


@pytest.fixture
def worker(qtbot):
    w = Worker()
    yield w
    w.stop()


def _book(store, rid, day: date, start: str, **more):
    values = {"session_date": day.isoformat(), "start_time": start, "duration_minutes": 60, "mode": "PHONE", **more}
    return store.diary.book(rid, values, confirm_past=True, today=TODAY)


def _page(qtbot, page_type, store, worker):
    page = page_type(store, worker, today=TODAY)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.loaded_once)
    return page


def store_changes(dialog):
    from db.records import Changes
    return Changes("session", tuple(dialog.recorded.session_ids), "update")


def _dialog(qtbot, page, kind):
    qtbot.waitUntil(lambda: isinstance(page.actions.dialog, kind) and page.actions.dialog.isVisible())
    dialog = page.actions.dialog
    dialog.activateWindow()           # as on a desktop: the dialog just opened has the keyboard
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def test_a_trainer_signs_in_to_my_day_first(qtbot, diary_db):
    from desktop.main_window import MainWindow, SessionInfo
    path, staff, refs = diary_db
    store = _store(path, "amy")
    _book(store, refs[1], REAL_TODAY, "14:00")
    _book(store, refs[0], REAL_TODAY, "09:30")
    w = MainWindow(store, SessionInfo("Test", False, path))
    qtbot.addWidget(w)
    w.show()
    assert isinstance(w.stack.currentWidget(), MyDayPage)
    assert [a.text() for a in w.nav_actions][:3] == ["My day", "Clients", "Diary"]
    page = w.stack.currentWidget()
    qtbot.waitUntil(lambda: page.sessions.rowCount() == 2)
    shown = [(page.sessions.index(r, 0).data(), page.sessions.index(r, 1).data()) for r in range(2)]
    assert shown == [("09:30\u201310:30", "Siobhán O'Neill (HT-000001)"), ("14:00\u201315:00", "Zoë Ali-Khan (HT-000002)")]
    assert page.caseload.rowCount() == 5
    # Enter on a caseload row opens the client's record where the next thing due is done.
    page.caseload_view.setFocus()
    row = next(r for r in range(5) if page.caseload.rows[r].client_ref == "HT-000001")
    page.caseload_view.setCurrentIndex(page.caseload.index(row, 0))
    chosen = page.current_case()
    assert chosen.due == ("Baseline assessment missing",)          # a first session booked today
    qtbot.keyClick(page.caseload_view, Qt.Key_Return)
    record = w.clients.record
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.clients and record.client is not None
                    and record.client.id == chosen.client_id
                    and record.tabs.currentWidget().widget() is record.assessments_tab)
    # A client with nothing booked opens at the referral.
    w.go_to(page)
    row = next(r for r in range(5) if page.caseload.rows[r].client_ref == "HT-000003")
    page.caseload_view.setCurrentIndex(page.caseload.index(row, 0))
    assert page.current_case().due == ("Book the next session",)
    qtbot.keyClick(page.caseload_view, Qt.Key_Return)
    qtbot.waitUntil(lambda: record.client.client_ref == "HT-000003" and record.tabs.currentIndex() == 1)
    w.confirm_unsaved = False
    w.close()


def test_a_trainer_books_a_block_of_six_then_meets_a_clash_and_takes_the_offered_slot(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "amy")
    page = _page(qtbot, MyDayPage, store, worker)
    qtbot.mouseClick(page.book_button, Qt.LeftButton)
    dialog = _dialog(qtbot, page, BookingDialog)
    assert not dialog.trainer.isEnabled() and dialog.trainer.currentText() == "Amy Trainer"
    dialog.client.setCurrentIndex(dialog.client.findData(refs[0]))
    dialog.date_field.setText(dmy(TODAY + timedelta(days=1)))
    set_time(dialog.start_field, "10:00")
    dialog.where_field.set_value("PHONE", None)
    dialog.weeks.setValue(6)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.changes is not None)
    ids = dialog.changes
    assert len(ids) == 6
    got = [store.diary.entry(i) for i in ids]
    assert [e.session_date for e in got] == [(TODAY + timedelta(days=1 + 7 * k)).isoformat() for k in range(6)]
    assert {e.start_time for e in got} == {"10:00"}

    # Another client at 10:30 the same day: the clash is named and the next free slot offered.
    qtbot.mouseClick(page.book_button, Qt.LeftButton)
    dialog = _dialog(qtbot, page, BookingDialog)
    dialog.client.setCurrentIndex(dialog.client.findData(refs[1]))
    dialog.date_field.setText(dmy(TODAY + timedelta(days=1)))
    set_time(dialog.start_field, "10:30")
    dialog.length.setValue(45)
    dialog.where_field.set_value("PHONE", None)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.offer_button.isVisible())
    message = dialog.fields.error_text("start_time")
    assert "Amy Trainer is already booked from 10:00 to 11:00" in message and "next free slot" in message
    assert dialog.offer_button.text().endswith("at 11:00")
    assert dialog.focusWidget() is dialog.offer_button        # the keyboard is on the offer: Space takes it
    qtbot.keyClick(dialog.offer_button, Qt.Key_Space)
    assert dialog.start_field.time().toString("HH:mm") == "11:00"
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.changes is not None)
    booked = store.diary.entry(dialog.changes[0])
    assert (booked.session_date, booked.start_time, booked.client_ref) == (
        (TODAY + timedelta(days=1)).isoformat(), "11:00", "HT-000002")


def test_a_past_date_is_booked_only_after_confirming_and_bad_lengths_are_named(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "amy")
    page = _page(qtbot, MyDayPage, store, worker)
    page.actions.book(referral_id=refs[2])
    dialog = _dialog(qtbot, page, BookingDialog)
    dialog.date_field.setText(dmy(TODAY - timedelta(days=3)))
    dialog.where_field.set_value("PHONE", None)
    dialog.length.setValue(0)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.fields.error_text("duration_minutes") != "")
    assert "0 minutes is not a session" in dialog.fields.error_text("duration_minutes")
    dialog.length.setValue(60)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.past_box.isVisible())
    assert "in the past" in dialog.fields.error_text("session_date")
    assert store.diary.week(TODAY - timedelta(days=7), 14, staff_id=staff["amy"]) == []
    qtbot.keyClick(dialog.past_box, Qt.Key_Space)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.changes is not None)
    assert store.diary.entry(dialog.changes[0]).session_date == (TODAY - timedelta(days=3)).isoformat()


def test_recording_attended_with_notes_and_the_next_booking_by_keyboard_only(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "amy")
    store.plans.add(refs[0], {"agreed_date": RECEIVED}, goals=[
        {"area": "DIET", "goal_text": "Eat breakfast", "status": "INPROGRESS"},
        {"area": "ACTIVITY", "goal_text": "Walk to work", "status": "INPROGRESS"}])
    [sid] = _book(store, refs[0], TODAY, "09:00")
    page = _page(qtbot, MyDayPage, store, worker)
    qtbot.waitUntil(lambda: page.sessions.rowCount() == 1)
    page.sessions_view.setFocus()
    page.sessions_view.setCurrentIndex(page.sessions.index(0, 0))
    qtbot.keyClick(page.sessions_view, Qt.Key_Return)
    dialog = _dialog(qtbot, page, RecordDialog)
    assert dialog.focusWidget() is dialog.outcome and dialog.outcome.code() == "5"
    assert dialog.book_next.isChecked()
    qtbot.keyClick(dialog.outcome, Qt.Key_Tab)
    assert dialog.focusWidget() is dialog.notes
    qtbot.keyClicks(dialog.notes, "Talked about breakfast and a walking route")
    qtbot.keyClick(dialog.notes, Qt.Key_Tab)
    assert dialog.focusWidget() is dialog.goal_list
    qtbot.keyClick(dialog.goal_list, Qt.Key_Down)
    qtbot.keyClick(dialog.goal_list, Qt.Key_Space)
    qtbot.keyClick(dialog.goal_list, Qt.Key_Return, Qt.ControlModifier)
    qtbot.waitUntil(lambda: dialog.recorded is not None)
    held = store.diary.entry(sid)
    assert (held.attendance, held.notes) == ("5", "Talked about breakfast and a walking route")
    ticked = [dialog.goal_list.item(i).data(Qt.UserRole) for i in range(dialog.goal_list.count())
              if dialog.goal_list.item(i).checkState() == Qt.Checked]
    assert len(ticked) == 1 and store.diary.goals_worked(sid) == ticked
    [nxt] = dialog.recorded.booked
    following = store.diary.entry(nxt)
    assert (following.session_date, following.start_time, following.mode) == (
        (TODAY + timedelta(days=7)).isoformat(), "09:00", "PHONE")
    page.on_store_changed(store_changes(dialog), True)      # as the main window broadcasts it
    qtbot.waitUntil(lambda: page.sessions.rowCount() == 1 and page.sessions.index(0, 5).data() == "Attended")


def test_a_dna_offers_to_book_again_and_the_second_in_a_row_reaches_the_coordinators_list(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "amy")
    first, = _book(store, refs[3], TODAY - timedelta(days=7), "11:00")
    second, = _book(store, refs[3], TODAY, "11:00")
    store.diary.record(first, "3", expected_version=store.diary.entry(first).row_version, today=TODAY)
    page = _page(qtbot, MyDayPage, store, worker)
    qtbot.waitUntil(lambda: page.sessions.rowCount() == 1)
    page.sessions_view.setCurrentIndex(page.sessions.index(0, 0))
    page.actions.record()
    dialog = _dialog(qtbot, page, RecordDialog)
    dialog.outcome.set_code("3")
    dialog.book_next.setChecked(False)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.actions.after_dna is not None and page.actions.after_dna.isVisible())
    box = page.actions.after_dna
    assert "two missed sessions in a row" in box.text() and "follow-up list" in box.text()
    letter = next(b for b in box.buttons() if "letter" in b.text())
    assert not letter.isEnabled()        # trainers may not send letters: a coordinator does
    again = next(b for b in box.buttons() if "Book again" in b.text())
    qtbot.mouseClick(again, Qt.LeftButton)
    booking = _dialog(qtbot, page, BookingDialog)
    assert booking.client.currentData() == refs[3]
    booking.reject()

    coordinator = _store(path, "cal")
    diary = _page(qtbot, DiaryPage, coordinator, worker)
    diary.set_view("follow-up")
    qtbot.waitUntil(lambda: diary.follow_model.rowCount() == 1)
    row = diary.follow_model.rows[0]
    assert (row.client_ref, row.staff_name, row.last_dna) == ("HT-000004", "Amy Trainer", TODAY.isoformat())
    assert diary.open_button.isEnabled()


def test_a_group_of_four_is_booked_and_recorded_on_one_screen(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "amy")
    venue = store.service.venues()[0].id
    page = _page(qtbot, MyDayPage, store, worker)
    page.actions.book(group=True)
    dialog = _dialog(qtbot, page, BookingDialog)
    assert dialog.members.isVisible() and not dialog.client.isVisible()
    for n in range(4):
        dialog.check_member(refs[n])
    dialog.group_title.setText("Walking group")
    dialog.date_field.setText(dmy(TODAY))
    set_time(dialog.start_field, "13:00")
    dialog.length.setValue(90)
    dialog.where_field.set_value("F2F", venue)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.changes is not None)
    assert len(dialog.changes) == 4
    page.refresh()
    qtbot.waitUntil(lambda: page.sessions.rowCount() == 1 and page.sessions.index(0, 1).data() ==
                    "Walking group (group of 4)")
    page.sessions_view.setCurrentIndex(page.sessions.index(0, 0))
    assert page.group_button.isEnabled()
    qtbot.mouseClick(page.group_button, Qt.LeftButton)
    group = _dialog(qtbot, page, GroupDialog)
    assert group.table.rowCount() == 4
    qtbot.mouseClick(group.all_attended, Qt.LeftButton)
    group.outcomes[2].set_code("3")
    group.outcomes[3].set_code("2")
    qtbot.mouseClick(group.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: group.recorded is not None)
    members = store.diary.group(store.diary.entry(dialog.changes[0]).group_id, TODAY.isoformat())
    assert sorted(m.attendance for m in members) == ["2", "3", "5", "5"]
    # Counted per client, as one-to-one sessions are: two attended contacts, one DNA.
    counts = dict(store.db.conn.execute("SELECT attendance, COUNT(*) FROM sessions GROUP BY attendance").fetchall())
    assert counts == {"5": 2, "3": 1, "2": 1}


def test_the_coordinator_sees_the_week_across_trainers_and_per_venue(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    coordinator = _store(path, "cal")
    venue = coordinator.service.venues()[0].id
    _book(coordinator, refs[0], TODAY + timedelta(days=1), "10:00", staff_id=staff["amy"])
    _book(coordinator, refs[1], TODAY + timedelta(days=1), "14:00", staff_id=staff["amy"])
    _book(coordinator, refs[5], TODAY + timedelta(days=1), "10:00", staff_id=staff["ben"], mode="F2F",
          venue_id=venue)
    _book(coordinator, refs[6], TODAY + timedelta(days=3), "14:00", staff_id=staff["cath"])
    page = _page(qtbot, DiaryPage, coordinator, worker)
    assert page.trainer.isEnabled() and page.trainer.currentText() == "All trainers"
    # Everyone's week: a row per trainer, a column per day.
    qtbot.waitUntil(lambda: page.team_model.rowCount() == 3)
    assert page.stack.currentWidget() is page.team_view
    model = page.team_model
    assert [model.headerData(r, Qt.Vertical) for r in range(3)] == ["Amy Trainer", "Ben Trainer", "Cath Champion"]
    assert model.data(model.index(0, 1)) == "2 sessions\n10:00\u201315:00"
    assert model.data(model.index(1, 1)) == "1 session\n10:00\u201311:00"
    assert model.data(model.index(2, 3)) == "1 session\n14:00\u201315:00"
    assert model.data(model.index(2, 1)) == "" and model.headerData(1, Qt.Horizontal).endswith(": 3")
    # Enter on Amy's Tuesday opens her day.
    page.team_view.setFocus()
    page.team_view.setCurrentIndex(model.index(0, 1))
    qtbot.keyClick(page.team_view, Qt.Key_Return)
    qtbot.waitUntil(lambda: page.mode() == "day" and page.day_model.rowCount() == 2)
    assert page.trainer.currentText() == "Amy Trainer"
    assert [e.client_ref for e in page.day_model.rows] == ["HT-000001", "HT-000002"]
    # One trainer's week shows each session; one venue's, only the sessions held there.
    page.set_view("week")
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.week_view and page.week_model.rowCount() == 2)
    page.show_trainer(None)
    page.venue.setCurrentIndex(page.venue.findData(venue))
    qtbot.waitUntil(lambda: page.team_model.rowCount() == 1 and page.team_model.staff[0][1] == "Ben Trainer")


def test_a_champion_sees_only_their_own(qtbot, diary_db, worker):
    from desktop.main_window import MainWindow, SessionInfo
    path, staff, refs = diary_db
    coordinator = _store(path, "cal")
    _book(coordinator, refs[6], REAL_TODAY, "14:00", staff_id=staff["cath"])
    _book(coordinator, refs[0], REAL_TODAY, "10:00", staff_id=staff["cath"])     # not her client
    _book(coordinator, refs[5], REAL_TODAY, "10:00", staff_id=staff["ben"])
    coordinator.close()
    store = _store(path, "cath")
    w = MainWindow(store, SessionInfo("Test", False, path))
    qtbot.addWidget(w)
    w.show()
    page = w.stack.currentWidget()
    assert isinstance(page, MyDayPage)
    qtbot.waitUntil(lambda: page.loaded_once)
    assert [page.sessions.index(r, 1).data() for r in range(page.sessions.rowCount())] == [
        "Cath's Client (HT-000007)"]
    assert [c.client_ref for c in page.caseload.rows] == ["HT-000007"]
    diary = next(p for p in w.pages if isinstance(p, DiaryPage))
    w.go_to(diary)
    qtbot.waitUntil(lambda: diary.loaded_once)
    assert not diary.trainer.isEnabled() and diary.view_choice.findData("follow-up") < 0
    assert [e.client_ref for e in diary.entries] == ["HT-000007"]
    page.actions.book()
    dialog = _dialog(qtbot, page, BookingDialog)
    assert [dialog.client.itemText(i) for i in range(1, dialog.client.count())] == [
        "Cath's Client (HT-000007, RF-000007)"]
    dialog.reject()
    w.confirm_unsaved = False
    w.close()


def test_move_and_cancel_keep_the_history_and_an_edit_made_meanwhile_is_not_overwritten(qtbot, diary_db, worker):
    from desktop.diary.dialogs import CancelDialog, MoveDialog
    from desktop.widgets.common import shown_errors
    path, staff, refs = diary_db
    store = _store(path, "amy")
    [sid] = _book(store, refs[4], TODAY + timedelta(days=2), "10:00")
    page = _page(qtbot, DiaryPage, store, worker)
    qtbot.waitUntil(lambda: page.select_session(sid))
    qtbot.mouseClick(page.move_button, Qt.LeftButton)
    move = _dialog(qtbot, page, MoveDialog)
    move.date_field.setText(dmy(TODAY + timedelta(days=3)))
    qtbot.mouseClick(move.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Reason" in move.fields.error_text("reason"))
    move.reason.setText("Client asked for Thursday")
    qtbot.mouseClick(move.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: move.changes is not None)
    page.on_store_changed(move.changes, True)      # as the main window broadcasts it
    qtbot.waitUntil(lambda: page.select_session(sid) and page.current().session_date == (
        TODAY + timedelta(days=3)).isoformat())
    opened = page.current()
    other = _store(path, "cal")
    other.diary.move(sid, {"start_time": "15:00"}, "Room taken", expected_version=opened.row_version, today=TODAY)
    other.close()
    qtbot.mouseClick(page.cancel_button, Qt.LeftButton)
    cancel = _dialog(qtbot, page, CancelDialog)
    cancel.reason.setText("Client unwell")
    before = len(shown_errors)
    qtbot.mouseClick(cancel.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(shown_errors) > before)
    assert "Someone else (cal) changed this session" in shown_errors[-1].text()
    assert store.diary.entry(sid).attendance == "0"
    shown_errors[-1].close()
    history = store.diary.history(sid)
    assert [(h.action, h.reason) for h in history] == [("moved", "Client asked for Thursday"),
                                                       ("moved", "Room taken")]


def test_no_alt_key_answers_twice_on_the_diary_screens_and_dialogs(qtbot, diary_db, worker):
    path, staff, refs = diary_db
    store = _store(path, "cal")
    _book(store, refs[0], TODAY, "10:00", staff_id=staff["amy"])
    trainer = _store(path, "amy")
    my_day = _page(qtbot, MyDayPage, trainer, worker)
    diary = _page(qtbot, DiaryPage, store, worker)
    found = {}

    def check(name, widget, menus=False):
        clashes = {k: v for k, v in mnemonics(widget).items() if len(v) > 1}
        if menus:      # the main window's menus answer F, G, L and H while a page is shown
            clashes.update({k: v for k, v in mnemonics(widget).items() if k in "fglh"})
        if clashes:
            found[name] = clashes

    check("my day", my_day, menus=True)
    check("diary", diary, menus=True)
    diary.set_view("day")
    qtbot.waitUntil(lambda: diary.day_model.rowCount() == 1)
    check("diary, day", diary, menus=True)
    diary.actions.book()
    check("booking", _dialog(qtbot, diary, BookingDialog))
    diary.actions.dialog.group_box.setChecked(True)
    check("booking a group", diary.actions.dialog)
    diary.actions.dialog.reject()
    my_day.sessions_view.setCurrentIndex(my_day.sessions.index(0, 0))
    my_day.actions.record()
    check("record", _dialog(qtbot, my_day, RecordDialog))
    assert found == {}


def test_appointment_letters_from_the_diary_only_for_a_session_still_to_come(qtbot, diary_db, worker, tmp_path):
    path, staff, refs = diary_db
    coordinator = _store(path, "cal")
    [past] = _book(coordinator, refs[0], TODAY - timedelta(days=7), "10:00", staff_id=staff["amy"])
    [future] = _book(coordinator, refs[0], TODAY + timedelta(days=2), "10:00", staff_id=staff["amy"])
    page = _page(qtbot, DiaryPage, coordinator, worker)
    page.show_trainer(staff["amy"])
    page.set_view("day")
    page.show_day(TODAY - timedelta(days=7))
    qtbot.waitUntil(lambda: page.select_session(past))
    assert not page.letter_button.isEnabled()
    page.show_day(TODAY + timedelta(days=2))
    qtbot.waitUntil(lambda: page.select_session(future))
    assert page.letter_button.isEnabled()
    out = tmp_path / "appointment.pdf"
    page.actions.letter("appointment", path=str(out))
    qtbot.waitUntil(lambda: page.actions.last_letter is not None)
    assert out.read_bytes().startswith(b"%PDF")
    kept = coordinator.documents.for_client(coordinator.diary.entry(future).client_id)
    assert [d.id for d in kept] == [page.actions.last_letter.id]


def test_the_diary_screen_prints_the_week_and_writes_a_calendar_file_without_names(qtbot, diary_db, worker,
                                                                                     tmp_path):
    from pypdf import PdfReader
    path, staff, refs = diary_db
    store = _store(path, "amy")
    _book(store, refs[1], TODAY + timedelta(days=1), "10:00")
    page = _page(qtbot, DiaryPage, store, worker)
    qtbot.waitUntil(lambda: len(page.entries) == 1)
    pdf, ics = tmp_path / "week.pdf", tmp_path / "week.ics"
    page.export("pdf", str(pdf))
    qtbot.waitUntil(lambda: page.last_export == str(pdf))
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Zoë Ali-Khan" in text and "(HT-000002)" in text and "Amy Trainer" in text, text
    page.export("ics", str(ics))
    qtbot.waitUntil(lambda: page.last_export == str(ics))
    calendar = ics.read_text(encoding="utf-8")
    assert "SUMMARY:ZA HT-000002" in calendar and "Zoë" not in calendar and "Ali-Khan" not in calendar


def test_every_control_on_the_diary_screens_and_dialogs_has_an_accessible_name(qtbot, diary_db, worker):
    from desktop.diary.dialogs import CancelDialog, MoveDialog
    from test_app import unnamed_controls
    path, staff, refs = diary_db
    coordinator = _store(path, "cal")
    venue = coordinator.service.venues()[0].id
    _book(coordinator, refs[0], TODAY, "10:00", staff_id=staff["amy"])
    coordinator.diary.book_group([refs[1], refs[2]], {"session_date": TODAY.isoformat(), "start_time": "13:00",
                                                      "duration_minutes": 60, "venue_id": venue,
                                                      "staff_id": staff["amy"]}, title="Walking group",
                                 today=TODAY)
    trainer = _store(path, "amy")
    my_day = _page(qtbot, MyDayPage, trainer, worker)
    qtbot.waitUntil(lambda: my_day.sessions.rowCount() == 2)
    found = {"my day": unnamed_controls(my_day)}
    diary = _page(qtbot, DiaryPage, coordinator, worker)
    found["everyone's week"] = unnamed_controls(diary)
    for view in ("day", "follow-up"):
        diary.set_view(view)
        found[view] = unnamed_controls(diary)
    my_day.sessions_view.setCurrentIndex(my_day.sessions.index(0, 0))
    for name, open_it, kind in (("record", my_day.actions.record, RecordDialog),
                                ("booking", my_day.actions.book, BookingDialog),
                                ("move", my_day.actions.move, MoveDialog),
                                ("cancel", my_day.actions.cancel, CancelDialog)):
        open_it()
        dialog = _dialog(qtbot, my_day, kind)
        found[name] = unnamed_controls(dialog)
        dialog.reject()
    my_day.sessions_view.setCurrentIndex(my_day.sessions.index(1, 0))
    my_day.actions.group()
    found["group"] = unnamed_controls(_dialog(qtbot, my_day, GroupDialog))
    assert {k: v for k, v in found.items() if v} == {}
