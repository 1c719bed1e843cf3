"""The one SQLite driver of the app's databases: SQLCipher's (sqlcipher3), which without a key is
plain SQLite, so one driver opens encrypted files, plain files being converted and backups alike.

Every error class the data layer catches is named here. Each is a pair (SQLCipher's class, the
standard library's): an `except driver.IntegrityError` or `isinstance(exc, driver.Error)` then
holds whichever connection raised it (the postcode reference cache is a separate plain file read
with the standard library's sqlite3; sqlite-utils raises the standard library's classes itself)."""
from __future__ import annotations

import sqlite3 as _stdlib

from sqlcipher3 import dbapi2 as dbapi

Connection = dbapi.Connection
connect = dbapi.connect
sqlite_version = dbapi.sqlite_version

Error = (dbapi.Error, _stdlib.Error)
DatabaseError = (dbapi.DatabaseError, _stdlib.DatabaseError)
OperationalError = (dbapi.OperationalError, _stdlib.OperationalError)
IntegrityError = (dbapi.IntegrityError, _stdlib.IntegrityError)
