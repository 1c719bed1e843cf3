"""Reading an .xlsx workbook for the import: values only, fast, and suspicious.

openpyxl reads the workbook's parts (shared strings, styles for date formats, the
sheet list); the sheets themselves go through a small row parser here, because
openpyxl's read-only sheets first parse a whole sheet just to find its size when
the file does not say it (openpyxl's own files), and build an object per inline
string. Cached values are read (data_only), but a formula cell is still
recognised: one with no cached value (never calculated, e.g. written by a script)
is reported by cell instead of being read as blank.

Before parsing, one C-speed pass over the sheet's XML finds the last row holding
anything and the merged ranges, so a sheet with a million blank formatted rows is
read only as far as its data goes (those rows never become Python objects).

openpyxl's ExcelReader steps and the workbook's date-format sets are private
names: this module is the only place that touches them (openpyxl 3.1), and
tests/db/test_import.py exercises every path.
"""
from __future__ import annotations

import bisect
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHEET_MAIN_NS

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # OLE compound file: encrypted OOXML or old .xls
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_NS = "{%s}" % SHEET_MAIN_NS
_ROW, _CELL, _V, _F, _IS, _T, _R, _SHEET_DATA = (_NS + t for t in ("row", "c", "v", "f", "is", "t", "r", "sheetData"))


class WorkbookUnreadable(Exception):
    """The file cannot be read as an import workbook; the message says why and what to do."""


class CellProblem:
    """A cell that has no usable value: a formula never calculated, or a spreadsheet error.
    Ordinary cells come as their plain values (str, int, float, bool, datetime, time)."""
    __slots__ = ("error",)

    def __init__(self, error: str | None = None):
        self.error = error          # "#N/A", "#DIV/0!"...; None: a formula with no calculated value

    @property
    def formula_without_value(self) -> bool:
        return self.error is None

    def __repr__(self):
        return f"CellProblem({self.error!r})"


NOT_CALCULATED = CellProblem()


@dataclass
class ScanResult:
    last_row: int                     # last row holding a value, formula or inline text (0: none)
    merged: list[str]


# --- opening ---------------------------------------------------------------------

def check_file(path: Path) -> None:
    """Refuse, with a plain reason, anything that is not a readable .xlsx file."""
    if not path.exists():
        raise WorkbookUnreadable(f"There is no file {path}. Check the name and the folder.")
    if not path.is_file():
        raise WorkbookUnreadable(f"{path} is a folder, not a workbook. Give the path of an .xlsx file.")
    with open(path, "rb") as f:
        head = f.read(8)
    if head == _CFB_MAGIC:
        if _contains(path, _ENCRYPTION_INFO):
            raise WorkbookUnreadable(
                f"{path.name} is protected with a password, so it cannot be read. Open it in Excel, remove the "
                "password (File > Info > Protect Workbook > Encrypt with Password, then clear it), save it and import again.")
        raise WorkbookUnreadable(
            f"{path.name} is an old Excel 97-2003 (.xls) file. Open it in Excel and save it as "
            "Excel Workbook (.xlsx), then import that file.")
    if not zipfile.is_zipfile(path):
        if head[:4] == b"PK\x03\x04":          # a zip that was cut short or damaged
            raise _corrupt(path, "the file is incomplete")
        raise WorkbookUnreadable(
            f"{path.name} is not an Excel workbook (.xlsx): it may be a CSV, text or other file. "
            "Open it in Excel and save it as Excel Workbook (.xlsx), or start from 'htdesk template'.")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _corrupt(path, exc) from exc
    if any(n.endswith("workbook.bin") for n in names):
        raise WorkbookUnreadable(
            f"{path.name} is an Excel binary workbook (.xlsb). Open it in Excel and save it as "
            "Excel Workbook (.xlsx), then import that file.")
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise WorkbookUnreadable(
            f"{path.name} is a zip file but not an Excel workbook (.xlsx). Save the data from Excel as "
            "Excel Workbook (.xlsx), or start from 'htdesk template'.")


def _contains(path: Path, needle: bytes) -> bool:
    tail = b""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            if needle in tail + block:
                return True
            tail = block[-len(needle):]
    return False


def _corrupt(path: Path, why) -> WorkbookUnreadable:
    return WorkbookUnreadable(
        f"{path.name} is damaged and cannot be read ({why}). Open it in Excel (which may offer to repair it), "
        "save it as a new .xlsx file and import that.")


