"""htdesk template, import and export as a user runs them; the round trip of a demo database."""
import os
import subprocess
import sys

import openpyxl
import pytest

from desktop.cli import main


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    # The per-PC postcode reference (built once per machine), whatever another test pointed it at.
    monkeypatch.delenv("HTDESK_CACHE_DIR", raising=False)
    return tmp_path


def cli(capsys, monkeypatch, *args, password=None):
    if password is not None:
        monkeypatch.setenv("HTDESK_PASSWORD", password)
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def fill(template, target, rows: dict):
    """Fill a blank template below its EXAMPLE rows, as a person would."""
    wb = openpyxl.load_workbook(template)
    for sheet, values in rows.items():
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        for row in values:
            ws.append([row.get(h) for h in header])
    wb.save(target)
    return target


@pytest.fixture
def service(env, capsys, monkeypatch):
    db = env / "svc.sqlite3"
    code, out, err = cli(capsys, monkeypatch, "init", "--db", db, "--service-name", "Gateshead Health Trainers",
                         "--service-code", "GATES", "--admin", "boss", password="cobalt-lantern-18")
    assert code == 0, err
    return db


def test_template_writes_a_blank_workbook_and_never_overwrites_by_accident(env, capsys, monkeypatch):
    path = env / "blank.xlsx"
    code, out, err = cli(capsys, monkeypatch, "template", path)
    assert code == 0 and path.exists() and "htdesk import" in out
    assert openpyxl.load_workbook(path)["Clients"]["A2"].value == "EXAMPLE"
    code, out, err = cli(capsys, monkeypatch, "template", path)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert cli(capsys, monkeypatch, "template", path, "--overwrite")[0] == 0
    code, out, err = cli(capsys, monkeypatch, "template", env / "blank.csv")
    assert code == 2 and ".xlsx" in err


def test_import_dry_run_then_import_then_exit_2_for_a_bad_workbook(service, env, capsys, monkeypatch):
    template = env / "blank.xlsx"
    cli(capsys, monkeypatch, "template", template)
    good = fill(template, env / "good.xlsx", {
        "Staff": [{"username": "amy", "full_name": "Amy Charlton", "role": "TRAINER"}],
        "Clients": [{"client_ref": "HT-000500", "first_name": "Siobhán", "last_name": "O'Neill",
                     "date_of_birth": "12/03/1980", "gender": "Female (including trans woman)", "ethnicity": "A"}],
        "Referrals": [{"referral_ref": "RF-000500", "client_ref": "HT-000500", "received_date": "2026-01-05",
                       "source": "SELF", "allocated_trainer": "amy"}],
    })
    code, out, err = cli(capsys, monkeypatch, "import", good, "--dry-run", "--db", service, "--user", "boss",
                         password="cobalt-lantern-18")
    assert code == 0, err
    assert "Dry run" in out and "Clients: 1 row(s) read; 1 would be created" in out
    code, out, err = cli(capsys, monkeypatch, "import", good, "--db", service, "--user", "boss")
    assert code == 0 and "Imported." in out
    assert (env / "good-import-report.txt").exists()
    bad = fill(template, env / "bad.xlsx", {
        "Clients": [{"client_ref": "HT-000501", "first_name": "Zoë", "last_name": "Ali-Khan",
                     "date_of_birth": "1/2/85", "gender": "2", "ethnicity": "A"}],
    })
    code, out, err = cli(capsys, monkeypatch, "import", bad, "--db", service, "--user", "boss")
    assert code == 2
    assert "Nothing was imported" in err and "Clients, row 3, column date_of_birth [1/2/85]" in err
    assert "two-digit year" in err and "Traceback" not in err
    written = (env / "bad-import-report.txt").read_text(encoding="utf-8")
    # The file at rest says where and why, without the cell's value (it may be personal data).
    assert "Clients, row 3, column date_of_birth: Date of birth" in written and "two-digit year" in written
    assert "1/2/85" not in written and "Zo" not in written and "Ali-Khan" not in written
    code, out, err = cli(capsys, monkeypatch, "import", env / "nothing-here.xlsx", "--db", service, "--user", "boss")
    assert code == 2 and "There is no file" in err


def test_import_and_export_are_refused_to_roles_without_the_right(service, env, capsys, monkeypatch):
    monkeypatch.setenv("HTDESK_NEW_PASSWORD", "amber-kettle-43")
    assert cli(capsys, monkeypatch, "user", "add", "cathy", "--roles", "COORD", "--db", service, "--user", "boss",
               password="cobalt-lantern-18")[0] == 0
    template = env / "blank.xlsx"
    cli(capsys, monkeypatch, "template", template)
    code, out, err = cli(capsys, monkeypatch, "import", template, "--db", service, "--user", "cathy", password="amber-kettle-43")
    assert code == 3 and "may not import workbooks" in err
    code, out, err = cli(capsys, monkeypatch, "export", env / "out.xlsx", "--db", service, "--user", "cathy")
    assert code == 3 and "export data" in err and not (env / "out.xlsx").exists()


