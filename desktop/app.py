"""Opening the desktop app: display check, first run or sign-in, then the main window."""
from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
from pathlib import Path

from db import paths

log = logging.getLogger(__name__)

NO_DISPLAY = ("Health Trainer Desk needs a screen, and none was found (no DISPLAY or WAYLAND_DISPLAY).\n"
              "Run it from a desktop session, or use the command-line tools: see 'htdesk --help'.")


def display_available() -> bool:
    """On Linux a GUI needs X11 or Wayland unless a Qt platform (e.g. offscreen) is chosen.
    Checked before QApplication exists: Qt would otherwise abort the process."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def xcb_problem() -> str | None:
    """Qt aborts the process when its X11 plugin cannot load (e.g. libxcb-cursor0 or
    libxcb-icccm4 missing), so try loading the plugin first and say what is missing."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM") \
            or os.environ.get("WAYLAND_DISPLAY") or not os.environ.get("DISPLAY"):
        return None
    try:
        import ctypes

        import PySide6
        plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            ctypes.CDLL(str(plugin))
    except OSError as exc:
        return (f"Health Trainer Desk cannot open a window: a system library Qt needs is missing ({exc}).\n"
                "On Debian or Ubuntu install: libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 "
                "libxkbcommon-x11-0 (ask your IT support).")
    except Exception:   # a check that cannot run must not stop the app
        return None
    return None


_crash_log = None   # kept open for the life of the process: faulthandler writes to its descriptor


def enable_crash_log() -> None:
    """A hard crash (segfault, abort inside Qt) skips every Python handler and would leave
    no trace; faulthandler writes the traceback of every thread into the log file instead.
    Called first thing by the desktop app and by the command line. Left alone when
    faulthandler is already on (python -X faulthandler, or pytest running the app in-process)."""
    global _crash_log
    if _crash_log is not None or faulthandler.is_enabled():
        return
    log_path = paths.log_file()
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        _crash_log = open(log_path, "a", encoding="utf-8")
        paths.owner_only(log_path.parent, folder=True)
        paths.owner_only(log_path)
    except OSError:
        return   # no log folder: the app still runs, as it does without a log
    faulthandler.enable(file=_crash_log, all_threads=True)


def _ensure_logging() -> None:
    root = logging.getLogger()
    log_path = paths.log_file()
    if any(isinstance(h, logging.FileHandler) and h.baseFilename == str(log_path.absolute()) for h in root.handlers):
        return   # the command line set it up already
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, encoding="utf-8")
        paths.owner_only(log_path)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


_showing_error = False


def report_unhandled(exc_type, exc, tb) -> None:
    """The last line of defence in the GUI: log it, tell the person where the log is, carry on."""
    global _showing_error
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    log.error("unhandled error in the desktop app", exc_info=(exc_type, exc, tb))
    from PySide6.QtWidgets import QApplication
    if _showing_error or QApplication.instance() is None:
        return
    if threading.current_thread() is not threading.main_thread():
        return   # logged; a message box may only be opened on the GUI thread
    _showing_error = True
    try:
        from .widgets.common import show_error
        show_error(QApplication.activeWindow(), exc)
    finally:
        _showing_error = False


def install_error_handlers() -> None:
    sys.excepthook = report_unhandled
    threading.excepthook = lambda args: report_unhandled(args.exc_type, args.exc_value, args.exc_traceback)


def _database_path(args) -> Path | str:
    """The database file, or a service's server (postgresql://HOST/DBNAME: --db, $HTDESK_DB, or the server
    saved on this PC with 'htdesk connect')."""
    from db.public import is_server_url, saved_server
    given = getattr(args, "db", None)
    server = given or os.environ.get("HTDESK_DB") or saved_server()
    if is_server_url(server):
        return server.strip()
    return Path(given).expanduser() if given else paths.default_database()


