"""The PostgreSQL round (issue 18): the same store, return, import and permission tests, on a server.

    HTDESK_TEST_ENGINE=postgresql PYTHONPATH=tests python -m pytest -p pg_engine tests/db/test_store.py ...

(.ci/run runs it after the SQLite suite, over the files in PG_ROUND.) The tests are unchanged: they
make a database with CaseStore.create_new(path), copy one with connection.copy_database(a, b) and
open it with CaseStore.open(path), and this plugin routes each of those paths to a database of a
throwaway cluster (tests/pg_cluster.py): create_new sets the service up on a new empty database,
copy_database is CREATE DATABASE b TEMPLATE a, open connects to it. Everything between (every
query, transaction, migration step, audit row and figure) is the store running on PostgreSQL.

A test that looks at the file itself (a raw sqlite3 connection, its bytes, its backups, a
subprocess given --db PATH) cannot run there: SQLITE_ONLY names each with the reason, and they are
skipped with it. Without PostgreSQL installed every test of the round is skipped, saying so.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ENGINE = os.environ.get("HTDESK_TEST_ENGINE", "sqlite")

# The engine-relevant test files: the store, returns, import, permissions, reliability and the
# subject parts' store tests.
PG_ROUND = [
    "tests/db/test_postgres.py",
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
]

# test id (or a file's prefix) -> why it cannot run on a server database.
_RAW = "it reads the database file through a raw sqlite3 connection beside the store"
SQLITE_ONLY: dict[str, str] = {
    "tests/db/test_store.py::test_client_round_trips_names_exactly_through_a_second_connection": _RAW,
    "tests/db/test_store.py::test_lockout_after_five_failed_sign_ins": _RAW,
}

_cluster = None
_routes: dict[str, str] = {}        # a test's database path -> the database standing for it


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
    _route()


def pytest_unconfigure(config):
    if _cluster is not None:
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


def pytest_report_header(config):
    if ENGINE == "postgresql":
        return f"database engine: PostgreSQL ({_cluster.bin if _cluster else 'not installed'})"


@pytest.fixture(autouse=True)
def _drop_test_databases(request):
    """The databases a test made under its own tmp_path are dropped after it."""
    if _cluster is None or "tmp_path" not in request.fixturenames:
        yield
        return
    folder = _key(request.getfixturevalue("tmp_path"))
    yield
    for path in [p for p in _routes if p.startswith(folder + os.sep)]:
        _cluster.drop(_routes.pop(path))


def _route() -> None:
    from db import connection
    from db.store import CaseStore

    create_new, open_ = CaseStore.create_new.__func__, CaseStore.open.__func__
    copy = getattr(connection, "copy_database", None)

    def routed(path) -> str | None:
        if isinstance(path, (str, Path)) and not str(path).startswith("postgresql://"):
            name = _routes.get(_key(path))
            return _cluster.url(name) if name else None
        return None

    def create_new_pg(cls, path, **kw):
        if isinstance(path, str) and path.startswith("postgresql://"):
            return create_new(cls, path, **kw)
        if Path(path).exists() and Path(path).stat().st_size > 0:
            return create_new(cls, path, **kw)     # the refusal a file already there gets
        name = _cluster.name_for(_key(path))
        url = _cluster.create(name)
        _routes[_key(path)] = name
        return _named(create_new(cls, url, **kw), path)

    def open_pg(cls, path, **kw):
        url = routed(path)
        return _named(open_(cls, url, **kw), path) if url else open_(cls, path, **kw)

    def _named(store, path):
        # The test's own name for its database, so a second connection opens it by store.path as on a file.
        store.path = Path(path)
        return store

    def copy_pg(source, target):
        name = _routes.get(_key(source))
        if name is None:
            return copy(source, target)
        target_name = _cluster.name_for(_key(target))
        _cluster.create(target_name, template=name)
        _routes[_key(target)] = target_name
        return Path(target)

    # In the app a server store has no path (store.url instead), so a file's encryption at first sign-in
    # never starts there; the routed stores carry the test's name as path, so it is held back here.
    encrypt = getattr(CaseStore, "_encrypt_plain_database", None)

    def encrypt_files_only(store):
        if getattr(store.db, "engine", None) != "postgresql":
            encrypt(store)

    if encrypt is not None:
        CaseStore._encrypt_plain_database = encrypt_files_only
    CaseStore.create_new = classmethod(create_new_pg)
    CaseStore.open = classmethod(open_pg)
    if copy is not None:
        connection.copy_database = copy_pg
