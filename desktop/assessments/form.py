"""One assessment form for every instrument, drawn from its definition (db.public.INSTRUMENTS): the
timepoint, the items with their answer options, and the score and band shown live as the trainer types.
There is no screen code per instrument: a new instrument in db/instruments appears here as it is.

- a choice item is a drop-down of its options (blank first: not answered);
- a number item is a line edit whose validator refuses, at the field, anything outside the item's range
  or with more decimals than it allows;
- the score comes from store.assessments.preview, the same scoring the save uses (sex, ethnicity,
  the carried height), so what is shown is what is kept;
- PHQ-9 item 9 above 0 stops the form with the service's safeguarding steps, which must be acknowledged
  (kept and audited) before anything else is typed.
"""
from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QScrollArea, QVBoxLayout, QWidget)

from db.errors import ValidationError
from db.public import MEASUREMENTS, INSTRUMENTS, band_label, check_measurement, codes, needs_safeguarding_prompt

from ..widgets.common import button, show_error
from ..widgets.date_field import DateField


class RangeValidator(QValidator):
    """Refuses, as it is typed, a number above the item's maximum or with more decimals than it allows
    (typing more digits could never make it valid); a number still below the minimum may be on its way
    to a valid one ("2" before "25"), so it is held as unfinished and the score line says what is wrong."""

    def __init__(self, item, parent=None):
        super().__init__(parent)
        self.low, self.high = float(item.min), float(item.max)
        self.decimals = item.decimals if item.kind == "decimal" else 0
        self.pattern = re.compile(r"\d*" + (rf"(\.\d{{0,{self.decimals}}})?" if self.decimals else "") + "$")

    def validate(self, text: str, pos: int):
        if text == "":
            return QValidator.Intermediate, text, pos
        if not self.pattern.match(text) or text == ".":
            return QValidator.Invalid, text, pos
        value = float(text)
        if value > self.high:
            return QValidator.Invalid, text, pos
        if value < self.low:
            return QValidator.Intermediate, text, pos
        return QValidator.Acceptable, text, pos


def _validator(item, parent):
    return RangeValidator(item, parent)


class SafeguardingDialog(QDialog):
    """The service's escalation steps; the form stays stopped until they are acknowledged."""

    def __init__(self, steps: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Safeguarding: act now")
        self.setAccessibleName("Safeguarding steps")
        layout = QVBoxLayout(self)
        head = QLabel("<b>The client answered PHQ-9 question 9 above \u201cNot at all\u201d.</b> "
                      "Follow the service's safeguarding steps now, before going on:")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.steps = QLabel(steps)
        self.steps.setWordWrap(True)
        self.steps.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.steps.setAccessibleName("The service's safeguarding steps")
        layout.addWidget(self.steps)
        buttons = QDialogButtonBox()
        self.ack = buttons.addButton("I have read the steps and will follow them", QDialogButtonBox.AcceptRole)
        self.ack.setAccessibleName("Acknowledge the safeguarding steps")
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)

    def reject(self) -> None:      # Escape does not get past the steps
        pass


