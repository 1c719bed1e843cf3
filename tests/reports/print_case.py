"""Small databases built through CaseStore for the plan and letter tests, and PDF read-back helpers.

A plain module (not conftest.py) so the tests can import its names: tests/conftest.py already
takes the module name "conftest"."""
from __future__ import annotations

import io
import atexit
import shutil
from db import connection   # connection.copy_database looked up at each call (the PostgreSQL round routes it)
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from db.store import CaseStore

PASSWORD = "correct horse battery staple"
TODAY = date(2025, 6, 16)          # a Monday; booked sessions lie after it
NAME = ("Nguyễn Thị Siobhán", "O'Neill-Zoë")
SWEMWBS_LINE = ("SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
                "all rights reserved.")


@dataclass
class Case:
    store: CaseStore
    path: object
    client_id: int
    referral_id: int
    trainer_staff_id: int
    directory_ids: list

    def as_user(self, username: str) -> CaseStore:
        self.store.sign_in(username, PASSWORD)
        return self.store

    @property
    def client_ref(self) -> str:
        return self.store.clients.get(self.client_id).client_ref

    @property
    def referral_ref(self) -> str:
        return self.store.referrals.get(self.referral_id).referral_ref


def goal(n: int = 1, **extra) -> dict:
    values = {
        "area": ["DIET", "ACTIVITY", "MONEY", "SOCIAL", "SMOKING", "SLEEP", "WELLBEING", "HOUSING", "WORK",
                 "ALCOHOL"][(n - 1) % 10],
        "goal_text": f"Goal number {n}: I want to walk my granddaughter to school three mornings a week",
        "steps": "What: walk to school and back. When: Monday, Wednesday and Friday mornings. "
                 "Where: the path along the park. How often: three times a week.",
        "barriers": "If it is raining, then I will wear my good coat and go anyway.\n"
                    "If my knee hurts, then I will walk to the corner and back.",
        "who_can_help": "My daughter Mai, and Aisha at the health trainer service",
        "importance": 9, "confidence": 7, "start_date": "2025-03-10", "review_date": "2025-07-07",
        "status": "INPROGRESS",
    }
    values.update(extra)
    return values


_TEMPLATES: dict[str, tuple] = {}
_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="htdesk-print-cases-"))
atexit.register(shutil.rmtree, _TEMPLATE_DIR, True)


def build_case(tmp_path, **options) -> Case:
    """A copy, in tmp_path, of a database built once per set of options (accounts are slow to make:
    their passwords are hashed on purpose), signed in as the coordinator."""
    key = repr(sorted(options.items()))
    if key not in _TEMPLATES:
        folder = _TEMPLATE_DIR / str(len(_TEMPLATES))
        folder.mkdir()
        made = _build(folder, **options)
        made.store.close()
        _TEMPLATES[key] = made
    made = _TEMPLATES[key]
    path = Path(tmp_path) / "case.sqlite3"
    connection.copy_database(made.path, path)
    store = CaseStore.open(path)
    store.sign_in("coord", PASSWORD)
    return Case(store, path, made.client_id, made.referral_id, made.trainer_staff_id, made.directory_ids)


