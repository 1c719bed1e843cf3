"""htdesk audit, sar, erase and check's audit chain, run as a user runs them (CLI.md v2, issue 14)."""
from __future__ import annotations

from db.connection import copy_database
import zipfile

import openpyxl
import pytest

from db.store import CaseStore
from desktop.cli import main
from returns_scenario import ADMIN, ADMIN_PASSWORD, TRAINER, TRAINER_PASSWORD, Scenario, stub_deprivation
from rawdb import raw_connect

QUARTERS = ("2026-27-Q1", "2026-27-Q2")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("privacy-cli") / "service.sqlite3"
    s = Scenario(path)
    s.store.close()
    return path, s


@pytest.fixture
def db(built, tmp_path, monkeypatch):
    path, s = built
    copy = tmp_path / "service.sqlite3"
    copy_database(path, copy)
    monkeypatch.setenv("HTDESK_PASSWORD", ADMIN_PASSWORD)
    return copy, s


def htdesk(db_path, *args, user=ADMIN):
    return main([*args, "--db", str(db_path), "--user", user])


def _figures(path):
    with CaseStore.open(path) as store:
        store.sign_in(ADMIN, ADMIN_PASSWORD)
        stub_deprivation(store)
        return {q: sorted((f.measure, f.breakdown, f.value) for f in store.returns.figures(q).figures)
                for q in QUARTERS}


def test_erase_keeps_past_returns_and_is_audited_with_the_reason(db, capsys):
    path, s = db
    before = _figures(path)
    assert htdesk(path, "erase", "HT-000001", "--reason", "Asked to be forgotten, letter of 2 Nov 2026") == 0
    assert "Erased HT-000001" in capsys.readouterr().out
    assert _figures(path) == before
    assert htdesk(path, "audit", "--client", "HT-000001", "--action", "erase") == 0
    listed = capsys.readouterr().out
    assert "Asked to be forgotten" in listed and "1 audit events." in listed
    raw = raw_connect(path)
    assert raw.execute("SELECT first_name, last_name FROM clients WHERE client_ref = 'HT-000001'").fetchone() == (
        "Erased", "Person")
    assert htdesk(path, "check") == 0


def test_erase_and_sar_are_refused_to_a_trainer(db, monkeypatch, capsys, tmp_path):
    path, _ = db
    monkeypatch.setenv("HTDESK_PASSWORD", TRAINER_PASSWORD)
    assert htdesk(path, "erase", "HT-000001", "--reason", "Asked to be forgotten", user=TRAINER) == 3
    assert htdesk(path, "sar", "HT-000001", "--out", str(tmp_path / "b.zip"), user=TRAINER) == 3
    assert htdesk(path, "audit", user=TRAINER) == 3
    assert "may not" in capsys.readouterr().err
    assert not (tmp_path / "b.zip").exists()


def test_sar_writes_the_bundle(db, capsys, tmp_path):
    path, _ = db
    out = tmp_path / "HT-000002.zip"
    assert htdesk(path, "sar", "HT-000002", "--out", str(out)) == 0
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
    assert {"HT-000002-everything-held.pdf", "HT-000002-everything-held.xlsx", "README.txt"} <= names
    assert htdesk(path, "audit", "--client", "HT-000002", "--action", "export") == 0
    assert "subject access bundle for HT-000002" in capsys.readouterr().out
    assert htdesk(path, "sar", "HT-000002", "--out", str(tmp_path / "b.pdf")) == 2


def test_audit_filters_and_writes_a_workbook_of_text(db, capsys, tmp_path):
    path, _ = db
    hostile = '=HYPERLINK("http://example.invalid","click") asked in person'
    assert htdesk(path, "erase", "HT-000005", "--reason", hostile) == 0
    out = tmp_path / "audit.xlsx"
    assert htdesk(path, "audit", "--account", ADMIN, "--action", "erase", "--since", "2020-01-01",
                  "--out", str(out)) == 0
    ws = openpyxl.load_workbook(out)["Audit"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("Event", "When", "Account", "Action", "Client") and len(rows) == 2
    assert rows[1][2:5] == (ADMIN, "erase", "HT-000005")
    detail = ws.cell(2, 8)
    assert detail.data_type == "s" and detail.value == f"Erased (HT-000005): {hostile}"   # text, never a formula
    assert htdesk(path, "audit", "--since", "yesterday") == 2
    assert htdesk(path, "audit", "--account", ADMIN, "--action", "export") == 0
    assert "audit events exported to" in capsys.readouterr().out


def test_check_names_the_first_changed_audit_row(db, capsys):
    path, _ = db
    raw = raw_connect(path)
    target = raw.execute("SELECT MIN(id) FROM audit WHERE action = 'create' AND entity = 'client'").fetchone()[0]
    raw.execute("DROP TRIGGER audit_only_redaction")
    raw.execute("UPDATE audit SET at = '2020-01-01T00:00:00' WHERE id = ?", (target,))
    raw.commit()
    raw.close()
    assert htdesk(path, "check") != 0
    out = capsys.readouterr()
    assert f"audit row {target} is the first that does not verify" in out.out + out.err
