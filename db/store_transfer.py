"""CaseStore's part for the import workbook, template and full export (IMPORT.md).

A mixin so this subject's methods sit in their own file; CaseStore (db/store.py)
is still the one door.
"""
from __future__ import annotations


class TransferDoor:
    pass
