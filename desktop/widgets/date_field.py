"""A date field people can type into (31/01/1985) or pick from a calendar.

It is a QLineEdit, so every form reads and writes it as text exactly as before;
the calendar button at its right (or Alt+Down / F4, as on a drop-down) only
fills the text in. Shared by the client form and the referral dialogs.
"""
from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QCalendarWidget, QFrame, QLineEdit, QVBoxLayout, QWidget

from ..models.columns import show_date

_TYPED = re.compile(r"\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*")


def typed_date(text: str) -> date | None:
    """The date in 'DD/MM/YYYY' text, or None when it is not one (the store says why)."""
    m = _TYPED.fullmatch(text or "")
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def calendar_icon(color: QColor) -> QIcon:
    """A small calendar drawn in the text colour (no icon file, sharp at any scale)."""
    icon = QIcon()
    for size in (16, 24, 32):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        unit = size / 16
        pen = QPen(color, max(1.0, unit))
        p.setPen(pen)
        p.drawRoundedRect(QRectF(1.5 * unit, 3 * unit, 13 * unit, 11.5 * unit), unit, unit)
        p.fillRect(QRectF(1.5 * unit, 3 * unit, 13 * unit, 3 * unit), color)
        p.drawLine(QPoint(int(5 * unit), int(1 * unit)), QPoint(int(5 * unit), int(4 * unit)))
        p.drawLine(QPoint(int(11 * unit), int(1 * unit)), QPoint(int(11 * unit), int(4 * unit)))
        for row in range(2):
            for col in range(3):
                p.fillRect(QRectF((4 + 3 * col) * unit, (8 + 3 * row) * unit, 1.6 * unit, 1.6 * unit), color)
        p.end()
        icon.addPixmap(pixmap)
    return icon


class CalendarPopup(QFrame):
    """The calendar shown under a DateField; Enter or a click picks, Escape closes."""

    picked = Signal(QDate)

    def __init__(self, parent: QWidget):
        super().__init__(parent, Qt.Popup)
        self.setFrameShape(QFrame.StyledPanel)
        self.setAccessibleName("Choose a date")
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        self.calendar = QCalendarWidget()
        self.calendar.setAccessibleName("Calendar")
        self.calendar.setGridVisible(True)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.NoVerticalHeader)
        self.calendar.setFirstDayOfWeek(Qt.Monday)
        box.addWidget(self.calendar)
        self.calendar.clicked.connect(self._pick)
        self.calendar.activated.connect(self._pick)

    def _pick(self, day: QDate) -> None:
        self.picked.emit(day)
        self.close()


class DateField(QLineEdit):
    """A date typed as DD/MM/YYYY (blank allowed), or picked from a calendar; the store
    parses and checks it. Reads and writes as text, like any line edit."""

    def __init__(self, accessible_name: str, parent=None):
        super().__init__(parent)
        self.setAccessibleName(accessible_name)
        self.setPlaceholderText("DD/MM/YYYY")
        self.setAccessibleDescription("Date as day/month/year, for example 31/01/1985. "
                                      "Alt+Down opens a calendar.")
        self.setMaxLength(10)
        self.popup: CalendarPopup | None = None
        self.calendar_action = QAction(calendar_icon(self.palette().text().color()), "Choose from a calendar", self)
        self.calendar_action.setToolTip("Choose from a calendar (Alt+Down)")
        self.calendar_action.triggered.connect(self.open_calendar)
        self.addAction(self.calendar_action, QLineEdit.TrailingPosition)
        # Wide enough for the date and the button, at any font size.
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("00/00/00000") + 40)

    def set_iso(self, value: str | None) -> None:
        self.setText(show_date(value)[:10] if value else "")

    def set_today(self) -> None:
        self.set_iso(date.today().isoformat())

    def setReadOnly(self, read_only: bool) -> None:
        super().setReadOnly(read_only)
        self.calendar_action.setEnabled(not read_only)
        self.calendar_action.setVisible(not read_only)

    def keyPressEvent(self, event) -> None:
        opens = (event.key() == Qt.Key_Down and event.modifiers() & Qt.AltModifier) or event.key() == Qt.Key_F4
        if opens and not self.isReadOnly():
            self.open_calendar()
            return
        super().keyPressEvent(event)

    def open_calendar(self) -> None:
        if self.isReadOnly():
            return
        if self.popup is None:
            self.popup = CalendarPopup(self)
            self.popup.picked.connect(self._picked)
        shown = typed_date(self.text()) or date.today()
        self.popup.calendar.setSelectedDate(QDate(shown.year, shown.month, shown.day))
        self.popup.adjustSize()
        # Below the field, kept on the screen.
        where = self.mapToGlobal(QPoint(0, self.height()))
        screen = self.screen().availableGeometry() if self.screen() else None
        size = self.popup.sizeHint()
        if screen is not None:
            if where.y() + size.height() > screen.bottom():
                where.setY(self.mapToGlobal(QPoint(0, 0)).y() - size.height())
            where.setX(max(screen.left(), min(where.x(), screen.right() - size.width())))
        self.popup.move(where)
        self.popup.show()
        self.popup.calendar.setFocus(Qt.PopupFocusReason)

    def _picked(self, day: QDate) -> None:
        self.setText(f"{day.day():02d}/{day.month():02d}/{day.year()}")
        self.setFocus(Qt.OtherFocusReason)

