"""Encryption at rest in the window (issue 14): an administrator who lost their password signs in with the
recovery key and chooses a new one; restore at sign-in with the recovery key of another database."""
from __future__ import annotations

from PySide6.QtCore import Qt

from db.store import CaseStore
from desktop.signin import SignInDialog

PW = "amber-kettle-42"


def _service(path, name, code, admin="boss"):
    store = CaseStore.create_new(path, service_name=name, service_code=code, admin_username=admin,
                                 admin_password=PW, contact={"phone": "0191 000 0000"})
    recovery = store.recovery_key
    store.sign_in(admin, PW)
    return store, recovery


def test_the_recovery_key_at_sign_in_then_a_new_password(qtbot, tmp_path):
    path = tmp_path / "svc.sqlite3"
    store, recovery = _service(path, "Tyneside Health Trainers", "TYNE")
    store.close()
    store = CaseStore.open(path)
    assert store.sealed
    dialog = SignInDialog(store, store.service_name, False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.recovery_button.isVisible()
    assert not dialog.use_recovery_key("AAAA-BBBB")            # no username yet
    assert dialog.fields.fields["username"].error.isVisible()
    dialog.username.setText("boss")
    assert not dialog.use_recovery_key("ABCD-" * 7 + "ABCD")
    assert "does not open this database" in dialog.message.text() and store.sealed
    assert dialog.use_recovery_key(recovery.lower())
    assert dialog.change_box.isVisible() and not dialog.recovery_button.isVisible()
    assert "choose a new password" in dialog.message.text()
    dialog.new_password.setText("copper-meadow-lantern")
    dialog.new_password2.setText("copper-meadow-lantern")
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted and store.actor.username == "boss"
    store.close()
    with CaseStore.open(path) as again:
        assert again.sign_in("boss", "copper-meadow-lantern").username == "boss"


def test_restore_at_sign_in_with_the_recovery_key_of_the_backups_database(qtbot, tmp_path):
    theirs_store, their_key = _service(tmp_path / "gates.sqlite3", "Gateshead Health Trainers", "GATES", "gboss")
    backup = theirs_store.admin.backup(tmp_path / "gates-backup.sqlite3")
    theirs_store.close()
    path = tmp_path / "tyne.sqlite3"
    mine, my_key = _service(path, "Tyneside Health Trainers", "TYNE")
    mine.close()
    store = CaseStore.open(path)
    dialog = SignInDialog(store, store.service_name, False)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText("boss")
    assert dialog.use_recovery_key(my_key)                     # the password is lost
    asked = []
    assert dialog.restore_backup(str(backup), confirm=lambda info, other: (True, "GATES"),
                                 confirm_key=lambda message: asked.append(message) or their_key)
    assert "made with another key" in asked[0]
    assert "Restored Gateshead Health Trainers (GATES)" in dialog.message.text()
    assert not dialog.change_box.isVisible() and dialog.username.isEnabled()
    store.close()
    # The database keeps its own key and recovery key; the restored accounts' passwords open it.
    with CaseStore.open(path) as again:
        assert again.service_name == "Gateshead Health Trainers"
        again.sign_in("gboss", PW)
    with CaseStore.open(path) as again:
        again.sign_in_with_recovery_key("gboss", my_key)


def test_an_administrator_makes_a_new_recovery_key_from_the_file_menu(qtbot, tmp_path):
    from desktop.admin.recovery import new_recovery_key
    from desktop.main_window import MainWindow, SessionInfo
    path = tmp_path / "svc.sqlite3"
    store, old_key = _service(path, "Tyneside Health Trainers", "TYNE")
    store.service.add_staff("Amy Trainer", "TRAINER", username="amy", password=PW)
    w = MainWindow(store, SessionInfo("Tyneside Health Trainers", False, path))
    qtbot.addWidget(w)
    w.show()
    assert w.recovery_key_action.isVisible()
    dialog = new_recovery_key(w, confirm=True)
    qtbot.addWidget(dialog)
    new_key = dialog.key.text()
    assert new_key != old_key and len(new_key.replace("-", "")) == 32
    dialog.open_after = False
    from pypdf import PdfReader
    sheet = dialog.save_sheet(str(tmp_path / "sheet.pdf"))
    assert new_key in PdfReader(sheet).pages[0].extract_text().replace("\n", "")
    dialog.accept()
    w.confirm_unsaved = False
    w.close()
    store.close()
    with CaseStore.open(path) as again:
        assert again.sign_in_with_recovery_key("boss", new_key).username == "boss"
    trainer = CaseStore.open(path)
    trainer.sign_in("amy", PW)
    w = MainWindow(trainer, SessionInfo("Tyneside Health Trainers", False, path))
    qtbot.addWidget(w)
    w.show()
    assert not w.recovery_key_action.isVisible()
    w.confirm_unsaved = False
    w.close()
    trainer.close()
