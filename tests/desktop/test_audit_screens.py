"""The audit viewer and the record's rights actions (issue 14), through real widgets."""
import zipfile

import openpyxl
import pytest
from PySide6.QtCore import Qt

from db.errors import Cancelled
from db.store import CaseStore
from rawdb import raw_connect


@pytest.fixture
def boss_window(qtbot, db_path):
    """An administrator and manager; a coordinator (cal) opened Siobhán's record first."""
    from desktop.main_window import MainWindow, SessionInfo
    with CaseStore.open(db_path) as cal:
        cal.sign_in("cal", "amber-kettle-42")
        cal.clients.record(cal.clients.id_for_ref("HT-000001"))
    store = CaseStore.open(db_path)
    store.sign_in("boss", "cobalt-lantern-17")
    w = MainWindow(store, SessionInfo("Test Health Trainers", False, db_path))
    w.show()
    yield w
    w.confirm_unsaved = False
    w.close()
    w.worker.stop()
    store.close()


def audit_page(window):
    from desktop.admin.audit_page import AuditPage
    page = next(p for p in window.pages if isinstance(p, AuditPage))
    window.go_to(page)
    return page


def shown(page):
    return [page.model.row_at(r) for r in range(page.model.rowCount())]


def test_the_viewer_filters_by_client_account_action_and_date_then_opens_the_client(qtbot, boss_window, tmp_path):
    page = audit_page(boss_window)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    page.client.setText("HT-000001")
    qtbot.waitUntil(lambda: shown(page) and all(r.client_ref == "HT-000001" for r in shown(page)), timeout=3000)
    assert {r.action for r in shown(page)} >= {"create", "view"}
    page.account.setText("cal")
    page.action.setCurrentText("view")
    qtbot.waitUntil(lambda: [(r.username, r.action, r.detail) for r in shown(page)] == [
        ("cal", "view", "client record opened")], timeout=3000)
    page.since.setText("01/01/2999")
    qtbot.waitUntil(lambda: page.status.text() == "No audit events match.", timeout=3000)
    page.since.setText("")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=3000)
    # Export what is shown: a workbook of text, and the export is itself audited.
    out = tmp_path / "audit.xlsx"
    page.export_to(str(out))
    qtbot.waitUntil(lambda: page.status.text().startswith("Wrote 1 events"), timeout=5000)
    rows = list(openpyxl.load_workbook(out)["Audit"].iter_rows(values_only=True))
    assert rows[1][2:5] == ("cal", "view", "HT-000001")
    assert boss_window.store.privacy.audit(action="export", username="boss")[0]["entity"] == "audit"
    # Enter on the event opens the client's record.
    page.view.setFocus()
    page.view.selectRow(0)
    qtbot.keyClick(page.view, Qt.Key_Return)
    record = boss_window.clients.record
    qtbot.waitUntil(lambda: record.client is not None and record.client.client_ref == "HT-000001", timeout=3000)
    assert boss_window.stack.currentWidget() is boss_window.clients


def test_a_trainer_and_a_coordinator_have_no_audit_page_nor_rights_actions(qtbot, window):
    from desktop.admin.audit_page import AuditPage
    assert not any(isinstance(p, AuditPage) for p in window.pages)
    assert not window.sar_action.isVisible() and not window.erase_action.isVisible()


