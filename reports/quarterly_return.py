"""The quarterly return workbook (RETURN.md "Sheets for people", "Data").

Figures in, file out: every number comes from db.returns (via CaseStore), and
this module only lays them out, so the command line, the dialog and the tests
all see the same numbers. The same figures fill the people's sheets and the
long-form Data sheet.

Identical output for identical data: workbook properties take the run's
generated-at stamp, and the zip entries are re-stamped with it too (openpyxl
stamps them with the time of writing).
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.writer.excel import ExcelWriter

from db.return_labels import DIMENSION_LABELS, code_label
from db.returns import (COUNT, DATA_COLUMNS, MEAN, MEASURES, MEDIAN, PERCENT, POLICY_NONE, SUPPRESSED, Figure,
                        ReturnMeta)

# People's names for the measures (the Definitions sheet gives the full wording).
TITLES = {
    "REFERRALS_RECEIVED": "Referrals received",
    "STARTS": "People starting support",
    "ACTIVE_REFERRALS": "Referrals with an attended session",
    "SESSIONS_ATTENDED": "Sessions attended",
    "SESSIONS_DNA": "Sessions not attended (DNA)",
    "DNA_RATE": "Did-not-attend rate",
    "WAIT_DAYS_MEDIAN": "Median wait to first session",
    "WAIT_WITHIN_28_DAYS": "Started within 28 days",
    "CLOSED": "Referrals closed",
    "STARTS_BY": "Starts by client details",
    "STARTS_IMD_Q1_Q2": "Starts in the most deprived two fifths",
    "STARTS_COMMUNITY_SOURCE": "Starts referred by community or self",
    "PLANS_AGREED": "Personal health plans agreed",
    "GOALS_SET": "Goals set",
    "GOALS_CLOSED": "Goals closed",
    "GOALS_ACHIEVED": "Goals fully or partly achieved",
    "OUTCOME_PAIRS": "Before-and-after pairs",
    "OUTCOME_STOOD_IN": "Pairs using a review result",
    "OUTCOME_MEAN_BASELINE": "Mean at baseline",
    "OUTCOME_MEAN_EXIT": "Mean at exit",
    "OUTCOME_MEAN_CHANGE": "Mean change",
    "OUTCOME_IMPROVED": "Improved",
    "OUTCOME_MEANINGFUL": "Meaningful improvement",
    "SMOKERS_QUIT": "Smokers who quit",
    "AUDITC_POSITIVE_TO_NEGATIVE": "AUDIT-C positive to negative",
    "SIGNPOSTED": "Signposting and onward referrals",
    "DQ_NHS_NUMBER": "Valid NHS number",
    "DQ_POSTCODE_MATCHED": "Postcode matched",
    "DQ_ETHNICITY_RECORDED": "Ethnicity recorded",
    "DQ_PAIRED_WELLBEING": "Closed with a wellbeing pair",
}
POLICY_TEXT = {
    "none": "none (a return to the commissioner: figures as counted)",
    "nhs-england": "nhs-england (tables for publication: counts of 1 to 7 shown as *, other counts "
                   "rounded to the nearest 5, percentages from the rounded counts)",
}
TERMS = (
    ("Attended", "A session with attendance 5 (attended) or 6 (arrived late, was seen)."),
    ("Start", "A referral whose first attended session falls in the period; the start date is that session's date."),
    ("Closed in period", "A referral whose closed date falls in the period."),
    ("Age", "Whole years on the start date (29 February birthdays count from 1 March in other years)."),
    ("Wait", "Calendar days from the date the referral was received to the start date (same day is 0)."),
    ("Client details", "The client's current details; archived clients count like any other."),
    ("Rounding", "Percentages to 1 decimal place, means to 2, medians to 1, computed from unrounded values "
                 "and rounded once, half away from zero."),
    ("Empty value", "A percentage whose denominator is 0 is left empty, with numerator and denominator 0."),
    ("Disclosure control", POLICY_TEXT["nhs-england"] + "; means and medians based on 1 to 7 people show *."),
)

_FORMATS = {COUNT: "#,##0", PERCENT: "0.0", MEDIAN: "0.0", MEAN: "0.00"}
_UNIT_WORDS = {PERCENT: "%", MEDIAN: "days", MEAN: ""}
_FONT = "Calibri"            # the font every spreadsheet program expects (LibreOffice maps it to Carlito)
_BOLD = Font(name=_FONT, bold=True)
_TITLE = Font(name=_FONT, bold=True, size=14)
_HEADING = Font(name=_FONT, bold=True, size=12)
_SUBTLE = Font(name=_FONT, color="555555", size=9)
_HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_RIGHT = Alignment(horizontal="right")


# --- the entry points -----------------------------------------------------------------------

def build_quarterly_return(figures: Iterable[Figure], meta: ReturnMeta, out: str | Path | BinaryIO) -> None:
    """Write the return workbook for these figures (already under meta.disclosure) to out."""
    data = workbook_bytes(figures, meta)
    if hasattr(out, "write"):
        out.write(data)
        return
    Path(out).write_bytes(data)


def build_return(store, period, out: str | Path, *, service_code: str | None = None, sdc: str = "none",
                 on_progress=None, cancelled=None, generated_at: datetime | None = None):
    """Build, record and write the return through the store (store.returns.build) with
    this module's workbook: what the command line and the desktop dialog call."""
    return store.returns.build(period, out, write_workbook=build_quarterly_return, service_code=service_code,
                              sdc=sdc, on_progress=on_progress, cancelled=cancelled, generated_at=generated_at)


