"""Validation rules of DATA.md: every example the spec gives, and the edges of each band."""
from datetime import date, datetime

import pytest

from db.errors import FieldError, ValidationError
from db.validation import (
    ErrorCollector, age_on, check_age_for_referral, check_closure, check_measurement,
    check_not_future, check_session_date, clean_name, clean_text, duplicate_nhs_number_warning,
    field_label, format_nhs_number, nhs_number_valid, normalise_nhs_number, normalise_postcode,
    outcome_not_recorded, parse_date, raise_if_errors,
)

TODAY = date(2025, 6, 15)


def only_error(exc_info) -> FieldError:
    errors = exc_info.value.errors
    assert len(errors) == 1, errors
    return errors[0]


# --- NHS number ---------------------------------------------------------------

VALID_NHS = ["943 476 5919", "401 023 2137", "450 557 7104", "999 000 0018"]


@pytest.mark.parametrize("text", VALID_NHS)
def test_valid_nhs_numbers(text):
    digits = text.replace(" ", "")
    assert nhs_number_valid(text)
    assert nhs_number_valid(digits)
    assert normalise_nhs_number(text) == digits
    assert normalise_nhs_number(f"  {digits} ") == digits
    assert format_nhs_number(digits) == text


@pytest.mark.parametrize("text", ["943 476 5918", "999 123 4560"])
def test_invalid_nhs_numbers(text):
    assert not nhs_number_valid(text)
    with pytest.raises(ValidationError) as exc:
        normalise_nhs_number(text)
    error = only_error(exc)
    assert error.field == "nhs_number"
    assert error.message.startswith(f"NHS number {text} is not valid")
    assert "check digit" in error.message


def test_nhs_message_matches_the_house_style():
    with pytest.raises(ValidationError) as exc:
        normalise_nhs_number("9434765918")
    assert str(exc.value) == ("NHS number 943 476 5918 is not valid: check the 10 digits "
                              "(the last digit is a check digit).")


@pytest.mark.parametrize("text", ["943476591", "94347659190", "943 476 591X", "abc", "٩٤٣٤٧٦٥٩١٩"])
def test_nhs_number_wrong_shape_is_refused_with_the_field_named(text):
    assert not nhs_number_valid(text)
    with pytest.raises(ValidationError) as exc:
        normalise_nhs_number(text, field="nhs_number")
    error = only_error(exc)
    assert error.field == "nhs_number" and error.message.startswith("NHS number")
    assert "10" in error.message


def test_nhs_number_blank_is_allowed_unless_required():
    assert normalise_nhs_number("") == ""
    assert normalise_nhs_number(None) == ""
    with pytest.raises(ValidationError) as exc:
        normalise_nhs_number("  ", required=True)
    assert "required" in only_error(exc).message


def test_nhs_number_from_a_spreadsheet_number_cell_keeps_its_ten_digits():
    assert normalise_nhs_number(9434765919) == "9434765919"
    assert normalise_nhs_number(9434765919.0) == "9434765919"
    assert not nhs_number_valid(True)


def test_format_nhs_number_leaves_anything_else_alone():
    assert format_nhs_number("12345") == "12345"
    assert format_nhs_number(None) == ""


def test_duplicate_nhs_number_is_a_warning_not_a_refusal():
    assert duplicate_nhs_number_warning("9434765919", []) is None
    warning = duplicate_nhs_number_warning("9434765919", ["HT-000123"])
    assert warning.field == "nhs_number"
    assert "943 476 5919" in warning.message and "HT-000123" in warning.message


# --- postcode -----------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("M1 1AE", "M1 1AE"),          # A9 9AA
    ("B33 8TH", "B33 8TH"),        # A99 9AA
    ("CR2 6XH", "CR2 6XH"),        # AA9 9AA
    ("DN55 1PT", "DN55 1PT"),      # AA99 9AA
    ("W1A 0AX", "W1A 0AX"),        # A9A 9AA
    ("EC1A 1BB", "EC1A 1BB"),      # AA9A 9AA
    ("GIR 0AA", "GIR 0AA"),
    ("gir0aa", "GIR 0AA"),
    ("ne17ru", "NE1 7RU"),         # lower case, no space
    ("  n e 1 7 r u  ", "NE1 7RU"),
    ("NE1\t7RU", "NE1 7RU"),
    ("sw1a1aa", "SW1A 1AA"),
    ("ZZ1 1ZZ", "ZZ1 1ZZ"),        # no letter rules beyond the format (DATA.md)
])
def test_postcode_formats(typed, expected):
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize("typed", ["NFA", "nfa", "Nfa", " nfa ", "No fixed abode", "NO FIXED ABODE",
                                   "no  fixed   abode"])
