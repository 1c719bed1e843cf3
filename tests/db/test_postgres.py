"""PostgreSQL beside SQLite (issue 18): the engine layer itself, and the same service on both engines.

These run in the ordinary (SQLite) suite against a throwaway cluster of their own (tests/pg_cluster.py)
and are skipped, saying why, where PostgreSQL is not installed. The store's own tests run on a server in
the PostgreSQL round (tests/pg_engine.py, .ci/run).
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from db import connection, engine
from db.errors import BadPath, DatabaseBusy, DatabaseUnusable, StorageFault
from db.pg import schema
from db.pg.adapter import placeholders
from db.pg.server import check_url, conninfo, shown
from db.store import CaseStore
from pg_cluster import MISSING, Cluster, binaries

PW = "amber-kettle-42"


@pytest.fixture(scope="module")
def cluster():
    if binaries() is None:
        pytest.skip(MISSING)
    c = Cluster()
    yield c
    c.stop()


_made = iter(range(1, 10_000))


def _new_url(cluster) -> str:
    return cluster.create(f"t{next(_made)}")


def _new_store(url_or_path):
    store = CaseStore.create_new(url_or_path, service_name="Test Health Trainers", service_code="TEST",
                                 admin_username="admin", admin_password=PW)
    store.sign_in("admin", PW)
    return store


# --- no server needed -----------------------------------------------------------------------------------

def test_every_named_step_has_a_postgresql_form():
    assert [n for n in schema.step_names() if n not in schema.STEPS] == []


@pytest.mark.parametrize("sql, named, out", [
    ("SELECT * FROM t WHERE a = ? AND b = ?", False, "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("SELECT '?', \"odd?\" FROM t WHERE a = ? -- why?", False, "SELECT '?', \"odd?\" FROM t WHERE a = %s -- why?"),
    ("SELECT * FROM t WHERE a LIKE 'x%' AND b = ?", False, "SELECT * FROM t WHERE a LIKE 'x%%' AND b = %s"),
    ("SELECT :a, ':b', x::text FROM t WHERE c = :c_2", True, "SELECT %(a)s, ':b', x::text FROM t WHERE c = %(c_2)s"),
    ("SELECT '%H:%M' || ?", False, "SELECT '%%H:%%M' || %s"),
    ("SELECT 'it''s ?' , ?", False, "SELECT 'it''s ?' , %s"),
])
def test_placeholders_change_and_nothing_else(sql, named, out):
    assert placeholders(sql, named) == out


def test_a_server_address_never_holds_a_password_and_a_network_server_is_checked():
    with pytest.raises(BadPath, match="password"):
        check_url("postgresql://htdesk:secret@db.example.nhs.uk/service")
    with pytest.raises(BadPath, match="verify-full"):
        check_url("postgresql://db.example.nhs.uk/service?sslmode=require")
    with pytest.raises(BadPath, match="names no database"):
        check_url("postgresql://db.example.nhs.uk/")
    assert conninfo("postgresql://htdesk@db.example.nhs.uk/service").endswith("?sslmode=verify-full")
    assert conninfo("postgresql://db.example.nhs.uk/service?application_name=x").endswith("&sslmode=verify-full")
    assert conninfo("postgresql://htdesk@db.example.nhs.uk/service?sslmode=verify-full").count("sslmode") == 1
    # A local socket needs no TLS.
    assert "sslmode" not in conninfo("postgresql://postgres@/service?host=/run/postgresql")
    assert shown("postgresql://htdesk@db.example.nhs.uk/service") == "postgresql://db.example.nhs.uk/service"


# --- on a server -----------------------------------------------------------------------------------------

def _catalogue(conn, history: str, skip_columns: set[str]) -> dict:
    tables = {}
    for t in engine.table_names(conn):
        if t == history or t.startswith("sqlite_") or t.startswith("clients_search_"):
            continue
        tables[t] = [c for c in engine.column_names(conn, t) if c not in skip_columns]
    return tables


def test_the_servers_schema_at_head_is_the_files(cluster, tmp_path):
    server = CaseStore.open(_new_url(cluster), create=True)
    file = CaseStore.open(tmp_path / "head.sqlite3", create=True)
    try:
        on_server = _catalogue(server.db.conn, "schema_steps", {"rowid"})
        on_file = _catalogue(file.db.conn, "_sqlite_migrations", set())
        assert on_server == on_file
        assert schema.applied(server.db) == schema.step_names()
        assert sorted(server.db.view_names()) == sorted(file.db.view_names())
        assert {k: set(v.items()) for k, v in (("s", engine.foreign_keys(server.db.conn, "sessions")),
                                               ("f", engine.foreign_keys(file.db.conn, "sessions")))}["s"] == \
            set(engine.foreign_keys(file.db.conn, "sessions").items())
    finally:
        server.close()
        file.close()


def test_an_address_that_is_not_a_set_up_service_is_refused_and_left_alone(cluster):
    with pytest.raises(BadPath, match="is empty: set it up with 'htdesk init --server"):
        CaseStore.open(_new_url(cluster))
    url = _new_url(cluster)
    raw = connection_raw(url)
    raw.execute("CREATE TABLE invoices (id integer)")
    with pytest.raises(DatabaseUnusable, match="tables of another program: it was left alone"):
        CaseStore.open(url)
    assert engine.table_names(raw) == ["invoices"]
    raw.close()


def connection_raw(url):
    from db.pg.adapter import PgConnection, connect_raw
    return PgConnection(connect_raw(url))


def test_a_server_database_set_up_by_a_newer_version_is_refused(cluster):
    url = _new_url(cluster)
    _new_store(url).close()
    raw = connection_raw(url)
    raw.execute("INSERT INTO schema_steps (migration_set, name, applied_at) VALUES ('htdesk', '0999_future', 'x')")
    with pytest.raises(DatabaseUnusable, match="newer version of Health Trainer Desk .*0999_future"):
        CaseStore.open(url)
    raw.close()


def _clients(store):
    people = [("Siobhán", "O'Neill", "1980-03-15", "9434765919", "NE1 1AA"),
              ("Zoë", "Ali-Khan", "1952-02-29", None, "NE2 2BB"),
              ("Nguyễn", "Văn", "2001-07-02", None, None),
              ("Siobhan", "Smith", "1979-11-30", None, "SW1A 1AA")]
    for first, last, dob, nhs, postcode in people:
        store.clients.add({"first_name": first, "last_name": last, "date_of_birth": dob, "gender": "2",
                           "ethnicity": "A", "nhs_number": nhs, "postcode": postcode}, today=date(2026, 11, 1))


@pytest.mark.parametrize("typed", ["sio", "siobhán o'ne", "SIOBHAN", "o'neill", "zoe ali", "ali-kh", "nguyen van",
                                   "ne1", "ne11aa", "943 476 5919", "15/03/1980", "HT-0", "ht 2", "2", "smith sio",
                                   "nobody", "vă"])
def test_search_finds_the_same_people_on_both_engines(cluster, tmp_path, typed):
    found = []
    for where in (_search_db(cluster), _search_file(tmp_path)):
        found.append([(c.first_name, c.last_name) for c in where.clients.search(typed)])
    assert found[0] == found[1]


_stores: dict = {}


def _search_db(cluster):
    if "server" not in _stores:
        store = _new_store(_new_url(cluster))
        store.reference.deprivation_for = lambda postcode: {}
        _clients(store)
        _stores["server"] = store
    return _stores["server"]


def _search_file(tmp_path):
    if "file" not in _stores:
        store = _new_store(tmp_path / "search.sqlite3")
        store.reference.deprivation_for = lambda postcode: {}
        _clients(store)
        _stores["file"] = store
    return _stores["file"]


def test_search_found_someone(cluster, tmp_path):
    assert [c.last_name for c in _search_db(cluster).clients.search("siobhán o'ne")] == ["O'Neill"]
    assert len(_search_db(cluster).clients.search("sio")) == 2


def test_the_return_has_the_same_figures_on_both_engines(cluster, tmp_path):
    from returns_scenario import PERIOD, Scenario
    on_file = Scenario(tmp_path / "service.sqlite3")
    on_server = Scenario(_new_url(cluster))
    try:
        for period in (PERIOD, "2026-27-Q1", "2026-27"):
            a = on_file.store.returns.figures(period).rows()
            b = on_server.store.returns.figures(period).rows()
            assert a and a == b, period
    finally:
        on_file.store.close()
        on_server.store.close()


def test_the_servers_audit_refuses_change_and_check_names_a_tampered_row(cluster):
    url = _new_url(cluster)
    store = _new_store(url)
    store.reference.deprivation_for = lambda postcode: {}
    _clients(store)
    assert all(r.ok for r in store.admin.check()), [r for r in store.admin.check() if not r.ok]
    raw = connection_raw(url)
    import psycopg
    for sql in ("DELETE FROM audit WHERE username = 'admin'", "UPDATE audit SET detail = 'x'",
                "UPDATE audit SET username = 'someone'", "TRUNCATE audit"):
        with pytest.raises(psycopg.errors.RaiseException, match="audit trail cannot be changed"):
            raw.execute(sql)
    target = raw.execute("SELECT id FROM audit WHERE action = 'create' AND entity = 'client' ORDER BY id").fetchone()[0]
    raw.execute("ALTER TABLE audit DISABLE TRIGGER audit_only_redaction")     # what the server's owner could do
    raw.execute("UPDATE audit SET username = 'nobody' WHERE id = ?", (target,))
    result = {r.name: r for r in store.admin.check()}["audit chain"]
    assert not result.ok and f"audit row {target} " in result.detail
    raw.close()
    store.close()


def test_a_write_waiting_past_the_busy_timeout_is_a_plain_busy_error_and_changes_nothing(cluster, monkeypatch):
    from db.pg import server
    monkeypatch.setattr(server, "BUSY_TIMEOUT_MS", 300)
    url = _new_url(cluster)
    store = _new_store(url)
    holder = connection_raw(url)
    holder.execute("BEGIN")
    holder.execute(f"SELECT pg_advisory_xact_lock({server.WRITE_LOCK})")     # another PC in the middle of a save
    audit_rows = store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    with pytest.raises(DatabaseBusy, match="in use by another user"):
        store.service.add_staff("Amy Trainer", "TRAINER", username="trainer", password=PW)
    holder.execute("ROLLBACK")
    assert store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_rows
    assert not store.db.conn.in_transaction
    # Once the other save is done, the same write goes through.
    store.service.add_staff("Amy Trainer", "TRAINER", username="trainer", password=PW)
    holder.close()
    store.close()


def test_a_lost_connection_is_one_plain_sentence(cluster):
    url = _new_url(cluster)
    store = _new_store(url)
    pid = store.db.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    cluster.admin(f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(StorageFault, match="could not be reached or the connection was lost"):
        store.service.add_staff("Amy Trainer", "TRAINER", username="trainer", password=PW)
    assert store.db.conn.execute("SELECT COUNT(*) FROM staff").fetchone()[0] == 1     # nothing half-saved
    # The next action connects again: the same save goes through.
    store.service.add_staff("Amy Trainer", "TRAINER", username="trainer", password=PW)
    assert store.db.conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
    store.close()


def test_a_conflict_between_two_pcs_surfaces_through_the_row_version(cluster):
    from db.errors import ConflictError
    url = _new_url(cluster)
    first = _new_store(url)
    first.reference.deprivation_for = lambda postcode: {}
    _clients(first)
    second = CaseStore.open(url)
    second.sign_in("admin", PW)
    second.reference.deprivation_for = lambda postcode: {}
    client = first.clients.search("O'Neill")[0]
    a, b = first.clients.record(client.id), second.clients.record(client.id)
    first.clients.update(client.id, {"preferred_name": "Shiv"}, expected_version=a.client.row_version)
    with pytest.raises(ConflictError):
        second.clients.update(client.id, {"preferred_name": "Siobh"}, expected_version=b.client.row_version)
    assert second.clients.record(client.id).client.preferred_name == "Shiv"
    first.close()
    second.close()


def test_snapshot_reads_one_moment_on_the_server(cluster):
    url = _new_url(cluster)
    store = _new_store(url)
    writer = connection_raw(url)
    with connection.snapshot(store.db):
        before = store.db.conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0]
        writer.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        assert store.db.conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == before
    assert store.db.conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == before + 1
    writer.close()
    store.close()


def test_init_on_a_server_then_every_command_with_its_address(cluster, tmp_path, monkeypatch, capsys):
    from desktop.cli import main
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HTDESK_PASSWORD", "cobalt-lantern-18")
    url = _new_url(cluster)

    def run(*args):
        code = main(list(args))
        o = capsys.readouterr()
        return code, o.out, o.err

    code, out, err = run("init", "--server", url, "--service-name", "Gateshead Health Trainers", "--service-code",
                         "gates", "--admin", "boss", "--phone", "0191 000 0000")
    assert code == 0, err
    assert f"Created {url} for Gateshead Health Trainers (GATES)" in out and "no recovery key" in out
    code, out, err = run("check", "--db", url, "--user", "boss")
    # The 9 checks of a file pass; of the server's own (db/pg/security.py), two fail: the test connects as
    # the cluster's superuser, which the app must not (each person connects as their own login), and this
    # cluster does not slow down wrong passwords (test_pg_security.py's does).
    assert code == 1 and "the server keeps its own pages" in out, out + err
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("FAIL")] == ["FAIL server"] * 2, out
    assert "FAIL server: app login: the app connects as postgres, a superuser" in out and out.count("ok  ") == 14
    assert "FAIL server: wrong passwords: the server neither slows down nor locks out" in out
    monkeypatch.setenv("HTDESK_NEW_PASSWORD", "pebble-saffron-72")
    assert run("user", "add", "tina", "--roles", "TRAINER", "--full-name", "Tina Trainer", "--db", url,
               "--user", "boss")[0] == 0
    monkeypatch.setenv("HTDESK_DB", url)                 # a PC whose saved choice is the server
    code, out, err = run("audit", "--user", "boss")
    assert code == 0 and "create       account" in out and "create       service" in out, out + err
    monkeypatch.setenv("HTDESK_PASSWORD", "pebble-saffron-72")
    assert run("check", "--user", "tina")[0] == 3          # a trainer may not run the checks, as on a file
    monkeypatch.setenv("HTDESK_PASSWORD", "cobalt-lantern-18")
    code, out, err = run("backup", "--user", "boss")
    assert code == 2 and "pg_dump" in err
    code, out, err = run("init", "--server", url, "--service-name", "Again", "--service-code", "x", "--admin", "boss")
    assert code == 2 and "already holds a service" in err
    code, out, err = run("check", "--db", url.replace("postgres@", "postgres:secret@"), "--user", "boss")
    assert code == 2 and "password" in err and "secret" not in err
    code, out, err = run("check", "--db", url.replace("@/t", "@/nosuch_t"), "--user", "boss")
    assert code == 2 and "does not exist on that server" in err
    assert "Traceback" not in err


def test_the_demo_on_a_server_is_the_files_and_gives_the_same_returns(cluster, tmp_path):
    today = date(2026, 11, 1)
    made = [CaseStore.create_demo(tmp_path / "demo.sqlite3", clients=40, seed=3, today=today)]
    url = _new_url(cluster)
    made.append(CaseStore.create_demo(url, clients=40, seed=3, today=today))
    assert dict(made[0]) == dict(made[1]) and made[1]["sessions"] > 100
    stores = [CaseStore.open(tmp_path / "demo.sqlite3"), CaseStore.open(url)]
    try:
        for s in stores:
            s.sign_in("manager", "demo")
        for period in ("2026-27-Q1", "2026-27-Q2", "2025-26"):
            file_rows, server_rows = (s.returns.figures(period, generated_at=datetime(2026, 11, 1, 9)).rows()
                                      for s in stores)
            assert file_rows == server_rows and any(r[2] for r in file_rows), period
        assert [c.client_ref for c in stores[0].clients.search("a")] == \
            [c.client_ref for c in stores[1].clients.search("a")]
    finally:
        for s in stores:
            s.close()


def test_a_pc_saves_the_servers_address_never_a_password_and_every_command_then_uses_it(cluster, tmp_path,
                                                                                          monkeypatch, capsys):
    from desktop.cli import main
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HTDESK_DB", raising=False)
    monkeypatch.setenv("HTDESK_PASSWORD", PW)
    url = _new_url(cluster)
    _new_store(url).close()

    def run(*args):
        code = main(list(args))
        o = capsys.readouterr()
        return code, o.out, o.err

    assert "No server is saved" in run("connect")[1]
    code, out, err = run("connect", url.replace("postgres@", "postgres:secret@"))
    assert code == 2 and "password" in err and not (tmp_path / "data" / "server.txt").exists()
    code, out, err = run("connect", url.replace("@/t", "@/nosuch_t"))
    assert code == 2 and "does not exist" in err and not (tmp_path / "data" / "server.txt").exists()
    code, out, err = run("connect", url)
    assert code == 0 and "Test Health Trainers" in out, err
    saved = tmp_path / "data" / "server.txt"
    assert saved.read_text().strip() == url and oct(saved.stat().st_mode & 0o777) == "0o600"
    code, out, err = run("check", "--user", "admin")                  # no --db: the saved server
    # (made without 'htdesk init --server', so its server checks say what it lacks: test_pg_security.py)
    assert code == 1 and "the server keeps its own pages" in out and "FAIL server: per-person logins" in out, err
    assert f"This PC works on {url}" in run("connect")[1]
    assert run("connect", "--forget")[0] == 0 and not saved.exists()
    code, out, err = run("check", "--user", "admin")                  # the PC's own file again: none made yet
    assert code == 2 and "htdesk init" in err


def test_a_network_server_is_used_only_over_tls_with_its_certificate_checked(tmp_path):
    import socket
    import subprocess
    if binaries() is None:
        pytest.skip(MISSING)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = Cluster(tls_port=port)
    try:
        c.create("tls")
        url = f"postgresql://postgres@localhost:{port}/tls"
        # The certificate is checked against the CA given (else ~/.postgresql/root.crt): verify-full is added.
        store = _new_store(f"{url}?sslrootcert={c.ca}")
        assert store.db.conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] == 1
        from db.pg import security
        tls = {r.name: r for r in security.checks(store.db)}["server: TLS"]
        assert tls.ok and "encrypted (TLS)" in tls.detail
        store.close()
        # Over the network without TLS (the app never connects so: a connection made by hand, as some other
        # route to the server might), check says so and what to do.
        import psycopg

        from db.pg.adapter import PgConnection, PgDatabase
        with open(c.data / "pg_hba.conf", "a") as hba:
            hba.write("hostnossl all all 127.0.0.1/32 trust\n")
        c.admin("SELECT pg_reload_conf()")
        raw = psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="tls", sslmode="disable")
        plain = PgDatabase(PgConnection(raw), url)
        tls = {r.name: r for r in security.checks(plain)}["server: TLS"]
        assert not tls.ok and "not encrypted" in tls.detail and "hostssl" in tls.detail
        raw.close()
        # A server whose certificate another authority signed is refused, in plain words.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=Other CA", "-keyout", str(tmp_path / "other.key"), "-out", str(tmp_path / "other.crt")],
                       check=True, capture_output=True)
        with pytest.raises(StorageFault, match="certificate verify failed"):
            CaseStore.open(f"{url}?sslrootcert={tmp_path / 'other.crt'}")
        # No certificate authority to check it with: refused, never connected unchecked.
        with pytest.raises(StorageFault, match="root certificate file"):
            CaseStore.open(f"{url}?sslrootcert={tmp_path / 'missing.crt'}")
        with pytest.raises(BadPath, match="verify-full"):
            CaseStore.open(f"{url}?sslmode=require&sslrootcert={c.ca}")
    finally:
        c.stop()
