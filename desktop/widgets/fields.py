"""Form building blocks shared by every edit form.

`FieldSet` keeps each field's widget with a message label beside it, reads and
writes values by the store's field keys, and shows FieldError messages next to
the right field (focusing the first bad one).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QCheckBox, QComboBox, QDialog, QFormLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget)

from db.errors import FieldError
from db import public   # its names load on first use, not with the sign-in window



class _WheelGuard(QObject):
    """The mouse wheel scrolls the form, never the value under the pointer: a closed
    drop-down ignores it, and a spin box takes it only while it has the focus. The wheel
    event goes on to the scroll area behind, so the page still scrolls."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and (isinstance(obj, QComboBox) or not obj.hasFocus()):
            event.ignore()
            return True
        return False


_wheel_guard: _WheelGuard | None = None


def guard_wheel(widget: QWidget) -> QWidget:
    """Stop the wheel changing this combo or spin box by accident (see _WheelGuard)."""
    global _wheel_guard
    if _wheel_guard is None:
        _wheel_guard = _WheelGuard()
    if isinstance(widget, (QComboBox, QAbstractSpinBox)):
        widget.setFocusPolicy(Qt.StrongFocus)   # not WheelFocus: a passing wheel takes no focus
        widget.installEventFilter(_wheel_guard)
    return widget


class CodeCombo(QComboBox):
    """A code list as labels; the stored code is each item's data. Typing a letter jumps."""

    def __init__(self, list_name: str, accessible_name: str, blank: str | None = "Not recorded",
                 parent=None, items: Iterable[tuple[str, str]] | None = None):
        super().__init__(parent)
        self.list_name = list_name
        self.setAccessibleName(accessible_name)
        guard_wheel(self)
        self.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        if blank is not None:
            self.addItem(blank, None)
        for code, label in (items if items is not None else public.codes.lists()[list_name]):
            self.addItem(label, code)

    def code(self):
        return self.currentData()

    def set_code(self, code) -> None:
        index = self.findData(code)
        if index < 0 and code not in (None, ""):
            # A code no longer on the list still shows, rather than silently changing.
            self.addItem(public.codes.label(self.list_name, code) if self.list_name else str(code), code)
            index = self.count() - 1
        self.setCurrentIndex(max(index, 0))


def grow_to_fit(widget: QWidget) -> None:
    """A dialog in which a message has just appeared grows to show it: Qt keeps a shown window's size,
    so the fields above would be squeezed flat instead (a wrapped message's height depends on the width)."""
    window = widget.window()
    layout = window.layout() if isinstance(window, QDialog) else None
    if layout is None or not window.isVisible():
        return
    layout.activate()
    need = layout.totalHeightForWidth(window.width()) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
    if need > window.height():
        window.resize(window.width(), need)


