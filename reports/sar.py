"""A subject access bundle (UK GDPR): everything held about one person, in one zip file.

`write_bundle(out, data)`: data is db.rights.SubjectData (from store.privacy.write_subject_access,
which audits the hand-over only once the file is there). The zip holds:
- REF-everything-held.pdf: a readable PDF, a section per kind of record, each record as a list of
  what is held (DejaVu Sans embedded, so any name prints), ending with who has viewed or changed
  the record;
- REF-everything-held.xlsx: the same as a workbook, a sheet per section, every text cell text;
- documents/: every plan and letter kept with the record, byte for byte as printed;
- README.txt: what each file is.
Written under a temporary name beside the target and renamed into place when complete.
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from db.rights import AUDIT_TITLE, SubjectData

from . import fonts

_LABELS = {"nhs_number": "NHS number", "imd_decile": "IMD decile", "imd_quintile": "IMD quintile",
           "lsoa_code": "LSOA code", "gp_registered": "GP registered", "gp_practice_code": "GP practice code",
           "gp_practice_name": "GP practice name", "sha256": "SHA-256 fingerprint", "id": "Number",
           "username": "Account", "at": "When", "entity_id": "Record number"}


# Coded columns (db/codes.py lists) printed as their label with the code, so the PDF reads as words.
_CODED = {"gender": "gender", "ethnicity": "ethnicity", "employment": "employment", "source": "source",
          "area": "area", "status": None, "closure_reason": "closure_reason", "mode": "mode", "type": None,
          "attendance": "attendance", "outcome": None, "category": "signposting_category", "priority": "priority",
          "disability": "disability", "gp_registered": "yes_no_unknown", "interpreter_needed": "yes_no_unknown",
          "carer": "yes_no_unknown", "consent_share_gp": "yes_no_unknown", "method": "contact_method",
          "timepoint": "timepoint"}
_BY_SECTION = {("Referrals", "status"): "referral_status", ("Sessions", "type"): "session_type",
               ("Goals", "status"): "goal_status", ("Signposting", "type"): "signposting_type",
               ("Signposting", "outcome"): "signposting_outcome", ("Contact attempts", "outcome"): "contact_outcome",
               ("Goal reviews", "outcome"): "goal_status"}
_FLAGS = {"contact_phone", "contact_text", "contact_letter", "contact_email", "may_leave_message", "asian_thresholds",
          "is_result"}


def readable(section: str, column: str, value) -> str:
    """A stored value as words for the PDF: a code with its label, a 0/1 flag as No/Yes."""
    text = shown(value)
    if value is None or value == "":
        return text
    if column in _FLAGS and value in (0, 1):
        return "Yes" if value else "No"
    list_name = _BY_SECTION.get((section, column)) or _CODED.get(column)
    if list_name:
        from db import codes
        try:
            words = codes.label(list_name, str(value))
        except Exception:
            words = None
        if words and words != str(value):
            return f"{words} ({value})"
    return text


def label(column: str) -> str:
    return _LABELS.get(column) or column.replace("_", " ").capitalize()


def shown(value) -> str:
    """A value as a person reads it: JSON objects and lists spelt out, nothing as None."""
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return f"({len(value):,} bytes)"
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            return "; ".join(f"{k}: {shown(v) if not isinstance(v, str) else v}" for k, v in parsed.items())
        if isinstance(parsed, list):
            return "; ".join(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
                             for v in parsed)
    return str(value)


def base_name(data: SubjectData) -> str:
    return f"{data.client_ref}-everything-held"


def _styles():
    fonts.register()
    return {
        "title": ParagraphStyle("t", fontName=fonts.BOLD, fontSize=18, leading=23, spaceAfter=6),
        "h": ParagraphStyle("h", fontName=fonts.BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4,
                            textColor=colors.HexColor("#1f3a5f")),
        "p": ParagraphStyle("p", fontName=fonts.REGULAR, fontSize=10, leading=13.5),
        "small": ParagraphStyle("s", fontName=fonts.REGULAR, fontSize=9, leading=12),
        "label": ParagraphStyle("l", fontName=fonts.BOLD, fontSize=9, leading=12),
    }


def build_pdf(data: SubjectData) -> bytes:
    st = _styles()
    story = [Paragraph(f"Everything {escape(data.service_name)} holds about {escape(data.display_name)}", st["title"]),
             Paragraph(f"Reference {escape(data.client_ref)}. Prepared on {escape(data.prepared_on)} by "
                       f"{escape(data.prepared_by)} in answer to a subject access request (UK GDPR, article 15).",
                       st["p"]),
             Paragraph("Each section lists one kind of record: every field we hold, as stored. Copies of the plans "
                       "and letters printed for you are in the documents folder of this bundle, exactly as "
                       "printed. The last section lists every time a member of staff viewed or changed your record.",
                       st["p"])]
    width = A4[0] - 36 * mm
    for section in data.sections:
        story.append(Paragraph(f"{escape(section.title)} ({len(section.rows)})", st["h"]))
        if not section.rows:
            story.append(Paragraph("Nothing held.", st["small"]))
            continue
        if section.title == AUDIT_TITLE:
            story.extend(_audit_tables(section, st, width))
            continue
        for n, row in enumerate(section.rows, 1):
            pairs = [(label(c), readable(section.title, c, v)) for c, v in zip(section.columns, row)
                     if v not in (None, "")]
            cells = [[Paragraph(escape(k), st["label"]), Paragraph(escape(v), st["small"])] for k, v in pairs]
            table = Table(cells, colWidths=[width * 0.3, width * 0.7])
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.HexColor("#9aa8b8")),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("TOPPADDING", (0, 0), (-1, -1), 1.5)]))
            head = Paragraph(f"{escape(section.title)}: {n} of {len(section.rows)}", st["label"]) \
                if len(section.rows) > 1 else Spacer(1, 1)
            story.append(KeepTogether([head, table]) if len(cells) < 30 else table)
            story.append(Spacer(1, 4))
    buf = io.BytesIO()

    def footer(canv, doc):
        canv.saveState()
        canv.setFont(fonts.REGULAR, 8)
        canv.drawString(18 * mm, 10 * mm, f"{data.client_ref} \u00b7 subject access \u00b7 {data.prepared_on}")
        canv.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {doc.page}")
        canv.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"Everything held about {data.client_ref}",
                            author=data.service_name)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


_CHUNK = 40   # rows per table: reportlab splits one long table across pages in quadratic time


def _audit_tables(section, st, width) -> list:
    return [_audit_table(section.rows[i:i + _CHUNK], section.columns, st, width)
            for i in range(0, len(section.rows), _CHUNK)]


def _audit_table(chunk, columns, st, width) -> Table:
    """When, who, what and which record as plain cells (cheap), the detail as a wrapping paragraph;
    a long account name or detail never runs over the next column."""
    cols = ("at", "username", "action", "entity", "detail")
    idx = [columns.index(c) for c in cols]
    widths = [width * f for f in (0.2, 0.14, 0.1, 0.14, 0.42)]
    rows = [["When", "Who", "What", "Record", "Detail"]]
    for r in chunk:
        at, who, action, entity, detail = (shown(r[i]) for i in idx)
        who = who or "the system"
        cells = [at.replace("T", " ")[:16], who, action, entity.replace("_", " ")]
        cells = [c if pdfmetrics.stringWidth(c, fonts.REGULAR, 8) < w - 6 else Paragraph(escape(c), st["small"])
                 for c, w in zip(cells, widths)]
        rows.append(cells + [Paragraph(escape(detail), st["small"]) if detail else ""])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONT", (0, 0), (-1, 0), fonts.BOLD, 9),
                               ("FONT", (0, 1), (-1, -1), fonts.REGULAR, 8),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                               ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef2f6")])]))
    return table


def _sheet_title(title: str, used: set) -> str:
    name = re.sub(r"[\[\]\*\?/\\:]", "", title)[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def build_workbook(data: SubjectData) -> bytes:
    """A sheet per section, a header row of field names, every text cell text (never a formula)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set = set()
    for section in data.sections:
        ws = wb.create_sheet(_sheet_title(section.title, used))
        ws.append([label(c) for c in section.columns])
        for row in section.rows:
            ws.append([shown(v) if isinstance(v, (str, bytes)) or v is None else v for v in row])
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"          # a name beginning with = stays the characters typed
                    cell.number_format = "@"
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = min(60, max(10, max(len(str(c.value or "")) for c in col) + 2))
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _readme(data: SubjectData, names: list[str]) -> str:
    lines = [f"Subject access bundle for {data.client_ref}, prepared on {data.prepared_on} by {data.prepared_by}.",
             "", f"{base_name(data)}.pdf   everything held, to read", f"{base_name(data)}.xlsx  the same as a workbook",
             "documents/    every plan and letter kept with the record, exactly as printed:"]
    lines += [f"  {n}" for n in names] or ["  (none)"]
    return "\n".join(lines) + "\n"


def document_names(data: SubjectData) -> list[str]:
    names, seen = [], set()
    for d in data.documents:
        name = f"{d.id:05d}-{Path(d.file_name).name}"
        while name in seen:
            name = "x" + name
        seen.add(name)
        names.append(name)
    return names


def write_bundle(out: Path | str, data: SubjectData, on_progress=None) -> Path:
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    steps = 3 + len(data.documents)
    progress = on_progress or (lambda done, total, label: None)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            progress(0, steps, "Writing the PDF")
            z.writestr(f"{base_name(data)}.pdf", build_pdf(data))
            progress(1, steps, "Writing the workbook")
            z.writestr(f"{base_name(data)}.xlsx", build_workbook(data))
            names = document_names(data)
            for i, (doc, name) in enumerate(zip(data.documents, names)):
                progress(2 + i, steps, f"Adding {name}")
                z.writestr(f"documents/{name}", doc.content)
            z.writestr("README.txt", _readme(data, names))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    progress(steps, steps, "Done")
    return out
