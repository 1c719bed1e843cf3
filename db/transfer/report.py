"""What an import found and did, for people: every failure by sheet, row, column,
value and reason; warnings; conflicts; and counts. Printed by the command line,
shown by the desktop app, and written beside the workbook as a text file."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

SHOWN_VALUE_LENGTH = 60


@dataclass(frozen=True)
class Issue:
    sheet: str | None       # None: about the whole file
    row: int | None         # the spreadsheet's own row number
    column: str | None      # the header, as the spec names it
    value: str | None       # the cell as read, shortened
    reason: str             # never holds a value: the report file at rest leaves values out
    held: str | None = None # a conflict's value in the database, shown beside the workbook's on screen

    def _without_value(self) -> str:
        """The reason with the cell's value, where a check quoted it ("1/2/85"), left out."""
        reason = self.reason
        if self.value not in (None, ""):
            for quoted in (f'"{self.value}"', f"'{self.value}'", f"\u201c{self.value}\u201d"):
                reason = reason.replace(quoted, "(its value)")
        return reason

    @property
    def told(self) -> str:
        """The reason as shown on screen: with the database's value for a conflict."""
        return f"{self.reason} The database has {self.held}." if self.held else self.reason

    def line(self, values: bool = True) -> str:
        """One line of the report; values=False for the file written beside the workbook, which holds
        no personal data beyond where each problem is (issue 14)."""
        where = []
        if self.sheet:
            where.append(self.sheet)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        place = ", ".join(where) or "Workbook"
        if not values:
            return f"{place}: {self._without_value()}"
        shown = f" [{self.value}]" if self.value not in (None, "") else ""
        return f"{place}{shown}: {self.told}"


def shown(value: object) -> str | None:
    """A cell value as people read it in a report line."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date() if not (value.hour or value.minute or value.second) else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[:SHOWN_VALUE_LENGTH - 1] + "…"


@dataclass
class SheetCounts:
    rows: int = 0            # data rows read (blank and EXAMPLE rows not counted)
    created: int = 0         # rows that are new (written, or would be on a dry run)
    unchanged: int = 0       # identity found, same values
    conflicts: int = 0       # identity found, different values: kept as in the database


@dataclass
class ImportReport:
    file: str
    sha256: str | None = None
    service_code: str | None = None
    dry_run: bool = False
    failures: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    conflicts: list[Issue] = field(default_factory=list)
    counts: dict[str, SheetCounts] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)   # records written per table (assessments per instrument)
    committed: bool = False
    cancelled: bool = False
    report_path: str | None = None
    seconds: float = 0.0
    needs_password: list[str] = field(default_factory=list)   # usernames of staff accounts this import makes

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled

    def fail(self, sheet, row, column, value, reason) -> None:
        self.failures.append(Issue(sheet, row, column, shown(value), reason))

    def warn(self, sheet, row, column, value, reason) -> None:
        self.warnings.append(Issue(sheet, row, column, shown(value), reason))

    def conflict(self, sheet, row, column, value, reason, held=None) -> None:
        self.conflicts.append(Issue(sheet, row, column, shown(value), reason, shown(held)))

    def sheet_counts(self, sheet: str) -> SheetCounts:
        return self.counts.setdefault(sheet, SheetCounts())

    def sort(self, sheet_order: list[str]) -> None:
        order = {name: i for i, name in enumerate(sheet_order)}

        def key(i: Issue):
            return (-1 if i.sheet is None else order.get(i.sheet, len(order)), i.row or 0)
        self.failures.sort(key=key)     # stable: columns stay in the order they were checked
        self.warnings.sort(key=key)
        self.conflicts.sort(key=key)

    def outcome(self) -> str:
        if self.cancelled:
            return "Import cancelled: nothing was changed."
        if self.failures:
            return (f"Nothing was imported: {len(self.failures)} problem(s) must be corrected in the workbook "
                    "first (the import is all or nothing).")
        if self.dry_run:
            return "Dry run: the workbook can be imported; nothing was changed."
        if self.committed:
            return "Imported."
        if self.counts and not any(c.created for c in self.counts.values()):
            return "Nothing new to import: every row is already in the database (nothing was changed)."
        return "Nothing was imported."

    def summary_lines(self) -> list[str]:
        lines = []
        for sheet, c in self.counts.items():
            verb = "would be created" if self.dry_run or not self.committed else "created"
            lines.append(f"{sheet}: {c.rows} row(s) read; {c.created} {verb}, {c.unchanged} unchanged, "
                         f"{c.conflicts} conflict(s)")
        return lines

    def text(self, limit: int | None = None, values: bool = True) -> str:
        """The whole report; with limit, at most that many lines per section; values=False leaves every
        cell's value out (the file written beside the workbook)."""
        out = [f"Import report for {self.file}"]
        if not values:
            out.append("Where each problem is, without the cells' values (they may be personal data): the "
                       "import's screen and the command line show them.")
        if self.sha256:
            out.append(f"SHA-256: {self.sha256}")
        if self.service_code:
            out.append(f"Service: {self.service_code}")
        out.append(self.outcome())
        out += self.summary_lines()
        for title, issues, hint in (
                ("Problems (nothing is imported until they are corrected)", self.failures, ""),
                ("Conflicts (the database was kept as it is)", self.conflicts,
                 "A row whose reference or identity is already in the database but whose values differ is never "
                 "overwritten: change the record in the app if the workbook is right."),
                ("Warnings", self.warnings, "")):
            if not issues:
                continue
            out.append("")
            out.append(f"{title}: {len(issues)}")
            if hint:
                out.append(hint)
            shown_issues = issues if limit is None else issues[:limit]
            out += [f"  - {i.line(values)}" for i in shown_issues]
            if len(shown_issues) < len(issues):
                more = f"  ... and {len(issues) - len(shown_issues)} more"
                out.append(more + (f" (all in {self.report_path})" if self.report_path else ""))
        if self.needs_password and not self.failures:
            out.append("")
            verb = "would need" if self.dry_run or not self.committed else "need"
            out.append(f"Accounts that {verb} a password before anyone can sign in with them: "
                       f"{len(self.needs_password)}")
            out.append("Imported staff get a locked account with no password (a workbook never carries "
                       "passwords). An administrator sets one and unlocks it, for each:")
            out.append("  htdesk user passwd USERNAME   then   htdesk user unlock USERNAME")
            names = self.needs_password if limit is None else self.needs_password[:limit]
            out.append("  " + ", ".join(names) + (f" … and {len(self.needs_password) - len(names)} more"
                                                  if len(names) < len(self.needs_password) else ""))
        return "\n".join(out) + "\n"

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.write_text(self.text(values=False), encoding="utf-8")
        self.report_path = str(path)
        return path


def report_path_for(workbook: Path) -> Path:
    """FILE.xlsx -> FILE-import-report.txt beside it."""
    workbook = Path(workbook)
    return workbook.with_name(f"{workbook.stem}-import-report.txt")
