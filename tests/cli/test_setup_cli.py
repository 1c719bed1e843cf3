"""htdesk init, demo, check, user, backup and restore as a user runs them, in a real process."""
import os
import subprocess
import sys

import pytest

from desktop.cli import main
from rawdb import raw_connect


def run(*args, password="cobalt-lantern-18", env_extra=None, cwd=None):
    env = {**os.environ, "HTDESK_PASSWORD": password, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=cwd)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HTDESK_PASSWORD", "cobalt-lantern-18")
    return tmp_path


def test_init_then_check_in_a_real_process(tmp_path):
    db = tmp_path / "svc.sqlite3"
    r = run("init", "--db", str(db), "--service-name", "Gateshead Health Trainers", "--service-code", "gates",
            "--admin", "boss")
    assert r.returncode == 0, r.stderr
    assert "Created" in r.stdout and "GATES" in r.stdout
    r = run("check", "--db", str(db))
    assert r.returncode == 3 and "--user" in r.stderr          # the checks read people's records: sign in
    r = run("check", "--db", str(db), "--user", "boss")
    assert r.returncode == 0 and "All 9 checks passed" in r.stdout
    r = run("--db", str(db), "--user", "boss", "check")          # the options before the command's name
    assert r.returncode == 0 and "All 9 checks passed" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr
    r = run("init", "--db", str(db), "--service-name", "Again", "--service-code", "X", "--admin", "boss")
    assert r.returncode == 2 and "already exists" in r.stderr


