"""Return periods (RETURN.md "Period")."""
from __future__ import annotations

from datetime import date

import pytest

from db.errors import ValidationError
from db.periods import Period, parse_period, period_containing


@pytest.mark.parametrize("text, start, end", [
    ("2026-27-Q1", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-27-Q2", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-27-Q3", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-27-Q4", date(2027, 1, 1), date(2027, 3, 31)),
    ("2026-27", date(2026, 4, 1), date(2027, 3, 31)),
    ("2027-28-Q4", date(2028, 1, 1), date(2028, 3, 31)),
])
def test_quarters_and_years_with_inclusive_dates(text, start, end):
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)
    assert p.code == text


@pytest.mark.parametrize("text", ["2026-27 Q2", "2026-27-Q2", " 2026-27q2 ", "2026–27 Q2", "2026-27Q2", "2026/27 Q2"])
def test_spellings_people_use(text):
    assert parse_period(text) == Period(2026, 2)


def test_labels():
    p = parse_period("2026-27-Q2")
    assert p.label == "2026-27 Q2" and str(p) == "2026-27 Q2"
    assert p.dates_text() == "1 July 2026 to 30 September 2026"
    assert parse_period("2026-27").label == "2026-27"
    assert parse_period("2099-00-Q1").code == "2099-00-Q1"


@pytest.mark.parametrize("text", ["", None, "2026", "2026-28-Q2", "2026-27-Q5", "2026-27-Q0", "Q2 2026-27",
                                  "26-27-Q2", "2026-27-Q2x", "1999-00"])
def test_bad_period_names_the_field_and_gives_an_example(text):
    with pytest.raises(ValidationError) as info:
        parse_period(text)
    assert info.value.fields == ["period"]
    assert "2026-27-Q2" in str(info.value) and "2026-27" in str(info.value)


def test_period_containing():
    assert period_containing(date(2026, 7, 1)) == Period(2026, 2)
    assert period_containing(date(2027, 3, 31)) == Period(2026, 4)
    assert period_containing(date(2026, 4, 1)) == Period(2026, 1)
    assert period_containing(date(2026, 12, 31)) == Period(2026, 3)
