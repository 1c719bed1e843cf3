"""store.transfer: the import workbook and the full export (IMPORT.md).

The workbook layout lives in db/transfer/workbook_spec.py; reading and checking in
db/transfer/importer.py; records to rows in db/transfer/exporter_rows.py. Writing
the .xlsx file for the template and the export is reports/transfer_workbook.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from ..records import AuditNote
from .. import connection, reach_kept
from ..api import Done, Part, changed, job, read, write
from ..transfer import exporter_rows, importer, workbook_spec
from ..transfer.report import ImportReport


class TransferPart(Part):

    @job("import")

    def import_workbook(self, path: Path | str, dry_run: bool = False, service_code: str | None = None,
                        on_progress=None, cancelled=None, *, today: date | None = None,
                        write_report: bool = True) -> ImportReport:
        """Import an IMPORT.md workbook into one service, all or nothing.

        Every row is checked first; when any fails nothing is written and the report
        lists each failure (sheet, row, column, value, reason). Rows already in the
        database are compared: unchanged, or a conflict that is reported and never
        overwritten. A dry run checks and reports without writing. The report is also
        written beside the workbook (FILE-import-report.txt) unless write_report is
        False. on_progress(done, total, label) is called as it goes; cancelled() -> True
        stops it with nothing changed. One audit event "import" names the file and its
        sha256. Staff rows create staff members, each with a locked account holding the
        username (see importer.UNUSABLE_PASSWORD_HASH).
        """
        service = self._store.service.get(service_code)
        reference = self._store.reference
        report = importer.run(self.db, self.actor, service, Path(path), dry_run=dry_run,
                              deprivation_for=reference.deprivation_for, prepare_reference=reference.prepare,
                              on_progress=on_progress, cancelled=cancelled, today=today, write_report=write_report)
        if dry_run:
            return report
        if report.committed:
            # An import that wrote makes every kept quarter of the dashboard stale: its first view is counted
            # again now, as part of the import's work, so the next opening reads it (reach_kept.count_and_keep).
            # One with nothing new wrote nothing, and leaves the database as it was.
            reach_kept.count_and_keep(self.db, today or date.today(), on_progress, cancelled)
        return Done(report, changed("import", (), "create"))

    @write("export")
    def export_rows(self, service_code: str | None = None, *, target: str | None = None) -> dict[str, Iterator[tuple]]:
        """Every record of the service as import-workbook rows: sheet name -> rows in the
        columns of workbook_spec (generators read as they are consumed; use them before
        closing the store). A manager's right; audited as one "export" event naming the
        target file when given."""
        service = self._store.service.get(service_code)
        counts = exporter_rows.counts(self.db, service.id)
        return Done(exporter_rows.export_rows(self.db, service.id),
                    changed("workbook", (), "export", notes=(AuditNote(
                        "export", "workbook", None, after={"service": service.code, "rows": counts, "file": target},
                        detail=f"full export of {service.code}" + (f" to {target}" if target else "")),)))

    @job("export")
    def export_workbook(self, path: Path | str, *, write_workbook, service_code: str | None = None,
                        on_progress=None, cancelled=None) -> dict[str, int]:
        """Write every record of the service to a workbook (write_workbook(path, rows, counts=...,
        on_progress=..., cancelled=...) is reports.transfer_workbook.write_export, which writes under
        a temporary name and renames into place), reading one moment of the data; audited as one
        "export" event only once the file is there. Returns rows per sheet."""
        service = self._store.service.get(service_code)
        path = Path(path)
        folder = workbook_spec.documents_folder(path)
        with connection.snapshot(self.db):
            counts = exporter_rows.counts(self.db, service.id)
            try:
                write_workbook(path, exporter_rows.export_rows(self.db, service.id), counts=counts,
                               on_progress=on_progress, cancelled=cancelled)
                if counts.get("Documents") or counts.get("Return runs"):
                    # The kept PDFs and the returns' files beside the workbook (FILE-documents), named as its
                    # Documents and Return runs sheets name them; a folder left by an earlier export is
                    # replaced whole, anything else is refused.
                    _replace_documents_folder(folder, lambda target: exporter_rows.write_documents(
                        self.db, service.id, target))
            except OSError as exc:       # a full disk or read-only folder: about the file, not the database
                path.unlink(missing_ok=True)
                raise connection.translate_os_error(exc, f"the export {path}", output=True) or exc
        try:
            self._exported(service.code, str(path), counts)
        except BaseException:
            path.unlink(missing_ok=True)     # not recorded, so not kept
            raise
        return counts

    @write("export")
    def _exported(self, service_code: str, target: str, counts: dict[str, int]):
        return changed("workbook", (), "export", notes=(AuditNote(
            "export", "workbook", None, after={"service": service_code, "rows": counts, "file": target},
            detail=f"full export of {service_code} to {target}"),))

    @read("export")
    def export_counts(self, service_code: str | None = None) -> dict[str, int]:
        """Rows per sheet an export would write (for progress)."""
        return exporter_rows.counts(self.db, self._store.service.get(service_code).id)


_EXPORTED = (".pdf", ".json", ".xlsx")      # kept PDFs; a return's figures, sent workbook and members


def _replace_documents_folder(folder: Path, write) -> None:
    """Write the documents into a fresh folder beside the target, then put it in place of the old
    one (which may hold only an earlier export's PDFs, JSON and .xlsx files)."""
    import shutil
    if folder.exists() and (not folder.is_dir() or any(not p.is_file() or p.suffix.lower() not in _EXPORTED
                                                       for p in folder.iterdir())):
        raise FileExistsError(f"{folder} already exists and holds more than an earlier export's files: move it "
                              "away or choose another name for the export.")
    temp = folder.with_name(folder.name + ".part")
    if temp.exists():
        shutil.rmtree(temp)
    try:
        write(temp)
        if folder.exists():
            shutil.rmtree(folder)
        temp.rename(folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
