"""The import workbook (IMPORT.md) through the store: all or nothing, a clear report, derived values
computed by the app, idempotent re-import, and every kind of bad input changing nothing."""
import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError

from db import deprivation, engine
from db.errors import PermissionDenied
from db.store import CaseStore
from db.transfer import workbook_spec as spec
from reports import transfer_workbook
from rawdb import raw_connect

TODAY = date(2026, 11, 1)
NE = deprivation.NORTH_EAST_SOURCE

BASE = {
    "Staff": [
        {"username": "jdoe", "full_name": "Jo Doe", "role": "TRAINER", "email": "jo@example.org",
         "start_date": "2024-04-01"},
        {"username": "kbell", "full_name": "Kay Bell", "role": "Health champion (volunteer)"},
    ],
    "Venues": [{"venue_code": "CC1", "name": "Elm Street Centre", "type": "COMMUNITY", "postcode": "ne1 7ru"}],
    "Clients": [
        {"client_ref": "HT-000101", "nhs_number": 9434765919, "first_name": "Siobhán", "last_name": "O'Neill",
         "date_of_birth": "1980-03-12", "gender": "2", "ethnicity": "White - british", "postcode": "NE1 7RU",
         "employment": 1, "gp_registered": "y", "consent_date": "2026-01-10", "consent_share_gp": "Y"},
        {"client_ref": "HT-000102", "first_name": "Zoë 😀", "last_name": "Nguyễn-Ali Khan",
         "date_of_birth": datetime(1975, 6, 1), "gender": 1, "ethnicity": "J", "postcode": "nfa"},
        {"client_ref": "HT-000103", "first_name": "Mícheál", "last_name": "D'Souza", "date_of_birth": "5/9/1990",
         "gender": "Z", "ethnicity": "99"},
    ],
    "Referrals": [
        {"referral_ref": "RF-000201", "client_ref": "HT-000101", "received_date": "2026-01-10", "source": "gp",
         "reasons": "WEIGHT; Money and debt", "allocated_trainer": "jdoe", "closed_date": "2026-06-01",
         "closure_reason": "COMPLETED", "notes": "Line one\nline two"},
        {"referral_ref": "RF-000202", "client_ref": "HT-000102", "received_date": "2026-03-01", "source": "SELF",
         "allocated_trainer": "jdoe", "priority": "urgent"},
        {"referral_ref": "RF-000203", "client_ref": "HT-000103", "received_date": "2026-10-01", "source": "VCS"},
        {"referral_ref": "RF-000204", "client_ref": "HT-000103", "received_date": "2026-10-15", "source": "LA",
         "allocated_trainer": "kbell"},
    ],
    "Sessions": [
        {"referral_ref": "RF-000201", "date": "2026-01-20", "start_time": "10:00", "duration_minutes": 45,
         "trainer": "jdoe", "venue_code": "CC1", "mode": "F2F", "type": "INITIAL", "attendance": "5"},
        {"referral_ref": "RF-000201", "date": "2026-02-20", "start_time": "10:00", "duration_minutes": 45,
         "trainer": "jdoe", "venue_code": "cc1", "mode": "Face to face", "type": "SUPPORT", "attendance": 5},
        {"referral_ref": "RF-000202", "date": "2026-03-10", "start_time": "9:30", "trainer": "JDOE",
         "mode": "PHONE", "attendance": "6"},
        {"referral_ref": "RF-000202", "date": "2026-12-01", "start_time": "14:00", "trainer": "jdoe",
         "mode": "F2F", "attendance": "0"},
    ],
    "Assessments": [
        {"referral_ref": "RF-000201", "date": "2026-01-20", "timepoint": "BASELINE", "weight_kg": 82.4,
         "height_cm": 171, "waist_cm": 96, **{f"swemwbs_{i}": 3 for i in range(1, 8)}, "confidence": 6},
        {"referral_ref": "RF-000201", "date": "2026-05-20", "timepoint": "EXIT", "weight_kg": 78,
         "swemwbs_1": 4, "swemwbs_2": 4, "swemwbs_3": 4},
        {"referral_ref": "RF-000202", "date": "2026-03-10", "timepoint": "baseline",
         **{f"gad7_{i}": 1 for i in range(1, 8)}},
    ],
    "Goals": [
        {"referral_ref": "RF-000201", "plan_agreed_date": "2026-01-20", "area": "ACTIVITY",
         "goal": "Walk to work twice a week", "importance": 8, "confidence": 6, "status": "FULL",
         "status_date": "2026-05-20"},
        {"referral_ref": "RF-000201", "plan_agreed_date": "2026-01-20", "area": "MONEY", "goal": "Sort out my debts",
         "review_date": "2026-12-01", "status": "INPROGRESS"},
    ],
    "Signposting": [
        {"referral_ref": "RF-000201", "date": "2026-02-20", "category": "DEBT", "destination": "Citizens Advice",
         "type": "signposted", "outcome": "attended"},
    ],
}


