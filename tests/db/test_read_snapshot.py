"""Several writers (issue 18): every declared read sees one moment of the data, however many PCs
commit between its queries; a read never writes unseen; and the import takes its new rows' ids from
the database, not from the old maximum. Runs on a file and, in the PostgreSQL round, on a server."""
from datetime import date

import pytest

from db import connection, engine
from db import plans as plans_module
from db.api import Part, read
from db.errors import StoreFault
from db.parts import clients as clients_part
from db.store import CaseStore
from db.transfer import importer
from rawdb import raw_connect
from test_import import BASE, TODAY, book, reasons, run, store  # noqa: F401  (store is a fixture)

PASSWORD = "amber-kettle-42"
PERSON = {"first_name": "Ada", "last_name": "Moment", "date_of_birth": "12/03/1980", "gender": "2", "ethnicity": "A"}


def _other_pc(case_store) -> CaseStore:
    """A second store on the same database, as another PC would open it."""
    other = CaseStore.open(case_store.path)
    other.sign_in("coord", PASSWORD)
    return other


def test_a_record_opened_while_another_pc_commits_between_its_queries_shows_one_moment(case_store, monkeypatch):
    case_store.sign_in("coord", PASSWORD)
    client_id = case_store.clients.add(PERSON, today=TODAY).ids[0]
    referral_id = case_store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "GP"},
                                           today=TODAY).ids[0]
    other = _other_pc(case_store)
    trainer = case_store.staff_ids["trainer"]
    real_get = clients_part.clients.get
    committed = []

    def client_then_another_pc_saves(db, cid):
        row = real_get(db, cid)
        if not committed:
            committed.append(True)
            # Between the record's first query and the rest, another PC records an attended session (the
            # referral becomes active) and changes the person's name: committed before the record reads on.
            other.diary.add(referral_id, {"session_date": "2026-10-05", "start_time": "10:00", "mode": "F2F",
                                          "attendance": "5", "staff_id": trainer}, today=TODAY)
            other.clients.update(cid, {"last_name": "Later"}, expected_version=row.row_version)
        return row

    monkeypatch.setattr(clients_part.clients, "get", client_then_another_pc_saves)
    record = case_store.clients.record(client_id)
    monkeypatch.undo()
    assert committed
    # The moment the record began, in every part of it: the old name, the referral still new, no session.
    assert record.client.last_name == "Moment"
    assert [r.status for r in record.referrals] == ["NEW"]
    assert record.sessions == ()
    assert [e for e in record.timeline if e.kind == "session"] == []
    # The next opening sees the other PC's work, all of it together.
    again = case_store.clients.record(client_id)
    assert len(again.sessions) == 1 and again.referrals[0].status == "ACTIVE"
    assert again.client.last_name == "Later"
    assert [e.kind for e in again.timeline].count("session") == 1
    other.close()


def test_a_plan_and_its_goals_are_read_at_one_moment_while_another_pc_adds_a_goal(case_store, monkeypatch):
    """The current plan is two reads (which plans the person has, then each plan with its goals): a goal
    another PC adds between them is not half shown."""
    case_store.sign_in("coord", PASSWORD)
    client_id = case_store.clients.add(PERSON, today=TODAY).ids[0]
    referral_id = case_store.referrals.add(client_id, {"received_date": "2026-06-01", "source": "GP"},
                                           today=TODAY).ids[0]
    case_store.plans.add(referral_id, {"agreed_date": "2026-06-10", "what_matters": "A warm flat"},
                         goals=[{"area": "MONEY", "goal_text": "Gas debt onto a payment plan"}], today=TODAY)
    plan_id = case_store.plans.current(client_id).id
    other = _other_pc(case_store)
    real_get_plan = plans_module.get_plan
    added = []

    def another_pc_adds_a_goal_first(db, pid):
        if not added:
            added.append(pid)
            other.plans.add_goal(pid, {"area": "SOCIAL", "goal_text": "Tuesday lunch club"}, today=TODAY)
        return real_get_plan(db, pid)

    monkeypatch.setattr(plans_module, "get_plan", another_pc_adds_a_goal_first)
    plan = case_store.plans.current(client_id)
    monkeypatch.undo()
    assert added == [plan_id]
    assert [g.goal_text for g in plan.goals] == ["Gas debt onto a payment plan"]
    assert [g.goal_text for g in case_store.plans.current(client_id).goals] == [
        "Gas debt onto a payment plan", "Tuesday lunch club"]
    other.close()


class _Probe(Part):
    @read("signed_in")
    def sneaky(self):
        """A read that writes: a program fault, refused rather than rolled back unseen."""
        with connection.transaction(self.db):
            self.db.conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'written by a read')")
        return "kept"

    @read("signed_in", snapshot=False)
    def keeping(self):
        with connection.transaction(self.db):
            self.db.conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'kept by a read')")
        return "kept"

    @read("signed_in")
    def inside(self):
        return self.db.conn.in_transaction