def start(args, app=None):
    """First-run wizard or sign-in; returns (store, SessionInfo) or None when the person gave up."""
    from PySide6.QtWidgets import QDialog, QMessageBox

    from db.errors import HTDeskError

    from .signin import SignInDialog

    path = _database_path(args)
    on_server = isinstance(path, str)
    if not on_server and not path.exists():
        from .first_run import FirstRunWizard
        wizard = FirstRunWizard(path)
        if wizard.exec() != QDialog.Accepted or (wizard.store is None and not wizard.connected):
            return None
        store = wizard.store
        if wizard.connected and store is None:
            # A secured server: the first person to sign in connects; only then is its address saved.
            path = wizard.server_url
            store = _sign_in_as_person(path, args)
            if store is None:
                return None
            from db.public import save_server
            save_server(path)
        elif wizard.connected:      # this PC joined its service's server: its people sign in as anywhere
            path = store.url
            dialog = SignInDialog(store, store.service_name, store.is_demo, getattr(args, "user", None))
            if dialog.exec() != QDialog.Accepted:
                store.close()
                return None
    else:
        from db.first_look import first_look
        from db.public import names_no_user
        look = first_look(path) if app is not None and not on_server else None
        if on_server and names_no_user(path):
            store = _sign_in_as_person(path, args)
            if store is None:
                return None
        elif look is not None and look.has_accounts:
            # The sign-in window goes on screen first; the store (and the modules behind it)
            # loads while the person types.
            opening = _OpeningStore(path)
            dialog = SignInDialog(opening, look.service_name, look.is_demo, getattr(args, "user", None))
            dialog.show()
            app.processEvents()
            from PySide6.QtCore import QTimer
            QTimer.singleShot(0, opening.load)
            accepted = dialog.exec() == QDialog.Accepted
            if not accepted or opening.store is None:
                if opening.store is not None:
                    opening.store.close()
                return None
            store = opening.store
        else:
            from db.store import CaseStore
            try:
                store = CaseStore.open(path)
            except HTDeskError as exc:
                QMessageBox.critical(None, "Health Trainer Desk", str(exc))
                return None
            if not store.has_accounts():
                QMessageBox.critical(None, "Health Trainer Desk",
                                     f"The database {path} has no user accounts, so nobody can sign in. "
                                     "Ask your administrator to add one ('htdesk user add').")
                store.close()
                return None
            service_name, is_demo = _service_name(store), store.is_demo
            dialog = SignInDialog(store, service_name, is_demo, getattr(args, "user", None))
            if dialog.exec() != QDialog.Accepted:
                store.close()
                return None
    from .main_window import SessionInfo
    return store, SessionInfo(_service_name(store), store.is_demo, path if isinstance(path, str) else path.resolve())


def _sign_in_as_person(url: str, args):
    """A secured server (README, "Several PCs"): nothing can be read before sign-in, which is connecting
    as the person's own login with what they type. The signed-in store, or None when they gave up."""
    from PySide6.QtWidgets import QDialog

    from .signin import SignInDialog
    opening = _OpeningStore(url, as_person=True)
    dialog = SignInDialog(opening, "", False, getattr(args, "user", None))
    if dialog.exec() != QDialog.Accepted or opening.store is None:
        if opening.store is not None:
            opening.store.close()
        return None
    return opening.store


class _OpeningStore:
    """Stands in for the store in the sign-in window until the real one is open: the
    window needs only the path and sign_in. A problem opening the database is shown
    in the window when the person signs in."""

    def __init__(self, path: Path, as_person: bool = False):
        from db.public import is_server_url
        self.path = path
        # The sign-in window offers nothing that is a file's (restore, the recovery key) on a server.
        self.url = str(path) if is_server_url(str(path)) else None
        self.store = None
        self._problem: Exception | None = None
        self._as_person = as_person

    def load(self) -> None:
        if self.store is not None or self._problem is not None or self._as_person:
            return
        from db.errors import HTDeskError
        from db.store import CaseStore
        try:
            self.store = CaseStore.open(self.path)
        except HTDeskError as exc:
            self._problem = exc

    def sign_in(self, username: str, password: str):
        if self._as_person and self.store is None:
            from db.public import open_as_person
            from db.store import CaseStore
            self.store = open_as_person(CaseStore, self.path, username, password)
            return self.store.actor
        self.load()
        if self._problem is not None:
            raise self._problem
        return self.store.sign_in(username, password)


def _service_name(store) -> str:
    try:
        found = store.service.all()
    except Exception:
        return ""
    return found[0].name if len(found) == 1 else ", ".join(s.name for s in found)


def run_app(args) -> int:
    if not display_available():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    problem = xcb_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    enable_crash_log()
    _ensure_logging()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("HealthTrainerDesk")
    app.setApplicationName("htdesk")
    app.setDesktopFileName("htdesk")           # the installed .desktop file's name (Linux menus, Wayland)
    from PySide6.QtGui import QIcon

    import resources
    app.setWindowIcon(QIcon(str(resources.path("icons", "htdesk.png"))))
    install_error_handlers()
    started = start(args, app)
    if started is None:
        return 0
    store, info = started
    from .main_window import MainWindow
    window = MainWindow(store, info)
    window.show()
    try:
        return app.exec()
    finally:
        window.worker.stop()
        store.close()
        from .admin.session import keep_alive
        for other in keep_alive:      # windows built for another person, on their own store (a secured server)
            if other.store is not store:
                other.worker.stop()
                other.store.close()
