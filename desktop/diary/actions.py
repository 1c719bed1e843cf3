"""What can be done to a session from My day and the diary: book, record (a group on one screen), move,
cancel, print an appointment letter; after a DNA, the offer to book again or send the could-not-reach
letter (the follow-up list named when it was the second DNA in a row)."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QFileDialog, QMessageBox

from db.errors import ValidationError

from ..widgets.common import show_error
from .dialogs import BookingDialog, CancelDialog, GroupDialog, MoveDialog, RecordDialog

DNA = "3"


class SessionActions:
    def __init__(self, page, store, worker, current, *, today: date | None = None, staff_id=None):
        self.page, self.store, self.worker, self.current = page, store, worker, current
        self.fixed_today = today
        self.staff_id = staff_id          # a callable giving the trainer shown (the diary), or None: your own
        self.dialog = None                # the dialog open now (tests drive it)
        self.after_dna = None             # the box offered after a DNA
        self.last_letter = None           # the last letter printed (kept with the record)

    def today(self) -> date:
        return self.fixed_today or date.today()

    def _open(self, dialog) -> None:
        self.dialog = dialog
        dialog.open()

    def book(self, *, referral_id: int | None = None, day: date | None = None, group: bool = False) -> None:
        staff = self.staff_id() if self.staff_id else None
        self._open(BookingDialog(self.store, self.worker, self.page, staff_id=staff, referral_id=referral_id,
                                 day=day, group=group, today=self.today()))

    def record(self) -> None:
        entry = self.current()
        if entry is None:
            return
        if entry.group_id is not None:
            self.group()
            return
        dialog = RecordDialog(self.store, self.worker, entry, self.page, today=self.today())
        dialog.accepted.connect(lambda: self._recorded(dialog))
        self._open(dialog)

    def group(self) -> None:
        entry = self.current()
        if entry is None or entry.group_id is None:
            return
        members = self.store.diary.group(entry.group_id, entry.session_date, today=self.today())
        self._open(GroupDialog(self.store, self.worker, members, self.page, today=self.today()))

    def move(self) -> None:
        entry = self.current()
        if entry is not None:
            self._open(MoveDialog(self.store, self.worker, entry, self.page, today=self.today()))

    def cancel(self) -> None:
        entry = self.current()
        if entry is not None:
            self._open(CancelDialog(self.store, self.worker, entry, self.page))

    def _recorded(self, dialog: RecordDialog) -> None:
        if dialog.outcome_code != DNA:
            return
        entry = dialog.entry
        follow = dialog.recorded is not None and dialog.recorded.follow_up
        text = f"{entry.client_name} ({entry.client_ref}) did not attend."
        if follow:
            text += (" That is two missed sessions in a row: the referral is now on the coordinator's "
                     "follow-up list.")
        text += " Book another session, or send the could-not-reach letter?"
        box = QMessageBox(QMessageBox.Information, "Did not attend", text, QMessageBox.NoButton, self.page)
        box.setAccessibleName("Did not attend")
        again = box.addButton("&Book again\u2026", QMessageBox.AcceptRole)
        letter = box.addButton("Could-not-reach &letter\u2026", QMessageBox.ActionRole)
        box.addButton("&Close", QMessageBox.RejectRole)
        refused = self.store.documents.letter_refusal("no-contact", entry.referral_id, today=self.today())
        letter.setEnabled(refused is None)
        if refused:
            letter.setToolTip(refused)
        again.clicked.connect(lambda: self.book(referral_id=entry.referral_id))
        letter.clicked.connect(lambda: self.letter("no-contact", entry))
        self.after_dna = box
        box.open()

    def letter(self, kind: str = "appointment", entry=None, path: str | None = None) -> None:
        """Print a letter for the session's referral and keep it with the record. An appointment letter is
        only for a session still in the future, and gives the session chosen."""
        entry = entry or self.current()
        if entry is None:
            return
        if kind == "appointment" and (entry.attendance != "0" or entry.session_date < self.today().isoformat()):
            show_error(self.page, _refusal("An appointment letter is only for a session still to come: choose a "
                                           "booked session from today on."))
            return
        refused = self.store.documents.letter_refusal(kind, entry.referral_id, today=self.today())
        if refused:
            show_error(self.page, _refusal(refused))
            return
        if path is None:
            name = f"{kind}-{entry.referral_ref}.pdf"
            path, _ = QFileDialog.getSaveFileName(self.page, "Save the letter as", name, "PDF files (*.pdf)")
            if not path:
                return
        from reports.printing import print_letter
        session_id = entry.session_id if kind == "appointment" else None
        self.worker.submit(print_letter, self.store, kind, entry.referral_id, path, today=self.today(),
                           session_id=session_id, on_done=lambda got: self._letter_done(path, got),
                           on_error=lambda exc: show_error(self.page, exc))

    def _letter_done(self, path: str, got) -> None:
        self.last_letter = got[0]          # the document kept with the record
        window = self.page.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Letter saved to {path} and kept with the record", 6000)


def _refusal(message: str):
    from db.errors import FieldError
    return ValidationError(FieldError("letter", message))