def test_every_declared_read_runs_in_a_snapshot_and_a_write_inside_one_is_refused(case_store):
    probe = _Probe(case_store)
    assert probe.inside() is True
    assert case_store.db.conn.in_transaction is False          # and ends with the read
    with pytest.raises(StoreFault, match="read tried to write"):
        probe.sneaky()
    assert case_store.db.conn.in_transaction is False
    look = raw_connect(case_store)
    assert look.execute("SELECT COUNT(*) FROM meta WHERE key = 'probe'").fetchone()[0] == 0
    assert probe.keeping() == "kept"                          # a read declared snapshot=False keeps its write
    assert look.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()[0] == "kept by a read"
    # Inside a write, a read joins the write's transaction (it sees what the write has done so far).
    with connection.transaction(case_store.db):
        case_store.db.conn.execute("UPDATE meta SET value = 'changed' WHERE key = 'probe'")
        assert probe.inside() is True
        assert case_store.db.conn.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()[0] == "changed"


def test_the_import_takes_its_ids_from_the_server_while_another_connection_inserts(store, tmp_path, monkeypatch):
    if not engine.is_postgres(store.db):
        pytest.skip("on a file the import holds the only write lock (BEGIN IMMEDIATE): nobody inserts meanwhile")
    other = raw_connect(store)
    service_id = other.execute("SELECT id FROM services ORDER BY id LIMIT 1").fetchone()[0]
    before = other.execute("SELECT COALESCE(MAX(id), 0) FROM clients").fetchone()[0]
    real = importer.Importer._insert_many
    inserted = []

    def insert_many(self, table, columns, count, rows, want_ids=True):
        if table != "clients" or inserted:
            return real(self, table, columns, count, rows, want_ids)

        def rows_with_another_writer():
            for n, row in enumerate(rows):
                yield row
                if n == 0:
                    # Another program's row, committed while the import's rows are being written.
                    other.execute("INSERT INTO clients (service_id, client_ref, first_name, last_name, date_of_birth, "
                                  "gender, ethnicity) VALUES (?, 'EXT-000001', 'Outside', 'Writer', '1970-01-01', "
                                  "'1', 'A')", (service_id,))
                    inserted.append(True)
        return real(self, table, columns, count, rows_with_another_writer(), want_ids)

    monkeypatch.setattr(importer.Importer, "_insert_many", insert_many)
    report = run(store, book(tmp_path / "in.xlsx"))
    assert inserted and reasons(report) == []
    pairs = dict(other.execute("SELECT r.referral_ref, c.client_ref FROM referrals r JOIN clients c "
                               "ON c.id = r.client_id").fetchall())
    expected = {r["referral_ref"]: r["client_ref"] for r in BASE["Referrals"]}
    assert pairs == expected
    names = dict(other.execute("SELECT client_ref, first_name FROM clients").fetchall())
    assert names["EXT-000001"] == "Outside"
    assert {names[r] for r in ("HT-000101", "HT-000102", "HT-000103")} == {"Siobhán", "Zoë 😀", "Mícheál"}
    ext_id = other.execute("SELECT id FROM clients WHERE client_ref = 'EXT-000001'").fetchone()[0]
    assert other.execute("SELECT COUNT(*) FROM referrals WHERE client_id = ?", (ext_id,)).fetchone()[0] == 0
    # The other program's row landed among the ids past the old maximum: counting those as the import's
    # (the old way) would have found four rows for three.
    assert ext_id > before
    assert other.execute("SELECT COUNT(*) FROM clients WHERE id > ?", (before,)).fetchone()[0] == 4


def test_a_demo_takes_new_records_after_its_own(tmp_path):
    """The demo gives some rows their ids itself; on a server each table's identity must go on from there,
    or the first plan saved after the demo collides with one of its plans."""
    CaseStore.create_demo(tmp_path / "demo.sqlite3", clients=12, seed=5, today=TODAY)
    store = CaseStore.open(tmp_path / "demo.sqlite3")
    store.sign_in("coordinator", "demo")
    highest = store.db.conn.execute("SELECT MAX(id) FROM plans").fetchone()[0]
    assert highest
    client_id = store.clients.add(PERSON, today=TODAY).ids[0]
    referral_id = store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "GP"}, today=TODAY).ids[0]
    store.plans.add(referral_id, {"agreed_date": "2026-10-05", "what_matters": "Sleep"},
                    goals=[{"area": "SLEEP", "goal_text": "Lights out by eleven"}], today=TODAY)
    plan = store.plans.current(client_id)
    assert plan.id > highest and [g.goal_text for g in plan.goals] == ["Lights out by eleven"]
    store.close()