def test_from_the_record_a_subject_access_bundle_then_erasure(qtbot, boss_window, tmp_path):
    w = boss_window
    assert w.sar_action.isVisible() and w.erase_action.isVisible()
    client_id = w.store.clients.id_for_ref("HT-000002")
    w.open_client(client_id)
    qtbot.waitUntil(lambda: w.clients.record.client is not None and w.clients.record.client.id == client_id)
    out = tmp_path / "bundle.zip"
    w.subject_access(str(out))
    qtbot.waitUntil(out.exists, timeout=10000)
    with zipfile.ZipFile(out) as z:
        assert "HT-000002-everything-held.pdf" in z.namelist()
    seen = []
    w.erase_client(dialog_hook=seen.append)
    dialog = seen[0]
    assert not dialog.erase_button.isEnabled()
    dialog.reason.setText("Asked in person on 30 November")
    dialog.confirm.setText("HT-000001")                       # the wrong reference does not confirm
    assert not dialog.erase_button.isEnabled()
    dialog.confirm.setText("ht-000002")
    assert dialog.erase_button.isEnabled()
    qtbot.mouseClick(dialog.erase_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.clients.record.client.last_name == "Person", timeout=5000)
    assert w.clients.record.client.nhs_number is None
    assert w.clients.record.archived_badge.text() == "ERASED" and w.clients.record.archived_badge.isVisible()
    assert w.clients.record.subtitle.text().startswith("HT-000002 \u00b7 born 1975 \u00b7 erased on ")
    form = w.clients.record.form
    assert not form.editable and "erased on request" in form.read_only_note.text()
    assert form.fields.fields["date_of_birth"].widget.text() == "1975"
    erased = w.store.privacy.audit(client_id=client_id, action="erase")
    assert len(erased) == 1 and "Asked in person on 30 November" in erased[0]["detail"]


def test_the_retention_list_is_anonymised_in_one_step(qtbot, boss_window, db_path):
    raw = raw_connect(db_path)
    raw.execute("UPDATE clients SET created_at = '2012-05-01T10:00:00' WHERE client_ref IN ('HT-000003', 'HT-000004')")
    raw.commit()
    page = audit_page(boss_window)
    page.tabs.setCurrentWidget(page.due_tab)
    qtbot.waitUntil(lambda: page.due_model.rowCount() == 2, timeout=3000)
    assert [r.client_ref for r in page.due_model.rows] == ["HT-000003", "HT-000004"]
    assert page.due_note.text().startswith("2 people have had no contact for more than 8 years")
    seen = []
    from desktop.admin import rights
    original = rights.EraseDialog.open
    rights.EraseDialog.open = lambda self: (seen.append(self), original(self))[1]
    try:
        page.erase_due()
    finally:
        rights.EraseDialog.open = original
    dialog = seen[0]
    assert dialog.reason.text() == "Retention period ended"
    dialog.confirm.setText("ERASE")
    qtbot.mouseClick(dialog.erase_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.due_model.rowCount() == 0, timeout=5000)
    assert [c.client_ref for c in boss_window.store.clients.search("Smith")] == []


def test_a_cancelled_export_from_the_app_is_not_audited_as_done(qtbot, boss_window, tmp_path, monkeypatch):
    from desktop.transfer.page import TransferPage
    from reports import transfer_workbook
    page = next(p for p in boss_window.pages if isinstance(p, TransferPage))
    boss_window.go_to(page)

    def cancelled(path, rows, **kw):
        raise Cancelled("Export cancelled: nothing was written.")

    monkeypatch.setattr(transfer_workbook, "write_export", cancelled)
    page.export_to(str(tmp_path / "export.xlsx"))
    qtbot.waitUntil(lambda: "cancelled" in page.export_status.text(), timeout=5000)
    assert boss_window.store.privacy.audit(action="export") == []


def test_opening_a_record_and_visiting_every_tab_is_one_audited_view(qtbot, window, db_path):
    """The coordinator opens a record, a referral is added (the lists read the record again) and every
    section is shown (plan, assessments, signposting, documents each read): one view row."""
    from desktop_helpers import open_by_typing
    record = open_by_typing(qtbot, window, "ali-khan")
    client_id = record.client.id
    window.store.referrals.add(client_id, {"received_date": "2026-10-01", "source": "SELF", "reasons": ["DIET"]})
    qtbot.waitUntil(lambda: record.referrals.rowCount() == 1)
    for tab in range(record.tabs.count()):
        record.tabs.setCurrentIndex(tab)
        qtbot.wait(150)
    qtbot.wait(300)
    raw = raw_connect(db_path)
    views = raw.execute("SELECT username, detail FROM audit WHERE action = 'view' AND client_id = ?",
                        (client_id,)).fetchall()
    assert views == [("cal", "client record opened")]
    # Opening it again is a new opening.
    window.open_client(client_id)
    qtbot.waitUntil(lambda: raw.execute("SELECT COUNT(*) FROM audit WHERE action = 'view' AND client_id = ?",
                                        (client_id,)).fetchone()[0] == 2, timeout=3000)
