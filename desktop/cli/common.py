"""What every sub-command shares: database selection, acting user, messages."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from db import paths
from db.errors import AuthenticationError

if TYPE_CHECKING:
    from db.store import CaseStore


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    # Given again after a command's name, they must not default there: argparse lets the command's
    # default overwrite an option given before the name ("htdesk --db X --user Y diary").
    default = {"default": argparse.SUPPRESS} if after_command else {}
    parser.add_argument("--db", metavar="PATH", **default,
                        help="database file, or a service's server as postgresql://HOST/DBNAME "
                             "(default: $HTDESK_DB, else the per-user data folder)")
    parser.add_argument("--user", metavar="NAME", **default,
                        help="act as this user (password from $HTDESK_PASSWORD or asked)")
    parser.add_argument("--recovery-key", action="store_true", **default,
                        help="an administrator who lost their password: sign in with the database's recovery key "
                             "instead ($HTDESK_RECOVERY_KEY or asked), then set a new one with 'user passwd'")


def command(sub, name: str, handler, help: str) -> argparse.ArgumentParser:
    """A sub-command that also accepts --db and --user after its name."""
    p = sub.add_parser(name, help=help, description=help)
    add_global_options(p, after_command=True)
    p.set_defaults(handler=handler)
    return p


def database_path(args) -> Path | str:
    """The database file, or a server's address (postgresql://HOST/DBNAME): --db, else $HTDESK_DB, else
    the server saved with 'htdesk connect', else the file in the per-user data folder."""
    named = getattr(args, "db", None) or os.environ.get("HTDESK_DB")
    if named and named.strip().lower().startswith(("postgresql://", "postgres://")):
        return named.strip()
    if getattr(args, "db", None):
        return Path(args.db).expanduser()
    if not named:
        from db.public import saved_server
        saved = saved_server()
        if saved:
            return saved
    path = paths.default_database()
    if not os.environ.get("HTDESK_DB"):
        # The per-user data folder is ours to make; a folder the user names is not.
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def password_from_env_or_prompt(prompt: str = "Password: ") -> str:
    if os.environ.get("HTDESK_PASSWORD") is not None:
        return os.environ["HTDESK_PASSWORD"]
    if not sys.stdin or not sys.stdin.isatty():
        raise AuthenticationError("A password is needed: set HTDESK_PASSWORD, or run the command in a terminal to be asked.")
    import getpass   # only when a password is asked for on a terminal
    return getpass.getpass(prompt)


def recovery_key_from_env_or_prompt() -> str:
    if os.environ.get("HTDESK_RECOVERY_KEY"):
        return os.environ["HTDESK_RECOVERY_KEY"]
    if not sys.stdin or not sys.stdin.isatty():
        raise AuthenticationError("The recovery key is needed: set HTDESK_RECOVERY_KEY, or run the command in a "
                                  "terminal to be asked.")
    import getpass
    return getpass.getpass("Recovery key (from the recovery sheet): ")


def open_store(args, *, sign_in: bool = True, one_time_ok: bool = False) -> CaseStore:
    """Open the chosen database and sign in as --user (every command on a database with accounts acts as a user;
    an encrypted database opens only then). An account holding a one-time password, or signed in with the
    recovery key, may only choose its own password (one_time_ok). The password is kept on args for the command
    (a restore opens a backup encrypted with another key with it)."""
    from db.store import CaseStore   # here, not at the top: `htdesk --help` must not load the data layer
    from db.public import is_server_url, names_no_user, open_as_person
    where = database_path(args)
    if sign_in and is_server_url(where) and names_no_user(str(where)) and getattr(args, "user", None):
        # A secured server (README, "Several PCs"): sign-in is connecting as the person's own login.
        args.password = password_from_env_or_prompt(f"Password for {args.user}: ")
        store = open_as_person(CaseStore, str(where), args.user, args.password)
        if store.must_change_password and not one_time_ok:
            store.close()
            raise AuthenticationError(f"{args.user} signed in with a one-time password: choose your own first "
                                      f"with 'htdesk user passwd {args.user} --user {args.user}'.")
        return store
    store = CaseStore.open(where)
    if sign_in and store.has_accounts():
        if not getattr(args, "user", None):
            store.close()
            raise AuthenticationError("Say who you are with --user NAME (password from HTDESK_PASSWORD or asked).")
        try:
            if getattr(args, "recovery_key", False):
                args.recovery_key_text = recovery_key_from_env_or_prompt()
                store.sign_in_with_recovery_key(args.user, args.recovery_key_text)
                if not one_time_ok:
                    raise AuthenticationError(f"{args.user} signed in with the recovery key: choose a new password "
                                              f"first with 'htdesk user passwd {args.user} --user {args.user} "
                                              "--recovery-key'.")
                return store
            args.password = password_from_env_or_prompt(f"Password for {args.user}: ")
            store.sign_in(args.user, args.password)
            if store.must_change_password and not one_time_ok:
                raise AuthenticationError(f"{args.user} signed in with a one-time password: choose your own first "
                                          f"with 'htdesk user passwd {args.user} --user {args.user}'.")
        except Exception:
            store.close()
            raise
    return store
