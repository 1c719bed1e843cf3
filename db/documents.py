"""Documents kept with the record exactly as printed, and what printing them needs.

The records here are what `reports/` lays out: plain values gathered by the
store (db/parts/documents.py), so a PDF builder never queries.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from sqlite_utils import Database

from .audit import now_iso
from .errors import NotFound
from .instruments import Pair
from . import rules
from .records import (Assessment, Client, DirectoryEntry, Plan, Referral, Service, Session, Signpost, Staff, Venue,
                      from_row)

PLAN = "plan"
LETTER_KINDS = ("appointment", "no-contact", "gp-outcome")
# What the documents table's `kind` holds, and what people see for it.
KIND_LABELS = {
    PLAN: "Personal health plan",
    "letter-appointment": "Appointment letter",
    "letter-no-contact": "Could not reach you letter",
    "letter-gp-outcome": "Outcome letter to the GP",
}


def letter_kind(kind: str) -> str:
    """The documents table's kind for a letter kind of CLI.md ("appointment" -> "letter-appointment")."""
    return f"letter-{kind}"


# --- when a letter tells the truth ---------------------------------------------------

@dataclass(frozen=True)
class LetterRefusal:
    """Why a letter may not print for this referral: the field it is about and one sentence for people."""
    field: str
    message: str


def letter_refusal(kind: str, referral: Referral, client: Client, sessions: list[Session],
                   today: date) -> LetterRefusal | None:
    """The letter rules of issue 12, as one pure function (the store, the screens and the command line
    all ask it). `sessions` are the referral's sessions. None when the letter may print.

    - no-contact ("we could not reach you"): an open referral with at least one unsuccessful contact
      attempt and no successful contact (no "spoke to client" attempt, no first contact date, no
      attended session);
    - gp-outcome: consent to share with the GP, a GP practice (not "not registered"), and at least
      one attended session to summarise;
    - appointment: a session booked (attendance 0) on a day after today.
    """
    ref = referral.referral_ref
    if kind == "no-contact":
        if referral.status == "CLOSED" or referral.closed_date:
            return LetterRefusal("status", f"{ref} is closed, so there is nobody to invite back with a "
                                           "could-not-reach-you letter.")
        reached = [a for a in referral.contact_attempts if a.outcome == "REACHED"]
        if reached or referral.first_contact_date or any(rules.attended(s.attendance) for s in sessions):
            return LetterRefusal("contact_attempts", f"{ref} has already had a successful contact with the "
                                                     "client, so the could-not-reach-you letter would be untrue.")
        if referral.unsuccessful_attempts == 0:
            return LetterRefusal("contact_attempts", f"{ref} has no unsuccessful contact attempts recorded: log "
                                                     "the tries first, then print the letter.")
        return None
    if kind == "gp-outcome":
        if client.consent_share_gp != "Y":
            return LetterRefusal("consent_share_gp", f"{client.client_ref} has not agreed to share information "
                                                     "with their GP, so the outcome letter cannot be printed until "
                                                     "their consent is recorded.")
        if client.gp_registered == "N" or not (client.gp_practice_name or client.gp_practice_code):
            return LetterRefusal("gp_practice", f"{client.client_ref} has no GP practice recorded, so there is "
                                                "nobody to send the outcome letter to: record the practice first.")
        if not any(rules.attended(s.attendance) for s in sessions):
            return LetterRefusal("session", f"{ref} has no attended session yet, so there is no support to "
                                            "summarise for the GP.")
        return None
    if kind == "appointment":
        if not future_booked(sessions, today):
            return LetterRefusal("session", f"{ref} has no session booked after today ({today.isoformat()}): "
                                            "book the session first, then print the letter.")
        return None
    return None


def future_booked(sessions: list[Session], today: date) -> list[Session]:
    """Booked sessions on a day after today, soonest first (a session today is no news by letter)."""
    return sorted((s for s in sessions if s.attendance == "0" and s.session_date > today.isoformat()),
                  key=lambda s: (s.session_date, s.start_time or ""))


# --- records ----------------------------------------------------------------------

