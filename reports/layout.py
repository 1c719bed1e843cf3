"""What every printout shares: type sizes (normal and large print), styles,
the letterhead, and page furniture (page numbers, confidentiality line, DEMO).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, HRFlowable, Image, PageTemplate, Paragraph,
                                Spacer, Table, TableStyle)

from db.documents import Letterhead

from . import fonts
from .wording import clean, para

# NHS identity colours: familiar to clients and services, and high contrast on white.
BLUE = colors.HexColor("#005EB8")
DARK_BLUE = colors.HexColor("#003087")
TEXT = colors.HexColor("#212B32")
GREY = colors.HexColor("#4C6272")
PALE = colors.HexColor("#E8EDEE")
PALE_BLUE = colors.HexColor("#E3EEF8")
RULE = colors.HexColor("#AEB7BD")
GREEN = colors.HexColor("#007F3B")
WARM = colors.HexColor("#FFF9E0")

PAGE_WIDTH, PAGE_HEIGHT = A4
SIDE_MARGIN = 18 * mm


@dataclass(frozen=True)
class Theme:
    large_print: bool
    body: float        # body text, points
    small: float       # captions, footers and notes (never below 16 in large print)
    title: float
    h2: float
    h3: float
    quote: float       # a goal in the client's words

    @property
    def leading(self) -> float:
        return round(self.body * 1.38, 1)

    def lead(self, size: float) -> float:
        return round(size * 1.3, 1)

    @property
    def frame_width(self) -> float:
        return PAGE_WIDTH - 2 * SIDE_MARGIN


NORMAL = Theme(False, body=12, small=9.5, title=24, h2=17, h3=13.5, quote=14)
# RNIB's clear print guidance: large print is 16 to 18 point. Nothing in a large-print
# document is smaller than 16, footers and chart labels included.
LARGE = Theme(True, body=16, small=16, title=30, h2=22, h3=18, quote=19)


def theme(large_print: bool) -> Theme:
    return LARGE if large_print else NORMAL


def styles(t: Theme) -> dict[str, ParagraphStyle]:
    fonts.register()
    r, b = fonts.REGULAR, fonts.BOLD
    # No single line of a paragraph left alone at the top or foot of a page.
    base = ParagraphStyle("Body", fontName=r, fontSize=t.body, leading=t.leading, textColor=TEXT,
                          spaceAfter=t.body * 0.5, allowWidows=0, allowOrphans=0)
    return {
        "body": base,
        "body_tight": ParagraphStyle("BodyTight", parent=base, spaceAfter=0),
        "bold": ParagraphStyle("Bold", parent=base, fontName=b),
        "small": ParagraphStyle("Small", parent=base, fontSize=t.small, leading=t.lead(t.small), textColor=GREY,
                                spaceAfter=t.small * 0.4),
        "title": ParagraphStyle("Title", parent=base, fontName=b, fontSize=t.title, leading=t.lead(t.title),
                                textColor=DARK_BLUE, spaceBefore=0, spaceAfter=t.body * 0.6),
        "h2": ParagraphStyle("H2", parent=base, fontName=b, fontSize=t.h2, leading=t.lead(t.h2), textColor=BLUE,
                             spaceBefore=t.body * 1.2, spaceAfter=t.body * 0.3, keepWithNext=1),
        "h3": ParagraphStyle("H3", parent=base, fontName=b, fontSize=t.h3, leading=t.lead(t.h3), textColor=DARK_BLUE,
                             spaceBefore=t.body * 0.5, spaceAfter=t.body * 0.25, keepWithNext=1),
        "h3_table": ParagraphStyle("H3Table", parent=base, fontName=b, fontSize=t.h3, leading=t.lead(t.h3),
                                   textColor=DARK_BLUE, spaceBefore=t.body * 0.5, spaceAfter=t.body * 0.25),
        "label": ParagraphStyle("Label", parent=base, fontName=b, textColor=DARK_BLUE, spaceBefore=t.body * 0.3,
                                spaceAfter=t.body * 0.1, keepWithNext=1),
        "quote": ParagraphStyle("Quote", parent=base, fontName=b, fontSize=t.quote, leading=t.lead(t.quote),
                                spaceAfter=t.body * 0.4),
        "cell": ParagraphStyle("Cell", parent=base, spaceAfter=0),
        "cell_bold": ParagraphStyle("CellBold", parent=base, fontName=b, spaceAfter=0),
        "cell_head": ParagraphStyle("CellHead", parent=base, fontName=b, textColor=colors.white, spaceAfter=0),
        "cell_head_right": ParagraphStyle("CellHeadRight", parent=base, fontName=b, textColor=colors.white,
                                          spaceAfter=0, alignment=TA_RIGHT),
        "head_name": ParagraphStyle("HeadName", parent=base, fontName=b, fontSize=t.h2, leading=t.lead(t.h2),
                                    textColor=BLUE, spaceAfter=2),
        "head_small": ParagraphStyle("HeadSmall", parent=base, fontSize=t.small, leading=t.lead(t.small),
                                     textColor=GREY, spaceAfter=0),
    }


def table_style(commands: list) -> TableStyle:
    """A TableStyle whose plain-string cells use DejaVu too (reportlab's default would name Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR), *commands])


def section(title: str, st: dict, t: Theme, *, in_keep_together: bool = False, lines_below: int = 9) -> list:
    """A section heading with a rule under it, kept with what follows; a new page unless `lines_below`
    lines fit under it, so no heading sits alone at the foot of a page (a KeepTogether does that by itself)."""
    rule = HRFlowable(width="100%", thickness=1.2, color=BLUE, spaceBefore=0, spaceAfter=t.body * 0.6)
    rule.keepWithNext = 1
    heading = [Paragraph(para(title), st["h2"]), rule]
    return heading if in_keep_together else [CondPageBreak(t.leading * lines_below), *heading]


def logo_image(logo: bytes | None, max_width: float, max_height: float) -> Image | None:
    """The service's logo scaled to fit, or None (a logo that cannot be read never stops a print)."""
    if not logo:
        return None
    try:
        width, height = ImageReader(io.BytesIO(logo)).getSize()
    except Exception:
        return None
    scale = min(max_width / width, max_height / height)
    return Image(io.BytesIO(logo), width=width * scale, height=height * scale)


def contact_line(letterhead: Letterhead) -> str:
    s = letterhead.service
    parts = []
    if s.phone:
        parts.append(f"Phone {clean(s.phone)}")
    if s.email:
        parts.append(clean(s.email))
    if letterhead.website:
        parts.append(clean(letterhead.website))
    return "  ·  ".join(parts)


def letterhead(lh: Letterhead, st: dict, t: Theme) -> list:
    """The service's name, logo and contact details, as printed at the top of page 1."""
    s = lh.service
    words = [Paragraph(para(s.name), st["head_name"])]
    if s.address:
        words.append(Paragraph(para(", ".join(x.strip() for x in clean(s.address).splitlines() if x.strip())),
                               st["head_small"]))
    if contact_line(lh):
        words.append(Paragraph(para(contact_line(lh)), st["head_small"]))
    width = t.frame_width
    logo = logo_image(lh.logo, 45 * mm, (24 if t.large_print else 20) * mm)
    if logo is None:
        table = Table([[words]], colWidths=[width])
    else:
        table = Table([[logo, words]], colWidths=[logo.drawWidth + 6 * mm, width - logo.drawWidth - 6 * mm])
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return [table, Spacer(1, 3 * mm), HRFlowable(width="100%", thickness=0.6, color=RULE, spaceAfter=5 * mm)]


def facts_table(rows: list[tuple[str, str]], st: dict, t: Theme, *, label_share: float,
                background=PALE_BLUE) -> Table:
    """Label and value rows in a shaded block (values are Paragraph markup)."""
    label_width = t.frame_width * label_share
    table = Table([[Paragraph(para(k), st["cell_bold"]), Paragraph(v, st["cell"])] for k, v in rows],
                  colWidths=[label_width, t.frame_width - label_width])
    table.setStyle(table_style([
        ("BACKGROUND", (0, 0), (-1, -1), background), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.7), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.5),
        ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.35), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.35),
        ("LINEBELOW", (0, 0), (-1, -2), 0.5, colors.white),
    ]))
    return table


