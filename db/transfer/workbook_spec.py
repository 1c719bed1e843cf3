"""The import workbook of IMPORT.md as data: sheets, columns, required flags, code lists.

The single source for the template, the import and the export, so the three can
never disagree about a header. Answer columns of the Assessments sheet come from
the instrument definitions (their item keys are the column names), so a new
instrument appears in all three without touching this file.
"""
from __future__ import annotations

import re
from pathlib import Path
from dataclasses import dataclass, field

from .. import codes, instruments

EXAMPLE_MARK = "EXAMPLE"
CODES_SHEET = "Codes"
INSTRUCTIONS_SHEET = "Instructions"
FORMAT_VERSION = 2     # v1 is IMPORT.md; v2 adds optional sheets and columns only (docs/IMPORT_V2.md)

# Column kinds: how a cell is read and written.
TEXT, DATE, TIME, INT, CODE, CODES, ANSWER = "text", "date", "time", "int", "code", "codes", "answer"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    kind: str = TEXT
    code_list: str | None = None      # a list of codes.lists() or of answer_lists()
    example: object = None            # the template's grey example row
    width: int = 14
    hint: str = ""                    # shown as the cell's input message in the template
    minimum: float | None = None      # number validation (answers)
    maximum: float | None = None
    whole: bool = True
    since: int = 1                    # the workbook version that added the column (2: optional, after IMPORT.md v1)


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    identity: str                     # how a row is recognised on re-import (IMPORT.md), for people
    optional: bool = False            # added after v1: a workbook without this sheet imports as before
    about: str = ""                   # one line for the Instructions sheet
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def header_key(text: object) -> str:
    """How a header is matched: case, surrounding spaces (and a trailing * marking it
    required) ignored; inner spaces count as underscores, so "Date of birth" is date_of_birth."""
    key = "" if text is None else str(text)
    key = key.strip().rstrip("*").strip().casefold()
    return re.sub(r"\s+", "_", key)


def sheet_key(text: object) -> str:
    return " ".join(("" if text is None else str(text)).split()).casefold()


# --- answer columns (from the instruments) -----------------------------------------

def answer_lists() -> dict[str, list[tuple[str, str]]]:
    """Answer options with text codes (smoking status...), listed on the Codes sheet too.
    Yes/No items use the DATA.md list yes_no."""
    found: dict[str, list[tuple[str, str]]] = {}
    for inst in instruments.INSTRUMENTS.values():
        for item in inst.items:
            if item.kind == "choice" and item.options and not all(isinstance(v, int) for v, _ in item.options):
                options = [(str(v), lab) for v, lab in item.options]
                if options != codes.lists().get("yes_no"):
                    found[item.key] = options
    return found


def _answer_column(item) -> Column:
    code_list = None
    if item.kind == "choice" and item.options and not all(isinstance(v, int) for v, _ in item.options):
        code_list = item.key if item.key in answer_lists() else "yes_no"
    lo = item.min if item.min is not None else (min(v for v, _ in item.options) if code_list is None and item.options else None)
    hi = item.max if item.max is not None else (max(v for v, _ in item.options) if code_list is None and item.options else None)
    hint = item.name if len(item.name) <= 200 else item.name[:197] + "..."
    return Column(item.key, kind=ANSWER, code_list=code_list, width=max(10, min(len(item.key) + 3, 20)), hint=hint,
                  minimum=None if code_list else lo, maximum=None if code_list else hi,
                  whole=item.kind != "decimal")


_ANSWER_EXAMPLES = {"weight_kg": 82.4, "height_cm": 171, "waist_cm": 96, "activity_days": 2,
                    "fruitveg_portions": 3, "smoking_status": "1", "cigarettes_per_day": 10, "confidence": 6}


# --- the sheets --------------------------------------------------------------------------

def _c(name, required=False, kind=TEXT, code_list=None, example=None, width=14, hint=""):
    return Column(name, required, kind, code_list, example, width, hint)


def _v2(*columns: Column) -> tuple[Column, ...]:
    import dataclasses
    return tuple(dataclasses.replace(c, since=2) for c in columns)