class Formula(str):
    """A cell value to write as a formula (other text starting with = stays text)."""


def book(path: Path, data: dict | None = None, *, drop=(), headers: dict | None = None, extra=None) -> Path:
    """A workbook written the way a person's spreadsheet would be (openpyxl, ordinary mode; like a
    script's output, its formulas carry no calculated value)."""
    data = BASE if data is None else data
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in spec.sheets():
        if s.name in drop or (s.optional and s.name not in data):
            continue                 # a v1 workbook (IMPORT.md) has none of the sheets added after it
        ws = wb.create_sheet(s.name)
        used = {k for row in data.get(s.name, []) for k in row}
        columns = (headers or {}).get(s.name, [c.name for c in s.columns if c.since == 1 or c.name in used])
        ws.append(columns)
        for number, row in enumerate(data.get(s.name, []), 2):
            values = [row.get(spec.header_key(c)) for c in columns]
            ws.append(values)
            for i, value in enumerate(values, 1):
                if isinstance(value, str) and value.startswith("=") and not isinstance(value, Formula):
                    ws.cell(number, i).data_type = "s"
        if extra:
            extra(s.name, ws)
    wb.save(path)
    return path


def changed(data: dict, sheet: str, index: int, **values) -> dict:
    out = {k: [dict(r) for r in v] for k, v in data.items()}
    if index >= len(out[sheet]):
        out[sheet].append(values)
    else:
        out[sheet][index].update(values)
        for k in [k for k, v in values.items() if v is None]:
            out[sheet][index].pop(k)
    return out


def snapshot(store: CaseStore) -> tuple:
    """Counts and a checksum of every table's contents: proof that nothing changed."""
    conn = store.db.conn
    digest = hashlib.sha256()
    for name in engine.table_names(conn):
        rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{name}"'))
        digest.update(name.encode() + b"\0" + "\n".join(rows).encode())
    return store.admin.counts(), digest.hexdigest()


@pytest.fixture
def store(case_store):
    """The shared test database, with the North East postcode reference (built in a fraction of a second)."""
    path = case_store.path
    case_store.close()
    s = CaseStore.open(path, reference_source=NE)
    s.sign_in("admin", "amber-kettle-42")
    yield s
    s.close()


def run(store, path, **kw):
    return store.transfer.import_workbook(path, today=TODAY, **kw)


def reasons(report, sheet=None):
    return [f"{i.sheet}|{i.row}|{i.column}|{i.value}|{i.reason}" for i in report.failures
            if sheet is None or i.sheet == sheet]


# --- a good workbook ---------------------------------------------------------------------------

