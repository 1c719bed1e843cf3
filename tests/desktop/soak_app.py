"""The soak run of tests/desktop/test_soak.py, in a process of its own so a crash fails the test
rather than killing pytest.

On a demo database it signs in, builds the real main window and works it the way a person
does, through the widgets: Ctrl+F, a surname, Down, Enter to open the record, with switches
between the window's pages; then signals carrying bools and objects are emitted from
another thread to a receiver on the GUI thread. PySide6 6.12.0 on Python 3.11 aborts on
such bools ("Fatal Python error: bool_dealloc"). Prints its counts on the last line and
exits 0 only when everything arrived.

    python tests/desktop/soak_app.py [CYCLES] [EMISSIONS] [WORK_FOLDER]
"""
from __future__ import annotations

import faulthandler
import os
import sys
import tempfile
import time
from pathlib import Path

CYCLES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
EMISSIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
DEMO_CLIENTS = 300
STEP_TIMEOUT_S = 20   # one step that takes longer than this has hung: stop and say where

faulthandler.enable()   # a crash prints every thread's Python stack for the test to show
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp(prefix="htdesk-soak-"))
os.environ["HTDESK_DATA_DIR"] = str(work / "data")      # logs and settings of this run only
os.environ["XDG_CONFIG_HOME"] = str(work / "config")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QSettings, Qt, QThread, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from db.store import CaseStore  # noqa: E402
from desktop.cli import main as htdesk  # noqa: E402
from desktop.main_window import MainWindow, SessionInfo  # noqa: E402


def wait_until(condition, what: str) -> None:
    """Run the event loop until condition() holds, sleeping in Qt's wait for events between
    checks (a spinning loop would take the CPU and the GIL from the worker thread). The
    heartbeat timer of main() wakes it at least once a second to look at the deadline."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            print(f"SOAK STUCK waiting for {what}", flush=True)
            os._exit(3)
        QCoreApplication.processEvents(QEventLoop.AllEvents | QEventLoop.WaitForMoreEvents)


# --- the window, driven as a person drives it ---------------------------------------------------

def drive_window(app: QApplication, db_path: Path) -> tuple[int, int]:
    store = CaseStore.open(db_path)
    store.sign_in("coordinator", "demo")     # a coordinator has both pages: clients and the waiting list
    window = MainWindow(store, SessionInfo("Soak test", True, db_path))
    window.confirm_unsaved = False
    window.show()
    window.activateWindow()
    page, record = window.clients, window.clients.record
    page.timer.setInterval(0)   # the pause the search waits for after typing; 1,000 of them would be 150 s
    wait_until(lambda: page.last_search == "" and page.results.rowCount() > 0, "the first list of clients")
    surnames = sorted({row.last_name for row in page.results.rows if row.last_name.isascii()})
    assert len(surnames) >= 20, surnames

    opened = switches = 0
    for cycle in range(CYCLES):
        surname = surnames[cycle % len(surnames)]
        QTest.keyClick(window, Qt.Key_F, Qt.ControlModifier)          # Find a client
        assert page.search.hasFocus() or QApplication.focusWidget() is page.search
        QTest.keyClicks(page.search, surname)                          # replaces the selected text
        wait_until(lambda: page.last_search == surname, f"the search for {surname!r}")
        QTest.keyClick(page.search, Qt.Key_Down)                       # to the list, first row chosen
        QTest.keyClick(page.results_view, Qt.Key_Return)               # open it
        wanted = page.results.rows[0].id
        wait_until(lambda: record.client is not None and record.client.id == wanted, f"the record of {surname}")
        opened += 1
        if cycle % 10 == 0:    # to the waiting list and back, by the keys the Go menu shows
            QTest.keyClick(window, Qt.Key_2, Qt.ControlModifier)
            wait_until(lambda: window.stack.currentWidget() is window.waiting, "the waiting list page")
            QTest.keyClick(window, Qt.Key_1, Qt.ControlModifier)
            wait_until(lambda: window.stack.currentWidget() is window.clients, "the clients page")
            switches += 2
    wait_until(lambda: not window.worker.busy, "the worker to finish")
    waiting_rows = window.waiting.model.rowCount()
    window.close()
    window.deleteLater()
    store.close()
    QCoreApplication.processEvents()
    assert waiting_rows > 0, "the waiting list page never showed its rows"
    return opened, switches


# --- signals across threads -----------------------------------------------------------------------

class Source(QObject):
    flag = Signal(bool)
    thing = Signal(object)


class Emitter(QThread):
    """Emits from its own thread; the receiver lives on the GUI thread, so every delivery is queued."""

    def __init__(self, source: Source, count: int):
        super().__init__()
        self.source, self.count = source, count

    def run(self) -> None:
        for i in range(self.count):
            self.source.flag.emit(i % 2 == 0)
            self.source.thing.emit({"n": i, "name": "Zoë"})


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.bools = self.trues = self.objects = self.total = 0

    @Slot(bool)
    def on_flag(self, value: bool) -> None:
        self.bools += 1
        self.trues += value is True

    @Slot(object)
    def on_thing(self, value) -> None:
        self.objects += 1
        self.total += value["n"]


def emit_across_threads(count: int) -> tuple[int, int]:
    source, receiver = Source(), Receiver()
    source.flag.connect(receiver.on_flag, Qt.QueuedConnection)
    source.thing.connect(receiver.on_thing, Qt.QueuedConnection)
    emitter = Emitter(source, count)
    emitter.start()
    wait_until(lambda: emitter.isFinished() and receiver.objects == count and receiver.bools == count,
               "the signals from the other thread")
    emitter.wait()
    assert receiver.trues == (count + 1) // 2, receiver.trues
    assert receiver.total == count * (count - 1) // 2, receiver.total
    return receiver.bools, receiver.objects


def main() -> int:
    db_path = work / "demo.sqlite3"
    if htdesk(["demo", "--db", str(db_path), "--clients", str(DEMO_CLIENTS)]) != 0:
        print("SOAK could not make the demo database", flush=True)
        return 2
    app = QApplication(sys.argv[:1])
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(work / "config"))
    heartbeat = QTimer()
    heartbeat.start(1000)
    opened, switches = drive_window(app, db_path)
    bools, objects = emit_across_threads(EMISSIONS)
    print(f"SOAK DONE opened={opened} page_switches={switches} bools={bools} objects={objects}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:   # a failed check: say which, and leave without waiting for the worker thread
        import traceback
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
    sys.exit(code)