def boxed(flowables: list, t: Theme, background=PALE_BLUE, border=None) -> Table:
    """Flowables in a shaded box (for short blocks only: a table cell never splits over pages)."""
    box = Table([[flowables]], colWidths=[t.frame_width])
    commands = [("BACKGROUND", (0, 0), (-1, -1), background),
                ("LEFTPADDING", (0, 0), (-1, -1), t.body * 0.8), ("RIGHTPADDING", (0, 0), (-1, -1), t.body * 0.8),
                ("TOPPADDING", (0, 0), (-1, -1), t.body * 0.6), ("BOTTOMPADDING", (0, 0), (-1, -1), t.body * 0.4)]
    if border is not None:
        commands.append(("LINEBEFORE", (0, 0), (0, -1), 4, border))
    box.setStyle(table_style(commands))
    return box


# --- page furniture -----------------------------------------------------------------------

@dataclass(frozen=True)
class Furniture:
    footer: str                  # the confidentiality line, on every page
    running_head: str = ""       # at the top of pages after the first
    demo: bool = False           # DEMO across every page


def _head_y(t: Theme) -> float:
    return PAGE_HEIGHT - (12 if t.large_print else 10) * mm


def _draw_demo(canv: Canvas, t: Theme) -> None:
    canv.saveState()
    canv.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.13))
    canv.setFont(fonts.BOLD, 150)
    canv.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canv.rotate(52)
    canv.drawCentredString(0, -50, "DEMO")
    canv.restoreState()
    canv.saveState()
    canv.setFillColor(colors.HexColor("#B00020"))
    canv.setFont(fonts.BOLD, max(t.small, 11))
    canv.drawRightString(PAGE_WIDTH - SIDE_MARGIN, _head_y(t), "DEMO")
    canv.restoreState()


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _Footer:
    """The confidentiality line (wrapped) beside "Page n of N"; its height sets the bottom margin."""

    def __init__(self, f: Furniture, t: Theme, st: dict):
        self.t = t
        self.page_width = stringWidth("Page 88 of 88", fonts.BOLD, t.small)
        self.note = Paragraph(para(f.footer), st["small"])
        _, self.height = self.note.wrap(t.frame_width - self.page_width - 8 * mm, PAGE_HEIGHT)

    @property
    def margin(self) -> float:
        return 9 * mm + self.height + 4 * mm

    def draw(self, canv: Canvas, page: int, total: int) -> None:
        t = self.t
        y_rule = 9 * mm + self.height
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(SIDE_MARGIN, y_rule + 2, PAGE_WIDTH - SIDE_MARGIN, y_rule + 2)
        canv.setFont(fonts.BOLD, t.small)
        canv.setFillColor(TEXT)
        canv.drawRightString(PAGE_WIDTH - SIDE_MARGIN, y_rule - t.small * 1.1, f"Page {page} of {total}")
        self.note.drawOn(canv, SIDE_MARGIN, y_rule - 2 - self.height)
        canv.restoreState()


