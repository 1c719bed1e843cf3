"""The reach and equity dashboard in the app (issue 13): a manager opens it, clicks a reach figure
and reaches a client; the drift view has its chart, sentences and table; data-quality rows open
the record; coordinators see the operational half."""
from __future__ import annotations

from db.connection import copy_database
from datetime import date

import pytest
from PySide6.QtCore import Qt

from db.store import CaseStore
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, Scenario

QUARTER_TODAY = date(2026, 11, 1)       # the scenario's today: 2026-27 Q3 in progress, Q2 the one before


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    scenario = Scenario(folder / "service.sqlite3")
    scenario.store.service.add_staff("Cath Coordinator", "COORD", username="cath", password="maple-orbit-51")
    scenario.store.close()
    return folder / "service.sqlite3"


def open_window(qtbot, built, tmp_path, user, password):
    from desktop.main_window import MainWindow, SessionInfo
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    store = CaseStore.open(path)
    store.sign_in(user, password)
    w = MainWindow(store, SessionInfo("Test", False, path))
    w.resize(1366, 768)
    w.show()
    return w


def close_window(w):
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()
    w.store.close()


def dashboard_of(qtbot, window):
    from desktop.dashboard.page import DashboardPage
    page = next(p for p in window.pages if isinstance(p, DashboardPage))
    page.today = QUARTER_TODAY
    page.quarter.blockSignals(True)
    page.quarter.setCurrentIndex(page.quarter.findData(PERIOD))
    page.quarter.blockSignals(False)
    window.go_to(page)
    qtbot.waitUntil(lambda: page.dashboard is not None and page.dashboard.period.code == PERIOD, timeout=10000)
    return page


def cell(model, title_start, column):
    for r in range(model.rowCount()):
        if model.index(r, 0).data().startswith(title_start):
            return model.index(r, column)
    raise AssertionError(title_start)


def test_a_manager_clicks_a_reach_figure_and_reaches_the_client(qtbot, built, tmp_path):
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        model = page.figures_model
        assert model.columnCount() == 9 and model.headerData(8, Qt.Horizontal) == "2026-27 Q2"
        assert model.headerData(1, Qt.Horizontal) == "2024-25 Q3"
        titles = [model.index(r, 0).data() for r in range(model.rowCount())]
        assert titles[0] == "ACTIVITY" and "REACH" in titles and "OUTCOMES" in titles
        imd = cell(model, "Starts from the two most deprived fifths", 8)
        assert imd.data() == "100.0%"            # 1 of 1 with a known quintile (RF-000004)
        asian = cell(model, "Starts: Asian", 8)
        assert asian.data() == "33.3%"
        page.figures_view.setCurrentIndex(asian)
        qtbot.keyClick(page.figures_view, Qt.Key_Return)
        dialog = page.explain_dialog
        qtbot.waitUntil(lambda: dialog.list.count() == 1)
        assert dialog.list.item(0).text() == "RF-000002"
        loaded = []
        window.clients.record.loaded.connect(lambda rec: loaded.append(rec))
        qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: bool(loaded) and loaded[-1] is not None, timeout=5000)
        assert loaded[-1].client.last_name == "Văn" and window.stack.currentWidget() is window.clients
    finally:
        close_window(window)


def test_the_drift_view_has_a_chart_sentences_and_the_same_numbers_as_a_table(qtbot, built, tmp_path):
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        page.tabs.setCurrentWidget(page.drift)
        qtbot.waitUntil(lambda: page.chart is not None)
        plot = page.chart.getPlotItem()
        assert "shares over eight quarters" in plot.titleLabel.text
        assert plot.getAxis("left").labelText == "Share (%)" and plot.getAxis("bottom").labelText == "Financial quarter"
        names = [item.name() for item in plot.listDataItems()]
        assert "Starts from the most deprived two fifths" in names
        table = [page.drift_model.index(r, 0).data() for r in range(page.drift_model.rowCount())]
        assert len(table) == len(names) or len(table) >= len(names)
        assert page.sentences.text()
    finally:
        close_window(window)