def sheets() -> tuple[Sheet, ...]:
    """Every sheet of IMPORT.md in its order, with its columns in their order."""
    answers = []
    for inst in instruments.INSTRUMENTS.values():
        for item in inst.items:
            col = _answer_column(item)
            answers.append(Column(col.name, False, col.kind, col.code_list, _ANSWER_EXAMPLES.get(item.key),
                                  col.width, col.hint, col.minimum, col.maximum, col.whole))
    return (
        Sheet("Staff", (
            _c("username", True, example="jsmith", hint="Sign-in name, no spaces; sessions and referrals refer to it"),
            _c("full_name", True, example="Jo Smith", width=22),
            _c("role", True, CODE, "staff_role", "TRAINER"),
            _c("email", example="jo.smith@example.org", width=26),
            _c("phone", example="0191 000 0000"),
            _c("start_date", kind=DATE, example="2023-04-01"),
            _c("end_date", kind=DATE),
            *_v2(  # added after v1 (optional)
                _c("other_roles", kind=CODES, code_list="staff_role", example="COORD",
                   hint="More roles of the same person, separated by ; (a manager who is also administrator)"),
                _c("account_ended", kind=DATE, hint="The day their sign-in was ended (they can no longer sign in)"),
            ),
        ), "username"),
        Sheet("Venues", (
            _c("venue_code", True, example="CC1", hint="Short code; sessions refer to it"),
            _c("name", True, example="Elm Street Community Centre", width=28),
            _c("type", True, CODE, "venue_type", "COMMUNITY"),
            _c("postcode", example="NE1 7RU"),
            *_v2(  # added after v1 (optional)
                _c("open_days", example="Mon;Wed;Fri", hint="Days it is open, e.g. Mon;Tue;Wed (blank: every day)"),
                _c("active", kind=CODE, code_list="yes_no", example="Y", hint="N for a venue no longer used"),
            ),
        ), "venue_code"),
        Sheet("Clients", (
            _c("client_ref", True, example="HT-000001", hint="The client's reference, kept as given"),
            _c("nhs_number", example="943 476 5919"),
            _c("title", example="Ms", width=8),
            _c("first_name", True, example="Siobhán", width=16),
            _c("last_name", True, example="O'Neill", width=16),
            _c("preferred_name", example="Shiv"),
            _c("date_of_birth", True, DATE, example="1980-05-17"),
            _c("gender", True, CODE, "gender", "2"),
            _c("ethnicity", True, CODE, "ethnicity", "B"),
            _c("postcode", example="NE1 7RU", hint="Postcode, or NFA for no fixed abode"),
            _c("address_line_1", example="1 Elm Street", width=22),
            _c("address_line_2", width=18),
            _c("town", example="Newcastle upon Tyne", width=18),
            _c("phone", example="0191 000 0001"),
            _c("mobile", example="07700 900001"),
            _c("email", example="client@example.org", width=24),
            _c("gp_registered", kind=CODE, code_list="yes_no_unknown", example="Y"),
            _c("gp_practice_code", example="A84001"),
            _c("employment", kind=CODE, code_list="employment", example="01"),
            _c("disability", kind=CODE, code_list="disability", example="N"),
            _c("first_language", example="English"),
            _c("interpreter_needed", kind=CODE, code_list="yes_no", example="N"),
            _c("carer", kind=CODE, code_list="yes_no", example="N"),
            _c("consent_date", kind=DATE, example="2024-01-10"),
            _c("consent_share_gp", kind=CODE, code_list="yes_no", example="Y"),
            *_v2(  # added after v1 (optional)
                _c("consent_version", example="v2", hint="The consent wording version the client agreed to"),
                _c("gp_practice_name", example="Elm Street Surgery", width=22),
                _c("contact_phone", kind=CODE, code_list="yes_no", example="Y", hint="Contact by phone (Y/N)"),
                _c("contact_text", kind=CODE, code_list="yes_no", example="Y", hint="Contact by text (Y/N)"),
                _c("contact_letter", kind=CODE, code_list="yes_no", example="N", hint="Contact by letter (Y/N)"),
                _c("contact_email", kind=CODE, code_list="yes_no", example="N", hint="Contact by email (Y/N)"),
                _c("may_leave_message", kind=CODE, code_list="yes_no", example="Y",
                   hint="A message may be left (Y/N)"),
                _c("asian_thresholds", kind=CODE, code_list="yes_no", example="N",
                   hint="Y: the lower BMI thresholds for South Asian, Chinese, Black and other minority backgrounds"),
                _c("archived_date", kind=DATE, hint="The day the record was archived (blank: current)"),
                _c("anonymised_at", width=20, hint="When the person's details were erased (their figures kept), "
                                                   "as htdesk export writes it"),
                # What the figures need of an erased person's postcode (gone with the erasure): read only
                # with anonymised_at, as the app kept it; anyone else's is worked out from their postcode.
                _c("erased_lsoa_code", hint="For a person erased: their LSOA as kept"),
                _c("erased_imd_decile", kind=INT, hint="For a person erased: their IMD decile as kept"),
                _c("erased_imd_quintile", kind=INT, hint="For a person erased: their IMD quintile as kept"),
                _c("erased_imd_edition", hint="For a person erased: the IMD edition of the decile"),
                _c("erased_postcode_status", hint="For a person erased: their postcode's status as kept"),
            ),
        ), "client_ref"),
        Sheet("Referrals", (
            _c("referral_ref", True, example="RF-000001", hint="The referral's reference, kept as given"),
            _c("client_ref", True, example="HT-000001"),
            _c("received_date", True, DATE, example="2024-01-08"),
            _c("source", True, CODE, "source", "GP"),
            _c("referrer_name", example="Dr A Khan", width=18),
            _c("referrer_organisation", example="Elm Street Surgery", width=22),
            _c("reasons", kind=CODES, code_list="area", example="WEIGHT;MONEY",
               hint="Area codes separated by ;"),
            _c("priority", kind=CODE, code_list="priority", example="routine"),
            _c("allocated_trainer", example="jsmith", hint="Username of a trainer or champion on the Staff sheet"),
            _c("closed_date", kind=DATE),
            _c("closure_reason", kind=CODE, code_list="closure_reason", hint="Required with closed_date"),
            _c("notes", width=30),
            *_v2(  # added after v1 (optional)
                _c("age_override_by", hint="Username of the manager who agreed to support a client under 16"),
                _c("erased_figures_dob", kind=DATE, hint="For a person erased: the date the return's age figures use "
                                                         "(never their birthday)"),
                _c("erased_nhs_valid", kind=CODE, code_list="yes_no",
                   hint="For a person erased: Y when their NHS number was valid (the return counts it)"),
            ),
        ), "referral_ref"),
        Sheet("Sessions", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-15"),
            _c("start_time", kind=TIME, example="10:30", hint="HH:MM"),
            _c("duration_minutes", kind=INT, example=45),
            _c("trainer", True, example="jsmith", hint="Username on the Staff sheet"),
            _c("venue_code", example="CC1"),
            _c("mode", True, CODE, "mode", "F2F"),
            _c("type", kind=CODE, code_list="session_type", example="INITIAL"),
            _c("attendance", True, CODE, "attendance", "5", hint="0 = booked (future)"),
            _c("notes", width=30),
            *_v2(  # added after v1 (optional)
                _c("next_steps", width=30),
                _c("group_title", example="Walking group", width=20,
                   hint="Sessions with the same group title, trainer and venue are one group booking"),
            ),
        ), "referral_ref, date, start_time and trainer"),
        Sheet("Assessments", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-15"),
            _c("timepoint", True, CODE, "timepoint", "BASELINE"),
            *answers,
        ), "referral_ref, date and timepoint"),
        Sheet("Goals", (
            _c("referral_ref", True, example="RF-000001"),
            _c("plan_agreed_date", True, DATE, example="2024-01-15",
               hint="Goals sharing a referral and this date belong to one plan"),
            _c("area", True, CODE, "area", "ACTIVITY"),
            _c("goal", True, example="Walk to work twice a week", width=30),
            _c("steps", example="Leave 20 minutes earlier on Mondays and Thursdays", width=30),
            _c("barriers", example="If it rains, then take the bus and walk from the stop", width=30),
            _c("who_can_help", example="My sister", width=18),
            _c("importance", kind=INT, example=8, hint="0 to 10"),
            _c("confidence", kind=INT, example=6, hint="0 to 10"),
            _c("review_date", kind=DATE, example="2024-02-15"),
            _c("status", True, CODE, "goal_status", "INPROGRESS"),
            _c("status_date", kind=DATE, hint="Required for FULL, PARTLY, NOT and DROPPED"),
            *_v2(  # added after v1 (optional)
                _c("start_date", kind=DATE, example="2024-01-15"),
            ),
        ), "referral_ref, plan_agreed_date, area and goal"),
        Sheet("Signposting", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-15"),
            _c("category", True, CODE, "signposting_category", "DEBT"),
            _c("destination", example="Citizens Advice", width=24),
            _c("type", True, CODE, "signposting_type", "signposted"),
            _c("outcome", kind=CODE, code_list="signposting_outcome", example="unknown"),
            *_v2(  # added after v1 (optional)
                _c("outcome_date", kind=DATE, hint="When the outcome was known"),
                _c("follow_up_date", kind=DATE, example="2024-02-12", hint="When to ask how it went"),
                _c("directory_name", example="Citizens Advice",
                   hint="The entry of the Directory sheet the destination was chosen from"),
            ),
        ), "referral_ref, date, category and destination"),
        # --- v2: optional sheets (all their columns are v2) ---
        Sheet("Directory", (
            _c("name", True, example="Citizens Advice", width=26, hint="A local service; plans and signposting name it"),
            _c("category", True, CODE, "signposting_category", "DEBT"),
            _c("phone", example="0808 000 0000"),
            _c("address", example="1 High Street", width=24),
            _c("web", example="https://www.example.org", width=24),
            _c("notes", width=30),
            _c("active", kind=CODE, code_list="yes_no", example="Y"),
        ), "name", optional=True, about="Local services a trainer points clients to; chosen ones print on the plan."),
        Sheet("Plans", (
            _c("referral_ref", True, example="RF-000001"),
            _c("plan_agreed_date", True, DATE, example="2024-01-15"),
            _c("what_matters_to_me", example="Being able to play with my grandchildren", width=40),
            _c("contacts", example="Citizens Advice", width=30,
               hint="Names of Directory entries chosen for the plan, separated by ;"),
        ), "referral_ref and plan_agreed_date", optional=True,
            about="One row per plan: what matters to the client and the contacts chosen; a plan may have no goals."),
        Sheet("Plan versions", (
            _c("referral_ref", True, example="RF-000001"),
            _c("plan_agreed_date", True, DATE, example="2024-01-15", hint="The plan, by its agreed date now"),
            _c("version", True, INT, example=1),
            _c("agreed_date", True, DATE, example="2024-01-15", hint="The date this version was agreed"),
            _c("what_matters_to_me", width=30),
            _c("goals", width=40, hint="The goals as they stood (written by htdesk export; leave as it is)"),
            _c("contacts", width=24, hint="Directory names separated by ;"),
        ), "referral_ref, plan_agreed_date and version", optional=True,
            about="Each agreed version of a plan as it stood (htdesk export writes them; a new plan gets version 1)."),
        Sheet("Goal reviews", (
            _c("referral_ref", True, example="RF-000001"),
            _c("plan_agreed_date", True, DATE, example="2024-01-15"),
            _c("area", True, CODE, "area", "ACTIVITY"),
            _c("goal", True, example="Walk to work twice a week", width=30, hint="The goal as it reads now"),
            _c("review_date", True, DATE, example="2024-02-15"),
            _c("outcome", True, example="PARTLY", hint="FULL, PARTLY, NOT or CHANGED"),
            _c("note", width=30),
            _c("previous_goal", width=30, hint="For CHANGED: the goal as it read before"),
            _c("next_review_date", kind=DATE, example="2024-03-15"),
        ), "referral_ref, plan_agreed_date, area, goal, review_date and outcome", optional=True,
            about="Each review of a goal, with what it said before when it was changed."),
        Sheet("Session goals", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-22"),
            _c("start_time", kind=TIME, example="10:30"),
            _c("trainer", True, example="jsmith"),
            _c("plan_agreed_date", True, DATE, example="2024-01-15"),
            _c("area", True, CODE, "area", "ACTIVITY"),
            _c("goal", True, example="Walk to work twice a week", width=30),
        ), "the session and the goal", optional=True, about="The goals worked on in each session."),
        Sheet("Session history", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-22", hint="The session's date now (as on the Sessions sheet)"),
            _c("start_time", kind=TIME, example="10:30", hint="The session's start time now"),
            _c("trainer", True, example="jsmith"),
            _c("action", True, example="moved", hint="moved or cancelled"),
            _c("from_date", kind=DATE, example="2024-01-15"),
            _c("from_time", kind=TIME, example="10:30"),
            _c("from_venue", example="CC1"),
            _c("to_date", kind=DATE, example="2024-01-22"),
            _c("to_time", kind=TIME, example="10:30"),
            _c("to_venue", example="CC1"),
            _c("attendance", kind=CODE, code_list="attendance", hint="For a cancellation: 2 (by the client) or 4 "
                                                                       "(by the service)"),
            _c("reason", True, example="Client at a hospital appointment", width=30),
            _c("at", example="2024-01-10T09:12:00", width=20, hint="When it was changed"),
            _c("by", example="jsmith", hint="Who changed it (a username)"),
        ), "referral_ref, date, start_time, trainer, action and at", optional=True,
            about="The diary's moves and cancellations with their reasons. A session cancelled in advance "
                  "(attendance 2 or 4 on a date still to come) is accepted on the Sessions sheet only with its "
                  "cancellation here."),
        Sheet("Settings", (
            _c("scope", True, example="service", hint="global, service (this service) or venue:CODE"),
            _c("key", True, example="assessment.interval_weeks", width=30),
            _c("value", True, example="12", width=30, hint="As htdesk export writes it (JSON)"),
        ), "scope and key", optional=True,
            about="Settings chosen in the app (the service's, a venue's, the database's); a setting already there "
                  "with another value is a conflict, never overwritten."),
        Sheet("Documents", (
            _c("client_ref", True, example="HT-000001"),
            _c("referral_ref", example="RF-000001"),
            _c("kind", True, example="plan", hint="plan, letter-appointment, letter-no-contact or letter-gp-outcome"),
            _c("file", True, example="HT-000001-2024-01-15-plan.pdf", width=34,
               hint="The PDF's name in the folder FILE-documents beside this workbook"),
            _c("file_name", example="plan-HT-000001.pdf", width=24, hint="The name it was printed under"),
            _c("template_version", True, example="1"),
            _c("sha256", True, width=20, hint="The PDF's SHA-256: the import checks the file is the one kept"),
            _c("created_at", True, example="2024-01-15T10:40:00", width=20),
            _c("created_by", example="jsmith"),
        ), "client_ref, kind and sha256", optional=True,
            about="Documents kept as printed. The PDFs themselves are in the folder FILE-documents beside the "
                  "workbook (htdesk export writes it); the import brings them back byte for byte."),
        Sheet("Contact attempts", (
            _c("referral_ref", True, example="RF-000001"),
            _c("date", True, DATE, example="2024-01-09"),
            _c("method", True, CODE, "contact_method", "PHONE"),
            _c("outcome", True, CODE, "contact_outcome", "NOANSWER"),
            _c("note", width=30),
        ), "referral_ref, date, method, outcome and note", optional=True,
            about="Each try to reach a client; a referral with tries and no trainer is 'Trying to contact'."),
        Sheet("Safeguarding prompts", (
            _c("client_ref", True, example="HT-000001"),
            _c("referral_ref", True, example="RF-000001"),
            _c("instrument", True, example="PHQ9"),
            _c("item", True, example="phq9_9"),
            _c("answer", kind=INT, example=1, hint="The answer that raised the prompt"),
            _c("steps", True, example="Ring the duty manager on 0191 000 0000 the same day.", width=40,
               hint="The service's escalation steps as they were shown"),
            _c("raised_at", True, example="2024-02-05T10:15:00", width=20),
            _c("acknowledged_by", True, example="jsmith", hint="Who saw the steps and acknowledged them"),
        ), "referral_ref, instrument, item and raised_at", optional=True,
            about="Each safeguarding prompt an answer raised (PHQ-9 item 9), with the steps shown and who "
                  "acknowledged them."),
        Sheet("Return runs", (
            _c("period", True, example="2024-25-Q1"),
            _c("spec_version", True, example="1"),
            _c("disclosure", True, example="none", hint="none or nhs-england"),
            _c("generated_at", True, example="2024-07-10T09:30:00", width=20),
            _c("generated_by", example="Morag Manager (manager)", width=24),
            _c("figures_file", True, example="return-2024-25-Q1-2024-07-10T09-30-00-figures.json", width=34,
               hint="The run's figures (JSON, as htdesk export writes them) in the folder FILE-documents"),
            _c("file_name", example="return-2024-25-Q1.xlsx", width=24),
            _c("file_sha256", width=20),
            _c("submitted", example="Y", hint="Y: marked as the return sent for the period"),
            _c("submitted_at", example="2024-07-11T12:00:00", width=20),
            _c("submitted_by", example="manager"),
            _c("sent_file", width=34, hint="The workbook as sent, in the folder FILE-documents"),
            _c("sent_file_name", width=24),
            _c("sent_sha256", width=20, hint="The sent workbook's SHA-256: the import checks the file"),
            _c("sent_at", width=20),
            _c("sent_by"),
            _c("members_file", width=34, hint="The referrals behind each figure when it was sent (JSON)"),
        ), "period, generated_at, the figures and file_sha256", optional=True,
            about="Each quarterly return built, its figures, and for a submitted one the workbook as sent and the "
                  "referrals behind each figure then; the files are in the folder FILE-documents."),
    )


def documents_folder(workbook) -> Path:
    """The folder of kept PDFs beside a workbook: FILE.xlsx -> FILE-documents."""
    workbook = Path(workbook)
    return workbook.with_name(f"{workbook.stem}-documents")


def sheet(name: str) -> Sheet:
    for s in sheets():
        if s.name == name:
            return s
    raise KeyError(name)


def code_lists() -> dict[str, list[tuple[str, str]]]:
    """Every list shown on the Codes sheet: all of DATA.md, then the answer lists."""
    return {**codes.lists(), **answer_lists()}
