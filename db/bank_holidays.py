"""Bank holidays in England and Wales, by the rules that set them, so "5 working days" means what
a coordinator means by it (data quality's referrals with no contact attempt).

The rules (Banking and Financial Dealings Act 1971 and the yearly proclamations): New Year's Day,
Good Friday, Easter Monday, the first and last Mondays of May, the last Monday of August, Christmas
Day and Boxing Day, a weekend date moved to the next weekday free of another holiday. Holidays set
or moved by proclamation for one year are listed in ONE_OFF and MOVED; a new one is added there
when it is announced.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from dateutil.easter import easter

# Extra days proclaimed for one year.
ONE_OFF = (date(1999, 12, 31), date(2011, 4, 29), date(2012, 6, 5), date(2022, 6, 3), date(2022, 9, 19),
           date(2023, 5, 8))
# A fixed-rule holiday moved that year: the rule's date -> the day it was kept instead.
MOVED = {date(1995, 5, 1): date(1995, 5, 8), date(2002, 5, 27): date(2002, 6, 4),
         date(2012, 5, 28): date(2012, 6, 4), date(2020, 5, 4): date(2020, 5, 8),
         date(2022, 5, 30): date(2022, 6, 2)}


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    d = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return d - timedelta(days=d.weekday())


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Every bank holiday of one year in England and Wales."""
    days: set[date] = set()

    def keep(d: date) -> None:
        # A Saturday or Sunday holiday is kept on the next weekday not already a holiday.
        while d.weekday() >= 5 or d in days:
            d += timedelta(days=1)
        days.add(d)

    keep(date(year, 1, 1))
    e = easter(year)
    days.update((e - timedelta(days=2), e + timedelta(days=1)))
    for rule_day in (_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)):
        days.add(MOVED.get(rule_day, rule_day))
    keep(date(year, 12, 25))
    keep(date(year, 12, 26))
    days.update(d for d in ONE_OFF if d.year == year)
    return frozenset(days)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def working_days_before(day: date, n: int) -> date:
    """The date n working days (Monday to Friday, bank holidays in England and Wales left out) before day."""
    d = day
    while n:
        d -= timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d
