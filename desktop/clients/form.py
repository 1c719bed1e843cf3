"""The client details form: every client field of DATA.md, with the three-step contract
`load(client or None)`, `validate() -> [FieldError]`, `save()`."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from db import public
from db.errors import Cancelled, ConflictError, FieldError, ValidationError
from db.public import clean_phone, codes
from db.records import CLIENT_FIELDS, Client

from ..models.columns import show_date
from ..widgets.common import ProgressDialog, show_error
from ..widgets.date_field import DateField
from ..widgets.fields import CodeCombo, ErrorLabel, FieldSet, check_box, line_edit, new_form
from .duplicates import DuplicateDialog

_MATCH = {"found": "Found", "terminated": "Found (postcode no longer in use)",
          "not_found": "Not found in the lookup", "nfa": "No fixed abode"}

_DATES = ("date_of_birth", "consent_date")


def deprivation_text(client: Client | None) -> dict[str, str]:
    if client is None or not client.postcode:
        return {"lsoa": "", "decile": "", "quintile": "", "status": "No postcode recorded"}
    decile = client.imd_decile
    return {
        "lsoa": client.lsoa_code or "Unknown",
        "decile": f"{decile} of 10 (1 = most deprived)" if decile else "Unknown",
        "quintile": (f"{client.imd_quintile} of 5 (1 = most deprived fifth)" if client.imd_quintile else "Unknown"),
        "status": _MATCH.get(client.postcode_status or "", client.postcode_status or "Not looked up yet")
                  + (f", {client.imd_edition}" if client.imd_edition else ""),
    }


class ClientForm(QWidget):
    saved = Signal(object)          # Changes
    open_existing = Signal(int)     # the user chose an existing record at the duplicate check
    busy = Signal(bool)
    dirty_changed = Signal()        # `dirty` flipped: the form now differs (or not) from what was loaded

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.client: Client | None = None
        self.fields = FieldSet()
        self._saving = False
        self._loading = False
        self.dirty = False
        self.editable = True

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setAccessibleName("Client details")
        self.fields.scroll_area = scroll
        inner = QWidget()
        grid = QGridLayout(inner)
        self.grid = grid
        scroll.setWidget(inner)
        self.scroll = scroll
        self.sections: list[QWidget] = []
        self.columns = 0
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # Shown before anyone types when this user may not change the record, saying why.
        self.read_only_note = QLabel()
        self.read_only_note.setObjectName("readOnlyNote")
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setTextFormat(Qt.PlainText)
        self.read_only_note.setAccessibleName("Why this form cannot be changed")
        self.read_only_note.setStyleSheet("QLabel#readOnlyNote { border: 1px solid #8a6d00; background: #fff4cc; "
                                          "color: #3d3000; padding: 6px; }")
        self.read_only_note.hide()
        outer.addWidget(self.read_only_note)
        outer.addWidget(scroll)

        f = self.fields
        # --- person -------------------------------------------------------------------
        person, form = self._group("Person")
        f.add(form, "title", "Title", line_edit("Title", 20))
        f.add(form, "first_name", "F&irst name", line_edit("First name", 100))
        f.add(form, "last_name", "Las&t name", line_edit("Last name", 100))
        f.add(form, "preferred_name", "Preferred name", line_edit("Preferred name", 100))
        f.add(form, "date_of_birth", "Date of &birth", DateField("Date of birth"))
        f.add(form, "nhs_number", "NHS n&umber", line_edit("NHS number", 14, "e.g. 943 476 5919"))
        f.add(form, "gender", "Gender identit&y", CodeCombo("gender", "Gender identity", blank="Choose\u2026"))
        f.add(form, "ethnicity", "Ethnicity", CodeCombo("ethnicity", "Ethnicity", blank="Choose\u2026"))
        f.add(form, "asian_thresholds", "BMI thresholds",
              check_box("Use the lower BMI thresholds", "Use the lower BMI thresholds"),
              hint="For a client of Asian family background recorded as 'Any other ethnic group'.")
        self.sections.append(person)

        # --- address and contact --------------------------------------------------------
        contact, form = self._group("Address and contact")
        f.add(form, "postcode", "Post&code", line_edit("Postcode", 10, "e.g. NE1 4ST, or NFA"))
        f.add(form, "address_line_1", "Address line 1", line_edit("Address line 1", 100))
        f.add(form, "address_line_2", "Address line 2", line_edit("Address line 2", 100))
        f.add(form, "town", "Town", line_edit("Town", 60))
        f.add(form, "phone", "&Phone", line_edit("Phone", 30))
        f.add(form, "mobile", "M&obile", line_edit("Mobile", 30))
        f.add(form, "email", "Em&ail", line_edit("Email", 120))
        prefs = QWidget()
        prefs_column = QVBoxLayout(prefs)
        prefs_column.setContentsMargins(0, 0, 0, 0)
        prefs_box = QHBoxLayout()
        prefs_column.addLayout(prefs_box)
        prefs_error = ErrorLabel(prefs)
        prefs_column.addWidget(prefs_error)
        for key, text in (("contact_phone", "Phone"), ("contact_text", "Text"), ("contact_letter", "Letter"),
                          ("contact_email", "Email")):
            box = check_box(text, f"Contact by {text.lower()}")
            prefs_box.addWidget(box)
            f.register(key, box, prefs_error)
        prefs_box.addStretch(1)
        prefs_label = QLabel("Contact by")
        prefs_label.setAccessibleName("Contact preferences")
        form.addRow(prefs_label, prefs)
        f.add(form, "may_leave_message", "Messages",
              check_box("A message may be left", "A message may be left"))
        self.sections.append(contact)

        # --- health and circumstances ------------------------------------------------------
        health, form = self._group("GP and circumstances")
        f.add(form, "gp_registered", "Registered with a GP",
              CodeCombo("yes_no_unknown", "Registered with a GP"))
        f.add(form, "gp_practice_code", "Practice code", line_edit("GP practice code", 10, "ODS code, e.g. A86003"))
        f.add(form, "gp_practice_name", "Practice name", line_edit("GP practice name", 120))
        f.add(form, "employment", "Employment", CodeCombo("employment", "Employment status"))
        f.add(form, "disability", "Disability", CodeCombo("disability", "Disability"))
        f.add(form, "carer", "Carer", CodeCombo("yes_no", "Carer"))
        f.add(form, "first_language", "First language", line_edit("First language", 60))
        f.add(form, "interpreter_needed", "Interpreter needed", CodeCombo("yes_no", "Interpreter needed"))
        self.sections.append(health)

        # --- consent and deprivation ------------------------------------------------------------
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        consent, form = self._group("Consent")
        f.add(form, "consent_date", "Consent to record, date", DateField("Consent to record, date"))
        f.add(form, "consent_version", "Consent wording version", line_edit("Consent wording version", 20))
        f.add(form, "consent_share_gp", "Consent to share with GP", CodeCombo("yes_no", "Consent to share with GP"))
        right_box.addWidget(consent)
        depr, form = self._group("Deprivation (from the postcode)")
        self.depr_labels = {}
        for key, text in (("lsoa", "LSOA (2011)"), ("area", "Area"), ("decile", "IMD decile"),
                          ("quintile", "IMD quintile"), ("status", "Postcode match")):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
            value.setFocusPolicy(Qt.StrongFocus)   # reachable by Tab for screen readers
            value.setWordWrap(True)
            value.setAccessibleName(text)
            self.depr_labels[key] = value
            form.addRow(QLabel(text), value)
        right_box.addWidget(depr)
        right_box.addStretch(1)
        self.sections.append(right)
        self._reflow()
        self.fields.on_change(self._changed)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        """Two columns of sections when they fit, else one: works at 1366x768 with large fonts."""
        need = sum(max(s.minimumSizeHint().width() for s in self.sections[i::2]) for i in (0, 1))
        columns = 2 if self.scroll.viewport().width() >= need + 40 else 1
        if columns == self.columns:
            return
        self.columns = columns
        for s in self.sections:
            self.grid.removeWidget(s)
        for i, s in enumerate(self.sections):
            self.grid.addWidget(s, i // columns, i % columns)
        for c in (0, 1):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        for r in range(5):
            self.grid.setRowStretch(r, 0)
        self.grid.setRowStretch((len(self.sections) + columns - 1) // columns, 1)

    def _group(self, title: str):
        box = QGroupBox(title)
        box.setAccessibleName(title)
        form = new_form()
        box.setLayout(form)
        return box, form

    # --- the three steps -----------------------------------------------------------------

    def load(self, client: Client | None, lsoa_name: str | None = None) -> None:
        self.client = client
        values = {k: getattr(client, k) for k in CLIENT_FIELDS} if client else {}
        if client and client.nhs_number:
            values["nhs_number"] = public.format_nhs_number(client.nhs_number)
        if client and client.anonymised_at:
            values["date_of_birth"] = (client.date_of_birth or "")[:4]   # erased: only the year is kept
        self._loading = True
        try:
            self.fields.load(values)
        finally:
            self._loading = False
        self._set_dirty(False)
        depr = deprivation_text(client)
        depr["area"] = lsoa_name or ""
        for key, label in self.depr_labels.items():
            label.setText(depr.get(key, "") or "\u2014")
            label.setAccessibleDescription(depr.get(key, "") or "none")
        self._follow_policy()

    def _follow_policy(self) -> None:
        """Read-only before anyone types when this user may not change the record, with the reason."""
        client = self.client
        why = self.store.refusal("add_client") if client is None else self.store.refusal("edit_client", client.id)
        if why is None and client is not None and client.archived:
            why = "This record is archived, so its details cannot be changed. Unarchive it to change them."
        self.editable = why is None
        self.fields.set_read_only(not self.editable)
        self.read_only_note.setText(f"Read only. {why}" if why else "")
        self.read_only_note.setVisible(why is not None)

    def values(self) -> dict:
        return self.fields.values()

    def validate(self) -> list[FieldError]:
        """The store's own rules, run here first so messages appear without a round trip."""
        self.fields.clear_errors()
        errors: list[FieldError] = []
        try:
            public.validate_client(self.values())
        except ValidationError as exc:
            errors = list(exc.errors)
        for key in ("phone", "mobile"):   # an email address typed as a phone number, and the like
            try:
                clean_phone(self.fields.fields[key].get(), key)
            except ValidationError as exc:
                errors += [e for e in exc.errors if all(e.field != seen.field for seen in errors)]
        if errors:
            unplaced = self.fields.show_errors(errors)
            if unplaced:
                show_error(self, ValidationError(unplaced))
        return errors

    def is_dirty(self) -> bool:
        if self.client is None:
            return any(v not in (None, "", 0) for v in self.values().values())
        before = {k: getattr(self.client, k) for k in CLIENT_FIELDS}
        try:
            now = public.validate_client(self.values())
        except ValidationError:
            return True
        return any((now.get(k) or None) != (before.get(k) or None) for k in CLIENT_FIELDS)

    def _changed(self, *_args) -> None:
        if not self._loading:
            self._set_dirty(self.is_dirty())

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit()

    def save(self, check_duplicates: bool = True) -> bool:
        """Validate, check for duplicates (new clients), prepare the postcode lookup if
        needed, then save on the worker. Returns False when it stopped at validation."""
        if self._saving or self.validate():
            return False
        values = self.values()
        self._set_saving(True)
        if self.client is None and check_duplicates:
            self.worker.submit(self.store.clients.check_duplicates, values,
                               on_done=lambda found: self._after_duplicates(values, found),
                               on_error=self._failed)
        else:
            self._ensure_reference(values)
        return True

    # --- the steps of saving ------------------------------------------------------------------

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.busy.emit(saving)

    def _after_duplicates(self, values: dict, found) -> None:
        if not found:
            self._ensure_reference(values)
            return
        dialog = DuplicateDialog(found, self)
        self.duplicate_dialog = dialog

        def finished(choice: int) -> None:
            self.duplicate_dialog = None
            if choice == DuplicateDialog.OPEN and dialog.chosen_id() is not None:
                self._set_saving(False)
                self.open_existing.emit(dialog.chosen_id())
            elif choice == DuplicateDialog.SAVE_ANYWAY:
                self._ensure_reference(values)
            else:
                self._set_saving(False)
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def _postcode_changes(self, values: dict) -> bool:
        typed = values.get("postcode") or ""
        if not typed or typed.strip().upper() == "NFA":
            return False
        if self.client is None:
            return True
        try:
            return public.normalise_postcode(typed) != self.client.postcode or self.client.postcode_status is None
        except ValidationError:
            return False

    def _ensure_reference(self, values: dict) -> None:
        if not self._postcode_changes(values):
            self._write(values)
            return
        self.worker.submit(self.store.reference.ready,
                           on_done=lambda ready: self._write(values) if ready else self._prepare(values),
                           on_error=self._failed)

    def _prepare(self, values: dict) -> None:
        """First use on this PC: build the postcode lookup (about 10 s) with progress and Cancel."""
        dialog = ProgressDialog(self, "Preparing postcode lookup",
                                "Preparing the postcode lookup. This happens once on this PC and takes a few seconds.")
        self.progress_dialog = dialog

        def done(_):
            dialog.close()
            self._write(values)

        def failed(exc):
            dialog.close()
            if isinstance(exc, Cancelled):
                self._set_saving(False)
                self.fields.show_errors([FieldError(
                    "postcode", "The postcode lookup was cancelled, so nothing was saved. Save again to "
                                "prepare it, or clear the postcode for now.")])
                return
            self._failed(exc)

        job = self.worker.submit(lambda j: self.store.reference.prepare(j.progress, j.cancelled),
                                 with_job=True, on_done=done, on_error=failed)
        dialog.follow(self.worker, job)
        dialog.show()

    def _write(self, values: dict) -> None:
        if self.client is None:
            self.worker.submit(self.store.clients.add, values, on_done=self._done, on_error=self._failed)
        else:
            self.worker.submit(self.store.clients.update, self.client.id, values,
                               expected_version=self.client.row_version, on_done=self._done, on_error=self._failed)

    def _done(self, changes) -> None:
        self._set_saving(False)
        self.saved.emit(changes)

    def _failed(self, exc: BaseException) -> None:
        self._set_saving(False)
        if isinstance(exc, ValidationError):
            unplaced = self.fields.show_errors(exc.errors)
            if unplaced:
                show_error(self, ValidationError(unplaced))
        elif isinstance(exc, ConflictError):
            self.show_conflict(exc)
        else:
            show_error(self, exc, retry=self.save)

    # --- edit conflicts ------------------------------------------------------------------------

    # The current Client, loaded into the form after the user chose to reload.
    conflict_resolved = Signal(object)

    def show_conflict(self, exc: ConflictError) -> None:
        mine_before, mine_now = self.client, self.values()
        dialog = ConflictDialog(exc, mine_before, mine_now, self)
        self.conflict_dialog = dialog

        def finished(_result: int) -> None:
            self.conflict_dialog = None
            dialog.deleteLater()
            if dialog.choice is None or not isinstance(exc.current, Client):
                return
            self.load(exc.current)
            if dialog.choice == ConflictDialog.MERGE:
                # Their version underneath, this user's changed fields on top, to check and save.
                before = {k: getattr(mine_before, k) for k in CLIENT_FIELDS} if mine_before else {}
                for key, f in self.fields.fields.items():
                    typed = mine_now.get(key)
                    if _differs(key, before.get(key), typed):
                        f.set(typed)
            self.conflict_resolved.emit(exc.current)

        dialog.finished.connect(finished)
        dialog.open()


