"""Workbook v2 (issue 15): the optional sheets and columns are read, checked like the forms check
them, and written; DATA.md's rule on future attendance still holds for ordinary rows, while a
booking cancelled in advance comes back with the diary's own record of it."""
import hashlib

from test_import import BASE, TODAY, book, changed, reasons, run, store  # noqa: F401  (store is a fixture)

FUTURE = "2026-12-01"     # after TODAY


def _with(data, **sheets):
    out = {k: [dict(r) for r in v] for k, v in data.items()}
    for name, rows in sheets.items():
        out[name.replace("_", " ")] = rows
    return out


def test_the_optional_sheets_and_columns_are_written(store, tmp_path):
    data = changed(BASE, "Clients", 0, contact_text="Y", may_leave_message="N", gp_practice_name="Elm Street Surgery",
                   consent_version="v2", asian_thresholds="Y")
    data = changed(data, "Staff", 0, other_roles="COORD;Manager")
    data = changed(data, "Venues", 0, open_days="Mon;wednesday;5", active="Y")
    data = changed(data, "Signposting", 0, directory_name="citizens advice", follow_up_date="2026-03-20",
                   outcome_date="2026-03-01")
    data = _with(data,
                 Directory=[{"name": "Citizens Advice", "category": "DEBT", "phone": "0808 000 0000"}],
                 Plans=[{"referral_ref": "RF-000201", "plan_agreed_date": "2026-01-20",
                         "what_matters_to_me": "Playing with my grandchildren", "contacts": "Citizens Advice"},
                        {"referral_ref": "RF-000202", "plan_agreed_date": "2026-03-10",
                         "what_matters_to_me": "Sleeping through the night"}],
                 Contact_attempts=[{"referral_ref": "RF-000203", "date": "2026-10-02", "method": "PHONE",
                                    "outcome": "NOANSWER", "note": "Rang at lunchtime"}])
    report = run(store, book(tmp_path / "v2.xlsx", data))
    assert report.committed, report.text()
    conn = store.db.conn
    assert conn.execute("SELECT contact_text, may_leave_message, gp_practice_name, consent_version, asian_thresholds "
                        "FROM clients WHERE client_ref = 'HT-000101'").fetchone() == (1, 0, "Elm Street Surgery", "v2", 1)
    assert [r[0] for r in conn.execute("SELECT r.role FROM account_roles r JOIN accounts a ON a.id = r.account_id "
                                       "WHERE a.username = 'jdoe' ORDER BY r.role")] == ["COORD", "MANAGER", "TRAINER"]
    assert conn.execute("SELECT open_days FROM venues WHERE code = 'CC1'").fetchone()[0] == "135"
    # The goals' plan took what matters from the Plans sheet; a plan with no goals was made too.
    assert conn.execute("SELECT p.what_matters, COUNT(g.id) FROM plans p LEFT JOIN goals g ON g.plan_id = p.id "
                        "JOIN referrals r ON r.id = p.referral_id WHERE r.referral_ref IN ('RF-000201', 'RF-000202') "
                        "GROUP BY p.id, r.referral_ref ORDER BY r.referral_ref").fetchall() == [
        ("Playing with my grandchildren", 2), ("Sleeping through the night", 0)]
    assert conn.execute("SELECT d.name FROM plan_contacts pc JOIN directory d ON d.id = pc.directory_id").fetchall() \
        == [("Citizens Advice",)]
    assert conn.execute("SELECT COUNT(*) FROM plan_versions").fetchone()[0] == 2
    assert conn.execute("SELECT s.outcome_date, s.follow_up_date, d.name FROM signposting s JOIN directory d "
                        "ON d.id = s.directory_id").fetchone() == ("2026-03-01", "2026-03-20", "Citizens Advice")
    # Tries and no trainer: being contacted, as the app shows it.
    assert conn.execute("SELECT status FROM referrals WHERE referral_ref = 'RF-000203'").fetchone()[0] == "CONTACTING"
    # The same workbook again changes nothing.
    again = run(store, book(tmp_path / "v2.xlsx", data))
    assert again.ok and not again.committed and not again.conflicts, again.text()


def test_bad_values_in_the_new_sheets_and_columns_are_refused_by_row_and_column(store, tmp_path):
    data = changed(BASE, "Clients", 0, may_leave_message="Maybe")
    data = changed(data, "Venues", 0, open_days="Mon;Funday")
    data = _with(data,
                 Plans=[{"referral_ref": "RF-000201", "plan_agreed_date": "2026-01-20", "contacts": "Nobody Ltd"}],
                 Contact_attempts=[{"referral_ref": "RF-000203", "date": "2026-11-20", "method": "Pigeon",
                                    "outcome": "NOANSWER"}])
    report = run(store, book(tmp_path / "bad.xlsx", data))
    assert not report.committed
    lines = reasons(report)
    for expected in ("Clients|2|may_leave_message|Maybe|may_leave_message: Y or N.",
                     "Venues|2|open_days|Mon;Funday|Open days: 'Funday' is not a day",
                     "Plans|2|contacts|Nobody Ltd|No directory entry is called Nobody Ltd",
                     "Contact attempts|2|date|2026-11-20|", "Contact attempts|2|method|Pigeon|Method: choose"):
        assert any(line.startswith(expected) for line in lines), (expected, lines)


