"""Validation rules of DATA.md as pure functions (no Qt, no I/O).

Every failure is a `FieldError(field, message)`: the message names the field in
plain English and says what to do, so forms and the import show it as it is.
Functions that can fail on several fields raise one `ValidationError` holding all
of them, so a form can mark every bad field at once.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from db.errors import FieldError, ValidationError

T = TypeVar("T")

# Plain-English names for field keys used in messages. Unknown keys fall back to
# the key itself made readable ("gp_practice_code" -> "Gp practice code").
FIELD_LABELS: dict[str, str] = {
    "nhs_number": "NHS number",
    "postcode": "Postcode",
    "venue_postcode": "Venue postcode",
    "date_of_birth": "Date of birth",
    "received_date": "Date received",
    "closed_date": "Closed date",
    "closure_reason": "Closure reason",
    "session_date": "Session date",
    "attendance": "Attendance",
    "review_date": "Review date",
    "status_date": "Status date",
    "consent_date": "Consent date",
    "first_name": "First name",
    "last_name": "Last name",
    "preferred_name": "Preferred name",
    "full_name": "Full name",
    "weight_kg": "Weight",
    "height_cm": "Height",
    "waist_cm": "Waist",
    "bp": "Blood pressure",
    "bp_systolic": "Systolic blood pressure",
    "bp_diastolic": "Diastolic blood pressure",
    "notes": "Notes",
}


def field_label(field: str) -> str:
    """The field's name as people read it."""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    text = field.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fail(field: str, message: str) -> ValidationError:
    """A ValidationError for one field (returned so callers write `raise fail(...)`)."""
    return ValidationError(FieldError(field, message))


# --- collecting several errors ------------------------------------------------

