"""store.privacy: the audit trail read by people, and people's rights (UK GDPR).

- `audit`: audit events newest first, by client, account, action and date (administrators and
  managers, CLI.md `htdesk audit`).
- `write_subject_access`: a subject access bundle written by reports.sar (managers and
  administrators, `htdesk sar`); audited as an export only once the file is there.
- `erase` / `erase_many`: anonymise in place on request or at the end of the retention period
  (administrators, `htdesk erase`), audited with the reason; past returns keep their counts
  (db/rights.py).
- `retention_due`: people with no contact for longer than the retention period (service setting
  retention.years, default 8).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .. import audit, clients, connection, rights
from ..api import Done, Part, changed, job, read, write
from ..errors import FieldError, ValidationError
from ..records import AuditNote

RETENTION_KEY, RETENTION_DEFAULT = "retention.years", 8


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < 5:
        raise ValidationError(FieldError("reason", "Reason: say why the person is erased (for example "
                                                   "'erasure requested by the person on 3 March 2027')."))
    return text


class PrivacyPart(Part):

    @read("audit_view")
    def audit(self, *, client_id: int | None = None, username: str | None = None, action: str | None = None,
              since: str | None = None, until: str | None = None, limit: int | None = 5000) -> list[dict]:
        """Audit events newest first (id, at, username, action, entity, entity_id, client_id, client_ref,
        before, after, detail), filtered; dates are ISO days, inclusive."""
        if action is not None and action not in audit.ACTIONS:
            raise ValidationError(FieldError("action", f"Action: one of {', '.join(audit.ACTIONS)}."))
        return audit.search(self.db, client_id=client_id, username=username, action=action, since=since,
                            until=until, limit=limit)

    @read("audit_view")
    def audit_actions(self) -> tuple[str, ...]:
        return audit.ACTIONS

    @job("audit_view")
    def export_audit(self, out: Path | str, *, write_workbook, client_id: int | None = None,
                     username: str | None = None, action: str | None = None, since: str | None = None,
                     until: str | None = None) -> int:
        """The events `audit` finds (no limit), written by write_workbook(out, rows)
        (reports.audit_workbook.write_audit); the export is itself audited once the file is there."""
        out = Path(out)
        rows = self.audit(client_id=client_id, username=username, action=action, since=since, until=until,
                          limit=None)
        try:
            write_workbook(out, rows)
        except OSError as exc:
            raise connection.translate_os_error(exc, f"the workbook {out}", output=True) or exc
        filters = {k: v for k, v in (("client_id", client_id), ("username", username), ("action", action),
                                     ("since", since), ("until", until)) if v is not None}
        try:
            self._audit_exported(str(out), len(rows), filters)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        return len(rows)

    @write("audit_view")
    def _audit_exported(self, target: str, count: int, filters: dict):
        return changed("audit", (), "export", notes=(AuditNote(
            "export", "audit", None, after={"file": target, "rows": count, **filters},
            detail=f"audit events exported to {target}"),))

    @job("sar", client="client_id")
    def write_subject_access(self, client_id: int, out: Path | str, *, write_bundle, today: date | None = None,
                             on_progress=None) -> Path:
        """Everything held about the person (rights.subject_data) handed to write_bundle(out, data,
        on_progress=...) (reports.sar.write_bundle, which writes under a temporary name); audited as one
        "export" of the client once the file is there, else nothing is recorded and nothing is left."""
        out = Path(out)
        with connection.snapshot(self.db):
            data = rights.subject_data(self.db, client_id, self.actor.full_name or self.by(), today)
        try:
            write_bundle(out, data, on_progress=on_progress)
        except OSError as exc:
            raise connection.translate_os_error(exc, f"the bundle {out}", output=True) or exc
        try:
            self._handed_over(client_id, data.client_ref, str(out), len(data.documents))
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        return out

    @write("sar", client="client_id")
    def _handed_over(self, client_id: int, client_ref: str, target: str, documents: int):
        return changed("client", client_id, "export", notes=(AuditNote(
            "export", "client", client_id, after={"file": target, "documents": documents},
            detail=f"subject access bundle for {client_ref}"),))

    @write("erase", client="client_id")
    def erase(self, client_id: int, reason: str) -> dict:
        """Anonymise one person in place, audited with the reason."""
        return self._erase([client_id], _reason(reason))

    @write("erase")
    def erase_many(self, client_ids: list[int], reason: str) -> dict:
        """Anonymise several people in one step (the retention list), all or none."""
        return self._erase(list(client_ids), _reason(reason))

    def _erase(self, client_ids: list[int], reason: str):
        done, notes = {}, []
        for client_id in client_ids:
            current = clients.get(self.db, client_id)       # NotFound for an unknown id
            if current.anonymised_at:
                raise ValidationError(FieldError("client", f"{current.client_ref} was already erased on "
                                                           f"{current.anonymised_at[:10]}."))
            summary = rights.erase(self.db, client_id, self.by(), audit.now_iso())
            done[client_id] = summary
            notes.append(AuditNote("erase", "client", client_id, after=summary,
                                   detail=f"Erased ({current.client_ref}): {reason}"))
        return Done(done, changed("client", client_ids, "update", notes=tuple(notes)))

    @read("erase")
    def retention_due(self, *, today: date | None = None, service_code: str | None = None) -> tuple[int, list[dict]]:
        """(retention years, the people with no contact for longer), longest ago first."""
        from .. import services
        years = int(services.get_setting(self.db, RETENTION_KEY, RETENTION_DEFAULT) or RETENTION_DEFAULT)
        service = self._store.service.get(service_code)
        return years, rights.retention_due(self.db, service.id, years, today or date.today())
