"""The fast workbook reader (python-calamine, issue 15) gives exactly what the row parser gives, and
is used only for plain sheets: a sheet with a formula or an error cell still goes through the row
parser, which names the cell."""
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest

from db.transfer import xlsx_reader
from db.transfer.xlsx_reader import CellProblem, Workbook
from reports.transfer_workbook import write_export, write_template


def _read(path, fast: bool):
    out = {}
    with Workbook(path) as wb:
        for name in wb.sheet_names:
            if not wb.is_worksheet(name):
                continue
            scan = wb.scan(name)
            if not fast:
                wb._plain[name] = False
            out[name] = list(wb.rows(name, scan.last_row))
            out[name + " fast"] = wb._fast is not None
    return out


def _typed_book(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Clients"
    ws.append(["client_ref", "nhs_number", "first_name", "date_of_birth", "gender", "employment", "start", "minutes",
               "flag", "weight"])
    ws.append(["HT-000001", 9434765919, "Zoë 😀 O'Neill", date(1980, 5, 17), 2, "01", time(9, 30),
               timedelta(minutes=45), True, 82.4])
    ws.append(["HT-000002", "943 476 5919", "=not a formula", datetime(1975, 6, 1, 0, 0), "Female", 1, "10:00", 30,
               False, 1e-3])
    ws["C3"].data_type = "s"
    ws["H2"].number_format = "[h]:mm"
    ws.cell(7, 3, "after a gap")
    ws.cell(7, 12, "far right")
    wb.save(path)
    return path


def test_the_fast_reader_gives_what_the_row_parser_gives(tmp_path):
    path = _typed_book(tmp_path / "typed.xlsx")
    fast, slow = _read(path, True), _read(path, False)
    assert fast["Clients fast"] is True and slow["Clients fast"] is False
    assert fast["Clients"] == slow["Clients"]
    rows = dict(fast["Clients"])
    assert rows[2][2] == 9434765919 and isinstance(rows[2][2], int)          # NHS number keeps its ten digits
    assert rows[2][4] == datetime(1980, 5, 17) and rows[2][6] == "01" and rows[3][3] == "=not a formula"
    assert rows[7] == {3: "after a gap", 12: "far right"}


def test_an_export_and_the_template_read_the_same_both_ways(tmp_path):
    template = tmp_path / "template.xlsx"
    write_template(template)
    export = tmp_path / "export.xlsx"
    write_export(export, {"Staff": [("=cmd", "Zoë 😀", "TRAINER", "#N/A", None, date(2024, 4, 1), None)],
                          "Sessions": [("RF-000001", date(2026, 1, 2), "09:30", 45, "jdoe", None, "F2F", None, "5",
                                        None)]})
    for path in (template, export):
        fast, slow = _read(path, True), _read(path, False)
        assert {k: v for k, v in fast.items() if not k.endswith(" fast")} == \
               {k: v for k, v in slow.items() if not k.endswith(" fast")}
    assert dict(_read(export, True)["Staff"])[2][4] == "#N/A"       # text that looks like an error stays text


def test_a_sheet_with_a_formula_or_an_error_cell_is_read_by_the_row_parser(tmp_path):
    path = tmp_path / "formula.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Clients"
    ws.append(["client_ref", "total"])
    ws.append(["HT-000001", "=1+1"])                      # a script's formula: never calculated
    wb.create_sheet("Plain").append(["a", 1])
    wb.save(path)
    with Workbook(path) as book:
        assert book.scan("Clients").plain is False and book.scan("Plain").plain is True
        rows = dict(book.rows("Clients", 2))
        assert isinstance(rows[2][2], CellProblem) and rows[2][2].formula_without_value
        assert book._fast is None                         # the row parser read it
        assert list(book.rows("Plain", 1)) == [(1, {1: "a", 2: 1})] and book._fast is not None


def test_without_calamine_the_row_parser_reads_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_reader, "python_calamine", None)
    path = _typed_book(tmp_path / "typed.xlsx")
    assert _read(path, True)["Clients fast"] is False
