"""Issue 14 on the command line: init with contact details, htdesk service, the last administrator,
one-time passwords, ended accounts, weak passwords, and restoring another service's backup."""
from __future__ import annotations

import pytest

from desktop.cli import main

PW = "amber-kettle-42"


def cli(capsys, monkeypatch, *args, password=PW, new_password=None):
    monkeypatch.setenv("HTDESK_PASSWORD", password)
    if new_password is not None:
        monkeypatch.setenv("HTDESK_NEW_PASSWORD", new_password)
    else:
        monkeypatch.delenv("HTDESK_NEW_PASSWORD", raising=False)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _init(capsys, monkeypatch, db, code="TYNE", *extra):
    return cli(capsys, monkeypatch, "init", "--db", str(db), "--service-name", f"{code.title()} Health Trainers",
               "--service-code", code, "--admin", "boss", "--admin-name", "Bo Boss", *extra)


def test_init_takes_contact_details_and_service_show_and_set_change_them(tmp_path, capsys, monkeypatch):
    db = tmp_path / "svc.sqlite3"
    code, out, err = _init(capsys, monkeypatch, db, "TYNE", "--address", "1 Quay, Newcastle NE1 1AA",
                           "--phone", "0191 000 1234", "--email", "ht@example.org")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "service", "show", "--db", str(db), "--user", "boss")
    assert code == 0, err
    assert "0191 000 1234" in out and "ht@example.org" in out and "1 Quay" in out and "idle_lock_minutes = 10" in out
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    code, out, err = cli(capsys, monkeypatch, "service", "set", "--db", str(db), "--user", "boss", "--phone",
                         "0191 999 0000", "--website", "example.org/ht", "--signer-name", "Pat Lead",
                         "--signer-role", "Service lead", "--logo", str(logo), "--setting", "retention.years=7")
    assert code == 0, err
    assert "0191 999 0000" in out and "letters.signer_name = Pat Lead" in out and "retention.years = 7" in out
    assert "Logo:     yes" in out
    code, out, err = cli(capsys, monkeypatch, "service", "set", "--db", str(db), "--user", "boss", "--setting",
                         "idle_lock_minutes=0")
    assert code == 2 and "from 1 to 120" in err


def test_init_without_contact_details_warns_and_a_weak_password_is_refused(tmp_path, capsys, monkeypatch):
    code, out, err = _init(capsys, monkeypatch, tmp_path / "a.sqlite3")
    assert code == 0 and "no phone, email or address" in err
    code, out, err = cli(capsys, monkeypatch, "init", "--db", str(tmp_path / "b.sqlite3"), "--service-name", "X",
                         "--service-code", "X", "--admin", "boss", password="1234")
    assert code == 2 and "at least 10" in err and not (tmp_path / "b.sqlite3").exists()


def test_the_last_administrator_cannot_be_locked_ended_or_demoted_from_the_command_line(tmp_path, capsys, monkeypatch):
    db = tmp_path / "svc.sqlite3"
    _init(capsys, monkeypatch, db, "TYNE", "--phone", "0191 000 1234")
    for action in (("lock", "boss"), ("end", "boss"), ("roles", "boss", "--roles", "MANAGER")):
        code, out, err = cli(capsys, monkeypatch, "user", *action, "--db", str(db), "--user", "boss")
        assert code == 2 and "only active administrator" in err, (action, err)
    code, out, err = cli(capsys, monkeypatch, "check", "--db", str(db), "--user", "boss")
    assert code == 0, err


