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

import contextlib
import threading
from pathlib import Path
from typing import Callable

from . import accounts, audit, connection, keys, pg, plain_to_encrypted, policy, services
from .errors import AuthenticationError, DatabaseUnusable, FieldError, PermissionDenied, ValidationError
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

class _Sealed:
    """The database of a store nobody has signed in to yet: encrypted, so nothing can be read."""

    def __getattr__(self, name):
        raise PermissionDenied("Sign in first: the database is encrypted and opens only for a signed-in account.")

    def __bool__(self):
        return False


SEALED = _Sealed()
WRONG_PASSWORD = "Wrong username or password. Check both and try again."

def set_up_service(db, service_name: str, service_code: str, admin_username: str, admin_password: str,
                   admin_full_name: str | None, contact: dict | None, demo: bool) -> int:
    """A new database's one service and its first account (administrator and manager), in one transaction,
    on a file or a server alike. A demo's accounts keep the documented password 'demo' (hashed as given)."""
    with connection.transaction(db):
        service_id = services.create_service(db, service_name, service_code, SYSTEM.username,
                                             **services.check_contact(contact or {}))
        staff_id = services.add_staff(db, service_id, admin_full_name or admin_username, "MANAGER", SYSTEM.username)
        accounts.create(db, admin_username, admin_password, ["ADMIN", "MANAGER"], staff_id, SYSTEM.username,
                        password_hash=accounts.hash_password(admin_password) if demo else None)
        services.set_meta(db, "demo", "1" if demo else "0")
        audit.record(db, SYSTEM, "create", "service", service_id,
                     after={"name": service_name, "code": service_code, "admin": admin_username})
    return service_id


PART_NAMES = ("clients", "referrals", "diary", "plans", "assessments", "signposting", "documents", "returns",
              "reach", "transfer", "service", "admin", "reference", "drafts", "privacy")


