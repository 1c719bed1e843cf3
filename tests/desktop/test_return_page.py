"""The quarterly return in the app (issue 13): a manager builds, previews, explains a figure and
reaches the client, saves, submits, changes a record, rebuilds and sees the late change in the
app and in the workbook."""
from __future__ import annotations

from db.connection import copy_database
from datetime import date

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from db.store import CaseStore
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, TODAY, Scenario


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("return-page")
    Scenario(folder / "service.sqlite3").store.close()
    return folder / "service.sqlite3"


@pytest.fixture
def manager_window(qtbot, built, tmp_path):
    from desktop.main_window import MainWindow, SessionInfo
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    store = CaseStore.open(path)
    store.sign_in(ADMIN, ADMIN_PASSWORD)
    w = MainWindow(store, SessionInfo("Test & Co Health Trainers", False, path))
    w.resize(1366, 768)
    w.show()
    yield w
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()
    store.close()


def page_of(window):
    from desktop.returns.page import ReturnsPage
    page = next(p for p in window.pages if isinstance(p, ReturnsPage))
    window.go_to(page)
    return page


def row_of(page, measure, breakdown="all"):
    for i, r in enumerate(page.model.rows):
        if r.measure == measure and r.breakdown == breakdown:
            return i, r
    raise AssertionError((measure, breakdown))


def build(qtbot, page):
    qtbot.mouseClick(page.build_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.preview is not None and page.progress is None, timeout=10000)


