"""A long list goes into a table model a chunk at a time across turns of the event loop, so
the window keeps answering; the view ends with every row, in order, filtered and sortable."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt

from desktop.models import RowFilterProxy, RowTableModel
from desktop.models.table import CHUNK, FIRST_CHUNK, Column
from desktop.widgets.common import table_view


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    urgent: bool


COLUMNS = (Column("id", "Id"), Column("name", "Name"))
MANY = FIRST_CHUNK + 3 * CHUNK + 7


def _items(n):
    return [Item(i, f"person {i:05d}", i % 10 == 0) for i in range(n)]


def test_a_long_list_is_shown_a_chunk_per_turn_and_ends_complete(qtbot):
    model = RowTableModel(COLUMNS)
    view = table_view("People", model)
    qtbot.addWidget(view)
    view.show()
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append(last - first + 1))
    items = _items(MANY)
    with qtbot.waitSignal(model.fed, timeout=5000):
        model.set_rows(items)
        # On screen at once: the first chunk, and the rest is still to come.
        assert model.rowCount() == FIRST_CHUNK and model.feeding()
        assert len(model.all_rows()) == MANY
    assert not model.feeding()
    assert inserted == [CHUNK, CHUNK, CHUNK, 7]    # one chunk per turn, never all at once
    assert model.rows == items
    assert [model.index(r, 1).data() for r in (0, MANY - 1)] == ["person 00000", f"person {MANY - 1:05d}"]


def test_a_short_list_is_shown_at_once(qtbot):
    model = RowTableModel(COLUMNS)
    with qtbot.waitSignal(model.fed, timeout=1000):
        model.set_rows(_items(FIRST_CHUNK))
    assert model.rowCount() == FIRST_CHUNK and not model.feeding()


def test_new_rows_replace_a_list_still_being_fed(qtbot):
    model = RowTableModel(COLUMNS)
    model.set_rows(_items(MANY))
    replacement = _items(3)
    model.set_rows(replacement)
    qtbot.wait(50)    # turns of the event loop in which the old list's chunks would have arrived
    assert model.rows == replacement and not model.feeding()


def test_sorting_while_feeding_sorts_every_row(qtbot):
    model = RowTableModel(COLUMNS)
    model.set_rows(_items(MANY))
    model.sort(0, Qt.DescendingOrder)
    assert not model.feeding() and model.rowCount() == MANY
    assert model.index(0, 0).data() == str(MANY - 1)
    model.set_rows(_items(MANY))      # a new list keeps the chosen order, from the first chunk on
    assert model.index(0, 0).data() == str(MANY - 1)


def test_filters_apply_to_rows_fed_later_and_count_them_all(qtbot):
    model = RowTableModel(COLUMNS)
    proxy = RowFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_filters({"urgent": lambda r: r.urgent, "even": lambda r: r.id % 2 == 0})
    with qtbot.waitSignal(model.fed, timeout=5000):
        model.set_rows(_items(MANY))
        assert len(proxy.shown_rows()) == len([i for i in range(MANY) if i % 10 == 0])
    assert proxy.rowCount(QModelIndex()) == len(proxy.shown_rows())
    assert all(proxy.row_at(r).urgent for r in range(proxy.rowCount()))
    proxy.set_filters({"urgent": None, "even": None})
    assert proxy.rowCount() == MANY
