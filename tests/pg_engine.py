"""The PostgreSQL round (issue 18): the same store, return, import, permission, command-line and desktop
tests, on a server.

    HTDESK_TEST_ENGINE=postgresql PYTHONPATH=tests python -m pytest -p pg_engine tests/db/test_store.py ...

(.ci/run runs it after the SQLite suite, over the files in PG_ROUND.) The tests are unchanged: they
make a database with CaseStore.create_new(path), copy one with connection.copy_database(a, b) and
open it with CaseStore.open(path), and this plugin routes each of those paths to a database of a
throwaway cluster (tests/pg_cluster.py): create_new sets the service up on a new empty database,
copy_database is CREATE DATABASE b TEMPLATE a (made ahead on a thread of its own, see _Spares), open
connects to it. Everything between (every query, transaction, migration step, audit row and figure,
every screen) is the store running on PostgreSQL.

A routed store carries the test's path as store.path, so a second connection opens it as on a file;
except in the desktop's tests (tests/desktop/), whose screens get the store as the app opens a server's:
store.url, no path (a screen reaching for the file it does not have fails there as it would in use).

A test that looks at the file itself (a raw sqlite3 connection, its bytes, its backups, a
subprocess given --db PATH) cannot run there: SQLITE_ONLY names each with the reason, and they are
skipped with it. Without PostgreSQL installed every test of the round is skipped, saying so.
"""
from __future__ import annotations

import collections
import itertools
import os
import queue
import threading
from pathlib import Path

import pytest

ENGINE = os.environ.get("HTDESK_TEST_ENGINE", "sqlite")

# The engine-relevant test files: the store, returns, import, permissions, reliability, the subject
# parts' store tests, the demo's people, and the return workbook, reach report and export workbook
# built from a server. The letters and the plan PDF are printed from a server's records too; the
# command line (tests/cli/) runs in the test process, so its --db PATH is routed as well. Not here:
# the tests that use no database, those that are all about the file (test_encryption.py,
# test_migrations.py, test_crash.py's killed writer process), and test_postgres.py and
# test_pg_security.py, which start clusters of their own in every run.
PG_ROUND = [
    "tests/db/test_store.py",
    "tests/db/test_returns.py",
    "tests/db/test_return_submissions.py",
    "tests/db/test_import.py",
    "tests/db/test_import_v2.py",
    "tests/db/test_import_forgiving.py",
    "tests/db/test_transfer_roundtrip.py",
    "tests/db/test_policy.py",
    "tests/db/test_reliability.py",
    "tests/db/test_search.py",
    "tests/db/test_diary.py",
    "tests/db/test_plans_signposting_store.py",
    "tests/db/test_assessments_store.py",
    "tests/db/test_drafts_store.py",
    "tests/db/test_accounts_and_settings.py",
    "tests/db/test_reach.py",
    "tests/db/test_rights.py",
    "tests/db/test_audit_chain.py",
    "tests/db/test_read_snapshot.py",
    "tests/db/test_demo_words.py",
    "tests/db/test_password_hashing.py",
    "tests/reports/test_quarterly_return.py",
    "tests/reports/test_reach_pdf.py",
    "tests/reports/test_transfer_workbook.py",
    "tests/reports/test_letters.py",
    "tests/reports/test_plan_pdf.py",
    "tests/reports/test_text_cells.py",
    "tests/cli/test_accounts_cli.py",
    "tests/cli/test_cli_imports.py",
    "tests/cli/test_diary_cli.py",
    "tests/cli/test_document_cli.py",
    "tests/cli/test_hostile_files.py",
    "tests/cli/test_privacy_cli.py",
    "tests/cli/test_return_cli.py",
    "tests/cli/test_setup_cli.py",
    "tests/cli/test_transfer_cli.py",
    # The desktop's screens, driven through their real widgets on a server's records. Not here: the
    # widgets that use no database (test_table_model.py, test_crash_log.py) and test_server_screens.py,
    # which starts a cluster of its own in every run.
    "tests/desktop/test_admin_screens.py",
    "tests/desktop/test_app.py",
    "tests/desktop/test_audit_screens.py",
    "tests/desktop/test_busy_database.py",
    "tests/desktop/test_change_notices.py",
    "tests/desktop/test_client_screens.py",
    "tests/desktop/test_clients.py",
    "tests/desktop/test_dashboard_page.py",
    "tests/desktop/test_diary_screens.py",
    "tests/desktop/test_drafts.py",
    "tests/desktop/test_encryption_screens.py",
    "tests/desktop/test_plan_screens.py",
    "tests/desktop/test_referral_screens.py",
    "tests/desktop/test_referrals.py",
    "tests/desktop/test_return_page.py",
    "tests/desktop/test_soak.py",
    "tests/desktop/test_transfer_page.py",
]

