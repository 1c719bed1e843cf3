"""The personal health plan on the client record: what matters, goals by area (lifestyle and the wider
determinants), steps, if-then plans, who can help, importance and confidence, review dates, reviewing
a goal, and the plan's history of agreed versions. Entirely usable from the keyboard: every field has
a label with a buddy and the buttons take Enter."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from db.public import REVIEW_OUTCOMES, codes

from ..models import RowTableModel
from ..models.columns import show_date
from ..models.table import Column
from ..widgets.common import button, show_error, table_view
from ..widgets.date_field import DateField

GOALS = (
    Column("area", "Area", lambda g: codes.label("area", g.area)),
    Column("status", "Status", lambda g: codes.label("goal_status", g.status)),
    Column("review_date", "Review", lambda g: show_date(g.review_date)),
    Column("goal_text", "Goal (in their words)"),     # last: it takes the rest of the width
)


def _text(widget) -> str:
    return widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()


def _plain(name: str, lines: int = 3) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setAccessibleName(name)
    edit.setTabChangesFocus(True)          # Tab moves on, as in every other field
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 12)
    return edit


def _score(name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(-1, 10)
    spin.setSpecialValueText("not asked")   # -1: left blank
    spin.setValue(-1)
    spin.setAccessibleName(name)
    spin.setToolTip(f"{name}: 0 (not at all) to 10 (completely)")
    return spin


def area_combo() -> QComboBox:
    """Areas in two groups, lifestyle first, then the wider determinants (money, housing, work...)."""
    combo = QComboBox()
    combo.setAccessibleName("Goal area")
    combo.addItem("Choose an area\u2026", None)
    for kind, title in (("LIFESTYLE", "Lifestyle"), ("WIDER", "Wider determinants")):
        combo.insertSeparator(combo.count())
        for code in codes.group_members("area_kind", kind):
            combo.addItem(f"{codes.label('area', code)} ({title.lower()})", code)
    return combo


class ReviewDialog(QDialog):
    """Review one goal on a date: achieved, partly, not this time, or changed (new words)."""

    def __init__(self, goal, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Review goal")
        self.setAccessibleName("Review goal")
        form = QFormLayout(self)
        form.addRow(QLabel(f"\u201c{goal.goal_text}\u201d"))
        self.date = DateField("Review date")
        self.date.set_iso(date.today().isoformat())
        self.outcome = QComboBox()
        self.outcome.setAccessibleName("Outcome of the review")
        for code, label in REVIEW_OUTCOMES.items():
            self.outcome.addItem(label, code)
        self.note = QLineEdit()
        self.note.setAccessibleName("Review note")
        self.new_text = QLineEdit(goal.goal_text)
        self.new_text.setAccessibleName("Changed goal, in their words")
        self.next_review = DateField("Next review date")
        for label, widget in (("Review date", self.date), ("Outcome", self.outcome), ("Note", self.note),
                              ("Changed goal", self.new_text), ("Next review", self.next_review)):
            lab = QLabel(label)
            lab.setBuddy(widget)
            form.addRow(lab, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Save review")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.outcome.currentIndexChanged.connect(self._follow)
        self._follow()

    def _follow(self) -> None:
        changing = self.outcome.currentData() == "CHANGED"
        self.new_text.setEnabled(changing)

    def values(self) -> dict:
        out = {"review_date": self.date.text(), "outcome": self.outcome.currentData(), "note": self.note.text(),
               "next_review_date": self.next_review.text()}
        if out["outcome"] == "CHANGED":
            out["goal_text"] = self.new_text.text()
        return out


class PlanTab(QWidget):
    """Shows and edits the plan of one referral of the client (the open one by default)."""
    changed = Signal(object)

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.record = None
        self.plan = None
        self.pending: list[dict] = []        # goals typed before the plan is first agreed
        self._shown_referral = None
        self.goal = None                     # the goal in the editor (None: a new one)
        self.review_dialog: ReviewDialog | None = None
        outer = QVBoxLayout(self)

        top = QHBoxLayout()
        self.referral = QComboBox()
        self.referral.setAccessibleName("Referral this plan belongs to")
        ref_label = QLabel("Referral")
        ref_label.setBuddy(self.referral)
        self.status = QLabel()
        self.status.setAccessibleName("Plan status")
        self.status.setWordWrap(True)
        top.addWidget(ref_label)
        top.addWidget(self.referral)
        top.addWidget(self.status, 1)
        outer.addLayout(top)
        self.read_only_note = QLabel()
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setAccessibleName("Why this plan is read-only")
        outer.addWidget(self.read_only_note)

        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        self.what_matters = _plain("What matters to me", 3)
        wm_label = QLabel("What matters to me (in their words)")
        wm_label.setBuddy(self.what_matters)
        lv.addWidget(wm_label)
        lv.addWidget(self.what_matters)
        self.goals = RowTableModel(GOALS, self)
        self.goals_view = table_view("Goals", self.goals, sortable=False)
        self.goals_view.setWordWrap(True)
        from PySide6.QtWidgets import QHeaderView
        self.goals_view.horizontalHeader().setSectionResizeMode(len(GOALS) - 1, QHeaderView.Stretch)
        goals_label = QLabel("Goals")
        goals_label.setBuddy(self.goals_view)
        lv.addWidget(goals_label)
        lv.addWidget(self.goals_view, 1)
        agree = QHBoxLayout()
        self.agreed_date = DateField("Date the plan was agreed")
        agreed_label = QLabel("Agreed on")
        agreed_label.setBuddy(self.agreed_date)
        self.agree_button = button("Agree plan", "Agree plan",
                                   tip="Keep the plan as it stands, with this date, as its next version")
        agree.addWidget(agreed_label)
        agree.addWidget(self.agreed_date)
        agree.addWidget(self.agree_button)
        agree.addStretch(1)
        lv.addLayout(agree)
        self.versions = QListWidget()
        self.versions.setAccessibleName("Plan history: agreed versions")
        versions_label = QLabel("History")
        versions_label.setBuddy(self.versions)
        lv.addWidget(versions_label)
        self.versions.setMaximumHeight(self.fontMetrics().lineSpacing() * 5)
        lv.addWidget(self.versions)
        split.addWidget(left)

        editor = QGroupBox("Goal")
        grid = QGridLayout(editor)
        self.area = area_combo()
        self.goal_text = QLineEdit()
        self.goal_text.setAccessibleName("Goal in the client's own words")
        self.steps = _plain("Steps: what, when, where, how often")
        self.barriers = _plain("If something gets in the way, then")
        self.who = QLineEdit()
        self.who.setAccessibleName("Who can help")
        self.importance = _score("Importance")
        self.confidence = _score("Confidence")
        self.review_date = DateField("Goal review date")
        rows = [("Area", self.area), ("Goal (their words)", self.goal_text), ("Steps", self.steps),
                ("If\u2026 then\u2026", self.barriers), ("Who can help", self.who),
                ("Importance 0\u201310", self.importance), ("Confidence 0\u201310", self.confidence),
                ("Review date", self.review_date)]
        for r, (label, widget) in enumerate(rows):
            lab = QLabel(label)
            lab.setBuddy(widget)
            grid.addWidget(lab, r, 0, Qt.AlignTop)
            grid.addWidget(widget, r, 1)
        buttons = QHBoxLayout()
        self.new_goal_button = button("New goal", "New goal", tip="Clear the goal form for a new goal")
        self.save_goal_button = button("Save goal", "Save goal")
        self.review_button = button("Review goal\u2026", "Review goal",
                                    tip="Achieved, partly, not this time, or changed, with the date")
        for b in (self.new_goal_button, self.save_goal_button, self.review_button):
            buttons.addWidget(b)
        grid.addLayout(buttons, len(rows), 0, 1, 2)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(editor)
        contacts = QGroupBox("Useful contacts printed on the plan")
        cv = QVBoxLayout(contacts)
        self.contacts = QListWidget()
        self.contacts.setAccessibleName("Directory entries printed on the plan (Space ticks one)")
        self.contacts.setMaximumHeight(self.fontMetrics().lineSpacing() * 6)
        cv.addWidget(self.contacts)
        self.contacts_button = button("Save contacts", "Save the plan's contacts")
        cv.addWidget(self.contacts_button)
        rv.addWidget(contacts)
        rv.addStretch(1)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)

        self.referral.currentIndexChanged.connect(self._referral_chosen)
        self.goals_view.selectionModel().currentRowChanged.connect(lambda cur, _: self._edit(self.goals.row_at(cur.row())))
        self.new_goal_button.clicked.connect(lambda: self._edit(None, focus=True))
        self.save_goal_button.clicked.connect(self.save_goal)
        self.review_button.clicked.connect(self.review_goal)
        self.agree_button.clicked.connect(self.agree)
        self.contacts_button.clicked.connect(self.save_contacts)
        # Tab goes down the plan, then through a goal the way it is talked through, then to its buttons.
        order = [self.referral, self.what_matters, self.goals_view, self.area, self.goal_text, self.steps,
                 self.barriers, self.who, self.importance, self.confidence, self.review_date,
                 self.save_goal_button, self.new_goal_button, self.review_button, self.agreed_date,
                 self.agree_button, self.versions, self.contacts, self.contacts_button]
        for first, second in zip(order, order[1:]):
            QWidget.setTabOrder(first, second)

    # --- showing ---------------------------------------------------------------------------

    def show_client(self, record) -> None:
        previous = self.referral.currentData()
        self.record = record
        self.referral.blockSignals(True)
        self.referral.clear()
        referrals = list(record.referrals) if record else []
        for r in referrals:
            self.referral.addItem(f"{r.referral_ref} ({codes.label('referral_status', r.status)})", r.id)
        pick = next((i for i, r in enumerate(referrals) if r.id == previous), None)
        if pick is None:
            pick = next((i for i, r in enumerate(referrals) if r.status != "CLOSED"), 0)
        if referrals:
            self.referral.setCurrentIndex(pick)
        self.referral.blockSignals(False)
        self._referral_chosen()

    def _referral_chosen(self) -> None:
        """Show the chosen referral's plan. A refresh of the same plan (after a save anywhere in the
        window) keeps the goal being typed and the goals waiting to be agreed."""
        referral_id = self.referral.currentData()
        plans = [p for p in (self.record.plans if self.record else ()) if p.referral_id == referral_id]
        before = (self._shown_referral, self.plan.id if self.plan else None,
                  self.plan.row_version if self.plan else None, len(self.plan.goals) if self.plan else None,
                  tuple(g.row_version for g in self.plan.goals) if self.plan else ())
        self.plan = self.store.plans.get(plans[0].id) if plans else None
        after = (referral_id, self.plan.id if self.plan else None, self.plan.row_version if self.plan else None,
                 len(self.plan.goals) if self.plan else None,
                 tuple(g.row_version for g in self.plan.goals) if self.plan else ())
        if before == after:
            return
        if referral_id != self._shown_referral or self.plan is not None:
            self.pending = []
        self._shown_referral = referral_id
        self._show_plan()

    def _show_plan(self) -> None:
        plan = self.plan
        client = self.record.client if self.record else None
        may = client is not None and self.referral.count() > 0 and self.store.may("edit_client", client.id)
        why = ""
        if client is not None and not may:
            why = self.store.refusal("edit_client", client.id) or "Add a referral first: a plan belongs to one."
        self.read_only_note.setText(why)
        self.read_only_note.setVisible(bool(why))
        self.what_matters.setPlainText(plan.what_matters or "" if plan else "")
        self.goals.set_rows(list(plan.goals) if plan else list(self._pending_rows()))
        for column in range(len(GOALS) - 1):        # the goal's words take what is left
            self.goals_view.resizeColumnToContents(column)
        self.agreed_date.set_iso(date.today().isoformat())
        self.versions.clear()
        if plan is not None:
            versions = self.store.plans.versions(plan.id)
            for v in versions:
                self.versions.addItem(f"Version {v.version}: agreed {show_date(v.agreed_date)}, "
                                      f"{len(v.goals)} goal{'s' if len(v.goals) != 1 else ''}"
                                      f" (by {v.created_by or 'unknown'})")
            self.status.setText(f"Agreed {show_date(plan.agreed_date)} \u00b7 version "
                                f"{versions[0].version if versions else 1} \u00b7 {len(plan.goals)} goals")
        else:
            self.status.setText("No plan agreed yet for this referral: write what matters, add goals, then "
                                "Agree plan.")
        for w in (self.what_matters, self.goal_text, self.who, self.steps, self.barriers):
            w.setReadOnly(not may)
        for w in (self.area, self.importance, self.confidence, self.agree_button, self.new_goal_button,
                  self.save_goal_button, self.agreed_date, self.review_date):
            w.setEnabled(may)
        self.review_button.setEnabled(may and plan is not None)
        self._show_contacts(plan, may)
        self._edit(None)

    def _show_contacts(self, plan, may: bool) -> None:
        from PySide6.QtWidgets import QListWidgetItem
        chosen = {c.id for c in plan.contacts} if plan else set()
        self.contacts.clear()
        for entry in self.store.signposting.find_in_directory():
            item = QListWidgetItem(f"{entry.name} ({codes.label('signposting_category', entry.category)})")
            item.setData(Qt.UserRole, entry.id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if entry.id in chosen else Qt.Unchecked)
            self.contacts.addItem(item)
        self.contacts.setEnabled(plan is not None)
        self.contacts_button.setEnabled(may and plan is not None)

    def chosen_contacts(self) -> list[int]:
        return [self.contacts.item(i).data(Qt.UserRole) for i in range(self.contacts.count())
                if self.contacts.item(i).checkState() == Qt.Checked]

    def save_contacts(self) -> None:
        if self.plan is None:
            return
        self.worker.submit(self.store.plans.choose_contacts, self.plan.id, self.chosen_contacts(),
                           on_done=self._saved_goal, on_error=lambda e: show_error(self, e))

    def _pending_rows(self):
        from types import SimpleNamespace
        for n, g in enumerate(self.pending):
            yield SimpleNamespace(id=None, position=n, status="NOTSTARTED", row_version=1, **{
                "area": g.get("area"), "goal_text": g.get("goal_text"), "review_date": g.get("review_date"),
                "steps": g.get("steps"), "barriers": g.get("barriers"), "who_can_help": g.get("who_can_help"),
                "importance": g.get("importance"), "confidence": g.get("confidence")})

    def _edit(self, goal, focus: bool = False) -> None:
        self.goal = goal
        index = self.area.findData(goal.area) if goal else 0
        self.area.setCurrentIndex(max(index, 0))
        self.goal_text.setText(goal.goal_text if goal else "")
        self.steps.setPlainText((goal.steps or "") if goal else "")
        self.barriers.setPlainText((goal.barriers or "") if goal else "")
        self.who.setText((goal.who_can_help or "") if goal else "")
        self.importance.setValue(goal.importance if goal and goal.importance is not None else -1)
        self.confidence.setValue(goal.confidence if goal and goal.confidence is not None else -1)
        self.review_date.set_iso(goal.review_date if goal else None)
        self.review_button.setEnabled(bool(goal is not None and getattr(goal, "id", None) and
                                           self.save_goal_button.isEnabled()))
        if focus:
            self.area.setFocus()

    def goal_values(self) -> dict:
        return {"area": self.area.currentData(), "goal_text": self.goal_text.text(),
                "steps": _text(self.steps), "barriers": _text(self.barriers), "who_can_help": self.who.text(),
                "importance": None if self.importance.value() < 0 else self.importance.value(),
                "confidence": None if self.confidence.value() < 0 else self.confidence.value(),
                "review_date": self.review_date.text(),
                "start_date": date.today().isoformat() if self.goal is None else self.goal.start_date}

    # --- actions ------------------------------------------------------------------------------

    def save_goal(self) -> None:
        values = self.goal_values()
        if self.plan is None:
            # Not agreed yet: checked now, kept until Agree plan.
            if not values["area"] or not values["goal_text"].strip():
                show_error(self, _missing("Choose the goal's area and write the goal in the client's words."))
                return
            if self.goal is not None and getattr(self.goal, "id", None) is None:
                self.pending[self.goal.position] = values
            else:
                self.pending.append(values)
            self.goals.set_rows(list(self._pending_rows()))
            self._edit(None, focus=True)
            return
        if self.goal is None:
            self.worker.submit(self.store.plans.add_goal, self.plan.id, values,
                               on_done=self._saved_goal, on_error=lambda e: show_error(self, e))
        else:
            self.worker.submit(self.store.plans.update_goal, self.goal.id, values,
                               expected_version=self.goal.row_version,
                               on_done=self._saved_goal, on_error=lambda e: show_error(self, e))

    def _saved_goal(self, result) -> None:
        self.changed.emit(result)

    def review_goal(self) -> None:
        if self.goal is None or getattr(self.goal, "id", None) is None:
            return
        dialog = ReviewDialog(self.goal, self)
        self.review_dialog = dialog
        goal = self.goal

        def finished(result: int) -> None:
            self.review_dialog = None
            if result:
                self.worker.submit(self.store.plans.review_goal, goal.id, dialog.values(),
                                   expected_version=goal.row_version, on_done=self._saved_goal,
                                   on_error=lambda e: show_error(self, e))
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def agree(self) -> None:
        referral_id = self.referral.currentData()
        if referral_id is None:
            return
        values = {"agreed_date": self.agreed_date.text(), "what_matters": _text(self.what_matters)}
        if self.plan is None:
            self.worker.submit(self.store.plans.add, referral_id, values, goals=list(self.pending),
                               on_done=self._saved_goal, on_error=lambda e: show_error(self, e))
        else:
            self.worker.submit(self.store.plans.agree, self.plan.id, values, expected_version=self.plan.row_version,
                               on_done=self._saved_goal, on_error=lambda e: show_error(self, e))


def _missing(message: str):
    from db.errors import FieldError, ValidationError
    return ValidationError(FieldError("goal_text", message))