class ErrorLabel(QLabel):
    """The message next to a field: an icon-like prefix and words, not colour alone."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.PlainText)
        self.setObjectName("fieldError")
        self.setStyleSheet(_PROBLEM)
        self.hide()

    def show_message(self, message: str | None) -> None:
        self.setStyleSheet(_PROBLEM)
        if message:
            self.setText(f"\u26a0 {message}")
            self.setAccessibleName(f"Problem: {message}")
            self.show()
            grow_to_fit(self)
        else:
            self.clear()
            self.hide()

    def show_done(self, message: str) -> None:
        """Something that went well, in the same place (a restore finished): not red, not a warning."""
        self.setStyleSheet(_DONE)
        self.setText(f"\u2714 {message}")
        self.setAccessibleName(f"Done: {message}")
        grow_to_fit(self)
        self.show()


_PROBLEM = "QLabel#fieldError { color: #a4000f; font-weight: bold; }"
_DONE = "QLabel#fieldError { color: #1b5e20; font-weight: bold; }"


@dataclass
class Field:
    key: str
    widget: QWidget
    error: ErrorLabel
    get: Callable[[], object]
    set: Callable[[object], None]
    description: str = ""


class FieldSet:
    """The fields of one form, by store key."""

    def __init__(self):
        self.fields: dict[str, Field] = {}
        self.scroll_area: QScrollArea | None = None
        self._on_change: list[Callable[..., None]] = []

    def add(self, form: QFormLayout, key: str, label: str, widget: QWidget, *,
            get: Callable[[], object] | None = None, set: Callable[[object], None] | None = None,
            hint: str = "") -> Field:
        """Add a row: '&Label' with a mnemonic, the widget, and its message label under it."""
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        error = ErrorLabel(holder)
        box.addWidget(error)
        if hint:
            hint_label = QLabel(hint)
            hint_label.setWordWrap(True)
            hint_label.setObjectName("hint")
            box.addWidget(hint_label)
        row_label = QLabel(label)
        row_label.setBuddy(widget)
        form.addRow(row_label, holder)
        if not widget.accessibleName():
            widget.setAccessibleName(label.replace("&", ""))
        get, set = get or _getter(widget), set or _setter(widget)
        return self._keep(Field(key, widget, error, get, set, widget.accessibleDescription()))

    def register(self, key: str, widget: QWidget, error: ErrorLabel,
                 get: Callable[[], object] | None = None, set: Callable[[object], None] | None = None) -> Field:
        return self._keep(Field(key, widget, error, get or _getter(widget), set or _setter(widget),
                                widget.accessibleDescription()))

    def _keep(self, field: Field) -> Field:
        guard_wheel(field.widget)
        self.fields[field.key] = field
        signal = _changed_signal(field.widget)
        for callback in self._on_change if signal is not None else ():
            signal.connect(callback)
        return field

    def on_change(self, callback: Callable[..., None]) -> None:
        """Call back whenever any field's value changes (typed, picked or set by code)."""
        self._on_change.append(callback)
        for f in self.fields.values():
            signal = _changed_signal(f.widget)
            if signal is not None:
                signal.connect(callback)

    def values(self) -> dict:
        return {key: f.get() for key, f in self.fields.items()}

    def load(self, values: dict) -> None:
        for key, f in self.fields.items():
            f.set(values.get(key))
        self.clear_errors()

    def set_read_only(self, read_only: bool) -> None:
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, (QLineEdit, QPlainTextEdit)):
                w.setReadOnly(read_only)   # text can still be selected and copied
                # ...and it looks read-only (the window's grey), not only when someone types.
                palette = w.palette()
                palette.setColor(QPalette.Base, (w.parentWidget() or w).palette().color(QPalette.Window)
                                 if read_only else QApplication.palette(w).color(QPalette.Base))
                w.setPalette(palette)
            else:
                w.setEnabled(not read_only)

    def clear_errors(self) -> None:
        for f in self.fields.values():
            f.error.show_message(None)
            f.widget.setAccessibleDescription(f.description)

    def show_errors(self, errors: Iterable[FieldError]) -> list[FieldError]:
        """Put each message next to its field; focus the first. Returns errors with no field here."""
        self.clear_errors()
        by_field: dict[str, list[str]] = {}
        unplaced = []
        for e in errors:
            if e.field in self.fields:
                by_field.setdefault(e.field, []).append(e.message)
            else:
                unplaced.append(e)
        first = None
        for key, f in self.fields.items():  # form order, so "first" is the first on screen
            if key in by_field:
                message = " ".join(by_field[key])
                f.error.show_message(message)
                f.widget.setAccessibleDescription(f"Problem: {message}")
                first = first or f
        if first is not None:
            if self.scroll_area is not None:
                self.scroll_area.ensureWidgetVisible(first.widget, 50, 80)
            first.widget.setFocus(Qt.OtherFocusReason)
        return unplaced

    def error_text(self, key: str) -> str:
        f = self.fields[key]
        return f.error.text() if f.error.isVisible() or f.error.text() else ""


def _changed_signal(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        # An enum rather than `toggled`'s bool: bool signals are the PySide6 6.12 / Python 3.11
        # crash trap of docs/ARCHITECTURE.md, so none is added here.
        return widget.checkStateChanged
    if isinstance(widget, (QLineEdit, QPlainTextEdit)):
        return widget.textChanged
    return getattr(widget, "valueChanged", None) or getattr(widget, "dateChanged", None)


def _getter(widget: QWidget) -> Callable[[], object]:
    if isinstance(widget, CodeCombo):
        return widget.code
    if isinstance(widget, QCheckBox):
        return lambda: 1 if widget.isChecked() else 0
    if isinstance(widget, QPlainTextEdit):
        return lambda: widget.toPlainText().strip()
    if isinstance(widget, QLineEdit):
        return lambda: widget.text().strip()
    raise TypeError(f"no getter for {type(widget).__name__}")


def _setter(widget: QWidget) -> Callable[[object], None]:
    if isinstance(widget, CodeCombo):
        return widget.set_code
    if isinstance(widget, QCheckBox):
        return lambda v: widget.setChecked(bool(v))
    if hasattr(widget, "set_iso"):   # a DateField (its module loads with the first form that has a date)
        return widget.set_iso
    if isinstance(widget, QPlainTextEdit):
        return lambda v: widget.setPlainText("" if v is None else str(v))
    if isinstance(widget, QLineEdit):
        return lambda v: widget.setText("" if v is None else str(v))
    raise TypeError(f"no setter for {type(widget).__name__}")


def line_edit(accessible_name: str, max_length: int | None = None, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(accessible_name)
    if max_length:
        edit.setMaxLength(max_length)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


def check_box(text: str, accessible_name: str | None = None) -> QCheckBox:
    box = QCheckBox(text)
    box.setAccessibleName(accessible_name or text.replace("&", ""))
    return box


def new_form() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.WrapLongRows)
    form.setLabelAlignment(Qt.AlignLeft | Qt.AlignTop)
    return form