def test_a_manager_builds_explains_saves_submits_and_sees_late_changes(qtbot, manager_window, tmp_path, monkeypatch):
    window = manager_window
    page = page_of(window)
    assert window.stack.currentWidget() is page
    page.quarter.setCurrentIndex(page.quarter.findData(PERIOD))
    assert not page.save_button.isEnabled()          # nothing to save before the figures are built
    build(qtbot, page)
    i, starts = row_of(page, "STARTS")
    assert page.model.index(i, 2).data() == "3" and starts.title == "People starting support"
    _, imd = row_of(page, "STARTS_BY", "imd_quintile=unknown")
    assert imd.breakdown_label == "Deprivation quintile (IMD 2019): Not recorded" and imd.value == 2
    assert "Not submitted yet" in page.status.text()

    # Click a figure: the referrals behind it; open one and reach the client.
    page.view.setCurrentIndex(page.proxy.mapFromSource(page.model.index(i, 0)))
    qtbot.mouseClick(page.explain_button, Qt.LeftButton)
    dialog = page.explain_dialog
    qtbot.waitUntil(lambda: dialog.list.count() == 3)
    assert [dialog.list.item(k).text() for k in range(3)] == ["RF-000002", "RF-000003", "RF-000004"]
    assert dialog.submitted_box is None                  # nothing submitted yet: no "as submitted"
    dialog.list.setCurrentRow(0)
    loaded = []
    window.clients.record.loaded.connect(lambda rec: loaded.append(rec))
    qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(loaded) and loaded[-1] is not None, timeout=5000)
    assert window.stack.currentWidget() is window.clients
    assert loaded[-1].client.first_name == "Nguyễn"
    qtbot.waitUntil(lambda: window.clients.record.tabs.currentIndex() == 1)

    # Save the workbook, then mark it submitted.
    window.go_to(page)
    first = tmp_path / "q2.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(first), "Excel workbook (*.xlsx)"))
    qtbot.mouseClick(page.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Saved to" in page.status.text(), timeout=10000)
    assert load_workbook(first)["Data"]["A1"].value == "measure"

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(first), "Excel workbook (*.xlsx)"))
    monkeypatch.setattr("desktop.returns.page.confirm", lambda *a, **k: True)
    qtbot.mouseClick(page.submit_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.submitted is not None, timeout=10000)
    assert "No figure has changed since" in page.status.text()
    assert page.copy_button.isEnabled()

    # A record changes: a late entry. The page says its figures are out of date.
    window.worker.submit(lambda: window.store.diary.add(
        6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2}, today=TODAY))
    qtbot.waitUntil(lambda: "Records have changed" in page.status.text(), timeout=5000)
    build(qtbot, page)
    qtbot.waitUntil(lambda: "changed since (late entries)" in page.status.text())
    i, starts = row_of(page, "STARTS")
    assert starts.changed and starts.value == 4 and starts.submitted == 3
    assert "was 3" in page.model.index(i, 0).data(Qt.ToolTipRole)
    qtbot.mouseClick(page.only_late, Qt.LeftButton)
    shown = {page.proxy.index(k, 6).data() for k in range(page.proxy.rowCount())}
    assert "STARTS all" in shown and "REFERRALS_RECEIVED all" not in shown

    # Explain as submitted or as now.
    page.view.setCurrentIndex(page.proxy.mapFromSource(page.model.index(i, 0)))
    qtbot.keyClick(page.view, Qt.Key_Return)
    dialog = page.explain_dialog
    qtbot.waitUntil(lambda: dialog.list.count() == 4)
    dialog.sent_button.setChecked(True)
    qtbot.waitUntil(lambda: dialog.list.count() == 3 and "as submitted" in dialog.count.text())
    dialog.reject()

    # Rebuild: the submitted file is never overwritten; a new file carries the late changes sheet.
    before = first.read_bytes()
    qtbot.mouseClick(page.save_button, Qt.LeftButton)
    from desktop.widgets.common import shown_errors
    qtbot.waitUntil(lambda: any("never overwritten" in b.text() for b in shown_errors), timeout=10000)
    for b in list(shown_errors):
        b.close()
    assert first.read_bytes() == before
    second = tmp_path / "q2-late.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(second), "Excel workbook (*.xlsx)"))
    qtbot.mouseClick(page.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Late changes" in page.status.text(), timeout=10000)
    rows = [[c.value for c in r] for r in load_workbook(second)["Late changes"].iter_rows()]
    assert any(r[4] == "STARTS all" and r[2:4] == [3, 4] for r in rows)

    # The copy of what was sent, from the database.
    copy = tmp_path / "as-sent.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(copy), "Excel workbook (*.xlsx)"))
    qtbot.mouseClick(page.copy_button, Qt.LeftButton)
    qtbot.waitUntil(copy.exists, timeout=5000)
    assert copy.read_bytes() == before


def test_an_unfinished_or_future_quarter_says_why_its_figures_will_move(qtbot, manager_window):
    from desktop.returns.page import ReturnsPage
    page = ReturnsPage(manager_window.store, manager_window.worker, today=date(2026, 8, 1))
    qtbot.addWidget(page)
    page.quarter.setCurrentIndex(page.quarter.findData("2026-27-Q2"))
    assert "is not over" in page.warning.text() and not page.warning.isHidden()
    page.quarter.setCurrentIndex(page.quarter.findData("2026-27-Q3"))
    assert "has not started" in page.warning.text()
    page.quarter.setCurrentIndex(page.quarter.findData("2025-26-Q4"))
    assert page.warning.text() == "" and page.warning.isHidden()
    page = ReturnsPage(manager_window.store, manager_window.worker, today=date(2026, 7, 15))
    qtbot.addWidget(page)
    page.quarter.setCurrentIndex(page.quarter.findData("2026-27-Q1"))      # ended a fortnight ago
    assert "recorded late" in page.warning.text()


def test_cancel_stops_the_build(qtbot, manager_window):
    page = page_of(manager_window)
    page.quarter.setCurrentIndex(page.quarter.findData(PERIOD))
    block = __import__("threading").Event()
    manager_window.worker.submit(block.wait, 5)          # keep the worker busy so Cancel comes first
    qtbot.mouseClick(page.build_button, Qt.LeftButton)
    from PySide6.QtWidgets import QPushButton
    cancel = next(b for b in page.progress.findChildren(QPushButton) if "Cancel" in b.text())
    qtbot.mouseClick(cancel, Qt.LeftButton)
    block.set()
    qtbot.waitUntil(lambda: page.progress is None, timeout=5000)
    assert page.preview is None and "Stopped" in page.status.text()


def test_coordinators_and_trainers_do_not_see_the_return(qtbot, built, tmp_path):
    from desktop.main_window import MainWindow, SessionInfo
    from desktop.returns.page import ReturnsPage
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    store = CaseStore.open(path)
    store.sign_in("tina", "pebble-saffron-72")
    w = MainWindow(store, SessionInfo("Test", False, path))
    assert not any(isinstance(p, ReturnsPage) for p in w.pages)
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()
    store.close()
