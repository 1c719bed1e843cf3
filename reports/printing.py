"""Print a plan or a letter and keep it with the record: gather, build, write, keep.

The one route the command line and the desktop app both use, so every document
that leaves the app is kept byte for byte and audited as a print.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from db.connection import sweep_folder, temp_beside, translate_os_error as plain_disk_error
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
    sweep_folder(path.parent)                  # what a killed run left here
    aside = temp_beside(path, ".pdf")          # names this process, so a later run can tell a leftover
    try:
        aside.write_bytes(pdf)
    except OSError as exc:
        aside.unlink(missing_ok=True)          # a full disk leaves no half-written file
        raise plain_disk_error(exc, f"the PDF {out}", output=True) or BadPath(
            f"Cannot write {out}: {exc.strerror or exc}. Choose another place to save.") from exc
    try:
        kept = keep()
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    aside.replace(path)
    return kept


def _file_name(out, default: str) -> str:
    return Path(out).name if out is not None and not hasattr(out, "write") else default


@dataclass(frozen=True)
class Prepared:
    """A document built but not yet printed: what the desktop's preview shows. Printing it keeps exactly
    these bytes (keep_prepared), so the preview, the file and the kept copy are one and the same."""
    client_id: int
    referral_id: int
    kind: str                 # the documents table's kind
    title: str
    file_name: str
    pdf: bytes
    template: str


def prepare_plan(store, client_id: int, *, large_print: bool = False, today: date | None = None) -> Prepared:
    data = store.documents.plan_data(client_id, today=today)
    pdf = build_plan_pdf(data, None, large_print=large_print)
    return Prepared(client_id, data.referral.id, PLAN, "Personal health plan" + (" (large print)" if large_print
                                                                                  else ""),
                    f"plan-{data.client.client_ref}-{data.printed_on}.pdf", pdf, plan_template(large_print))


def prepare_letter(store, kind: str, referral_id: int, *, today: date | None = None,
                   session_id: int | None = None) -> Prepared:
    data = store.documents.letter_data(kind, referral_id, today=today, session_id=session_id)
    pdf = build_letter(kind, data, None)
    return Prepared(data.client.id, referral_id, letter_kind(kind), f"{kind} letter",
                    f"{kind}-{data.referral.referral_ref}-{data.printed_on}.pdf", pdf, letter_template(kind))


def keep_prepared(store, prepared: Prepared, out: str | Path | BinaryIO | None = None) -> KeptDocument:
    """Print a prepared document: keep its bytes with the record (audited) and write them to `out`."""
    _check_target(out)
    name = _file_name(out, prepared.file_name)
    return _write_then_keep(prepared.pdf, out, lambda: store.documents.keep(
        prepared.client_id, prepared.referral_id, prepared.kind, name, prepared.pdf, prepared.template))


def print_plan(store, client_id: int, out: str | Path | BinaryIO | None, *, large_print: bool = False,
               today: date | None = None) -> tuple[KeptDocument, bytes]:
    """The client's current plan as a PDF at `out`, kept with the record. Returns (kept record, bytes)."""
    _check_target(out)
    prepared = prepare_plan(store, client_id, large_print=large_print, today=today)
    return keep_prepared(store, prepared, out), prepared.pdf


def print_letter(store, kind: str, referral_id: int, out: str | Path | BinaryIO | None, *,
                 today: date | None = None, session_id: int | None = None) -> tuple[KeptDocument, bytes]:
    """A letter of db.documents.LETTER_KINDS for one referral, kept with the record (an appointment letter for
    the session chosen, else the next booked). Returns (kept record, bytes)."""
    _check_target(out)
    prepared = prepare_letter(store, kind, referral_id, today=today, session_id=session_id)
    return keep_prepared(store, prepared, out), prepared.pdf
