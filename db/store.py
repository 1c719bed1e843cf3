"""CaseStore: the one door into the database for the GUI, the reports and the command line.

It knows who is acting, checks the roles table of PRODUCT.md before every act,
runs each write (with its audit event) in one transaction, and hands back frozen
records. The SQL and the rules live in the subject modules it delegates to.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlite_utils import Database

from . import (accounts, policy, assessments, audit, clients, connection, plans, referrals, services, sessions,
               signposting)
from .deprivation import DeprivationLookup
from .errors import FieldError, PermissionDenied, ValidationError
from .permissions import allowed, require
from .validation import normalise_nhs_number, normalise_postcode, parse_date
from .records import (Actor, Assessment, Changes, Client, ClientRecord, ClientSummary, DirectoryEntry, Plan,
                      Referral, Service, Session, Signpost, Staff, TimelineEvent, Venue, WaitingItem)
from .store_documents import DocumentsDoor
from .store_returns import ReturnsDoor
from .store_transfer import TransferDoor

DEFAULT_SAFEGUARDING_STEPS = (
    "Stay with the client and ask directly about their safety today. If they are in immediate danger, "
    "call 999. Otherwise contact the duty safeguarding lead the same day, help the client contact their GP "
    "or NHS 111 (option 2 for mental health), and give them the Samaritans number, 116 123. "
    "Record what you did in the session notes.")

# The actor for set-up work done before anyone can sign in (init, demo, migrations).
SYSTEM = Actor(username="system", roles=frozenset({"ADMIN", "MANAGER", "COORD"}))


class CaseStore(ReturnsDoor, DocumentsDoor, TransferDoor):
    def __init__(self, db: Database, path: Path | None = None, actor: Actor | None = None,
                 reference_source: str | Path | None = None):
        self.db = db
        self.path = Path(path) if path else None
        self.actor = actor
        self._reference_source = reference_source
        self._lookup: DeprivationLookup | None = None

    # --- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, **kw) -> "CaseStore":
        path = Path(path)
        return cls(connection.open_database(path, create=create), path, **kw)

    @classmethod
    def create_new(cls, path: Path | str, *, service_name: str, service_code: str, admin_username: str,
                   admin_password: str, admin_full_name: str | None = None, demo: bool = False,
                   **kw) -> "CaseStore":
        """A new database for one service with its first account (administrator and manager)."""
        path = Path(path)
        services.validate_service(service_name, service_code)
        accounts.check_new_password(admin_password)
        if path.exists() and path.stat().st_size > 0:
            raise ValidationError(FieldError("db", f"{path} already exists: choose a new file name, or open it instead."))
        store = cls.open(path, create=True, **kw)
        try:
            with store.db.atomic():
                service_id = services.create_service(store.db, service_name, service_code, SYSTEM.username)
                staff_id = services.add_staff(store.db, service_id, admin_full_name or admin_username, "MANAGER",
                                              SYSTEM.username)
                accounts.create(store.db, admin_username, admin_password, ["ADMIN", "MANAGER"], staff_id,
                                SYSTEM.username)
                services.set_meta(store.db, "demo", "1" if demo else "0")
                audit.record(store.db, SYSTEM, "create", "service", service_id,
                             after={"name": service_name, "code": service_code, "admin": admin_username})
        except Exception:
            store.close()
            path.unlink(missing_ok=True)
            raise
        return store

    def close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def is_demo(self) -> bool:
        return services.get_meta(self.db, "demo") == "1"

    # --- who is acting -----------------------------------------------------------

    def has_accounts(self) -> bool:
        return accounts.count(self.db) > 0

    def sign_in(self, username: str, password: str) -> Actor:
        self.actor = accounts.authenticate(self.db, username, password)
        return self.actor

    def act_as_system(self) -> None:
        """For set-up commands that run before any account exists (demo, init)."""
        self.actor = SYSTEM

    def can(self, action: str) -> bool:
        return allowed(self.actor, action)

    def may(self, decision: str, client_id: int | None = None) -> bool:
        """Whether the signed-in user may take this decision of db.policy (for this client)."""
        return policy.allows(self.db, self.actor, decision, client_id)

    def refusal(self, decision: str, client_id: int | None = None) -> str | None:
        """Why not, in plain words (for a read-only form's explanation), or None."""
        return policy.refusal(self.db, self.actor, decision, client_id)

    def _by(self) -> str:
        if self.actor is None:
            raise PermissionDenied("Sign in first: nobody is signed in.")
        return self.actor.username

    # --- service set-up --------------------------------------------------------------

    def services(self) -> list[Service]:
        return services.list_services(self.db)

    def service(self, code: str | None = None) -> Service:
        return services.service_by_code(self.db, code)

    def update_service(self, values: dict, *, expected_version: int, service_code: str | None = None) -> Changes:
        """Name, address, phone, email and commissioner, as printed on plans, letters and returns."""
        require(self.actor, "admin")
        service = self.service(service_code)
        with self.db.atomic():
            before, after = services.update_service(self.db, service.id, values, expected_version, self._by())
            audit.record(self.db, self.actor, "update", "service", service.id, before=before, after=after)
        return Changes("service", (service.id,), "update")

    def set_service_logo(self, logo: bytes | None, service_code: str | None = None) -> Changes:
        require(self.actor, "admin")
        service = self.service(service_code)
        with self.db.atomic():
            services.set_service_logo(self.db, service.id, logo, self._by())
            audit.record(self.db, self.actor, "update", "service", service.id,
                         after={"logo": f"{len(logo)} bytes" if logo else None})
        return Changes("service", (service.id,), "update")

    def staff(self, roles: tuple[str, ...] | None = None, service_code: str | None = None) -> list[Staff]:
        service_id = self.service(service_code).id if service_code or len(self.services()) == 1 else None
        return services.list_staff(self.db, service_id, roles)

    def trainers(self) -> list[Staff]:
        return self.staff(("TRAINER", "CHAMPION"))

    def venues(self) -> list[Venue]:
        return services.list_venues(self.db)

    def directory(self) -> list[DirectoryEntry]:
        return services.list_directory(self.db)

    def add_staff(self, full_name: str, role: str, *, username: str | None = None, password: str | None = None,
                  extra_roles: tuple[str, ...] = (), service_code: str | None = None, **details) -> int:
        require(self.actor, "admin")
        service = self.service(service_code)
        with self.db.atomic():
            staff_id = services.add_staff(self.db, service.id, full_name, role, self._by(), **details)
            audit.record(self.db, self.actor, "create", "staff", staff_id, after={"full_name": full_name, "role": role})
            if username:
                account_id = accounts.create(self.db, username, password, [role, *extra_roles], staff_id, self._by())
                audit.record(self.db, self.actor, "create", "account", account_id, after={"username": username})
        return staff_id

    def add_account(self, username: str, password: str, roles: list[str], staff_id: int | None = None) -> int:
        require(self.actor, "admin")
        with self.db.atomic():
            account_id = accounts.create(self.db, username, password, roles, staff_id, self._by())
            audit.record(self.db, self.actor, "create", "account", account_id,
                         after={"username": username, "roles": roles})
        return account_id

    def accounts(self):
        require(self.actor, "admin")
        return accounts.list_accounts(self.db)

    def set_password(self, username: str, password: str) -> None:
        # Administrators set anyone's; everyone may change their own.
        if self.actor is None or (self.actor.username.casefold() != username.casefold()):
            require(self.actor, "admin")
        with self.db.atomic():
            accounts.set_password(self.db, username, password)
            audit.record(self.db, self.actor, "update", "account", username, detail="password changed")

    def set_locked(self, username: str, locked: bool) -> None:
        require(self.actor, "admin")
        with self.db.atomic():
            account_id = accounts.set_locked(self.db, username, locked)
            audit.record(self.db, self.actor, "lock" if locked else "unlock", "account", account_id, detail=username)

    def add_venue(self, code: str, name: str, type_: str, postcode: str | None = None,
                  service_code: str | None = None) -> int:
        require(self.actor, "admin")
        with self.db.atomic():
            venue_id = services.add_venue(self.db, self.service(service_code).id, code, name, type_, postcode, self._by())
            audit.record(self.db, self.actor, "create", "venue", venue_id, after={"code": code, "name": name})
        return venue_id

    def add_directory_entry(self, name: str, category: str, service_code: str | None = None, **details) -> int:
        if not (self.can("admin") or self.can("allocate")):
            require(self.actor, "admin")
        with self.db.atomic():
            entry_id = services.add_directory_entry(self.db, self.service(service_code).id, name, category, self._by(), **details)
            audit.record(self.db, self.actor, "create", "directory", entry_id, after={"name": name})
        return entry_id

    def setting(self, key: str, default=None, scope: str = "global"):
        return services.get_setting(self.db, key, default, scope)

    def set_setting(self, key: str, value, scope: str = "global") -> None:
        require(self.actor, "admin")
        with self.db.atomic():
            before = services.get_setting(self.db, key, None, scope)
            services.set_setting(self.db, key, value, scope)
            audit.record(self.db, self.actor, "update", "setting", f"{scope}:{key}", before={"value": before},
                         after={"value": value})

    # --- deprivation ---------------------------------------------------------------------

    def reference_ready(self) -> bool:
        return self._lookup is not None or DeprivationLookup.is_built(self._reference_source)

    def prepare_reference(self, on_progress=None, cancelled=None) -> None:
        """Build the postcode reference on first use (about 10 s, once per PC), with progress."""
        if self._lookup is None:
            self._lookup = DeprivationLookup.open(self._reference_source, on_progress, cancelled)

    def deprivation_for(self, postcode: str | None) -> dict:
        """The stored deprivation fields for a postcode (fixed at save time, so past returns do not move)."""
        if not postcode:
            return {"lsoa_code": None, "imd_decile": None, "imd_quintile": None, "imd_edition": None,
                    "postcode_status": None}
        self.prepare_reference()
        found = self._lookup.lookup(postcode)
        return {"lsoa_code": found.lsoa_code, "imd_decile": found.imd_decile, "imd_quintile": found.imd_quintile,
                "imd_edition": found.imd_edition, "postcode_status": found.match_status}

    def lsoa_info(self, code: str):
        self.prepare_reference()
        return self._lookup.lsoa_info(code)

    # --- clients -----------------------------------------------------------------------

    def _staff_filter(self) -> int | None:
        """Champions see only the clients allocated to them."""
        if self.can("view_any_client"):
            return None
        require(self.actor, "edit_own_client")
        return self.actor.staff_id if self.actor.staff_id is not None else -1

    def _require_view(self, client_id: int) -> None:
        if self.can("view_any_client"):
            return
        require(self.actor, "edit_own_client")
        if not clients.allocated_to(self.db, client_id, self.actor.staff_id):
            raise PermissionDenied(f"{self.actor.username} may only see clients allocated to them.")

    def _require_edit(self, client_id: int) -> None:
        if self.can("edit_any_client"):
            return
        require(self.actor, "edit_own_client")
        if not clients.allocated_to(self.db, client_id, self.actor.staff_id):
            raise PermissionDenied(
                f"{self.actor.username} may only change clients allocated to them. Ask a coordinator to allocate the referral.")

    def search_clients(self, typed: str, *, limit: int = 200, include_archived: bool = False) -> list[ClientSummary]:
        return clients.search(self.db, typed, limit=limit, include_archived=include_archived,
                              only_staff_id=self._staff_filter())

    def get_client(self, client_id: int) -> Client:
        self._require_view(client_id)
        return clients.get(self.db, client_id)

    def client_id_for_ref(self, client_ref: str) -> int:
        return clients.id_for_ref(self.db, client_ref)

    def client_record(self, client_id: int) -> ClientRecord:
        """Everything about one client, for the record screen. Audited as a view."""
        self._require_view(client_id)
        client = clients.get(self.db, client_id)
        refs = referrals.for_client(self.db, client_id)
        sess = sessions.for_client(self.db, client_id)
        pls = plans.for_client(self.db, client_id)
        assess = assessments.for_client(self.db, client_id)
        signs = signposting.for_client(self.db, client_id)
        with self.db.atomic():
            audit.record(self.db, self.actor, "view", "client", client_id, detail=client.client_ref)
        return ClientRecord(client=client, referrals=tuple(refs), sessions=tuple(sess), plans=tuple(pls),
                            assessments=tuple(assess), signposting=tuple(signs),
                            timeline=tuple(_timeline(client, refs, sess, pls, assess, signs)))

    def check_duplicates(self, values: dict, exclude_id: int | None = None) -> list[tuple[ClientSummary, str]]:
        """People already known who may be this one (run before saving a new client)."""
        clean = dict(values)
        try:
            clean["nhs_number"] = normalise_nhs_number(values.get("nhs_number")) or None
        except ValidationError:
            clean["nhs_number"] = None
        try:
            clean["postcode"] = normalise_postcode(values.get("postcode")) or None
        except ValidationError:
            clean["postcode"] = None
        try:
            dob = parse_date(values.get("date_of_birth"), "date_of_birth")
            clean["date_of_birth"] = dob.isoformat() if dob else None
        except ValidationError:
            clean["date_of_birth"] = None
        return clients.possible_duplicates(self.db, clean, exclude_id)

    def add_client(self, values: dict, *, service_code: str | None = None, today: date | None = None) -> Changes:
        require(self.actor, "create_client")
        clean = clients.validate(values, today)
        service = self.service(service_code)
        deprivation = self.deprivation_for(clean.get("postcode"))
        with self.db.atomic():
            client_id = clients.insert(self.db, service.id, clean, deprivation, self._by())
            audit.record(self.db, self.actor, "create", "client", client_id, after={**clean, **deprivation})
        return Changes("client", (client_id,), "create")

    def update_client(self, client_id: int, values: dict, *, expected_version: int,
                      today: date | None = None) -> Changes:
        """Change a client's details; fails with ConflictError if someone saved first."""
        self._require_edit(client_id)
        current = clients.get(self.db, client_id)
        merged = {f: getattr(current, f) for f in clients.CLIENT_FIELDS}
        merged.update(values)
        clean = clients.validate(merged, today)
        deprivation = None
        if clean.get("postcode") != current.postcode or (clean.get("postcode") and current.postcode_status is None):
            deprivation = self.deprivation_for(clean.get("postcode"))
        with self.db.atomic():
            before, after = clients.update(self.db, client_id, clean, deprivation, expected_version, self._by())
            before, after = audit.diff(before, after)
            audit.record(self.db, self.actor, "update", "client", client_id, before=before, after=after)
        return Changes("client", (client_id,), "update")

    def archive_client(self, client_id: int, *, expected_version: int, archived: bool = True) -> Changes:
        """People are archived, never deleted: hidden from lists, kept in every figure."""
        self._require_edit(client_id)
        with self.db.atomic():
            clients.set_archived(self.db, client_id, archived, expected_version, self._by())
            audit.record(self.db, self.actor, "archive" if archived else "update", "client", client_id,
                         after={"archived": archived})
        return Changes("client", (client_id,), "archive")

    # --- referrals and waiting list --------------------------------------------------------------

    def get_referral(self, referral_id: int) -> Referral:
        referral = referrals.get(self.db, referral_id)
        self._require_view(referral.client_id)
        return referral

    def referral_id_for_ref(self, referral_ref: str) -> int:
        return referrals.id_for_ref(self.db, referral_ref)

    def add_referral(self, client_id: int, values: dict, *, age_override: bool = False,
                     today: date | None = None) -> Changes:
        require(self.actor, "create_client")
        client = clients.get(self.db, client_id)
        if age_override and not self.can("returns"):
            raise PermissionDenied("Only a manager can override the age limit for a referral.")
        clean = referrals.validate(values, client.date_of_birth, today, age_override)
        if clean.get("allocated_staff_id") is not None:
            require(self.actor, "allocate")
        with self.db.atomic():
            referral_id = referrals.insert(self.db, client.service_id, client_id, clean, self._by(),
                                           age_override_by=self._by() if age_override else None)
            audit.record(self.db, self.actor, "create", "referral", referral_id, after=clean)
        return Changes("referral", (referral_id,), "create")

    def add_contact_attempt(self, referral_id: int, attempt_date, method: str, outcome: str,
                            note: str | None = None, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        if not self.can("allocate"):
            self._require_edit(referral.client_id)
        with self.db.atomic():
            attempt_id = referrals.add_contact_attempt(self.db, referral_id, attempt_date, method, outcome, note,
                                                       self._by(), today)
            audit.record(self.db, self.actor, "create", "contact_attempt", attempt_id,
                         after={"referral": referral.referral_ref, "date": str(attempt_date), "method": method,
                                "outcome": outcome})
        return Changes("referral", (referral_id,), "update")

    def allocate(self, referral_id: int, staff_id: int | None, *, expected_version: int | None = None) -> Changes:
        require(self.actor, "allocate")
        with self.db.atomic():
            before = referrals.allocate(self.db, referral_id, staff_id, expected_version, self._by())
            audit.record(self.db, self.actor, "update", "referral", referral_id,
                         before={"allocated_staff_id": before.allocated_staff_id}, after={"allocated_staff_id": staff_id})
        return Changes("referral", (referral_id,), "update")

    def close_referral(self, referral_id: int, closed_date, reason: str, *, expected_version: int | None = None,
                       today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        if not self.can("allocate"):
            self._require_edit(referral.client_id)
        with self.db.atomic():
            referrals.close(self.db, referral_id, closed_date, reason, expected_version, self._by(), today)
            audit.record(self.db, self.actor, "update", "referral", referral_id,
                         after={"closed_date": str(closed_date), "closure_reason": reason})
        return Changes("referral", (referral_id,), "update")

    def close_referrals(self, ids: list[int], closed_date, reason: str, today: date | None = None) -> Changes:
        """Close several referrals in one transaction: all or none."""
        require(self.actor, "allocate")
        with self.db.atomic():
            for referral_id in ids:
                referrals.close(self.db, referral_id, closed_date, reason, None, self._by(), today)
                audit.record(self.db, self.actor, "update", "referral", referral_id,
                             after={"closed_date": str(closed_date), "closure_reason": reason})
        return Changes("referral", tuple(ids), "update")

    def waiting_list(self, *, status: str | None = None, staff_id: int | None = None, source: str | None = None,
                     today: date | None = None) -> list[WaitingItem]:
        require(self.actor, "allocate")
        return referrals.waiting_list(self.db, status=status, staff_id=staff_id, source=source, today=today)

    # --- sessions -----------------------------------------------------------------------------

    def add_session(self, referral_id: int, values: dict, *, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        self._require_edit(referral.client_id)
        clean = sessions.validate(values, referral.received_date, today)
        with self.db.atomic():
            session_id = sessions.insert(self.db, referral_id, clean, self._by(), today)
            audit.record(self.db, self.actor, "create", "session", session_id, after=clean)
        return Changes("session", (session_id,), "create")

    def record_attendance(self, session_id: int, attendance: str, *, expected_version: int,
                          today: date | None = None) -> Changes:
        session = sessions.get(self.db, session_id)
        self._require_edit(session.client_id)
        with self.db.atomic():
            before = sessions.record_attendance(self.db, session_id, attendance, expected_version, self._by(), today)
            audit.record(self.db, self.actor, "update", "session", session_id,
                         before={"attendance": before.attendance}, after={"attendance": attendance})
        return Changes("session", (session_id,), "update")

    def next_booked_sessions(self, client_id: int, today: date | None = None) -> list[Session]:
        self._require_view(client_id)
        return sessions.next_booked(self.db, client_id, today)

    # --- plans and goals ------------------------------------------------------------------------

    def add_plan(self, referral_id: int, values: dict, goals: list[dict] = (), directory_ids: list[int] = (),
                 today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        self._require_edit(referral.client_id)
        clean = plans.validate_plan(values, referral.received_date, today)
        clean_goals = [plans.validate_goal(g, today) for g in goals]
        with self.db.atomic():
            plan_id = plans.insert_plan(self.db, referral_id, clean, self._by())
            for g in clean_goals:
                plans.insert_goal(self.db, plan_id, g, self._by())
            plans.choose_contacts(self.db, plan_id, list(directory_ids))
            audit.record(self.db, self.actor, "create", "plan", plan_id, after={**clean, "goals": len(clean_goals)})
        return Changes("plan", (plan_id,), "create")

    def add_goal(self, plan_id: int, values: dict, today: date | None = None) -> Changes:
        plan = plans.get_plan(self.db, plan_id)
        self._require_edit(referrals.get(self.db, plan.referral_id).client_id)
        clean = plans.validate_goal(values, today)
        with self.db.atomic():
            goal_id = plans.insert_goal(self.db, plan_id, clean, self._by())
            audit.record(self.db, self.actor, "create", "goal", goal_id, after=clean)
        return Changes("goal", (goal_id,), "create")

    def update_goal(self, goal_id: int, values: dict, *, expected_version: int, today: date | None = None) -> Changes:
        goal = plans.get_goal(self.db, goal_id)
        plan = plans.get_plan(self.db, goal.plan_id)
        self._require_edit(referrals.get(self.db, plan.referral_id).client_id)
        merged = {c: getattr(goal, c) for c in plans._GOAL_COLUMNS}
        merged.update(values)
        clean = plans.validate_goal(merged, today)
        with self.db.atomic():
            before, after = plans.update_goal(self.db, goal_id, clean, expected_version, self._by())
            before, after = audit.diff(before, after)
            audit.record(self.db, self.actor, "update", "goal", goal_id, before=before, after=after)
        return Changes("goal", (goal_id,), "update")

    def get_plan(self, plan_id: int) -> Plan:
        plan = plans.get_plan(self.db, plan_id)
        self._require_view(referrals.get(self.db, plan.referral_id).client_id)
        return plan

    def current_plan(self, client_id: int) -> Plan | None:
        self._require_view(client_id)
        found = plans.for_client(self.db, client_id)
        return found[0] if found else None

    # --- signposting --------------------------------------------------------------------------------

    def add_signposting(self, referral_id: int, values: dict, today: date | None = None) -> Changes:
        referral = referrals.get(self.db, referral_id)
        self._require_edit(referral.client_id)
        clean = signposting.validate(values, referral.received_date, today)
        with self.db.atomic():
            sign_id = signposting.insert(self.db, referral.client_id, referral_id, clean, self._by())
            audit.record(self.db, self.actor, "create", "signposting", sign_id, after=clean)
        return Changes("signposting", (sign_id,), "create")

    # --- assessments ----------------------------------------------------------------------------------

    def enabled_instruments(self, service_code: str | None = None) -> list[str]:
        return assessments.enabled_instruments(self.db, self.service(service_code).code)

    def set_enabled_instruments(self, codes_on: list[str], service_code: str | None = None) -> None:
        require(self.actor, "admin")
        service = self.service(service_code)
        with self.db.atomic():
            before = assessments.enabled_instruments(self.db, service.code)
            assessments.set_enabled_instruments(self.db, service.code, codes_on)
            audit.record(self.db, self.actor, "update", "setting", f"{service.code}:instruments",
                         before={"enabled": before}, after={"enabled": list(codes_on)})

    def add_assessment(self, referral_id: int, assessed_date, timepoint: str, instrument: str, answers: dict,
                       today: date | None = None) -> tuple[Changes, Assessment]:
        """Score and record one assessment; the app computes every score."""
        referral = referrals.get(self.db, referral_id)
        self._require_edit(referral.client_id)
        with self.db.atomic():
            assessment_id = assessments.record(self.db, referral, assessed_date, timepoint, instrument, answers,
                                               self._by(), today)
            saved = assessments.get(self.db, assessment_id)
            audit.record(self.db, self.actor, "create", "assessment", assessment_id,
                         after={"instrument": instrument, "timepoint": timepoint, "scores": saved.scores,
                                "flags": list(saved.flags)})
        return Changes("assessment", (assessment_id,), "create"), saved

    def safeguarding_steps(self, service_code: str | None = None) -> str:
        """What staff must do when a safeguarding prompt is raised (PHQ-9 item 9); set per service."""
        return services.get_setting(self.db, "safeguarding.steps", DEFAULT_SAFEGUARDING_STEPS,
                                    scope=self.service(service_code).code)

    def assessment_series(self, client_id: int, instrument: str) -> list[Assessment]:
        """A client's results of one instrument over time, oldest first (for charts)."""
        self._require_view(client_id)
        return assessments.series(self.db, client_id, instrument)

    def outcome_pairs(self, referral_id: int):
        """The BASELINE/EXIT pairs of one referral (INSTRUMENTS.md "Pairing")."""
        self._require_view(referrals.get(self.db, referral_id).client_id)
        return assessments.pairs_for_referral(self.db, referral_id)

    # --- audit and checks ------------------------------------------------------------------------------

    def audit_events(self, entity: str | None = None, entity_id=None, limit: int = 500) -> list[dict]:
        require(self.actor, "audit_view")
        return audit.events(self.db, entity, entity_id, limit)

    def counts(self) -> dict[str, int]:
        tables = ("services", "staff", "accounts", "venues", "clients", "referrals", "sessions", "plans", "goals",
                  "assessments", "signposting", "directory", "documents", "audit")
        return {t: self.db.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    # --- added by helper: drafts ---
    # What the signed-in person was typing into a form, offered back after a crash (db/drafts.py).
    # Each person sees and discards only their own; nobody else's typing is ever shown.

    def save_draft(self, form_key: str, values: dict) -> None:
        from . import drafts
        with self.db.atomic():
            drafts.save(self.db, self._by(), form_key, values)

    def drafts(self) -> list:
        """The signed-in person's own drafts (db.drafts.Draft), newest first."""
        from . import drafts
        return drafts.for_user(self.db, self._by())

    def discard_draft(self, form_key: str) -> None:
        from . import drafts
        with self.db.atomic():
            drafts.discard(self.db, self._by(), form_key)
    # --- end of drafts ---


def _timeline(client: Client, refs: list[Referral], sess: list[Session], pls: list[Plan],
              assess: list[Assessment], signs: list[Signpost]) -> list[TimelineEvent]:
    from . import codes
    by_id = {r.id: r.referral_ref for r in refs}
    events = [TimelineEvent((client.created_at or "")[:10], "record", f"Record created ({client.client_ref})")]
    for r in refs:
        events.append(TimelineEvent(r.received_date, "referral",
                                    f"Referral received from {codes.label('source', r.source)}", r.referral_ref))
        for a in r.contact_attempts:
            events.append(TimelineEvent(a.attempt_date, "contact",
                                        f"Contact attempt by {codes.label('contact_method', a.method).lower()}: "
                                        f"{codes.label('contact_outcome', a.outcome).lower()}", r.referral_ref))
        if r.closed_date:
            events.append(TimelineEvent(r.closed_date, "referral",
                                        f"Referral closed: {codes.label('closure_reason', r.closure_reason)}",
                                        r.referral_ref))
    for s in sess:
        what = codes.label("session_type", s.type) if s.type else "Session"
        events.append(TimelineEvent(f"{s.session_date} {s.start_time or ''}".strip(), "session",
                                    f"{what} ({codes.label('mode', s.mode).lower()}): "
                                    f"{codes.label('attendance', s.attendance).lower()}", by_id.get(s.referral_id)))
    for p in pls:
        events.append(TimelineEvent(p.agreed_date, "plan", f"Plan agreed with {len(p.goals)} goal(s)",
                                    by_id.get(p.referral_id)))
        for g in p.goals:
            if g.status_date:
                events.append(TimelineEvent(g.status_date, "goal",
                                            f"Goal ({codes.label('area', g.area)}): {codes.label('goal_status', g.status).lower()}",
                                            by_id.get(p.referral_id)))
    for a in assess:
        summary = f"{a.instrument} ({codes.label('timepoint', a.timepoint).lower()})"
        if "safeguarding" in a.flags:
            summary += ": SAFEGUARDING PROMPT RAISED"
        elif not a.is_result:
            summary += ": score not computable"
        events.append(TimelineEvent(a.assessed_date, "assessment", summary, by_id.get(a.referral_id)))
    for s in signs:
        events.append(TimelineEvent(s.signpost_date, "signposting",
                                    f"{codes.label('signposting_type', s.type)}: {codes.label('signposting_category', s.category)}",
                                    by_id.get(s.referral_id)))
    events.sort(key=lambda e: e.when, reverse=True)
    return events
