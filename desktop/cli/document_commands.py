"""htdesk plan and htdesk letter: print a plan or a letter, kept with the record as printed (CLI.md)."""
from __future__ import annotations

from db.errors import FieldError, ValidationError

from . import common

# db.documents.LETTER_KINDS, written out so `htdesk --help` need not load the documents layer
# (tests/cli/test_cli_imports.py keeps the two equal).
LETTER_KINDS = ("appointment", "no-contact", "gp-outcome")


def register(sub) -> None:
    p = common.command(sub, "plan", cmd_plan, "print the client's current personal health plan (kept with the record)")
    p.add_argument("client_ref", metavar="CLIENT_REF", help="the client's reference, e.g. HT-000123")
    p.add_argument("--out", metavar="FILE.pdf", required=True, help="write the PDF here")
    p.add_argument("--large-print", action="store_true", help="large print: all text 16 point or more")

    p = common.command(sub, "letter", cmd_letter,
                       "print a letter for a referral (kept with the record): " + ", ".join(LETTER_KINDS))
    # Checked in the handler rather than by argparse choices, so the message says what to do in full.
    p.add_argument("kind", metavar="KIND", help="appointment (next booked session), no-contact (we could not "
                                                "reach you) or gp-outcome (summary for the GP, with consent)")
    p.add_argument("referral_ref", metavar="REFERRAL_REF", help="the referral's reference, e.g. RF-000123")
    p.add_argument("--out", metavar="FILE.pdf", required=True, help="write the PDF here")


def cmd_plan(args) -> int:
    from reports.printing import print_plan
    with common.open_store(args) as store:
        client_id = store.clients.id_for_ref(args.client_ref)
        kept, _ = print_plan(store, client_id, args.out, large_print=args.large_print)
        _report(args.out, kept, args.client_ref.strip().upper())
    return 0


def cmd_letter(args) -> int:
    kind = args.kind.strip().lower()
    if kind not in LETTER_KINDS:      # refused before asking for a password
        raise ValidationError(FieldError("kind", f"There is no '{args.kind}' letter. Choose one of: "
                                                 f"{', '.join(LETTER_KINDS)}."))
    from reports.printing import print_letter
    with common.open_store(args) as store:
        referral_id = store.referrals.id_for_ref(args.referral_ref)
        kept, _ = print_letter(store, kind, referral_id, args.out)
        _report(args.out, kept, args.referral_ref.strip().upper())
    return 0


def _report(out, kept, ref: str) -> None:
    common.out(f"Wrote {out}")
    common.out(f"Kept with the record of {ref} as document {kept.id} ({kept.label}, {kept.size:,} bytes, "
               f"sha256 {kept.sha256[:12]}…).")
