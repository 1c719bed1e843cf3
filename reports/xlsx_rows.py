"""Many plain rows into a workbook openpyxl laid out: the export's fast path (issue 15).

openpyxl writes the workbook's frame, everything but the records: the Instructions and Codes sheets,
each sheet's header row with its colours and comments, column widths, frozen panes and drop-downs.
The records themselves (a 50,000-client service has about ten million cells) are written here
straight into each sheet's <sheetData> as the XML openpyxl's write-only mode writes for the same
values: text as inline strings (t="inlineStr"), numbers as numbers, dates as day numbers with the
yyyy-mm-dd format. openpyxl made an object and an element per cell, about 25 us a cell; here a row
is one string, about 1 us a cell, so a 50,000-client export takes seconds instead of minutes.

Only the values the export gives are written: str, int, float, bool, date (and datetime, as its
day and time). Anything else is refused as openpyxl would, and so is text XML cannot hold
(control characters other than tab, line feed and carriage return).
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from xml.etree import ElementTree

from openpyxl.utils import get_column_letter

from db.errors import Cancelled

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_EPOCH = date(1899, 12, 30)
_EPOCH_DT = datetime(1899, 12, 30)
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE = " \t\n\r"
CHECK_EVERY = 1000           # rows between progress reports and looks at Cancel
MAX_ROW = 1_048_576          # Excel's last row: a sheet with more cannot be opened whole


class TooManyRows(ValueError):
    """A sheet would hold more rows than a spreadsheet can open."""


class IllegalText(ValueError):
    """Text that an .xlsx file cannot hold (a control character)."""


def sheet_parts(skeleton: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML (read from the workbook and its relationships)."""
    book = ElementTree.fromstring(skeleton.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(skeleton.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")}
    out = {}
    for sheet in book.iter(f"{{{_MAIN}}}sheet"):
        target = targets[sheet.get(f"{{{_REL}}}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _date_style(styles_xml: str) -> tuple[str, int]:
    """styles.xml with a yyyy-mm-dd cell format (the one openpyxl made when a date was written, or a
    new one), and that format's index."""
    found = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy-mm-dd"\s*/>', styles_xml)
    if found:
        fmt_id = int(found.group(1))
    else:
        ids = [int(i) for i in re.findall(r'<numFmt numFmtId="(\d+)"', styles_xml)]
        fmt_id = max([163, *ids]) + 1
        tag = f'<numFmt numFmtId="{fmt_id}" formatCode="yyyy-mm-dd" />'
        if re.search(r'<numFmts count="\d+"\s*/>', styles_xml):
            styles_xml = re.sub(r'<numFmts count="\d+"\s*/>', lambda m: f'<numFmts count="1">{tag}</numFmts>',
                                styles_xml, count=1)
        elif "<numFmts" in styles_xml:
            styles_xml = re.sub(r'<numFmts count="(\d+)">',
                                lambda m: f'<numFmts count="{int(m.group(1)) + 1}">' + tag, styles_xml, count=1)
        else:
            styles_xml = re.sub(r"(<styleSheet[^>]*>)", lambda m: m.group(1) + f'<numFmts count="1">{tag}</numFmts>',
                                styles_xml, count=1)
    xfs = re.search(r'<cellXfs count="(\d+)">(.*?)</cellXfs>', styles_xml, re.S)
    entries = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs.group(2), re.S)
    for i, xf in enumerate(entries):
        if f'numFmtId="{fmt_id}"' in xf and 'fontId="0"' in xf and 'fillId="0"' in xf:
            return styles_xml, i
    new = (f'<xf numFmtId="{fmt_id}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1" '
           f'pivotButton="0" quotePrefix="0" xfId="0" />')
    styles_xml = (styles_xml[:xfs.start()] + f'<cellXfs count="{len(entries) + 1}">' + xfs.group(2) + new
                  + "</cellXfs>" + styles_xml[xfs.end():])
    return styles_xml, len(entries)


def _text(value: str) -> str:
    if _SPECIAL.search(value):
        if _ILLEGAL.search(value):
            raise IllegalText(f"{value[:40]!r}: text with a control character cannot be written to a workbook")
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return value


class _Cells:
    """The XML of one sheet's rows: a cell's value, type and style after its reference, memoised for
    text that comes again (codes, references, names)."""

    def __init__(self, columns: int, date_style: int):
        self.refs = [f'<c r="{get_column_letter(i)}' for i in range(1, columns + 1)]
        self.date_style = date_style
        self.texts: dict[str, str] = {}

    def text(self, value: str) -> str:
        tail = self.texts.get(value)
        if tail is None:
            if len(self.texts) > 50_000:         # repeated codes and names; a bound on memory
                self.texts.clear()
            space = ' xml:space="preserve"' if value and (value[0] in _WHITESPACE or value[-1] in _WHITESPACE) else ""
            tail = self.texts[value] = f'" t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
        return tail

    def row(self, number: int, values: Iterable) -> str:
        out = [f'<row r="{number}">']
        refs, n = self.refs, str(number)
        for i, v in enumerate(values):
            if v is None:
                continue
            t = type(v)
            if t is str:
                out.append(refs[i] + n + self.text(v))
            elif t is int or t is float:
                out.append(f'{refs[i]}{n}" t="n"><v>{v!r}</v></c>')
            elif t is date:
                out.append(f'{refs[i]}{n}" s="{self.date_style}" t="n"><v>{(v - _EPOCH).days}</v></c>')
            elif t is bool:
                out.append(f'{refs[i]}{n}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, datetime):
                days = (v.replace(tzinfo=None) - _EPOCH_DT).total_seconds() / 86400
                out.append(f'{refs[i]}{n}" s="{self.date_style}" t="n"><v>{days!r}</v></c>')
            elif isinstance(v, date):
                out.append(f'{refs[i]}{n}" s="{self.date_style}" t="n"><v>{(v - _EPOCH).days}</v></c>')
            elif isinstance(v, str):
                out.append(refs[i] + n + self.text(str(v)))
            elif isinstance(v, (int, float)):
                out.append(f'{refs[i]}{n}" t="n"><v>{v!r}</v></c>')
            else:
                raise TypeError(f"Cannot write {v!r} ({t.__name__}) to a workbook cell")
        out.append("</row>")
        return "".join(out)


def fill(skeleton: bytes, target, rows: Mapping[str, Iterable[tuple]], *, first_row: Mapping[str, int],
         widths: Mapping[str, int], total: int = 0, on_progress: Callable[[int, int, str], None] | None = None,
         cancelled: Callable[[], bool] | None = None, compresslevel: int = 1) -> None:
    """Copy the workbook `skeleton` (bytes of an .xlsx openpyxl saved) into `target` (a file object),
    adding each sheet's rows after the rows it already has: rows[name] from row first_row[name],
    widths[name] columns at most. Raises Cancelled when cancelled() says so (every CHECK_EVERY rows)."""
    done = 0
    with zipfile.ZipFile(io.BytesIO(skeleton)) as src, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as out:
        parts = {part: name for name, part in sheet_parts(src).items() if name in rows}
        styles, date_style = _date_style(src.read("xl/styles.xml").decode("utf-8"))
        for info in src.infolist():
            name = parts.get(info.filename)
            if info.filename == "xl/styles.xml":
                out.writestr(info.filename, styles)
                continue
            if name is None:
                out.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=compresslevel)
                continue
            xml = src.read(info.filename).decode("utf-8")
            at = xml.find("</sheetData>")
            if at < 0:                                   # an empty <sheetData /> (no header either)
                at = xml.index("<sheetData />") + len("<sheetData")
                xml = xml[:at] + "></sheetData>" + xml[at + len(" />"):]
                at = xml.find("</sheetData>")
            cells = _Cells(widths[name], date_style)
            with out.open(info.filename, "w", force_zip64=True) as part:
                part.write(xml[:at].encode("utf-8"))
                number = first_row[name]
                chunk: list[str] = []
                for values in rows[name]:
                    if number > MAX_ROW:
                        raise TooManyRows(f"The sheet {name} would hold more than {MAX_ROW - 1:,} records, more than "
                                          "Excel or LibreOffice can open: nothing was written.")
                    chunk.append(cells.row(number, values))
                    number += 1
                    done += 1
                    if len(chunk) == CHECK_EVERY:
                        part.write("".join(chunk).encode("utf-8"))
                        chunk = []
                        if cancelled is not None and cancelled():
                            raise Cancelled("The export was cancelled: no file was written.")
                        if on_progress is not None:
                            on_progress(done, total, f"Writing {name}")
                part.write("".join(chunk).encode("utf-8"))
                part.write(xml[at:].encode("utf-8"))