def test_a_demo_database_exported_and_imported_into_a_fresh_one_exports_the_same(env, capsys, monkeypatch):
    demo = env / "demo.sqlite3"
    code, out, err = cli(capsys, monkeypatch, "demo", "--db", demo, "--clients", 60, "--seed", 1)
    assert code == 0, err
    first = env / "first.xlsx"
    code, out, err = cli(capsys, monkeypatch, "export", first, "--db", demo, "--user", "manager", password="demo")
    assert code == 0, err
    assert "60 clients" in out

    def into_fresh(workbook, name):
        # The fresh database's first account takes the demo administrator's username: an import never
        # makes an administrator (issue 14), so that Staff row is compared with the new database's own
        # account (a conflict on that row only) and every other row is imported.
        db = env / f"{name}.sqlite3"
        assert cli(capsys, monkeypatch, "init", "--db", db, "--service-name", "Fresh", "--service-code", "FRESH",
                   "--admin", "admin", password="cobalt-lantern-18")[0] == 0
        code, out, err = cli(capsys, monkeypatch, "import", workbook, "--db", db, "--user", "admin")
        assert code == 0 and "Imported." in out, out + err
        conflicts = out.split("Conflicts")[1].split("Warnings")[0] if "Conflicts (" in out else ""
        assert all(line.startswith("  - Staff, row 2, ") for line in conflicts.splitlines()
                   if line.startswith("  - ")), conflicts
        again = env / f"{name}.xlsx"
        assert cli(capsys, monkeypatch, "export", again, "--db", db, "--user", "admin")[0] == 0
        return again

    def without_first_account(book):
        book["Staff"] = [r for r in book["Staff"] if r[0] != "admin"]
        return book

    second = into_fresh(first, "fresh1")
    a, b = cells(first), cells(second)
    # The fresh database's own first account is the only difference: every other cell is the same.
    assert [r for r in a["Staff"] if r[0] == "admin"] and [r for r in b["Staff"] if r[0] == "admin"]
    assert without_first_account(a) == without_first_account(b)
    assert len(a["Clients"]) == 61 and len(a["Sessions"]) > 100 and len(a["Assessments"]) > 50
    # And from there on, export -> fresh database -> export is identical cell by cell.
    third = into_fresh(second, "fresh2")
    assert without_first_account(cells(third)) == without_first_account(cells(second))
    # The two databases give the same quarterly return, figure by figure.
    from datetime import date
    from db.periods import period_containing
    from db.store import CaseStore
    stores = [CaseStore.open(demo), CaseStore.open(env / "fresh1.sqlite3")]
    stores[0].sign_in("manager", "demo")
    stores[1].sign_in("admin", "cobalt-lantern-18")
    this_year = period_containing(date.today()).code[:7]
    last_year = f"{int(this_year[:4]) - 1}-{int(this_year[5:7]) - 1:02d}"
    for period in (this_year, last_year, period_containing(date.today()).code):
        a_figures, b_figures = (list(s.returns.figures(period).figures) for s in stores)
        assert a_figures == b_figures and any(f.value for f in a_figures), period
    for s in stores:
        s.close()


def test_the_command_runs_in_a_real_process(env):
    r = subprocess.run([sys.executable, "-m", "desktop.cli", "template", str(env / "t.xlsx")],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HTDESK_DATA_DIR": str(env / "data")})
    assert r.returncode == 0 and (env / "t.xlsx").exists() and "Traceback" not in r.stderr


def test_an_export_with_kept_documents_says_where_they_are(env, capsys, monkeypatch):
    import hashlib

    from rawdb import raw_connect
    demo = env / "demo.sqlite3"
    assert cli(capsys, monkeypatch, "demo", "--db", demo, "--clients", 10, "--seed", 1)[0] == 0
    content = b"%PDF-1.4\n% a kept plan"
    conn = raw_connect(demo)
    with conn:
        conn.execute("INSERT INTO documents (client_id, referral_id, kind, file_name, content, template_version, sha256, "
                     "created_at, created_by) SELECT client_id, id, 'plan', 'plan.pdf', ?, '1', ?, "
                     "'2026-09-01T10:00:00', 'trainer1' FROM referrals ORDER BY id LIMIT 1",
                     (content, hashlib.sha256(content).hexdigest()))
    conn.close()
    code, out, err = cli(capsys, monkeypatch, "export", env / "out.xlsx", "--db", demo, "--user", "manager",
                         password="demo")
    assert code == 0, err
    folder = env / "out-documents"
    assert f"are in {folder}: keep that folder beside the workbook" in out
    assert [p.read_bytes() for p in folder.iterdir()] == [content]
