"""Return periods (RETURN.md "Period"): UK financial quarters and years.

Q1 1 April–30 June, Q2 1 July–30 September, Q3 1 October–31 December,
Q4 1 January–31 March (of the second calendar year). Dates are inclusive.
Written "2026-27-Q2" on the command line, "2026-27 Q2" for people, "2026-27"
for a whole year. Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .errors import FieldError, ValidationError

# "2026-27-Q2", "2026-27 Q2", "2026-27Q2", "2026-27" (any case, stray spaces, any dash).
_PATTERN = re.compile(r"^(\d{4})\s*[-\u2010-\u2015/]\s*(\d{2})(?:\s*[-\u2010-\u2015 ]?\s*[Qq]\s*([1-4]))?$")
_QUARTER_STARTS = {1: (0, 4), 2: (0, 7), 3: (0, 10), 4: (1, 1)}      # (year offset, month)
_QUARTER_ENDS = {1: (0, 6, 30), 2: (0, 9, 30), 3: (0, 12, 31), 4: (1, 3, 31)}


@dataclass(frozen=True)
class Period:
    first_year: int            # 2026 for 2026-27
    quarter: int | None        # 1..4, or None for the whole financial year

    @property
    def code(self) -> str:
        """The command line's spelling and the key of return runs: 2026-27-Q2 or 2026-27."""
        year = f"{self.first_year}-{(self.first_year + 1) % 100:02d}"
        return f"{year}-Q{self.quarter}" if self.quarter else year

    @property
    def label(self) -> str:
        """What people read: 2026-27 Q2."""
        return self.code.replace("-Q", " Q")

    @property
    def start(self) -> date:
        if self.quarter is None:
            return date(self.first_year, 4, 1)
        offset, month = _QUARTER_STARTS[self.quarter]
        return date(self.first_year + offset, month, 1)

    @property
    def end(self) -> date:
        if self.quarter is None:
            return date(self.first_year + 1, 3, 31)
        offset, month, day = _QUARTER_ENDS[self.quarter]
        return date(self.first_year + offset, month, day)

    def dates_text(self) -> str:
        """'1 July 2026 to 30 September 2026'."""
        return f"{_long(self.start)} to {_long(self.end)}"

    def __str__(self) -> str:
        return self.label


def _long(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def parse_period(text: object, field: str = "period") -> Period:
    """A Period from '2026-27-Q2', '2026-27 Q2' or '2026-27'; a ValidationError with an example otherwise."""
    if isinstance(text, Period):
        return text
    raw = str(text if text is not None else "").strip()
    m = _PATTERN.match(raw)
    problem = None
    if m is None:
        problem = "is not a period"
    else:
        first, second = int(m.group(1)), int(m.group(2))
        if (first + 1) % 100 != second:
            problem = f"does not name two years in a row ({first}-{(first + 1) % 100:02d} would)"
        elif not 2000 <= first <= 2099:
            problem = "is outside the years the app handles (2000-01 to 2099-00)"
    if problem:
        shown = raw or "(blank)"
        raise ValidationError(FieldError(
            field, f"Period '{shown}' {problem}: write a financial quarter such as 2026-27-Q2 "
                   "(1 July to 30 September 2026), or a whole financial year such as 2026-27."))
    quarter = int(m.group(3)) if m.group(3) else None
    return Period(int(m.group(1)), quarter)


def period_containing(day: date) -> Period:
    """The financial quarter a date falls in (for offering the last complete quarter)."""
    first_year = day.year if day.month >= 4 else day.year - 1
    quarter = {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3, 1: 4, 2: 4, 3: 4}[day.month]
    return Period(first_year, quarter)