def _build(tmp_path, *, goals=(goal(1), goal(2)), consent_share_gp="Y", demo=False, assessments=True,
               booked=True, held=True, letterhead=True, logo: bytes | None = None, first_name=NAME[0], last_name=NAME[1],
               **client_extra) -> Case:
    path = tmp_path / "case.sqlite3"
    store = CaseStore.create_new(path, service_name="Tyneside Health Trainers", service_code="TYNEHT",
                                 contact={"phone": "0191 496 0123"},
                                 admin_username="admin", admin_password=PASSWORD, demo=demo)
    if letterhead:
        # There is no store call for the service's contact details yet (a settings screen will add it):
        # set them the way that screen will store them.
        with store.db.atomic():
            store.db.conn.execute("UPDATE services SET address = ?, phone = ?, email = ?, logo = ?",
                                  ("Riverside House\n12 Quayside\nNewcastle upon Tyne NE1 3DX", "0191 496 0123",
                                   "healthtrainers@example.org", logo))
    store.sign_in("admin", PASSWORD)
    trainer = store.service.add_staff("Aisha Rahman", "TRAINER", username="trainer1", password=PASSWORD,
                              phone="07700 900123")
    store.service.add_staff("Other Trainer", "TRAINER", username="trainer2", password=PASSWORD)
    store.service.add_staff("Colin Baxter", "COORD", username="coord", password=PASSWORD)
    store.service.add_staff("Chris Volunteer", "CHAMPION", username="champ", password=PASSWORD)
    venue = store.service.add_venue("RCC", "Riverside Community Centre", "COMMUNITY", "NE1 4XX")
    store.sign_in("coord", PASSWORD)
    client_id = store.clients.add({"first_name": first_name, "last_name": last_name,
                                  "date_of_birth": "1968-04-02", "gender": "2", "ethnicity": "K",
                                  "nhs_number": "943 476 5919", "address_line_1": "4 Rose Terrace",
                                  "town": "Newcastle upon Tyne",
                                  "consent_share_gp": consent_share_gp, "consent_date": "2025-03-03",
                                  "gp_practice_code": "A12345", "gp_practice_name": "Elswick Family Practice",
                                  **client_extra}, today=TODAY).ids[0]
    referral_id = store.referrals.add(client_id, {"received_date": "2025-03-01", "source": "GP",
                                                 "reasons": ["DIET", "WEIGHT", "MONEY"]}, today=TODAY).ids[0]
    store.referrals.allocate(referral_id, trainer)
    directory_ids = [
        store.signposting.add_directory_entry("Elswick Pantry", "FOOD", phone="0191 496 0456",
                                  address="St Paul's Church Hall, Westgate Road", notes="Open Tuesdays 10am to 1pm"),
        store.signposting.add_directory_entry("Citizens Advice Newcastle", "DEBT", phone="0808 278 7842",
                                  web="www.citizensadvice.org.uk"),
    ]
    store.sign_in("trainer1", PASSWORD)
    held = [("2025-03-10", "INITIAL"), ("2025-04-07", "SUPPORT"), ("2025-05-06", "REVIEW")] if held else []
    for day, kind in held:
        store.diary.add(referral_id, {"session_date": day, "start_time": "10:30", "duration_minutes": 45,
                                        "mode": "F2F", "type": kind, "attendance": "5", "staff_id": trainer,
                                        "venue_id": venue}, today=TODAY)
    if booked:
        store.diary.add(referral_id, {"session_date": "2025-06-23", "start_time": "14:00", "duration_minutes": 45,
                                        "mode": "F2F", "type": "SUPPORT", "attendance": "0", "staff_id": trainer,
                                        "venue_id": venue}, today=TODAY)
        store.diary.add(referral_id, {"session_date": "2025-07-07", "start_time": "12:00", "mode": "PHONE",
                                        "type": "REVIEW", "attendance": "0", "staff_id": trainer}, today=TODAY)
    if goals is not None:
        store.plans.add(referral_id, {"agreed_date": "2025-03-10",
                                     "what_matters": "Being well enough to keep up with my grandchildren, "
                                                     "and not worrying about money every week."},
                       goals=list(goals), directory_ids=directory_ids, today=TODAY)
    if assessments:
        for day, tp, weight, answers in (("2025-03-10", "BASELINE", 92.4, [2, 2, 3, 2, 3, 3, 3]),
                                         ("2025-04-07", "REVIEW", 90.8, [3, 3, 3, 3, 3, 3, 3]),
                                         ("2025-05-06", "REVIEW", 88.1, [3, 4, 3, 4, 3, 4, 4])):
            body = {"weight_kg": weight, "waist_cm": 101}
            if tp == "BASELINE":
                body["height_cm"] = 162
            store.assessments.add(referral_id, day, tp, "BODY", body, today=TODAY)
            store.assessments.add(referral_id, day, tp, "SWEMWBS",
                                 {f"swemwbs_{i}": a for i, a in enumerate(answers, 1)}, today=TODAY)
        store.assessments.add(referral_id, "2025-03-10", "BASELINE", "FRUITVEG", {"fruitveg_portions": 2},
                             today=TODAY)
        store.assessments.add(referral_id, "2025-05-06", "REVIEW", "FRUITVEG", {"fruitveg_portions": 5},
                             today=TODAY)
        store.assessments.add(referral_id, "2025-03-10", "BASELINE", "CONFIDENCE", {"confidence": 4}, today=TODAY)
    store.sign_in("coord", PASSWORD)
    return Case(store, path, client_id, referral_id, trainer, directory_ids)


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader
    return len(PdfReader(io.BytesIO(pdf)).pages)


def font_sizes(pdf: bytes) -> list[tuple[float, str]]:
    """(effective size in points, text) of every piece of text drawn in the PDF."""
    from pypdf import PdfReader
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        def visit(text, cm, tm, font_dict, font_size):
            if text.strip():
                scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
                found.append((round(font_size * scale, 2), text))
        page.extract_text(visitor_text=visit)
    return found
