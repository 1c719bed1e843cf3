"""The import workbook as an .xlsx file (openpyxl): the blank template and the full export.

Both come from db/transfer/workbook_spec.py, so they always match what the import
reads: every sheet and header, a Codes sheet listing every code list (code and
label), and drop-downs on coded columns that refer to the Codes sheet. The
template adds one grey EXAMPLE row per sheet (the import skips it). The export
writes every record (rows from store.transfer.export_rows): openpyxl lays out the
frame, and reports/xlsx_rows.py streams the records into each sheet's XML. Files are written beside the target and renamed
into place, so an interrupted write never leaves half a workbook.
"""
from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from db.connection import sweep_folder, temp_beside
from db.transfer import workbook_spec as spec
from reports import xlsx_rows

MAX_ROW = 1_048_576
DATE_FORMAT = "yyyy-mm-dd"
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FILL = PatternFill("solid", fgColor="EDEDED")
_EXAMPLE_FONT = Font(color="808080", italic=True)
_HEADER_FONT = Font(bold=True)

ProgressFn = Callable[[int, int, str], None]




def write_template(path: Path | str) -> Path:
    """A blank import workbook: headers, one grey EXAMPLE row per sheet, Codes sheet, drop-downs."""
    examples = {s.name: [[_example(c) for c in s.columns]] for s in spec.sheets()}
    return _write(Path(path), {name: iter(()) for name in examples}, examples=examples)


def write_export(path: Path | str, rows: Mapping[str, Iterable[tuple]], *, counts: Mapping[str, int] | None = None,
                 on_progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None) -> Path:
    """Every record, as store.transfer.export_rows gives them, in the import workbook format."""
    return _write(Path(path), rows, counts=counts, on_progress=on_progress, cancelled=cancelled)


def _example(column: spec.Column):
    if column.example is None:
        return None
    if column.kind == spec.DATE:
        return date.fromisoformat(column.example)
    return column.example


