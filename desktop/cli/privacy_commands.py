"""htdesk audit, sar and erase (CLI.md v2): the audit trail, subject access and erasure (issue 14)."""
from __future__ import annotations

from datetime import date

from db.errors import FieldError, ValidationError

from . import common


def register(sub) -> None:
    p = common.command(sub, "audit", cmd_audit, "list audit events, newest first (administrators and managers)")
    p.add_argument("--client", metavar="REF", help="only events about this client, e.g. HT-000123")
    p.add_argument("--account", metavar="USERNAME", help="only events by this account")
    p.add_argument("--action", metavar="ACTION", help="only this action (view, create, update, print, export, ...)")
    p.add_argument("--since", metavar="DATE", help="only events on or after this day (YYYY-MM-DD)")
    p.add_argument("--out", metavar="FILE.xlsx", help="write the events to a workbook instead of listing them")

    p = common.command(sub, "sar", cmd_sar, "a subject access bundle: everything held about a person, their "
                                            "documents as printed and who viewed or changed the record "
                                            "(managers and administrators)")
    p.add_argument("client_ref", metavar="CLIENT_REF", help="the client's reference, e.g. HT-000123")
    p.add_argument("--out", metavar="FILE.zip", required=True, help="write the bundle here")

    p = common.command(sub, "erase", cmd_erase, "erase a person on request: anonymise in place, keeping counts "
                                                "for past returns, audited (administrators)")
    p.add_argument("client_ref", metavar="CLIENT_REF", help="the client's reference, e.g. HT-000123")
    p.add_argument("--reason", metavar="TEXT", required=True, help="why (kept in the audit trail)")


def _since(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValidationError(FieldError("since", f"--since {text}: give a day as YYYY-MM-DD, e.g. 2026-11-01.")) from None


def cmd_audit(args) -> int:
    since = _since(args.since)
    out = None
    if args.out:
        from db.public import check_output_path
        out = check_output_path(args.out, (".xlsx",), "the audit workbook")
    with common.open_store(args) as store:
        client_id = store.clients.id_for_ref(args.client) if args.client else None
        filters = dict(client_id=client_id, username=args.account, action=args.action, since=since)
        if out is not None:
            from reports.audit_workbook import write_audit
            n = store.privacy.export_audit(out, write_workbook=write_audit, **filters)
            common.out(f"Wrote {n:,} audit events to {out}")
            return 0
        rows = store.privacy.audit(**filters, limit=None)
        for r in rows:
            who = r["username"] or "(system)"
            about = r["client_ref"] or (f"{r['entity']} {r['entity_id']}" if r["entity_id"] else (r["entity"] or ""))
            common.out(f"{r['at'].replace('T', ' ')}  {who:<14} {r['action']:<12} {about:<18} {r['detail'] or ''}".rstrip())
        common.out(f"{len(rows):,} audit events.")
    return 0


def cmd_sar(args) -> int:
    from db.public import check_output_path
    from reports.sar import write_bundle
    out = check_output_path(args.out, (".zip",), "the subject access bundle")
    with common.open_store(args) as store:
        client_id = store.clients.id_for_ref(args.client_ref)
        store.privacy.write_subject_access(client_id, out, write_bundle=write_bundle)
        common.out(f"Wrote the subject access bundle for {args.client_ref.strip().upper()} to {out}")
    return 0


def cmd_erase(args) -> int:
    with common.open_store(args) as store:
        client_id = store.clients.id_for_ref(args.client_ref)
        done = store.privacy.erase(client_id, args.reason)[client_id]
        common.out(f"Erased {done['client_ref']}: names, contact details, NHS number, date of birth (to its year) "
                   f"and free text anonymised; {done['documents_removed']} printed document(s) removed; "
                   f"{done['audit_rows_blanked']} audit entries blanked. Counts in returns are kept. Older backups "
                   "still hold the person until they age out; restoring one erases them again.")
    return 0
