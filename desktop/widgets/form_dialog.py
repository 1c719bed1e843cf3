"""A dialog holding one small edit form: load, validate, save on the worker, messages by the field."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from db.errors import ConflictError, FieldError, ValidationError

from .common import show_error
from .fields import FieldSet, new_form


class FormDialog(QDialog):
    title = ""
    save_text = "&Save"

    def __init__(self, store, worker, parent=None, intro: str = ""):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.changes = None
        self.setWindowTitle(self.title)
        self.setAccessibleName(self.title)
        self.fields = FieldSet()
        layout = QVBoxLayout(self)
        if intro:
            self.intro = QLabel(intro)
            self.intro.setWordWrap(True)
            self.intro.setAccessibleName("About this form")
            layout.addWidget(self.intro)
        self.form = new_form()
        layout.addLayout(self.form)
        self.build(self.form)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(self.save_text, QDialogButtonBox.AcceptRole)
        self.save_button.setAccessibleName(self.save_text.replace("&", ""))
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        self.cancel_button.setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.save_button.setDefault(True)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)   # scales with the font

    # subclasses: build(form), load(record), validate() -> [FieldError], call() -> (fn, args, kwargs)
    def build(self, form) -> None:
        raise NotImplementedError

    def load(self, record) -> None:
        self.fields.load({})

    def validate(self) -> list[FieldError]:
        return []

    def call(self):
        raise NotImplementedError

    def save(self) -> bool:
        self.fields.clear_errors()
        errors = self.validate()
        if errors:
            self._show(errors)
            return False
        fn, args, kwargs = self.call()
        self.save_button.setEnabled(False)
        self.worker.submit(fn, *args, on_done=self._done, on_error=self._failed, **kwargs)
        return True

    def _show(self, errors: list[FieldError]) -> None:
        unplaced = self.fields.show_errors(errors)
        self.fit_messages()
        if unplaced:
            show_error(self, ValidationError(unplaced))

    def fit_messages(self) -> None:
        """Grow to the height the wrapped messages need at this width: a dialog already on
        screen keeps its size otherwise, and a two-line message is clipped to one."""
        layout = self.layout()
        layout.activate()
        need = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        if self.height() >= need:
            return
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None:
            self.resize(self.width(), need)
            return
        title_bar = self.frameGeometry().height() - self.height()
        self.resize(self.width(), min(need, screen.height() - title_bar))
        if self.frameGeometry().bottom() > screen.bottom():   # grown off the bottom: move up
            self.move(self.x(), max(screen.top(), screen.bottom() - self.frameGeometry().height() + 1))

    def _done(self, changes) -> None:
        self.changes = changes
        self.save_button.setEnabled(True)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show(exc.errors)
        elif isinstance(exc, ConflictError):
            show_error(self, exc, "Someone else changed this referral")
            self.reject()
        else:
            show_error(self, exc, retry=self.save)
