"""Import and export in the app (issue 13): a manager checks a workbook with a bad row and sees
it in the report viewer (sheet, row, column, value, reason), then imports a good one; exports."""
from __future__ import annotations

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from db.transfer import workbook_spec as spec


def clients_book(path, rows):
    """Every sheet of IMPORT.md with its headers; rows on the Clients sheet only."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in spec.sheets():
        ws = wb.create_sheet(s.name)
        columns = list(s.column_names)
        ws.append(columns)
        if s.name == "Clients":
            for row in rows:
                ws.append([row.get(spec.header_key(c)) for c in columns])
    wb.save(path)
    return path


GOOD = [
    {"client_ref": "HT-000901", "first_name": "Siobhán", "last_name": "Byrne", "date_of_birth": "1980-03-12",
     "gender": "2", "ethnicity": "A"},
    {"client_ref": "HT-000902", "first_name": "Tomasz", "last_name": "Nowak", "date_of_birth": "1991-07-30",
     "gender": "1", "ethnicity": "C"},
]


@pytest.fixture
def manager_window(qtbot, case_store):
    from desktop.main_window import MainWindow, SessionInfo
    store = case_store                   # signed in again, as the manager (case_store closes it)
    store.sign_in("manager", "amber-kettle-42")
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, store.path or store.url))
    w.show()
    yield w
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()


def page_of(window):
    from desktop.transfer.page import TransferPage
    page = next(p for p in window.pages if isinstance(p, TransferPage))
    window.go_to(page)
    return page


def choose(qtbot, page, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), "Excel workbook (*.xlsx)"))
    qtbot.mouseClick(page.choose_button, Qt.LeftButton)
    assert page.path.text() == str(path)


def check(qtbot, page):
    page.report = None
    qtbot.mouseClick(page.check_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.report is not None and page.progress is None, timeout=10000)


def test_a_bad_row_is_listed_then_a_good_workbook_imports(qtbot, manager_window, tmp_path, monkeypatch):
    page = page_of(manager_window)
    assert not page.import_button.isEnabled() and not page.check_button.isEnabled()
    bad = clients_book(tmp_path / "bad.xlsx", [GOOD[0], {**GOOD[1], "gender": "Q", "date_of_birth": "30/2/1991"}])
    choose(qtbot, page, monkeypatch, bad)
    check(qtbot, page)
    assert not page.import_button.isEnabled()
    assert "Nothing was imported" in page.outcome.text()
    rows = [[page.proxy.index(r, c).data() for c in range(6)] for r in range(page.proxy.rowCount())]
    problems = [r for r in rows if r[0] == "Problem"]
    assert ["Problem", "Clients", "3", "gender", "Q"] in [r[:5] for r in problems]
    assert any(r[1:5] == ["Clients", "3", "date_of_birth", "30/2/1991"] for r in problems)
    assert all(r[5] for r in problems)                      # every problem has its reason
    assert page.model.index(0, 0).data(Qt.ToolTipRole) == "Must be corrected before the import"
    assert not manager_window.store.clients.search("Nowak")

    good = clients_book(tmp_path / "good.xlsx", GOOD)
    choose(qtbot, page, monkeypatch, good)
    assert page.model.rowCount() == 0 and not page.import_button.isEnabled()
    check(qtbot, page)
    assert "Dry run: the workbook can be imported" in page.outcome.text()
    assert not manager_window.store.clients.search("Nowak")    # a dry run changes nothing
    assert page.import_button.isEnabled()
    page.report = None
    qtbot.mouseClick(page.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.report is not None and page.progress is None, timeout=10000)
    assert page.outcome.text().startswith("Imported.")
    assert [c.client_ref for c in manager_window.store.clients.search("Nowak")] == ["HT-000902"]
    assert not page.import_button.isEnabled()              # imported once; a second import needs a new check


def test_a_workbook_changed_after_its_check_must_be_checked_again(qtbot, manager_window, tmp_path, monkeypatch):
    page = page_of(manager_window)
    path = clients_book(tmp_path / "good.xlsx", GOOD)
    choose(qtbot, page, monkeypatch, path)
    check(qtbot, page)
    clients_book(path, [GOOD[0]])
    qtbot.mouseClick(page.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "changed since it was checked" in page.outcome.text(), timeout=10000)
    assert not manager_window.store.clients.search("Nowak") and not page.import_button.isEnabled()


def test_export_writes_every_record_with_progress(qtbot, manager_window, tmp_path, monkeypatch):
    page = page_of(manager_window)
    manager_window.store.clients.add({"first_name": "Ann", "last_name": "Export", "date_of_birth": "1970-01-01",
                                      "gender": "2", "ethnicity": "A"})
    out = tmp_path / "export.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "Excel workbook (*.xlsx)"))
    qtbot.mouseClick(page.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.export_status.text().startswith("Exported to"), timeout=10000)
    rows = list(openpyxl.load_workbook(out)["Clients"].iter_rows(values_only=True))
    at = rows[0].index("last_name")
    assert "Export" in [r[at] for r in rows[1:]]
    assert "1 clients" in page.export_status.text() or "clients" in page.export_status.text()


def test_trainers_do_not_see_import_and_export(qtbot, case_store):
    from desktop.main_window import MainWindow, SessionInfo
    from desktop.transfer.page import TransferPage
    store = case_store
    store.sign_in("trainer", "amber-kettle-42")
    w = MainWindow(store, SessionInfo("Test", False, store.path or store.url))
    assert not any(isinstance(p, TransferPage) for p in w.pages)
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()


def test_no_alt_key_answers_twice_on_the_managers_pages(qtbot, manager_window):
    from desktop.returns.page import ReturnsPage
    from test_client_screens import _window_clashes
    found = {}
    for page in manager_window.pages:
        manager_window.go_to(page)
        qtbot.waitUntil(page.isVisible)
        found[type(page).__name__] = _window_clashes(manager_window)
    assert any(isinstance(p, ReturnsPage) for p in manager_window.pages)
    assert {k: v for k, v in found.items() if v} == {}


def _hold_worker(window):
    """Keep the worker busy until the returned event is set, so Cancel is pressed before the job runs."""
    import threading
    release = threading.Event()
    window.worker.submit(lambda: release.wait(10))
    return release


def _press_cancel(qtbot, progress):
    from PySide6.QtWidgets import QPushButton
    buttons = [b for b in progress.findChildren(QPushButton) if b.text() == "&Cancel"]
    assert len(buttons) == 1 and buttons[0].isVisible()
    qtbot.mouseClick(buttons[0], Qt.LeftButton)


def test_cancel_stops_an_import_on_the_worker_and_nothing_is_imported(qtbot, manager_window, tmp_path, monkeypatch):
    page = page_of(manager_window)
    good = clients_book(tmp_path / "good.xlsx", GOOD)
    choose(qtbot, page, monkeypatch, good)
    check(qtbot, page)
    assert page.import_button.isEnabled()
    release = _hold_worker(manager_window)
    qtbot.mouseClick(page.import_button, Qt.LeftButton)
    progress = page.progress
    assert progress is not None and progress.isVisible()
    _press_cancel(qtbot, progress)
    assert progress.job.cancelled()                          # the job itself is cancelled, not just the dialog
    release.set()
    qtbot.waitUntil(lambda: page.progress is None, timeout=10000)
    assert "cancelled" in page.outcome.text().lower() and "nothing was" in page.outcome.text()
    assert not manager_window.store.clients.search("Nowak")     # nothing imported
    assert not page.import_button.isEnabled()                   # check it again before importing


def test_cancel_stops_an_export_on_the_worker_and_no_file_is_written(qtbot, manager_window, tmp_path, monkeypatch):
    page = page_of(manager_window)
    out = tmp_path / "export.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "Excel workbook (*.xlsx)"))
    release = _hold_worker(manager_window)
    qtbot.mouseClick(page.export_button, Qt.LeftButton)
    progress = page.progress
    assert progress is not None and progress.isVisible()
    _press_cancel(qtbot, progress)
    assert progress.job.cancelled()
    release.set()
    qtbot.waitUntil(lambda: page.progress is None, timeout=10000)
    assert page.export_status.text() == "The export was cancelled: no file was written."
    assert not out.exists() and list(tmp_path.glob("*.xlsx")) == []
    # Exporting again without Cancel writes the file.
    qtbot.mouseClick(page.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.export_status.text().startswith("Exported to"), timeout=10000)
    assert out.exists()
