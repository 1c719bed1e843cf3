"""The Assessments tab of the client record: the form (drawn from the instrument data), the client's
assessments so far, and charts of each series with its meaningful-change threshold."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from db.public import INSTRUMENTS, codes

from ..models import RowTableModel
from ..models.columns import show_date
from ..models.table import Column
from .charts import ChartsPanel
from .form import AssessmentForm, describe_score


def _score_text(a) -> str:
    if a.instrument not in INSTRUMENTS:
        return ""
    from types import SimpleNamespace
    scored = SimpleNamespace(scores=a.scores, bands=a.bands, computable=a.is_result,
                             reason=a.not_computable_reason, notes=())
    return describe_score(a.instrument, scored)


DONE = (
    Column("assessed_date", "Date", lambda a: show_date(a.assessed_date), lambda a: a.assessed_date),
    Column("instrument", "Instrument", lambda a: INSTRUMENTS[a.instrument].name if a.instrument in INSTRUMENTS
           else a.instrument),
    Column("timepoint", "When", lambda a: codes.label("timepoint", a.timepoint)),
    Column("score", "Score", _score_text),
)


class AssessmentsTab(QWidget):
    changed = Signal(object)

    def __init__(self, store, worker, parent=None):
        super().__init__(parent)
        self.store, self.worker = store, worker
        self.record = None
        layout = QVBoxLayout(self)
        self.inner = QTabWidget()
        self.inner.setAccessibleName("Assessments")
        split = QSplitter(Qt.Vertical)
        self.form = AssessmentForm(store, worker)
        split.addWidget(self.form)
        from ..widgets.common import table_view
        self.done = RowTableModel(DONE, self)
        self.done_view = table_view("Assessments recorded", self.done, sortable=False)
        split.addWidget(self.done_view)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.inner.addTab(split, "New assessment")
        self.charts = ChartsPanel(store)
        self.inner.addTab(self.charts, "Charts")
        layout.addWidget(self.inner)
        self.form.saved.connect(self.changed.emit)
        self._charts_key, self._charts_stale = None, True
        self.inner.currentChanged.connect(lambda _: self._show_charts())

    def show_client(self, record) -> None:
        self.record = record
        client = record.client if record else None
        referral = None
        if record and record.referrals:
            referral = next((r for r in record.referrals if r.status != "CLOSED"), record.referrals[0])
        may = client is not None and self.store.may("edit_client", client.id)
        before = (self.form.client_id, self.form.referral_id)
        self.form.set_client(client.id if client else None, referral.id if referral else None, may)
        if before != (self.form.client_id, self.form.referral_id):
            self._default_timepoint(record, referral)
        self.done.set_rows(list(record.assessments) if record else [])
        self.done_view.resizeColumnsToContents()
        # Charts are drawn when their tab is shown, and again only when the assessments change.
        key = (client.id if client else None, tuple(a.id for a in record.assessments) if record else ())
        if key != self._charts_key:
            self._charts_key, self._charts_stale = key, True
        self._show_charts()

    def _show_charts(self) -> None:
        if self._charts_stale and self.inner.currentWidget() is self.charts:
            self._charts_stale = False
            self.charts.show_client(self.record.client if self.record else None)

    def _default_timepoint(self, record, referral) -> None:
        # The first assessment of a referral is its baseline; later ones are reviews until the trainer says exit.
        started = referral is not None and any(a.referral_id == referral.id for a in record.assessments)
        self.form.timepoint.setCurrentIndex(self.form.timepoint.findData("REVIEW" if started else "BASELINE"))
