"""The reach and equity report (CLI.md v2 `htdesk report reach`): two or three A4 pages a manager
can take to a commissioner or a board.

Figures in, file out: every number is store.reach.dashboard's (the quarterly return's engine),
so the line "Starts from the two most deprived fifths: N of M (P%)" is the return's Data sheet
figure for the same quarter. The chart is drawn with reportlab's own graphics (no second
drawing library in the PDF path; text stays in the embedded DejaVu font, searchable and sharp).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Polygon, Rect, String, Circle
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table

from db.data_quality import QUALITY_KINDS
from db.reach import ITEMS, OUTCOMES, REACH, ACTIVITY, SECTIONS, Dashboard

from . import fonts
from .layout import BLUE, DARK_BLUE, GREY, PALE, PALE_BLUE, RULE, TEXT, Furniture, boxed, render, section, styles, \
    table_style, theme, write_out
from .wording import para

# Okabe-Ito colours (safe for colour-blind readers) and a different marker for each line.
LINE_COLOURS = [colors.HexColor(c) for c in ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")]
MARKERS = ("circle", "square", "triangle", "diamond", "cross")


def imd_line(dash: Dashboard) -> str:
    """'Starts from the two most deprived fifths: N of M (P%)' for the chosen quarter."""
    f = next(q for q in [dash.quarters[-1]]).figures.get(("STARTS_IMD_Q1_Q2", "all"))
    n, m = (f.numerator or 0, f.denominator or 0) if f is not None else (0, 0)
    shown = f"{f.value:.1f}%" if f is not None and f.value is not None else "no starts with a known quintile"
    return f"Starts from the two most deprived fifths: {n:,} of {m:,} ({shown})"


def authorities(names) -> str:
    """The local authorities, the largest first: three named, then how many more."""
    names = list(names)
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} more local authorities"


def _show(f, unit: str) -> str:
    if f is None or f.value is None:
        return "–"
    v = f.value
    if unit == "%":
        return f"{v:.0f}%" if isinstance(v, Decimal) else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.1f}" if isinstance(v, Decimal) else str(v)


def _marker(kind: str, x: float, y: float, colour) -> object:
    r = 2.6
    if kind == "circle":
        return Circle(x, y, r, fillColor=colour, strokeColor=colour)
    if kind == "square":
        return Rect(x - r, y - r, 2 * r, 2 * r, fillColor=colour, strokeColor=colour)
    if kind == "triangle":
        return Polygon([x - r, y - r, x + r, y - r, x, y + r * 1.2], fillColor=colour, strokeColor=colour)
    if kind == "diamond":
        return Polygon([x, y - r * 1.3, x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y], fillColor=colour,
                       strokeColor=colour)
    return PolyLine([x - r, y - r, x + r, y + r, x, y, x - r, y + r, x + r, y - r], strokeColor=colour,
                    strokeWidth=1.4)


def drift_chart(dash: Dashboard, width: float) -> Drawing:
    """Shares over eight quarters: a titled chart with labelled axes, a legend, the local population
    as a dashed line; each line ends with its last value."""
    font, bold = fonts.REGULAR, fonts.BOLD
    items = [i for i in ITEMS if i.drift and dash.current(i) is not None]
    legend_rows = (len(items) + (1 if dash.local and dash.local.share is not None else 0) + 1) // 2
    height = 78 * mm + legend_rows * 5 * mm
    d = Drawing(width, height)
    left, right, bottom = 14 * mm, 14 * mm, 14 * mm + legend_rows * 5 * mm
    top = height - 10 * mm
    plot_w, plot_h = width - left - right, top - bottom
    d.add(String(0, height - 4.5 * mm, "Who the service reaches: shares over eight quarters", fontName=bold,
                 fontSize=10.5, fillColor=DARK_BLUE))
    for v in range(0, 101, 20):
        y = bottom + plot_h * v / 100
        d.add(Line(left, y, left + plot_w, y, strokeColor=RULE if v else GREY, strokeWidth=0.4 if v else 0.8))
        d.add(String(left - 2, y - 3, f"{v}", fontName=font, fontSize=8, fillColor=TEXT, textAnchor="end"))
    label = String(0, 0, "Share (%)", fontName=font, fontSize=8.5, fillColor=TEXT, textAnchor="middle")
    from reportlab.graphics.shapes import Group
    g = Group(label)
    g.translate(3.5 * mm, bottom + plot_h / 2)
    g.rotate(90)
    d.add(g)
    n = len(dash.quarters)
    step = plot_w / max(n - 1, 1)
    for i, q in enumerate(dash.quarters):
        x = left + i * step
        year, _, quarter = q.period.label.partition(" ")
        d.add(String(x, bottom - 4 * mm, quarter, fontName=bold, fontSize=8, fillColor=TEXT, textAnchor="middle"))
        d.add(String(x, bottom - 7.5 * mm, year, fontName=font, fontSize=7, fillColor=GREY, textAnchor="middle"))
    d.add(String(left + plot_w / 2, bottom - 11.5 * mm, "Financial quarter", fontName=font, fontSize=8.5,
                 fillColor=TEXT, textAnchor="middle"))
    legend = []
    if dash.local is not None and dash.local.share is not None:
        y = bottom + plot_h * float(dash.local.share) / 100
        d.add(Line(left, y, left + plot_w, y, strokeColor=GREY, strokeWidth=1.2, strokeDashArray=[4, 3]))
        legend.append(("dash", GREY, f"Local population in the two most deprived fifths ({dash.local.share:.0f}%)"))
    ends = []
    for k, item in enumerate(items):
        colour, marker = LINE_COLOURS[k % len(LINE_COLOURS)], MARKERS[k % len(MARKERS)]
        pts = [(left + i * step, bottom + plot_h * float(v) / 100) for i, v in enumerate(dash.series(item))
               if isinstance(v, Decimal)]
        if len(pts) > 1:
            d.add(PolyLine([c for p in pts for c in p], strokeColor=colour, strokeWidth=1.8))
        for x, y in pts:
            d.add(_marker(marker, x, y, colour))
        last = dash.series(item)[-1]
        if pts and isinstance(last, Decimal):
            ends.append([pts[-1][1] - 3, pts[-1][0] + 4, f"{last:.0f}%", colour])
        legend.append((marker, colour, item.drift))
    # Each line's last value beside its end, moved apart where two ends meet.
    ends.sort()
    for a, b in zip(ends, ends[1:]):
        if b[0] - a[0] < 9:
            b[0] = a[0] + 9
    for y, x, text, colour in ends:
        d.add(String(x, y, text, fontName=bold, fontSize=8, fillColor=colour))
    col_w = width / 2
    for k, (marker, colour, text) in enumerate(legend):
        x = (k % 2) * col_w
        y = legend_rows * 5 * mm - (k // 2) * 5 * mm - 1.5 * mm
        if marker == "dash":
            d.add(Line(x, y + 2.5, x + 9, y + 2.5, strokeColor=colour, strokeWidth=1.2, strokeDashArray=[4, 3]))
        else:
            d.add(Line(x, y + 2.5, x + 9, y + 2.5, strokeColor=colour, strokeWidth=1.8))
            d.add(_marker(marker, x + 4.5, y + 2.5, colour))
        size = 7.8
        while stringWidth(text, font, size) > col_w - 14 and size > 6:
            size -= 0.2
        d.add(String(x + 12, y, text, fontName=font, fontSize=size, fillColor=TEXT))
    return d


def _quarter_table(dash: Dashboard, section_key: str, st: dict, width: float) -> Table:
    head = [Paragraph("Figure", st["cell_head"])] + [
        Paragraph(f"{q.period.label.split()[1]}<br/><font size='7'>{q.period.label.split()[0]}</font>",
                  st["cell_head_right"]) for q in dash.quarters]
    rows = [head]
    for item in ITEMS:
        if item.section != section_key or dash.current(item) is None:
            continue
        unit = {"%": " (%)", "days": " (days)", "per trainer": " (referrals)"}.get(item.unit, "")
        rows.append([Paragraph(para(item.title + unit), st["cell"])] +
                    [_show(q.get(item), item.unit) for q in dash.quarters])
    first = 62 * mm
    other = (width - first) / len(dash.quarters)
    table = Table(rows, colWidths=[first] + [other] * len(dash.quarters), repeatRows=1)
    table.setStyle(table_style([
        ("BACKGROUND", (0, 0), (-1, 0), BLUE),
        ("FONTSIZE", (1, 1), (-1, -1), 8.5),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE]),
        ("BACKGROUND", (-1, 1), (-1, -1), PALE_BLUE),
        ("FONTNAME", (-1, 1), (-1, -1), fonts.BOLD),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ]))
    return table


def reach_story(dash: Dashboard, quality: dict, service_name: str, st: dict, t) -> list:
    p = dash.period
    small = st["small"]
    cell = st["cell"].clone("Cell9", fontSize=9, leading=11.5)
    for key in ("cell", "cell_head", "cell_head_right"):
        st[key] = st[key].clone(key + "9", fontSize=8.5, leading=10.5)
    story = [Paragraph(para(f"Reach and equity: {p.label}"), st["title"]),
             Paragraph(para(f"{service_name}. {p.dates_text()}, with the seven quarters before it. "
                            "Counted as the quarterly return counts them."), small),
             Spacer(1, 3 * mm)]
    key_lines = [Paragraph(para(imd_line(dash)), st["bold"])]
    if dash.local is not None and dash.local.share is not None:
        key_lines.append(Paragraph(para(
            f"Local population in the two most deprived fifths: {dash.local.share:.0f}% "
            f"({authorities(dash.local.authorities)}: {dash.local.in_q1_q2:,} of {dash.local.neighbourhoods:,} "
            "neighbourhoods)."), st["body_tight"]))
    story.append(boxed(key_lines, t))
    story.append(Spacer(1, 3 * mm))
    story += section("What moved over eight quarters", st, t, lines_below=4)
    if dash.sentences:
        story += [Paragraph("\u2022 " + para(s), st["body_tight"]) for s in dash.sentences]
    else:
        story.append(Paragraph("No share moved by 5 percentage points or more over these eight quarters.",
                               st["body_tight"]))
    story.append(Spacer(1, 4 * mm))
    story.append(drift_chart(dash, t.frame_width))
    story.append(Paragraph(para(
        "Shares of people starting support (deprivation: among those whose postcode gave a quintile), of sessions "
        "held in community rather than clinical venues, and of closed referrals with a SWEMWBS pair that improved "
        "by 3 or more. The dashed line is the local population's share in the two most deprived fifths: "
        "neighbourhoods (LSOAs, of similar population) of the local authorities where the clients live."), small))
    story.append(PageBreak())
    for key in (ACTIVITY, REACH):
        story += section(SECTIONS[key], st, t, lines_below=6)
        story.append(_quarter_table(dash, key, st, t.frame_width))
        story.append(Spacer(1, 3 * mm))
    story.append(PageBreak())
    story += section(SECTIONS[OUTCOMES], st, t, lines_below=6)
    story.append(_quarter_table(dash, OUTCOMES, st, t.frame_width))
    story.append(Spacer(1, 3 * mm))
    story += section("Data quality today", st, t, lines_below=6)
    rows = [[Paragraph("Records that need attention", st["cell_head"]), Paragraph("Number", st["cell_head_right"])]]
    rows += [[Paragraph(para(text), cell), f"{quality.get(k, 0):,}"] for k, text in QUALITY_KINDS.items()]
    table = Table(rows, colWidths=[t.frame_width - 30 * mm, 30 * mm])
    table.setStyle(table_style([("BACKGROUND", (0, 0), (-1, 0), BLUE), ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE]),
                                ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(table)
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(para(
        "How these are counted: a start is a referral whose first attended session falls in the quarter; "
        "deprivation is the English Indices of Deprivation 2019 quintile of the client's postcode (1 = most "
        "deprived fifth); community sources are self-referral, council, housing, employment, voluntary, faith, "
        "workplace and outreach. Every figure can be traced to the referrals behind it in the app."), small))
    return story


@dataclass(frozen=True)
class ReachReport:
    path: str
    imd_line: str          # 'Starts from the two most deprived fifths: N of M (P%)'
    pages: int = 0


def build_reach_report(store, period, out: str | Path, *, on_progress=None, cancelled=None,
                       today: date | None = None) -> ReachReport:
    """Count the figures through the store and write the PDF to out (a .pdf path)."""
    from db.public import check_output_path
    target = check_output_path(out, (".pdf",), "the reach report", example="reach-2026-27-Q2.pdf", overwrite=True)
    dash = store.reach.dashboard(period, sections=tuple(SECTIONS), on_progress=on_progress, cancelled=cancelled)
    quality: dict[str, int] = {}
    for row in store.reach.data_quality(today=today):
        quality[row.kind] = quality.get(row.kind, 0) + 1
    service = store.service.get()
    t = theme(False)
    st = styles(t)
    story = reach_story(dash, quality, service.name, st, t)
    furniture = Furniture(footer=f"{service.name}: reach and equity report {dash.period.label}, printed "
                                 f"{datetime.now():%-d %B %Y}. Figures only: no one can be identified from it.",
                          running_head=f"Reach and equity {dash.period.label} · {service.name}",
                          demo=store.is_demo)
    pdf = render(story, t, furniture, title=f"Reach and equity {dash.period.label}: {service.name}",
                 author=service.name)
    write_out(pdf, target)
    return ReachReport(str(target), imd_line(dash), pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page"))