def test_no_fixed_abode_is_recorded_as_nfa(typed):
    assert normalise_postcode(typed) == "NFA"


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_blank_postcode_is_blank(typed):
    assert normalise_postcode(typed) == ""


@pytest.mark.parametrize("typed", ["NE1", "NE1 7R", "NE1 7RUU", "1NE 7RU", "NE1 ARU", "NEWC 7RU",
                                   "NE1-7RU", "AAA9 9AA", "GIR 0AB", "A99A 9AA", "ＮＥ1 7RU", "N/A"])
def test_invalid_postcodes_are_refused_naming_the_field(typed):
    with pytest.raises(ValidationError) as exc:
        normalise_postcode(typed)
    error = only_error(exc)
    assert error.field == "postcode"
    assert error.message.startswith(f'Postcode "{typed}" is not a UK postcode')
    assert "NFA" in error.message


def test_postcode_field_key_is_used_in_the_message():
    with pytest.raises(ValidationError) as exc:
        normalise_postcode("xx", field="venue_postcode")
    assert exc.value.fields == ["venue_postcode"]
    assert str(exc.value).startswith("Venue postcode")


# --- dates --------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2024-03-05", date(2024, 3, 5)),
    ("2024-3-5", date(2024, 3, 5)),
    ("5/3/2024", date(2024, 3, 5)),
    ("05/03/2024", date(2024, 3, 5)),
    ("31/12/1999", date(1999, 12, 31)),
    (" 1/1/2000 ", date(2000, 1, 1)),
    ("29/2/2024", date(2024, 2, 29)),
    (date(2024, 3, 5), date(2024, 3, 5)),
    (datetime(2024, 3, 5, 14, 30), date(2024, 3, 5)),   # an Excel cell
])
def test_parse_date_accepts_the_documented_forms(value, expected):
    result = parse_date(value, "session_date")
    assert result == expected and type(result) is date


def test_parse_date_is_day_first():
    assert parse_date("1/2/2024", "session_date") == date(2024, 2, 1)


@pytest.mark.parametrize("value", ["5/3/24", "05/03/85"])
def test_two_digit_years_are_refused_as_ambiguous(value):
    with pytest.raises(ValidationError) as exc:
        parse_date(value, "date_of_birth")
    error = only_error(exc)
    assert error.field == "date_of_birth"
    assert error.message.startswith("Date of birth")
    assert "two-digit year" in error.message and "ambiguous" in error.message


@pytest.mark.parametrize("value, words", [
    ("31/2/2024", "not a real date"),
    ("29/2/2023", "not a real date"),
    ("2024-13-01", "not a real date"),
    ("yesterday", "is not a date"),
    ("5/3/02024", "not 4 digits"),
    ("1/1/1850", "check the year"),
    ("2024/03/05", "is not a date"),
])
def test_parse_date_refuses_with_a_message_naming_the_field(value, words):
    with pytest.raises(ValidationError) as exc:
        parse_date(value, "received_date")
    error = only_error(exc)
    assert error.field == "received_date"
    assert error.message.startswith("Date received")
    assert words in error.message


def test_blank_date_is_none_unless_required():
    assert parse_date("", "review_date") is None
    assert parse_date(None, "review_date") is None
    with pytest.raises(ValidationError) as exc:
        parse_date(" ", "date_of_birth", required=True)
    assert only_error(exc).message.startswith("Date of birth is required")


def test_future_dates_are_refused():
    assert check_not_future(TODAY, "received_date", TODAY) == TODAY
    assert check_not_future("14/6/2025", "received_date", TODAY) == date(2025, 6, 14)
    assert check_not_future(None, "received_date", TODAY) is None
    with pytest.raises(ValidationError) as exc:
        check_not_future(date(2025, 6, 16), "received_date", TODAY)
    error = only_error(exc)
    assert error.field == "received_date"
    assert error.message == "Date received 16 June 2025 is in the future: check the date (it cannot be later than today)."


