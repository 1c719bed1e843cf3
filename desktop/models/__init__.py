"""Qt models: fed rows by the screens, never querying themselves."""
from .table import ROW_ROLE, SORT_ROLE, Column, RowFilterProxy, RowTableModel

__all__ = ["Column", "RowTableModel", "RowFilterProxy", "ROW_ROLE", "SORT_ROLE"]
