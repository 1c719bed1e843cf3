"""People's rights (issue 14) through the store: the subject access bundle's contents, erasure's
effect on past returns (figures unchanged), the retention list, and who may do each."""
import io
from db.connection import copy_database
import zipfile
from datetime import date

import openpyxl
import pytest
from pypdf import PdfReader

from db.errors import PermissionDenied, ValidationError
from db.store import CaseStore
from reports.printing import print_plan
from reports.sar import write_bundle
from returns_scenario import ADMIN, ADMIN_PASSWORD, TODAY, TRAINER, TRAINER_PASSWORD, Scenario, stub_deprivation
from rawdb import raw_connect
import rawdb

QUARTERS = ("2026-27-Q1", "2026-27-Q2", "2026-27-Q3")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rights")
    s = Scenario(folder / "service.sqlite3")
    store = s.store
    service = store.service.get()
    store.service.update({"phone": "0191 000 0000", "address": "1 High Street, Gateshead"},
                         expected_version=service.row_version)
    # A start whose age band a year-only date of birth would change: 24 on 15 Aug 2026, 25 from 1 July.
    edge = s.client("Pat", "Edgeworth", "2001-09-10", "1", "A", "NE1 1AA", nhs="4010232137")
    s.edge_referral = s.referral(edge, "2026-07-10", "SELF")
    s.session(s.edge_referral, "2026-08-15", "5", "F2F")
    s.edge = edge
    s.store.close()
    return folder / "service.sqlite3", s


@pytest.fixture
def scenario(built, tmp_path):
    path, s = built
    copy = tmp_path / "service.sqlite3"
    copy_database(path, copy)
    store = CaseStore.open(copy)
    store.sign_in(ADMIN, ADMIN_PASSWORD)
    stub_deprivation(store)
    yield store, s
    store.close()


def _figures(store):
    return {q: sorted((f.measure, f.breakdown, f.value, f.numerator, f.denominator)
                      for f in store.returns.figures(q).figures) for q in QUARTERS}


def test_erasure_anonymises_in_place_and_past_returns_keep_their_figures(scenario, tmp_path):
    store, s = scenario
    c1, c2, _, c4, _ = s.clients
    print_plan(store, c2, tmp_path / "plan.pdf", today=TODAY)
    before = _figures(store)
    for client_id in (c1, c2, c4, s.edge):
        store.privacy.erase(client_id, "Erasure requested by the person in writing")
    assert _figures(store) == before

    raw = raw_connect(store.path)
    for client_id in (c1, c2, c4, s.edge):
        row = raw.execute("SELECT first_name, last_name, nhs_number, date_of_birth, postcode, anonymised_at "
                          "FROM clients WHERE id = ?", (client_id,)).fetchone()
        assert row[:3] == ("Erased", "Person", None) and row[3].endswith("-07-01") and row[4] is None and row[5]
    assert raw.execute("SELECT date_of_birth FROM clients WHERE id = ?", (s.edge,)).fetchone()[0] == "2001-07-01"
    assert raw.execute("SELECT COUNT(*) FROM clients WHERE anonymised_at IS NOT NULL AND archived_at IS NOT NULL"
                       ).fetchone()[0] == 4                  # hidden from lists, still in every figure
    # Nothing of their names is left anywhere in the database: records, search index, audit.
    dump = rawdb.dump(raw)
    for name in ("Siobhán", "O''Neill", "Nguyễn", "Văn", "Okafor", "Edgeworth", "Five a day", "9434765919"):
        assert name not in dump, name
    assert store.clients.search("Edgeworth") == []
    # Nor in the file's bytes once the write-ahead log is checkpointed (freed space is zeroed).
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = store.path.read_bytes()
    for name in ("Edgeworth", "O'Neill", "Okafor", "Five a day"):
        assert name.encode() not in data, name
    assert raw.execute("SELECT COUNT(*) FROM documents WHERE client_id = ?", (c2,)).fetchone()[0] == 0
    # Audited with the reason; the audit chain still verifies.
    erased = raw.execute("SELECT username, detail FROM audit WHERE action = 'erase' ORDER BY id").fetchall()
    assert len(erased) == 4 and all(u == ADMIN and "Erasure requested by the person" in d for u, d in erased)
    checks = {r.name: r for r in store.admin.check()}
    assert all(r.ok for r in checks.values()), [r for r in checks.values() if not r.ok]
    # Never changed again, by anyone (the boss is a manager too).
    with pytest.raises(PermissionDenied, match="erased on request"):
        store.clients.update(c1, {"first_name": "Siobhán"}, expected_version=store.clients.get(c1).row_version)
    with pytest.raises(PermissionDenied, match="erased on request"):
        store.clients.archive(c1, expected_version=store.clients.get(c1).row_version, archived=False)
    # Referrals, sessions and assessments stay: counts are kept.
    assert raw.execute("SELECT COUNT(*) FROM referrals WHERE client_id = ?", (c1,)).fetchone()[0] == 2


def test_erasure_needs_an_administrator_and_a_reason(scenario):
    store, s = scenario
    with pytest.raises(ValidationError, match="Reason"):
        store.privacy.erase(s.clients[0], " ")
    store.sign_in(TRAINER, TRAINER_PASSWORD)
    with pytest.raises(PermissionDenied):
        store.privacy.erase(s.clients[0], "Erasure requested by the person")
    with pytest.raises(PermissionDenied):
        store.privacy.write_subject_access(s.clients[0], "x.zip", write_bundle=write_bundle)
    store.sign_in(ADMIN, ADMIN_PASSWORD)
    store.privacy.erase(s.clients[0], "Erasure requested by the person")
    with pytest.raises(ValidationError, match="already erased"):
        store.privacy.erase(s.clients[0], "Erasure requested by the person")



