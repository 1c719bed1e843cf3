"""CaseStore's part for documents: plan PDFs and letters kept as printed.

A mixin so this subject's methods sit in their own file; CaseStore (db/store.py)
is still the one door.
"""
from __future__ import annotations


class DocumentsDoor:
    pass
