"""The plan, assessments, signposting and documents tabs of the client record, driven through their real
widgets (issue 12 "Done when")."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit

from db.store import CaseStore
from desktop.widgets import common

from desktop_helpers import open_by_typing


@pytest.fixture
def trainer_window(qtbot, db_path):
    """Siobhán O'Neill has an open referral allocated to the trainer amy; PHQ-9 is switched on; the
    directory has a debt advice service. The window is signed in as amy."""
    with CaseStore.open(db_path) as s:
        s.sign_in("boss", "cobalt-lantern-17")
        s.service.set_enabled_instruments(s.service.enabled_instruments() + ["PHQ9"])
        s.sign_in("cal", "amber-kettle-42")
        client = next(c for c in s.clients.search("") if c.last_name == "O'Neill")
        referral = s.referrals.add(client.id, {"received_date": "2026-01-05", "source": "SELF",
                                              "reasons": ["MONEY", "ACTIVITY"]}).ids[0]
        amy = next(st.id for st in s.service.staff() if st.full_name == "Amy Trainer")
        s.referrals.allocate(referral, amy)
        s.signposting.add_directory_entry("Citizens Advice Gateshead", "DEBT", phone="0808 278 7842",
                                          notes="Debt and benefits advice, Mondays")
        s.signposting.add_directory_entry("Saltwell Walking Group", "EXERCISE")
    from desktop.main_window import MainWindow, SessionInfo
    store = CaseStore.open(db_path)
    store.sign_in("amy", "amber-kettle-42")
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.resize(1366, 768)
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() >= 1)
    yield w
    w.confirm_unsaved = False
    w.close()
    w.deleteLater()


def _open(qtbot, window, tab_name: str):
    record = open_by_typing(qtbot, window, "siob")
    index = next(i for i in range(record.tabs.count()) if record.tabs.tabText(i) == tab_name)
    record.tabs.setCurrentIndex(index)
    return record


def _choose(combo: QComboBox, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def _type(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def test_agree_a_plan_with_two_goals_one_a_wider_determinant_and_review_one(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Plan")
    tab = record.plan_tab
    assert "No plan agreed yet" in tab.status.text()
    _type(qtbot, tab.what_matters, "Not worrying about the gas bill every week")
    # A wider determinant (money) and a lifestyle goal, typed as a trainer would.
    money = tab.area.findData("MONEY")
    assert "wider determinants" in tab.area.itemText(money)
    tab.area.setCurrentIndex(money)
    _type(qtbot, tab.goal_text, "Get my gas debt onto a payment plan I can afford")
    _type(qtbot, tab.steps, "Phone Citizens Advice on Monday with my bills ready")
    _type(qtbot, tab.barriers, "If I get anxious on the phone then I will ask my sister to sit with me")
    tab.confidence.setValue(6)
    tab.importance.setValue(9)
    qtbot.mouseClick(tab.save_goal_button, Qt.LeftButton)
    _choose(tab.area, "ACTIVITY")
    _type(qtbot, tab.goal_text, "Walk to the market on Saturday mornings")
    qtbot.mouseClick(tab.save_goal_button, Qt.LeftButton)
    assert tab.goals.rowCount() == 2
    tab.agreed_date.setText(date.today().strftime("%d/%m/%Y"))
    qtbot.mouseClick(tab.agree_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.plan is not None and len(tab.plan.goals) == 2, timeout=5000)
    assert tab.versions.count() == 1 and "Version 1" in tab.versions.item(0).text()
    plan = tab.plan
    assert [g.area for g in plan.goals] == ["MONEY", "ACTIVITY"]
    assert (plan.goals[0].confidence, plan.goals[0].importance) == (6, 9)
    assert plan.what_matters == "Not worrying about the gas bill every week"

    # Review the money goal: achieved, today.
    tab.goals_view.selectRow(0)
    qtbot.waitUntil(lambda: tab.review_button.isEnabled())
    qtbot.mouseClick(tab.review_button, Qt.LeftButton)
    dialog = tab.review_dialog
    _choose(dialog.outcome, "FULL")
    dialog.note.setText("Payment plan agreed with the supplier")
    dialog.accept()
    qtbot.waitUntil(lambda: tab.plan is not None and tab.plan.goals[0].status == "FULL", timeout=5000)
    assert [r.outcome for r in trainer_window.store.plans.reviews(tab.plan.id)] == ["FULL"]


def test_assessment_forms_score_live_and_say_what_is_missing(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Assessments")
    form = record.assessments_tab.form
    _choose(form.instrument, "SWEMWBS")
    assert len(form.fields) == 7 and all(isinstance(w, QComboBox) for w in form.fields.values())
    for n, widget in enumerate(form.fields.values()):
        if n < 6:
            _choose(widget, 4)
    assert form.score.text().startswith("Not computable: missing SWEMWBS item 7")
    _choose(form.fields["swemwbs_7"], 4)
    assert form.score.text() == "SWEMWBS (metric): 25.03"
    qtbot.mouseClick(form.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.assessments_tab.done.rowCount() == 1, timeout=5000)

    _choose(form.instrument, "BODY")
    weight, height = form.fields["weight_kg"], form.fields["height_cm"]
    assert isinstance(weight, QLineEdit)
    _type(qtbot, weight, "400")              # refused at the field: no third 0 above 350 kg
    assert weight.text() == "40"
    weight.clear()
    _type(qtbot, weight, "82.55")            # nor a second decimal
    assert weight.text() == "82.5"
    weight.clear()
    _type(qtbot, weight, "12")               # below 25 kg: held, and the score line says why
    assert not weight.hasAcceptableInput() and form.score.text().startswith("Check:")
    weight.clear()
    _type(qtbot, weight, "82.5")
    _type(qtbot, height, "165")
    assert "BMI: 30.3 kg/m² (Obesity I)" in form.score.text()
    _choose(form.timepoint, "BASELINE")
    qtbot.mouseClick(form.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.assessments_tab.done.rowCount() == 2, timeout=5000)
    # Next time the height is carried forward and said so.
    _choose(form.instrument, "BODY")
    form.date.setText(date.today().strftime("%d/%m/%Y"))
    assert "Height carried forward" not in form.carried.text()    # measured today: nothing earlier


def test_phq9_item_9_stops_the_form_with_the_safeguarding_steps(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Assessments")
    form = record.assessments_tab.form
    _choose(form.instrument, "PHQ9")
    _choose(form.fields["phq9_9"], 1)
    dialog = form.safeguarding
    assert dialog is not None and "999" in dialog.steps.text()
    assert not form.save_button.isEnabled() and not form.scroll.isEnabled()
    dialog.reject()                           # Escape does not get past the steps
    assert dialog.isVisible()
    qtbot.mouseClick(dialog.ack, Qt.LeftButton)
    qtbot.waitUntil(lambda: form.acknowledged or bool(common.shown_errors), timeout=5000)
    assert [b.text() for b in common.shown_errors] == []
    assert form.save_button.isEnabled()
    client_id = record.client.id
    prompts = trainer_window.store.assessments.safeguarding_prompts(client_id)
    assert [(p["answer"], p["acknowledged_by"]) for p in prompts] == [(1, "amy")]


def test_signpost_to_a_directory_entry_and_record_the_outcome(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Signposting")
    tab = record.signposting_tab
    assert not tab.add_entry_button.isEnabled() and "amy may not" in tab.directory_note.text()
    _type(qtbot, tab.search, "debt monday")
    assert tab.directory.rowCount() == 1
    tab.directory_view.selectRow(0)
    _choose(tab.type, "referred")
    qtbot.mouseClick(tab.signpost_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.signposts.rowCount() == 1, timeout=5000)
    assert tab.signposts.rows[0].destination == "Citizens Advice Gateshead"
    assert [i.where for i in trainer_window.store.signposting.follow_up()] == ["Citizens Advice Gateshead"]
    tab.signposts_view.selectRow(0)
    qtbot.mouseClick(tab.outcome_button, Qt.LeftButton)
    dialog = tab.dialog
    _choose(dialog.outcome, "attended")
    dialog.accept()
    qtbot.waitUntil(lambda: tab.signposts.rowCount() == 1 and tab.signposts.rows[0].outcome == "attended",
                    timeout=5000)
    assert trainer_window.store.signposting.follow_up() == []


def test_print_a_plan_from_the_preview_and_reopen_it_byte_for_byte(qtbot, trainer_window, tmp_path):
    store = trainer_window.store
    client = next(c for c in store.clients.search("siob"))
    referral = store.referrals.get(store.clients.record(client.id).referrals[0].id)
    store.plans.add(referral.id, {"agreed_date": date.today().isoformat(), "what_matters": "My grandchildren"},
                    goals=[{"area": "HOUSING", "goal_text": "Ask the council about the damp in my flat"}])
    record = _open(qtbot, trainer_window, "Documents")
    tab = record.documents_tab
    qtbot.waitUntil(lambda: tab.plan_button.isEnabled())
    # The letters a trainer may not print say why, before anyone presses them.
    assert not tab.letter_buttons["no-contact"].isEnabled()
    assert "amy may not print letters" in tab.letter_buttons["no-contact"].toolTip()
    assert "no attended session yet" in tab.letter_buttons["gp-outcome"].toolTip() or \
        "has not agreed" in tab.letter_buttons["gp-outcome"].toolTip()
    qtbot.mouseClick(tab.plan_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.preview is not None and tab.preview.isVisible(), timeout=10000)
    preview = tab.preview
    assert len(preview.pages) >= 1 and preview.page_labels[0].pixmap().width() > 500
    assert store.documents.for_client(client.id) == []      # nothing kept until printed
    out = tmp_path / "plan.pdf"
    assert preview.save_to(out)
    preview.accept()
    qtbot.waitUntil(lambda: tab.kept.rowCount() == 1, timeout=5000)
    kept = tab.kept.rows[0]
    assert kept.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    tab.kept_view.selectRow(0)
    qtbot.mouseClick(tab.reopen_button, Qt.LeftButton)
    reopened = tab.preview
    assert reopened is not preview and reopened.pdf == out.read_bytes()
    assert len(reopened.pages) == len(preview.pages)
    reopened.reject()
    assert common.shown_errors == []


def test_contacts_chosen_on_the_plan_tab_print_on_the_plan(qtbot, trainer_window):
    store = trainer_window.store
    client = next(c for c in store.clients.search("siob"))
    referral_id = store.clients.record(client.id).referrals[0].id
    store.plans.add(referral_id, {"agreed_date": date.today().isoformat()},
                    goals=[{"area": "MONEY", "goal_text": "Sort out my gas bill"}])
    record = _open(qtbot, trainer_window, "Plan")
    tab = record.plan_tab
    qtbot.waitUntil(lambda: tab.contacts.count() == 2 and tab.contacts_button.isEnabled())
    debt = next(i for i in range(tab.contacts.count()) if "Citizens Advice" in tab.contacts.item(i).text())
    tab.contacts.item(debt).setCheckState(Qt.Checked)
    qtbot.mouseClick(tab.contacts_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(store.plans.current(client.id).contacts), timeout=5000)
    assert [c.name for c in store.plans.current(client.id).contacts] == ["Citizens Advice Gateshead"]


def test_the_follow_up_list_shows_unknown_outcomes_and_opens_the_client(qtbot, trainer_window):
    store = trainer_window.store
    client = next(c for c in store.clients.search("siob"))
    referral_id = store.clients.record(client.id).referrals[0].id
    store.signposting.add(referral_id, {"signpost_date": date.today().isoformat(), "category": "FOOD",
                                        "type": "signposted", "destination": "Saltwell food bank"})
    record = _open(qtbot, trainer_window, "Signposting")
    tab = record.signposting_tab
    qtbot.waitUntil(lambda: tab.follow_ups.rowCount() == 1)
    assert tab.follow_ups.rows[0].where == "Saltwell food bank"
    opened = []
    record.open_client.connect(opened.append)
    tab.follow_view.selectRow(0)
    qtbot.mouseClick(tab.open_follow_button, Qt.LeftButton)
    assert opened == [client.id]


def test_a_plan_is_agreed_from_the_keyboard_alone(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Plan")
    tab = record.plan_tab
    tab.what_matters.setFocus()
    qtbot.keyClicks(tab.what_matters, "Keeping warm this winter")
    path = []

    def tab_to(widget, limit=12):
        for _ in range(limit):
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
            path.append(QApplication.focusWidget())
            if QApplication.focusWidget() is widget:
                return
        raise AssertionError(f"Tab never reached {widget.accessibleName()}")

    tab_to(tab.area)
    for _ in range(tab.area.count()):                 # arrow keys through the areas
        if tab.area.currentData() == "HOUSING":
            break
        qtbot.keyClick(tab.area, Qt.Key_Down)
    assert tab.area.currentData() == "HOUSING"
    tab_to(tab.goal_text)
    qtbot.keyClicks(tab.goal_text, "Get the damp in my flat sorted")
    tab_to(tab.steps)
    qtbot.keyClicks(tab.steps, "Write to the housing office on Monday")
    tab_to(tab.save_goal_button)
    qtbot.keyClick(tab.save_goal_button, Qt.Key_Space)
    assert tab.goals.rowCount() == 1
    tab_to(tab.agree_button)
    qtbot.keyClick(tab.agree_button, Qt.Key_Space)
    qtbot.waitUntil(lambda: tab.plan is not None, timeout=5000)
    goal = tab.plan.goals[0]
    assert (goal.area, goal.goal_text, goal.steps) == ("HOUSING", "Get the damp in my flat sorted",
                                                       "Write to the housing office on Monday")
    assert tab.plan.what_matters == "Keeping warm this winter"


def test_charts_mark_the_meaningful_change_threshold(qtbot, trainer_window):
    store = trainer_window.store
    client = next(c for c in store.clients.search("siob"))
    referral_id = store.clients.record(client.id).referrals[0].id
    for day, weight, answer in (("2026-02-01", 90.0, 3), ("2026-04-01", 87.0, 4)):
        store.assessments.add(referral_id, day, "BASELINE" if answer == 3 else "REVIEW", "BODY",
                              {"weight_kg": weight, "height_cm": 170})
        store.assessments.add(referral_id, day, "BASELINE" if answer == 3 else "REVIEW", "SWEMWBS",
                              {f"swemwbs_{i}": answer for i in range(1, 8)})
    record = _open(qtbot, trainer_window, "Assessments")
    tab = record.assessments_tab
    tab.inner.setCurrentWidget(tab.charts)
    qtbot.waitUntil(lambda: len(tab.charts.charts) >= 3)
    charts = {c.series.title: c for c in tab.charts.charts}
    assert set(charts) >= {"Weight", "BMI", "SWEMWBS"}
    # 5% below the first weight of this support (90 kg) and 3 points above the first SWEMWBS (19.25).
    assert [round(line.value(), 2) for line in charts["Weight"].threshold_lines] == [85.5]
    assert [round(line.value(), 2) for line in charts["SWEMWBS"].threshold_lines] == [22.25]
    words = [label.text() for label in charts["SWEMWBS"].findChildren(QLabel)]
    assert any("meaningful improvement" in w for w in words)
    assert "90 on 2026-02-01" in charts["Weight"].accessibleDescription()


def test_large_print_from_the_preview_is_kept_as_large_print(qtbot, trainer_window, tmp_path):
    store = trainer_window.store
    client = next(c for c in store.clients.search("siob"))
    referral_id = store.clients.record(client.id).referrals[0].id
    store.plans.add(referral_id, {"agreed_date": date.today().isoformat()},
                    goals=[{"area": "SOCIAL", "goal_text": "Go to the lunch club on Tuesdays"}])
    record = _open(qtbot, trainer_window, "Documents")
    tab = record.documents_tab
    qtbot.waitUntil(lambda: tab.plan_button.isEnabled())
    tab.large_print.setChecked(True)
    qtbot.mouseClick(tab.plan_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.preview is not None and tab.preview.isVisible(), timeout=10000)
    assert tab.preview.save_to(tmp_path / "large.pdf")
    tab.preview.accept()
    qtbot.waitUntil(lambda: tab.kept.rowCount() == 1, timeout=5000)
    assert tab.kept.rows[0].template_version == "plan-v1-large-print"
    assert "(large print)" in tab.kept.data(tab.kept.index(0, 1))


def test_an_unusual_measurement_is_confirmed_before_it_is_saved(qtbot, trainer_window):
    record = _open(qtbot, trainer_window, "Assessments")
    form = record.assessments_tab.form
    _choose(form.instrument, "BODY")
    _type(qtbot, form.fields["weight_kg"], "260")          # possible, but outside 35-250 kg
    _type(qtbot, form.fields["height_cm"], "170")
    qtbot.mouseClick(form.save_button, Qt.LeftButton)
    assert "outside the usual range" in form.score.text() and form.save_button.text() == "Save anyway"
    assert record.assessments_tab.done.rowCount() == 0
    qtbot.mouseClick(form.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: record.assessments_tab.done.rowCount() == 1, timeout=5000)
    assert form.save_button.text() == "Save assessment"


def test_a_coordinator_previews_and_prints_the_could_not_reach_you_letter(qtbot, db_path, tmp_path):
    from desktop.main_window import MainWindow, SessionInfo
    store = CaseStore.open(db_path)
    store.sign_in("cal", "amber-kettle-42")
    client = next(c for c in store.clients.search("") if c.last_name == "Smith")
    referral = store.referrals.add(client.id, {"received_date": "2026-01-05", "source": "GP",
                                               "reasons": ["DIET"]}).ids[0]
    for day in ("2026-01-06", "2026-01-08", "2026-01-12"):
        store.referrals.add_contact_attempt(referral, day, "PHONE", "NOANSWER")
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.show()
    try:
        qtbot.waitUntil(lambda: w.clients.results.rowCount() >= 1)
        record = open_by_typing(qtbot, w, "smith")
        record.tabs.setCurrentIndex(next(i for i in range(record.tabs.count())
                                         if record.tabs.tabText(i) == "Documents"))
        tab = record.documents_tab
        assert tab.letter_buttons["no-contact"].isEnabled()
        assert not tab.letter_buttons["gp-outcome"].isEnabled()
        assert "no attended session yet" in tab.letter_buttons["gp-outcome"].toolTip() or \
            "has not agreed" in tab.letter_buttons["gp-outcome"].toolTip()
        assert "no session booked after today" in tab.letter_buttons["appointment"].toolTip()
        assert "no session booked after today" in tab.why.text()
        qtbot.mouseClick(tab.letter_buttons["no-contact"], Qt.LeftButton)
        qtbot.waitUntil(lambda: tab.preview is not None and tab.preview.isVisible(), timeout=10000)
        out = tmp_path / "no-contact.pdf"
        assert tab.preview.save_to(out)
        tab.preview.accept()
        qtbot.waitUntil(lambda: tab.kept.rowCount() == 1, timeout=5000)
        kept = tab.kept.rows[0]
        assert kept.kind == "letter-no-contact" and kept.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    finally:
        w.confirm_unsaved = False
        w.close()
        w.deleteLater()