def test_data_quality_rows_open_the_record(qtbot, built, tmp_path):
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        page.kind.setCurrentIndex(page.kind.findData("no_contact"))
        assert page.kind.currentText().endswith("(1)")
        assert page.quality_proxy.rowCount() == 1
        loaded = []
        window.clients.record.loaded.connect(lambda rec: loaded.append(rec))
        page.quality_view.setCurrentIndex(page.quality_proxy.index(0, 0))
        qtbot.mouseClick(page.open_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: bool(loaded) and loaded[-1] is not None, timeout=5000)
        assert loaded[-1].client.first_name == "Siobhán"        # RF-000006 is C1's
        qtbot.waitUntil(lambda: window.clients.record.tabs.currentIndex() == 1)
    finally:
        close_window(window)


def test_coordinators_see_activity_and_data_quality_only(qtbot, built, tmp_path):
    window = open_window(qtbot, built, tmp_path, "cath", "maple-orbit-51")
    try:
        page = dashboard_of(qtbot, window)
        titles = [page.figures_model.index(r, 0).data() for r in range(page.figures_model.rowCount())]
        assert titles[0] == "ACTIVITY" and "REACH" not in titles and "OUTCOMES" not in titles
        assert page.tabs.indexOf(page.drift) == -1 and not page.report_button.isVisible()
        from test_client_screens import _window_clashes
        assert _window_clashes(window) == {}
    finally:
        close_window(window)


def test_no_alt_key_answers_twice_on_the_dashboard(qtbot, built, tmp_path):
    from test_client_screens import _window_clashes
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        for i in range(page.tabs.count()):
            page.tabs.setCurrentIndex(i)
            assert _window_clashes(window) == {}, page.tabs.tabText(i)
    finally:
        close_window(window)


def test_the_reach_report_from_the_dashboard(qtbot, built, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from pypdf import PdfReader
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        out = tmp_path / "reach.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF (*.pdf)"))
        qtbot.mouseClick(page.report_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: "Saved the reach report" in page.status.text(), timeout=15000)
        text = " ".join(p.extract_text() for p in PdfReader(str(out)).pages)
        assert "Reach and equity: 2026-27 Q2" in text
        assert "Starts from the two most deprived fifths: 1 of 1 (100.0%)" in " ".join(text.split())
    finally:
        close_window(window)


def _hold_worker(window):
    """Keep the worker busy until the returned event is set, so a job can be cancelled before it runs."""
    import threading
    release = threading.Event()
    window.worker.submit(lambda: release.wait(10))
    return release


def test_cancel_stops_the_count_on_the_worker_and_the_page_says_so(qtbot, built, tmp_path):
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        shown = page.dashboard
        assert not page.cancel_button.isVisible()               # nothing counting: no Cancel
        release = _hold_worker(window)

        qtbot.mouseClick(page.refresh_button, Qt.LeftButton)
        job = page.job
        assert page.cancel_button.isVisible() and page.cancel_button.isEnabled()
        assert page.cancel_button.accessibleName() == "Cancel the count"
        from test_client_screens import _window_clashes
        assert _window_clashes(window) == {}                      # its Alt key answers once while counting
        qtbot.mouseClick(page.cancel_button, Qt.LeftButton)
        assert job.cancelled() and "Cancelling" in page.status.text()
        release.set()
        qtbot.waitUntil(lambda: page.job is None, timeout=10000)
        assert "Counting was cancelled" in page.status.text()
        assert not page.cancel_button.isVisible()
        assert page.dashboard is shown                            # the figures shown are left as they were
        # Recount counts again and shows the figures.
        qtbot.mouseClick(page.refresh_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: page.job is None and page.dashboard is not shown, timeout=10000)
        assert "cancelled" not in page.status.text() and not page.cancel_button.isVisible()
    finally:
        close_window(window)