@pytest.mark.parametrize("dob, on, age", [
    (date(2000, 6, 15), date(2025, 6, 14), 24),
    (date(2000, 6, 15), date(2025, 6, 15), 25),    # the new age starts on the birthday
    (date(2004, 2, 29), date(2023, 2, 28), 18),    # 29 Feb: not yet in a non-leap year...
    (date(2004, 2, 29), date(2023, 3, 1), 19),     # ...rolls on 1 March
    (date(2004, 2, 29), date(2024, 2, 28), 19),
    (date(2004, 2, 29), date(2024, 2, 29), 20),    # on the day in a leap year
    (date(2000, 1, 1), date(2000, 1, 1), 0),
])
def test_age_on(dob, on, age):
    assert age_on(dob, on) == age


def test_age_for_referral_bounds():
    received = date(2025, 6, 15)
    assert check_age_for_referral(date(2009, 6, 15), received) == 16
    assert check_age_for_referral("15/6/1915", received) == 110
    assert check_age_for_referral("2009-06-16", received, override=True) == 15
    with pytest.raises(ValidationError) as exc:
        check_age_for_referral(date(2009, 6, 16), received)        # 15 the day before 16
    error = only_error(exc)
    assert error.field == "date_of_birth" and "override" in error.message and "15" in error.message
    with pytest.raises(ValidationError) as exc:
        check_age_for_referral(date(1914, 6, 15), received, override=True)   # 111: no override for that
    assert "111" in only_error(exc).message
    with pytest.raises(ValidationError) as exc:
        check_age_for_referral(date(2025, 7, 1), received, override=True)
    assert "after the referral's date received" in only_error(exc).message


def test_age_for_referral_with_29_february_birthday():
    # 16th birthdays of 29 February babies fall in leap years...
    with pytest.raises(ValidationError):
        check_age_for_referral("29/2/2008", date(2024, 2, 28))
    assert check_age_for_referral("29/2/2008", date(2024, 2, 29)) == 16
    # ...111th ones do not: born 29/2/1912, still 110 on 28/2/2023, 111 on 1 March.
    assert check_age_for_referral("29/2/1912", date(2023, 2, 28)) == 110
    with pytest.raises(ValidationError) as exc:
        check_age_for_referral("29/2/1912", date(2023, 3, 1))
    assert "111" in only_error(exc).message


def test_closure_rules():
    received = date(2025, 1, 10)
    check_closure(received, None, None, TODAY)
    check_closure(received, None, "", TODAY)
    check_closure(received, received, "COMPLETED", TODAY)           # same day is fine
    check_closure("10/1/2025", "2025-03-01", "DECLINED", TODAY)

    with pytest.raises(ValidationError) as exc:
        check_closure(received, date(2025, 2, 1), None, TODAY)
    assert exc.value.fields == ["closure_reason"]
    assert str(exc.value).startswith("Closure reason is needed")

    with pytest.raises(ValidationError) as exc:
        check_closure(received, None, "COMPLETED", TODAY)
    assert exc.value.fields == ["closed_date"]
    assert "closure reason is set" in str(exc.value)

    with pytest.raises(ValidationError) as exc:
        check_closure(received, date(2025, 1, 9), "COMPLETED", TODAY)
    assert exc.value.fields == ["closed_date"]
    assert "before the date received" in str(exc.value)

    with pytest.raises(ValidationError) as exc:
        check_closure(received, date(2025, 6, 16), "COMPLETED", TODAY)
    assert exc.value.fields == ["closed_date"] and "in the future" in str(exc.value)


def test_closure_reports_every_problem_at_once():
    with pytest.raises(ValidationError) as exc:
        check_closure(date(2025, 1, 10), date(2025, 1, 1), "", TODAY)
    assert sorted(exc.value.fields) == ["closed_date", "closure_reason"]