class ErrorCollector:
    """Gathers FieldErrors from several checks, then raises them as one ValidationError.

        errors = ErrorCollector()
        nhs = errors.check(normalise_nhs_number, form["nhs_number"])
        with errors.capture():
            dob = parse_date(form["dob"], "date_of_birth", required=True)
        errors.raise_if_any()
    """

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, error: FieldError | str, message: str | None = None) -> None:
        """Add a FieldError, or a field key and message."""
        if isinstance(error, FieldError):
            self.errors.append(error)
        else:
            self.errors.append(FieldError(error, message or ""))

    def check(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Call fn; on ValidationError keep its errors and return None."""
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    @contextmanager
    def capture(self) -> Iterator[None]:
        """Keep the errors of a ValidationError raised in the block, then carry on."""
        try:
            yield
        except ValidationError as exc:
            self.errors.extend(exc.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        raise_if_errors(self.errors)


def raise_if_errors(errors: Iterable[FieldError]) -> None:
    """Raise one ValidationError holding all the errors, if there are any."""
    errors = list(errors)
    if errors:
        raise ValidationError(errors)


# --- NHS number ---------------------------------------------------------------

_NHS_SEPARATORS = re.compile(r"[\s\-]+")
_TEN_DIGITS = re.compile(r"[0-9]{10}")  # ASCII only: str.isdigit() also accepts e.g. Arabic digits


def _nhs_check_digit(nine: str) -> int | None:
    """Modulus 11 check digit of the first nine digits; None when it would be 10."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _nhs_digits(text: object) -> str:
    """Digits of an NHS number as typed, or as read from a spreadsheet number cell."""
    if isinstance(text, bool):
        return str(text)  # never a number: fails the digit check below
    if isinstance(text, int):
        return str(text)
    if isinstance(text, float) and text.is_integer():
        return str(int(text))
    return _NHS_SEPARATORS.sub("", str(text or ""))


def nhs_number_valid(text: object) -> bool:
    """True when text is 10 digits (spaces allowed) with a correct mod-11 check digit."""
    digits = _nhs_digits(text)
    if not _TEN_DIGITS.fullmatch(digits):
        return False
    return _nhs_check_digit(digits[:9]) == int(digits[9])


def normalise_nhs_number(text: object, field: str = "nhs_number", required: bool = False) -> str:
    """The NHS number as 10 digits; "" when blank and not required. Raises ValidationError."""
    label = field_label(field)
    digits = _nhs_digits(text)
    if not digits:
        if required:
            raise fail(field, f"{label} is required: enter the 10-digit NHS number.")
        return ""
    if not _TEN_DIGITS.fullmatch(digits):
        count = sum(c in "0123456789" for c in digits)
        if count == len(digits):
            raise fail(field, f"{label} {digits} has {count} digits: an NHS number has exactly 10. "
                              "Check it against the client's NHS letter or NHS App.")
        raise fail(field, f"{label} \"{str(text).strip()}\" must be 10 digits (spaces allowed): "
                          "remove any letters or other characters.")
    if _nhs_check_digit(digits[:9]) != int(digits[9]):
        raise fail(field, f"{label} {format_nhs_number(digits)} is not valid: check the 10 digits "
                          "(the last digit is a check digit).")
    return digits


def format_nhs_number(digits: object) -> str:
    """Display form "943 476 5919". Anything that is not 10 digits comes back as given."""
    clean = _nhs_digits(digits)
    if not _TEN_DIGITS.fullmatch(clean):
        return "" if digits is None else str(digits)
    return f"{clean[:3]} {clean[3:6]} {clean[6:]}"


def duplicate_nhs_number_warning(nhs_number: str, other_client_refs: Iterable[str],
                                 field: str = "nhs_number") -> FieldError | None:
    """Same NHS number on another client: a warning (possible duplicate), never a refusal."""
    refs = sorted(set(other_client_refs))
    if not refs:
        return None
    return FieldError(field, f"{field_label(field)} {format_nhs_number(nhs_number)} is already recorded "
                             f"for {', '.join(refs)}: check this is not the same person before saving.")


# --- postcode -----------------------------------------------------------------

NFA = "NFA"
_NFA_WORDS = {"nfa", "no fixed abode"}
# Outward code formats A9, A99, AA9, AA99, A9A, AA9A; inward 9AA. No further letter
# rules (DATA.md): a format-valid postcode absent from the lookup is kept as "not found".
_POSTCODE = re.compile(r"(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z]{2}[0-9][A-Z])[0-9][A-Z]{2}|GIR0AA")
_WHITESPACE = re.compile(r"\s+")


def normalise_postcode(text: object, field: str = "postcode") -> str:
    """Standard form "NE1 7RU"; "NFA" for no fixed abode; "" when blank. Raises ValidationError."""
    raw = "" if text is None else str(text)
    if _WHITESPACE.sub(" ", raw).strip().casefold() in _NFA_WORDS:
        return NFA
    compact = _WHITESPACE.sub("", raw).upper()
    if not compact:
        return ""
    # fullmatch on ASCII classes: "ß".upper() or full-width letters never pass.
    if not _POSTCODE.fullmatch(compact):
        raise fail(field, f"{field_label(field)} \"{raw.strip()}\" is not a UK postcode: check it "
                          "(for example NE1 7RU), or enter NFA for no fixed abode.")
    return f"{compact[:-3]} {compact[-3:]}"


# --- dates --------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Day first with the same separator twice; the year is checked for length afterwards
# so a two-digit year gets its own message.
_DMY_DATE = re.compile(r"([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]+)")
EARLIEST_YEAR = 1900  # nothing the service records is older; catches 0985 for 1985


def format_date(d: date) -> str:
    """Unambiguous date for messages: "5 March 2024" (no locale, no D/M vs M/D doubt)."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def parse_date(value: object, field: str, required: bool = False) -> date | None:
    """A date from a date/datetime, "YYYY-MM-DD" or "D/M/YYYY". None when blank and not required."""
    label = field_label(field)
    if isinstance(value, datetime):  # Excel cells come in as datetime
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise fail(field, f"{label} is required: enter it as DD/MM/YYYY, for example 31/01/1985.")
        return None
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DMY_DATE.fullmatch(text):
        day, month, year_text = int(m[1]), int(m[3]), m[4]
        if len(year_text) == 2:
            raise fail(field, f"{label} \"{text}\" has a two-digit year, which is ambiguous: "
                              f"write the year in full, for example {m[1]}/{m[3]}/19{year_text} "
                              f"or {m[1]}/{m[3]}/20{year_text}.")
        if len(year_text) != 4:
            raise fail(field, f"{label} \"{text}\" has a year that is not 4 digits: check it "
                              "and enter the date as DD/MM/YYYY.")
        year = int(year_text)
    else:
        raise fail(field, f"{label} \"{text}\" is not a date: enter it as DD/MM/YYYY, "
                          "for example 31/01/1985.")
    try:
        result = date(year, month, day)
    except ValueError:
        raise fail(field, f"{label} \"{text}\" is not a real date: check the day and the month.") from None
    if year < EARLIEST_YEAR:
        raise fail(field, f"{label} \"{text}\" is before {EARLIEST_YEAR}: check the year.")
    return result


def _as_date(value: object, field: str) -> date | None:
    """Accept dates or text in the check_* helpers; datetime counts by its day."""
    return parse_date(value, field)


# A whole date typed into a search box, in the forms people use: 19/10/1977, 19/10/77,
# 19.10.1977, 19-10-1977, 19 10 1977, 19 Oct 1977, 1977-10-19. Digits on either side
# mean it is part of a longer number (an NHS number, a reference), not a date.
_SEP = r"(?:\s*[/.\-]\s*|\s+)"
_TYPED_DMY = re.compile(rf"(?<![\w/.\-])(\d{{1,2}}){_SEP}(\d{{1,2}}|[^\W\d_]{{3,9}}){_SEP}(\d{{4}}|\d{{2}})(?![\w/.\-])")
_TYPED_YMD = re.compile(rf"(?<![\w/.\-])(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?![\w/.\-])")


def typed_date(text: str, today: date | None = None) -> tuple[list[date], str] | None:
    """A whole date in search text: (the dates it can mean, the rest of the text), or None.

    A two-digit year means whichever of 19yy and 20yy is not in the future (both when
    neither is). A month may be a number or a name ("Oct", "October")."""
    today = today or date.today()
    for pattern, order in ((_TYPED_YMD, "ymd"), (_TYPED_DMY, "dmy")):
        for m in pattern.finditer(text):
            if order == "ymd":
                years, month_text, day = [int(m[1])], m[2], int(m[3])
            else:
                day, month_text, year_text = int(m[1]), m[2], m[3]
                years = [int(year_text)] if len(year_text) == 4 else \
                    [c + int(year_text) for c in (1900, 2000)]
            month = _month_number(month_text)
            found = []
            for year in years:
                try:
                    d = date(year, month, day) if month else None
                except ValueError:
                    d = None
                if d and EARLIEST_YEAR <= d.year and (d <= today or len(years) == 1):
                    found.append(d)
            if found:
                return found, (text[:m.start()] + " " + text[m.end():]).strip()
    return None


def _month_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    folded = text.casefold()
    for number, name in enumerate(_MONTHS, start=1):
        if name.casefold().startswith(folded) and len(folded) >= 3:
            return number
    return None


def check_not_future(d: object, field: str, today: date | None = None) -> date | None:
    """The date, if it is not after today. Raises ValidationError naming the field."""
    day = _as_date(d, field)
    today = today or date.today()
    if day is not None and day > today:
        raise fail(field, f"{field_label(field)} {format_date(day)} is in the future: "
                          "check the date (it cannot be later than today).")
    return day


def age_on(dob: date, on_date: date) -> int:
    """Whole years on on_date. The new age starts on the birthday; a 29 February
    birthday counts from 1 March in other years (RETURN.md)."""
    if isinstance(dob, datetime):
        dob = dob.date()
    if isinstance(on_date, datetime):
        on_date = on_date.date()
    # Comparing (month, day) pairs gives the 1 March rule for free: (2, 28) < (2, 29).
    return on_date.year - dob.year - ((on_date.month, on_date.day) < (dob.month, dob.day))


MIN_AGE = 16
MAX_AGE = 110


def check_age_for_referral(dob: object, referral_date: object, override: bool = False,
                           field: str = "date_of_birth") -> int:
    """Age on the referral's received date, if 16-110 (younger with a manager's override).
    Raises ValidationError naming the date of birth."""
    label = field_label(field)
    birth = parse_date(dob, field, required=True)
    received = parse_date(referral_date, "received_date", required=True)
    if birth > received:
        raise fail(field, f"{label} {format_date(birth)} is after the referral's date received "
                          f"({format_date(received)}): check both dates.")
    age = age_on(birth, received)
    if age > MAX_AGE:
        raise fail(field, f"{label} {format_date(birth)} gives an age of {age} on the date received, "
                          f"over {MAX_AGE}: check the year.")
    if age < MIN_AGE and not override:
        raise fail(field, f"{label} {format_date(birth)} gives an age of {age} on the date received: "
                          f"clients under {MIN_AGE} need a manager's override. Check the date, "
                          "or ask a manager to record the override.")
    return age


def check_closure(received: object, closed: object, reason: object, today: date | None = None) -> None:
    """Closed date not before the received date nor in the future, and a closure reason
    exactly when there is a closed date. Raises one ValidationError with every problem."""
    errors = ErrorCollector()
    received_day = errors.check(_as_date, received, "received_date")
    closed_day = errors.check(check_not_future, closed, "closed_date", today)
    has_reason = bool(str(reason or "").strip())
    closed_given = closed_day is not None or bool(str(closed or "").strip())
    if closed_given and not has_reason:
        errors.add("closure_reason", "Closure reason is needed when there is a closed date: "
                                     "choose why the referral was closed.")
    if has_reason and not closed_given:
        errors.add("closed_date", "Closed date is missing but a closure reason is set: enter the date "
                                  "the referral was closed, or clear the closure reason.")
    if closed_day and received_day and closed_day < received_day:
        errors.add("closed_date", f"Closed date {format_date(closed_day)} is before the date received "
                                  f"({format_date(received_day)}): check both dates.")
    errors.raise_if_any()


ATTENDANCE_CODES = ("5", "6", "7", "2", "3", "4", "0")
BOOKED = "0"


def _attendance_code(value: object) -> str:
    # Spreadsheet cells may give 5 or 5.0 for the code "5".
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def check_session_date(session_date: object, received_date: object, attendance: object,
                       today: date | None = None) -> None:
    """Session not before the referral's received date (follow-ups after closure are fine);
    attendance other than "0" (booked) only for sessions up to today."""
    errors = ErrorCollector()
    day = errors.check(parse_date, session_date, "session_date", required=True)
    received_day = errors.check(_as_date, received_date, "received_date")
    code = _attendance_code(attendance)
    today = today or date.today()
    if day and received_day and day < received_day:
        errors.add("session_date", f"Session date {format_date(day)} is before the referral was received "
                                   f"({format_date(received_day)}): check the date.")
    if not code:
        errors.add("attendance", "Attendance is required: choose Booked for a future session, "
                                 "or what happened for a past one.")
    elif code not in ATTENDANCE_CODES:
        errors.add("attendance", f"Attendance \"{code}\" is not a known code: choose one from the list "
                                 "(5, 6, 7, 2, 3, 4 or 0 for booked).")
    elif code != BOOKED and day and day > today:
        errors.add("attendance", f"Attendance can only be recorded for sessions up to today, and this "
                                 f"session is on {format_date(day)}: leave it as Booked until it has happened.")
    errors.raise_if_any()


def outcome_not_recorded(session_date: object, attendance: object, today: date | None = None) -> bool:
    """A past session still at "0": kept, and listed as "outcome not recorded"."""
    day = _as_date(session_date, "session_date")
    return _attendance_code(attendance) == BOOKED and day is not None and day < (today or date.today())


# --- measurements -------------------------------------------------------------

@dataclass(frozen=True)
class MeasurementRange:
    label: str
    unit: str
    low: float            # refused below
    high: float           # refused above
    usual_low: float | None = None   # confirmation asked below (None: no confirmation band)
    usual_high: float | None = None


MEASUREMENTS: dict[str, MeasurementRange] = {
    "weight_kg": MeasurementRange("Weight", "kg", 25, 350, 35, 250),
    "height_cm": MeasurementRange("Height", "cm", 100, 250, 130, 215),
    "waist_cm": MeasurementRange("Waist", "cm", 40, 200, 55, 160),
    "bp": MeasurementRange("Blood pressure", "mmHg", 50, 300),
    "bp_systolic": MeasurementRange("Systolic blood pressure", "mmHg", 50, 300),
    "bp_diastolic": MeasurementRange("Diastolic blood pressure", "mmHg", 50, 300),
}


@dataclass(frozen=True)
class MeasurementCheck:
    kind: str
    value: float
    needs_confirmation: bool = False
    message: str | None = None   # set when needs_confirmation: the question to ask

    @property
    def status(self) -> str:
        return "needs_confirmation" if self.needs_confirmation else "ok"

    @property
    def ok(self) -> bool:
        return not self.needs_confirmation


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def check_measurement(kind: str, value: object) -> MeasurementCheck:
    """Refuse (ValidationError) outside the possible range; ask for confirmation
    outside the usual range; otherwise ok. Bounds are inclusive."""
    spec = MEASUREMENTS[kind]
    shown = "" if value is None else str(value).strip()
    if not shown:
        raise fail(kind, f"{spec.label} is blank: enter a number in {spec.unit}.")
    number = _number(value)
    if number is None:
        raise fail(kind, f"{spec.label} \"{shown}\" is not a number: enter it in {spec.unit}, "
                         "for example 72.5.")
    if not spec.low <= number <= spec.high:
        raise fail(kind, f"{spec.label} {number:g} {spec.unit} cannot be right: it must be between "
                         f"{spec.low:g} and {spec.high:g} {spec.unit}. Check the number and the units.")
    if spec.usual_low is not None and not spec.usual_low <= number <= spec.usual_high:
        return MeasurementCheck(kind, number, True,
                                f"{spec.label} {number:g} {spec.unit} is outside the usual range "
                                f"({spec.usual_low:g}-{spec.usual_high:g} {spec.unit}): check it, "
                                "and confirm it is right.")
    return MeasurementCheck(kind, number)


# --- free text ----------------------------------------------------------------

_LINE_CONTROLS = {"\n", "\r", "\t"}


def clean_text(value: object, field: str, max_length: int, required: bool = False,
               multiline: bool = True) -> str:
    """Trimmed text, otherwise exactly as given (no Unicode normalisation, so names
    round-trip byte for byte). Refuses over-long text and control characters."""
    label = field_label(field)
    text = ("" if value is None else str(value)).strip()
    if not text:
        if required:
            raise fail(field, f"{label} is required: enter it.")
        return ""
    for ch in text:
        category = unicodedata.category(ch)
        # Cc: control characters (NUL breaks exports); Cs: lone surrogates cannot be
        # stored as UTF-8. Cf (e.g. zero-width joiner in emoji) is kept.
        if category == "Cs" or (category == "Cc" and not (multiline and ch in _LINE_CONTROLS)):
            what = "a line break" if ch in _LINE_CONTROLS else "a hidden control character"
            raise fail(field, f"{label} contains {what} that cannot be kept here: "
                              "retype it without pasting.")
    if len(text) > max_length:
        raise fail(field, f"{label} is too long ({len(text)} characters): the most allowed is "
                          f"{max_length}. Shorten it.")
    return text


def clean_name(value: object, field: str = "name", max_length: int = 100, required: bool = True) -> str:
    """A person's name: one line, trimmed, any script, with at least one letter."""
    text = clean_text(value, field, max_length, required=required, multiline=False)
    if text and not any(ch.isalpha() for ch in text):
        raise fail(field, f"{field_label(field)} \"{text}\" has no letters: check what was typed.")
    return text