def test_a_good_workbook_imports_everything_with_values_the_app_derives(store, tmp_path):
    path = book(tmp_path / "in.xlsx")
    report = run(store, path)
    assert report.ok and report.committed, report.text()
    assert {s: c.created for s, c in report.counts.items()} == {
        "Staff": 2, "Venues": 1, "Clients": 3, "Referrals": 4, "Sessions": 4, "Assessments": 3, "Goals": 2,
        "Signposting": 1}
    conn = store.db.conn
    # Names and free text exactly as typed, through a second connection.
    other = raw_connect(store.path)
    names = other.execute("SELECT client_ref, first_name, last_name FROM clients WHERE client_ref LIKE 'HT-0001%' "
                          "ORDER BY client_ref").fetchall()
    assert names == [("HT-000101", "Siobhán", "O'Neill"), ("HT-000102", "Zoë 😀", "Nguyễn-Ali Khan"),
                     ("HT-000103", "Mícheál", "D'Souza")]
    assert other.execute("SELECT notes FROM referrals WHERE referral_ref = 'RF-000201'").fetchone()[0] == \
        "Line one\nline two"
    other.close()
    # Codes by label, number cells, NFA, deprivation looked up by the app.
    c1 = dict(zip(("nhs", "eth", "emp", "gp", "pc", "dec", "quin", "status"), conn.execute(
        "SELECT nhs_number, ethnicity, employment, gp_registered, postcode, imd_decile, imd_quintile, "
        "postcode_status FROM clients WHERE client_ref = 'HT-000101'").fetchone()))
    assert c1 == {"nhs": "9434765919", "eth": "A", "emp": "01", "gp": "Y", "pc": "NE1 7RU", "dec": 6, "quin": 3,
                  "status": "found"}
    assert conn.execute("SELECT postcode, postcode_status FROM clients WHERE client_ref = 'HT-000102'").fetchone() == \
        ("NFA", "nfa")
    # Status derived: closed, active (attended session), waiting (allocated), new.
    status = dict(conn.execute("SELECT referral_ref, status FROM referrals WHERE referral_ref LIKE 'RF-0002%'"))
    assert status == {"RF-000201": "CLOSED", "RF-000202": "ACTIVE", "RF-000203": "NEW", "RF-000204": "WAITING"}
    assert conn.execute("SELECT first_attended_date FROM referrals WHERE referral_ref = 'RF-000202'").fetchone()[0] \
        == "2026-03-10"
    reasons_ = [r[0] for r in conn.execute("SELECT area FROM referral_reasons rr JOIN referrals r ON r.id = rr.referral_id "
                                           "WHERE r.referral_ref = 'RF-000201' ORDER BY area")]
    assert reasons_ == ["MONEY", "WEIGHT"]
    assert conn.execute("SELECT start_time FROM sessions WHERE attendance = '6'").fetchone()[0] == "09:30"
    # Scores computed by the app: BMI from the measured, then the carried height.
    bmis = [json.loads(s)["bmi"] for (s,) in conn.execute(
        "SELECT scores FROM assessments WHERE instrument = 'BODY' ORDER BY assessed_date")]
    assert [round(b, 2) for b in bmis] == [28.18, 26.67]
    sw = conn.execute("SELECT is_result, not_computable_reason FROM assessments WHERE instrument = 'SWEMWBS' "
                      "ORDER BY assessed_date").fetchall()
    assert sw[0] == (1, None) and sw[1][0] == 0 and "item 4" in sw[1][1]
    # One plan for the two goals sharing a referral and agreed date.
    assert conn.execute("SELECT COUNT(DISTINCT plan_id), COUNT(*) FROM goals").fetchone() == (1, 2)
    # Warnings: not computable, and answers for an instrument that is switched off.
    warned = [w.reason for w in report.warnings]
    assert any("SWEMWBS: stored with its score not computable" in w for w in warned)
    assert any("GAD7 answers are stored, but GAD7 is switched off" in w for w in warned)
    # Staff: a locked account holds the username; nobody can sign in as them yet.
    account = conn.execute("SELECT locked, password_hash, must_change_password FROM accounts "
                           "WHERE username = 'jdoe'").fetchone()
    locked, stored, must_change = account
    assert (locked, must_change) == (1, 1)
    with pytest.raises(InvalidHashError):       # not a password hash at all: no password can match it
        PasswordHasher().verify(stored, "")
    assert conn.execute("SELECT role FROM staff s JOIN accounts a ON a.staff_id = s.id "
                        "WHERE a.username = 'kbell'").fetchone()[0] == "CHAMPION"
    # One audit event names the file and its sha256; nothing else was audited.
    events = [e for e in store.admin.audit_events(limit=50) if e["action"] == "import"]
    assert len(events) == 1
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha in events[0]["detail"] and json.loads(events[0]["after"])["file"] == "in.xlsx"
    assert report.sha256 == sha
    assert store.admin.audit_events(limit=1)[0]["action"] == "import"
    # Refs kept as given, and the app's own series moved past them.
    store.clients.add({"first_name": "New", "last_name": "Person", "date_of_birth": "1990-01-01", "gender": "1",
                      "ethnicity": "A"}, today=TODAY)
    assert conn.execute("SELECT MAX(client_ref) FROM clients").fetchone()[0] == "HT-000104"
    # Found by search as you type.
    assert [c.client_ref for c in store.clients.search("sio o'ne")] == ["HT-000101"]
    # The report was written beside the workbook.
    written = (tmp_path / "in-import-report.txt").read_text(encoding="utf-8")
    assert "Imported." in written and "Clients: 3 row(s) read; 3 created" in written


def test_importing_the_same_workbook_again_changes_nothing(store, tmp_path):
    path = book(tmp_path / "in.xlsx")
    assert run(store, path).committed
    before = snapshot(store)
    again = run(store, path)
    assert again.ok and not again.committed and not again.conflicts
    assert {s: (c.created, c.unchanged) for s, c in again.counts.items()} == {
        "Staff": (0, 2), "Venues": (0, 1), "Clients": (0, 3), "Referrals": (0, 4), "Sessions": (0, 4),
        "Assessments": (0, 3), "Goals": (0, 2), "Signposting": (0, 1)}
    assert "Nothing new to import" in again.text()
    assert snapshot(store) == before


def test_rows_that_differ_are_conflicts_and_are_never_overwritten(store, tmp_path):
    run(store, book(tmp_path / "in.xlsx"))
    data = changed(BASE, "Clients", 0, last_name="O'Neil")
    data = changed(data, "Sessions", 1, attendance="3")
    data = changed(data, "Sessions", 9, referral_ref="RF-000202", date="2026-04-01", trainer="jdoe", mode="F2F",
                   attendance="5")
    report = run(store, book(tmp_path / "again.xlsx", data))
    assert report.ok and report.committed
    conflicts = [(i.sheet, i.row, i.column) for i in report.conflicts]
    assert conflicts == [("Clients", 2, "last_name"), ("Sessions", 3, "attendance")]
    assert "O'Neill" in report.conflicts[0].told and "was kept" in report.conflicts[0].told
    assert "O'Neil" in report.text()                                  # on screen, both values
    # The report written beside the workbook says where, never what: no value of a person at rest.
    written = Path(report.report_path).read_text()
    assert "Clients, row 2, column last_name: " in written and "O'Neil" not in written
    imported = [e for e in store.admin.audit_events("workbook") if e["action"] == "import"]
    assert report.report_path in str(imported[0]["after"])       # the import's event names its report
    conn = store.db.conn
    assert conn.execute("SELECT last_name FROM clients WHERE client_ref = 'HT-000101'").fetchone()[0] == "O'Neill"
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE attendance = '3'").fetchone()[0] == 0
    assert report.counts["Sessions"].created == 1 and report.counts["Sessions"].conflicts == 1