def test_session_dates():
    received = date(2025, 3, 1)
    check_session_date(date(2025, 3, 1), received, "5", TODAY)      # the day it was received
    check_session_date(TODAY, received, "6", TODAY)                 # up to today
    check_session_date(date(2026, 1, 1), received, "0", TODAY)      # booked in the future
    check_session_date(date(2025, 4, 1), received, "0", TODAY)      # past, still booked: kept
    check_session_date(datetime(2025, 4, 1, 10, 0), received, 5, TODAY)

    with pytest.raises(ValidationError) as exc:
        check_session_date(date(2025, 2, 28), received, "5", TODAY)
    assert exc.value.fields == ["session_date"]
    assert "before the referral was received" in str(exc.value)

    with pytest.raises(ValidationError) as exc:
        check_session_date(date(2025, 6, 16), received, "3", TODAY)
    assert exc.value.fields == ["attendance"]
    assert "leave it as Booked" in str(exc.value)

    with pytest.raises(ValidationError) as exc:
        check_session_date(date(2025, 4, 1), received, "9", TODAY)
    assert exc.value.fields == ["attendance"]

    with pytest.raises(ValidationError) as exc:
        check_session_date("", received, "", TODAY)
    assert sorted(exc.value.fields) == ["attendance", "session_date"]


def test_outcome_not_recorded():
    assert outcome_not_recorded(date(2025, 6, 14), "0", TODAY)
    assert not outcome_not_recorded(TODAY, "0", TODAY)
    assert not outcome_not_recorded(date(2025, 6, 14), "5", TODAY)


# --- measurements -------------------------------------------------------------

@pytest.mark.parametrize("kind, refused_low, confirm_low, ok_low, ok_high, confirm_high, refused_high", [
    ("weight_kg", 24.9, 25, 35, 250, 350, 350.1),
    ("height_cm", 99.9, 100, 130, 215, 250, 250.1),
    ("waist_cm", 39.9, 40, 55, 160, 200, 200.1),
])
def test_measurement_bands(kind, refused_low, confirm_low, ok_low, ok_high, confirm_high, refused_high):
    for value in (refused_low, refused_high):
        with pytest.raises(ValidationError) as exc:
            check_measurement(kind, value)
        assert only_error(exc).field == kind
        assert "cannot be right" in str(exc.value)
    for value in (confirm_low, ok_low - 0.1, ok_high + 0.1, confirm_high):
        result = check_measurement(kind, value)
        assert result.status == "needs_confirmation" and result.needs_confirmation
        assert "confirm" in result.message
    for value in (ok_low, ok_high, (ok_low + ok_high) / 2):
        result = check_measurement(kind, value)
        assert result.status == "ok" and result.ok and result.message is None
        assert result.value == value


@pytest.mark.parametrize("kind", ["bp", "bp_systolic", "bp_diastolic"])
def test_blood_pressure_has_no_confirmation_band(kind):
    assert check_measurement(kind, 50).ok
    assert check_measurement(kind, 300).ok
    for value in (49, 301):
        with pytest.raises(ValidationError):
            check_measurement(kind, value)


def test_measurement_messages_name_the_field_and_units():
    with pytest.raises(ValidationError) as exc:
        check_measurement("weight_kg", 400)
    assert str(exc.value) == ("Weight 400 kg cannot be right: it must be between 25 and 350 kg. "
                              "Check the number and the units.")
    assert check_measurement("weight_kg", "30").message.startswith("Weight 30 kg is outside the usual range")


@pytest.mark.parametrize("value", ["heavy", "", None, "nan", "inf", True])
def test_measurement_not_a_number(value):
    with pytest.raises(ValidationError) as exc:
        check_measurement("height_cm", value)
    assert only_error(exc).message.startswith("Height")


def test_measurement_accepts_text_numbers():
    assert check_measurement("weight_kg", " 72.5 ").value == 72.5


# --- free text ----------------------------------------------------------------

NAMES = ["Siobhán", "Nguyễn", "O'Neill", "Zoë", "Ali-Khan", "Mary Jane", "José", "Łukasz",
         "Zoe\u0308",            # decomposed ë: kept as typed, not normalised
         "محمد", "王芳", "Ngozi 🙂", "👩🏽‍⚕️ Ada"]


@pytest.mark.parametrize("name", NAMES)
def test_names_round_trip_exactly(name):
    assert clean_name(name, "first_name", 100) == name
    assert clean_name(f"  {name}\t", "first_name", 100) == name
    assert clean_text(name, "notes", 100) == name


