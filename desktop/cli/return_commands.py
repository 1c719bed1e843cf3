"""htdesk return: build the quarterly return, explain a figure, mark a run as submitted (CLI.md, RETURN.md)."""
from __future__ import annotations

from db.errors import FieldError, ValidationError
from db.public import parse_period

from . import common

_MAX_LATE_SHOWN = 50
# db.returns.POLICIES, written out so `htdesk --help` need not load the return engine
# (tests/cli/test_cli_imports.py keeps the two equal).
SDC_POLICIES = ("none", "nhs-england")


def register(sub) -> None:
    p = common.command(sub, "return", cmd_return,
                       "build the quarterly return (--out), list the referrals behind a figure (--explain), "
                       "or mark a built return as submitted (--submit)")
    p.add_argument("period", metavar="PERIOD", help="a financial quarter such as 2026-27-Q2, or a year such as 2026-27")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="FILE.xlsx", help="write the return workbook here")
    what.add_argument("--explain", nargs="+", metavar=("MEASURE", "BREAKDOWN"),
                      help="list the referral references behind one figure; BREAKDOWN defaults to all")
    what.add_argument("--submit", metavar="RUN_FILE.xlsx", help="mark the run that wrote this file as submitted")
    p.add_argument("--service", metavar="CODE", help="the service (when the database holds several)")
    p.add_argument("--sdc", default="none", choices=SDC_POLICIES,
                   help="disclosure control: none (to the commissioner, default) or nhs-england (for publication)")


def cmd_return(args) -> int:
    period = parse_period(args.period)          # a bad period is refused before asking for a password
    if args.explain and len(args.explain) > 2:
        raise ValidationError(FieldError("explain", "--explain takes a measure and at most one breakdown, "
                                                    "e.g. --explain STARTS_BY imd_quintile=1."))
    with common.open_store(args) as store:
        if args.out:
            return _build(store, period, args)
        if args.explain:
            measure = args.explain[0]
            breakdown = args.explain[1] if len(args.explain) > 1 else "all"
            for ref in store.returns.explain(period, measure, breakdown, service_code=args.service):
                common.out(ref)
            return 0
        run = store.returns.submit(period, args.submit)
        common.out(f"Marked {args.submit} (built {run['generated_at']}) as the submitted return for "
                   f"{period.label}. Later builds of {period.code} will list the figures that changed since.")
        return 0


def _build(store, period, args) -> int:
    from reports.quarterly_return import build_return
    run = build_return(store, period, args.out, service_code=args.service, sdc=args.sdc)
    common.out(f"Wrote {run.path}")
    common.out(run.summary())
    if run.compared_with is not None:
        when = run.compared_with.get("submitted_at") or run.compared_with.get("generated_at")
        if not run.late_changes:
            common.out(f"No figure has changed since the return submitted on {when}.")
        else:
            common.out(f"{len(run.late_changes)} figure(s) changed since the return submitted on {when} "
                       "(late entries): measure, breakdown, submitted value -> now")
            for c in run.late_changes[:_MAX_LATE_SHOWN]:
                common.out(f"  {c.measure} {c.breakdown}: {_show(c.old)} -> {_show(c.new)}")
            if len(run.late_changes) > _MAX_LATE_SHOWN:
                common.out(f"  … and {len(run.late_changes) - _MAX_LATE_SHOWN} more (all are in the run record).")
    return 0


def _show(value) -> str:
    return "(empty)" if value is None else str(value)
