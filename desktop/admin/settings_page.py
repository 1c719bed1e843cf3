"""Service settings for administrators (issue 14): the details printed on letters and plans (name,
address, phone, email, website, logo, who signs letters), the working rules (three tries, DNA
follow-up, assessment interval, retention, idle lock), which instruments are on, and each venue's
opening days. Saved through store.service (audited); others see nothing here."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPlainTextEdit, QScrollArea, QSpinBox, QStyle, QVBoxLayout, QWidget)

from db.errors import FieldError, HTDeskError, ValidationError
from db.public import INSTRUMENTS

from ..widgets.common import button, heading, show_error
from ..widgets.fields import ErrorLabel, FieldSet, line_edit
from ..widgets.nav import Nav

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NUMBERS = (("three_tries.attempts", "&Tries before the could-not-reach letter", 1, 10),
           ("dna.in_a_row", "&Missed sessions in a row before follow-up", 1, 5),
           ("review_interval_weeks", "&Weeks between reviews", 1, 52),
           ("retention.years", "&Years to keep records", 1, 30),
           ("idle_lock_minutes", "Lock after idle min&utes", 1, 120))


class ServiceSettingsPage(QWidget):
    NAV = Nav("Se&ttings", QStyle.SP_FileDialogDetailedView, lambda store: store.may("admin"))

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.logo_bytes: bytes | None = None
        self.logo_changed = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(heading("Service settings"))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        columns = QHBoxLayout(body)
        left, right = QVBoxLayout(), QVBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)

        self.fields = FieldSet()
        details = QGroupBox("Printed on letters and plans")
        form = QFormLayout(details)
        self.name = self.fields.add(form, "service_name", "Service &name", line_edit("Service name", 120)).widget
        self.address = QPlainTextEdit()
        self.address.setAccessibleName("Service address")
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(self.fontMetrics().height() * 4)
        self.fields.add(form, "address", "A&ddress", self.address,
                        get=lambda: self.address.toPlainText(), set=lambda v: self.address.setPlainText(v or ""))
        self.phone = self.fields.add(form, "phone", "P&hone", line_edit("Service phone", 40)).widget
        self.email = self.fields.add(form, "email", "&Email", line_edit("Service email", 120)).widget
        self.website = self.fields.add(form, "service.website", "Web&site", line_edit("Website", 120)).widget
        self.signer = self.fields.add(form, "letters.signer_name", "Letters si&gned by",
                                      line_edit("Letters signed by", 120, "e.g. Pat Lead")).widget
        self.signer_role = self.fields.add(form, "letters.signer_role", "Signer's ro&le",
                                           line_edit("Signer's role", 120, "e.g. Service lead")).widget
        logo_row = QWidget()
        row = QHBoxLayout(logo_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.logo_label = QLabel()
        self.logo_label.setAccessibleName("Logo")
        self.logo_button = button("Choose l&ogo\u2026", "Choose logo", tip="A PNG or JPEG picture, up to 2 MB")
        self.logo_clear = button("No logo", "Remove the logo")
        row.addWidget(self.logo_label, 1)
        row.addWidget(self.logo_button)
        row.addWidget(self.logo_clear)
        form.addRow(QLabel("Logo"), logo_row)
        left.addWidget(details)

        rules = QGroupBox("Working rules")
        rform = QFormLayout(rules)
        self.numbers: dict[str, QSpinBox] = {}
        for key, label, low, high in NUMBERS:
            spin = QSpinBox()
            spin.setRange(low, high)
            spin.setAccessibleName(label.replace("&", ""))
            self.fields.add(rform, key, label, spin, get=spin.value, set=lambda v, spin=spin: spin.setValue(int(v)))
            self.numbers[key] = spin
        left.addWidget(rules)
        left.addStretch(1)

        instruments = QGroupBox("Instruments in use")
        igrid = QVBoxLayout(instruments)
        self.instrument_boxes: dict[str, QCheckBox] = {}
        for code, instrument in INSTRUMENTS.items():
            box = QCheckBox(instrument.name)
            box.setAccessibleName(f"Use {instrument.name}")
            igrid.addWidget(box)
            self.instrument_boxes[code] = box
        right.addWidget(instruments)

        self.venues_box = QGroupBox("Venues' opening days")
        self.venue_grid = QGridLayout(self.venues_box)
        self.venue_days: dict[int, dict[str, QCheckBox]] = {}
        right.addWidget(self.venues_box)
        right.addStretch(1)

        bottom = QHBoxLayout()
        self.message = ErrorLabel()
        self.saved_label = QLabel()
        self.saved_label.setAccessibleName("Saved")
        self.save_button = button("&Save settings", "Save settings", default=True)
        self.revert_button = button("Re&vert", "Revert to the saved settings")
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.saved_label)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)
        outer.addLayout(bottom)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.load)
        self.logo_button.clicked.connect(self.choose_logo)
        self.logo_clear.clicked.connect(lambda: self._set_logo(None, changed=True))
        self.load()

    # --- reading ------------------------------------------------------------------------------------

    def load(self) -> None:
        try:
            service = self.store.service.get()
            settings = self.store.service.settings()
            enabled = set(self.store.service.enabled_instruments())
            venues = self.store.service.venues()
            days = self.store.service.venue_days()
            logo = self.store.service.logo()
        except HTDeskError as exc:
            self.message.show_message(str(exc))
            return
        self.service = service
        self.fields.clear_errors()
        self.message.show_message(None)
        self.fields.load({"service_name": service.name, "address": service.address or "", "phone": service.phone or "",
                          "email": service.email or "",
                          **{k: ("" if v is None else v) for k, v in settings.items()
                             if k in self.fields.fields}})
        for key, spin in self.numbers.items():
            spin.setValue(int(settings[key]))
        for code, box in self.instrument_boxes.items():
            box.setChecked(code in enabled)
        self._set_logo(logo, changed=False)
        while self.venue_grid.count():
            item = self.venue_grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.venue_days = {}
        for col, day in enumerate(WEEKDAYS, start=1):
            self.venue_grid.addWidget(QLabel(day), 0, col, Qt.AlignCenter)
        for row, venue in enumerate(venues, start=1):
            self.venue_grid.addWidget(QLabel(venue.name), row, 0)
            boxes = {}
            for col, day in enumerate(WEEKDAYS, start=1):
                box = QCheckBox()
                box.setAccessibleName(f"{venue.name} open on {day}")
                box.setChecked(day in days.get(venue.id, []))
                self.venue_grid.addWidget(box, row, col, Qt.AlignCenter)
                boxes[day] = box
            self.venue_days[venue.id] = boxes
        if not venues:
            self.venue_grid.addWidget(QLabel("No venues yet."), 1, 0, 1, 8)

    def _set_logo(self, logo: bytes | None, changed: bool) -> None:
        self.logo_bytes = logo
        self.logo_changed = self.logo_changed or changed if changed else False
        self.logo_label.setText(f"A picture of {len(logo) // 1024 + 1} KB" if logo else "None")

    def choose_logo(self, path: str | None = None) -> None:
        path = path or QFileDialog.getOpenFileName(self, "Choose the service's logo", "",
                                                   "Pictures (*.png *.jpg *.jpeg)")[0]
        if not path:
            return
        try:
            self._set_logo(Path(path).read_bytes(), changed=True)
        except OSError as exc:
            self.message.show_message(f"{path} cannot be read ({exc.strerror}).")

    # --- saving -------------------------------------------------------------------------------------

    def save(self) -> None:
        values = self.fields.values()
        details = {"name": values["service_name"], "address": values["address"], "phone": values["phone"],
                   "email": values["email"]}
        settings = {k: values[k] for k in ("service.website", "letters.signer_name", "letters.signer_role")}
        settings.update({k: spin.value() for k, spin in self.numbers.items()})
        instruments = [c for c, b in self.instrument_boxes.items() if b.isChecked()]
        days = {vid: [d for d, b in boxes.items() if b.isChecked()] for vid, boxes in self.venue_days.items()}
        if not any((details[f] or "").strip() for f in ("address", "phone", "email")):
            self.fields.show_errors([FieldError("phone", "Phone, email or address: keep at least one, or no letter "
                                                         "or plan can print.")])
            return
        store, version, logo, logo_changed = self.store, self.service.row_version, self.logo_bytes, self.logo_changed

        def work():
            store.service.update(details, expected_version=version)
            store.service.set_settings(settings)
            store.service.set_enabled_instruments(instruments)
            for vid, chosen in days.items():
                store.service.set_venue_days(vid, chosen)
            if logo_changed:
                store.service.set_logo(logo)
        self.save_button.setEnabled(False)
        self.worker.submit(work, on_done=lambda _: self._saved(), on_error=self._failed)

    def _saved(self) -> None:
        from datetime import datetime
        self.save_button.setEnabled(True)
        self.saved_label.setText(f"Saved at {datetime.now():%H:%M}")
        self.load()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.fields.show_errors([FieldError("service_name" if e.field == "name" else e.field, e.message)
                                     for e in exc.errors])
            self.message.show_message(str(exc))
        else:
            show_error(self, exc)

    def on_store_changed(self, changes, visible: bool) -> None:
        # Someone's else change (a venue added) shows when the page is next looked at; typing in
        # progress on the visible page is never overwritten.
        if changes.entity in ("service", "setting", "venue") and not visible:
            self.load()