class CaseStore:
    url: str | None = None      # a server database's address (then path is None)

    def __init__(self, db, path: Path | None = None, actor: Actor | None = None,
                 reference_source: str | Path | None = None):
        self._thread = threading.local()
        self.db = db
        self.path = Path(path) if path else None
        self.actor = actor
        self._key: bytes | None = None            # the database key, once unlocked (None: a plain file)
        self._keys: keys.KeyFile | None = None    # the key file beside an encrypted database
        self.recovery_key: str | None = None      # only on the store that made the database: shown once
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
        """Open a database. An encrypted one opens sealed: it can tell only what its key file says
        (has_accounts, is_demo, service_name) until sign_in (or the recovery key) unlocks it."""
        if pg.is_server_url(path):     # a service's database on a PostgreSQL server (db/pg)
            with connection.plain_errors(None):
                store = cls(connection.open_database(path, create=create), None, **kw)
            store.url = path
            return store
        path = Path(path)
        with connection.plain_errors(path):
            if path.is_file() and keys.is_encrypted_file(path):
                connection._check_path(path, False)
                connection.sweep_leftovers(path)
                store = cls(SEALED, path, **kw)
                store._keys = _load_key_file(path)
                return store
            return cls(connection.open_database(path, create=create), path, **kw)

    @classmethod
    def _open_with_key(cls, path: Path, key: bytes, keyfile: "keys.KeyFile | None", *, create: bool = False,
                       **kw) -> "CaseStore":
        store = cls(connection.open_database(path, create=create, key=key), path, **kw)
        store._key, store._keys = key, keyfile
        return store

    @property
    def sealed(self) -> bool:
        return self.db is SEALED

    @property
    def encrypted(self) -> bool:
        return self._keys is not None

    @property
    def service_name(self) -> str:
        """The service's name (for the sign-in window), known before unlocking."""
        if self.sealed:
            return self._keys.service_name
        with connection.plain_errors(self.path):
            return ", ".join(r[0] for r in self.db.conn.execute("SELECT name FROM services ORDER BY code"))

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
        key, keyfile, recovery = keys.new_database_key(), keys.KeyFile.new(path), keys.new_recovery_key()
        keyfile.set_recovery(key, recovery)
        with connection.plain_errors(path):
            try:
                store = cls._open_with_key(tmp, key, keyfile, create=True, **kw)
                try:
                    set_up_service(store.db, service_name, service_code, admin_username, admin_password,
                                   admin_full_name, contact, demo)
                    store._sync_keys(save=False)
                finally:
                    store.close()
                connection.check_new_target(path)
                keyfile.save()
                connection.place_new_database(tmp, path)
            except BaseException:
                connection.remove_database_files(tmp)
                raise
            made = cls._open_with_key(path, key, keyfile, **kw)
            made.recovery_key = recovery
            return made

    @staticmethod
    def create_demo(path: Path | str, *, clients: int = 300, seed: int = 1, today=None, on_progress=None) -> dict:
        """A new demo database full of synthetic people (marked DEMO); returns what it made, by kind."""
        from . import demo
        with connection.plain_errors(path):
            return demo.create_demo(path, clients=clients, seed=seed, today=today, on_progress=on_progress)

    @staticmethod
    def restore_new(path: Path | str, source: Path | str, *, username: str | None = None,
                    password: str | None = None, recovery_key: str | None = None) -> None:
        """Restore a checked backup where no database is yet (a new PC): nothing to sign in to. An
        encrypted backup is checked with an administrator's password of its time or its recovery key,
        and placed with its key file, so those open it."""
        from . import maintenance
        path = Path(path)
        connection.check_new_target(path)
        if path.exists() and path.stat().st_size > 0:
            raise ValidationError(FieldError("db", f"{path} already exists: open it and restore as an "
                                                   "administrator, so the restore is checked and recorded."))
        with connection.plain_errors(path):
            maintenance.restore_copy(path, Path(source), maintenance.Unlock(
                username=username, password=password, recovery_key=recovery_key))

    def _unlock_for_backups(self, password: str | None = None, recovery_key: str | None = None):
        from . import maintenance
        return maintenance.Unlock(key=self._key, database_id=self._keys.database_id if self._keys else None,
                                  username=self.actor.username if self.actor else None, password=password,
                                  recovery_key=recovery_key)

    @property
    def db(self):
        """The database this thread reads and writes through: the store's own connection, or, inside a
        read that found the worker in a transaction, the side connection (connection.snapshot)."""
        db = getattr(self._thread, "db", None)
        return self._db if db is None else db

    @db.setter
    def db(self, value) -> None:
        self._db = value

    @contextlib.contextmanager
    def _reading_through(self, db):
        """Within a declared read on this thread, every part and rule reads through db (db/api.py)."""
        if db is self._db:
            yield
            return
        held = getattr(self._thread, "db", None)
        self._thread.db = db
        try:
            yield
        finally:
            self._thread.db = held

    def _restore_from(self, source: Path, confirm_code: str | None = None, password: str | None = None,
                      recovery_key: str | None = None):
        from . import maintenance
        if self.path is None:
            from .errors import BadPath
            raise BadPath("This database has no file to restore into.")
        unlock = self._unlock_for_backups(password, recovery_key)
        connection.close_side(self.db)
        self.db.conn.close()
        try:
            return maintenance.restore(self.path, source, self.actor, confirm_code, key=self._key, unlock=unlock)
        finally:
            self.db = connection.open_database(self.path, key=self._key)
            self._sync_keys()     # the restored accounts' passwords open the file from now on

    def close(self) -> None:
        self.reference._close()
        if not self.sealed:
            connection.close_side(self.db)
            self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def is_demo(self) -> bool:
        if self.sealed:
            return self._keys.demo
        with connection.plain_errors(self.path):
            return services.get_meta(self.db, "demo") == "1"

    # --- who is acting ---------------------------------------------------------------------

    def has_accounts(self) -> bool:
        if self.sealed:
            return self._keys.has_accounts
        with connection.plain_errors(self.path):
            return accounts.count(self.db) > 0

    def sign_in(self, username: str, password: str) -> Actor:
        """Check the password and act as that account. A sealed store first unwraps the database key
        with it (one argon2 computation checks both); a wrong password is counted in the key file
        until the database is next opened. A plain database is encrypted at its first sign-in."""
        with connection.plain_errors(self.path):
            if self.sealed:
                key, raw = self._keys.unwrap_password(username, password)
                if key is None:
                    self._keys.record_failure(username)
                    self._keys.save()
                    raise AuthenticationError(WRONG_PASSWORD)
                self._unseal(key)
                try:
                    self.actor = accounts.authenticate(self.db, username, password, raw=raw)
                except BaseException:
                    self._seal()
                    raise
            else:
                self.actor = accounts.authenticate(self.db, username, password)
                if self._key is None and self.path is not None:
                    self._encrypt_plain_database()
            self._sync_keys()
        return self.actor

    def sign_in_with_recovery_key(self, username: str, recovery_key: str) -> Actor:
        """An administrator who has lost their password opens the database with the recovery key;
        their account then holds a one-time password state (must_change_password) until they set a new one."""
        with connection.plain_errors(self.path):
            if self._keys is None:
                raise AuthenticationError("This database has no recovery key: sign in with a password.")
            key = self._keys.unwrap_recovery(recovery_key)
            if key is None or (not self.sealed and key != self._key):
                raise AuthenticationError("That recovery key does not open this database. Check it against the "
                                          "recovery sheet (letters and digits, in groups of four) and try again.")
            if self.sealed:
                self._unseal(key)
            try:
                self.actor = accounts.recover(self.db, username)
            except BaseException:
                if self._keys is not None and self.actor is None:
                    self._seal()
                raise
            self._sync_keys()
        return self.actor

    @property
    def service_code(self) -> str:
        """The service's code, known before unlocking."""
        if self.sealed:
            return self._keys.service_code
        with connection.plain_errors(self.path):
            return ", ".join(r[0] for r in self.db.conn.execute("SELECT code FROM services ORDER BY code"))

    @property
    def database_id(self) -> str | None:
        """The id in the key file (printed on the recovery sheet, matched against backups), or None."""
        return self._keys.database_id if self._keys else None

    def _new_recovery_key(self) -> str:
        if self._keys is None or self._key is None:
            raise ValidationError(FieldError("recovery", "This database is not encrypted yet: it is at the first "
                                                         "sign-in of an account."))
        recovery = keys.new_recovery_key()
        self._keys.set_recovery(self._key, recovery)
        self._keys.save()
        return recovery

    def _unseal(self, key: bytes) -> None:
        self.db = connection.open_database(self.path, key=key)
        self._key = key
        self._apply_key_file_failures()

    def _seal(self) -> None:
        if not self.sealed:
            connection.close_side(self.db)
            self.db.conn.close()
        self.db, self._key, self.actor = SEALED, None, None

    def _apply_key_file_failures(self) -> None:
        """Wrong passwords counted in the key file while the database was sealed: written to the
        accounts (the lockout rules apply) and the audit trail, then cleared from the key file."""
        counted, unknown = self._keys.failures()
        if not counted and not unknown:
            return
        by_index = {self._keys.account_index(u): (i, u) for i, u in
                    self.db.conn.execute("SELECT id, username FROM accounts")}
        with connection.transaction(self.db):
            for index, n in counted.items():
                if index in by_index:
                    accounts.record_failures(self.db, *by_index[index], n)
            for _ in range(min(unknown, 100)):
                audit.record(self.db, None, "failed_login", "account", None, detail="unknown username")
        self._keys.clear_failures()
        self._keys.save()

    def _sync_keys(self, save: bool = True) -> None:
        """Make the key file's entries again from the accounts table (a new or changed password, a
        new account, an ended one), with the service's public facts; written only when changed."""
        if self._keys is None or self._key is None or self.sealed:
            return
        if keys.sync_from_db(self.db, self._key, self._keys) and save:
            self._keys.save()

    def _encrypt_plain_database(self) -> None:
        """A plain database (made before encryption) is converted at its first sign-in (connection.py)."""
        if not accounts.count(self.db):
            return
        key, keyfile = keys.new_database_key(), keys.KeyFile.new(self.path)
        self.db = plain_to_encrypted.encrypt_in_place(self.db, self.path, key, keyfile,
                                              lambda db: self._sync_into(db, key, keyfile))
        self._key, self._keys = key, keyfile

    def _sync_into(self, db, key: bytes, keyfile: "keys.KeyFile") -> None:
        held = self.db, self._key, self._keys
        self.db, self._key, self._keys = db, key, keyfile
        try:
            self._sync_keys(save=False)
        finally:
            self.db, self._key, self._keys = held

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
        self._sync_keys()
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



def _load_key_file(path: Path) -> "keys.KeyFile":
    try:
        return keys.KeyFile.load(path)
    except keys.KeyFileError as exc:
        raise DatabaseUnusable(f"{exc}. Without it the encrypted database {path} cannot be opened: put the key "
                               f"file ({keys.key_file_of(path).name}) back beside it from where the database "
                               "was copied, or restore a backup (each backup has its own .keys file beside it).") from None