def _write(path: Path, rows: Mapping[str, Iterable[tuple]], *, examples=None, counts=None, on_progress=None,
           cancelled=None) -> Path:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ValueError(f"{path.name}: give a file name ending in .xlsx")
    wb = Workbook(write_only=True)
    try:
        first_row = _fill(wb, examples)
    except BaseException:
        _discard(wb)
        raise
    # openpyxl writes the frame (headers, drop-downs, Instructions, Codes: small); the records go
    # straight into each sheet's XML (reports/xlsx_rows.py), about 25 times faster than a cell object each.
    frame = io.BytesIO()
    wb.save(frame)
    widths = {s.name: len(s.columns) for s in spec.sheets()}
    data = io.BytesIO()
    xlsx_rows.fill(frame.getvalue(), data, {name: rows[name] for name in first_row if name in rows},
                   first_row=first_row, widths=widths, total=sum((counts or {}).values()),
                   on_progress=on_progress, cancelled=cancelled)
    del frame
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_folder(path.parent)            # what a killed run left here
    temp = temp_beside(path, ".xlsx")    # names this process; renamed into place when whole
    try:
        # Zipped in memory (a few tens of MB even for a large service), then written in one go: a full
        # disk then fails in our own write, not in a zip file left for the garbage collector to
        # close (which printed tracebacks after the message).
        with open(temp, "wb") as f:
            f.write(data.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        del data
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if on_progress is not None:
        total = sum((counts or {}).values())
        on_progress(total, total, "Saved")
    return path


def _discard(wb: Workbook) -> None:
    """Close the sheets' streams and remove openpyxl's temporary files after a cancel or error."""
    for ws in wb.worksheets:
        try:
            ws.close()
        except Exception:
            pass
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            try:
                writer.cleanup()
            except Exception:
                pass


def instructions() -> list[str]:
    """The Instructions sheet, one line a row: how to fill the workbook, and what each sheet holds
    (the sheets and columns added after IMPORT.md v1 are named as such)."""
    lines = [
        f"Health Trainer Desk import workbook (format version {spec.FORMAT_VERSION})",
        "",
        "How to fill it in",
        "- One row per record. Column headers must stay as they are (case and spaces do not matter; order is free).",
        "- Grey rows starting EXAMPLE are skipped. Blank rows are skipped.",
        "- Dates: real dates, or text YYYY-MM-DD or D/M/YYYY (two-digit years are refused). Times HH:MM.",
        "- Coded columns take the code, its label, or the drop-down's 'code – label' (Codes sheet). Common forms "
        "such as Male, Female, Pakistani, DNA, Did not attend or Self referral are accepted and noted in the report.",
        "- Several codes in one cell (reasons, other_roles) are separated by ;",
        "- Rows refer to each other by client_ref, referral_ref, username, venue_code and directory name.",
        "- Check first with: htdesk import FILE.xlsx --dry-run. The import is all or nothing; the report lists "
        "every problem by sheet, row and column, with the choices for a coded column.",
        "- Importing the same workbook twice changes nothing: rows already there are compared, never overwritten.",
        "- Imported staff get a locked account with no password: an administrator sets one "
        "(htdesk user passwd USERNAME, then htdesk user unlock USERNAME).",
        "- BMI, scores, deprivation and referral status are worked out by the app, never read from here.",
        "",
        "Sheets (* = required column)",
    ]
    for s in spec.sheets():
        added = [c.name for c in s.columns if c.since > 1]
        cols = ", ".join(c.name + ("*" if c.required else "") for c in s.columns if c.since == 1)
        head = f"{s.name}" + (" (optional sheet, added after v1)" if s.optional else "")
        lines.append(f"{head}: {s.about}" if s.about else head)
        lines.append(f"    Columns: {cols}")
        if added:
            lines.append(f"    Optional columns added after v1: {', '.join(added)}")
        lines.append(f"    A row is recognised again by: {s.identity}")
    lines += [
        "",
        "Added after v1 (a v1 workbook without them imports exactly as before)",
        "- Staff other_roles (more roles of one person) and account_ended; no password ever leaves or enters.",
        "- Venues open_days (Mon;Wed;Fri) and active (Y/N).",
        "- Clients: consent_version, gp_practice_name, contact_phone/text/letter/email and may_leave_message (Y/N), "
        "asian_thresholds (Y: the lower BMI thresholds), archived_date; for a person erased, anonymised_at and "
        "the deprivation kept for the returns (erased_lsoa_code, erased_imd_...).",
        "- Referrals of a person erased: erased_figures_dob and erased_nhs_valid, what the return's figures keep.",
        "- Referrals age_override_by: the manager who agreed to support a client under 16.",
        "- Signposting outcome_date, follow_up_date and directory_name.",
        "- Directory, Plans (what matters to me, contacts chosen, plans with no goals), Session history (the diary's "
        "moves and cancellations with reasons) and Contact attempts sheets. A referral with contact attempts and no "
        "trainer shows as 'Trying to contact'.",
        "- Plan versions sheet: each agreed version of a plan as it stood (written by htdesk export).",
        "- Goal reviews and Session goals sheets: each review of a goal, and the goals worked on in each session.",
        "- Settings sheet: settings chosen in the app (global, the service's, a venue's).",
        "- Documents sheet: kept PDFs, in the folder FILE-documents beside the workbook (htdesk export writes it; "
        "the import checks each file's SHA-256).",
        "- Safeguarding prompts sheet: each prompt an answer raised, the steps shown and who acknowledged them.",
        "- Return runs sheet: each quarterly return built; its figures, and for a submitted one the workbook as "
        "sent and the referrals behind each figure, are files in the folder FILE-documents.",
        "- Sessions: next_steps and group_title (one group booking per title, trainer and venue). Goals: start_date.",
        "- A session still to come may be cancelled (attendance 2 or 4) only with its cancellation on the Session "
        "history sheet; any other attendance on a future date is refused, as in v1.",
    ]
    return lines


def _write_instructions(wb: Workbook) -> None:
    ws = wb.create_sheet(spec.INSTRUCTIONS_SHEET)
    ws.column_dimensions["A"].width = 100
    sheet_names = {s.name for s in spec.sheets()}
    for i, line in enumerate(instructions()):
        bold = (i == 0 or line in ("How to fill it in", "Sheets (* = required column)")
                or line.startswith("Added after") or line.split(" (")[0].split(":")[0] in sheet_names)
        # Short lines, one a row (a wrapped cell would need a row height a streamed sheet cannot set).
        indent = " " * (len(line) - len(line.lstrip()) + (2 if line.lstrip().startswith("- ") else 4))
        for j, part in enumerate(textwrap.wrap(line, 90, subsequent_indent=indent, break_on_hyphens=False) or [""]):
            cell = WriteOnlyCell(ws, value=part)
            if bold and j == 0:
                cell.font = _HEADER_FONT
            ws.append([cell])


def _fill(wb: Workbook, examples) -> dict[str, int]:
    """Every sheet with its header and example rows; returns sheet name -> the row its records start on."""
    code_ranges = _codes_sheet_ranges()
    first_row = {}
    _write_instructions(wb)
    for s in spec.sheets():
        ws = wb.create_sheet(s.name)
        _lay_out(ws, s, code_ranges)
        ws.append([_header_cell(ws, c) for c in s.columns])
        sample = (examples or {}).get(s.name, [])
        for values in sample:
            ws.append(_example_row(ws, s, values))
        first_row[s.name] = 2 + len(sample)
    _write_codes_sheet(wb)
    return first_row


def _lay_out(ws, s: spec.Sheet, code_ranges: dict[str, str]) -> None:
    ws.freeze_panes = "A2"
    for i, c in enumerate(s.columns, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(c.width, len(c.name) + 2)
        target = f"{letter}2:{letter}{MAX_ROW}"
        dv = None
        if c.code_list:
            # Warning style: the import also takes labels and several codes (reasons),
            # so Excel may not refuse them outright.
            dv = DataValidation(type="list", formula1=code_ranges[c.code_list], allow_blank=True,
                                errorStyle="warning", showErrorMessage=True,
                                errorTitle=c.name, error=f"Choose from the list (Codes sheet, {c.code_list}): "
                                                         "the code, its label or 'code – label' are all accepted.")
        elif c.kind == spec.ANSWER and c.minimum is not None and c.maximum is not None:
            dv = DataValidation(type="whole" if c.whole else "decimal", operator="between",
                                formula1=str(c.minimum), formula2=str(c.maximum), allow_blank=True,
                                errorStyle="warning", showErrorMessage=True, errorTitle=c.name,
                                error=f"{c.name}: a number from {c.minimum} to {c.maximum}.")
        elif c.kind == spec.INT:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                errorStyle="warning", showErrorMessage=True, errorTitle=c.name,
                                error=f"{c.name}: a whole number.")
        elif c.kind == spec.DATE:
            dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                                errorStyle="warning", showErrorMessage=True, errorTitle=c.name,
                                error=f"{c.name}: a date, e.g. 2024-01-31 or 31/01/2024.")
        if dv is None and c.hint:
            dv = DataValidation(allow_blank=True)
        if dv is not None:
            if c.hint:
                dv.showInputMessage = True
                dv.promptTitle = c.name[:32]
                dv.prompt = c.hint[:255]
            dv.add(target)
            ws.data_validations.append(dv)