def workbook_bytes(figures: Iterable[Figure], meta: ReturnMeta) -> bytes:
    figures = list(figures)
    wb = Workbook()
    book = _Book(wb, figures, meta)
    book.cover(wb.active)
    book.activity()
    book.reach()
    book.plans()
    book.outcomes()
    book.signposting()
    book.data_quality()
    if meta.late_changes:
        book.late_changes()
    book.definitions()
    book.data()
    text_only(wb, book.own_formulas)
    # Document properties are UTC; a naive stamp is local time.
    stamp = meta.generated_at.astimezone(timezone.utc).replace(tzinfo=None)
    props = wb.properties
    props.creator = "Health Trainer Desk"
    props.lastModifiedBy = meta.generated_by
    props.title = f"Quarterly return {meta.period.label}: {meta.service_name}"
    props.subject = f"Health trainer quarterly return, specification version {meta.spec_version}"
    props.created = props.modified = stamp
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _restamp(raw.getvalue(), meta.generated_at)


def text_only(wb: Workbook, own_formulas: set[tuple[str, str]] = frozenset()) -> None:
    """Every cell written as a formula that is not one of the app's own totals becomes text: a
    service or person's name beginning with = (openpyxl reads any such string as a formula) must
    reach the commissioner as the characters typed, never as a live formula or link. Names
    beginning with + - @ are already stored as text cells, which spreadsheets do not evaluate."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and (ws.title, cell.coordinate) not in own_formulas:
                    cell.data_type = "s"


def _restamp(data: bytes, when: datetime) -> bytes:
    """The same zip with every entry dated `when` (and no platform-dependent fields)."""
    stamp = max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


# --- layout ----------------------------------------------------------------------------------

class _Book:
    def __init__(self, wb: Workbook, figures: list[Figure], meta: ReturnMeta):
        self.wb, self.meta = wb, meta
        self.figures = figures
        self.by_key = {f.key: f for f in figures}
        self.live = meta.disclosure == POLICY_NONE     # totals as live SUM formulas
        self.own_formulas: set[tuple[str, str]] = set()   # (sheet, cell) of the app's own SUM totals

    # helpers ----------------------------------------------------------------------

    def fig(self, measure: str, breakdown: str = "all") -> Figure | None:
        return self.by_key.get((measure, breakdown))

    def codes(self, measure: str, dimension: str) -> list[str]:
        prefix = dimension + "="
        return [f.breakdown[len(prefix):] for f in self.figures
                if f.measure == measure and f.breakdown.startswith(prefix)]

    def has(self, measure: str) -> bool:
        return any(f.measure == measure for f in self.figures)

    def sheet(self, title: str, widths: list[int], ws=None):
        ws = ws or self.wb.create_sheet(title)
        ws.title = title
        _widths(ws, widths)     # first: header heights are worked out from the widths
        m = self.meta
        ws["A1"] = title if title != "Cover" else "Health trainer quarterly return"
        ws["A1"].font = _TITLE
        ws["A2"] = (f"{m.service_name} ({m.service_code}) · {m.period.label}: {m.period.dates_text()} · "
                    f"disclosure policy: {m.disclosure}")
        ws["A2"].font = _SUBTLE
        if not self.live and title != "Cover":
            ws["A3"] = ("Published counts are rounded to the nearest 5 (1 to 7 shown as *) one by one, "
                        "so a total may differ from the sum of its rows.")
            ws["A3"].font = _SUBTLE
        ps = ws.page_setup
        ps.orientation = "landscape"
        ps.paperSize = ws.PAPERSIZE_A4
        ps.fitToWidth = 1
        ps.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False
        margins = ws.page_margins
        margins.left = margins.right = 0.5
        margins.top = margins.bottom = 0.6
        margins.header = margins.footer = 0.3
        header = f"{m.service_name} ({m.service_code}) · quarterly return {m.period.label}".replace("&", "&&")
        ws.oddHeader.center.text = header
        ws.oddHeader.center.size = 9
        ws.oddFooter.left.text = f"{title} · disclosure policy: {m.disclosure}".replace("&", "&&")
        ws.oddFooter.left.size = 8
        ws.oddFooter.right.text = "Page &P of &N"
        ws.oddFooter.right.size = 8
        ws.print_title_rows = "1:2"
        return _Cursor(ws, 4)

    def _value_cell(self, ws, row: int, col: int, value, kind: str):
        cell = ws.cell(row, col)
        if value == SUPPRESSED:
            cell.value = SUPPRESSED
            cell.alignment = _RIGHT
        elif value is not None:
            cell.value = value
            cell.number_format = _FORMATS[kind]
        cell.border = _BOX
        return cell

    def _head(self, ws, row: int, headers: list[str], start_col: int = 1) -> float:
        for i, text in enumerate(headers):
            cell = ws.cell(row, start_col + i, text)
            cell.font = _BOLD
            cell.fill = _HEAD_FILL
            cell.border = _BOX
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        return _fit_height(ws, row)

    def _table_start(self, cur: "_Cursor", title: str, headers: list[str], n_rows: int) -> None:
        """Heading and column headers, on a new page when the table would not fit on this one."""
        probe = self._head(cur.ws, cur.row + 1, headers)
        cur.block(_ROW_POINTS * 1.3 + probe + _ROW_POINTS * (n_rows + 1))
        cur.heading(title)
        cur.row += 1

    def headline(self, cur: "_Cursor", title: str, measures: list[str]) -> None:
        """Measure | What it is | Value | Unit | Numerator | Denominator, one row per 'all' figure."""
        present = [m for m in measures if self.fig(m)]
        if not present:
            return
        ws = cur.ws
        self._table_start(cur, title, ["Measure", "What it is", "Value", "Unit", "Numerator", "Denominator"],
                          len(present))
        for m in present:
            f = self.fig(m)
            ws.cell(cur.row, 1, m).border = _BOX
            ws.cell(cur.row, 2, TITLES.get(m, m)).border = _BOX
            self._value_cell(ws, cur.row, 3, f.value, f.kind)
            unit = ws.cell(cur.row, 4, _unit(m))
            unit.border = _BOX
            unit.alignment = Alignment(indent=1)
            for col, v in ((5, f.numerator), (6, f.denominator)):
                self._value_cell(ws, cur.row, col, v, COUNT)
            cur.row += 1
        cur.row += 1

    def crosstab(self, cur: "_Cursor", title: str, dimension: str, codes: list[str], columns: list["_Col"],
                 total: bool = True) -> None:
        """Rows: a breakdown's codes; columns: figures of measures by that breakdown. With
        policy none, count columns total as live SUM formulas (equal to their `all` figure)."""
        if not codes or not any(self.has(c.measure) for c in columns):
            return
        columns = [c for c in columns if self.has(c.measure)]
        ws = cur.ws
        self._table_start(cur, title, ["Code", DIMENSION_LABELS.get(dimension, dimension)] +
                          [c.header for c in columns], len(codes) + (1 if total else 0))
        first = cur.row
        for code in codes:
            ws.cell(cur.row, 1, code).border = _BOX
            ws.cell(cur.row, 1).font = _SUBTLE
            ws.cell(cur.row, 2, code_label(dimension, code)).border = _BOX
            for i, c in enumerate(columns):
                f = self.fig(c.measure, f"{dimension}={code}")
                v = getattr(f, c.attr) if f else None
                self._value_cell(ws, cur.row, 3 + i, v, COUNT if c.attr != "value" else MEASURES[c.measure].kind)
            cur.row += 1
        last = cur.row - 1
        if total:
            ws.cell(cur.row, 1, "Total").font = _BOLD
            ws.cell(cur.row, 2, "All").font = _BOLD
            for col in (1, 2):
                ws.cell(cur.row, col).fill = _TOTAL_FILL
                ws.cell(cur.row, col).border = _BOX
            for i, c in enumerate(columns):
                col = 3 + i
                all_fig = self.fig(*(c.all_from or (c.measure, "all")))
                kind = COUNT if c.attr != "value" else MEASURES[c.measure].kind
                if c.sums and self.live:
                    letter = get_column_letter(col)
                    cell = ws.cell(cur.row, col, f"=SUM({letter}{first}:{letter}{last})")
                    self.own_formulas.add((ws.title, cell.coordinate))
                    cell.number_format = _FORMATS[COUNT]
                    cell.border = _BOX
                else:
                    cell = self._value_cell(ws, cur.row, col, getattr(all_fig, c.attr) if all_fig else None, kind)
                cell.font = _BOLD
                cell.fill = _TOTAL_FILL
            cur.row += 1
        cur.row += 1

    # sheets ----------------------------------------------------------------------

    def cover(self, ws) -> None:
        cur = self.sheet("Cover", [26, 90], ws)
        m = self.meta
        rows = [
            ("Service", m.service_name),
            ("Service code", m.service_code),
            ("Period", m.period.label),
            ("Period starts", m.period.start),
            ("Period ends", m.period.end),
            ("Generated at", m.generated_at.replace(tzinfo=None)),
            ("Generated by", m.generated_by),
            ("Specification version", m.spec_version),
            ("Disclosure policy", m.disclosure),
            ("What the policy means", POLICY_TEXT.get(m.disclosure, m.disclosure)),
            ("Instruments switched on", ", ".join(m.instruments) or "none"),
        ]
        cur.heading("About this return")
        for label, value in rows:
            ws.cell(cur.row, 1, label).font = _BOLD
            cell = ws.cell(cur.row, 2, value)
            cell.alignment = Alignment(horizontal="left", wrap_text=True, vertical="top")
            if isinstance(value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
            elif hasattr(value, "isoformat"):
                cell.number_format = "dd/mm/yyyy"
            _fit_height(ws, cur.row)
            cur.row += 1
        cur.row += 1
        cur.heading("Sign-off")
        ws.cell(cur.row, 1, "Fill in the yellow cells before sending the return.").font = _SUBTLE
        cur.row += 1
        date_row = None
        for label in ("Name", "Role", "Date"):
            ws.cell(cur.row, 1, label).font = _BOLD
            cell = ws.cell(cur.row, 2)
            cell.fill = _INPUT_FILL
            cell.border = _BOX
            if label == "Date":
                cell.number_format = "dd/mm/yyyy"
                date_row = cur.row
            cur.row += 1
        dv = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)",
                            allow_blank=True, showErrorMessage=True, showInputMessage=True,
                            errorTitle="Not a date", error="Enter the sign-off date, for example 15/10/2026.",
                            promptTitle="Sign-off date", prompt="The date the return was signed off (dd/mm/yyyy).")
        ws.add_data_validation(dv)
        dv.add(f"B{date_row}")
        cur.row += 1
        cur.heading("Sheets")
        for name, what in (("Activity", "referrals, starts, sessions, waits, closures"),
                           ("Reach", "who started support: gender, age, ethnic group, deprivation and more"),
                           ("Plans and goals", "personal health plans and goals by area"),
                           ("Outcomes", "before-and-after measures of people whose support ended"),
                           ("Signposting", "signposting and onward referrals"),
                           ("Data quality", "how complete the records behind the figures are"),
                           ("Definitions", "what every measure means"),
                           ("Data", "every figure in long form, for machines")):
            ws.cell(cur.row, 1, name).font = _BOLD
            ws.cell(cur.row, 2, what)
            cur.row += 1
        ws.freeze_panes = "A4"

    def activity(self) -> None:
        cur = self.sheet("Activity", [30, 44, 16, 12, 14, 14])
        self.headline(cur, "Summary", ["REFERRALS_RECEIVED", "STARTS", "ACTIVE_REFERRALS", "SESSIONS_ATTENDED",
                                       "SESSIONS_DNA", "DNA_RATE", "WAIT_DAYS_MEDIAN", "WAIT_WITHIN_28_DAYS",
                                       "CLOSED"])
        self.crosstab(cur, "Referrals received by source", "source", self.codes("REFERRALS_RECEIVED", "source"),
                      [_Col("Referrals received (count)", "REFERRALS_RECEIVED")])
        self.crosstab(cur, "Referrals received by source group", "source_group",
                      self.codes("REFERRALS_RECEIVED", "source_group"),
                      [_Col("Referrals received (count)", "REFERRALS_RECEIVED")])
        self.crosstab(cur, "Sessions attended by mode", "mode", self.codes("SESSIONS_ATTENDED", "mode"),
                      [_Col("Sessions attended (count)", "SESSIONS_ATTENDED")])
        self.crosstab(cur, "Referrals closed by reason", "closure_reason", self.codes("CLOSED", "closure_reason"),
                      [_Col("Referrals closed (count)", "CLOSED")])
        cur.ws.freeze_panes = "C4"

    def reach(self) -> None:
        cur = self.sheet("Reach", [30, 44, 16, 12, 14, 14])
        self.headline(cur, "Summary", ["STARTS", "STARTS_IMD_Q1_Q2", "STARTS_COMMUNITY_SOURCE"])
        for dim in ("gender", "age_band", "ethnic_group", "imd_quintile", "gp_registered", "employment", "disability"):
            self.crosstab(cur, f"People starting support by {DIMENSION_LABELS[dim][0].lower()}{DIMENSION_LABELS[dim][1:]}",
                          dim, self.codes("STARTS_BY", dim),
                          [_Col("Starts (count)", "STARTS_BY", all_from=("STARTS", "all"))])
        cur.ws.freeze_panes = "C4"

    def plans(self) -> None:
        cur = self.sheet("Plans and goals", [30, 44, 18, 16, 18, 16])
        self.headline(cur, "Summary", ["PLANS_AGREED", "GOALS_SET", "GOALS_CLOSED", "GOALS_ACHIEVED"])
        self.crosstab(cur, "Goals by area", "area", self.codes("GOALS_SET", "area"), [
            _Col("Goals set on plans agreed (count)", "GOALS_SET"),
            _Col("Goals closed (count)", "GOALS_CLOSED"),
            _Col("Fully or partly achieved (count)", "GOALS_ACHIEVED", attr="numerator"),
            _Col("Achieved (% of closed)", "GOALS_ACHIEVED", sums=False),
        ])
        self.crosstab(cur, "Goals closed by status", "status", self.codes("GOALS_CLOSED", "status"),
                      [_Col("Goals closed (count)", "GOALS_CLOSED")])
        cur.ws.freeze_panes = "C4"

    def outcomes(self) -> None:
        cur = self.sheet("Outcomes", [30, 44, 16, 14, 14, 14, 14, 16])
        ws = cur.ws
        ws.cell(cur.row, 1, "People whose referral closed in the period, comparing their first baseline result with "
                            "their last exit result (or last review result when there was no exit).").font = _SUBTLE
        cur.row += 2
        cur.used += 2 * _ROW_POINTS
        self.crosstab(cur, "Before-and-after pairs by instrument", "instrument",
                      self.codes("OUTCOME_PAIRS", "instrument"), [
                          _Col("Pairs (referrals)", "OUTCOME_PAIRS"),
                          _Col("Review stood in for exit", "OUTCOME_STOOD_IN"),
                      ], total=False)
        scores = self.codes("OUTCOME_MEAN_BASELINE", "score")
        if scores:
            headers = ["Score", "Score (unit)", "Pairs with the score (n)", "Mean at baseline", "Mean at exit",
                       "Mean change", "Improved (%)", "Meaningful improvement (%)"]
            self._table_start(cur, "Scores before and after", headers, len(scores) + 1)
            for k in scores:
                b = f"score={k}"
                ws.cell(cur.row, 1, k).font = _SUBTLE
                ws.cell(cur.row, 1).border = _BOX
                ws.cell(cur.row, 2, code_label("score", k)).border = _BOX
                base = self.fig("OUTCOME_MEAN_BASELINE", b)
                self._value_cell(ws, cur.row, 3, base.denominator if base else None, COUNT)
                for col, measure in ((4, "OUTCOME_MEAN_BASELINE"), (5, "OUTCOME_MEAN_EXIT"),
                                     (6, "OUTCOME_MEAN_CHANGE"), (7, "OUTCOME_IMPROVED"), (8, "OUTCOME_MEANINGFUL")):
                    f = self.fig(measure, b)
                    cell = self._value_cell(ws, cur.row, col, f.value if f else None, MEASURES[measure].kind)
                    if f is None and measure == "OUTCOME_MEANINGFUL":
                        cell.value = "n/a"
                        cell.alignment = _RIGHT
                        cell.font = _SUBTLE
                cur.row += 1
            ws.cell(cur.row, 1, "Means are over the pairs where the score exists on both sides; a fall is negative. "
                                "Meaningful improvement is reported for weight and wellbeing only.").font = _SUBTLE
            cur.row += 2
        self.headline(cur, "Smoking and alcohol", ["SMOKERS_QUIT", "AUDITC_POSITIVE_TO_NEGATIVE"])
        ws.freeze_panes = "C4"

    def signposting(self) -> None:
        cur = self.sheet("Signposting", [30, 44, 16, 12, 14, 14])
        self.headline(cur, "Summary", ["SIGNPOSTED"])
        self.crosstab(cur, "Signposting by kind of service", "category", self.codes("SIGNPOSTED", "category"),
                      [_Col("Records (count)", "SIGNPOSTED")])
        self.crosstab(cur, "Signposted or referred", "type", self.codes("SIGNPOSTED", "type"),
                      [_Col("Records (count)", "SIGNPOSTED")])
        cur.ws.freeze_panes = "C4"

    def data_quality(self) -> None:
        cur = self.sheet("Data quality", [30, 44, 16, 12, 14, 14])
        ws = cur.ws
        self.headline(cur, "Completeness of the records behind the figures",
                      ["DQ_NHS_NUMBER", "DQ_POSTCODE_MATCHED", "DQ_ETHNICITY_RECORDED", "DQ_PAIRED_WELLBEING"])
        dims = [d for d in ("imd_quintile", "gp_registered", "employment", "disability")
                if self.fig("STARTS_BY", f"{d}=unknown")]
        if dims:
            self._table_start(cur, "People starting support with a detail not recorded",
                              ["Breakdown", "Detail", "Not recorded (starts)"], len(dims))
            for d in dims:
                ws.cell(cur.row, 1, d).font = _SUBTLE
                ws.cell(cur.row, 1).border = _BOX
                ws.cell(cur.row, 2, DIMENSION_LABELS[d]).border = _BOX
                self._value_cell(ws, cur.row, 3, self.fig("STARTS_BY", f"{d}=unknown").value, COUNT)
                cur.row += 1
            ws.cell(cur.row, 1, "A deprivation quintile is not known when there is no postcode, the postcode was "
                                "not found, or the client has no fixed abode.").font = _SUBTLE
            cur.row += 2
        ws.freeze_panes = "C4"

    def late_changes(self) -> None:
        """Figures changed since the period's submitted return (late entries), one a row."""
        cur = self.sheet("Late changes", [30, 44, 16, 16, 16])
        ws = cur.ws
        ws.cell(cur.row, 1, f"{len(self.meta.late_changes)} figure(s) differ from the return submitted on "
                           f"{self.meta.submitted_at}: records entered or changed after it was sent.").font = _BOLD
        cur.row += 2
        self._head(ws, cur.row, ["Measure", "Breakdown", "Submitted", "Now", "Measure id"])
        cur.row += 1
        for c in self.meta.late_changes:
            name, _, code = c.breakdown.partition("=")
            shown = "All" if c.breakdown == "all" else f"{DIMENSION_LABELS.get(name, name)}: {code_label(name, code)}"
            kind = MEASURES[c.measure].kind if c.measure in MEASURES else COUNT
            ws.cell(cur.row, 1, TITLES.get(c.measure, c.measure)).border = _BOX
            ws.cell(cur.row, 2, shown).border = _BOX
            self._value_cell(ws, cur.row, 3, c.old, kind)
            self._value_cell(ws, cur.row, 4, c.new, kind)
            ws.cell(cur.row, 5, f"{c.measure} {c.breakdown}").font = _SUBTLE
            cur.row += 1
        ws.freeze_panes = "A7"

    def definitions(self) -> None:
        cur = self.sheet("Definitions", [28, 28, 9, 10, 26, 72])
        ws = cur.ws
        cur.heading("Measures")
        self._head(ws, cur.row, ["Measure", "Name", "Kind", "Unit", "Breakdowns", "Definition"])
        cur.row += 1
        present = list(dict.fromkeys(f.measure for f in self.figures))
        for m in present:
            d = MEASURES[m]
            for col, value in enumerate((m, TITLES.get(m, m), d.kind, _unit(m), d.breakdowns, d.definition), 1):
                cell = ws.cell(cur.row, col, value)
                cell.alignment = _WRAP
                cell.border = _BOX
            _fit_height(ws, cur.row)
            cur.row += 1
        cur.row += 1
        cur.heading("Terms")
        for term, meaning in TERMS:
            ws.cell(cur.row, 1, term).font = _BOLD
            ws.cell(cur.row, 1).alignment = _WRAP
            ws.cell(cur.row, 2, meaning).alignment = _WRAP
            ws.merge_cells(start_row=cur.row, start_column=2, end_row=cur.row, end_column=6)
            _fit_height(ws, cur.row)
            cur.row += 1
        ws.freeze_panes = "A6"

    def data(self) -> None:
        ws = self.wb.create_sheet("Data")
        _widths(ws, [30, 34, 12, 12, 12])
        ws.append(list(DATA_COLUMNS))
        for c in ws[1]:
            c.font = _BOLD
            c.fill = _HEAD_FILL
        for r, f in enumerate(self.figures, start=2):
            ws.cell(r, 1, f.measure)
            ws.cell(r, 2, f.breakdown)
            for col, v, kind in ((3, f.value, f.kind), (4, f.numerator, COUNT), (5, f.denominator, COUNT)):
                if v is None:
                    continue
                cell = ws.cell(r, col, v)
                if v != SUPPRESSED:
                    cell.number_format = _FORMATS[kind]
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:E{max(1, len(self.figures) + 1)}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        m = self.meta
        ws.oddHeader.center.text = f"{m.service_name} ({m.service_code}) · quarterly return {m.period.label}".replace("&", "&&")
        ws.oddFooter.right.text = "Page &P of &N"


