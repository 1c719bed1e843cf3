"""htdesk report reach PERIOD --out FILE.pdf (CLI.md v2): the reach and equity report."""
from __future__ import annotations

from db.public import parse_period

from . import common

REPORTS = ("reach",)


def register(sub) -> None:
    p = common.command(sub, "report", cmd_report,
                       "print a report for managers and commissioners: reach (reach and equity, eight quarters)")
    p.add_argument("kind", metavar="KIND", choices=REPORTS, help="the report: reach")
    p.add_argument("period", metavar="PERIOD", help="the last of the eight quarters, such as 2026-27-Q2")
    p.add_argument("--out", metavar="FILE.pdf", required=True, help="write the PDF here")


def cmd_report(args) -> int:
    from db.errors import FieldError, ValidationError
    from db.public import check_output_path
    period = parse_period(args.period)          # a bad period is refused before asking for a password
    if period.quarter is None:
        raise ValidationError(FieldError("period", f"{period.code} is a whole year: give a quarter, "
                                                   f"for example {period.code}-Q2."))
    check_output_path(args.out, (".pdf",), "the reach report", example=f"reach-{period.code}.pdf")
    with common.open_store(args) as store:
        from reports.reach_pdf import build_reach_report
        report = build_reach_report(store, period, args.out)
    common.out(f"Wrote {report.path}")
    common.out(report.imd_line)
    return 0