def test_restoring_a_backup_made_before_an_erasure_erases_the_person_again(scenario):
    store, s = scenario
    before = store.admin.backup()
    person = store.clients.get(s.clients[0])
    store.privacy.erase(person.id, "Erasure requested by the person")
    store.admin.restore(before)
    again = store.clients.get(person.id)
    assert again.anonymised_at and again.last_name != person.last_name
    assert not store.clients.search(person.last_name) or all(
        c.id != person.id for c in store.clients.search(person.last_name))
    events = [e for e in store.admin.audit_events("client", person.id) if e["action"] == "erase"]
    assert any("Erased again" in (e["detail"] or "") and before.name in e["detail"] for e in events), events
    # Everyone else is as the backup had them.
    assert store.clients.get(s.clients[1]).anonymised_at is None

def test_a_manager_may_hand_over_but_not_erase(case_store):
    case_store.sign_in("manager", "amber-kettle-42")
    client_id = case_store.clients.add({"first_name": "Ann", "last_name": "Other", "date_of_birth": "1970-01-01",
                                        "gender": "2", "ethnicity": "A"}).ids[0]
    assert case_store.may("sar", client_id) and not case_store.may("erase", client_id)
    with pytest.raises(PermissionDenied):
        case_store.privacy.erase(client_id, "Erasure requested by the person")


def test_the_subject_access_bundle_holds_everything(scenario, tmp_path):
    store, s = scenario
    c2 = s.clients[1]
    kept, _ = print_plan(store, c2, tmp_path / "plan.pdf", today=TODAY)
    printed = store.documents.get(kept.id).content
    store.clients.record(c2)
    out = tmp_path / "sar.zip"
    store.privacy.write_subject_access(c2, out, write_bundle=write_bundle)
    ref = store.clients.get(c2).client_ref
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert f"{ref}-everything-held.pdf" in names and f"{ref}-everything-held.xlsx" in names
        docs = [n for n in names if n.startswith("documents/")]
        assert len(docs) == 1 and z.read(docs[0]) == printed          # byte for byte as printed
        pdf = PdfReader(io.BytesIO(z.read(f"{ref}-everything-held.pdf")))
        text = "\n".join(p.extract_text() for p in pdf.pages)
        book = openpyxl.load_workbook(io.BytesIO(z.read(f"{ref}-everything-held.xlsx")))
    for expected in ("Nguyễn", "Văn", "Five a day", "Sort out the gas bill", "SWEMWBS", "Who has viewed or changed",
                     "client record opened", ADMIN,
                     "Arrived late, was seen (6)",                  # codes printed as words, with the code
                     "Tina Trainer"):                               # who the sessions were with, by name
        assert expected in text, expected
    assert {"Personal details", "Referrals", "Sessions", "Goals", "Assessments", "Signposting", "Documents kept",
            "Who has viewed or changed the r"} <= set(book.sheetnames)
    details = dict(zip([c.value for c in book["Personal details"][1]], [c.value for c in book["Personal details"][2]]))
    assert details["First name"] == "Nguyễn" and details["Date of birth"] == "2001-07-02"
    trail = [[c.value for c in row] for row in book["Who has viewed or changed the r"].iter_rows(min_row=2)]
    assert any(r[3] == "view" for r in trail) and any(r[3] == "print" for r in trail)
    # The hand-over is audited once, after the file is there.
    assert [r["detail"] for r in store.privacy.audit(client_id=c2, action="export")] == [
        f"subject access bundle for {ref}"]


def test_a_failed_bundle_is_not_audited_and_leaves_nothing(scenario, tmp_path):
    store, s = scenario

    def full_disk(out, data, on_progress=None):
        raise OSError(28, "No space left on device")

    out = tmp_path / "sar.zip"
    with pytest.raises(Exception, match="full"):
        store.privacy.write_subject_access(s.clients[0], out, write_bundle=full_disk)
    assert not out.exists()
    assert store.privacy.audit(client_id=s.clients[0], action="export") == []


def test_the_retention_list_and_erasing_it_in_one_step(scenario):
    store, s = scenario
    c1, c2, c3, c4, c5 = s.clients
    # Last contacts: C3 15 Aug 2026 (session), C5 20 Aug (closed), Pat 15 Aug, C1 1 Sep (referral),
    # C4 30 Sep (closed), C2 5 Oct (session).
    assert store.privacy.retention_due(today=date(2034, 8, 1)) == (8, [])
    years, due = store.privacy.retention_due(today=date(2034, 9, 1))
    assert [(r["client_id"], r["last_contact"]) for r in due] == [
        (c3, "2026-08-15"), (s.edge, "2026-08-15"), (c5, "2026-08-20")]
    store.service.set_setting("retention.years", 10)
    assert store.privacy.retention_due(today=date(2034, 9, 1)) == (10, [])
    store.service.set_setting("retention.years", 8)
    done = store.privacy.erase_many([r["client_id"] for r in due], "Retention period of 8 years ended")
    assert set(done) == {c3, c5, s.edge}
    assert store.privacy.retention_due(today=date(2034, 9, 1))[1] == []
    assert store.clients.get(c1).last_name == "O'Neill"
