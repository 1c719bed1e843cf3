"""The audit trail as a workbook (the audit viewer's Export and `htdesk audit --out`): one row per
event, newest first, every text cell text (a name beginning with = stays the characters typed)."""
from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook

COLUMNS = (("id", "Event", 9), ("at", "When", 20), ("username", "Account", 14), ("action", "Action", 12),
           ("client_ref", "Client", 12), ("entity", "Record", 14), ("entity_id", "Record number", 10),
           ("detail", "Detail", 50), ("before", "Before", 40), ("after", "After", 40))


def write_audit(out: Path | str, rows: list[dict]) -> Path:
    out = Path(out)
    wb = Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append([h for _, h, _ in COLUMNS])
    for r in rows:
        ws.append([r.get(k) if not isinstance(r.get(k), str) else r.get(k).replace("T", " ", 1) if k == "at"
                   else r.get(k) for k, _, _ in COLUMNS])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.number_format = "@"
    for i, (_, _, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