# Printable height of an A4 landscape page at 100% in points (595 less 0.6 in margins and
# the repeated title rows): a table that would cross it starts on a new page instead of
# being split. Rows are taken at Excel's 15 points.
_PAGE_POINTS = 470
_ROW_POINTS = 15


class _Cursor:
    def __init__(self, ws, row: int):
        self.ws, self.row = ws, row
        self.used = _ROW_POINTS          # the blank row under the titles

    def block(self, points: float) -> None:
        """Keep the next `points` of rows on one printed page when they fit on one."""
        if self.used and self.used + points > _PAGE_POINTS:
            self.ws.row_breaks.append(Break(id=self.row - 1))
            self.used = 0
        self.used += points

    def heading(self, text: str) -> None:
        self.ws.cell(self.row, 1, text).font = _HEADING
        self.row += 1


class _Col:
    def __init__(self, header: str, measure: str, attr: str = "value", sums: bool = True,
                 all_from: tuple[str, str] | None = None):
        self.header, self.measure, self.attr = header, measure, attr
        self.sums = sums and (attr != "value" or MEASURES[measure].kind == COUNT)
        self.all_from = all_from


def _unit(measure: str) -> str:
    d = MEASURES[measure]
    if d.kind == COUNT:
        return d.unit
    if d.id.startswith("OUTCOME_MEAN"):
        return "score's unit"
    return _UNIT_WORDS.get(d.kind, d.unit) or d.unit


