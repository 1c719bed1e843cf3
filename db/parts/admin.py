"""store.admin: accounts, the audit trail, checks, backups and restores (administrators)."""
from __future__ import annotations

from pathlib import Path

from .. import accounts, audit, maintenance
from ..api import Done, Part, changed, job, read, write
from ..records import Changes

_COUNTED = ("services", "staff", "accounts", "venues", "clients", "referrals", "sessions", "plans", "goals",
            "assessments", "signposting", "directory", "documents", "audit")


def _own_or_admin(values: dict, actor) -> str:
    # Everyone may change their own password; administrators anyone's.
    if actor is not None and actor.username.casefold() == str(values["username"]).casefold():
        return "signed_in"
    return "admin"


class AdminPart(Part):

    @read("admin")
    def accounts(self):
        return accounts.list_accounts(self.db)

    @read("admin")
    def account_states(self) -> list[tuple[str, str | None, str | None]]:
        """(username, ended_on, locked_until) of every account, for the staff screen."""
        return accounts.states(self.db)

    @write(_own_or_admin)
    def set_password(self, username: str, password: str) -> Changes:
        accounts.set_password(self.db, username, password, self.by())
        return changed("account", username, "update", detail="password changed")

    @write("admin")
    def set_locked(self, username: str, locked: bool) -> Changes:
        """Lock or unlock an account (the last active administrator is never locked)."""
        account_id = accounts.set_locked(self.db, username, locked, self.by())
        return changed("account", account_id, "lock" if locked else "unlock", detail=username)

    @write("admin")
    def reset_password(self, username: str) -> str:
        """A one-time password for the account, which must choose its own at next sign-in; returned
        once to be handed over (never stored in clear)."""
        one_time = accounts.generate_one_time_password()
        accounts.set_password(self.db, username, one_time, self.by(), must_change=True, checked=False)
        accounts.set_locked(self.db, username, False, self.by())
        return Done(one_time, changed("account", username, "update", detail="password reset (one-time)"))

    @write("admin")
    def new_recovery_key(self) -> str:
        """A new recovery key for this database, returned once to be printed on a recovery sheet: the
        one before it stops opening the database (backups made earlier keep theirs)."""
        recovery = self._store._new_recovery_key()
        return Done(recovery, changed("database", None, "update", detail="new recovery key made"))

    @write("admin")
    def end_account(self, username: str, on: str | None = None) -> Changes:
        """End an account when its holder leaves: it can no longer sign in (never the last administrator)."""
        from datetime import date
        on = on or date.today().isoformat()
        account_id = accounts.end_account(self.db, username, on, self.by())
        return changed("account", account_id, "update", after={"ended_on": on}, detail=f"{username}: account ended")

    @write("admin")
    def set_roles(self, username: str, roles: list[str]) -> Changes:
        """Change an account's roles (the last active administrator keeps the administrator role)."""
        before, after = accounts.set_roles(self.db, username, list(roles), self.by())
        return changed("account", username, "update", before={"roles": list(before)}, after={"roles": list(after)})

    @write("admin")
    def secure_server(self, password: str) -> list[str]:
        """A service's database on a PostgreSQL server set up before per-person logins (or secured by an
        earlier version): its role groups, grants, row-level security, the account path and a login per
        account (db/pg/security.py), run connected as the IT team's owner login. The signed-in
        administrator's own login gets `password`, checked against their account. Returns the accounts
        whose login has no password yet (an administrator gives each a one-time password)."""
        from ..errors import FieldError, ValidationError
        from ..pg import security
        me = self.by()
        if not accounts.password_matches(self.db, me, password):
            raise ValidationError(FieldError("password", f"Password: that is not {me}'s password."))
        left = security.secure_existing(self.db, me, password)
        return Done(left, changed("database", None, "update",
                                  detail="server secured: per-person logins, role groups and row-level security"
                                         + (f"; no server password yet: {', '.join(left)}" if left else "")))

    @read("audit_view")
    def audit_events(self, entity: str | None = None, entity_id=None, limit: int = 500) -> list[dict]:
        return audit.events(self.db, entity, entity_id, limit)

    @read("check")
    def counts(self) -> dict[str, int]:
        return maintenance.counts(self.db, _COUNTED)

    @read("check")
    def check(self) -> list:
        """Integrity and consistency checks (maintenance.CheckResult each)."""
        return maintenance.check(self.db)

    @job("backup")
    def backup(self, out: Path | str | None = None) -> Path:
        """A verified copy written while people work, kept only when it passes the integrity check; audited."""
        return maintenance.backup(self.db, self._store.path, self.actor, Path(out) if out else None)

    @job("backup")
    def copy_backups(self, folder: Path | str) -> list[Path]:
        """Copy the backups to a chosen folder (a USB stick or network share); returns the files copied."""
        return maintenance.copy_backups(self._store.path, Path(folder))

    @read("restore")
    def backup_info(self, source: Path | str, password: str | None = None, recovery_key: str | None = None):
        """Check a backup and say which service and date it holds (maintenance.BackupInfo). A backup of
        this database opens with its key; one encrypted with another key needs the password this
        administrator had then, or that database's recovery key."""
        return maintenance.backup_info(Path(source), self._store._unlock_for_backups(password, recovery_key))

    @read("signed_in")
    def last_backup(self):
        """(path, time) of the newest backup in the backups folder beside the database, or None."""
        return maintenance.last_backup(self._store.path)

    @job("restore")
    def restore(self, source: Path | str, confirm_code: str | None = None, password: str | None = None,
                recovery_key: str | None = None) -> Path | None:
        """Replace this database with a checked backup, keeping the current one as a backup first.
        A backup of another service is refused unless confirm_code is its service code; one encrypted
        with another key opens as backup_info says. The store is reopened on the restored file (which
        keeps this database's key and recovery key); the restore is audited under the administrator."""
        return self._store._restore_from(Path(source), confirm_code, password, recovery_key)
