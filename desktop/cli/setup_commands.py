"""Sub-commands that set a database up and keep it well: init, demo, check, user, backup, restore."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from db.errors import FieldError, ValidationError

from . import common


def register(sub) -> None:
    p = common.command(sub, "init", cmd_init, "create a new, empty database for one service with its first account")
    p.add_argument("--service-name", required=True, metavar="NAME")
    p.add_argument("--service-code", required=True, metavar="CODE")
    p.add_argument("--admin", required=True, metavar="USERNAME", help="first account (administrator and manager)")

    p = common.command(sub, "demo", cmd_demo, "create a demo database with synthetic clients")
    p.add_argument("--clients", type=_positive_int, default=300, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--open", action="store_true", help="open the desktop app on it afterwards")

    common.command(sub, "check", cmd_check, "integrity and consistency checks; exit 0 when all pass")

    p = common.command(sub, "backup", cmd_backup, "write a verified backup")
    p.add_argument("--out", metavar="FILE", help="backup file (default: the backups folder beside the database)")

    p = common.command(sub, "restore", cmd_restore, "restore a backup after checking it, keeping the current database as a backup first")
    p.add_argument("file", metavar="FILE")

    p = common.command(sub, "user", cmd_user, "manage accounts (administrators)")
    p.add_argument("action", choices=["add", "passwd", "lock", "unlock"])
    p.add_argument("username", metavar="USERNAME")
    p.add_argument("--roles", default="TRAINER", help="comma-separated roles for 'add' (COORD, TRAINER, CHAMPION, MANAGER, ADMIN)")
    p.add_argument("--full-name", help="staff member's full name for 'add'")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 200_000:
        raise argparse.ArgumentTypeError("choose a number of clients from 1 to 200000")
    return value


def cmd_init(args) -> int:
    from db.store import CaseStore
    path = common.database_path(args)
    password = common.password_from_env_or_prompt(f"Password for {args.admin}: ")
    with CaseStore.create_new(path, service_name=args.service_name, service_code=args.service_code,
                              admin_username=args.admin, admin_password=password):
        pass
    common.out(f"Created {path} for {args.service_name} ({args.service_code.upper()}); "
               f"sign in as {args.admin}.")
    return 0


def _progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{label}: {done}/{total}   ", end="", file=sys.stderr, flush=True)


def cmd_demo(args) -> int:
    from db.store import CaseStore
    path = common.database_path(args)
    started = time.perf_counter()
    summary = CaseStore.create_demo(path, clients=args.clients, seed=args.seed, on_progress=_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    common.out(f"Created demo database {path} in {time.perf_counter() - started:.1f} s: " +
               ", ".join(f"{n} {k}" for k, n in summary.items()))
    common.out("Sign in as admin, manager, coordinator, trainer1…, or champion1, password 'demo'.")
    if args.open:
        from desktop.app import run_app
        args.db = str(path)
        return run_app(args)
    return 0


def cmd_check(args) -> int:
    store = common.open_store(args)
    with store:
        results = store.admin.check()
    failed = [r for r in results if not r.ok]
    for r in results:
        common.out(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.detail}")
    if failed:
        common.err(f"{len(failed)} check(s) failed. Restore a backup ('htdesk restore') or ask for support.")
        return 1
    common.out(f"All {len(results)} checks passed.")
    return 0


def cmd_backup(args) -> int:
    store = common.open_store(args)
    with store:
        target = store.admin.backup(Path(args.out) if args.out else None)
    common.out(f"Backup written and verified: {target}")
    return 0


def cmd_restore(args) -> int:
    from db.store import CaseStore
    path = common.database_path(args)
    source = Path(args.file)
    kept = None
    if path.exists() and path.stat().st_size > 0:
        # The store checks the administrator, records who restored, and keeps the current file first.
        with common.open_store(args) as store:
            kept = store.admin.restore(source)
    else:
        CaseStore.restore_new(path, source)
    common.out(f"Restored {path} from {source}." + (f" The database as it was is kept at {kept}." if kept else ""))
    return 0


def cmd_user(args) -> int:
    store = common.open_store(args)
    with store:
        if args.action == "add":
            password = _new_password(args.username)
            roles = [r.strip().upper() for r in args.roles.split(",") if r.strip()]
            primary = next((r for r in roles if r != "ADMIN"), roles[0] if roles else "")
            store.service.add_staff(args.full_name or args.username, primary, username=args.username, password=password,
                            extra_roles=tuple(r for r in roles if r != primary))
            common.out(f"Account {args.username} added with roles {', '.join(roles)}.")
        elif args.action == "passwd":
            store.admin.set_password(args.username, _new_password(args.username))
            common.out(f"Password changed for {args.username}.")
        else:
            store.admin.set_locked(args.username, args.action == "lock")
            common.out(f"Account {args.username} {args.action}ed.")
    return 0


def _new_password(username: str) -> str:
    """The new account's password: HTDESK_NEW_PASSWORD, or asked twice on a terminal."""
    if os.environ.get("HTDESK_NEW_PASSWORD"):
        return os.environ["HTDESK_NEW_PASSWORD"]
    if not sys.stdin or not sys.stdin.isatty():
        raise ValidationError(FieldError("password", "Set the new password in HTDESK_NEW_PASSWORD, or run this in a terminal to be asked."))
    import getpass
    first = getpass.getpass(f"New password for {username}: ")
    if first != getpass.getpass("Type it again: "):
        raise ValidationError(FieldError("password", "The two passwords differ: nothing was changed."))
    return first

