"""The recovery sheet: one A4 page with the service, the database's id and its recovery key, and what
to do with it. Printed (or saved) once, at set-up, when the key is shown (htdesk init/demo
--recovery-sheet, the first-run wizard's "Print recovery sheet").

`build_recovery_sheet(service_name, service_code, database_id, recovery_key, out, made=...) -> bytes`"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Spacer

from .layout import Furniture, boxed, facts_table, render, section, styles, theme, write_out
from .wording import para


def build_recovery_sheet(service_name: str, service_code: str, database_id: str, recovery_key: str,
                         out: str | Path | BinaryIO | None = None, *, made: date | None = None,
                         database_path: str | None = None, is_demo: bool = False) -> bytes:
    t = theme(False)
    st = styles(t)
    made = made or date.today()
    # The key on one line, never broken between its groups: the largest size up to body + 6 that fits the box.
    size = t.body + 6
    room = t.frame_width - 2 * t.body * 0.8 - 4
    while size > t.body and stringWidth(recovery_key, st["title"].fontName, size) > room:
        size -= 0.5
    key_style = st["title"].clone("RecoveryKey", fontSize=size, leading=t.lead(size))
    story: list = [Paragraph("Recovery sheet", st["title"]),
                   Paragraph(para(f"{service_name} ({service_code})"), st["bold"]),
                   Paragraph("Health Trainer Desk keeps the service's records encrypted. Each account's password "
                             "opens them; this recovery key opens them too when no administrator can sign in "
                             "(every administrator's password forgotten, or a backup restored on a new PC).",
                             st["body"]),
                   Spacer(1, 4 * mm)]
    facts = [("Service", f"{service_name} ({service_code})"), ("Database id", database_id),
             ("Made", made.strftime("%d %B %Y").lstrip("0"))]
    if database_path:
        facts.append(("Database file", database_path))
    story += [facts_table([(k, para(v)) for k, v in facts], st, t, label_share=0.28), Spacer(1, 6 * mm)]
    story += section("Recovery key", st, t, lines_below=3)
    story.append(boxed([Paragraph(para(recovery_key), key_style)], t))
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph("Letters and digits in eight groups of four; type them with or without the dashes.",
                           st["small"]))
    story += section("What to do with this sheet", st, t, lines_below=6)
    for line in (
            "Keep it locked away, apart from the PC (a safe, or the manager's locked drawer): whoever holds "
            "it and a copy of the database or a backup can read every record.",
            "Do not photograph it, email it or keep it in a file on the PC.",
            "If an administrator forgets their password: on the sign-in window, type the administrator's "
            "username, choose \u201cUse the recovery key\u2026\u201d and type the key; then choose a new password.",
            "To restore a backup made with this key on a new PC: choose \u201cRestore a backup\u2026\u201d and "
            "give the recovery key when asked (or an administrator's password of the time the backup was made).",
            "If the sheet is lost or may have been seen, an administrator makes a new recovery key "
            "(which stops this one working) and prints a new sheet."):
        story.append(Paragraph("\u2022 " + para(line), st["body"]))
    furniture = Furniture(footer="Confidential: the recovery key opens every record of the service. Keep it "
                                 "locked away.", demo=is_demo)
    pdf = render(story, t, furniture, title=f"Recovery sheet: {service_name}", author="Health Trainer Desk")
    write_out(pdf, out)
    return pdf
