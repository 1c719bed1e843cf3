"""A shared server that itself refuses what the role table refuses (issue 18, db/pg/security.py).

A throwaway cluster of its own whose local connections need a password (scram-sha-256), apart from
the IT team's owner (the cluster's postgres user, trusted on its socket): each test connects with raw
SQL as a person's server login, as a PC of the service would, and the server refuses. Skipped, saying
why, where PostgreSQL is not installed.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from db.errors import AuthenticationError, PermissionDenied
from db.pg import security
from db.store import CaseStore
from pg_cluster import MISSING, Cluster, binaries

PW = "amber-kettle-42"
PASSWORDS = {"admin": PW, "champ1": "violet-harbour-17", "champ2": "copper-meadow-58", "tina": "silver-lantern-93"}
DB = "gates"
OWNER = "itowner"
TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def cluster():
    if binaries() is None:
        pytest.skip(MISSING)
    # auth_delay (shipped with PostgreSQL) slows each wrong password: what the README asks of the IT team.
    c = Cluster(settings="-c shared_preload_libraries=auth_delay")
    with open(c.data / "pg_hba.conf", "w") as hba:
        hba.write(f"local all {c.user} trust\nlocal all {OWNER} trust\nlocal all all scram-sha-256\n")
    c.admin("ALTER SYSTEM SET auth_delay.milliseconds = 50")
    c.admin("SELECT pg_reload_conf()")
    # The IT team's owner login: CREATEROLE, owns the database, not a superuser (the README's set-up).
    c.admin(f"CREATE ROLE {OWNER} LOGIN CREATEROLE")
    yield c
    c.stop()


def _connect(cluster, username: str, password: str | None = None, dbname: str = DB):
    import psycopg
    return psycopg.connect(host=str(cluster.folder), dbname=dbname, user=security.login_name(dbname, username),
                           password=password if password is not None else PASSWORDS[username], autocommit=True)


@pytest.fixture(scope="module")
def service(cluster):
    """A secured service: the first administrator's login made by install, two champions and a trainer
    added through the store (so through the admin path), each champion allocated one client."""
    cluster.admin(f"CREATE DATABASE {DB} OWNER {OWNER}")
    url = f"postgresql://{OWNER}@/{DB}?host={cluster.folder}"
    store = CaseStore.create_new(url, service_name="Test Health Trainers", service_code="TEST",
                                 admin_username="admin", admin_password=PW)
    security.install(store.db, {"admin": PW})
    store.sign_in("admin", PW)
    store.reference.deprivation_for = lambda postcode: {}
    staff = {}
    for username, role in (("champ1", "CHAMPION"), ("champ2", "CHAMPION"), ("tina", "TRAINER")):
        staff[username] = store.service.add_staff(username.title(), role, username=username,
                                                  password=PASSWORDS[username])
    store.close()
    # The store as the manager would run it: allocations made through it.
    store = CaseStore.open(url)
    store.sign_in("admin", PW)
    store.service.add_staff("Manny", "MANAGER", username="manny", password="golden-ferret-71")
    store.close()
    store = CaseStore.open(url)
    store.sign_in("manny", "golden-ferret-71")
    store.reference.deprivation_for = lambda postcode: {}
    clients = {}
    for username in ("champ1", "champ2"):
        client_id = store.clients.add({"first_name": f"Client of {username}", "last_name": "Test",
                                       "date_of_birth": "1980-01-01", "gender": "2", "ethnicity": "A"},
                                      today=TODAY).ids[0]
        referral_id = store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "SELF"},
                                          today=TODAY).ids[0]
        store.referrals.allocate(referral_id, staff[username])
        clients[username] = client_id
    store.close()
    store = CaseStore.open(url)                  # the owner again: running the set-up again is harmless
    security.install(store.db)
    store.close()
    return {"url": url, "clients": clients}


def test_a_champions_login_reads_and_changes_only_their_allocated_clients(cluster, service):
    import psycopg
    mine, theirs = service["clients"]["champ1"], service["clients"]["champ2"]
    with _connect(cluster, "champ1") as conn:
        seen = [r[0] for r in conn.execute("SELECT id FROM clients ORDER BY id")]
        assert seen == [mine]
        assert conn.execute("SELECT COUNT(*) FROM clients WHERE id = %s", (theirs,)).fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM referrals WHERE client_id = %s", (theirs,)).fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM client_list WHERE id = %s", (theirs,)).fetchone()[0] == 0   # a view
        assert conn.execute("UPDATE clients SET first_name = 'X' WHERE id = %s", (theirs,)).rowcount == 0
        assert conn.execute("UPDATE clients SET first_name = first_name WHERE id = %s", (mine,)).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):      # may not move a client of theirs to another
            conn.execute("UPDATE referrals SET client_id = %s WHERE client_id = %s", (theirs, mine))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):      # nor take another's caseload as their own
            conn.execute("UPDATE accounts SET staff_id = (SELECT staff_id FROM accounts WHERE username = 'champ2') "
                         "WHERE username = 'champ1'")
        assert conn.execute("UPDATE accounts SET locked = 1 WHERE username = 'champ2'").rowcount == 0   # not theirs
        assert conn.execute("UPDATE accounts SET last_login = last_login WHERE username = 'champ1'").rowcount == 1
    with _connect(cluster, "tina") as conn:     # a trainer sees every client, as db/policy.py says
        assert conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 2


def test_an_app_login_cannot_change_the_audit_or_create_a_role(cluster, service):
    import psycopg
    with _connect(cluster, "tina") as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] > 0     # its id and hash: to chain
        for sql in ("DELETE FROM audit", "UPDATE audit SET detail = 'x'", "TRUNCATE audit",
                    "SELECT before FROM audit", "ALTER TABLE audit DISABLE TRIGGER audit_only_redaction",
                    "CREATE ROLE sneaky LOGIN", "DROP TABLE clients",
                    "SELECT htdesk_account_login('tina', NULL, ARRAY['admin'], true)",
                    "CREATE TABLE public.mine (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    with _connect(cluster, "admin") as conn:            # the administrator neither
        for sql in ("CREATE ROLE sneaky LOGIN", "DELETE FROM audit", "ALTER ROLE CURRENT_USER CREATEROLE",
                    "GRANT gates_admin TO \"gates.tina\""):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        with pytest.raises(psycopg.errors.RaiseException, match="audit trail cannot be changed"):
            conn.execute("UPDATE audit SET detail = 'x'")     # the columns it may redact, only as a redaction
    flags = cluster_roles(cluster)
    assert [name for name, createrole, _ in flags if createrole and name.startswith("gates.")] == []


def cluster_roles(cluster):
    import psycopg
    with psycopg.connect(host=str(cluster.folder), dbname=DB, user=cluster.user, autocommit=True) as conn:
        return conn.execute("SELECT rolname, rolcreaterole, rolcanlogin FROM pg_roles ORDER BY 1").fetchall()


def test_the_admin_path_makes_a_login_that_signs_in_and_follows_the_account(cluster, service):
    import psycopg
    with _connect(cluster, "admin") as conn:
        for args in (("bad name; drop", None, ["trainer"], True), ("tina", "plain-password", None, None),
                     ("tina", None, ["superuser"], None)):
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute("SELECT htdesk_account_login(%s, %s, %s, %s)", args)
    store = CaseStore.open(service["url"])
    store.sign_in("admin", PW)
    store.service.add_staff("Newbie", "TRAINER", username="newbie", password="cobalt-thistle-64")
    with _connect(cluster, "newbie", "cobalt-thistle-64") as conn:
        assert conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 2
        assert conn.execute("SELECT current_user").fetchone()[0] == "gates.newbie"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(cluster, "newbie", "wrong-password-123").close()
    store.admin.set_roles("newbie", ["CHAMPION"])
    with _connect(cluster, "newbie", "cobalt-thistle-64") as conn:       # now a champion: no one allocated
        assert conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 0
    store.admin.set_password("newbie", "plum-orchard-82-x")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(cluster, "newbie", "cobalt-thistle-64").close()
    _connect(cluster, "newbie", "plum-orchard-82-x").close()
    store.admin.set_locked("newbie", True)
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        _connect(cluster, "newbie", "plum-orchard-82-x").close()
    store.close()
    # The verifier, not the password, is what the server was given.
    with psycopg.connect(host=str(cluster.folder), dbname=DB, user=cluster.user, autocommit=True) as conn:
        secret = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'gates.newbie'").fetchone()[0]
    assert secret.startswith("SCRAM-SHA-256$") and "plum" not in secret


def test_check_names_what_a_server_lacks(cluster, service, tmp_path):
    # The store as the IT team's owner login opens it: check says the app must not connect so.
    store = CaseStore.open(service["url"])
    store.sign_in("admin", PW)
    results = {r.name: r for r in security.server_checks(store)}
    assert not results["server: app login"].ok and "the database's owner" in results["server: app login"].detail
    assert results["server: row-level security"].ok and results["server: audit grants"].ok
    assert results["server: per-person logins"].ok and results["server: CREATEROLE"].ok
    raw = store.db.conn
    raw.execute("ALTER TABLE sessions DISABLE ROW LEVEL SECURITY")
    raw.execute('GRANT DELETE ON audit TO "gates_trainer"')
    raw.execute('ALTER ROLE "gates.tina" CREATEROLE')
    try:
        results = {r.name: r for r in security.server_checks(store)}
        assert not results["server: row-level security"].ok and "sessions" in results["server: row-level security"].detail
        assert not results["server: audit grants"].ok and "gates_trainer may DELETE" in results["server: audit grants"].detail
        assert not results["server: CREATEROLE"].ok and "gates.tina" in results["server: CREATEROLE"].detail
    finally:
        raw.execute("ALTER TABLE sessions ENABLE ROW LEVEL SECURITY")
        raw.execute('REVOKE DELETE ON audit FROM "gates_trainer"')
        raw.execute('ALTER ROLE "gates.tina" NOCREATEROLE')
        store.close()


def test_htdesk_check_on_an_unsecured_server_fails_naming_what_to_do(cluster):
    url = cluster.create("plain")
    CaseStore.create_new(url, service_name="Test Health Trainers", service_code="TEST",
                         admin_username="admin", admin_password=PW).close()
    done = subprocess.run([sys.executable, "-m", "desktop.cli", "--db", url, "check", "--user", "admin"],
                          input=PW + "\n", capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          env=_env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL server: per-person logins" in done.stdout and "htdesk secure" in done.stdout
    assert "FAIL server: row-level security" in done.stdout
    assert "ok   integrity" in done.stdout


def _env():
    import os
    return {**os.environ, "HTDESK_PASSWORD": PW}


def test_the_store_works_connected_as_a_persons_own_login(cluster, service, tmp_path, monkeypatch):
    """Sign-in on a secured server: the PC connects as <db>.<username> (the password from the user's
    pgpass here), then the store signs in as that account; the server's wall and the store's agree."""
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("".join(f"*:*:*:{security.login_name(DB, u)}:{p}\n" for u, p in PASSWORDS.items()))
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    mine, theirs = service["clients"]["champ1"], service["clients"]["champ2"]
    url = f"postgresql://{security.login_name(DB, 'champ1')}@/{DB}?host={cluster.folder}"
    store = CaseStore.open(url)
    try:
        store.sign_in("champ1", PASSWORDS["champ1"])
        assert [c.id for c in store.clients.search("client")] == [mine]
        store.clients.update(mine, {"first_name": "Changed"}, expected_version=store.clients.get(mine).row_version,
                             today=TODAY)                                 # a write, with its audit row
        assert store.clients.get(mine).first_name == "Changed"
        with pytest.raises(PermissionDenied):                             # the store's wall, as before
            store.clients.record(theirs)
        # and the server's, behind it: the same connection cannot see the row at all
        assert store.db.conn.execute("SELECT COUNT(*) FROM clients WHERE id = ?", (theirs,)).fetchone()[0] == 0
    finally:
        store.close()
    url = f"postgresql://{security.login_name(DB, 'tina')}@/{DB}?host={cluster.folder}"
    store = CaseStore.open(url)
    try:
        store.sign_in("tina", PASSWORDS["tina"])
        assert sorted(c.id for c in store.clients.search("test")) == sorted([mine, theirs])
        assert all(r.ok for r in security.server_checks(store) if r.name != "server: TLS")
    finally:
        store.close()


def test_htdesk_on_a_secured_server_signs_in_as_the_persons_own_login(cluster, service, monkeypatch, capsys):
    """An address naming no user: the command connects as <db>.<--user> with the typed password."""
    import psycopg
    from desktop.cli import main
    url = f"postgresql:///{DB}?host={cluster.folder}"

    def run(*args, password):
        monkeypatch.setenv("HTDESK_PASSWORD", password)
        code = main(list(args))
        o = capsys.readouterr()
        return code, o.out, o.err
    code, out, err = run("check", "--db", url, "--user", "manny", password="golden-ferret-71")
    assert code == 0 and "ok   server: app login: the app connects as gates.manny, an app login" in out, out + err
    code, out, err = run("check", "--db", url, "--user", "manny", password="not-the-password-1")
    assert code == 3 and "Wrong username or password" in err and "Traceback" not in err
    monkeypatch.setenv("HTDESK_NEW_PASSWORD", "walnut-glacier-36")
    code, out, err = run("user", "passwd", "manny", "--db", url, "--user", "manny", password="golden-ferret-71")
    assert code == 0, out + err
    _connect(cluster, "manny", "walnut-glacier-36").close()            # the login's password followed
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(cluster, "manny", "golden-ferret-71").close()
    code, out, err = run("check", "--db", url, "--user", "tina", password=PASSWORDS["tina"])
    assert code == 3 and "may not run the integrity checks" in err        # the store's refusal, as before


def test_the_sign_in_window_on_a_secured_server_connects_as_the_persons_login(cluster, service, qtbot):
    from desktop.app import _OpeningStore
    from desktop.signin import SignInDialog
    opening = _OpeningStore(f"postgresql:///{DB}?host={cluster.folder}", as_person=True)
    dialog = SignInDialog(opening, "", False, None)
    qtbot.addWidget(dialog)
    dialog.show()
    field_height = dialog.username.height()
    dialog.username.setText("champ2")
    dialog.password.setText("not-the-password-9")
    dialog.try_sign_in()
    assert opening.store is None and "Wrong username or password" in dialog.message.text()
    assert dialog.username.height() >= field_height        # the window grew to show the two-line refusal
    dialog.password.setText(PASSWORDS["champ2"])
    dialog.try_sign_in()
    try:
        assert dialog.actor is not None and dialog.actor.username == "champ2"
        assert opening.store.db.conn.execute("SELECT current_user").fetchone()[0] == "gates.champ2"
        assert [c.id for c in opening.store.clients.search("test")] == [service["clients"]["champ2"]]
    finally:
        opening.store.close()


def test_everyday_work_through_peoples_own_logins(cluster, service, tmp_path, monkeypatch):
    """The grants are enough for the work each role does: a champion books and records a contact for
    their client; a manager adds and allocates a referral and counts a quarter; an administrator adds a
    venue. (Each through the store, connected as that person's login.)"""
    from db.pg.security import open_as_person
    url = f"postgresql:///{DB}?host={cluster.folder}"
    mine = service["clients"]["champ1"]
    store = open_as_person(CaseStore, url, "champ1", PASSWORDS["champ1"])
    try:
        referral = store.db.conn.execute("SELECT id FROM referrals WHERE client_id = ?", (mine,)).fetchone()[0]
        store.referrals.add_contact_attempt(referral, "2026-10-02", "PHONE", "NOANSWER", today=TODAY)
        store.diary.book(referral, {"session_date": "2026-11-03", "start_time": "10:00", "duration_minutes": 60,
                                    "mode": "PHONE"}, weeks=2, today=TODAY)
        assert store.db.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    finally:
        store.close()
    store = open_as_person(CaseStore, url, "admin", PW)
    try:
        store.service.add_venue("LIB", "Central Library", "COMMUNITY")
        # Erasure: the client anonymised in place and their audit rows redacted (the only audit UPDATE).
        store.privacy.erase(service["clients"]["champ2"], "Erasure requested by the person in writing")
        assert store.db.conn.execute("SELECT COUNT(*) FROM audit WHERE client_id = ? AND redacted_at IS NOT NULL",
                                     (service["clients"]["champ2"],)).fetchone()[0] > 0
    finally:
        store.close()
    try:
        store = open_as_person(CaseStore, url, "manny", "golden-ferret-71")
    except AuthenticationError:                                  # the passwd test ran first
        store = open_as_person(CaseStore, url, "manny", "walnut-glacier-36")
    try:
        store.reference.deprivation_for = lambda postcode: {}
        client_id = store.clients.add({"first_name": "New", "last_name": "Person", "date_of_birth": "1990-05-05",
                                       "gender": "1", "ethnicity": "A"}, today=TODAY).ids[0]
        referral = store.referrals.add(client_id, {"received_date": "2026-10-05", "source": "SELF"}, today=TODAY).ids[0]
        champ2 = store.db.conn.execute("SELECT staff_id FROM accounts WHERE username = 'champ2'").fetchone()[0]
        store.referrals.allocate(referral, champ2)
        assert store.returns.figures("2026-27-Q2")
    finally:
        store.close()
    with _connect(cluster, "champ2") as conn:        # the new allocation is what the champion's login now sees
        assert client_id in [r[0] for r in conn.execute("SELECT id FROM clients")]
    store = open_as_person(CaseStore, url, "admin", PW)        # the chain written by every login verifies
    try:
        chain = {r.name: r for r in store.admin.check()}["audit chain"]
        assert chain.ok, chain.detail
    finally:
        store.close()


def test_a_later_schema_step_opened_by_the_owner_gets_the_groups_grants(cluster, service, monkeypatch):
    from db.pg import schema
    names = schema.step_names()
    monkeypatch.setattr(schema, "step_names", lambda: [*names, "9999_later"])
    monkeypatch.setitem(schema.STEPS, "9999_later", ["CREATE TABLE later_table (id BIGINT PRIMARY KEY)"])
    CaseStore.open(service["url"]).close()                  # the IT team's owner opens it after an upgrade
    try:
        with _connect(cluster, "tina") as conn:
            assert conn.execute("SELECT COUNT(*) FROM later_table").fetchone()[0] == 0
    finally:                                                # the tests after this one open it at this version
        cluster.admin("DELETE FROM schema_steps WHERE name = '9999_later'", dbname=DB)
        cluster.admin("DROP TABLE later_table", dbname=DB)


def test_htdesk_init_server_as_the_owner_login_makes_the_first_administrators_login(cluster, monkeypatch, capsys):
    from desktop.cli import main
    cluster.admin(f"CREATE DATABASE fresh OWNER {OWNER}")
    monkeypatch.setenv("HTDESK_PASSWORD", "saffron-beacon-27")
    code = main(["init", "--server", f"postgresql://{OWNER}@/fresh?host={cluster.folder}", "--service-name",
                 "Fresh Health Trainers", "--service-code", "FRESH", "--admin", "boss"])
    assert code == 0, capsys.readouterr().err
    with _connect(cluster, "boss", "saffron-beacon-27", dbname="fresh") as conn:
        assert conn.execute("SELECT current_user, pg_has_role('fresh_admin', 'MEMBER')").fetchone() == ("fresh.boss", True)
    capsys.readouterr()
    code = main(["check", "--db", f"postgresql:///fresh?host={cluster.folder}", "--user", "boss"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("ok   server:") == 7, out


def test_an_older_server_database_is_secured_by_htdesk_secure_as_the_owner(cluster, monkeypatch, capsys):
    """A database set up before per-person logins (no roles, no policies): `htdesk secure`, run by an
    administrator connected as the IT team's owner login, secures it; the administrator's login gets the
    typed password, the others sign in once given a one-time password."""
    from desktop.cli import main
    cluster.admin(f"CREATE DATABASE older OWNER {OWNER}")
    owner_url = f"postgresql://{OWNER}@/older?host={cluster.folder}"
    person_url = f"postgresql:///older?host={cluster.folder}"
    store = CaseStore.create_new(owner_url, service_name="Older Health Trainers", service_code="OLDER",
                                 admin_username="boss", admin_password=PW)       # set up as before: no logins
    store.sign_in("boss", PW)
    store.service.add_staff("Tina", "TRAINER", username="tina", password=PASSWORDS["tina"])
    store.close()
    with pytest.raises(AuthenticationError):
        security.open_as_person(CaseStore, person_url, "boss", PW)

    monkeypatch.setenv("HTDESK_PASSWORD", PASSWORDS["tina"])       # not an administrator: refused, nothing made
    assert main(["secure", "--db", owner_url, "--user", "tina"]) == 3
    assert "administrator" in capsys.readouterr().err
    monkeypatch.setenv("HTDESK_PASSWORD", PW)
    assert main(["secure", "--db", owner_url, "--user", "boss"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "No server password yet for: tina" in out and "boss's login has the password you typed" in out

    boss = security.open_as_person(CaseStore, person_url, "boss", PW)
    with pytest.raises(AuthenticationError, match="server refused"):
        security.open_as_person(CaseStore, person_url, "tina", PASSWORDS["tina"])
    one_time = boss.admin.reset_password("tina")
    events = boss.admin.audit_events("database")
    assert any("server secured" in (e["detail"] or "") and "tina" in e["detail"] for e in events), events
    boss.close()
    tina = security.open_as_person(CaseStore, person_url, "tina", one_time)
    assert tina.must_change_password
    tina.admin.set_password("tina", "indigo-compass-64")
    tina.close()
    security.open_as_person(CaseStore, person_url, "tina", "indigo-compass-64").close()

    # Connected as a person's login (no CREATEROLE, not the owner): refused, saying whose job it is.
    assert main(["secure", "--db", person_url, "--user", "boss"]) == 2
    assert "owner login" in capsys.readouterr().err
    assert main(["check", "--db", person_url, "--user", "boss"]) == 0
    assert capsys.readouterr().out.count("ok   server:") == 7


def test_a_login_keeps_to_its_own_drafts_and_may_not_change_settings_or_meta(cluster, service):
    import psycopg
    store = security.open_as_person(CaseStore, service["url"].replace(f"{OWNER}@", ""), "champ1",
                                    PASSWORDS["champ1"])
    store.drafts.save("client:new", {"first_name": "Half typed"})       # through the store, as the app keeps it
    store.close()
    with _connect(cluster, "tina") as conn:
        assert conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0          # champ1's draft: not hers
        assert conn.execute("DELETE FROM drafts").rowcount == 0
        for statement in ("UPDATE settings SET value = '1'", "INSERT INTO meta VALUES ('demo', '1')",
                          "INSERT INTO drafts VALUES ('champ1', 'client:x', '{}', 'now')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with _connect(cluster, "champ1") as conn:
        assert conn.execute("SELECT field_values FROM drafts").fetchone()[0].count("Half typed") == 1


def test_check_says_when_the_server_does_not_slow_wrong_passwords(cluster, service):
    store = CaseStore.open(service["url"])
    store.sign_in("admin", PW)
    try:
        result = {r.name: r for r in security.server_checks(store)}["server: wrong passwords"]
        assert result.ok and "50 ms (auth_delay)" in result.detail
        cluster.admin("ALTER SYSTEM SET auth_delay.milliseconds = 0")
        cluster.admin("SELECT pg_reload_conf()")
        import time
        time.sleep(0.5)                           # the reload reaches new connections' backends
        store.close()
        store = CaseStore.open(service["url"])
        store.sign_in("admin", PW)
        result = {r.name: r for r in security.server_checks(store)}["server: wrong passwords"]
        assert not result.ok and "auth_delay.milliseconds = 1000" in result.detail and "credcheck" in result.detail
    finally:
        cluster.admin("ALTER SYSTEM SET auth_delay.milliseconds = 50")
        cluster.admin("SELECT pg_reload_conf()")
        store.close()


def test_a_new_pc_joins_a_secured_server_from_the_first_run_window(cluster, service, qtbot, tmp_path, monkeypatch):
    """The first-run window's "Use my service's server instead…" with an address naming no user: the
    sign-in window connects as the person's own login, and the address is saved only once they are in."""
    import argparse

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWizard

    from db.public import saved_server
    from desktop import app as app_module
    from desktop.first_run import FirstRunWizard
    from desktop.signin import SignInDialog
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HTDESK_DB", raising=False)
    address = f"postgresql:///{DB}?host={cluster.folder}"

    def wizard_exec(self):
        qtbot.addWidget(self)
        self.show()
        qtbot.mouseClick(self.to_server, Qt.LeftButton)
        self.server_address.setText(address.replace(":///", "://:secret@/"))      # a password: refused
        qtbot.mouseClick(self.button(QWizard.FinishButton), Qt.LeftButton)
        assert self.currentPage() is self.server_page and "password" in \
            self.server_page.fields.fields["server"].error.text()
        self.server_address.setText(address)
        qtbot.mouseClick(self.button(QWizard.FinishButton), Qt.LeftButton)          # "Connect"
        assert saved_server() is None                     # nothing kept before someone has signed in
        return self.result()

    typed: list = []

    def sign_in_exec(self):
        qtbot.addWidget(self)
        self.show()
        for username, password in typed:
            self.username.setText(username)
            self.password.setText(password)
            qtbot.mouseClick(self.sign_in_button, Qt.LeftButton)
            if self.result() == SignInDialog.Accepted:
                break
            assert "Wrong username or password" in self.message.text()
        else:
            self.reject()
        return self.result()

    monkeypatch.setattr(FirstRunWizard, "exec", wizard_exec)
    monkeypatch.setattr(SignInDialog, "exec", sign_in_exec)
    args = argparse.Namespace(db=None, user=None)
    typed[:] = [("tina", "not-her-password-3")]                # then Cancel: the PC is left as it was
    assert app_module.start(args) is None and saved_server() is None
    typed[:] = [("tina", "not-her-password-3"), ("tina", PASSWORDS["tina"])]
    store, info = app_module.start(args)
    try:
        assert store.actor.username == "tina" and info.database == address
        assert store.db.conn.execute("SELECT current_user").fetchone()[0] == "gates.tina"
        assert saved_server() == address
    finally:
        store.close()


def test_htdesk_connect_to_a_secured_server_saves_the_address_and_with_user_signs_in_first(cluster, service,
                                                                                        tmp_path, monkeypatch, capsys):
    from db.public import saved_server
    from desktop.cli import main
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "pc"))
    address = f"postgresql:///{DB}?host={cluster.folder}"
    monkeypatch.setenv("HTDESK_PASSWORD", "not-her-password-3")
    assert main(["connect", address, "--user", "tina"]) == 3 and saved_server() is None     # wrong: nothing saved
    assert "server refused" in capsys.readouterr().err
    monkeypatch.setenv("HTDESK_PASSWORD", PASSWORDS["tina"])
    assert main(["connect", address, "--user", "tina"]) == 0 and saved_server() == address
    assert "tina signed in as their own server login" in capsys.readouterr().out
    assert main(["connect", "--forget"]) == 0 and saved_server() is None
    assert main(["connect", address]) == 0 and saved_server() == address                   # its form only
    assert "only the address's form was checked" in capsys.readouterr().out
    assert main(["connect", address.replace(":///", "://:pw@/")]) == 2 and saved_server() == address


@pytest.mark.parametrize("password", [
    "plain-ascii-words-42",
    "pässwörd-ünïcode-42",                           # composed letters
    "pa\u0308sswo\u0308rd-decomposed-42",           # the same, decomposed: NFKC composes them
    "ｆｕｌｌ－ｗｉｄｔｈ-42",                       # full-width forms: NFKC maps them to ASCII
    "non\u00a0breaking\u2003spaces-42",            # non-ASCII spaces become spaces
    "soft\u00adhyphen\u200bzero-width-42",          # "commonly mapped to nothing": removed
    "bell\u0007and-ü-42",                            # a control character: prohibited, used as typed
    "\u05e9\u05dc\u05d5\u05dd-mixed-42",            # right-to-left then left-to-right: used as typed
    "\u05e9\u05dc\u05d5\u05dd",                     # right-to-left only: prepared
])
def test_the_verifier_the_app_sends_is_the_one_the_servers_own_client_library_signs_in_with(cluster, password):
    """The app makes the SCRAM verifier itself (the password never reaches the server); libpq prepares the
    typed password with SASLprep (src/common/saslprep.c) before proving it: both must agree for any text."""
    import hashlib

    import psycopg
    login = "verifier_" + hashlib.sha1(password.encode()).hexdigest()[:10]
    cluster.admin(f"CREATE ROLE {login} LOGIN PASSWORD '{security.scram_verifier(password)}'")
    with psycopg.connect(host=str(cluster.folder), dbname="postgres", user=login, password=password) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == login


def test_a_coordinators_login_counts_the_dashboard_without_reading_the_audits_contents(cluster, service):
    """The role table shows the audit to managers and administrators only; a coordinator's count of the
    reach figures learns what changed since the last count through htdesk_audit_dates (ids, what each
    event is about, the earliest date it names), which gives what the file's own reading gives."""
    import re

    import psycopg
    owner = CaseStore.open(service["url"])
    owner.sign_in("admin", PW)
    if owner.db.conn.execute("SELECT COUNT(*) FROM accounts WHERE username = 'cora'").fetchone()[0] == 0:
        owner.service.add_staff("Cora", "COORD", username="cora", password="amber-signal-63")
    owner.close()
    with _connect(cluster, "cora", "amber-signal-63") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT before, after FROM audit")
        seen = conn.execute("SELECT * FROM htdesk_audit_dates(0, ARRAY['view', 'login'])").fetchall()
    with _connect(cluster, "tina") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM htdesk_audit_dates(0, ARRAY['view'])")
    with psycopg.connect(host=str(cluster.folder), dbname=DB, user=OWNER) as conn:
        raw = conn.execute("SELECT id, entity, entity_id, client_id, before, after FROM audit "
                           "WHERE action NOT IN ('view', 'login') ORDER BY id").fetchall()
    dates = [min(re.findall(r'"(\d{4}-\d{2}-\d{2})', f"{b or ''} {a or ''}"), default=None) for *_, b, a in raw]
    assert seen == [(*r[:4], d) for r, d in zip(raw, dates)] and any(dates)

    cora = security.open_as_person(CaseStore, service["url"].replace(f"{OWNER}@", ""), "cora", "amber-signal-63")
    try:
        cora.reference.deprivation_for = lambda postcode: {}
        first = cora.reach.dashboard("2026-27-Q3")             # counted, and kept
        client_id = cora.clients.add({"first_name": "Counted", "last_name": "Later", "date_of_birth": "1975-05-05",
                                      "gender": "1", "ethnicity": "A"}, today=TODAY).ids[0]
        cora.referrals.add(client_id, {"received_date": "2026-10-20", "source": "SELF"}, today=TODAY)
        cora.reach._counted.clear()                            # a new opening: the kept quarters and what changed
        again = cora.reach.dashboard("2026-27-Q3")
        fresh = cora.reach.dashboard("2026-27-Q2")             # (a quarter before the change: kept as it was)
        assert [q.figures for q in again.quarters][:-1] == [q.figures for q in first.quarters][:-1]
        assert again.quarters[-1].figures != first.quarters[-1].figures      # the new referral's quarter recounted
        assert [q.figures for q in fresh.quarters][-1] == [q.figures for q in first.quarters][-2]
    finally:
        cora.close()


def test_another_person_at_the_lock_screen_of_a_secured_server_works_through_their_own_login(cluster, service,
                                                                                            qtbot):
    """Switch user on a secured server: the newcomer's window is on a store connected as their own server
    login (so the server applies their role and row-level security), and the first person's connection
    is closed with their window."""
    from PySide6.QtCore import Qt

    from desktop.main_window import MainWindow, SessionInfo
    address = f"postgresql:///{DB}?host={cluster.folder}"
    tina = security.open_as_person(CaseStore, address, "tina", PASSWORDS["tina"])
    w = MainWindow(tina, SessionInfo("Test Health Trainers", False, address))
    w.show()
    qtbot.waitUntil(lambda: w.clients.results.rowCount() >= 2)
    w.session.switch_user()
    screen = w.session.lock_screen
    screen.username.setText("champ1")
    screen.password.setText("not-her-password-5")
    qtbot.mouseClick(screen.unlock_button, Qt.LeftButton)
    assert w.session.locked and "Wrong username or password" in screen.message.text()
    screen.password.setText(PASSWORDS["champ1"])
    qtbot.mouseClick(screen.unlock_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.session.replacement is not None)
    new = w.session.replacement
    try:
        assert new.store is not tina and new.store.actor.username == "champ1" and tina.db.conn.closed
        assert new.store.db.conn.execute("SELECT current_user").fetchone()[0] == "gates.champ1"
        assert [c.id for c in new.store.clients.search("test")] == [service["clients"]["champ1"]]
    finally:
        new.confirm_unsaved = False
        new.close()
        new.store.close()