def _header_cell(ws, c: spec.Column) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=c.name)
    cell.font = _HEADER_FONT
    cell.fill = _REQUIRED_FILL if c.required else _OPTIONAL_FILL
    if c.required:
        cell.comment = Comment("Required", "Health Trainer Desk")
    return cell


def _example_row(ws, s: spec.Sheet, values: list) -> list:
    out = []
    for i, (c, v) in enumerate(zip(s.columns, values)):
        cell = _cell(ws, spec.EXAMPLE_MARK if i == 0 else v, force=True)
        cell.font = _EXAMPLE_FONT
        cell.fill = _EXAMPLE_FILL
        out.append(cell)
    return out


def _cell(ws, value, force: bool = False):
    """A value as a cell: text always as text (a name starting with '=' or reading '#N/A'
    is not a formula or an error), dates as dates shown YYYY-MM-DD."""
    if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, date) or force:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
        return cell
    return value


def _codes_sheet_ranges() -> dict[str, str]:
    """Code list -> the Codes sheet range a drop-down refers to: its "code – label" column, after
    the code and label pairs (so a drop-down shows "2 – Female (including trans woman)")."""
    ranges = {}
    lists = spec.code_lists()
    for i, (name, items) in enumerate(lists.items()):
        letter = get_column_letter(2 * len(lists) + i + 1)
        ranges[name] = f"{spec.CODES_SHEET}!${letter}$2:${letter}${len(items) + 1}"
    return ranges


def _write_codes_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet(spec.CODES_SHEET)
    lists = list(spec.code_lists().items())
    for i, (name, items) in enumerate(lists):
        ws.column_dimensions[get_column_letter(2 * i + 1)].width = max(12, len(name) + 2)
        ws.column_dimensions[get_column_letter(2 * i + 2)].width = min(45, max(14, *(len(lab) for _, lab in items)))
    ws.freeze_panes = "A2"
    for i, (name, items) in enumerate(lists):
        ws.column_dimensions[get_column_letter(2 * len(lists) + i + 1)].width = min(
            50, max(16, *(len(f"{c} – {lab}") for c, lab in items)))
    header = []
    for name, _ in lists:
        for text in (name, f"{name} label"):
            cell = WriteOnlyCell(ws, value=text)
            cell.font = _HEADER_FONT
            header.append(cell)
    for name, _ in lists:                 # the drop-downs' own columns: "code – label"
        cell = WriteOnlyCell(ws, value=f"{name} choice")
        cell.font = _HEADER_FONT
        header.append(cell)
    ws.append(header)
    depth = max(len(items) for _, items in lists)
    for r in range(depth):
        row = []
        for _, items in lists:
            if r < len(items):
                code, lab = items[r]
                row += [_cell(ws, str(code), force=True), lab]
            else:
                row += [None, None]
        for _, items in lists:
            row.append(_cell(ws, f"{items[r][0]} – {items[r][1]}", force=True) if r < len(items) else None)
        ws.append(row)
