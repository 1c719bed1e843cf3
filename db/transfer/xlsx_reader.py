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

Fast path (issue 15): a sheet whose raw pass shows nothing unusual (no formula, no
error cell, row numbers in order) is read by python-calamine (Rust), several times
faster than the row parser below; everything else still goes through the row
parser, which names each odd cell. calamine is only handed a file whose zip
directory passed check_sizes and whose shared strings passed their limits.
"""
from __future__ import annotations

import bisect
import math
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import ParseError, iterparse
from xml.parsers import expat

try:
    import python_calamine
except ImportError:            # the fast path is optional: the row parser reads everything too
    python_calamine = None
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # OLE compound file: encrypted OOXML or old .xls
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_NS = "{%s}" % SHEET_MAIN_NS
_ROW, _CELL, _V, _F, _IS, _T, _R, _SHEET_DATA = (_NS + t for t in ("row", "c", "v", "f", "is", "t", "r", "sheetData"))


class WorkbookUnreadable(Exception):
    """The file cannot be read as an import workbook; the message says why and what to do."""


class WorkbookTooLarge(WorkbookUnreadable):
    """A hard limit was reached (checked before anything is inflated, and again while streaming)."""


# Hard limits, so a hostile or broken file is refused within seconds and within the memory
# budget of PRODUCT.md (400 MB). A 10,000-client workbook uses a few per cent of each.
MAX_TOTAL_BYTES = 1 << 30            # all parts together, uncompressed
MAX_SHEET_BYTES = 512 << 20          # one worksheet part, uncompressed
MAX_STRINGS_BYTES = 256 << 20        # the shared-strings part, uncompressed
MAX_OTHER_PART_BYTES = 32 << 20      # styles, workbook, relationships...: openpyxl reads these whole
MAX_RATIO = 200                      # uncompressed : compressed, for parts over RATIO_FLOOR
RATIO_FLOOR = 4 << 20
MAX_PARTS = 10_000
MAX_SHARED_STRINGS = 1_500_000
MAX_SHARED_CHARS = 64_000_000        # all shared strings together
MAX_TEXT_CHARS = 32_767              # one cell's text (Excel's own limit)
MAX_ROW_BYTES = 16 << 20             # the XML of one row (or of what comes before the first row)
MAX_ROWS = 1_048_576                 # Excel's own limits
MAX_COLUMNS = 16_384


class CellProblem:
    """A cell that has no usable value: a formula never calculated, a spreadsheet error, or a
    cell whose stored value cannot be what its type says (malformed: the reason).
    Ordinary cells come as their plain values (str, int, float, bool, datetime, time)."""
    __slots__ = ("error", "malformed")

    def __init__(self, error: str | None = None, malformed: str | None = None):
        self.error = error          # "#N/A", "#DIV/0!"...; None: a formula with no calculated value
        self.malformed = malformed  # why the stored value cannot be read (e.g. "the number 'sixty'")

    @property
    def formula_without_value(self) -> bool:
        return self.error is None and self.malformed is None

    def __repr__(self):
        return f"CellProblem({self.error!r})"


NOT_CALCULATED = CellProblem()


@dataclass
class ScanResult:
    last_row: int                     # last row holding a value, formula or inline text (0: none)
    merged: list[str]
    plain: bool = False               # no formula, no error cell, rows numbered in order: the fast path may read it


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
    except Exception as exc:   # zipfile raises many kinds for a damaged directory (even NotImplementedError)
        raise _corrupt(path, f"{exc.__class__.__name__}: {exc}") from exc
    check_sizes(path)
    if any(n.endswith("workbook.bin") for n in names):
        raise WorkbookUnreadable(
            f"{path.name} is an Excel binary workbook (.xlsb). Open it in Excel and save it as "
            "Excel Workbook (.xlsx), then import that file.")
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise WorkbookUnreadable(
            f"{path.name} is a zip file but not an Excel workbook (.xlsx). Save the data from Excel as "
            "Excel Workbook (.xlsx), or start from 'htdesk template'.")


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB" if n >= 1 << 20 else f"{n / 1024:,.0f} KB"


def check_sizes(path: Path) -> None:
    """The zip directory's sizes against the hard limits, before anything is inflated."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except Exception as exc:   # zipfile raises many kinds for a damaged directory (even NotImplementedError)
        raise _corrupt(path, f"{exc.__class__.__name__}: {exc}") from exc
    if len(infos) > MAX_PARTS:
        raise WorkbookTooLarge(f"{path.name} holds {len(infos):,} parts (the limit is {MAX_PARTS:,}): it is not an "
                               "ordinary workbook. Save the data from Excel as a new .xlsx file.")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise WorkbookTooLarge(f"{path.name} would unpack to {_mb(total)} (the limit is {_mb(MAX_TOTAL_BYTES)}): "
                               "split the rows over two workbooks and import each.")
    for i in infos:
        limit = part_limit(i.filename)
        if i.file_size > limit:
            raise WorkbookTooLarge(f"{path.name}: its part {i.filename} would unpack to {_mb(i.file_size)} (the limit "
                                   f"is {_mb(limit)}). Split the rows over two workbooks, or save a clean copy "
                                   "from Excel.")
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise WorkbookTooLarge(f"{path.name}: its part {i.filename} unpacks {i.file_size // max(i.compress_size, 1):,} "
                                   f"times larger than it is stored (the limit is {MAX_RATIO} times): this is "
                                   "what a 'zip bomb' does, not a workbook. It was not opened.")


