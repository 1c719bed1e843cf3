"""Small shared pieces: tables, buttons, messages, the progress dialog for long work."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QMessageBox, QProgressDialog,
                               QPushButton, QTableView, QWidget)

from db import paths
from db.errors import HTDeskError, ValidationError

log = logging.getLogger(__name__)


def button(text: str, accessible_name: str | None = None, *, tip: str = "", default: bool = False) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(accessible_name or text.replace("&", "").replace("\u2026", "").strip())
    if tip:
        b.setToolTip(tip)
    b.setAutoDefault(default)
    b.setDefault(default)
    return b


def table_view(accessible_name: str, model=None, *, sortable: bool = True) -> QTableView:
    view = QTableView()
    view.setAccessibleName(accessible_name)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move within it
    view.setWordWrap(False)
    view.verticalHeader().hide()
    # Row height from the font (so large system fonts fit) but fixed: measuring every row's
    # contents costs seconds on a list of thousands.
    view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setResizeContentsPrecision(0)   # fit columns to the rows in view only
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.setSortingEnabled(sortable)
    if model is not None:
        view.setModel(model)
    return view


def heading(text: str, level: int = 1) -> QLabel:
    """A heading that scales with the system font (relative size, no pixels)."""
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * (1.35 if level == 1 else 1.15))
    font.setBold(True)
    label.setFont(font)
    label.setAccessibleName(text)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "Nothing was changed. Please correct:\n" + "\n".join(f"\u2022 {e.message}" for e in exc.errors)
    if isinstance(exc, HTDeskError):
        return str(exc)
    return (f"Something went wrong ({exc.__class__.__name__}). Nothing more was changed.\n\n"
            f"Details were written to {paths.log_file()}; please send that file to your support contact.")


shown_errors: list[QMessageBox] = []   # open error boxes (kept alive; tests look here)


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Health Trainer Desk",
               retry=None) -> QMessageBox:
    """Plain English for known errors; the log file's path (never a traceback) for the rest.
    Opened without blocking, so a worker result arriving meanwhile is still delivered.
    retry: for an error worth trying again (the database busy, the disk full), a "Try again"
    button calls it; the form behind keeps everything typed either way."""
    box = QMessageBox(QMessageBox.Warning if isinstance(exc, HTDeskError) else QMessageBox.Critical,
                      title, describe_error(exc), QMessageBox.NoButton, parent)
    if retry is not None and getattr(exc, "retryable", False):
        again = box.addButton("&Try again", QMessageBox.AcceptRole)
        again.setAccessibleName("Try again")
        close = box.addButton("&Close", QMessageBox.RejectRole)
        close.setAccessibleName("Close")
        box.setDefaultButton(again)
        box.setEscapeButton(close)
        box.setInformativeText("What you typed is kept.")
        again.clicked.connect(lambda: retry())
    else:
        box.setStandardButtons(QMessageBox.Ok)
    box.setAccessibleName(title)
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    box.setAttribute(Qt.WA_DeleteOnClose)
    shown_errors.append(box)
    box.finished.connect(lambda _: shown_errors.remove(box) if box in shown_errors else None)
    box.open()
    return box


def confirm(parent: QWidget | None, title: str, text: str, yes: str, no: str = "Cancel") -> bool:
    box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.NoButton, parent)
    yes_button = box.addButton(yes, QMessageBox.AcceptRole)
    no_button = box.addButton(no, QMessageBox.RejectRole)
    box.setDefaultButton(no_button)
    box.setEscapeButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button


class ProgressDialog(QProgressDialog):
    """A progress dialog with Cancel for one worker job that reports progress."""

    def __init__(self, parent: QWidget | None, title: str, text: str):
        super().__init__(text, "&Cancel", 0, 0, parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.job = None

    def follow(self, worker, job) -> None:
        self.job = job
        worker.progress.connect(self._on_progress)
        self.canceled.connect(job.cancel)

    def _on_progress(self, job, done: int, total: int, label: str) -> None:
        if job is not self.job:
            return
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))
        if label:
            self.setLabelText(label)