def test_reset_gives_a_one_time_password_that_must_be_changed_and_an_ended_account_cannot_sign_in(
        tmp_path, capsys, monkeypatch):
    db = tmp_path / "svc.sqlite3"
    _init(capsys, monkeypatch, db, "TYNE", "--phone", "0191 000 1234")
    code, out, err = cli(capsys, monkeypatch, "user", "add", "amy", "--roles", "TRAINER", "--full-name", "Amy T",
                         "--db", str(db), "--user", "boss", new_password="demo")
    assert code == 2 and "at least 10" in err
    code, out, err = cli(capsys, monkeypatch, "user", "add", "amy", "--roles", "TRAINER", "--full-name", "Amy T",
                         "--db", str(db), "--user", "boss", new_password="plum tractor singing")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "user", "reset", "amy", "--db", str(db), "--user", "boss")
    assert code == 0, err
    one_time = out.split("One-time password for amy: ")[1].split()[0]
    code, out, err = cli(capsys, monkeypatch, "diary", "--db", str(db), "--user", "amy", password=one_time)
    assert code != 0 and "one-time password" in err
    code, out, err = cli(capsys, monkeypatch, "user", "passwd", "amy", "--db", str(db), "--user", "amy",
                         password=one_time, new_password="velvet cabbage orbit")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "diary", "--db", str(db), "--user", "amy",
                         password="velvet cabbage orbit")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "user", "end", "amy", "--db", str(db), "--user", "boss")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "diary", "--db", str(db), "--user", "amy",
                         password="velvet cabbage orbit")
    assert code == 3 and "has ended" in err


def test_restore_of_another_services_backup_needs_its_code(tmp_path, capsys, monkeypatch):
    gates, tyne = tmp_path / "g" / "gates.sqlite3", tmp_path / "t" / "tyne.sqlite3"
    gates.parent.mkdir()
    tyne.parent.mkdir()
    _init(capsys, monkeypatch, gates, "GATES", "--phone", "0191 000 1234")
    _init(capsys, monkeypatch, tyne, "TYNE", "--phone", "0191 000 1234")
    code, out, err = cli(capsys, monkeypatch, "backup", "--db", str(gates), "--user", "boss")
    assert code == 0, err
    backup = out.split("verified: ")[1].strip()
    code, out, err = cli(capsys, monkeypatch, "restore", backup, "--db", str(tyne), "--user", "boss")
    assert code == 2 and "another service" in err and "Gates Health Trainers (GATES)" in out
    code, out, err = cli(capsys, monkeypatch, "service", "show", "--db", str(tyne), "--user", "boss")
    assert "(TYNE)" in out
    code, out, err = cli(capsys, monkeypatch, "restore", backup, "--db", str(tyne), "--user", "boss",
                         "--confirm-code", "GATES")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "service", "show", "--db", str(tyne), "--user", "boss")
    assert "(GATES)" in out


@pytest.mark.parametrize("role", ["Admin", "ADMIN"])
def test_the_import_staff_sheet_cannot_make_an_administrator(tmp_path, capsys, monkeypatch, role):
    from openpyxl import load_workbook
    db = tmp_path / "svc.sqlite3"
    _init(capsys, monkeypatch, db, "TYNE", "--phone", "0191 000 1234")
    book = tmp_path / "in.xlsx"
    code, out, err = cli(capsys, monkeypatch, "template", str(book))
    assert code == 0, err
    wb = load_workbook(book)
    ws = wb["Staff"]
    headers = [c.value for c in ws[1]]
    row = {"username": "sneaky", "full_name": "Sam Sneaky", "role": role}
    ws.append([row.get(h) for h in headers])
    wb.save(book)
    code, out, err = cli(capsys, monkeypatch, "import", str(book), "--db", str(db), "--user", "boss")
    assert code == 0 and "does not make sneaky an administrator" in (out + err), out + err
    from db.store import CaseStore
    with CaseStore.open(db) as s:
        s.sign_in("boss", PW)
        account = s.db.conn.execute("SELECT id, locked FROM accounts WHERE username = 'sneaky'").fetchone()
        assert account[1] == 1
        assert s.db.conn.execute("SELECT COUNT(*) FROM account_roles WHERE account_id = ?", (account[0],)
                                 ).fetchone()[0] == 0
        assert s.db.conn.execute("SELECT role FROM staff WHERE full_name = 'Sam Sneaky'").fetchone()[0] == "ADMIN"