def part_limit(name: str) -> int:
    low = name.lower()
    if low.startswith("xl/worksheets/") and low.endswith(".xml"):
        return MAX_SHEET_BYTES
    if low.endswith("sharedstrings.xml"):
        return MAX_STRINGS_BYTES
    if low.startswith(("xl/media/", "xl/embeddings/", "docprops/thumbnail")):
        return MAX_SHEET_BYTES      # pictures are never read
    return MAX_OTHER_PART_BYTES


class _Counted:
    """A part's stream that stops at its limit while inflating (the directory may lie)."""

    def __init__(self, src, name: str, limit: int, path: Path):
        self._src, self._name, self._limit, self._path, self.read_bytes = src, name, limit, path, 0

    def read(self, n: int = -1) -> bytes:
        block = self._src.read(n if n is not None and n >= 0 else 1 << 20)
        self.read_bytes += len(block)
        if self.read_bytes > self._limit:
            raise WorkbookTooLarge(f"{self._path.name}: its part {self._name} unpacks to more than {_mb(self._limit)} "
                                   "(the limit): it was not read further. Split the rows over two workbooks.")
        return block


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
        self._fast = None          # python_calamine's workbook, opened when a plain sheet is read
        self._plain: dict[str, bool] = {}
        self._file = open(path, "rb")
        try:
            # A file object, so openpyxl does not judge the file by its name's extension.
            reader = ExcelReader(self._file, read_only=True, keep_vba=False, data_only=True, keep_links=False)
            reader.read_manifest()
            strings = reader.package.find(SHARED_STRINGS)
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            self._archive = reader.archive
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
        try:
            self._strings = self._read_strings(strings.PartName[1:]) if strings is not None else []
        except WorkbookUnreadable:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise _corrupt(path, f"shared strings: {exc.__class__.__name__}: {exc}") from exc


    def _read_strings(self, name: str) -> list[str]:
        """The shared strings, streamed through expat so every limit is checked as it goes: the
        number of strings, each string's length, all their characters together."""
        strings: list[str] = []
        parts: list[str] = []
        state = {"depth_si": 0, "in_t": 0, "in_rph": 0, "length": 0, "chars": 0}
        path = self.path

        def start(tag, attrs):
            local = tag.rsplit(" ", 1)[-1]
            if local == "si":
                state["depth_si"] = 1
                parts.clear()
                state["length"] = 0
            elif local == "rPh":
                state["in_rph"] += 1
            elif local == "t" and state["depth_si"] and not state["in_rph"]:
                state["in_t"] = 1

        def end(tag):
            local = tag.rsplit(" ", 1)[-1]
            if local == "si":
                text = "".join(parts).replace("x005F_", "")
                strings.append(text)
                state["depth_si"] = 0
                if len(strings) > MAX_SHARED_STRINGS:
                    raise WorkbookTooLarge(
                        f"{path.name} holds more than {MAX_SHARED_STRINGS:,} different texts (the limit): split the "
                        "rows over two workbooks.")
            elif local == "rPh":
                state["in_rph"] -= 1
            elif local == "t":
                state["in_t"] = 0

        def text(data):
            if state["in_t"]:
                parts.append(data)
                state["length"] += len(data)
                state["chars"] += len(data)
                if state["length"] > MAX_TEXT_CHARS:
                    raise WorkbookTooLarge(
                        f"{path.name} holds a text of more than {MAX_TEXT_CHARS:,} characters (text number "
                        f"{len(strings) + 1:,} of its shared strings; Excel's own limit for a cell): shorten it.")
                if state["chars"] > MAX_SHARED_CHARS:
                    raise WorkbookTooLarge(
                        f"{path.name} holds more than {MAX_SHARED_CHARS:,} characters of text (the limit): split the "
                        "rows over two workbooks.")

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = False
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        try:
            with self._archive.open(name) as raw:
                src = _Counted(raw, name, MAX_STRINGS_BYTES, path)
                while True:
                    block = src.read(1 << 20)
                    parser.Parse(block, not block)
                    if not block:
                        break
        except WorkbookUnreadable:
            raise
        except Exception as exc:   # expat, zipfile and zlib errors of a damaged part
            raise _corrupt(path, f"shared strings: {exc.__class__.__name__}: {exc}") from exc
        return strings

    def close(self) -> None:
        archive = getattr(self, "_archive", None)
        if archive is not None:
            archive.close()
        self._file.close()
        if self._fast is not None:
            try:
                self._fast.close()
            except Exception:
                pass
            self._fast = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def is_worksheet(self, name: str) -> bool:
        return self._sheets.get(name) is not None

    def _open(self, name: str):
        part = self._sheets[name]
        return _Counted(self._archive.open(part), part, part_limit(part), self.path)

    def scan(self, name: str) -> ScanResult:
        try:
            src = self._open(name)
            try:
                result = _scan(src, name, self.path)
                self._plain[name] = result.plain
                return result
            finally:
                src._src.close()
        except WorkbookUnreadable:
            raise
        except Exception as exc:   # zipfile, zlib and the XML parser raise many kinds for a damaged part
            raise _corrupt(self.path, f"sheet {name}: {exc.__class__.__name__}: {exc}") from exc

    def rows(self, name: str, last_row: int) -> Iterator[tuple[int, dict[int, object]]]:
        """(row number, {column number: value or CellProblem}) for rows up to last_row that have values."""
        if last_row <= 0:
            return
        fast = self._fast_rows(name, last_row)
        if fast is not None:
            yield from fast
            return
        try:
            src = self._open(name)
            try:
                yield from self._parse(src, last_row, name)
            finally:
                src._src.close()
        except WorkbookUnreadable:
            raise
        except (zipfile.BadZipFile, EOFError, ParseError, KeyError, zlib.error, OSError, NotImplementedError) as exc:
            raise _corrupt(self.path, f"sheet {name}: {exc}") from exc
        except Exception as exc:   # a part no writer would make
            raise WorkbookUnreadable(f"Sheet {name} of {self.path.name} cannot be read ({exc.__class__.__name__}: "
                                     f"{exc}). Open the workbook in Excel, save it as a new .xlsx file and import "
                                     "that.") from exc

    def _fast_rows(self, name: str, last_row: int):
        """The sheet's rows read by python-calamine, when its raw pass (scan) found it plain; else None.
        Read whole before the first row is given out, so a calamine error falls back to the row parser."""
        if python_calamine is None or not self._plain.get(name):
            return None
        try:
            if self._fast is None:
                self._fast = python_calamine.CalamineWorkbook.from_path(str(self.path))
            sheet = self._fast.get_sheet_by_name(name)
            start_row, start_col = sheet.start or (0, 0)
            out = []
            first = start_col + 1
            for i, values in enumerate(sheet.iter_rows()):
                number = start_row + i + 1
                if number > last_row:
                    break
                # Blank cells dropped first (most cells of a wide sheet), then only the others typed.
                found = {j: v for j, v in enumerate(values, first) if v != "" and v is not None}
                if not found:
                    continue
                for j, value in found.items():
                    kind = type(value)
                    if kind is str:
                        if len(value) > MAX_TEXT_CHARS:
                            found[j] = CellProblem(malformed=f"its text is longer than {MAX_TEXT_CHARS:,} characters")
                    elif kind is float:
                        if value.is_integer() and abs(value) < 1e15:
                            found[j] = int(value)           # as the row parser gives whole numbers
                        elif not math.isfinite(value):
                            found[j] = CellProblem(malformed="it is not a usable number")
                    elif kind is date:
                        found[j] = datetime(value.year, value.month, value.day)   # as the row parser gives dates
                out.append((number, found))
            return out
        except Exception:          # anything calamine cannot read plainly: the row parser names the cell
            return None

    def _parse(self, src, last_row: int, name: str) -> Iterator[tuple[int, dict[int, object]]]:
        strings, dates, durations, epoch = self._strings, self._date_styles, self._timedelta_styles, self._epoch
        columns: dict[str, int] = {}
        row_number = 0
        for _, el in iterparse(src):
            if el.tag != _ROW:
                if el.tag == _SHEET_DATA:
                    return
                continue
            r = el.get("r")
            if r:
                number = _whole(r)
                if number is None or not row_number < number <= MAX_ROWS:
                    raise WorkbookUnreadable(
                        f"Sheet {name}: the row after row {row_number} has the row number {r[:20]!r}, which cannot be "
                        f"(rows run upwards from 1 to {MAX_ROWS:,}). Open the workbook in Excel, save it as a new "
                        ".xlsx file and import that.")
                row_number = number
            else:
                row_number += 1
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
                    column = columns.get(letters) or _column(letters, columns)
                    if column is None or ref[len(letters):] != str(row_number):
                        raise WorkbookUnreadable(
                            f"Sheet {name}, row {row_number}: the cell reference {ref[:20]!r} is not a cell of this "
                            f"row (cells run from A to {get_column_letter(MAX_COLUMNS)}). Open the workbook in Excel, "
                            "save it as a new .xlsx file and import that.")
                else:
                    column += 1
                    if column > MAX_COLUMNS:
                        raise WorkbookTooLarge(f"Sheet {name}, row {row_number}: more than {MAX_COLUMNS:,} columns.")
                kind = c.get("t", "n")
                if kind == "inlineStr":
                    box = c.find(_IS)
                    if box is not None:
                        text = _inline_text(box)
                        found[column] = text if len(text) <= MAX_TEXT_CHARS else CellProblem(
                            malformed=f"its text is longer than {MAX_TEXT_CHARS:,} characters")
                    continue
                value = c.findtext(_V)
                if not value:
                    # No value: blank, unless a formula was never calculated (e.g. written by a script).
                    # A formula Excel calculated to "" is saved as t="str" with an empty value: blank.
                    if kind != "str" and c.find(_F) is not None:
                        found[column] = NOT_CALCULATED
                    continue
                found[column] = _value(value, kind, c.get("s"), strings, dates, durations, epoch)
            el.clear()                     # done with it: its cells need not stay in memory
            if found:
                yield row_number, found


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _column(letters: str, cache: dict[str, int]) -> int | None:
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        return None
    try:
        n = column_index_from_string(letters.upper())
    except ValueError:
        return None
    if n > MAX_COLUMNS:
        return None
    cache[letters] = n
    return n