def _differs(key: str, stored, typed) -> bool:
    if key in _DATES and stored:
        stored = show_date(stored)
    if key == "nhs_number" and stored:
        stored = public.format_nhs_number(stored)
    return str(stored or "").strip() != str(typed or "").strip() and (stored or typed) not in (0, None, "")


class ConflictDialog(QDialog):
    """Someone saved first: who, when, and what they changed next to what you typed."""

    RELOAD, MERGE = "reload", "merge"

    def __init__(self, exc: ConflictError, mine_before: Client | None, mine_now: dict, parent=None):
        super().__init__(parent)
        self.choice: str | None = None
        self.setWindowTitle("Someone else changed this record")
        self.setAccessibleName("Edit conflict")
        layout = QVBoxLayout(self)
        message = QLabel(str(exc))
        message.setWordWrap(True)
        message.setAccessibleName("What happened")
        layout.addWidget(message)
        theirs: Client | None = exc.current if isinstance(exc.current, Client) else None
        rows = []
        if theirs is not None and mine_before is not None:
            for key in CLIENT_FIELDS:
                was, now = getattr(mine_before, key), getattr(theirs, key)
                if (was or None) != (now or None):
                    rows.append((key, was, now, mine_now.get(key)))
        self.table = QTableWidget(len(rows), 4)
        self.table.setAccessibleName("Fields they changed")
        self.table.setHorizontalHeaderLabels(["Field", "When you opened it", "Now (their change)", "What you typed"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for i, (key, was, now, typed) in enumerate(rows):
            for j, value in enumerate((_field_name(key), _show(key, was), _show(key, now), _show(key, typed))):
                self.table.setItem(i, j, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        if rows:
            layout.addWidget(QLabel("They changed:"))
            layout.addWidget(self.table)
        else:
            self.table.hide()
        buttons = QDialogButtonBox()
        self.reload_button = buttons.addButton("&Reload their version", QDialogButtonBox.AcceptRole)
        self.reload_button.setAccessibleName("Reload their version, dropping my changes")
        self.merge_button = buttons.addButton("Reload and &keep my changes", QDialogButtonBox.AcceptRole)
        self.merge_button.setAccessibleName("Reload their version and put my changes back on top, to check and save")
        cancel = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        cancel.setAccessibleName("Cancel")
        self.reload_button.clicked.connect(lambda: self._choose(self.RELOAD))
        self.merge_button.clicked.connect(lambda: self._choose(self.MERGE))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reload_button.setDefault(True)
        self.resize(self.sizeHint().expandedTo(self.minimumSizeHint()))


    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def _field_name(key: str) -> str:
    return public.field_label(key)


def _show(key: str, value) -> str:
    if value in (None, ""):
        return "(blank)"
    if key in _DATES:
        return show_date(str(value)) if "-" in str(value) else str(value)
    lists = {"gender": "gender", "ethnicity": "ethnicity", "employment": "employment", "disability": "disability",
             "gp_registered": "yes_no_unknown", "carer": "yes_no", "interpreter_needed": "yes_no",
             "consent_share_gp": "yes_no"}
    if key in lists:
        return codes.label(lists[key], value)
    if key in public.CLIENT_FLAG_FIELDS:
        return "Yes" if value else "No"
    return str(value)