# --- phone numbers ------------------------------------------------------------

_PHONE_CHARS = frozenset("0123456789 +()-.")
_PHONE_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x)\s*(\d{1,6})\s*$", re.IGNORECASE)


def clean_phone(value: object, field: str = "phone", max_length: int = 30) -> str:
    """A phone number as typed (trimmed): digits with spaces, brackets, dashes or a leading +,
    and an optional extension ("ext 123"). Between 6 and 15 digits, the longest any
    number has (ITU E.164). Refuses an email address or words typed into the field."""
    text = clean_text(value, field, max_length, multiline=False)
    if not text:
        return ""
    label = field_label(field)
    example = "for example 0191 496 0000 or +44 191 496 0000"
    if "@" in text:
        raise fail(field, f"{label} '{text}' is an email address: put it in Email, and type a phone "
                          "number here (e.g. 0191 496 0000) or leave it blank.")
    number = _PHONE_EXTENSION.sub("", text)
    if not set(number) <= _PHONE_CHARS or "+" in number[1:]:
        raise fail(field, f"{label} '{text}' is not a phone number: type digits and spaces only, "
                          f"with + at the start for an international number ({example}).")
    digits = sum(ch.isdigit() for ch in number)
    if not 6 <= digits <= 15:
        raise fail(field, f"{label} '{text}' has {digits} digit{'s' if digits != 1 else ''}: a phone number has "
                          f"between 6 and 15. Check it ({example}).")
    return text
