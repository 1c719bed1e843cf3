"""What reads return: frozen dataclasses, plain values, no database handles."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from . import rules


def from_row(cls, row: dict, **extra):
    """Build a record from a row, taking only the fields the record declares."""
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in row.items() if k in names}
    values.update(extra)
    return cls(**values)


@dataclass(frozen=True)
class Actor:
    """The person acting: who the store checks permissions for and audits."""
    username: str
    roles: frozenset[str]
    account_id: int | None = None
    staff_id: int | None = None
    full_name: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class AuditNote:
    """One audit event a write asks for; the store's declaration writes it inside the transaction."""
    action: str
    entity: str | None
    entity_id: Any = None
    before: dict | None = None
    after: dict | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Changes:
    """What a write changed, so screens refresh only that (the main window broadcasts it once)."""
    entity: str
    ids: tuple[int, ...]
    action: str = "update"
    notes: tuple[AuditNote, ...] = field(default=(), compare=False, repr=False)

    def touches(self, *entities: str) -> bool:
        return self.entity in entities


@dataclass(frozen=True)
class Service:
    id: int
    code: str
    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    commissioner: str | None = None
    row_version: int = 1


@dataclass(frozen=True)
class Staff:
    id: int
    service_id: int
    full_name: str
    role: str
    email: str | None = None
    phone: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    active: int = 1
    username: str | None = None
    row_version: int = 1


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    roles: tuple[str, ...]
    staff_id: int | None
    locked: int
    failed_attempts: int
    last_login: str | None
    must_change_password: int
    full_name: str | None = None


@dataclass(frozen=True)
class Venue:
    id: int
    service_id: int
    code: str
    name: str
    type: str
    postcode: str | None = None
    active: int = 1
    row_version: int = 1
    open_days: str | None = None      # ISO weekdays the venue is open ('12345'); None: any day


CLIENT_FIELDS = (
    "nhs_number", "title", "first_name", "last_name", "preferred_name", "date_of_birth",
    "gender", "ethnicity", "asian_thresholds", "postcode", "address_line_1", "address_line_2",
    "town", "phone", "mobile", "email", "contact_phone", "contact_text", "contact_letter",
    "contact_email", "may_leave_message", "gp_registered", "gp_practice_code",
    "gp_practice_name", "employment", "disability", "first_language", "interpreter_needed",
    "carer", "consent_date", "consent_version", "consent_share_gp",
)


@dataclass(frozen=True)
class Client:
    id: int
    service_id: int
    client_ref: str
    first_name: str
    last_name: str
    date_of_birth: str
    gender: str
    ethnicity: str
    nhs_number: str | None = None
    title: str | None = None
    preferred_name: str | None = None
    asian_thresholds: int = 0
    postcode: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    town: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    contact_phone: int = 0
    contact_text: int = 0
    contact_letter: int = 0
    contact_email: int = 0
    may_leave_message: int = 0
    gp_registered: str | None = None
    gp_practice_code: str | None = None
    gp_practice_name: str | None = None
    employment: str | None = None
    disability: str | None = None
    first_language: str | None = None
    interpreter_needed: str | None = None
    carer: str | None = None
    consent_date: str | None = None
    consent_version: str | None = None
    consent_share_gp: str | None = None
    lsoa_code: str | None = None
    imd_decile: int | None = None
    imd_quintile: int | None = None
    imd_edition: str | None = None
    postcode_status: str | None = None
    archived_at: str | None = None
    archived_by: str | None = None
    anonymised_at: str | None = None
    row_version: int = 1
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}".strip()

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class ClientSummary:
    """One row of the client search list."""
    id: int
    client_ref: str
    first_name: str
    last_name: str
    preferred_name: str | None
    date_of_birth: str
    nhs_number: str | None
    postcode: str | None
    archived_at: str | None = None


@dataclass(frozen=True)
class ContactAttempt:
    id: int
    referral_id: int
    attempt_date: str
    method: str
    outcome: str
    note: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class Referral:
    id: int
    service_id: int
    referral_ref: str
    client_id: int
    received_date: str
    source: str
    priority: str
    status: str
    reasons: tuple[str, ...] = ()
    referrer_name: str | None = None
    referrer_organisation: str | None = None
    allocated_staff_id: int | None = None
    allocated_name: str | None = None
    first_contact_date: str | None = None
    first_attended_date: str | None = None
    closed_date: str | None = None
    closure_reason: str | None = None
    notes: str | None = None
    age_override_by: str | None = None
    contact_attempts: tuple[ContactAttempt, ...] = ()
    row_version: int = 1
    tries_needed: int = rules.THREE_TRIES     # the service's setting (three_tries.attempts)

    @property
    def unsuccessful_attempts(self) -> int:
        return sum(1 for a in self.contact_attempts if a.outcome in rules.UNSUCCESSFUL)

    @property
    def three_tries_reached(self) -> bool:
        return rules.three_tries_reached(self.unsuccessful_attempts, self.first_contact_date, self.status,
                                         self.tries_needed)