class AssessmentForm(QWidget):
    saved = Signal(object)

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.client_id: int | None = None
        self.referral_id: int | None = None
        self.fields: dict[str, QWidget] = {}
        self.acknowledged = False
        self._confirmed = None
        self.safeguarding: SafeguardingDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QFormLayout()
        self.instrument = QComboBox()
        self.instrument.setAccessibleName("Instrument")
        self.timepoint = QComboBox()
        self.timepoint.setAccessibleName("Timepoint")
        for code in codes.codes("timepoint"):
            self.timepoint.addItem(codes.label("timepoint", code), code)
        self.date = DateField("Assessment date")
        self.date.set_iso(date.today().isoformat())
        row = QHBoxLayout()
        for label, widget in (("Instrument", self.instrument), ("Timepoint", self.timepoint),
                              ("Date", self.date)):
            lab = QLabel(label)
            lab.setBuddy(widget)
            row.addWidget(lab)
            row.addWidget(widget)
        row.addStretch(1)
        top.addRow(row)
        layout.addLayout(top)
        self.stem = QLabel()
        self.stem.setWordWrap(True)
        layout.addWidget(self.stem)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setAccessibleName("Questions")
        layout.addWidget(self.scroll, 1)
        self.carried = QLabel()
        self.carried.setAccessibleName("Height carried forward")
        self.carried.setWordWrap(True)
        layout.addWidget(self.carried)
        bottom = QHBoxLayout()
        self.score = QLabel()
        self.score.setAccessibleName("Score")
        self.score.setWordWrap(True)
        self.score.setTextFormat(Qt.PlainText)
        bottom.addWidget(self.score, 1)
        self.save_button = button("Save assessment", "Save assessment")
        bottom.addWidget(self.save_button, 0, Qt.AlignBottom)
        layout.addLayout(bottom)
        self.copyright = QLabel()
        self.copyright.setWordWrap(True)
        layout.addWidget(self.copyright)
        self.instrument.currentIndexChanged.connect(self._build)
        self.date.textChanged.connect(lambda _: self._rescore())
        self.save_button.clicked.connect(self.save)

    # --- building the form from the instrument's definition ------------------------------------

    def set_client(self, client_id: int | None, referral_id: int | None, may_edit: bool) -> None:
        """Another client or referral starts a fresh form; the same one (a refresh after any save in
        the window) keeps what is typed."""
        same = (client_id, referral_id) == (self.client_id, self.referral_id)
        self.client_id, self.referral_id = client_id, referral_id
        if self.instrument.count() == 0:
            for code in self.store.service.enabled_instruments():
                self.instrument.addItem(INSTRUMENTS[code].name, code)
        self.setEnabled(may_edit and referral_id is not None)
        if not same or not self.fields:
            self._build()

    @property
    def code(self) -> str | None:
        return self.instrument.currentData()

    def _build(self) -> None:
        self.acknowledged = False
        self.fields = {}
        code = self.code
        holder = QWidget()
        form = QFormLayout(holder)
        form.setRowWrapPolicy(QFormLayout.WrapAllRows)      # the question above its answer
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        if code is None:
            self.scroll.setWidget(holder)
            return
        inst = INSTRUMENTS[code]
        self.stem.setText(inst.instructions)
        self.stem.setVisible(bool(inst.instructions))
        self.copyright.setText(inst.copyright_line or "")
        for n, item in enumerate(inst.items, 1):
            if item.kind == "choice":
                widget = QComboBox()
                widget.addItem("\u2014 not answered \u2014", None)
                for value, text in item.options:
                    widget.addItem(f"{value}  {text}" if isinstance(value, int) else text, value)
                widget.currentIndexChanged.connect(lambda _=None, k=item.key: self._changed(k))
            else:
                widget = QLineEdit()
                widget.setValidator(_validator(item, widget))
                unit = f"{item.min:g} to {item.max:g}"
                widget.setPlaceholderText(unit)
                widget.setToolTip(item.hint or f"From {unit}")
                widget.textEdited.connect(lambda _=None, k=item.key: self._changed(k))
            widget.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 22)
            widget.setAccessibleName(item.label)
            if item.hint:
                widget.setAccessibleDescription(item.hint)
            label = QLabel(f"{n}. {item.text}")
            if len(item.text) > 70:          # only long questions wrap, at a readable width
                label.setWordWrap(True)
                label.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 36)
            label.setBuddy(widget)
            form.addRow(label, widget)
            self.fields[item.key] = widget
        self.scroll.setWidget(holder)
        self._rescore()

    def answers(self) -> dict:
        out = {}
        for key, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                value = widget.currentData()
            else:
                value = widget.text().strip() or None
            if value is not None:
                out[key] = value
        return out

    # --- live score ------------------------------------------------------------------------------

    def _changed(self, key: str) -> None:
        if self._confirmed is not None:
            self._confirmed = None
            self.save_button.setText("Save assessment")
        if needs_safeguarding_prompt(self.code, self.answers()) and not self.acknowledged:
            self._stop_for_safeguarding()
        self._rescore()

    def _stop_for_safeguarding(self) -> None:
        steps = self.store.service.safeguarding_steps()
        dialog = SafeguardingDialog(steps, self)
        self.safeguarding = dialog
        answer = self.answers().get("phq9_9")
        self.scroll.setEnabled(False)
        self.save_button.setEnabled(False)

        def done(_result: int) -> None:
            self.worker.submit(self.store.assessments.acknowledge_safeguarding, self.referral_id, "PHQ9",
                               int(answer), steps, on_done=lambda _: self._acknowledged(),
                               on_error=lambda e: show_error(self, e))
            dialog.deleteLater()
            self.safeguarding = None

        dialog.finished.connect(done)
        dialog.open()

    def _acknowledged(self) -> None:
        self.acknowledged = True
        self.scroll.setEnabled(True)
        self.save_button.setEnabled(True)

    def _rescore(self) -> None:
        code = self.code
        if code is None or self.client_id is None:
            self.score.setText("")
            self.carried.setText("")
            return
        day = self._iso_date()
        if code == "BODY":
            height = self.store.assessments.carried_height(self.client_id, day)
            typed = self.answers().get("height_cm")
            self.carried.setText("" if typed or height is None else
                                 f"Height carried forward: {height:g} cm (from an earlier measurement); type a "
                                 "height only if measured again.")
        else:
            self.carried.setText("")
        try:
            scored = self.store.assessments.preview(self.client_id, code, self.answers(), day)
        except ValidationError as exc:
            self.score.setText("Check: " + "; ".join(e.message for e in exc.errors))
            return
        self.score.setText(describe_score(code, scored))

    def _iso_date(self) -> str:
        from db.public import parse_date
        try:
            parsed = parse_date(self.date.text(), "assessed_date")
        except Exception:
            parsed = None
        return (parsed or date.today()).isoformat()

    # --- saving -------------------------------------------------------------------------------------

    def unusual(self) -> list[str]:
        """DATA.md's confirmation band: a measurement possible but outside the usual range."""
        out = []
        for key, value in self.answers().items():
            if key in MEASUREMENTS:
                try:
                    check = check_measurement(key, value)
                except ValidationError:
                    continue          # refused: the score line already says so, and the store refuses it
                if check.needs_confirmation:
                    out.append(check.message)
        return out

    def save(self) -> None:
        if self.referral_id is None or not self.save_button.isEnabled():
            return
        if needs_safeguarding_prompt(self.code, self.answers()) and not self.acknowledged:
            self._stop_for_safeguarding()
            return
        unusual = self.unusual()
        if unusual and self._confirmed != (self.code, tuple(sorted(self.answers().items()))):
            # Asked in place, not in a box: the second press of Save (now "Save anyway") confirms.
            self._confirmed = (self.code, tuple(sorted(self.answers().items())))
            self.score.setText(" ".join(unusual) + " Press Save anyway if it is right.")
            self.save_button.setText("Save anyway")
            return
        self.worker.submit(self.store.assessments.add, self.referral_id, self.date.text(),
                           self.timepoint.currentData(), self.code, self.answers(),
                           on_done=self._saved, on_error=lambda e: show_error(self, e))

    def _saved(self, result) -> None:
        changes, _assessment = result
        self._confirmed = None
        self.save_button.setText("Save assessment")
        self._build()
        self.saved.emit(changes)


