"""Errors the store raises. Each carries a plain-English message for people."""
from __future__ import annotations

from typing import NamedTuple


class HTDeskError(Exception):
    """Base class: the message is safe to show to a user as it is."""


class FieldError(NamedTuple):
    """One bad field. A named tuple, not a dataclass: this module loads before the sign-in window."""
    field: str          # the field's key, e.g. "nhs_number"
    message: str        # plain English, naming the field, saying what to do

    def __str__(self) -> str:
        return self.message


class ValidationError(HTDeskError):
    """One or more fields are wrong; nothing was changed."""

    def __init__(self, errors: list[FieldError] | FieldError):
        if isinstance(errors, FieldError):
            errors = [errors]
        self.errors = list(errors)
        super().__init__("; ".join(e.message for e in self.errors))

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


class PermissionDenied(HTDeskError):
    """The acting user's roles do not allow this."""


class ConflictError(HTDeskError):
    """Someone else changed the record since it was read."""

    def __init__(self, message: str, current: object = None):
        super().__init__(message)
        self.current = current


class NotFound(HTDeskError):
    pass


class AuthenticationError(HTDeskError):
    """Wrong user name or password, or a locked account."""


class DatabaseUnusable(HTDeskError):
    """The file is not a database of this app, is damaged, or is locked."""


class DatabaseBusy(DatabaseUnusable):
    """Another program held the database longer than the busy timeout: nothing was changed."""
    retryable = True


class StorageFull(DatabaseUnusable):
    """The disk holding the database is full: nothing was changed."""
    retryable = True


class StorageReadOnly(DatabaseUnusable):
    """The database file or its folder cannot be written (read-only, or no permission)."""


class StorageFault(DatabaseUnusable):
    """The disk reported an input/output error while reading or writing the database."""
    retryable = True


class StoreFault(Exception):
    """An SQLite error that is a fault of the program, not of the disk or the file (a bug):
    shown as 'something went wrong' with the log file. Never a raw sqlite3 error."""


class BadPath(HTDeskError):
    """A file or folder given by the user cannot be used."""


class OutputUnwritable(BadPath):
    """A file the user asked for (backup, return, export...) could not be written: the disk is
    full, the folder read-only, or the file open in another program. Nothing was kept."""
    retryable = True


class Cancelled(HTDeskError):
    """The person pressed Cancel: the work stopped and nothing was changed."""


class Clash(ValidationError):
    """A booking meets another one (the trainer or the client already booked) or a closed venue;
    `suggestion` is the next free slot as (ISO date, "HH:MM"), or None when none was found."""

    def __init__(self, errors, suggestion: tuple[str, str] | None = None):
        super().__init__(errors)
        self.suggestion = suggestion


class NeedsConfirmation(ValidationError):
    """The input is allowed but unusual (a booking in the past): ask, then call again confirmed."""