@dataclass(frozen=True)
class WaitingItem:
    referral_id: int
    referral_ref: str
    received_date: str
    priority: str
    status: str
    source: str
    client_id: int
    client_ref: str
    client_name: str
    days_waiting: int
    attempts: int
    last_attempt: str | None
    allocated_staff_id: int | None
    trainer_name: str | None
    reasons: tuple[str, ...]
    phone: str | None = None
    unsuccessful_attempts: int = 0
    first_contact_date: str | None = None
    tries_needed: int = rules.THREE_TRIES     # the service's setting (three_tries.attempts)

    @property
    def three_tries_reached(self) -> bool:
        return rules.three_tries_reached(self.unsuccessful_attempts, self.first_contact_date, self.status,
                                         self.tries_needed)


@dataclass(frozen=True)
class Session:
    id: int
    referral_id: int
    client_id: int
    staff_id: int
    session_date: str
    mode: str
    attendance: str
    venue_id: int | None = None
    start_time: str | None = None
    duration_minutes: int | None = None
    type: str | None = None
    notes: str | None = None
    next_steps: str | None = None
    staff_name: str | None = None
    venue_name: str | None = None
    row_version: int = 1
    group_id: int | None = None


@dataclass(frozen=True)
class Goal:
    id: int
    plan_id: int
    area: str
    goal_text: str
    status: str
    steps: str | None = None
    barriers: str | None = None
    who_can_help: str | None = None
    importance: int | None = None
    confidence: int | None = None
    start_date: str | None = None
    review_date: str | None = None
    status_date: str | None = None
    position: int = 0
    row_version: int = 1


@dataclass(frozen=True)
class Plan:
    id: int
    referral_id: int
    agreed_date: str
    what_matters: str | None = None
    goals: tuple[Goal, ...] = ()
    contacts: tuple["DirectoryEntry", ...] = ()
    row_version: int = 1


@dataclass(frozen=True)
class Assessment:
    id: int
    client_id: int
    referral_id: int
    assessed_date: str
    timepoint: str
    instrument: str
    answers: dict[str, Any]
    scores: dict[str, Any]
    bands: dict[str, Any]
    is_result: bool
    not_computable_reason: str | None = None
    flags: tuple[str, ...] = ()
    created_by: str | None = None
    row_version: int = 1


@dataclass(frozen=True)
class Signpost:
    id: int
    client_id: int
    referral_id: int
    signpost_date: str
    category: str
    type: str
    outcome: str
    destination: str | None = None
    directory_id: int | None = None
    follow_up_date: str | None = None
    row_version: int = 1
    outcome_date: str | None = None     # when the outcome was learnt (schema 0007)


@dataclass(frozen=True)
class DirectoryEntry:
    id: int
    service_id: int
    name: str
    category: str
    phone: str | None = None
    address: str | None = None
    web: str | None = None
    notes: str | None = None
    active: int = 1
    row_version: int = 1


@dataclass(frozen=True)
class TimelineEvent:
    when: str           # ISO date or date-time
    kind: str           # referral, contact, session, plan, goal, assessment, signposting, document, record
    summary: str
    referral_ref: str | None = None