def describe_score(code: str, scored) -> str:
    """The score and band in words, or why it is not computable (missing items named)."""
    inst = INSTRUMENTS[code]
    if not scored.computable and inst.main_score is not None:
        reason = scored.reason or "answers missing"
        if reason.startswith("Not computable: ") and reason.endswith(" not answered"):
            return f"Not computable: missing {reason[len('Not computable: '):-len(' not answered')]}"
        return reason if reason.lower().startswith("not computable") else f"Not computable: {reason}"
    parts = []
    for s in inst.scores:
        value = scored.scores.get(s.key)
        if value is None or s.key in ("swemwbs_raw",):
            continue
        if s.key == "smoking_status":
            text = dict(inst.item("smoking_status").options).get(str(value), str(value))
        else:
            text = f"{value:.{s.decimals}f}" if isinstance(value, float) else str(value)
            if s.unit and s.unit not in ("days", "portions", "times", "per day"):
                text += f" {s.unit}"
        band = scored.bands.get(s.key)
        if s.key == "fruitveg_portions":
            band = scored.bands.get("five_a_day")
        parts.append(f"{s.label}: {text}" + (f" ({band_label(band)})" if band else ""))
    if not parts:
        return "Not computable: no answers yet."
    notes = " ".join(scored.notes) if scored.notes else ""
    return " \u00b7 ".join(parts) + (f"\n{notes}" if notes else "")