def _fit_height(ws, row: int) -> float:
    """Row height for wrapped text (spreadsheet programs do not grow rows they are given)."""
    lines = 1
    for cell in ws[row]:
        if isinstance(cell.value, str) and cell.coordinate not in ws.merged_cells:
            width = ws.column_dimensions[cell.column_letter].width or 10
            lines = max(lines, _lines(cell.value, width))
    for merged in ws.merged_cells.ranges:
        if merged.min_row == row:
            width = sum(ws.column_dimensions[get_column_letter(c)].width or 10
                        for c in range(merged.min_col, merged.max_col + 1))
            lines = max(lines, _lines(str(ws.cell(row, merged.min_col).value or ""), width))
    height = _ROW_POINTS * lines
    if lines > 1:
        ws.row_dimensions[row].height = height
    return height


def _lines(text: str, width: float) -> int:
    per_line = max(1, int(width * 1.15) - 1)     # about 1.15 characters of Calibri 11 per width unit
    total = 0
    for para in text.split("\n"):
        words, line, count = para.split(), 0, 1
        for w in words:
            if line and line + 1 + len(w) > per_line:
                count += 1
                line = len(w)
            else:
                line += (1 if line else 0) + len(w)
        total += count
    return total


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


__all__ = ["build_quarterly_return", "build_return", "workbook_bytes", "TITLES"]
