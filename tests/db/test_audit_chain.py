"""The audit trail (issue 14): reads of a person's data audited once per opening, a hash chain that
`check` verifies naming the first broken row, and no change through the store."""
from datetime import date

import pytest

from db import api
from db.errors import StoreFault
from db.store import CaseStore
from rawdb import raw_connect
from db import driver

PW = "amber-kettle-42"
TODAY = date(2026, 11, 1)
CLIENT = {"first_name": "Zoë", "last_name": "Okafor", "date_of_birth": "02/02/1980", "gender": "2",
          "ethnicity": "A", "nhs_number": "943 476 5919"}


def _client(store):
    store.sign_in("coord", PW)
    client_id = store.clients.add(CLIENT, today=TODAY).ids[0]
    referral_id = store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "SELF",
                                                  "reasons": ["DIET"]}, today=TODAY).ids[0]
    return client_id, referral_id


def _views(path, username=None):
    sql = "SELECT username, client_id, detail FROM audit WHERE action = 'view' AND client_id IS NOT NULL"
    rows = raw_connect(path).execute(sql + " ORDER BY id").fetchall()
    return [r for r in rows if username is None or r[0] == username]


def test_every_read_of_a_persons_data_is_audited_once_per_opening(case_store):
    client_id, referral_id = _client(case_store)
    case_store.sign_in("trainer", PW)
    # A read of the person's data that is not the record (the command line, the waiting list) is audited.
    case_store.assessments.series(client_id, "BODY")
    assert _views(case_store.path, "trainer") == [("trainer", client_id, "assessment results")]
    # The same person's data read again while it stays open (tabs, charts, refreshes): no more rows.
    for read in (lambda: case_store.clients.get(client_id), lambda: case_store.plans.current(client_id),
                 lambda: case_store.referrals.get(referral_id), lambda: case_store.assessments.outcome_pairs(referral_id),
                 lambda: case_store.documents.for_client(client_id),
                 lambda: case_store.clients.record(client_id, opening=False)):
        read()
    assert len(_views(case_store.path, "trainer")) == 1
    # Opening the record is always a new opening.
    case_store.clients.record(client_id)
    case_store.clients.record(client_id)
    assert [d for _, _, d in _views(case_store.path, "trainer")] == ["assessment results", "client record opened",
                                                                       "client record opened"]
    # Another account's first read is its own opening.
    case_store.sign_in("manager", PW)
    case_store.referrals.get(referral_id)
    assert _views(case_store.path, "manager") == [("manager", client_id, "referral")]


def test_each_audited_read_alone_adds_its_row(case_store):
    client_id, referral_id = _client(case_store)
    reads = {"client details": lambda s: s.clients.get(client_id),
             "assessment results": lambda s: s.assessments.series(client_id, "BODY"),
             "personal health plan": lambda s: s.plans.current(client_id),
             "referral": lambda s: s.referrals.get(referral_id),
             "outcomes": lambda s: s.assessments.outcome_pairs(referral_id),
             "documents kept": lambda s: s.documents.for_client(client_id)}
    for what, read in reads.items():
        store = CaseStore.open(case_store.path)      # a new run of the program: a new opening
        store.sign_in("trainer", PW)
        read(store)
        store.close()
        assert _views(case_store.path, "trainer")[-1] == ("trainer", client_id, what)
    assert len(_views(case_store.path, "trainer")) == len(reads)


def test_a_read_after_the_window_is_a_new_opening(case_store, monkeypatch):
    client_id, _ = _client(case_store)
    case_store.sign_in("trainer", PW)
    case_store.clients.get(client_id)
    monkeypatch.setattr(api, "VIEW_WINDOW", -1)
    case_store.clients.get(client_id)
    assert len(_views(case_store.path, "trainer")) == 2


def test_check_verifies_the_chain_and_names_the_first_changed_row(case_store):
    client_id, _ = _client(case_store)
    case_store.sign_in("admin", PW)
    case_store.clients.record(client_id)
    results = {r.name: r for r in case_store.admin.check()}
    assert results["audit chain"].ok, results["audit chain"].detail
    raw = raw_connect(case_store.path)
    target = raw.execute("SELECT id FROM audit WHERE action = 'create' AND entity = 'client'").fetchone()[0]
    raw.execute("DROP TRIGGER audit_only_redaction")          # what someone with the file could do
    raw.execute("UPDATE audit SET username = 'nobody' WHERE id = ?", (target,))
    raw.commit()
    result = {r.name: r for r in case_store.admin.check()}["audit chain"]
    assert not result.ok
    assert f"audit row {target} " in result.detail
    # A changed payload (a name written over) is named too, by its own fingerprint.
    raw.execute("UPDATE audit SET username = 'coord' WHERE id = ?", (target,))
    raw.execute("UPDATE audit SET after = replace(after, 'Okafor', 'Smith') WHERE id = ?", (target,))
    raw.commit()
    result = {r.name: r for r in case_store.admin.check()}["audit chain"]
    assert f"audit row {target} " in result.detail and "content" in result.detail


def test_a_deleted_row_is_named_by_the_row_after_it(case_store):
    _client(case_store)
    raw = raw_connect(case_store.path)
    ids = [r[0] for r in raw.execute("SELECT id FROM audit ORDER BY id")]
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE id = ?", (ids[2],))
    raw.commit()
    case_store.sign_in("admin", PW)
    result = {r.name: r for r in case_store.admin.check()}["audit chain"]
    assert not result.ok and f"audit row {ids[3]} " in result.detail


def test_the_audit_cannot_be_changed_through_the_store(case_store):
    _client(case_store)
    case_store.sign_in("trainer", PW)
    for sql in ("DELETE FROM audit WHERE username = 'trainer'", "UPDATE audit SET detail = 'x'",
                "UPDATE audit SET username = 'someone'"):
        with pytest.raises(driver.DatabaseError, match="audit trail cannot be changed"):
            case_store.db.conn.execute(sql)
    case_store.db.conn.rollback()
    assert all(r.ok for r in (lambda s: (s.sign_in("admin", PW), s.admin.check())[1])(case_store))


def test_the_chain_survives_migration_of_a_saved_database(tmp_path):
    import shutil
    from pathlib import Path
    db_file = tmp_path / "old.sqlite3"
    shutil.copy(Path(__file__).parent.parent / "fixtures" / "schema_head_0006_0007_0008.sqlite3", db_file)
    before = raw_connect(db_file).execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    store = CaseStore.open(db_file)
    store.act_as_system()
    result = {r.name: r for r in store.admin.check()}["audit chain"]
    assert result.ok and f"{before} audit rows" in result.detail
    store.close()


def test_an_event_written_into_an_older_schema_is_chained_when_it_is_migrated(tmp_path):
    """A restore writes its audit row into the restored backup before migrating it (db/maintenance.py)."""
    import shutil
    from pathlib import Path
    from sqlite_utils import Database
    from db import audit
    from db.records import Actor
    db_file = tmp_path / "old.sqlite3"
    shutil.copy(Path(__file__).parent.parent / "fixtures" / "schema_head_0006_0007_0008.sqlite3", db_file)
    raw = raw_connect(db_file)
    audit.record(Database(raw), Actor("admin", frozenset({"ADMIN"})), "restore", "database", None, detail="restored")
    raw.commit()
    raw.close()
    store = CaseStore.open(db_file)
    store.act_as_system()
    assert {r.name: r for r in store.admin.check()}["audit chain"].ok
    last = raw_connect(db_file).execute("SELECT action, username, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert last[:2] == ("restore", "admin") and len(last[2]) == 64
    store.close()
