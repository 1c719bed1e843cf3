"""CaseStore's part for the quarterly return (RETURN.md): figures, runs, explain, submit.

A mixin so this subject's methods sit in their own file; CaseStore (db/store.py)
is still the one door.
"""
from __future__ import annotations


class ReturnsDoor:
    pass
