"""Table models fed rows (records); they never query. Columns are declared once as data.

A long list goes in a chunk at a time across turns of the event loop (beginInsertRows), so
showing 2,000 referrals never blocks the window: the first screenful is there at once and
the rest follows within a few frames."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont

SORT_ROLE = Qt.UserRole + 1
ROW_ROLE = Qt.UserRole + 2
FIRST_CHUNK = 100   # rows put in at once: more than a screenful
CHUNK = 1000        # rows added per turn of the event loop after that (~2 ms each)


def _attr(key: str) -> Callable[[Any], Any]:
    return lambda row: getattr(row, key, None)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    formatter: Callable[[Any], str] | None = None   # row -> text shown
    sort_key: Callable[[Any], Any] | None = None    # row -> value sorted on (default: the raw value)
    align_right: bool = False
    tooltip: str = ""

    def text(self, row: Any) -> str:
        if self.formatter is not None:
            return self.formatter(row)
        value = getattr(row, self.key, None)
        return "" if value is None else str(value)

    def sort_value(self, row: Any) -> Any:
        if self.sort_key is not None:
            return self.sort_key(row)
        value = getattr(row, self.key, None)
        return "" if value is None else value


class RowTableModel(QAbstractTableModel):
    """Rows in, cells out. `highlight(row) -> str | None` marks rows that need attention:
    the row is shaded and bold and the text said in the first column's tooltip and
    accessible text, so colour is never the only signal.

    `rows` holds the rows in the model so far; `all_rows()` every row given, including
    those still to be added; `fed` is emitted once they are all in."""

    fed = Signal()

    def __init__(self, columns: Sequence[Column], parent=None,
                 highlight: Callable[[Any], str | None] | None = None):
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []
        self._pending: list[Any] = []
        self.highlight = highlight
        self.sorted_by: tuple[int, Qt.SortOrder] | None = None
        self._feeder = QTimer(self)
        self._feeder.setSingleShot(True)
        self._feeder.setInterval(0)
        self._feeder.timeout.connect(self._feed)

    def set_rows(self, rows: Sequence[Any]) -> None:
        rows = list(rows)
        if self.sorted_by is not None:
            rows = self._sorted(rows, *self.sorted_by)
        self._feeder.stop()
        self.beginResetModel()
        self.rows, self._pending = rows[:FIRST_CHUNK], rows[FIRST_CHUNK:]
        self.endResetModel()
        if self._pending:
            self._feeder.start()
        else:
            self.fed.emit()

    def feeding(self) -> bool:
        """True while rows given to set_rows are still being added."""
        return bool(self._pending)

    def all_rows(self) -> list[Any]:
        return self.rows + self._pending

    def _feed(self, size: int = CHUNK) -> None:
        if not self._pending:
            return
        chunk, self._pending = self._pending[:size], self._pending[size:]
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(chunk) - 1)
        self.rows.extend(chunk)
        self.endInsertRows()
        if self._pending:
            self._feeder.start()
        else:
            self.fed.emit()

    def finish_feeding(self) -> None:
        """Every pending row in now (before sorting, or when a caller needs them all)."""
        self._feeder.stop()
        self._feed(len(self._pending))

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Sort in Python with one key per row: far cheaper than a proxy comparing cell by cell."""
        if not 0 <= column < len(self.columns):
            return
        self.finish_feeding()
        self.sorted_by = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_rows = self.rows
        self._sort_rows(column, order)
        position = {id(r): i for i, r in enumerate(self.rows)}
        old = self.persistentIndexList()
        self.changePersistentIndexList(old, [self.index(position[id(old_rows[i.row()])], i.column()) for i in old])
        self.layoutChanged.emit()

    def _sort_rows(self, column: int, order: Qt.SortOrder) -> None:
        self.rows = self._sorted(self.rows, column, order)

    def _sorted(self, rows: list[Any], column: int, order: Qt.SortOrder) -> list[Any]:
        key = self.columns[column].sort_value
        return sorted(rows, key=lambda r: _orderable(key(r)), reverse=order == Qt.DescendingOrder)

    def row_at(self, row: int) -> Any:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and 0 <= section < len(self.columns):
            col = self.columns[section]
            if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
                return col.header
            if role == Qt.ToolTipRole and col.tooltip:
                return col.tooltip
        return None

    _ROLES = frozenset({Qt.DisplayRole, Qt.AccessibleTextRole, SORT_ROLE, ROW_ROLE, Qt.TextAlignmentRole,
                        Qt.BackgroundRole, Qt.FontRole, Qt.ToolTipRole})

    def data(self, index, role=Qt.DisplayRole):
        if role not in self._ROLES:   # views ask for many roles per cell: answer the rest at once
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            text = col.text(row)
            if role == Qt.AccessibleTextRole and index.column() == 0 and self.highlight:
                note = self.highlight(row)
                if note:
                    text = f"{text}. {note}"
            return text
        if role == SORT_ROLE:
            return col.sort_value(row)
        if role == ROW_ROLE:
            return row
        if role == Qt.TextAlignmentRole:
            return int((Qt.AlignRight if col.align_right else Qt.AlignLeft) | Qt.AlignVCenter)
        if self.highlight is not None and role in (Qt.BackgroundRole, Qt.FontRole, Qt.ToolTipRole):
            note = self.highlight(row)
            if note:
                if role == Qt.BackgroundRole:
                    return QBrush(QColor(255, 236, 179))   # amber: paired with bold text and a note
                if role == Qt.FontRole:
                    font = QFont()
                    font.setBold(True)
                    return font
                return note
        return None


def _orderable(value):
    # None sorts first and never meets a str or int in a comparison.
    return (0, "") if value is None else (1, value)


class RowFilterProxy(QSortFilterProxyModel):
    """Keeps rows passing every filter set on it; sorting is passed to the rows' model
    (one key per row), so this proxy keeps its source's order."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._filters: dict[str, Callable[[Any], bool]] = {}

    def set_filter(self, name: str, predicate: Callable[[Any], bool] | None) -> None:
        self.set_filters({name: predicate})

    def set_filters(self, predicates: dict[str, Callable[[Any], bool] | None]) -> None:
        """Several filters changed at once: the rows are filtered again once, not once each."""
        self.beginFilterChange()   # Qt 6.9+: replaces the deprecated invalidateFilter()
        for name, predicate in predicates.items():
            if predicate is None:
                self._filters.pop(name, None)
            else:
                self._filters[name] = predicate
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent) -> bool:
        return self.accepts(self.sourceModel().row_at(source_row))

    def accepts(self, row) -> bool:
        return all(pred(row) for pred in self._filters.values())

    def shown_rows(self) -> list:
        """The rows passing the filters (those still being fed in too), without Qt's indexes."""
        return [r for r in self.sourceModel().all_rows() if self.accepts(r)]

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def row_at(self, proxy_row: int) -> Any:
        index = self.index(proxy_row, 0)
        return index.data(ROW_ROLE) if index.isValid() else None
