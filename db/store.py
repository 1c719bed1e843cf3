"""CaseStore: the one door into the database for the GUI, the reports and the command line.

It knows who is acting and carries the subject parts, the way Anki's Collection
carries col.decks and col.models:

    store.clients      search, read and change client records
    store.referrals    referrals, contact attempts, allocation, the waiting list
    store.diary        sessions and attendance
    store.plans        personal health plans and goals
    store.assessments  instruments scored and recorded, series, outcome pairs
    store.signposting  signposting and the local directory
    store.documents    plans and letters kept exactly as printed
    store.returns      the quarterly return
    store.transfer     the import workbook and the full export
    store.service      the service's details, staff, venues, settings
    store.admin        accounts, audit trail, checks, backups, restores
    store.reference    the postcode and deprivation reference
    store.drafts       typing kept for recovery after a crash

Every public method of a part declares its policy decision (db/api.py), which also
runs its transaction, writes its audit events and, after the commit, tells every
listener what changed (`on_change`): the main window broadcasts that once and each
open screen refreshes itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import accounts, audit, connection, pg, policy, services
from .errors import FieldError, ValidationError
from .parts.admin import AdminPart
from .parts.assessments import AssessmentsPart
from .parts.clients import ClientsPart
from .parts.diary import DiaryPart
from .parts.documents import DocumentsPart
from .parts.drafts import DraftsPart
from .parts.plans import PlansPart
from .parts.privacy import PrivacyPart
from .parts.reach import ReachPart
from .parts.reference import ReferencePart
from .parts.referrals import ReferralsPart
from .parts.returns import ReturnsPart
from .parts.service import ServicePart
from .parts.signposting import SignpostingPart
from .parts.transfer import TransferPart
from .records import Actor, Changes

# The actor for set-up work done before anyone can sign in (init, demo, migrations).
SYSTEM = Actor(username="system", roles=frozenset({"ADMIN", "MANAGER", "COORD"}))

PART_NAMES = ("clients", "referrals", "diary", "plans", "assessments", "signposting", "documents", "returns",
              "reach", "transfer", "service", "admin", "reference", "drafts", "privacy")


class CaseStore:
    url: str | None = None      # a server database's address (then path is None)

    def __init__(self, db, path: Path | None = None, actor: Actor | None = None,
                 reference_source: str | Path | None = None):
        self.db = db
        self.path = Path(path) if path else None
        self.actor = actor
        self._listeners: list[Callable[[Changes], None]] = []
        self._views: dict[tuple[str, int], float] = {}    # (account, client) -> last read (db/api.py)
        self.clients = ClientsPart(self)
        self.referrals = ReferralsPart(self)
        self.diary = DiaryPart(self)
        self.plans = PlansPart(self)
        self.assessments = AssessmentsPart(self)
        self.signposting = SignpostingPart(self)
        self.documents = DocumentsPart(self)
        self.returns = ReturnsPart(self)
        self.reach = ReachPart(self)
        self.transfer = TransferPart(self)
        self.service = ServicePart(self)
        self.admin = AdminPart(self)
        self.reference = ReferencePart(self, reference_source)
        self.drafts = DraftsPart(self)
        self.privacy = PrivacyPart(self)

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, **kw) -> "CaseStore":
        if pg.is_server_url(path):     # a service's database on a PostgreSQL server (db/pg)
            with connection.plain_errors(None):
                store = cls(connection.open_database(path, create=create), None, **kw)
            store.url = path
            return store
        path = Path(path)
        with connection.plain_errors(path):
            return cls(connection.open_database(path, create=create), path, **kw)

    @classmethod
    def create_new(cls, path: Path | str, *, service_name: str, service_code: str, admin_username: str,
                   admin_password: str, admin_full_name: str | None = None, demo: bool = False,
                   contact: dict | None = None, **kw) -> "CaseStore":
        """A new database for one service with its first account (administrator and manager).
        Made under a temporary name beside the target and renamed into place when complete, so a
        failure (a full disk) or a kill leaves no half-made database behind."""
        if pg.is_server_url(path):
            from .pg.setup import create_service_on_server
            return create_service_on_server(cls, path, service_name=service_name, service_code=service_code,
                                            admin_username=admin_username, admin_password=admin_password,
                                            admin_full_name=admin_full_name, demo=demo, contact=contact, **kw)
        path = Path(path)
        services.validate_service(service_name, service_code)
        if not demo:   # a demo database's accounts keep the documented password 'demo'
            accounts.check_new_password(admin_password, username=admin_username,
                                        service_names=(service_name, service_code))
        connection.check_new_target(path)
        if path.exists() and path.stat().st_size > 0:
            raise ValidationError(FieldError("db", f"{path} already exists: choose a new file name, or open it instead."))
        tmp = connection.temp_beside(path)
        with connection.plain_errors(path):
            try:
                store = cls.open(tmp, create=True, **kw)
                try:
                    with connection.transaction(store.db):
                        service_id = services.create_service(store.db, service_name, service_code, SYSTEM.username,
                                                             **services.check_contact(contact or {}))
                        staff_id = services.add_staff(store.db, service_id, admin_full_name or admin_username,
                                                      "MANAGER", SYSTEM.username)
                        accounts.create(store.db, admin_username, admin_password, ["ADMIN", "MANAGER"], staff_id,
                                        SYSTEM.username,
                                        password_hash=accounts.hash_password(admin_password) if demo else None)
                        services.set_meta(store.db, "demo", "1" if demo else "0")
                        audit.record(store.db, SYSTEM, "create", "service", service_id,
                                     after={"name": service_name, "code": service_code, "admin": admin_username})
                finally:
                    store.close()
                connection.place_new_database(tmp, path)
            except BaseException:
                connection.remove_database_files(tmp)
                raise
            return cls.open(path, **kw)

    @staticmethod
    def create_demo(path: Path | str, *, clients: int = 300, seed: int = 1, today=None, on_progress=None) -> dict:
        """A new demo database full of synthetic people (marked DEMO); returns what it made, by kind."""
        from . import demo
        with connection.plain_errors(path):
            return demo.create_demo(path, clients=clients, seed=seed, today=today, on_progress=on_progress)

    @staticmethod
    def restore_new(path: Path | str, source: Path | str) -> None:
        """Restore a checked backup where no database is yet (a new PC): nothing to sign in to."""
        from . import maintenance
        path = Path(path)
        connection.check_new_target(path)
        if path.exists() and path.stat().st_size > 0:
            raise ValidationError(FieldError("db", f"{path} already exists: open it and restore as an "
                                                   "administrator, so the restore is checked and recorded."))
        with connection.plain_errors(path):
            maintenance.restore(path, Path(source), None)

    def _restore_from(self, source: Path, confirm_code: str | None = None):
        from . import maintenance
        if self.path is None:
            from .errors import BadPath
            raise BadPath("This database has no file to restore into.")
        self.db.conn.close()
        try:
            return maintenance.restore(self.path, source, self.actor, confirm_code)
        finally:
            self.db = connection.open_database(self.path)

    def close(self) -> None:
        self.reference._close()
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def is_demo(self) -> bool:
        with connection.plain_errors(self.path):
            return services.get_meta(self.db, "demo") == "1"

    # --- who is acting ---------------------------------------------------------------------

    def has_accounts(self) -> bool:
        with connection.plain_errors(self.path):
            return accounts.count(self.db) > 0

    def sign_in(self, username: str, password: str) -> Actor:
        with connection.plain_errors(self.path):
            self.actor = accounts.authenticate(self.db, username, password)
        return self.actor

    @property
    def must_change_password(self) -> bool:
        """The signed-in account holds a one-time password: it must choose its own before anything else."""
        return bool(self.actor and self.actor.account_id and
                    accounts.must_change_password(self.db, self.actor.account_id))

    def sign_out(self) -> None:
        self.actor = None

    def act_as_system(self) -> None:
        """For set-up commands that run before any account exists (demo, init)."""
        self.actor = SYSTEM

    def may(self, decision: str, client_id: int | None = None) -> bool:
        """Whether the signed-in user may take this decision of db.policy (for this client)."""
        return policy.allows(self.db, self.actor, decision, client_id)

    def refusal(self, decision: str, client_id: int | None = None) -> str | None:
        """Why not, in plain words (for a read-only form's explanation), or None."""
        return policy.refusal(self.db, self.actor, decision, client_id)

    # --- change notices -------------------------------------------------------------------------

    def on_change(self, listener: Callable[[Changes], None]) -> Callable[[], None]:
        """Call listener(changes) after every committed write made through this store; returns the
        function that stops it (a window closing while the store stays open)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, changes: Changes) -> None:
        for listener in list(self._listeners):
            listener(changes)

    # --- declarations ---------------------------------------------------------------------------

    def rules(self) -> dict[str, str]:
        """Every public method of every part with its declared rule ("clients.search" -> "read view_client")."""
        from .api import rule_of
        found = {}
        for name in PART_NAMES:
            part = getattr(self, name)
            for attr in dir(type(part)):
                if attr.startswith("_") or attr in ("db", "actor", "by"):
                    continue
                rule = rule_of(getattr(type(part), attr))
                found[f"{name}.{attr}"] = rule.describe() if rule else "UNDECLARED"
        return found