def _canvas_class(f: Furniture, t: Theme, footer: _Footer) -> type:
    """A canvas that holds pages back until the end, so each can say 'Page 2 of 5'."""
    class _Pages(Canvas):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self._held: list[dict] = []

        def showPage(self):
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._held)
            for n, state in enumerate(self._held, 1):
                self.__dict__.update(state)
                footer.draw(self, n, total)
                if f.demo:   # over the content, translucent: shaded boxes cannot hide it
                    _draw_demo(self, t)
                Canvas.showPage(self)
            Canvas.save(self)
    return _Pages


def render(story: list, t: Theme, furniture: Furniture, *, title: str, author: str) -> bytes:
    """Lay the story out on A4 with the page furniture and return the PDF's bytes."""
    st = styles(t)
    footer = _Footer(furniture, t, st)
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=SIDE_MARGIN, rightMargin=SIDE_MARGIN,
                          topMargin=(20 if t.large_print else 16) * mm, bottomMargin=footer.margin, title=title,
                          author=author, creator="Health Trainer Desk", lang="en-GB",
                          initialFontName=fonts.REGULAR, initialFontSize=t.body)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    head_width = t.frame_width - (stringWidth("DEMO", fonts.BOLD, t.small) + 6 * mm if furniture.demo else 0)

    def on_page(canv, _doc):
        if furniture.running_head and canv.getPageNumber() > 1:
            canv.saveState()
            canv.setFont(fonts.REGULAR, t.small)
            canv.setFillColor(GREY)
            canv.drawString(SIDE_MARGIN, _head_y(t), _fit(furniture.running_head, fonts.REGULAR, t.small, head_width))
            canv.restoreState()

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(story, canvasmaker=_canvas_class(furniture, t, footer))
    return buf.getvalue()


def write_out(pdf: bytes, out: str | Path | BinaryIO | None) -> None:
    """Write the bytes to a path or a binary file object (None: the caller keeps the bytes only)."""
    if out is None:
        return
    if hasattr(out, "write"):
        out.write(pdf)
        return
    path = Path(out)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(pdf)
    tmp.replace(path)   # a reader never sees half a PDF