def _value(value: str, kind: str, style, strings, dates, durations, epoch):
    """One stored value as what its type says, or a CellProblem saying why it cannot be."""
    if kind == "n":
        try:
            number = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
        except ValueError:
            return CellProblem(malformed=f"it is marked as a number but holds {value[:30]!r}")
        if isinstance(number, float) and not math.isfinite(number):
            return CellProblem(malformed=f"it holds {value[:30]!r}, which is not a usable number")
        if style is not None:
            try:
                style = int(style)
            except ValueError:
                return CellProblem(malformed=f"its format number {style[:20]!r} is not a number")
            if style in dates:
                try:
                    return from_excel(number, epoch, timedelta=style in durations)
                except (OverflowError, ValueError, TypeError):
                    return CellProblem("#VALUE! (not a possible date)")
        return number
    if kind == "s":
        index = _whole(value)
        if index is None or index >= len(strings):
            return CellProblem(malformed=f"it refers to text number {value[:20]!r} of the workbook's shared texts, "
                                         f"which holds {len(strings):,}")
        return strings[index]
    if kind == "b":
        flag = value.strip().lower()
        if flag not in ("0", "1", "true", "false"):
            return CellProblem(malformed=f"it is marked as TRUE/FALSE but holds {value[:30]!r}")
        return flag in ("1", "true")
    if kind == "e":
        return CellProblem(value[:30])
    if kind == "d":
        try:
            return from_ISO8601(value)
        except (ValueError, TypeError, OverflowError):
            return CellProblem(malformed=f"it is marked as a date but holds {value[:30]!r}")
    if kind in ("str", "inlineStr"):
        return value if len(value) <= MAX_TEXT_CHARS else CellProblem(
            malformed=f"its text is longer than {MAX_TEXT_CHARS:,} characters")
    return CellProblem(malformed=f"its type {kind[:20]!r} is not one a spreadsheet writes")


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