# test id (or a file's prefix) -> why it cannot run on a server database.
_MIGRATING = "it migrates a file made by an earlier version (a server database starts at this version's head)"
_FILE = "it is about the database file itself (its folder, mode, bytes, disk or a FIFO in its place)"
_BACKUP = "it makes or restores a backup file (a server's backups are pg_dump's, not the app's)"
_KEYS = "it reads the file's key file (encryption at rest is a file's; a server has TLS and its own disk)"
_SQL = "the test itself writes behind the store in SQLite's own SQL (lastrowid, BEGIN IMMEDIATE, DROP TRIGGER, sqlite_master)"
_CHECK = ("it ends with 'htdesk check' passing, which on the test cluster rightly fails the server's security "
          "checks (a superuser app login, no per-person logins, no row-level security); test_pg_security.py "
          "checks a secured server")
_PROCESS = ("it runs the command in a subprocess given --db PATH, which opens the file (the round routes paths "
            "inside the test process only)")
_NO_DB = "it uses no database (the command line's help and choices)"
_NO_SCREEN = "it uses no database (the message given when the app cannot open a window)"
SQLITE_ONLY: dict[str, str] = {
    "tests/db/test_transfer_roundtrip.py::test_the_demo_exported_imported_and_exported_again_is_the_same_workbook_cell_by_cell":
        _SQL + " (its demo is enriched with SQLite's date())",
    "tests/db/test_transfer_roundtrip.py::test_the_two_databases_hold_the_same_facts_in_every_table_and_column":
        _SQL + " (its demo is enriched with SQLite's date())",
    "tests/db/test_transfer_roundtrip.py::test_a_column_added_without_a_way_out_and_back_in_fails_the_comparison":
        _SQL + " (its demo is enriched with SQLite's date())",
    "tests/db/test_transfer_roundtrip.py::test_no_compared_table_or_column_is_left_empty_by_the_demo":
        _SQL + " (its demo is enriched with SQLite's date())",
    "tests/db/test_search.py::test_a_broad_prefix_lists_people_in_name_order":
        "A KNOWN DIFFERENCE, not a file's: the server sorts accented names by its ICU collation (Mícheál beside "
        "Michael), a file by code point (Mícheál after Mohammed), which is the order this test expects",
    "tests/reports/test_plan_pdf.py::test_a_small_wellbeing_change_is_not_called_real": "it uses no database",
    "tests/reports/test_plan_pdf.py::test_the_summary_of_goals_reads_as_a_sentence": "it uses no database",
    "tests/cli/test_cli_imports.py::test_help_loads_neither_qt_nor_the_data_layer": _NO_DB,
    "tests/cli/test_cli_imports.py::test_choices_written_out_for_help_match_the_data_layer": _NO_DB,
    "tests/cli/test_cli_imports.py::test_sign_in_window_is_on_screen_before_the_heavy_modules_load_and_signing_in_works":
        _PROCESS,
    "tests/cli/test_setup_cli.py::test_init_then_check_in_a_real_process": _PROCESS + "; and " + _CHECK,
    "tests/cli/test_transfer_cli.py::test_the_command_runs_in_a_real_process":
        "it writes a blank workbook in a subprocess and reads no database",
    "tests/cli/test_setup_cli.py::test_version_is_printed_without_touching_a_database": _NO_DB,
    "tests/cli/test_setup_cli.py::test_bad_arguments_exit_2": _NO_DB,
    "tests/cli/test_transfer_cli.py::test_template_writes_a_blank_workbook_and_never_overwrites_by_accident":
        "it writes a blank workbook and reads no database",
    "tests/cli/test_hostile_files.py::test_a_part_larger_than_its_limit_in_the_zip_directory_is_refused_unopened":
        "the workbook is refused before any database is opened",
    "tests/cli/test_setup_cli.py::test_wrong_db_paths_give_clear_messages_and_exit_codes": _FILE,
    "tests/cli/test_setup_cli.py::test_without_db_the_per_user_data_folder_is_used_and_made":
        "it is about the default database file in the per-user data folder",
    "tests/cli/test_accounts_cli.py::test_the_last_administrator_cannot_be_locked_ended_or_demoted_from_the_command_line":
        _CHECK,
    "tests/cli/test_privacy_cli.py::test_erase_keeps_past_returns_and_is_audited_with_the_reason": _CHECK,
    "tests/cli/test_accounts_cli.py::test_restore_of_another_services_backup_needs_its_code": _BACKUP,
    "tests/cli/test_setup_cli.py::test_user_commands_backup_and_restore": _BACKUP,
    "tests/cli/test_setup_cli.py::test_the_daily_backup_works_on_a_fresh_install_without_out": _BACKUP,
    "tests/cli/test_hostile_files.py::test_every_command_refuses_a_database_that_is_not_ours_with_exit_4_and_changes_nothing":
        _FILE + "; [newer] writes SQLite's migration table",
    "tests/cli/test_hostile_files.py::test_init_and_demo_leave_a_file_that_is_not_theirs_alone": _FILE,
    "tests/cli/test_hostile_files.py::test_an_import_that_cannot_get_the_write_lock_is_a_plain_busy_error_with_the_report_written":
        _SQL + "; test_postgres.py holds the server's write lock instead",
    "tests/cli/test_privacy_cli.py::test_check_names_the_first_changed_audit_row":
        _SQL + "; test_postgres.py tampers with the server's audit and checks the chain names the row",
    "tests/cli/test_setup_cli.py::test_demo_is_the_same_for_the_same_seed_and_refuses_real_databases":
        "the test compares two demos with SQLite's GROUP_CONCAT; test_postgres.py makes the demo on a server",
    "tests/cli/test_setup_cli.py::test_demo_makes_a_believable_service":
        "the test measures the demo in SQLite's own SQL (SUM of a comparison, GLOB)",
    "tests/db/test_plans_signposting_store.py::test_migrating_gives_existing_plans_their_first_version": _MIGRATING,
    "tests/db/test_reliability.py::test_a_database_of_a_newer_version_is_refused_naming_the_version_and_left_unchanged":
        _MIGRATING + "; test_postgres.py refuses a server database with a newer step",
    "tests/db/test_reliability.py::test_a_write_waiting_past_the_busy_timeout_is_a_plain_busy_error_and_changes_nothing":
        _SQL + "; test_postgres.py holds the server's write lock instead",
    "tests/db/test_reliability.py::test_a_full_disk_is_one_plain_sentence_and_nothing_is_audited": _FILE,
    "tests/db/test_reliability.py::test_a_read_only_database_is_one_plain_sentence": _FILE,
    "tests/db/test_reliability.py::test_a_fifo_is_refused_at_once_not_opened": _FILE,
    "tests/db/test_reliability.py::test_leftovers_of_a_killed_run_are_swept_at_the_next_start_but_not_those_of_a_live_one":
        _FILE,
    "tests/db/test_reliability.py::test_a_backup_that_cannot_be_written_leaves_no_partial_file_and_is_not_audited": _BACKUP,
    "tests/db/test_accounts_and_settings.py::test_a_password_typed_into_the_username_box_is_not_kept_in_the_audit": _KEYS,
    "tests/db/test_accounts_and_settings.py::test_restore_refuses_another_services_backup_unless_its_code_is_typed": _BACKUP,
    "tests/db/test_accounts_and_settings.py::test_a_backup_on_a_fresh_install_makes_its_folder_and_is_found_as_the_last":
        _BACKUP,
    "tests/db/test_audit_chain.py::test_check_verifies_the_chain_and_names_the_first_changed_row":
        _SQL + "; test_postgres.py tampers with the server's audit and checks the chain names the row",
    "tests/db/test_audit_chain.py::test_a_deleted_row_is_named_by_the_row_after_it": _SQL,
    "tests/db/test_audit_chain.py::test_the_audit_cannot_be_changed_through_the_store":
        "it expects SQLite's error class; test_postgres.py checks the server's triggers refuse the same statements",
    "tests/db/test_rights.py::test_erasure_anonymises_in_place_and_past_returns_keep_their_figures":
        "it dumps the file's every table through sqlite_master to show no erased word is left in the file",
    "tests/db/test_rights.py::test_restoring_a_backup_made_before_an_erasure_erases_the_person_again": _BACKUP,
    "tests/db/test_reach.py::test_another_services_sessions_are_not_counted": _SQL,
    "tests/db/test_reach.py::test_figures_are_shown_when_they_cannot_be_kept": _SQL,
    "tests/cli/test_setup_cli.py::test_secure_on_a_file_says_it_is_a_servers_and_changes_nothing":
        "it gives 'htdesk secure' a database file, which it refuses (test_pg_security.py secures a server)",
    "tests/db/test_password_hashing.py::test_a_real_database_gets_rfc_9106_second_recommended_parameters": _PROCESS,
    "tests/db/test_password_hashing.py::test_only_the_exact_switch_value_makes_hashes_cheap": _PROCESS,
    "tests/desktop/test_admin_screens.py::test_backup_now_shows_its_age_reminds_when_old_and_restore_checks_the_service":
        _BACKUP + "; test_server_screens.py checks the status bar says backups are the server's",
    "tests/desktop/test_admin_screens.py::test_restore_is_offered_at_sign_in_to_an_administrator_with_the_backup_checked":
        _BACKUP,
    "tests/desktop/test_app.py::test_first_run_wizard_creates_the_database_and_signs_in":
        "it is the first-run wizard's new file (its folder, its backups folder, its recovery key); "
        "test_server_screens.py drives the wizard's path to a server",
    "tests/desktop/test_encryption_screens.py": _KEYS + ": the recovery key's screens",
    "tests/desktop/test_soak.py": _PROCESS + ": the soak's window, on a demo file of its own",
    "tests/desktop/test_app.py::test_no_display_gives_a_message_not_a_crash": _NO_SCREEN,
    "tests/desktop/test_app.py::test_cli_without_a_command_opens_the_app": _NO_SCREEN,
    "tests/desktop/test_app.py::test_missing_x11_libraries_give_a_message_not_an_abort": _NO_SCREEN,
    "tests/desktop/test_app.py::test_unhandled_errors_go_to_the_log_with_a_message": "it uses no database (the log)",
    "tests/desktop/test_app.py::test_worker_delivers_on_the_gui_thread_and_drops_stale_results":
        "it uses no database (the worker thread)",
    "tests/desktop/test_client_screens.py::test_a_spin_box_in_a_form_takes_the_wheel_only_while_focused":
        "it uses no database (a spin box)",
}


