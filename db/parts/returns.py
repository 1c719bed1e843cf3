"""store.returns: the quarterly return (RETURN.md): figures, runs, explain, submit.

store.returns: each method declares its rule (db/api.py) like every part of the store.

Building the workbook: db must not import reports (imports run desktop → reports →
db), so `build` takes the workbook writer as an argument and does
everything else itself — figures computed once, file written beside its target
and renamed into place, the run recorded and audited in one transaction, late
changes against the submitted run. `reports.quarterly_return.build_return(store,
...)` passes the real writer; the command line and the dialog both call that, so
they produce the same file from the same data.
"""
from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Callable

from dataclasses import replace

from .. import assessments, audit, connection, return_submissions, returns
from ..api import Done, Part, changed, job, read, write
from ..records import Changes
from ..errors import BadPath, Cancelled, FieldError, NotFound, ValidationError
from ..outputs import check_output_path
from ..periods import Period, parse_period
from ..returns import Figure, LateChange, ReturnFigures, ReturnMeta, ReturnRun

# (figures, meta, out_path) -> None: writes the workbook (reports.quarterly_return.build_quarterly_return).
WorkbookWriter = Callable[[list[Figure], ReturnMeta, Path], None]
ProgressFn = Callable[[int, int, str], None]


def _explained(refs, args) -> tuple:
    return ("return", parse_period(args["period"]).code,
            f"explain {args['measure'].strip().upper()} {args['breakdown']}: {len(refs)} referral reference(s)")


