"""htdesk diary (CLI.md v2): the list, the week as a PDF, and an iCalendar file with no client names, read
back with the standard library."""
from __future__ import annotations

from db.connection import copy_database
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from db.store import CaseStore
from desktop.cli import main

PASSWORD = "correct horse battery staple"
TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday()) + timedelta(days=7)      # next week: all still to come


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("diary-cli") / "svc.sqlite3"
    with CaseStore.create_new(path, service_name="Tyneside Health Trainers", service_code="TYNEHT",
                              contact={"phone": "0191 496 0123"},
                              admin_username="admin", admin_password=PASSWORD) as store:
        store.sign_in("admin", PASSWORD)
        amy = store.service.add_staff("Aisha Rahman", "TRAINER", username="trainer1", password=PASSWORD)
        ben = store.service.add_staff("Ben Moore", "TRAINER", username="trainer2", password=PASSWORD)
        store.service.add_staff("Colin Baxter", "COORD", username="coord", password=PASSWORD)
        store.service.add_venue("CC1", "Byker Community Centre", "COMMUNITY")
        venue = store.service.venues()[0].id
        store.sign_in("coord", PASSWORD)
        refs = []
        for first, last, staff in (("Nguyễn Thị", "O'Neill-Zoë", amy), ("Siobhán", "Smith", amy),
                                   ("Peter", "Jones", amy), ("Bob", "Other", ben)):
            cid = store.clients.add({"first_name": first, "last_name": last, "date_of_birth": "1968-04-02",
                                     "gender": "2", "ethnicity": "A"}).ids[0]
            rid = store.referrals.add(cid, {"received_date": (TODAY - timedelta(days=30)).isoformat(),
                                            "source": "SELF", "reasons": ["ACTIVITY"]}).ids[0]
            store.referrals.allocate(rid, staff)
            refs.append(rid)
        book = lambda rid, day, start, staff, **more: store.diary.book(   # noqa: E731
            rid, {"session_date": day.isoformat(), "start_time": start, "duration_minutes": 60, "mode": "PHONE",
                  "staff_id": staff, **more})
        book(refs[0], MONDAY, "10:00", amy)
        book(refs[1], MONDAY + timedelta(days=2), "14:30", amy, mode="F2F", venue_id=venue)
        store.diary.book_group([refs[0], refs[2]], {"session_date": (MONDAY + timedelta(days=3)).isoformat(),
                                                    "start_time": "13:00", "duration_minutes": 90,
                                                    "venue_id": venue, "staff_id": amy}, title="Walking group")
        book(refs[3], MONDAY, "10:00", ben)
    return path


@pytest.fixture
def db(tmp_path, template, monkeypatch):
    path = tmp_path / "svc.sqlite3"
    copy_database(template, path)
    monkeypatch.setenv("HTDESK_PASSWORD", PASSWORD)
    return path


def test_the_list_is_the_signed_in_trainers_sessions_one_a_line(db, capsys):
    assert main(["diary", "--db", str(db), "--user", "trainer1", "--from", MONDAY.isoformat()]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    day = lambda d: f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[d.weekday()]} {d:%d/%m/%Y}"  # noqa: E731
    assert lines[0] == f"Diary of Aisha Rahman: {day(MONDAY)}, 7 days"
    assert lines[1] == f"{day(MONDAY)} 10:00-11:00  HT-000001  Nguyễn Thị O'Neill-Zoë  Telephone  session 1  booked"
    assert lines[2].startswith(f"{day(MONDAY + timedelta(days=2))} 14:30-15:30  HT-000002  Siobhán Smith  "
                               "Byker Community Centre")
    assert len(lines) == 5 and all("Walking group" in line for line in lines[3:])
    assert not any("Bob" in line for line in lines)


def test_a_coordinator_lists_a_named_trainer_and_a_trainer_may_not(db, capsys):
    assert main(["diary", "--db", str(db), "--user", "coord", "--trainer", "trainer2",
                 "--from", MONDAY.isoformat(), "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "Bob Other" in out and "Nguyễn" not in out
    assert main(["diary", "--db", str(db), "--user", "trainer1", "--trainer", "trainer2"]) == 3
    assert "may not see or book other people's diaries" in capsys.readouterr().err


@pytest.mark.parametrize("args,words", [(["--days", "0"], "--days '0'"), (["--from", "31/02/2026"], 'From "31/02/2026" is not a real date'),
                                        (["--out", "week.docx"], "ending in .pdf or .ics")])
def test_bad_arguments_are_refused_with_the_reason(db, capsys, tmp_path, args, words):
    if "--out" in args:
        args = ["--out", str(tmp_path / args[1])]
    assert main(["diary", "--db", str(db), "--user", "trainer1", *args]) == 2
    assert words in capsys.readouterr().err


def test_the_week_prints_as_a_pdf_with_names_as_written(db, tmp_path, capsys):
    out = tmp_path / "week.pdf"
    assert main(["diary", "--db", str(db), "--user", "trainer1", "--from", MONDAY.isoformat(),
                 "--out", str(out)]) == 0
    assert "4 sessions of Aisha Rahman" in capsys.readouterr().out
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Diary" in text and "Aisha Rahman" in text
    assert "O'Neill-Zoë" in text and "Siobhán Smith" in text and "Walking group (2)" in text
    assert "Bob" not in text


def test_the_calendar_file_reads_back_with_the_standard_library_and_carries_no_names(db, tmp_path):
    out = tmp_path / "week.ics"
    assert main(["diary", "--db", str(db), "--user", "trainer1", "--from", MONDAY.isoformat(),
                 "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    text = raw.decode("utf-8")
    # Unfold (RFC 5545 3.1) and read the events with nothing but the standard library.
    lines = text.replace("\r\n ", "").split("\r\n")
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            key, value = line.split(":", 1)
            current[key] = value
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    got = [(e["SUMMARY"], datetime.strptime(e["DTSTART"], "%Y%m%dT%H%M%S"),
            datetime.strptime(e["DTEND"], "%Y%m%dT%H%M%S"), e["LOCATION"]) for e in events]
    monday = datetime.combine(MONDAY, datetime.min.time())
    assert got == [
        ("NO HT-000001", monday.replace(hour=10), monday.replace(hour=11), "Telephone"),
        ("SS HT-000002", monday.replace(hour=14, minute=30) + timedelta(days=2),
         monday.replace(hour=15, minute=30) + timedelta(days=2), "Byker Community Centre"),
        ("Walking group (group)", monday.replace(hour=13) + timedelta(days=3),
         monday.replace(hour=14, minute=30) + timedelta(days=3), "Byker Community Centre")]
    assert len({e["UID"] for e in events}) == 3
    for name in ("Nguyễn", "O'Neill", "Zoë", "Siobhán", "Smith", "Peter", "Jones"):
        assert name not in text