def test_a_dry_run_checks_and_reports_but_writes_nothing(store, tmp_path):
    before = snapshot(store)
    report = run(store, book(tmp_path / "in.xlsx"), dry_run=True)
    assert report.ok and not report.committed and report.dry_run
    assert "Dry run" in report.text() and "3 would be created" in report.text()
    assert snapshot(store) == before


def test_headers_match_whatever_their_case_spacing_and_order(store, tmp_path):
    headers = {s.name: list(reversed([f"  {c.upper().replace('_', ' ')} " for c in s.column_names]))
               for s in spec.sheets()}
    headers["Clients"].append("Favourite colour")
    data = changed(BASE, "Clients", 0, favourite_colour="green")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in spec.sheets():
        ws = wb.create_sheet(f" {s.name.lower()} ")
        ws.append(headers[s.name])
        for row in data.get(s.name, []):
            ws.append([row.get(spec.header_key(h)) for h in headers[s.name]])
    wb.create_sheet("My notes")
    wb.save(tmp_path / "odd.xlsx")
    report = run(store, tmp_path / "odd.xlsx")
    assert report.ok and report.committed, report.text()
    warned = [(w.sheet, w.column, w.reason[:40]) for w in report.warnings]
    assert ("Clients", "Favourite colour", "'Favourite colour' is not a column of th") in warned
    assert not any("no header" in w[2] for w in warned)
    assert any(w.sheet == "My notes" and "not part of the import workbook" in w.reason for w in report.warnings)


def test_example_and_blank_rows_are_skipped(store, tmp_path):
    path = tmp_path / "template.xlsx"
    transfer_workbook.write_template(path)
    report = run(store, path, dry_run=True)
    assert report.ok and all(c.rows == 0 for c in report.counts.values())


# --- bad input: a clear report, and nothing changed ------------------------------------------------

def assert_refused(store, path, *expected, sheet=None):
    before = snapshot(store)
    report = run(store, path)
    assert not report.ok and not report.committed
    listed = reasons(report, sheet)
    for words in expected:
        assert any(re.search(words, line) for line in listed), (words, listed)
    assert (f"Nothing was imported: {len(report.failures)} problem(s) must be corrected in the workbook first "
            "(the import is all or nothing).") in report.text().splitlines()
    assert snapshot(store) == before
    return report


def test_a_file_that_is_not_a_workbook_is_refused(store, tmp_path):
    csv_file = tmp_path / "clients.xlsx"
    csv_file.write_text("client_ref,first_name\nHT-1,Ann\n")
    report = assert_refused(store, csv_file, "not an Excel workbook")
    assert report.failures[0].sheet is None and "save it as Excel Workbook" in report.failures[0].reason
    assert_refused(store, tmp_path / "missing.xlsx", "There is no file")
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert_refused(store, folder, "is a folder")
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert_refused(store, docx, "zip file but not an Excel workbook")


def _compound_file(path: Path, encrypted: bool) -> Path:
    """An OLE compound file as Excel writes for a password-protected workbook (or an old .xls)."""
    body = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + b"\xff" * 4096)
    if encrypted:
        body[600:600 + 60] = "EncryptionInfo".encode("utf-16-le") + b"\0" * 32
        body[700:700 + 40] = "EncryptedPackage".encode("utf-16-le") + b"\0" * 8
    path.write_bytes(bytes(body))
    return path


