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
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Callable

from .. import assessments, audit, connection, returns
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
        # Read in one transaction so every figure sees the same moment of the data.
        with connection.transaction(self.db):
            figures = returns.compute_figures(self.db, service.id, period, on)
        return figures, meta

    @read("returns", audit_view=_explained)
    def explain(self, period: str | Period, measure: str, breakdown: str = "all",
                       service_code: str | None = None) -> list[str]:
        """The referral references behind one figure (see db.returns.explain), audited as a view."""
        period = parse_period(period)
        service = self._store.service.get(service_code)
        on = assessments.enabled_instruments(self.db, service.code)
        return returns.explain(self.db, service.id, period, on, measure, breakdown)

    # --- runs ---------------------------------------------------------------------------------

    @job("returns")
    def build(self, period: str | Period, out_path: str | Path, *, write_workbook: WorkbookWriter,
                     service_code: str | None = None, sdc: str = "none", on_progress: ProgressFn | None = None,
                     cancelled: Callable[[], bool] | None = None, generated_at: datetime | None = None) -> ReturnRun:
        """Compute the figures, write the workbook, record and audit the run, and list the
        figures changed since the latest submitted run of the same period (late entries)."""
        progress = on_progress or (lambda done, total, label: None)
        out = _check_out_path(out_path)

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

        step(2, "Writing the workbook")
        fd, tmp_name = tempfile.mkstemp(prefix=".htdesk-return-", suffix=".xlsx", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write_workbook(published, meta, tmp)
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
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
    def submit(self, period: str | Period, run_file: str | Path) -> dict:
        """Mark the run that wrote run_file (matched by the file's sha256) as submitted.
        A submitted run is locked: later builds of the period list the figures that changed since."""
        period = parse_period(period)
        path = Path(run_file)
        if not path.is_file():
            raise BadPath(f"There is no file at {path}. Give the workbook the return was written to "
                          "(the file from 'htdesk return ... --out').")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        runs = returns.runs_with_sha(self.db, digest)
        if not runs:
            raise NotFound(f"No return run wrote {path.name} as it is now: it may have been opened and saved "
                           "again in a spreadsheet program, which changes the file. Submit the file exactly as "
                           f"the app wrote it, or build the return again ('htdesk return {period.code} --out ...').")
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
        returns.mark_submitted(self.db, run["id"], at, self.by())
        return Done({**run, "submitted": 1, "submitted_at": at, "submitted_by": self.by()},
                    changed("return_run", run["id"], "submit",
                            after={"period": period.code, "file": path.name, "sha256": digest},
                            detail=f"quarterly return {period.label} marked as submitted"))


def _check_out_path(out_path: str | Path) -> Path:
    return check_output_path(out_path, (".xlsx",), "the return", example="return-2026-27-Q2.xlsx").resolve()


def _replace(tmp: Path, out: Path) -> None:
    try:
        os.replace(tmp, out)
    except PermissionError:
        raise BadPath(f"{out} could not be written: it may be open in a spreadsheet program. Close it and try again.") from None
