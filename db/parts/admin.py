"""store.admin: accounts, the audit trail, checks, backups and restores (administrators)."""
from __future__ import annotations

from pathlib import Path

from .. import accounts, audit, maintenance
from ..api import Part, changed, job, read, write
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

    @write(_own_or_admin)
    def set_password(self, username: str, password: str) -> Changes:
        accounts.set_password(self.db, username, password, self.by())
        return changed("account", username, "update", detail="password changed")

    @write("admin")
    def set_locked(self, username: str, locked: bool) -> Changes:
        account_id = accounts.set_locked(self.db, username, locked, self.by())
        return changed("account", account_id, "lock" if locked else "unlock", detail=username)

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

    @job("restore")
    def restore(self, source: Path | str) -> Path | None:
        """Replace this database with a checked backup, keeping the current one as a backup first.
        The store is reopened on the restored file; the restore is audited under the administrator."""
        return self._store._restore_from(Path(source))