def test_after_an_app_update_the_earlier_count_shows_at_once_and_is_replaced(qtbot, built, tmp_path, monkeypatch):
    """The first opening after an update that changed the counting: the eight quarters appear at once as
    the earlier version counted them, the page says this version is counting them again, and the count
    replaces them."""
    import threading
    from db import reach, reach_kept
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        earlier = page.dashboard
        monkeypatch.setattr(reach_kept, "_ENGINE", ["the-next-version"])
        window.store.reach._counted.clear()          # a new program: nothing counted in memory
        release, real = threading.Event(), reach.span_figures

        def held(*args, **kwargs):
            release.wait(10)
            return real(*args, **kwargs)
        monkeypatch.setattr(reach, "span_figures", held)
        qtbot.mouseClick(page.refresh_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: page.dashboard is not earlier, timeout=10000)
        shown = page.dashboard
        assert shown.earlier_version and page.job is not None and page.cancel_button.isVisible()
        assert [q.figures for q in shown.quarters] == [q.figures for q in earlier.quarters]
        assert "earlier version" in page.status.text() and "counting" in page.status.text()
        assert "counting all 8 quarters again" in page.status.text()
        release.set()
        qtbot.waitUntil(lambda: page.job is None, timeout=10000)
        assert not page.dashboard.earlier_version and "earlier" not in page.status.text()
        assert [q.figures for q in page.dashboard.quarters] == [q.figures for q in earlier.quarters]
    finally:
        release.set()
        close_window(window)


def test_the_earlier_quarters_offered_are_counted_behind_so_choosing_one_counts_nothing(qtbot, built, tmp_path,
                                                                                       monkeypatch):
    """Once the figures shown are counted, the earlier quarters offered are counted and kept on the worker,
    a job per quarter; choosing the oldest then reads kept figures, and they are what a count gives."""
    from db import reach
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        offered = [page.quarter.itemData(i) for i in range(page.quarter.count())]
        qtbot.waitUntil(lambda: page.behind_job is None and not page.behind, timeout=20000)
        assert page._behind_done == set(offered[offered.index("2026-27-Q3") + 1:])
        spans, real = [], reach.span_figures
        monkeypatch.setattr(reach, "span_figures", lambda *a, **k: spans.append(a[2]) or real(*a, **k))
        page.quarter.setCurrentIndex(len(offered) - 1)
        qtbot.waitUntil(lambda: page.job is None and page.dashboard.period.code == offered[-1], timeout=10000)
        assert spans == []
        monkeypatch.setattr(reach, "span_figures", real)
        # The kept figures are what a count from nothing gives.
        from db import connection
        with connection.transaction(window.store.db):
            window.store.db.conn.execute("DELETE FROM reach_figures")
        window.store.reach._counted.clear()
        counted = window.store.reach.dashboard(offered[-1])
        assert [q.figures for q in counted.quarters] == [q.figures for q in page.dashboard.quarters]
    finally:
        close_window(window)


def test_after_an_app_update_the_earlier_quarters_offered_are_counted_behind_again(qtbot, built, tmp_path,
                                                                                  monkeypatch):
    """Quarters kept by the earlier version are shown at once but are not this version's count: counting
    behind counts them again, so the oldest quarter offered is then this version's own."""
    from db import reach_kept
    window = open_window(qtbot, built, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        page = dashboard_of(qtbot, window)
        offered = [page.quarter.itemData(i) for i in range(page.quarter.count())]
        qtbot.waitUntil(lambda: page.behind_job is None and not page.behind, timeout=20000)
        monkeypatch.setattr(reach_kept, "_ENGINE", ["the-next-version"])      # the app updated: a new program
        window.store.reach._counted.clear()
        page._behind_done.clear()
        assert window.store.reach.kept_dashboard(offered[-1])[0].earlier_version
        qtbot.mouseClick(page.refresh_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: page.job is None, timeout=10000)
        qtbot.waitUntil(lambda: page.behind_job is None and not page.behind, timeout=20000)
        kept, stale = window.store.reach.kept_dashboard(offered[-1])
        assert not kept.earlier_version and stale == ()
    finally:
        close_window(window)
