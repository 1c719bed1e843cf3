"""Print a plan or a letter and keep it with the record: gather, build, write, keep.

The one route the command line and the desktop app both use, so every document
that leaves the app is kept byte for byte and audited as a print.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from db.documents import PLAN, KeptDocument, letter_kind
from db.errors import BadPath
from db.outputs import check_output_path

from .layout import write_out
from .letters import build_letter, template_version as letter_template
from .plan_pdf import build_plan_pdf, template_version as plan_template


def _check_target(out) -> None:
    if out is None or hasattr(out, "write"):
        return
    check_output_path(out, (".pdf",), "the PDF")


def _write_then_keep(pdf: bytes, out, keep) -> KeptDocument:
    """Keep the bytes and write the file, both or neither: the file is written aside first and put in
    place only once the document is kept, so a refused keep leaves any earlier file as it was."""
    if out is None or hasattr(out, "write"):
        kept = keep()
        write_out(pdf, out)
        return kept
    path = Path(out)
    aside = path.with_name(path.name + ".part")
    try:
        aside.write_bytes(pdf)
    except OSError as exc:
        raise BadPath(f"Cannot write {out}: {exc.strerror or exc}. Choose another place to save.") from exc
    try:
        kept = keep()
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    aside.replace(path)
    return kept


def _file_name(out, default: str) -> str:
    return Path(out).name if out is not None and not hasattr(out, "write") else default


def print_plan(store, client_id: int, out: str | Path | BinaryIO | None, *, large_print: bool = False,
               today: date | None = None) -> tuple[KeptDocument, bytes]:
    """The client's current plan as a PDF at `out`, kept with the record. Returns (kept record, bytes)."""
    _check_target(out)
    data = store.documents.plan_data(client_id, today=today)
    pdf = build_plan_pdf(data, None, large_print=large_print)
    name = _file_name(out, f"plan-{data.client.client_ref}-{data.printed_on}.pdf")
    kept = _write_then_keep(pdf, out, lambda: store.documents.keep(
        client_id, data.referral.id, PLAN, name, pdf, plan_template(large_print)))
    return kept, pdf


def print_letter(store, kind: str, referral_id: int, out: str | Path | BinaryIO | None, *,
                 today: date | None = None) -> tuple[KeptDocument, bytes]:
    """A letter of db.documents.LETTER_KINDS for one referral, kept with the record. Returns (kept record, bytes)."""
    _check_target(out)
    data = store.documents.letter_data(kind, referral_id, today=today)
    pdf = build_letter(kind, data, None)
    name = _file_name(out, f"{kind}-{data.referral.referral_ref}-{data.printed_on}.pdf")
    kept = _write_then_keep(pdf, out, lambda: store.documents.keep(
        data.client.id, referral_id, letter_kind(kind), name, pdf, letter_template(kind)))
    return kept, pdf