def _row_too_large(sheet: str, where: str) -> WorkbookTooLarge:
    return WorkbookTooLarge(f"Sheet {sheet}: {where} is larger than {_mb(MAX_ROW_BYTES)} (the limit for one row): it "
                            "is not an ordinary worksheet. Save the data from Excel as a new .xlsx file.")


# Anything that sends a sheet to the row parser: a formula (or anything else starting <f), a
# namespace prefix, an error cell, an ISO date cell (t="d"). Over-matching is safe (the row parser reads everything).
_UNPLAIN = (b"<f", b":f", b't="e"', b"t='e'", b't="d"', b"t='d'", b":c ", b":row")
_CELL_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"')
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_ODD_VALUE = re.compile(rb"<v>[^<]*?[^0-9.eE+\-<][^<]*?</v>")   # a stored value that is not a number or index
MAX_FAST_CELLS = 8_000_000     # rows x columns python-calamine may lay out for one sheet (a grid in memory)


def _scan(src, name: str = "", path: Path | None = None) -> ScanResult:
    before_first, seen_row = 0, False
    row = 0
    last = 0
    plain = True
    previous = 0
    max_row = max_col = 0
    column_of: dict[bytes, int] = {}
    merged: list[str] = []
    buf = b""
    final = False
    while not final:
        block = src.read(_CHUNK)
        final = not block
        buf += block
        starts = []
        numbers: list[int | None] = []
        for m in _ROW_TAG.finditer(buf):
            n = _ROW_NUMBER.search(m.group(1))
            number = _whole(n.group(1).decode("ascii")) if n else row + 1
            row = number if number is not None else row + 1    # _parse names a bad number with its row
            starts.append((m.start(), row))
            numbers.append(number)
        # One row (or what comes before the first) must stay small: a real row is a few KB, and
        # the parser would hold one whole.
        edges = [at for at, _ in starts] + [len(buf)]
        for i, (at, number) in enumerate(starts):
            if edges[i + 1] - at > MAX_ROW_BYTES:
                raise _row_too_large(name, f"row {number}")
        if not starts:
            before_first += len(block)
            if before_first > MAX_ROW_BYTES and not seen_row:
                raise _row_too_large(name, "the part before its first row")
        else:
            seen_row = True
        # Every row but the last is whole; the last waits for the next block (its end may be there).
        whole = len(starts) if final else len(starts) - 1
        for number in numbers[:max(whole, 0)]:      # the unfinished last row is matched again next time
            if number is None or not previous < number <= MAX_ROWS:
                plain = False
            previous = max(previous, number or 0)
        if plain and starts:
            # calamine lays a sheet out as a grid, so every cell's reference must be plain and the grid
            # small: a hostile reference (ZZZZZZZZ3, or a cell far from its row) goes to the row parser.
            end = len(buf) if final else starts[-1][0]
            data_end = buf.find(b"sheetData>", starts[-1][0]) if final else -1
            if data_end >= 0:
                end = data_end      # what follows the rows (data validations' <formula1>...) is not a cell
            if any(buf.find(marker, 0, end) >= 0 for marker in _UNPLAIN) or _ODD_VALUE.search(buf, 0, end):
                plain = False
            else:
                # Two passes in C, each giving plain bytes, and only the distinct values looked at here
                # (a 90,000-row sheet has a million cells but a few hundred thousand distinct rows).
                letters_found = _CELL_LETTERS.findall(buf, 0, end)
                if len(letters_found) != buf.count(b"<c ", 0, end) + buf.count(b"<c>", 0, end):
                    plain = False
                elif letters_found:
                    for letters in set(letters_found):
                        if letters not in column_of:
                            column_of[letters] = column_index_from_string(letters.decode("ascii"))
                        max_col = max(max_col, column_of[letters])
                    max_row = max(max_row, max(map(int, set(_CELL_ROW.findall(buf, 0, end)))))
                    if max_row > previous or max_row * max_col > MAX_FAST_CELLS:
                        plain = False
        if whole > 0:
            end = len(buf) if final else starts[-1][0]
            found = max(buf.rfind(marker, starts[0][0], end) for marker in _CONTENT)
            if found >= 0:
                at = bisect.bisect_right(starts, (found, float("inf"))) - 1
                last = max(last, starts[at][1])
        has_merge = b"mergeCell" in buf
        if final:
            if has_merge:
                merged += [m.group(1).decode("ascii").replace("$", "") for m in _MERGE.finditer(buf)]
        elif starts:
            # Keep the unfinished last row; it is matched again next time, so step its number back.
            cut, number = starts[-1]
            if has_merge:
                merged += [m.group(1).decode("ascii").replace("$", "") for m in _MERGE.finditer(buf, 0, cut)]
            buf = buf[cut:]
            row = number - 1
        else:
            # Before the first row (a long header part): keep a little in case a tag is cut in two.
            buf = buf[-4096:]
    return ScanResult(last, merged, plain)


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