def test_password_protected_old_and_corrupt_workbooks_are_refused(store, tmp_path):
    assert_refused(store, _compound_file(tmp_path / "locked.xlsx", True), "protected with a password.*remove the")
    assert_refused(store, _compound_file(tmp_path / "old.xlsx", False), r"old Excel 97-2003 \(\.xls\)")
    good = book(tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    assert_refused(store, tmp_path / "cut.xlsx", "cut.xlsx is damaged and cannot be read .the file is incomplete")
    # A whole zip whose sheet XML is broken.
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet3.xml":
                data = data[: len(data) // 2]
            zout.writestr(item, data)
    assert_refused(store, broken, "damaged and cannot be read")


def test_a_missing_sheet_or_required_column_stops_the_import(store, tmp_path):
    report = assert_refused(store, book(tmp_path / "a.xlsx", drop=("Sessions",)), "no sheet called Sessions")
    assert len(report.failures) == 1
    headers = {"Clients": [c for c in spec.sheet("Clients").column_names if c != "date_of_birth"]}
    report = assert_refused(store, book(tmp_path / "b.xlsx", headers=headers),
                            "Clients|None|date_of_birth|None|The required column date_of_birth is missing")
    assert len(report.failures) == 1      # the rows are not checked at all


def test_duplicate_headers_are_refused(store, tmp_path):
    headers = {"Referrals": [*(c.name for c in spec.sheet("Referrals").columns if c.since == 1), "Source "]}
    assert_refused(store, book(tmp_path / "d.xlsx", headers=headers), r"header source appears twice \(cells D1 and M1\)")


def test_unknown_codes_are_listed_by_row_column_and_value(store, tmp_path):
    data = changed(BASE, "Clients", 1, gender="M", ethnicity="Martian")
    data = changed(data, "Sessions", 0, mode="Carrier pigeon")
    data = changed(data, "Referrals", 0, reasons="WEIGHT;Gardening")
    data = changed(data, "Staff", 0, role="Boss")
    assert_refused(store, book(tmp_path / "c.xlsx", data),
                   r"Clients\|3\|gender\|M\|Gender: 'M' is not one of the choices",
                   r"Clients\|3\|ethnicity\|Martian\|",
                   r"Sessions\|2\|mode\|Carrier pigeon\|Mode: choose",
                   r"Referrals\|2\|reasons\|WEIGHT;Gardening\|Reasons: 'Gardening' is not an area",
                   r"Staff\|2\|role\|Boss\|Role: 'Boss' is not a staff role")


def test_impossible_ambiguous_and_future_dates_are_refused(store, tmp_path):
    data = changed(BASE, "Clients", 0, date_of_birth="31/02/1980")
    data = changed(data, "Clients", 1, date_of_birth="1/6/75")
    data = changed(data, "Clients", 2, date_of_birth="the fifth of May")
    data = changed(data, "Referrals", 1, received_date="2026-11-02")
    data = changed(data, "Sessions", 3, attendance="5")                 # a future session cannot be attended
    data = changed(data, "Goals", 0, status_date=None)                  # FULL needs its date
    assert_refused(store, book(tmp_path / "d.xlsx", data),
                   r"Clients\|2\|date_of_birth\|31/02/1980\|.*not a real date",
                   r"Clients\|3\|date_of_birth\|1/6/75\|.*two-digit year",
                   r"Clients\|4\|date_of_birth\|the fifth of May\|.*not a date",
                   r"Referrals\|3\|received_date\|2026-11-02\|.*in the future",
                   r"Sessions\|5\|attendance\|5\|Attendance can only be recorded",
                   r"Goals\|2\|status_date\|None\|Status date: give the date")


def test_closure_needs_both_a_date_and_a_reason(store, tmp_path):
    data = changed(BASE, "Referrals", 0, closed_date=None)
    data = changed(data, "Referrals", 1, closed_date="2026-04-01")
    assert_refused(store, book(tmp_path / "x.xlsx", data),
                   r"Referrals\|2\|closed_date\|None\|Closed date is missing but a closure reason is set",
                   r"Referrals\|3\|closure_reason\|None\|Closure reason is needed")


def test_references_that_do_not_resolve_are_refused(store, tmp_path):
    data = changed(BASE, "Referrals", 2, client_ref="HT-999999")
    data = changed(data, "Sessions", 0, trainer="nobody", venue_code="XX9")
    data = changed(data, "Assessments", 0, referral_ref="RF-999999")
    data = changed(data, "Referrals", 3, allocated_trainer="manager")      # in the database, but not a trainer
    assert_refused(store, book(tmp_path / "r.xlsx", data),
                   r"Referrals\|4\|client_ref\|HT-999999\|Client HT-999999 is not on the Clients sheet nor in the database",
                   r"Sessions\|2\|trainer\|nobody\|No staff member has the username nobody",
                   r"Sessions\|2\|venue_code\|XX9\|Venue XX9 is not",
                   r"Assessments\|2\|referral_ref\|RF-999999\|Referral RF-999999 is not",
                   r"Referrals\|5\|allocated_trainer\|manager\|.*allocated to a health trainer or champion")


def test_references_resolve_against_the_database_too(store, tmp_path):
    run(store, book(tmp_path / "first.xlsx"))
    more = {"Sessions": [{"referral_ref": "rf-000203", "date": "2026-10-20", "trainer": "trainer", "mode": "F2F",
                          "attendance": "5"}]}
    report = run(store, book(tmp_path / "more.xlsx", more))
    assert report.committed, report.text()
    assert store.db.conn.execute("SELECT status FROM referrals WHERE referral_ref = 'RF-000203'").fetchone()[0] == "ACTIVE"


def test_duplicate_references_and_identities_are_refused(store, tmp_path):
    data = changed(BASE, "Clients", 9, **{**BASE["Clients"][2], "first_name": "Other"})
    data = changed(data, "Sessions", 9, **BASE["Sessions"][0])
    data = changed(data, "Assessments", 9, referral_ref="RF-000201", date="2026-01-20", timepoint="Baseline",
                   activity_days=3)
    assert_refused(store, book(tmp_path / "dup.xlsx", data),
                   r"Clients\|5\|client_ref\|HT-000103\|Client reference HT-000103 appears twice on this sheet \(rows 4 and 5\)",
                   r"Sessions\|6\|date\|.*appears twice on this sheet \(rows 2 and 6\)",
                   r"Assessments\|5\|date\|.*BASELINE assessment of referral RF-000201 on 2026-01-20 appears twice")


def test_formulas_are_read_by_value_and_one_never_calculated_is_named(store, tmp_path):
    path = book(tmp_path / "f.xlsx", changed(BASE, "Sessions", 0, duration_minutes=Formula("=30+15")))
    assert_refused(store, path, r"Sessions\|2\|duration_minutes\|None\|Cell D2 holds a formula with no calculated value")
    # The same formula with the value Excel calculated and saved: read as 45.
    patched = tmp_path / "calculated.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if b"<f>30+15</f>" in data:
                data = re.sub(rb"<f>30\+15</f>(<v\s*/>|<v></v>)?", b"<f>30+15</f><v>45</v>", data)
            zout.writestr(item, data)
    report = run(store, patched)
    assert report.committed, report.text()
    assert store.db.conn.execute("SELECT duration_minutes FROM sessions WHERE session_date = '2026-01-20'").fetchone()[0] == 45


def test_spreadsheet_errors_and_merged_cells_are_refused(store, tmp_path):
    def mess(name, ws):
        if name == "Venues":
            ws["B2"].value = "#N/A"
            ws["B2"].data_type = "e"
        if name == "Goals":
            ws.merge_cells("D2:F2")
    assert_refused(store, book(tmp_path / "m.xlsx", extra=mess),
                   r"Venues\|2\|name\|#N/A\|Cell B2 holds the spreadsheet error #N/A",
                   r"Goals\|2\|None\|D2:F2\|Cells D2:F2 are merged")


def test_text_in_number_columns_is_refused(store, tmp_path):
    data = changed(BASE, "Sessions", 0, duration_minutes="forty-five")
    data = changed(data, "Goals", 0, importance="very")
    data = changed(data, "Assessments", 0, weight_kg="eighty", swemwbs_1="often-ish")
    assert_refused(store, book(tmp_path / "n.xlsx", data),
                   r"Sessions\|2\|duration_minutes\|forty-five\|Duration 'forty-five' must be a number",
                   r"Goals\|2\|importance\|very\|Importance 'very' must be a whole number",
                   r"Assessments\|2\|weight_kg\|eighty\|Weight \(kg\): 'eighty' is not a number",
                   r"Assessments\|2\|swemwbs_1\|often-ish\|SWEMWBS item 1")


def test_a_client_under_16_on_the_referral_date_is_refused(store, tmp_path):
    data = changed(BASE, "Clients", 2, date_of_birth="2012-01-01")
    assert_refused(store, book(tmp_path / "young.xlsx", data),
                   r"Referrals\|4\|received_date\|2026-10-01\|.*age of 14 on the date received")


def test_a_million_blank_formatted_rows_are_not_read_one_by_one(store, tmp_path):
    """Formatting down to the bottom of the sheet leaves a row element per row: the reader stops
    where the data stops (this test would take minutes otherwise)."""
    path = book(tmp_path / "plain.xlsx")
    big = tmp_path / "formatted.xlsx"
    blank = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/><c r="B{r}" s="1"/></row>'
                    for r in range(10, 1_000_010)).encode()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet3.xml":          # Clients
                data = data.replace(b"</sheetData>", blank + b"</sheetData>")
            zout.writestr(item, data)
    report = run(store, big)
    assert report.committed, report.text()
    assert report.counts["Clients"].rows == 3


def test_ten_thousand_good_rows_and_one_bad_one_at_the_end_change_nothing(store, tmp_path):
    clients = [{"client_ref": f"HT-{n:06d}", "first_name": "Ann", "last_name": f"Lee{n}",
                "date_of_birth": "1970-01-01", "gender": "2", "ethnicity": "A"} for n in range(1000, 11000)]
    clients.append({"client_ref": "HT-099999", "first_name": "Bad", "last_name": "Row", "date_of_birth": "1970-01-01",
                    "gender": "2", "ethnicity": "A", "nhs_number": "943 476 5918"})
    report = assert_refused(store, book(tmp_path / "big.xlsx", {"Clients": clients}),
                            r"Clients\|10002\|nhs_number\|943 476 5918\|NHS number 943 476 5918 is not valid")
    assert len(report.failures) == 1 and report.counts["Clients"].rows == 10_001


def test_cancel_changes_nothing_and_progress_is_reported(store, tmp_path):
    path = book(tmp_path / "in.xlsx")
    before = snapshot(store)
    seen = []
    report = run(store, path, on_progress=lambda d, t, label: seen.append(label),
                 cancelled=lambda: any(label.startswith("Writing") for label in seen))
    assert report.cancelled and not report.committed and "cancelled" in report.text()
    assert snapshot(store) == before
    assert "Reading Clients" in seen and "Checking Sessions" in seen
    report = run(store, path, on_progress=lambda d, t, label: seen.append(label))
    assert report.committed and "Saving" in seen


def test_only_managers_and_administrators_import_and_only_managers_export(case_store, tmp_path):
    path = book(tmp_path / "in.xlsx")
    for user in ("trainer", "coord", "champion"):
        case_store.sign_in(user, "amber-kettle-42")
        with pytest.raises(PermissionDenied):
            case_store.transfer.import_workbook(path, today=TODAY)
        with pytest.raises(PermissionDenied):
            case_store.transfer.export_rows()
    case_store.sign_in("manager", "amber-kettle-42")
    assert case_store.transfer.import_workbook(path, today=TODAY, dry_run=True).ok
    case_store.transfer.export_rows()
    assert case_store.admin.audit_events(limit=1)[0]["action"] == "export"


def test_an_unrelated_write_between_checking_and_writing_does_not_stop_the_import(store, tmp_path):
    """Another program commits while the workbook is checked: the import checks again under the
    write lock and completes (it used to fail with 'Another program changed the database')."""
    path = book(tmp_path / "in.xlsx")
    other = raw_connect(store.path)
    poked = []

    checked = []

    def meddle(done, total, label):
        if label == "Checking Clients" and done == 0:
            checked.append(label)
        if label == "Looking up postcodes" and not poked:
            other.execute("INSERT INTO meta (key, value) VALUES ('poke', '1')")
            other.commit()
            poked.append(label)
    report = run(store, path, on_progress=meddle)
    other.close()
    assert poked and report.committed, report.text()
    # Nothing the check read had changed: it was not run again (the lock was held only to write).
    assert checked == ["Checking Clients"]
    assert store.db.conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 3
    assert store.db.conn.execute("SELECT value FROM meta WHERE key = 'poke'").fetchone()[0] == "1"


def test_a_conflicting_write_between_checking_and_writing_is_caught_by_the_second_check(store, tmp_path):
    """Another program adds the venue the workbook adds, after the check: the check under the lock
    sees it (compared, not written twice), and the rest of the workbook is imported."""
    path = book(tmp_path / "in.xlsx")
    other = CaseStore.open(store.path)
    other.sign_in("admin", "amber-kettle-42")
    done = []

    checked = []

    def meddle(_done, _total, label):
        if label == "Checking Clients" and _done == 0:
            checked.append(label)
        if label == "Looking up postcodes" and not done:
            other.service.add_venue("CC1", "Elm Street Centre (theirs)", "COMMUNITY")
            done.append(1)
    report = run(store, path, on_progress=meddle)
    other.close()
    assert report.committed, report.text()
    assert len(checked) == 2          # what the check read had changed: checked again under the lock
    assert store.db.conn.execute("SELECT COUNT(*) FROM venues WHERE code = 'CC1'").fetchone()[0] == 1
    assert store.db.conn.execute("SELECT name FROM venues WHERE code = 'CC1'").fetchone()[0] == "Elm Street Centre (theirs)"
    assert report.counts["Venues"].created == 0 and report.counts["Venues"].conflicts == 1
    assert store.db.conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 3


# --- the export, and the round trip ---------------------------------------------------------------------

def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_export_then_import_into_a_fresh_database_gives_the_same_workbook(store, tmp_path):
    data = changed(BASE, "Clients", 9, client_ref="HT-000104", first_name="=Bob", last_name="#N/A Smith",
                   date_of_birth="1960-02-29", gender="X", ethnicity="Z", title="Dr", preferred_name="Bobby",
                   address_line_1="Flat 2, 1 High St", town="Gateshead", email="bob@example.org",
                   mobile="07700 900123", interpreter_needed="N", carer="Y", disability="Z",
                   first_language="Polish")
    report = run(store, book(tmp_path / "in.xlsx", data))
    assert report.committed, report.text()
    first = tmp_path / "first.xlsx"
    transfer_workbook.write_export(first, store.transfer.export_rows(target=str(first)))
    fresh = CaseStore.create_new(tmp_path / "fresh.sqlite3", service_name="Fresh", service_code="FRESH",
                                 admin_username="admin", admin_password="amber-kettle-42", reference_source=NE)
    fresh.sign_in("admin", "amber-kettle-42")
    report = fresh.transfer.import_workbook(first, today=TODAY)
    assert report.committed and not report.conflicts, report.text()
    second = tmp_path / "second.xlsx"
    transfer_workbook.write_export(second, fresh.transfer.export_rows())
    a, b = _cells(first), _cells(second)
    assert a == b
    assert [r[3] for r in a["Clients"][1:]] == ["Siobhán", "Zoë 😀", "Mícheál", "=Bob"]
    assert a["Clients"][4][4] == "#N/A Smith"
    # The database behind it: same derived values too.
    q = ("SELECT r.referral_ref, a.instrument, a.scores, a.bands, a.is_result FROM assessments a "
         "JOIN referrals r ON r.id = a.referral_id ORDER BY 1, a.assessed_date, 2")
    assert store.db.conn.execute(q).fetchall() == fresh.db.conn.execute(q).fetchall()
    q = "SELECT referral_ref, status, first_attended_date FROM referrals ORDER BY 1"
    assert store.db.conn.execute(q).fetchall() == fresh.db.conn.execute(q).fetchall()
    fresh.close()


def test_export_rows_follow_the_spec_columns(store, tmp_path):
    run(store, book(tmp_path / "in.xlsx"))
    rows = {name: list(r) for name, r in store.transfer.export_rows().items()}
    assert list(rows) == ["Staff", "Venues", "Clients", "Referrals", "Sessions", "Assessments", "Goals",
                          "Signposting",                 # IMPORT.md's sheets, in its order
                          "Directory", "Plans", "Plan versions", "Goal reviews",   # then those added after v1
                          "Session goals",
                          "Session history",
                          "Settings", "Documents", "Contact attempts", "Safeguarding prompts", "Return runs"]
    for s in spec.sheets():
        assert all(len(r) == len(s.columns) for r in rows[s.name])
    referral = rows["Referrals"][0]
    assert referral[:4] == ("RF-000201", "HT-000101", date(2026, 1, 10), "GP")
    assert referral[6] == "WEIGHT;MONEY"            # in the code list's order
    staff = [r[0] for r in rows["Staff"]]
    assert staff == sorted(staff, key=str.casefold) and "jdoe" in staff
    body = [r for r in rows["Assessments"] if r[2] == "BASELINE" and r[0] == "RF-000201"][0]
    columns = spec.sheet("Assessments").column_names
    assert body[columns.index("weight_kg")] == 82.4 and body[columns.index("swemwbs_7")] == 3
    assert "bmi" not in columns                      # derived values are never exported as input


def test_a_workbook_saved_by_a_spreadsheet_program_imports_the_same(store, tmp_path):
    """LibreOffice saves as Excel does: shared strings, calculated formulas, its own date styles."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    data = changed(BASE, "Sessions", 0, duration_minutes=Formula("=30+15"),
                   notes=Formula('=IF(1=1,"","never")'))
    source = book(tmp_path / "source.xlsx", data)
    out = tmp_path / "saved"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to",
                        "xlsx", "--outdir", str(out), str(source)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    saved = out / "source.xlsx"
    with zipfile.ZipFile(saved) as z:
        assert "xl/sharedStrings.xml" in z.namelist()
    report = run(store, saved)
    assert report.committed, report.text()
    conn = store.db.conn
    assert conn.execute("SELECT duration_minutes, notes FROM sessions WHERE session_date = '2026-01-20'").fetchone() \
        == (45, None)
    assert conn.execute("SELECT first_name FROM clients WHERE client_ref = 'HT-000102'").fetchone()[0] == "Zoë 😀"
    assert conn.execute("SELECT date_of_birth FROM clients WHERE client_ref = 'HT-000102'").fetchone()[0] == \
        "1975-06-01"


def test_the_same_nhs_number_on_two_clients_is_a_warning_not_a_refusal(store, tmp_path):
    data = changed(BASE, "Clients", 2, nhs_number="943 476 5919")
    report = run(store, book(tmp_path / "nhs.xlsx", data))
    assert report.committed
    warned = [(w.row, w.column, w.reason) for w in report.warnings if w.column == "nhs_number"]
    assert (2, "nhs_number", "The NHS number of HT-000101 is also recorded for HT-000103: check they are not the "
                             "same person.") in warned


def test_staff_without_an_account_round_trip_under_a_stand_in_username(store, tmp_path):
    staff_id = store.service.add_staff("Pat Volunteer", "CHAMPION")              # no sign-in of their own
    rows = {name: list(r) for name, r in store.transfer.export_rows().items()}
    assert (f"staff-{staff_id}", "Pat Volunteer", "CHAMPION", None, None, None, None, None, None) in rows["Staff"]
    path = tmp_path / "staff.xlsx"
    transfer_workbook.write_export(path, rows)
    again = run(store, path)
    assert again.ok and again.counts["Staff"].created == 0 and again.counts["Staff"].unchanged == len(rows["Staff"])
    fresh = CaseStore.create_new(tmp_path / "fresh.sqlite3", service_name="Fresh", service_code="FRESH",
                                 admin_username="admin", admin_password="amber-kettle-42", reference_source=NE)
    fresh.sign_in("admin", "amber-kettle-42")
    assert fresh.transfer.import_workbook(path, today=TODAY).committed
    assert fresh.db.conn.execute("SELECT s.full_name FROM accounts a JOIN staff s ON s.id = a.staff_id "
                                 "WHERE a.username = ?", (f"staff-{staff_id}",)).fetchone() == ("Pat Volunteer",)
    fresh.close()
