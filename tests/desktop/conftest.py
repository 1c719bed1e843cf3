import pytest

from db.store import CaseStore


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Settings, logs and the data folder in tmp_path, never the developer's own."""
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from PySide6.QtCore import QSettings
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "config"))
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _restore_logging():
    import logging
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


@pytest.fixture(scope="session")
def _service_template(tmp_path_factory):
    """The service of db_path, made once per run (on a server in the PostgreSQL round); each test gets a copy."""
    path = tmp_path_factory.mktemp("desktop-template") / "service.sqlite3"
    store = CaseStore.create_new(path, service_name="Test Health Trainers", service_code="TESTHT",
                                 contact={"phone": "0191 496 0000"},
                                 admin_username="boss", admin_password="cobalt-lantern-17", admin_full_name="Bo Boss")
    store.sign_in("boss", "cobalt-lantern-17")
    store.service.add_staff("Amy Trainer", "TRAINER", username="amy", password="amber-kettle-42")
    store.service.add_staff("Cal Coordinator", "COORD", username="cal", password="amber-kettle-42")
    for values in CLIENTS:
        store.clients.add(values)
    store.close()
    return path


@pytest.fixture
def db_path(tmp_path, _service_template):
    """A service with an administrator (boss), a trainer (amy), a coordinator (cal) and the four CLIENTS."""
    from db.connection import copy_database
    path = tmp_path / "service.sqlite3"
    copy_database(_service_template, path)
    return path


CLIENTS = [
    dict(first_name="Siobhán", last_name="O'Neill", date_of_birth="1980-03-04", gender="2", ethnicity="B"),
    dict(first_name="Zoë", last_name="Ali-Khan", date_of_birth="1975-11-30", gender="2", ethnicity="J",
         nhs_number="9434765919"),
    dict(first_name="Peter", last_name="Nguyen", date_of_birth="1990-06-15", gender="1", ethnicity="L"),
    dict(first_name="Margaret", last_name="Smith", date_of_birth="1950-01-20", gender="2", ethnicity="A"),
]


@pytest.fixture
def store(db_path):
    s = CaseStore.open(db_path)
    s.sign_in("cal", "amber-kettle-42")
    yield s
    s.close()


@pytest.fixture
def window(qtbot, store, db_path):
    from desktop.main_window import MainWindow, SessionInfo
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() == 4)
    yield w
    w.confirm_unsaved = False
    w.close()
    w.deleteLater()


@pytest.fixture(autouse=True)
def _no_error_boxes_of_an_earlier_test():
    """Each test sees the error boxes shown during it only: a box whose window was deleted with it never
    says it finished, and would stay in the list (dead) and fail every later test that looks at it."""
    from desktop.widgets import common
    common.shown_errors.clear()
    yield


@pytest.fixture(autouse=True)
def _no_blocking_message_boxes(monkeypatch):
    """A modal question nobody answers would hang the run: fail instead."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(self, *a, **k):
        raise AssertionError(f"unexpected blocking message box: {self.windowTitle()}: {self.text()}")
    monkeypatch.setattr(QMessageBox, "exec", refuse)
