"""Sub-commands that set a database up and keep it well: init, demo, check, user, backup, restore."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from db.errors import AuthenticationError, FieldError, ValidationError

from . import common


def register(sub) -> None:
    p = common.command(sub, "init", cmd_init, "create a new, empty database for one service with its first account")
    p.add_argument("--service-name", required=True, metavar="NAME")
    p.add_argument("--service-code", required=True, metavar="CODE")
    p.add_argument("--admin", required=True, metavar="USERNAME", help="first account (administrator and manager)")
    p.add_argument("--admin-name", metavar="NAME", help="the first account holder's full name (signs letters)")
    p.add_argument("--address", metavar="TEXT", help="the service's address, printed on letters and plans")
    p.add_argument("--phone", metavar="TEXT", help="the service's phone number, printed on letters and plans")
    p.add_argument("--email", metavar="TEXT", help="the service's email address, printed on letters and plans")
    p.add_argument("--recovery-sheet", metavar="FILE.pdf",
                   help="also write the recovery sheet (the recovery key, shown once, and what to do with it)")
    p.add_argument("--server", metavar="postgresql://HOST/DBNAME",
                   help="set the service up on a PostgreSQL server (an empty database made by your IT team) instead "
                        "of a file; other PCs then use --db with the same address")

    p = common.command(sub, "connect", cmd_connect, "work on a service's PostgreSQL server from this PC: save its "
                       "address (never a password), or --forget it; with --user, sign in to check it first")
    p.add_argument("address", nargs="?", metavar="postgresql://HOST/DBNAME")
    p.add_argument("--forget", action="store_true", help="work on this PC's own database file again")

    common.command(sub, "secure", cmd_secure, "give a service's database on a PostgreSQL server its per-person "
                   "logins, role groups and row-level security (an administrator, connected as the IT team's owner "
                   "login; set up before this version, or again after an upgrade)")

    p = common.command(sub, "service", cmd_service, "show or change the service's details (administrators)")
    p.add_argument("action", choices=["show", "set"])
    for name in ("name", "address", "phone", "email", "website"):
        p.add_argument(f"--{name}", metavar="TEXT")
    p.add_argument("--logo", metavar="FILE", help="a PNG or JPEG picture printed at the head of letters and plans")
    p.add_argument("--signer-name", metavar="TEXT", help="the name that signs letters")
    p.add_argument("--signer-role", metavar="TEXT", help="the role printed under it")
    p.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                   help="any other service setting (see 'service show')")

    p = common.command(sub, "demo", cmd_demo, "create a demo database with synthetic clients")
    p.add_argument("--clients", type=_positive_int, default=300, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--open", action="store_true", help="open the desktop app on it afterwards")
    p.add_argument("--recovery-sheet", metavar="FILE.pdf", help="also write the demo's recovery sheet")

    common.command(sub, "check", cmd_check, "integrity and consistency checks; exit 0 when all pass")

    p = common.command(sub, "recovery-key", cmd_recovery_key,
                       "make a new recovery key for the encrypted database (administrators); the old one stops working")
    p.add_argument("--recovery-sheet", metavar="FILE.pdf", help="also write the new recovery sheet")

    p = common.command(sub, "backup", cmd_backup, "write a verified backup")
    p.add_argument("--out", metavar="FILE", help="backup file (default: the backups folder beside the database)")

    p = common.command(sub, "restore", cmd_restore, "restore a backup after checking it, keeping the current database as a backup first")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--confirm-code", metavar="CODE",
                   help="restore a backup of another service: type that service's code to confirm")

    p = common.command(sub, "user", cmd_user, "manage accounts (administrators)")
    p.add_argument("action", choices=["add", "passwd", "lock", "unlock", "reset", "end", "roles"])
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
    path = args.server or common.database_path(args)
    if args.server and not args.server.strip().lower().startswith(("postgresql://", "postgres://")):
        raise ValidationError(FieldError("server", f"--server {args.server}: give the server's address as "
                                                   "postgresql://HOST/DBNAME."))
    password = common.password_from_env_or_prompt(f"Password for {args.admin}: ")
    contact = {"address": args.address, "phone": args.phone, "email": args.email}
    with CaseStore.create_new(path, service_name=args.service_name, service_code=args.service_code,
                              admin_username=args.admin, admin_password=password, admin_full_name=args.admin_name,
                              contact=contact) as store:
        if args.server:
            # The roles, per-person logins, row-level security and the account path (db/pg/security.py).
            from db.public import secure_server
            secure_server(store, {args.admin: password})
        recovery, facts = store.recovery_key, (store.database_id, store.service_name, store.service_code)
    common.out(f"Created {path} for {args.service_name} ({args.service_code.upper()}); "
               f"sign in as {args.admin}.")
    _show_recovery_key(args, path, recovery, *facts, demo=False)
    if not any(contact.values()):
        common.err("The service has no phone, email or address yet, so letters and plans will not print: add "
                   "them with 'htdesk service set --phone ...'.")
    return 0


def cmd_secure(args) -> int:
    with common.open_store(args) as store:
        left = store.admin.secure_server(args.password)
    common.out(f"The server now has a login per account, in its role groups, with row-level security; "
               f"{args.user}'s login has the password you typed.")
    if left:
        common.out(f"No server password yet for: {', '.join(left)}. They cannot sign in until an administrator "
                   "gives each a one-time password ('htdesk user reset NAME --user ADMIN', or Accounts in the app); "
                   "each chooses their own at the next sign-in.")
    common.out("From now on each PC connects with an address naming no user (htdesk connect "
               "postgresql://HOST/DBNAME), and people sign in as themselves.")
    return 0


def cmd_connect(args) -> int:
    from db.public import check_server_url, forget_server, names_no_user, open_as_person, save_server, saved_server
    from db.store import CaseStore
    if args.forget:
        common.out("This PC no longer works on a server: it uses its own database file again."
                   if forget_server() else "No server was saved on this PC.")
        return 0
    if not args.address:
        where = saved_server()
        common.out(f"This PC works on {where}." if where else "No server is saved on this PC: it uses its own "
                   "database file. Save one with 'htdesk connect postgresql://HOST/DBNAME'.")
        return 0
    if not args.address.strip().lower().startswith(("postgresql://", "postgres://")):
        raise ValidationError(FieldError("address", f"{args.address}: give the server's address as "
                                                    "postgresql://HOST/DBNAME."))
    address = args.address.strip()
    if names_no_user(address):
        # A secured server: nothing can be read there before a person signs in as their own login.
        check_server_url(address)
        if not getattr(args, "user", None):
            save_server(address)
            common.out(f"This PC now works on {address}. Nothing can be read there before sign-in, so only the "
                       f"address's form was checked: 'htdesk connect {address} --user NAME' also signs in to try it.")
            return 0
        args.password = common.password_from_env_or_prompt(f"Password for {args.user}: ")
        with open_as_person(CaseStore, address, args.user, args.password) as store:
            name = store.service_name
        save_server(address)
        common.out(f"This PC now works on {address} ({name}): {args.user} signed in as their own server login. "
                   "People sign in with their own username and password; nothing is kept on this PC but the address.")
        return 0
    with CaseStore.open(address) as store:       # a set-up service's database, or a plain refusal
        name = store.service_name
    save_server(address)
    common.out(f"This PC now works on {address} ({name}). Sign in with your own account; the server's password, "
               "if it needs one, goes in your ~/.pgpass, never in the app.")
    return 0


def cmd_service(args) -> int:
    store = common.open_store(args)
    with store:
        if args.action == "set":
            service = store.service.get()
            details = {f: getattr(args, f) for f in ("name", "address", "phone", "email") if getattr(args, f) is not None}
            settings = {"service.website": args.website, "letters.signer_name": args.signer_name,
                        "letters.signer_role": args.signer_role}
            settings = {k: v for k, v in settings.items() if v is not None}
            for item in args.setting:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValidationError(FieldError("setting", f"--setting {item}: write it as KEY=VALUE."))
                settings[key.strip()] = value
            logo = None
            if args.logo:
                try:
                    logo = Path(args.logo).read_bytes()
                except OSError as exc:
                    raise ValidationError(FieldError("logo", f"Logo: {args.logo} cannot be read ({exc.strerror}).")) from None
            if not details and not settings and logo is None:
                raise ValidationError(FieldError("service", "Say what to change, e.g. --phone '0191 000 0000'."))
            if details:
                store.service.update(details, expected_version=service.row_version)
            if settings:
                store.service.set_settings(settings)
            if logo is not None:
                store.service.set_logo(logo)
            common.out(f"Changed: {', '.join([*details, *settings, *(['logo'] if logo is not None else [])])}.")
        service = store.service.get()
        common.out(f"Service:  {service.name} ({service.code})")
        for label, value in (("Address", service.address), ("Phone", service.phone), ("Email", service.email)):
            common.out(f"{label + ':':<9} {(value or '(none)').replace(chr(10), ', ')}")
        common.out(f"Logo:     {'yes' if store.service.logo() else '(none)'}")
        for key, value in store.service.settings().items():
            common.out(f"{key} = {'(none)' if value is None else value}")
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
    with CaseStore.open(path) as store:
        facts = store.database_id, store.service_name, store.service_code
    _show_recovery_key(args, path, summary.recovery_key, *facts, demo=True)
    if args.open:
        from desktop.app import run_app
        args.db = str(path)
        return run_app(args)
    return 0


def _show_recovery_key(args, path, recovery: str, database_id: str, name: str, code: str, *, demo: bool) -> None:
    """The recovery key, shown this once (and on the recovery sheet when asked for)."""
    if recovery is None:
        common.out("The database is on a server: reached over the network only with the server's certificate "
                   "checked (TLS), kept on the server's own disk, backed up by the server (pg_dump, see the README). "
                   "There is no recovery key.")
        return
    common.out(f"The database is encrypted. Its recovery key (shown only now): {recovery}")
    common.out("Write it down or print the recovery sheet, and keep it locked away: it opens the records when "
               "no administrator can sign in.")
    if args.recovery_sheet:
        from reports.recovery_sheet import build_recovery_sheet
        build_recovery_sheet(name, code, database_id, recovery, args.recovery_sheet, database_path=str(path),
                             is_demo=demo)
        common.out(f"Recovery sheet written: {args.recovery_sheet}")


def cmd_recovery_key(args) -> int:
    with common.open_store(args) as store:
        recovery = store.admin.new_recovery_key()
        _show_recovery_key(args, store.path, recovery, store.database_id, store.service_name, store.service_code,
                           demo=store.is_demo)
    common.out("The previous recovery key no longer opens the database (backups made before keep theirs).")
    return 0


def cmd_check(args) -> int:
    store = common.open_store(args)
    with store:
        results = store.admin.check()
        from db.public import server_security_checks
        results += server_security_checks(store)
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
            unlock = {"password": getattr(args, "password", None),
                      "recovery_key": getattr(args, "recovery_key_text", None)}
            try:
                info = store.admin.backup_info(source, **unlock)
            except AuthenticationError:
                if args.recovery_key or not sys.stdin or not sys.stdin.isatty():
                    raise
                unlock["recovery_key"] = common.recovery_key_from_env_or_prompt()
                info = store.admin.backup_info(source, **unlock)
            common.out(f"{source} holds {info.service_text}, {info.clients} clients, saved {info.saved_at}.")
            kept = store.admin.restore(source, confirm_code=args.confirm_code, **unlock)
    else:
        # A new PC: the backup opens with an administrator's password of its time or its recovery key.
        from db.public import is_encrypted_file
        unlock = {}
        if is_encrypted_file(source):
            if args.recovery_key:
                unlock["recovery_key"] = common.recovery_key_from_env_or_prompt()
            elif args.user:
                unlock = {"username": args.user,
                          "password": common.password_from_env_or_prompt(f"Password for {args.user}: ")}
            else:
                raise AuthenticationError("The backup is encrypted: say which administrator restores it with --user "
                                          "NAME (their password of the time it was made), or use --recovery-key.")
        CaseStore.restore_new(path, source, **unlock)
    common.out(f"Restored {path} from {source}." + (f" The database as it was is kept at {kept}." if kept else ""))
    return 0


def cmd_user(args) -> int:
    store = common.open_store(args, one_time_ok=args.action == "passwd" and args.user == args.username)
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
        elif args.action == "reset":
            one_time = store.admin.reset_password(args.username)
            common.out(f"One-time password for {args.username}: {one_time}")
            common.out("Give it to them in person; they choose their own at the next sign-in.")
        elif args.action == "end":
            store.admin.end_account(args.username)
            common.out(f"Account {args.username} ended: it can no longer sign in.")
        elif args.action == "roles":
            roles = [r.strip().upper() for r in args.roles.split(",") if r.strip()]
            store.admin.set_roles(args.username, roles)
            common.out(f"Account {args.username} now has roles {', '.join(roles)}.")
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

