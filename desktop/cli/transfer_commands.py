"""Sub-commands for the import workbook (IMPORT.md): template, import, export."""
from __future__ import annotations

import sys
from pathlib import Path

from . import common

EXIT_BAD_INPUT = 2
SHOWN_PER_SECTION = 200    # the report file beside the workbook has every line


def register(sub) -> None:
    p = common.command(sub, "template", cmd_template, "write a blank import workbook (IMPORT.md)")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--overwrite", action="store_true", help="replace the file if it exists")

    p = common.command(sub, "import", cmd_import,
                       "import a workbook into the service, all or nothing, with a report")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--dry-run", action="store_true", help="check and report without changing anything")
    p.add_argument("--service", metavar="CODE", help="the service to import into (when the database has several)")

    p = common.command(sub, "export", cmd_export,
                       "write every record in the import workbook format (a fresh database imports it back)")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--service", metavar="CODE", help="the service to export (when the database has several)")
    p.add_argument("--overwrite", action="store_true", help="replace the file if it exists")


def _target(file: str, overwrite: bool) -> Path:
    from db.public import check_output_path
    return check_output_path(file, (".xlsx",), "the workbook", overwrite=overwrite)


def _progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        shown = f"{done}/{total}" if total else f"{done}"
        print(f"\r{label}: {shown}          ", end="", file=sys.stderr, flush=True)


def _end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def cmd_template(args) -> int:
    from reports import transfer_workbook
    path = _target(args.file, args.overwrite)
    try:
        transfer_workbook.write_template(path)
    except OSError as exc:        # a full disk or read-only folder: one sentence naming the file
        from db.public import plain_disk_error as translate_os_error
        raise translate_os_error(exc, f"the template {path}", output=True) or exc
    common.out(f"Wrote a blank import workbook to {path}. Fill it in (the grey EXAMPLE rows are skipped), "
               f"then run: htdesk import {path} --dry-run")
    return 0


def cmd_import(args) -> int:
    path = Path(args.file)
    store = common.open_store(args)
    with store:
        report = store.transfer.import_workbook(path, dry_run=args.dry_run, service_code=args.service,
                                       on_progress=_progress)
    _end_progress()
    text = report.text(limit=SHOWN_PER_SECTION)
    (common.out if report.ok else common.err)(text.rstrip("\n"))
    if report.report_path:
        common.out(f"The full report is in {report.report_path}")
    if report.cancelled:
        return 1
    return 0 if report.ok else EXIT_BAD_INPUT


def cmd_export(args) -> int:
    from reports import transfer_workbook
    path = _target(args.file, args.overwrite)
    store = common.open_store(args)
    with store:
        counts = store.transfer.export_workbook(path, write_workbook=transfer_workbook.write_export,
                                                service_code=args.service, on_progress=_progress)
    _end_progress()
    common.out(f"Exported to {path}: " + ", ".join(f"{n} {sheet.lower()}" for sheet, n in counts.items()) + ".")
    if counts.get("Documents") or counts.get("Return runs"):
        from db import public
        common.out(f"The kept documents and the returns' files are in {public.documents_folder(path)}: keep that "
                   "folder beside the workbook (an import reads them from there).")
    return 0