def test_a_future_cancellation_needs_the_diarys_record_and_comes_back_with_it(store, tmp_path):
    future = {"referral_ref": "RF-000202", "date": FUTURE, "start_time": "14:00", "trainer": "jdoe", "mode": "F2F",
              "attendance": "2"}
    data = changed(BASE, "Sessions", 3, **future)
    # Without the diary's record, DATA.md's rule refuses it, as before.
    refused = run(store, book(tmp_path / "plain.xlsx", data))
    assert any("Sessions|5|attendance|2|Attendance can only be recorded for sessions up to today" in line
               for line in reasons(refused)), reasons(refused)
    history = [{"referral_ref": "RF-000202", "date": FUTURE, "start_time": "14:00", "trainer": "jdoe",
                "action": "cancelled", "from_date": FUTURE, "from_time": "14:00", "attendance": "2",
                "reason": "Hospital appointment", "at": "2026-10-20T10:15:00", "by": "jdoe"},
               {"referral_ref": "RF-000202", "date": FUTURE, "start_time": "14:00", "trainer": "jdoe",
                "action": "moved", "from_date": "2026-11-24", "from_time": "10:00", "to_date": FUTURE,
                "to_time": "14:00", "reason": "Trainer on leave", "at": "2026-10-10T09:00:00", "by": "kbell"}]
    report = run(store, book(tmp_path / "with-history.xlsx", _with(data, Session_history=history)))
    assert report.committed, report.text()
    conn = store.db.conn
    session_id, attendance = conn.execute("SELECT id, attendance FROM sessions WHERE session_date = ?",
                                          (FUTURE,)).fetchone()
    assert attendance == "2"
    assert conn.execute("SELECT action, attendance, reason, at, by FROM session_history WHERE session_id = ? "
                        "ORDER BY at", (session_id,)).fetchall() == [
        ("moved", None, "Trainer on leave", "2026-10-10T09:00:00", "kbell"),
        ("cancelled", "2", "Hospital appointment", "2026-10-20T10:15:00", "jdoe")]
    # A history row whose cancellation code does not match the session's does not excuse it.
    wrong = [dict(history[0], attendance="4")]
    report = run(store, book(tmp_path / "wrong.xlsx", _with(changed(data, "Sessions", 3, date="2026-12-02"),
                                                           Session_history=[dict(wrong[0], date="2026-12-02")])))
    assert any("Attendance can only be recorded for sessions up to today" in line for line in reasons(report))


def test_kept_documents_come_back_byte_for_byte_and_a_changed_file_is_refused(store, tmp_path):
    path = tmp_path / "docs.xlsx"
    folder = tmp_path / "docs-documents"
    folder.mkdir()
    content = b"%PDF-1.4\n% kept plan\n" + bytes(range(256))
    (folder / "HT-000101-2026-01-20-plan.pdf").write_bytes(content)
    row = {"client_ref": "HT-000101", "referral_ref": "RF-000201", "kind": "plan",
           "file": "HT-000101-2026-01-20-plan.pdf", "file_name": "plan-HT-000101.pdf", "template_version": "1",
           "sha256": hashlib.sha256(content).hexdigest(), "created_at": "2026-01-20T11:00:00", "created_by": "jdoe"}
    data = _with(BASE, Documents=[row])
    # A changed file, and a name with no file, are refused.
    (folder / "HT-000101-2026-01-20-plan.pdf").write_bytes(content + b"edited")
    refused = run(store, book(path, _with(BASE, Documents=[row, dict(row, file="missing.pdf")])))
    lines = reasons(refused)
    assert any(line.startswith("Documents|2|sha256|") and "is not the document kept" in line for line in lines), lines
    assert any(line.startswith("Documents|3|file|missing.pdf|There is no file missing.pdf in the folder "
                               "docs-documents") for line in lines), lines
    (folder / "HT-000101-2026-01-20-plan.pdf").write_bytes(content)
    report = run(store, book(path, data))
    assert report.committed, report.text()
    kept = store.db.conn.execute("SELECT content, file_name, kind, created_at FROM documents").fetchall()
    assert kept == [(content, "plan-HT-000101.pdf", "plan", "2026-01-20T11:00:00")]
    again = run(store, book(path, data))
    assert again.ok and again.counts["Documents"].unchanged == 1 and not again.committed
