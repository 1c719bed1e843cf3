"""Submitted returns (RETURN.md "Behaviour"): the bytes sent, and the referrals behind each figure then.

A submitted return must be reprintable exactly as sent, and a commissioner's later query
("which referrals made up this figure?") answerable both as it was then and as it is
now. So submitting keeps the workbook's own bytes and, for every figure, the referral
references behind it at that moment.

A manager often fills in the Cover's sign-off cells before sending: that file's bytes
differ from what the app wrote, so a file is matched to its run by its Data sheet's
figures, not only by its bytes.
"""
from __future__ import annotations

import io
import json
import zipfile
import zlib
from decimal import Decimal, InvalidOperation
from typing import Iterable

from sqlite_utils import Database

from .returns import SUPPRESSED, Figure, _breakdowns_of, _Data, _specs

# A return workbook is well under a megabyte; refuse anything that would inflate to more.
MAX_UNPACKED = 64 * 1024 * 1024


def members_of_every_figure(db: Database, service_id: int, period, instruments_on: Iterable[str]) -> dict:
    """"MEASURE|breakdown" -> the referral references behind that figure (db.returns.explain's lists)."""
    data = _Data(db, service_id, period, instruments_on, with_refs=True)
    out = {}
    for spec in _specs(data.instruments_on):
        for breakdown in _breakdowns_of(spec):
            out[f"{spec.measure}|{breakdown}"] = sorted(spec.members(data, breakdown))
    return out


def pack(members: dict) -> bytes:
    return zlib.compress(json.dumps(members, separators=(",", ":")).encode("utf-8"), 6)


def unpack(blob: bytes | None) -> dict:
    return json.loads(zlib.decompress(blob).decode("utf-8")) if blob else {}


def insert(db: Database, run_id: int, file_name: str, sha256: str, workbook: bytes, members: bytes,
           at: str, by: str) -> None:
    db.conn.execute(
        "INSERT INTO return_submissions (run_id, file_name, file_sha256, workbook, members, submitted_at, "
        "submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?)", (run_id, file_name, sha256, workbook, members, at, by))


def get(db: Database, run_id: int) -> dict | None:
    row = db.conn.execute(
        "SELECT run_id, file_name, file_sha256, workbook, members, submitted_at, submitted_by "
        "FROM return_submissions WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(("run_id", "file_name", "file_sha256", "workbook", "members", "submitted_at",
                     "submitted_by"), row))


def is_submitted_file(db: Database, sha256: str) -> dict | None:
    """The submitted run whose sent file, or whose file as the app wrote it, has these bytes."""
    row = db.conn.execute(
        "SELECT r.id, r.period, r.submitted_at FROM return_runs r LEFT JOIN return_submissions s ON s.run_id = r.id "
        "WHERE r.submitted = 1 AND (r.file_sha256 = ? OR s.file_sha256 = ?) LIMIT 1", (sha256, sha256)).fetchone()
    return None if row is None else {"id": row[0], "period": row[1], "submitted_at": row[2]}


# --- reading a return workbook's Data sheet -------------------------------------------------------

def data_sheet_figures(content: bytes) -> list[tuple] | None:
    """(measure, breakdown, value) of every Data sheet row, values as the workbook holds
    them; None when the file is not a return workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNPACKED:
                return None
    except zipfile.BadZipFile:
        return None
    from openpyxl import load_workbook     # only when a file is matched by its figures
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        return None
    try:
        if "Data" not in wb.sheetnames:
            return None
        rows = wb["Data"].iter_rows(values_only=True)
        header = next(rows, None)
        if not header or tuple(str(h or "").strip().lower() for h in header[:3]) != ("measure", "breakdown", "value"):
            return None
        return [(r[0], r[1], r[2]) for r in rows if r and r[0]]
    finally:
        wb.close()


def same_figures(rows: list[tuple], figures: Iterable[Figure]) -> bool:
    """Whether a Data sheet shows exactly these figures (values compared as numbers)."""
    want = {(f.measure, f.breakdown): f.value for f in figures}
    got = {}
    for measure, breakdown, value in rows:
        got[(str(measure), str(breakdown))] = value
    if set(got) != set(want):
        return False
    return all(_equal(got[k], want[k]) for k in want)


def _equal(cell, value) -> bool:
    if value is None:
        return cell is None or cell == ""
    if value == SUPPRESSED:
        return cell == SUPPRESSED
    if cell is None or isinstance(cell, bool):
        return False
    try:
        return Decimal(str(cell)) == Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return False