@dataclass(frozen=True)
class KeptDocument:
    id: int
    client_id: int | None
    referral_id: int | None
    kind: str
    file_name: str
    template_version: str
    sha256: str
    created_at: str
    created_by: str
    size: int
    content: bytes | None = None     # only from get_document: lists leave the bytes in the database

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Letterhead:
    """Who the document comes from: the service's details and logo (PNG or JPEG bytes)."""
    service: Service
    logo: bytes | None = None
    website: str | None = None       # the service.website setting, printed with the phone and email


@dataclass(frozen=True)
class MeasurePair:
    """An instrument's first and latest result within one referral (the plan's "How I am doing")."""
    instrument: str
    baseline: Assessment
    latest: Assessment | None = None   # None while there is only one result


@dataclass(frozen=True)
class PlanPrintData:
    client: Client
    letterhead: Letterhead
    referral: Referral
    trainer: Staff | None
    plan: Plan
    next_sessions: tuple[Session, ...]
    measures: tuple[MeasurePair, ...]
    # Chart series, oldest first: "weight" (kg) and "wellbeing" (SWEMWBS metric) -> ((ISO date, value), ...)
    series: Mapping[str, tuple[tuple[str, float], ...]]
    next_review: str | None
    printed_on: str
    printed_by: str
    is_demo: bool = False

    @property
    def contacts(self) -> tuple[DirectoryEntry, ...]:
        return self.plan.contacts


@dataclass(frozen=True)
class LetterData:
    kind: str                          # one of LETTER_KINDS
    client: Client
    letterhead: Letterhead
    referral: Referral
    trainer: Staff | None
    printed_on: str
    signed_by: str
    is_demo: bool = False
    signed_role: str = ""              # the signer's role (service setting), printed under the name
    session: Session | None = None     # appointment: the next booked session of the referral
    venue: Venue | None = None
    plan: Plan | None = None           # gp-outcome
    outcomes: tuple[Pair, ...] = ()    # gp-outcome: baseline/exit pairs, in the spec's instrument order
    attended: tuple[Session, ...] = () # gp-outcome: sessions attended, oldest first
    missed: int = 0                    # gp-outcome: sessions not attended without warning (DNA)
    signposting: tuple[Signpost, ...] = field(default=())


# --- SQL ----------------------------------------------------------------------------

_LIST_COLUMNS = ("id, client_id, referral_id, kind, file_name, template_version, sha256, created_at, created_by, "
                 "length(content) AS size")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def insert(db: Database, client_id: int, referral_id: int | None, kind: str, file_name: str, content: bytes,
           template_version: str, by: str) -> int:
    cur = db.conn.execute(
        "INSERT INTO documents (client_id, referral_id, kind, file_name, content, template_version, sha256, "
        "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (client_id, referral_id, kind, file_name, content, template_version, sha256(content), now_iso(), by))
    return cur.fetchone()[0]


def for_client(db: Database, client_id: int) -> list[KeptDocument]:
    return [from_row(KeptDocument, r) for r in db.query(
        f"SELECT {_LIST_COLUMNS} FROM documents WHERE client_id = ? ORDER BY created_at DESC, id DESC", [client_id])]


def get(db: Database, document_id: int) -> KeptDocument:
    rows = list(db.query(f"SELECT {_LIST_COLUMNS}, content FROM documents WHERE id = ?", [document_id]))
    if not rows:
        raise NotFound(f"There is no kept document with id {document_id}.")
    row = rows[0]
    return from_row(KeptDocument, row, content=bytes(row["content"]))


def client_of(db: Database, document_id: int) -> int:
    row = db.conn.execute("SELECT client_id FROM documents WHERE id = ?", (document_id,)).fetchone()
    if row is None:
        raise NotFound(f"There is no kept document with id {document_id}.")
    return row[0]


def service_logo(db: Database, service_id: int) -> bytes | None:
    row = db.conn.execute("SELECT logo FROM services WHERE id = ?", (service_id,)).fetchone()
    return bytes(row[0]) if row and row[0] else None


def venue(db: Database, venue_id: int | None) -> Venue | None:
    if venue_id is None:
        return None
    rows = list(db.query("SELECT * FROM venues WHERE id = ?", [venue_id]))
    return from_row(Venue, rows[0]) if rows else None


def service_by_id(db: Database, service_id: int) -> Service:
    rows = list(db.query("SELECT * FROM services WHERE id = ?", [service_id]))
    if not rows:
        raise NotFound(f"There is no service with id {service_id}.")
    return from_row(Service, rows[0])