class _Spares:
    """Copies of a template, made ahead on a thread of its own while the tests run: CREATE DATABASE ...
    TEMPLATE takes about 0.2 s (two checkpoints), renaming a copy made ahead about 10 ms. A template
    copied twice (a session's or module's template, copied per test) gets a spare, remade after each
    use. A spare is used only if nothing connected to its template since it was begun (a connection
    may have written); otherwise the copy is made then, as before. The finished tests' databases are
    dropped on that thread too."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.lock = threading.Lock()
        self.generation: collections.Counter = collections.Counter()  # bumped when a database is used or remade
        self.copies: collections.Counter = collections.Counter()
        self.spare: dict[str, dict] = {}                                # template -> its spare (begun or ready)
        self.numbers = itertools.count(1)
        self.errors: list[str] = []
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="pg-spares", daemon=True)
        self.thread.start()

    def touched(self, name: str) -> None:
        """Something connects to the database, or it is made again or dropped: its spare is out of date."""
        with self.lock:
            self.generation[name] += 1
            spare = self.spare.pop(name, None)
        if spare is not None:
            self.jobs.put(("drop", spare["name"]))         # after it is made: the jobs run in order

    def copy(self, template: str, target: str) -> str:
        self.touched(target)
        with self.lock:
            self.copies[template] += 1
            spare = self.spare.pop(template, None)
            again = self.copies[template] >= 2
        url = None
        if spare is not None:
            spare["done"].wait()
            with self.lock:
                current = spare["ok"] and spare["generation"] == self.generation[template]
            if current:
                self.cluster.drop(target)
                self.cluster.admin(f"ALTER DATABASE {spare['name']} RENAME TO {target}")
                url = self.cluster.url(target)
            else:
                self.jobs.put(("drop", spare["name"]))
        if url is None:
            url = self.cluster.create(target, template=template)
        if again:
            with self.lock:
                if template not in self.spare:
                    spare = self.spare[template] = {"name": f"htd_spare_{next(self.numbers)}", "ok": False,
                                                    "generation": self.generation[template],
                                                    "done": threading.Event()}
                    self.jobs.put(("make", template, spare))
        return url

    def drop(self, name: str) -> None:
        self.touched(name)
        self.jobs.put(("drop", name))

    def _run(self) -> None:
        import psycopg
        while (job := self.jobs.get()) is not None:
            try:
                if job[0] == "drop":
                    self.cluster.drop(job[1])
                    continue
                _, template, spare = job
                try:
                    with psycopg.connect(f"host={self.cluster.folder} user={self.cluster.user} dbname=postgres",
                                         autocommit=True) as conn:
                        # Connected to (so written to since, perhaps): no spare; and CREATE would wait 5 s.
                        if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                        (template,)).fetchone()[0] == 0:
                            conn.execute(f"CREATE DATABASE {spare['name']} TEMPLATE {template} STRATEGY FILE_COPY")
                            spare["ok"] = True
                finally:
                    spare["done"].set()
            except Exception as exc:             # noqa: BLE001 -- said at the end of the run
                self.errors.append(f"{job[0]} {job[1]}: {exc}")

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=60)


_cluster = None
_spares: _Spares | None = None
_routes: dict[str, str] = {}        # a test's database path -> the database standing for it
_served = [0]                       # stores opened (or made, copied, looked into) on the server so far
_on_files: list[str] = []           # tests of the round that ran and never used the server


def _key(path) -> str:
    return str(Path(path).resolve())


def pytest_configure(config):
    global _cluster
    if ENGINE != "postgresql":
        return
    from pg_cluster import Cluster, binaries
    if binaries() is None:
        return
    _cluster = Cluster()
    global _spares
    _spares = _Spares(_cluster)
    _route()


def pytest_unconfigure(config):
    if _cluster is not None:
        _spares.stop()
        _cluster.stop()


def pytest_collection_modifyitems(config, items):
    if ENGINE != "postgresql":
        return
    from pg_cluster import MISSING
    for item in items:
        if _cluster is None:
            item.add_marker(pytest.mark.skip(reason=MISSING))
            continue
        for prefix, reason in SQLITE_ONLY.items():
            if item.nodeid == prefix or item.nodeid.startswith(prefix + "[") or \
                    (prefix.endswith(".py") and item.nodeid.startswith(prefix + "::")):
                item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


_as_the_app = [False]               # routed stores as the app's (store.path None): the desktop's tests


@pytest.fixture(autouse=True)
def _stores_as_the_app_opens_them(request):
    _as_the_app[0] = request.node.nodeid.replace(os.sep, "/").startswith("tests/desktop/")
    yield
    _as_the_app[0] = False


@pytest.fixture(autouse=True)
def _uses_the_server(request):
    """Notes a test of the round that passed without ever using the server (it ran on a file: its
    database was made some other way), so the round says so instead of counting it as a server's."""
    before = _served[0]
    yield
    if _cluster is not None and _served[0] == before and \
            not any(_on_the_server(value) for value in getattr(request.node, "funcargs", {}).values()):
        _on_files.append(request.node.nodeid)