def test_a_write_on_the_worker_waits_for_a_screens_snapshot_and_a_screens_read_never_waits_for_a_write(case_store):
    """The window reads on the GUI thread while the worker writes, through one connection: a write never
    begins inside another thread's read snapshot (it was refused, or would have been rolled back with it),
    and a read never stalls the screen behind the worker's transaction."""
    import threading
    from db import connection
    errors, done = [], threading.Event()

    def write():
        try:
            case_store.clients.add(PERSON, today=TODAY)
        except Exception as exc:       # noqa: BLE001 - the test reports it
            errors.append(exc)
        done.set()
    with connection.snapshot(case_store.db, reading=True):          # a screen's read, on this thread
        worker = threading.Thread(target=write)
        worker.start()
        assert not done.wait(0.3)                                     # the write waits for the snapshot
    worker.join(10)
    assert done.is_set() and errors == []
    assert case_store.clients.search(PERSON["last_name"])

    holding, release = threading.Event(), threading.Event()

    def long_write():
        with connection.transaction(case_store.db):
            holding.set()
            release.wait(10)
    worker = threading.Thread(target=long_write)
    worker.start()
    assert holding.wait(5)
    try:
        assert case_store.clients.search(PERSON["last_name"])       # at once, on the side connection
    finally:
        release.set()
        worker.join(10)


def _reads_beside_rolled_back_writes(store, write, read, times: int) -> list:
    """read() `times` times on this thread while a worker thread keeps doing write() inside a transaction of
    the same store and rolling it back; the errors either thread met."""
    import threading
    errors, stop = [], threading.Event()

    class Undo(Exception):
        pass

    def worker():
        while not stop.is_set():
            try:
                with connection.transaction(store.db):
                    write()
                    raise Undo()
            except Undo:
                pass
            except Exception as exc:       # noqa: BLE001 - the test reports it
                errors.append(("worker", repr(exc)))
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        for _ in range(times):
            try:
                read()
            except Exception as exc:       # noqa: BLE001 - the test reports it
                errors.append(("reader", repr(exc)))
    finally:
        stop.set()
        thread.join(10)
    return errors


def test_a_screens_reads_while_the_worker_writes_and_rolls_back_leave_nothing_of_the_rolled_back_writes(case_store):
    """A screen's reads (declared @read, on the GUI thread) while the worker is inside transactions of the
    same store that it rolls back: the reads take their snapshot on a second connection, of what is
    committed. Sharing the worker's transaction, the statements of the two threads interleaved: a read's
    savepoint took in the worker's writes, so rolled-back clients stayed (and 'no such savepoint' errors)."""
    from db import clients as clients_module
    seen_uncommitted = []
    service_id = case_store.service.get().id

    def write():
        clean = clients_module.validate({**PERSON, "last_name": "Rolledback"}, TODAY)
        clients_module.insert(case_store.db, service_id, clean, {}, "coord")
        list(case_store.db.query("SELECT id FROM clients"))

    def read():
        if case_store.clients.search("Rolledback"):
            seen_uncommitted.append(1)
    errors = _reads_beside_rolled_back_writes(case_store, write, read, 600)
    assert errors == [] and seen_uncommitted == []
    assert case_store.clients.search("Rolledback") == []
    other = _other_pc(case_store)
    try:
        assert other.clients.search("Rolledback") == []
    finally:
        other.close()


def test_a_query_from_another_thread_outside_any_snapshot_never_takes_in_the_workers_rolled_back_writes(case_store):
    """A read that is not a declared one (a rule's look-up before a write's transaction, a job's reading) on
    one thread while another is inside a transaction of the same connection: the query is a plain SELECT.
    sqlite-utils 4 wrapped each query in SAVEPOINT ... RELEASE, which interleaved with the other thread's
    transaction: 'no such savepoint' errors (a save lost) and rolled-back writes that stayed committed."""
    if engine.is_postgres(case_store.db):
        pytest.skip("SQLite's savepoints (the server's adapter never wrapped a query in one)")
    case_store.db.conn.execute("CREATE TABLE scratch (n INTEGER)")

    def write():
        case_store.db.conn.execute("INSERT INTO scratch VALUES (1)")
        list(case_store.db.query("SELECT n FROM scratch"))
        case_store.db.conn.execute("INSERT INTO scratch VALUES (2)")
    errors = _reads_beside_rolled_back_writes(case_store, write,
                                              lambda: list(case_store.db.query("SELECT COUNT(*) FROM scratch")), 1500)
    assert errors == []
    assert case_store.db.conn.execute("SELECT COUNT(*) FROM scratch").fetchone()[0] == 0
