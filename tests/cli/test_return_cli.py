"""htdesk return (CLI.md), run in-process: exit codes, output, explain, submit and late changes."""
from __future__ import annotations

from db.connection import copy_database

import pytest
from openpyxl import load_workbook

from desktop.cli import main
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, TRAINER, TRAINER_PASSWORD, Scenario


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    Scenario(folder / "service.sqlite3").store.close()
    return folder / "service.sqlite3"


@pytest.fixture
def db(built, tmp_path, monkeypatch):
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))     # the log file goes here
    monkeypatch.setenv("HTDESK_PASSWORD", ADMIN_PASSWORD)
    return path


def run(db, *args, user=ADMIN):
    return main(["return", *args, "--db", str(db), "--user", user])


def test_build_writes_the_workbook_and_a_summary(db, tmp_path, capsys):
    out = tmp_path / "q2.xlsx"
    assert run(db, PERIOD, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out}" in printed
    assert "TEST 2026-27 Q2: 4 referrals received, 3 starts, 4 sessions attended, 4 closed" in printed
    assert load_workbook(out).sheetnames[0] == "Cover"


def test_period_spelt_with_a_space_and_policy(db, tmp_path, capsys):
    assert run(db, "2026-27 Q2", "--out", str(tmp_path / "pub.xlsx"), "--sdc", "nhs-england") == 0
    assert "disclosure nhs-england" in capsys.readouterr().out


def test_explain_prints_one_reference_a_line(db, capsys):
    assert run(db, PERIOD, "--explain", "STARTS_BY", "imd_quintile=unknown") == 0
    lines = capsys.readouterr().out.split()
    assert lines == ["RF-000002", "RF-000003"]
    assert run(db, PERIOD, "--explain", "STARTS") == 0
    assert len(capsys.readouterr().out.split()) == 3


def test_submit_then_rebuild_lists_late_changes(db, tmp_path, capsys):
    out = tmp_path / "q2.xlsx"
    assert run(db, PERIOD, "--out", str(out)) == 0
    assert run(db, PERIOD, "--submit", str(out)) == 0
    assert "as the submitted return for 2026-27 Q2" in capsys.readouterr().out
    assert run(db, PERIOD, "--out", str(tmp_path / "same.xlsx")) == 0
    assert "No figure has changed since the return submitted" in capsys.readouterr().out

    from db.store import CaseStore
    with CaseStore.open(db) as store:      # a late entry
        store.sign_in(ADMIN, ADMIN_PASSWORD)
        store.diary.add(6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2})
    assert run(db, PERIOD, "--out", str(tmp_path / "late.xlsx")) == 0
    printed = capsys.readouterr().out
    assert "figure(s) changed since the return submitted" in printed
    assert "  STARTS all: 3 -> 4" in printed


def test_bad_period_is_exit_2(db, tmp_path, capsys):
    assert run(db, "2026-Q2", "--out", str(tmp_path / "x.xlsx")) == 2
    assert "2026-27-Q2" in capsys.readouterr().err


def test_bad_input_is_exit_2(db, tmp_path, capsys):
    assert run(db, PERIOD, "--out", str(tmp_path / "x.csv")) == 2
    assert run(db, PERIOD, "--out", str(tmp_path / "no-such-folder" / "x.xlsx")) == 2
    assert run(db, PERIOD, "--explain", "NOPE") == 2
    assert run(db, PERIOD, "--explain", "STARTS", "all", "extra") == 2
    capsys.readouterr()
    # Unknown measure, breakdown or code: exit 2, nothing on stdout, the allowed names on stderr.
    assert run(db, PERIOD, "--explain", "NOPE") == 2
    printed = capsys.readouterr()
    assert printed.out == "" and "REFERRALS_RECEIVED" in printed.err and "DQ_PAIRED_WELLBEING" in printed.err
    assert run(db, PERIOD, "--explain", "STARTS_BY", "colour=blue") == 2
    assert "imd_quintile=CODE" in capsys.readouterr().err
    assert run(db, PERIOD, "--explain", "STARTS_BY", "imd_quintile=9") == 2
    printed = capsys.readouterr()
    assert printed.out == "" and "imd_quintile=1" in printed.err and "imd_quintile=unknown" in printed.err
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"x")
    assert run(db, PERIOD, "--submit", str(other)) == 2
    with pytest.raises(SystemExit) as info:
        run(db, PERIOD, "--out", str(tmp_path / "x.xlsx"), "--sdc", "public")
    assert info.value.code == 2


def test_trainer_is_refused_with_exit_3(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HTDESK_PASSWORD", TRAINER_PASSWORD)
    assert run(db, PERIOD, "--out", str(tmp_path / "x.xlsx"), user=TRAINER) == 3
    assert "may not build returns" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_wrong_password_is_exit_3(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HTDESK_PASSWORD", "wrong")
    assert run(db, PERIOD, "--out", str(tmp_path / "x.xlsx")) == 3