def _on_the_server(value) -> bool:
    """A fixture's value that is a connection or store on the server (made by a module's or session's
    fixture, before the test began counting)."""
    from db.pg.adapter import PgConnection
    return isinstance(value, PgConnection) or getattr(getattr(value, "db", None), "engine", None) == "postgresql"


def pytest_terminal_summary(terminalreporter):
    if _spares is not None and _spares.errors:
        terminalreporter.write_line(f"PostgreSQL round: {len(_spares.errors)} database(s) not made ahead or "
                                    "dropped: " + "; ".join(_spares.errors[:5]))
    if _cluster is not None and _on_files:
        terminalreporter.write_line(f"PostgreSQL round: {len(_on_files)} test(s) ran without using the server "
                                    "(on a file, or no database): " + ", ".join(_on_files[:20]) +
                                    (" ..." if len(_on_files) > 20 else ""))


def pytest_report_header(config):
    if ENGINE == "postgresql":
        return f"database engine: PostgreSQL ({_cluster.bin if _cluster else 'not installed'})"


_to_drop: list[str] = []           # the folders (a test's tmp_path) whose databases go once the test is over


@pytest.fixture(autouse=True)
def _drop_test_databases(request):
    """The databases a test made under its own tmp_path are dropped after it: once the test is over,
    after pytest-qt has delivered the last events of its windows (a worker's result reaching a
    closing window reads through a store the test never closed; on a file that read still works)."""
    if _cluster is None or "tmp_path" not in request.fixturenames:
        yield
        return
    _to_drop.append(_key(request.getfixturevalue("tmp_path")))
    yield