class Workbook:
    """An opened workbook: its sheet names, and rows of one sheet at a time."""

    def __init__(self, path: Path):
        check_file(path)
        self.path = path
        self._file = open(path, "rb")
        try:
            # A file object, so openpyxl does not judge the file by its name's extension.
            reader = ExcelReader(self._file, read_only=True, keep_vba=False, data_only=True, keep_links=False)
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            self._archive = reader.archive
            self._strings = reader.shared_strings
            self._epoch = reader.wb.epoch
            self._date_styles = frozenset(reader.wb._date_formats)
            self._timedelta_styles = frozenset(reader.wb._timedelta_formats)
            self._sheets: dict[str, str | None] = {}
            for sheet, rel in reader.parser.find_sheets():
                worksheet = "chartsheet" not in rel.Type and rel.target in reader.valid_files
                self._sheets[sheet.name] = rel.target if worksheet else None
        except Exception as exc:   # openpyxl raises many kinds for a damaged file
            self._file.close()
            raise _corrupt(path, f"{exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        self._archive.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def is_worksheet(self, name: str) -> bool:
        return self._sheets.get(name) is not None

    def scan(self, name: str) -> ScanResult:
        try:
            with self._archive.open(self._sheets[name]) as src:
                return _scan(src)
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
            raise _corrupt(self.path, exc) from exc

    def rows(self, name: str, last_row: int) -> Iterator[tuple[int, dict[int, object]]]:
        """(row number, {column number: value or CellProblem}) for rows up to last_row that have values."""
        if last_row <= 0:
            return
        try:
            with self._archive.open(self._sheets[name]) as src:
                yield from self._parse(src, last_row)
        except (zipfile.BadZipFile, EOFError, ParseError, KeyError) as exc:
            raise _corrupt(self.path, f"sheet {name}: {exc}") from exc

    def _parse(self, src, last_row: int) -> Iterator[tuple[int, dict[int, object]]]:
        strings, dates, durations, epoch = self._strings, self._date_styles, self._timedelta_styles, self._epoch
        columns: dict[str, int] = {}
        row_number = 0
        for _, el in iterparse(src):
            if el.tag != _ROW:
                if el.tag == _SHEET_DATA:
                    return
                continue
            r = el.get("r")
            row_number = int(float(r)) if r else row_number + 1
            if row_number > last_row:
                return
            found: dict[int, object] = {}
            column = 0
            for c in el:
                if c.tag != _CELL:
                    continue
                ref = c.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    column = columns.get(letters) or columns.setdefault(letters, column_index_from_string(letters))
                else:
                    column += 1
                kind = c.get("t", "n")
                if kind == "inlineStr":
                    box = c.find(_IS)
                    if box is not None:
                        found[column] = _inline_text(box)
                    continue
                value = c.findtext(_V)
                if not value:
                    # No value: blank, unless a formula was never calculated (e.g. written by a script).
                    # A formula Excel calculated to "" is saved as t="str" with an empty value: blank.
                    if kind != "str" and c.find(_F) is not None:
                        found[column] = NOT_CALCULATED
                    continue
                if kind == "n":
                    value = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                    style = c.get("s")
                    if style is not None and int(style) in dates:
                        try:
                            value = from_excel(value, epoch, timedelta=int(style) in durations)
                        except (OverflowError, ValueError):
                            value = CellProblem("#VALUE! (not a possible date)")
                elif kind == "s":
                    value = strings[int(value)]
                elif kind == "b":
                    value = value.strip() in ("1", "true")
                elif kind == "e":
                    value = CellProblem(value)
                elif kind == "d":
                    value = from_ISO8601(value)
                found[column] = value
            el.clear()                     # done with it: its cells need not stay in memory
            if found:
                yield row_number, found


def _inline_text(box) -> str:
    """The text of an inline string: its <t>, or the <t> of each rich-text run (phonetic hints left out)."""
    parts = []
    for child in box:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            t = child.find(_T)
            if t is not None:
                parts.append(t.text or "")
    return "".join(parts)


# The raw-XML pass: row starts (regex, one match per row, not per cell), then for each
# row only whether anything in it makes a cell non-blank (bytes.find, in C).
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["']([0-9.]+)["']""")
_MERGE = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\sref\s*=\s*["']([A-Za-z0-9:$]+)["']""")
_CONTENT = (b"<v>", b"<is>", b"<f>", b"<f ", b"<f/>", b":v>", b":is>", b":f>", b":f ")
_CHUNK = 1 << 22


def _scan(src) -> ScanResult:
    row = 0
    last = 0
    merged: list[str] = []
    buf = b""
    final = False
    while not final:
        block = src.read(_CHUNK)
        final = not block
        buf += block
        starts = []
        for m in _ROW_TAG.finditer(buf):
            n = _ROW_NUMBER.search(m.group(1))
            row = int(float(n.group(1))) if n else row + 1
            starts.append((m.start(), row))
        # Every row but the last is whole; the last waits for the next block (its end may be there).
        whole = len(starts) if final else len(starts) - 1
        if whole > 0:
            end = len(buf) if final else starts[-1][0]
            found = max(buf.rfind(marker, starts[0][0], end) for marker in _CONTENT)
            if found >= 0:
                at = bisect.bisect_right(starts, (found, float("inf"))) - 1
                last = max(last, starts[at][1])
        if final:
            merged += [m.group(1).decode("ascii").replace("$", "") for m in _MERGE.finditer(buf)]
        elif starts:
            # Keep the unfinished last row; it is matched again next time, so step its number back.
            cut, number = starts[-1]
            merged += [m.group(1).decode("ascii").replace("$", "") for m in _MERGE.finditer(buf, 0, cut)]
            buf = buf[cut:]
            row = number - 1
        else:
            # Before the first row (a long header part): keep a little in case a tag is cut in two.
            buf = buf[-4096:]
    return ScanResult(last, merged)


def merged_in_rows(merged: list[str], first_row: int, last_row: int) -> list[tuple[str, int | None]]:
    """(range, its first row) for the merged ranges that touch rows first_row..last_row."""
    found = []
    for ref in merged:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except ValueError:
            continue
        if min_row is None or (min_row <= last_row and (max_row or min_row) >= first_row):
            found.append((ref, min_row))
    return found


def cell_name(column: int, row: int) -> str:
    return f"{get_column_letter(column)}{row}"


def plain(value: object) -> object:
    """A cell value with times and durations made comparable (HH:MM text)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, datetime) and (value.hour or value.minute) and value.date() == datetime(1899, 12, 30).date():
        return value.strftime("%H:%M")
    return value
