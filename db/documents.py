"""Documents kept with the record exactly as printed, and what printing them needs.

The records here are what `reports/` lays out: plain values gathered by the
store (db/parts/documents.py), so a PDF builder never queries.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from sqlite_utils import Database

from .audit import now_iso
from .errors import NotFound
from .instruments import Pair
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
        "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (client_id, referral_id, kind, file_name, content, template_version, sha256(content), now_iso(), by))
    return cur.lastrowid


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