def pytest_runtest_logfinish(nodeid, location):
    while _to_drop:
        folder = _to_drop.pop()
        for path in [p for p in _routes if p.startswith(folder + os.sep)]:
            _spares.drop(_routes.pop(path))


def _route() -> None:
    from db import connection
    from db.store import CaseStore

    create_new, open_ = CaseStore.create_new.__func__, CaseStore.open.__func__
    copy = getattr(connection, "copy_database", None)

    def routed(path) -> str | None:
        if isinstance(path, (str, Path)) and not str(path).startswith("postgresql://"):
            name = _routes.get(_key(path))
            if name:
                _spares.touched(name)       # a connection to it: its copies made ahead are out of date
            return _cluster.url(name) if name else None
        return None

    def create_new_pg(cls, path, **kw):
        if isinstance(path, str) and path.startswith("postgresql://"):
            return create_new(cls, path, **kw)
        if Path(path).exists() and Path(path).stat().st_size > 0:
            return create_new(cls, path, **kw)     # the refusal a file already there gets
        name = _cluster.name_for(_key(path))
        _spares.touched(name)
        url = _cluster.create(name)
        _routes[_key(path)] = name
        _served[0] += 1
        return _named(create_new(cls, url, **kw), path)

    def open_pg(cls, path, **kw):
        url = routed(path)
        if isinstance(path, str) and path.startswith("postgresql://"):
            from urllib.parse import urlsplit
            _spares.touched(urlsplit(path).path.strip("/"))    # by its address (a screen's second connection)
        _served[0] += bool(url) or (isinstance(path, str) and path.startswith("postgresql://"))
        return _named(open_(cls, url, **kw), path) if url else open_(cls, path, **kw)

    def _named(store, path):
        # The test's own name for its database, so a second connection opens it by store.path as on a file.
        # Not for the desktop's tests: their screens get a store as the app opens a server's (url, no path),
        # and the tests open second connections by their own path.
        if not _as_the_app[0]:
            store.path = Path(path)
        return store

    def copy_pg(source, target):
        name = _routes.get(_key(source))
        if name is None:
            return copy(source, target)
        target_name = _cluster.name_for(_key(target))
        _served[0] += 1
        _spares.copy(name, target_name)
        _routes[_key(target)] = target_name
        return Path(target)

    # In the app a server store has no path (store.url instead), so a file's encryption at first sign-in
    # never starts there; the routed stores carry the test's name as path, so it is held back here.
    encrypt = getattr(CaseStore, "_encrypt_plain_database", None)

    def encrypt_files_only(store):
        if getattr(store.db, "engine", None) != "postgresql":
            encrypt(store)

    # The demo (db.demo.create_demo, which CaseStore.create_demo and 'htdesk demo' call) on a new empty
    # database of the cluster, as 'htdesk demo --db postgresql://...' makes it on a server.
    from db import demo
    create_demo = demo.create_demo

    def create_demo_pg(path, *args, **kw):
        if isinstance(path, str) and path.startswith("postgresql://"):
            return create_demo(path, *args, **kw)
        url = routed(path)
        if url is None:
            if Path(path).exists() or not Path(path).parent.is_dir():
                return create_demo(path, *args, **kw)      # the refusals a file or a missing folder gets
            name = _cluster.name_for(_key(path))
            _spares.touched(name)
            url = _cluster.create(name)
            _routes[_key(path)] = name
        _served[0] += 1
        return create_demo(url, *args, **kw)

    demo.create_demo = create_demo_pg
    if encrypt is not None:
        CaseStore._encrypt_plain_database = encrypt_files_only
    CaseStore.create_new = classmethod(create_new_pg)
    CaseStore.open = classmethod(open_pg)
    if copy is not None:
        connection.copy_database = copy_pg

    # tests/rawdb.raw_connect: a second connection beside the store, to look at what it wrote (or change a
    # row behind its back): to a routed database, a server connection answering the same calls.
    try:
        import rawdb
    except ImportError:
        return
    raw_connect = rawdb.raw_connect

    def raw_connect_pg(target, *args, **kw):
        url = routed(getattr(target, "path", target))
        if url is None:
            return raw_connect(target, *args, **kw)
        _served[0] += 1
        from db.pg.adapter import PgConnection, connect_raw
        return PgConnection(connect_raw(url))

    rawdb.raw_connect = raw_connect_pg