@dataclass(frozen=True)
class ClientRecord:
    """Everything a client's record screen shows, read in one go."""
    client: Client
    referrals: tuple[Referral, ...] = ()
    sessions: tuple[Session, ...] = ()
    plans: tuple[Plan, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    signposting: tuple[Signpost, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    possible_duplicates: tuple[ClientSummary, ...] = field(default=())


# --- the diary (store.diary) ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryEntry:
    """One client's place in a booked or held session, as the diary lists show it."""
    session_id: int
    referral_id: int
    client_id: int
    staff_id: int
    session_date: str
    mode: str
    attendance: str
    row_version: int = 1
    venue_id: int | None = None
    group_id: int | None = None
    start_time: str | None = None
    duration_minutes: int | None = None
    type: str | None = None
    notes: str | None = None
    staff_name: str | None = None
    venue_name: str | None = None
    venue_type: str | None = None
    client_ref: str = ""
    first_name: str = ""
    last_name: str = ""
    preferred_name: str | None = None
    referral_ref: str = ""
    group_title: str | None = None
    session_number: int = 0
    outcome_not_recorded: bool = False     # a past session still at 0 (DATA.md)

    @property
    def client_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        return f"{(self.preferred_name or self.first_name)[:1]}{self.last_name[:1]}".upper()

    @property
    def end_time(self) -> str | None:
        if not self.start_time:
            return None
        h, m = map(int, self.start_time.split(":"))
        total = h * 60 + m + (self.duration_minutes or 60)
        return f"{total // 60 % 24:02d}:{total % 60:02d}"


@dataclass(frozen=True)
class CaseloadItem:
    """An open referral allocated to a trainer, with where it stands and what is due next."""
    referral_id: int
    referral_ref: str
    staff_id: int
    status: str
    received_date: str
    client_id: int
    client_ref: str
    first_name: str
    last_name: str
    preferred_name: str | None = None
    sessions_attended: int = 0
    last_attended: str | None = None
    plan_agreed: str | None = None
    has_baseline: int = 0
    last_review: str | None = None
    has_exit: int = 0
    exit_session: int = 0
    next_session: str | None = None         # "YYYY-MM-DD HH:MM" of the next booked session
    not_recorded: int = 0                   # past sessions still at 0
    review_due: str | None = None           # ISO date the next review falls due
    due: tuple[str, ...] = ()               # what is due next, in words
    overdue: tuple[str, ...] = ()           # the part of `due` that is late

    @property
    def client_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DnaFollowUp:
    """A referral whose last two recorded sessions were both missed (DNA): the coordinator follows up."""
    referral_id: int
    referral_ref: str
    client_id: int
    client_ref: str
    first_name: str
    last_name: str
    staff_id: int | None = None
    staff_name: str | None = None
    preferred_name: str | None = None
    phone: str | None = None
    mobile: str | None = None
    last_dna: str | None = None

    @property
    def client_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"


@dataclass(frozen=True)
class SessionChange:
    """A move or cancellation of a booked session, kept with the reason."""
    id: int
    session_id: int
    action: str
    reason: str
    at: str
    by: str | None = None
    from_date: str | None = None
    from_time: str | None = None
    to_date: str | None = None
    to_time: str | None = None
    attendance: str | None = None


@dataclass(frozen=True)
class MyDay:
    """A trainer's or champion's first screen: today's sessions, then their caseload."""
    day: str
    staff_id: int | None
    today: tuple[DiaryEntry, ...] = ()
    caseload: tuple[CaseloadItem, ...] = ()
    not_recorded: tuple[DiaryEntry, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """What recording a session did: the next sessions booked in the same step, and whether the
    referral is now on the coordinator's follow-up list (two DNAs in a row)."""
    session_ids: tuple[int, ...]
    booked: tuple[int, ...] = ()
    follow_up: tuple[int, ...] = ()        # referral ids now on the follow-up list


# --- plans, reviews and signposting follow-up (issue 12, schema 0007) ------------------------------

@dataclass(frozen=True)
class PlanVersion:
    """One agreed version of a plan, as it was agreed: its date, what matters, the goals (dicts of
    db.plans.GOAL_COLUMNS with their id) and the directory entries chosen."""
    id: int
    plan_id: int
    version: int
    agreed_date: str
    what_matters: str | None = None
    goals: tuple[dict, ...] = ()
    contacts: tuple[int, ...] = ()
    created_at: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class GoalReview:
    id: int
    goal_id: int
    review_date: str
    outcome: str                 # FULL, PARTLY, NOT or CHANGED (db.plans.REVIEW_OUTCOMES)
    note: str | None = None
    previous_text: str | None = None    # CHANGED: the goal's words before the change
    next_review_date: str | None = None
    created_at: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class FollowUpItem:
    """A signposting whose outcome is still unknown (the follow-up list)."""
    signpost_id: int
    client_id: int
    referral_id: int
    signpost_date: str
    category: str
    type: str
    client_ref: str
    first_name: str
    last_name: str
    referral_ref: str
    row_version: int = 1
    destination: str | None = None
    directory_id: int | None = None
    directory_name: str | None = None
    follow_up_date: str | None = None
    preferred_name: str | None = None
    staff_id: int | None = None

    @property
    def where(self) -> str:
        return self.directory_name or self.destination or ""
