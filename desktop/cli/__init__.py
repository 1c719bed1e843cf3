"""The htdesk command (CLI.md): one program; sub-commands work without a window.

Each group of sub-commands lives in its own module with `register(subparsers)`.
Qt is imported only when the desktop app is opened, so scripted use needs no display.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from db import paths
from db.errors import (AuthenticationError, BadPath, ConflictError, DatabaseUnusable, HTDeskError, NotFound,
                       PermissionDenied, ValidationError)

from . import common

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_PERMISSION, EXIT_DATABASE = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htdesk", description="Health Trainer Desk. Without a command, opens the desktop app.")
    common.add_global_options(parser)
    from db.public import app_version
    parser.add_argument("--version", action="version", version=f"htdesk {app_version()}",
                        help="print the version and exit (no database is touched)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def _command_modules():
    import importlib
    names = ["setup_commands", "return_commands", "transfer_commands", "document_commands", "diary_commands",
             "report_commands", "privacy_commands"]
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return found


def _setup_logging() -> None:
    # A log file that cannot be written (a full disk) must not print logging's own tracebacks,
    # nor may an error in a finaliser ("Exception ignored in ..."): the log file gets them.
    logging.raiseExceptions = False
    sys.unraisablehook = lambda unraisable: logging.getLogger("htdesk").warning(
        "ignored in %r: %s", unraisable.object, unraisable.exc_value)
    log = paths.log_file()
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log, encoding="utf-8")
        paths.owner_only(log.parent, folder=True)
        paths.owner_only(log)
    except OSError:
        handler = logging.StreamHandler(open("/dev/null", "w") if sys.platform != "win32" else sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)


def _app_only(argv: list[str] | None) -> argparse.Namespace | None:
    """The options when nothing but global options is given (the desktop app opens), else None.
    Spares the app's start-up building every sub-command's parser."""
    parser = argparse.ArgumentParser(prog="htdesk", add_help=False, exit_on_error=False)
    common.add_global_options(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.command = None
    return args


def _database_errors() -> tuple:
    """The database driver's error classes, loaded only when an error reaches main's handler (an
    except clause is evaluated only then), so `htdesk --help` loads no database driver."""
    from db.public import DRIVER_ERRORS
    return DRIVER_ERRORS


def main(argv: list[str] | None = None) -> int:
    # Everything the app writes (database, -wal/-shm, key file, backups, logs, reports, caches, exports)
    # is readable by its owner only; folders it makes too. Explicit modes where files are made as well.
    if hasattr(os, "umask"):
        os.umask(0o077)
    from desktop.app import enable_crash_log
    enable_crash_log()   # a hard crash leaves its traceback in the log file
    _setup_logging()
    args = _app_only(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    try:
        if not args.command:
            from desktop.app import run_app
            return run_app(args)
        return args.handler(args) or EXIT_OK
    except (ValidationError,) as exc:
        common.err("Nothing was changed. Please correct:")
        for e in exc.errors:
            common.err(f"  - {e.message}")
        return EXIT_BAD_INPUT
    except (BadPath, NotFound, ConflictError) as exc:
        common.err(str(exc))
        return EXIT_BAD_INPUT
    except (PermissionDenied, AuthenticationError) as exc:
        common.err(str(exc))
        return EXIT_PERMISSION
    except DatabaseUnusable as exc:
        common.err(str(exc))
        return EXIT_DATABASE
    except _database_errors() as exc:
        # The store translates its own; this catches any that escaped it (never a raw message).
        from db.public import plain_error as translate
        plain = translate(exc, getattr(args, "db", None))
        if isinstance(plain, DatabaseUnusable):
            logging.warning("database error: %s", exc)
            common.err(str(plain))
            return EXIT_DATABASE
        return _unexpected(exc)
    except BrokenPipeError:
        # Output piped into a program that stopped reading (e.g. `| head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        # A file the command was writing: the disk is full, the folder read-only, the file in use.
        from db.public import plain_disk_error as translate_os_error
        plain = translate_os_error(exc, f"the file {exc.filename}" if exc.filename else "the file", output=True)
        if plain is None:
            return _unexpected(exc)
        logging.warning("disk error: %s", exc)
        common.err(str(plain))
        return EXIT_BAD_INPUT
    except HTDeskError as exc:
        common.err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        common.err("Stopped.")
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    logging.exception("unexpected error")
    common.err(f"Something went wrong: {exc.__class__.__name__}: {exc}. Nothing more was changed. "
               f"Details were written to {paths.log_file()}; please send that file to your support contact.")
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