def test_wrong_db_paths_give_clear_messages_and_exit_codes(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("shopping list\n" * 100)
    foreign = tmp_path / "other.sqlite3"
    conn = raw_connect(foreign)
    conn.execute("CREATE TABLE songs (id, title)")
    conn.commit()
    conn.close()
    cases = [(str(text), 4, "not a database of Health Trainer Desk"),
             (str(foreign), 4, "another program"),
             (str(tmp_path / "missing" / "x.sqlite3"), 2, "does not exist"),
             (str(tmp_path / "absent.sqlite3"), 2, "htdesk init")]
    for path, code, words in cases:
        r = run("check", "--db", path)
        assert r.returncode == code, (path, r.stdout, r.stderr)
        assert words in r.stderr and "Traceback" not in r.stderr + r.stdout


def test_bad_arguments_exit_2(isolated):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--clients", "lots", "--db", str(isolated / "d.sqlite3")])
    assert exc.value.code == 2


def test_demo_is_the_same_for_the_same_seed_and_refuses_real_databases(isolated, capsys):
    from datetime import date
    from db.demo import create_demo
    a, b = isolated / "a.sqlite3", isolated / "b.sqlite3"
    day = date(2026, 11, 1)
    create_demo(a, clients=40, seed=7, today=day)
    create_demo(b, clients=40, seed=7, today=day)
    dump = lambda p: [r for r in raw_connect(p).execute(
        "SELECT c.first_name, c.last_name, c.postcode, r.received_date, r.status, "
        "(SELECT GROUP_CONCAT(session_date || attendance) FROM sessions s WHERE s.referral_id = r.id), "
        "(SELECT GROUP_CONCAT(scores) FROM assessments x WHERE x.referral_id = r.id) "
        "FROM referrals r JOIN clients c ON c.id = r.client_id ORDER BY r.id")]
    assert dump(a) == dump(b) and len(dump(a)) >= 40
    assert main(["init", "--db", str(isolated / "real.sqlite3"), "--service-name", "Real", "--service-code", "R",
                 "--admin", "boss"]) == 0
    assert main(["demo", "--db", str(isolated / "real.sqlite3"), "--clients", "5"]) == 2
    assert "not a demo database" in capsys.readouterr().err
    assert main(["demo", "--db", str(a), "--clients", "5"]) == 0       # a demo may be remade


def test_demo_makes_a_believable_service(isolated):
    from datetime import date
    from db.demo import create_demo
    from db.store import CaseStore
    from db import maintenance
    path = isolated / "demo.sqlite3"
    create_demo(path, clients=400, seed=3, today=date(2026, 11, 1))
    store = CaseStore.open(path)
    assert store.is_demo
    q = lambda sql: store.db.conn.execute(sql).fetchone()[0]
    store.sign_in("trainer1", "demo")
    assert all(r.ok for r in maintenance.check(store.db))
    store.sign_in("champion1", "demo")
    store.sign_in("coordinator", "demo")
    actor = store.sign_in("manager", "demo")
    assert actor.has("MANAGER")
    dna = q("SELECT 100.0 * SUM(attendance = '3') / SUM(attendance IN ('5','6','7','3')) FROM sessions")
    assert 10 <= dna <= 20
    deprived = q("SELECT 100.0 * SUM(imd_quintile <= 2) / COUNT(imd_quintile) FROM clients")
    assert 55 <= deprived <= 78
    assert q("SELECT COUNT(DISTINCT type) FROM venues") == 11
    assert q("SELECT COUNT(DISTINCT status) FROM goals") == 6
    assert q("SELECT COUNT(DISTINCT timepoint) FROM assessments") >= 4
    assert q("SELECT COUNT(*) FROM referral_reasons WHERE area IN ('SOCIAL','MONEY','HOUSING','WORK','CARING')") > 0
    assert q("SELECT COUNT(*) FROM clients WHERE first_name || last_name GLOB '*[^ -~]*'") > 0   # accents
    assert q("SELECT COUNT(*) FROM clients WHERE last_name LIKE '%''%'") > 0                      # apostrophes
    assert q("SELECT COUNT(*) FROM signposting") > 0
    assert q("SELECT COUNT(*) FROM accounts") >= 8
    # Scores were computed by the instruments, as a recorded assessment would be.
    from db import instruments
    import json
    row = store.db.conn.execute("SELECT answers, scores FROM assessments WHERE instrument='SWEMWBS' AND is_result=1 LIMIT 1").fetchone()
    assert json.loads(row[1])["swemwbs_metric"] == instruments.score("SWEMWBS", json.loads(row[0])).scores["swemwbs_metric"]
    store.close()


def test_user_commands_backup_and_restore(isolated, capsys):
    db = str(isolated / "s.sqlite3")
    assert main(["init", "--db", db, "--service-name", "S", "--service-code", "S", "--admin", "boss"]) == 0
    os.environ["HTDESK_NEW_PASSWORD"] = "willow-harbour-33"
    try:
        assert main(["user", "add", "amy", "--db", db, "--user", "boss", "--roles", "TRAINER", "--full-name", "Amy T"]) == 0
    finally:
        del os.environ["HTDESK_NEW_PASSWORD"]
    os.environ["HTDESK_PASSWORD"] = "willow-harbour-33"
    assert main(["user", "lock", "boss", "--db", db, "--user", "amy"]) == 3          # trainers cannot
    os.environ["HTDESK_PASSWORD"] = "wrong"
    assert main(["backup", "--db", db, "--user", "boss"]) == 3                        # wrong password
    os.environ["HTDESK_PASSWORD"] = "cobalt-lantern-18"
    out = isolated / "b.sqlite3"
    assert main(["backup", "--db", db, "--user", "boss", "--out", str(out)]) == 0
    assert "verified" in capsys.readouterr().out
    assert main(["user", "lock", "amy", "--db", db, "--user", "boss"]) == 0
    assert main(["restore", str(out), "--db", db, "--user", "boss"]) == 0
    locked = raw_connect(db).execute("SELECT locked FROM accounts WHERE username='amy'").fetchone()[0]
    assert locked == 0      # back as it was at the backup
    assert list((isolated / "backups").glob("s-before-restore-*.sqlite3"))
    text = isolated / "t.txt"
    text.write_text("x")
    assert main(["restore", str(text), "--db", db, "--user", "boss"]) == 4
    assert main(["check", "--db", db, "--user", "boss"]) == 0
    restored_by = raw_connect(db).execute(
        "SELECT username FROM audit WHERE action = 'restore' ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert restored_by == "boss"


def test_without_db_the_per_user_data_folder_is_used_and_made(isolated, monkeypatch, capsys):
    monkeypatch.delenv("HTDESK_DB", raising=False)
    assert main(["demo", "--clients", "5"]) == 0
    assert (isolated / "data" / "htdesk.sqlite3").exists()
    monkeypatch.setenv("HTDESK_PASSWORD", "demo")
    assert main(["check", "--user", "admin"]) == 0
    monkeypatch.setenv("HTDESK_DB", str(isolated / "elsewhere" / "x.sqlite3"))
    assert main(["check", "--user", "admin"]) == 2          # a folder someone named is not made behind their back
    assert "does not exist" in capsys.readouterr().err


def test_the_daily_backup_works_on_a_fresh_install_without_out(isolated, capsys):
    db = str(isolated / "fresh.sqlite3")
    assert main(["init", "--db", db, "--service-name", "S", "--service-code", "S", "--admin", "boss"]) == 0
    assert not (isolated / "backups").exists()
    assert main(["backup", "--db", db, "--user", "boss"]) == 0
    kept = list((isolated / "backups").glob("fresh-*.sqlite3"))
    assert len(kept) == 1
    assert raw_connect(kept[0]).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_version_is_printed_without_touching_a_database(tmp_path):
    import tomllib
    from pathlib import Path
    expected = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["version"]
    db = tmp_path / "never" / "made.sqlite3"
    r = run("--version", env_extra={"HTDESK_DB": str(db), "HTDESK_DATA_DIR": str(tmp_path / "data")})
    assert r.returncode == 0 and r.stdout.strip() == f"htdesk {expected}", r.stdout + r.stderr
    assert not db.parent.exists()


def test_secure_on_a_file_says_it_is_a_servers_and_changes_nothing(isolated, capsys):
    db = isolated / "svc.sqlite3"
    assert main(["init", "--db", str(db), "--service-name", "Gateshead Health Trainers", "--service-code", "GATES",
                 "--admin", "boss"]) == 0
    capsys.readouterr()
    assert main(["secure", "--db", str(db), "--user", "boss"]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL server" in err and "Traceback" not in err
    from db.store import CaseStore
    with CaseStore.open(db) as store:
        store.sign_in("boss", "cobalt-lantern-18")
        assert not [e for e in store.admin.audit_events("database") if "secured" in (e["detail"] or "")]