class ReturnsPart(Part):
    # --- figures -------------------------------------------------------------------------

    @read("returns")
    def figures(self, period: str | Period, service_code: str | None = None, sdc: str = "none",
                       *, generated_at: datetime | None = None) -> ReturnFigures:
        """Every figure of the return (the Data sheet) for a service and period, under a disclosure policy."""
        figures, meta = self._figures(period, service_code, sdc, generated_at)
        return ReturnFigures(meta, tuple(returns.apply_disclosure(figures, meta.disclosure)))

    def _figures(self, period, service_code, sdc, generated_at=None) -> tuple[list[Figure], ReturnMeta]:
        period = parse_period(period)
        policy = returns.check_policy(sdc)
        service = self._store.service.get(service_code)
        on = tuple(assessments.enabled_instruments(self.db, service.code))
        actor = self.actor
        by = f"{actor.full_name} ({actor.username})" if actor.full_name else actor.username
        meta = ReturnMeta(service_code=service.code, service_name=service.name, period=period,
                          generated_at=(generated_at or datetime.now()).replace(microsecond=0),
                          generated_by=by, disclosure=policy, instruments=on)
        # Read in one (read-only) transaction so every figure sees the same moment of the data,
        # without holding the write lock: others may save meanwhile.
        with connection.snapshot(self.db):
            figures = returns.compute_figures(self.db, service.id, period, on)
        return figures, meta

    @read("returns", audit_view=_explained)
    def explain(self, period: str | Period, measure: str, breakdown: str = "all",
                       service_code: str | None = None, *, as_submitted: bool = False) -> list[str]:
        """The referral references behind one figure (see db.returns.explain), audited as a view.
        as_submitted: the references behind it in the return that was submitted for the period
        (kept when it was submitted), rather than now."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        on = assessments.enabled_instruments(self.db, service.code)
        if not as_submitted:
            return returns.explain(self.db, service.id, period, on, measure, breakdown)
        run = returns.latest_submitted_run(self.db, service.id, period)
        kept = return_submissions.get(self.db, run["id"]) if run else None
        if kept is None or not kept["members"]:
            raise NotFound(f"No return for {period.label} was submitted from this app, so there is no "
                           "submitted figure to explain: explain it as it is now.")
        refs = return_submissions.unpack(kept["members"])
        key = f"{(measure or '').strip().upper()}|{(breakdown or 'all').strip()}"
        if key not in refs:
            # Refused with the allowed names, as for the figures now.
            returns.explain(self.db, service.id, period, on, measure, breakdown)
            raise NotFound(f"{measure} {breakdown} was not in the return submitted for {period.label}.")
        return refs[key]

    @read("returns")
    def submitted(self, period: str | Period, service_code: str | None = None) -> dict | None:
        """The submitted return of the period (the latest, when there were several): its run
        (without figures), the file name and bytes as sent, and when and by whom; None when
        none was submitted."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        run = returns.latest_submitted_run(self.db, service.id, period)
        if run is None:
            return None
        kept = return_submissions.get(self.db, run["id"]) or {}
        return {**{k: v for k, v in run.items() if k != "figures"},
                "sent_file_name": kept.get("file_name"), "workbook": kept.get("workbook"),
                "figures": run["figures"]}

    @read("returns")
    def late_changes(self, period: str | Period, service_code: str | None = None, sdc: str | None = None,
                     *, figures: ReturnFigures | None = None) -> list[LateChange]:
        """Figures changed since the period's submitted return (under its disclosure policy).
        figures: what store.returns.figures just gave for this period and service; when under the
        submitted return's policy they are compared as they are instead of counted again (the return
        page counts once, as the command does)."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        submitted = returns.latest_submitted_run(self.db, service.id, period)
        if submitted is None:
            return []
        if (figures is not None and figures.meta.period == period and figures.meta.service_code == service.code
                and figures.meta.disclosure == submitted["disclosure"]):
            return returns.late_changes(submitted["figures"], figures.figures)
        raw, _ = self._figures(period, service.code, sdc or submitted["disclosure"])
        return returns.late_changes(submitted["figures"], returns.apply_disclosure(raw, submitted["disclosure"]))

    # --- runs ---------------------------------------------------------------------------------

    @job("returns")
    def build(self, period: str | Period, out_path: str | Path, *, write_workbook: WorkbookWriter,
                     service_code: str | None = None, sdc: str = "none", on_progress: ProgressFn | None = None,
                     cancelled: Callable[[], bool] | None = None, generated_at: datetime | None = None) -> ReturnRun:
        """Compute the figures, write the workbook, record and audit the run, and list the
        figures changed since the latest submitted run of the same period (late entries)."""
        progress = on_progress or (lambda done, total, label: None)
        out = _check_out_path(out_path)
        if out.is_file():
            sent = return_submissions.is_submitted_file(self.db, hashlib.sha256(out.read_bytes()).hexdigest())
            if sent is not None:
                raise BadPath(f"{out.name} is the return submitted for {parse_period(sent['period']).label} "
                              f"on {sent['submitted_at']}: it is never overwritten. Choose another file name.")

        def step(done: int, label: str) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("Stopped: no return was written.")
            progress(done, 4, label)

        step(0, "Counting the figures")
        raw, meta = self._figures(period, service_code, sdc, generated_at)
        published = returns.apply_disclosure(raw, meta.disclosure)
        service = self._store.service.get(meta.service_code)

        step(1, "Comparing with the submitted return")
        submitted = returns.latest_submitted_run(self.db, service.id, meta.period)
        changes: list[LateChange] = []
        compared = None
        if submitted is not None:
            # Compare like with like: the current figures under the submitted run's own policy.
            now = returns.apply_disclosure(raw, submitted["disclosure"])
            changes = returns.late_changes(submitted["figures"], now)
            compared = {k: v for k, v in submitted.items() if k != "figures"}
            # The rebuilt workbook carries them on a sheet of their own.
            meta = replace(meta, late_changes=tuple(changes),
                           submitted_at=submitted.get("submitted_at") or submitted.get("generated_at"))

        step(2, "Writing the workbook")
        connection.sweep_folder(out.parent)          # what a killed run left here
        tmp = connection.temp_beside(out, ".xlsx")  # names this process; removed by a later run if killed
        try:
            try:
                write_workbook(published, meta, tmp)
                digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
            except OSError as exc:       # a full disk or read-only folder: about the file, not the database
                raise connection.translate_os_error(exc, f"the return {out}", output=True) or exc
            step(3, "Recording the run")
            with connection.transaction(self.db):
                run_id = returns.insert_run(self.db, service.id, meta, published, out.name, digest)
                audit.record(self.db, self.actor, "export", "return_run", run_id,
                             after={"period": meta.period.code, "service": meta.service_code,
                                    "disclosure": meta.disclosure, "file": out.name, "sha256": digest,
                                    "late_changes": len(changes)},
                             detail=f"quarterly return {meta.period.label} written to {out}")
                # Renamed into place inside the transaction: if that fails, no run is recorded.
                _replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        progress(4, 4, "Done")
        return Done(ReturnRun(run_id=run_id, path=str(out), sha256=digest,
                         figures=ReturnFigures(meta, tuple(published)), late_changes=tuple(changes),
                         compared_with=compared), Changes("return_run", (run_id,), "create"))

    @read("returns")
    def runs(self, period: str | Period | None = None, service_code: str | None = None) -> list[dict]:
        """Runs recorded for the service (newest first), without their figures."""
        service = self._store.service.get(service_code)
        return returns.list_runs(self.db, service.id, parse_period(period) if period else None)

    @write("returns")
    def submit(self, period: str | Period, run_file: str | Path, service_code: str | None = None) -> dict:
        """Mark the run that wrote run_file as submitted and keep the file's bytes as sent.

        The file is matched to its run by its bytes, or, when they differ (a manager filled in
        the Cover's sign-off cells and saved it), by its Data sheet: every figure must equal
        the run's. A submitted run is locked: later builds of the period list the figures that
        changed since, and the referrals behind each figure now are kept for explain(as_submitted)."""
        period = parse_period(period)
        path = Path(run_file)
        if not path.is_file():
            raise BadPath(f"There is no file at {path}. Give the workbook the return was written to "
                          "(the file from 'htdesk return ... --out').")
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        runs = returns.runs_with_sha(self.db, digest)
        service = self._store.service.get(service_code)
        if not runs:
            rows = return_submissions.data_sheet_figures(content)
            if rows is None:
                raise NotFound(f"No return run wrote {path.name}, and it is not a return workbook (it has no Data "
                               "sheet): it may be another file, or it was opened and saved in a format that lost "
                               f"the sheets. Submit the file from 'htdesk return {period.code} --out ...'.")
            runs = [{k: v for k, v in r.items() if k != "figures"}
                    for r in returns.runs_of_period(self.db, service.id, period)
                    if return_submissions.same_figures(rows, r["figures"])]
            if not runs:
                raise NotFound(f"No return built for {period.label} has the figures in {path.name}: it may be "
                               "another period's return, or its figures were changed in a spreadsheet program. "
                               f"Build the return again ('htdesk return {period.code} --out ...') and submit that.")
        run = next((r for r in runs if r["period"] == period.code), None)
        if run is None:
            raise ValidationError(FieldError(
                "period", f"{path.name} is the return for {parse_period(runs[0]['period']).label}, "
                          f"not {period.label}: check the period or the file."))
        if run["submitted"]:
            raise ValidationError(FieldError(
                "run_file", f"{path.name} was already submitted on {run['submitted_at']} by {run['submitted_by']}: "
                            "a submitted run stays as it was."))
        at = audit.now_iso()
        on = assessments.enabled_instruments(self.db, service.code)
        members = return_submissions.members_of_every_figure(self.db, run["service_id"], period, on)
        returns.mark_submitted(self.db, run["id"], at, self.by())
        return_submissions.insert(self.db, run["id"], path.name, digest, content,
                                  return_submissions.pack(members), at, self.by())
        return Done({**run, "submitted": 1, "submitted_at": at, "submitted_by": self.by()},
                    changed("return_run", run["id"], "submit",
                            after={"period": period.code, "file": path.name, "sha256": digest,
                                   "same_bytes_as_built": digest == run["file_sha256"]},
                            detail=f"quarterly return {period.label} marked as submitted"))


def _check_out_path(out_path: str | Path) -> Path:
    return check_output_path(out_path, (".xlsx",), "the return", example="return-2026-27-Q2.xlsx").resolve()


def _replace(tmp: Path, out: Path) -> None:
    try:
        os.replace(tmp, out)
    except PermissionError:
        raise BadPath(f"{out} could not be written: it may be open in a spreadsheet program. Close it and try again.") from None