def test_name_needs_a_letter_and_is_required():
    with pytest.raises(ValidationError) as exc:
        clean_name("123", "last_name")
    assert only_error(exc).message.startswith('Last name "123" has no letters')
    with pytest.raises(ValidationError) as exc:
        clean_name("  ", "last_name")
    assert only_error(exc).message.startswith("Last name is required")
    assert clean_name("", "preferred_name", required=False) == ""


def test_name_is_one_line():
    with pytest.raises(ValidationError) as exc:
        clean_name("Ann\nSmith", "first_name")
    assert "line break" in str(exc.value)


def test_text_length_limit_in_characters_not_bytes():
    assert clean_text("é" * 10, "notes", 10) == "é" * 10
    with pytest.raises(ValidationError) as exc:
        clean_text("x" * 11, "first_name", 10)
    error = only_error(exc)
    assert error.field == "first_name"
    assert error.message == "First name is too long (11 characters): the most allowed is 10. Shorten it."


def test_text_keeps_line_breaks_but_not_control_characters():
    assert clean_text(" line one\nline two\r\n\tindented ", "notes", 100) == "line one\nline two\r\n\tindented"
    for bad in ("a\x00b", "a\x1bb", "a\ud800b"):
        with pytest.raises(ValidationError) as exc:
            clean_text(bad, "notes", 100)
        assert only_error(exc).message.startswith("Notes contains")


def test_text_blank_and_none():
    assert clean_text(None, "notes", 10) == ""
    assert clean_text("   ", "notes", 10) == ""
    with pytest.raises(ValidationError):
        clean_text("", "notes", 10, required=True)


def test_field_label_falls_back_to_the_key():
    assert field_label("nhs_number") == "NHS number"
    assert field_label("gp_practice_code") == "Gp practice code"


# --- collecting errors --------------------------------------------------------

def test_error_collector_raises_one_validation_error_with_every_field():
    errors = ErrorCollector()
    assert errors.check(normalise_nhs_number, "9434765919") == "9434765919"
    assert errors.check(normalise_nhs_number, "9434765918") is None
    with errors.capture():
        normalise_postcode("nonsense")
    errors.add("first_name", "First name is required: enter it.")
    errors.add(FieldError("last_name", "Last name is required: enter it."))
    assert errors
    with pytest.raises(ValidationError) as exc:
        errors.raise_if_any()
    assert exc.value.fields == ["nhs_number", "postcode", "first_name", "last_name"]


def test_nothing_raised_when_nothing_is_wrong():
    errors = ErrorCollector()
    errors.check(normalise_postcode, "ne1 7ru")
    assert not errors
    errors.raise_if_any()
    raise_if_errors([])


# --- phone numbers --------------------------------------------------------------

@pytest.mark.parametrize("text", ["0191 496 0000", "07700 900123", "+44 191 496 0000", "(0191) 496-0000",
                                  "0191 496 0000 ext 123", "01632 960001 x12", " 496000 "])
def test_phone_numbers_people_type_are_kept_as_typed(text):
    from db.validation import clean_phone
    assert clean_phone(text, "phone") == text.strip()


def test_phone_blank_is_allowed():
    from db.validation import clean_phone
    assert clean_phone("", "mobile") == clean_phone(None, "mobile") == ""


def test_an_email_address_in_the_phone_field_is_refused_naming_the_field_and_what_to_type():
    from db.validation import clean_phone
    with pytest.raises(ValidationError) as exc:
        clean_phone("jo.bloggs@example.org", "phone")
    error = only_error(exc)
    assert error.field == "phone"
    assert error.message.startswith("Phone 'jo.bloggs@example.org' is an email address")
    assert "put it in Email" in error.message and "0191 496 0000" in error.message


@pytest.mark.parametrize("text, words", [("call after 5", "is not a phone number"),
                                         ("0191+496", "is not a phone number"),
                                         ("12345", "has 5 digits"),
                                         ("0191 496 0000 0191 496 0000", "has 22 digits")])
def test_text_that_is_not_a_phone_number_is_refused(text, words):
    from db.validation import clean_phone
    with pytest.raises(ValidationError) as exc:
        clean_phone(text, "mobile")
    error = only_error(exc)
    assert error.field == "mobile" and error.message.startswith(f"Mobile '{text}' {words}")
