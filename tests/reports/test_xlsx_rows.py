"""The export's fast row writer (reports/xlsx_rows.py): the rows it writes into openpyxl's frame read
back the same with openpyxl, python-calamine and the import's own reader, typed as written."""
from datetime import date, datetime

import openpyxl
import pytest

from db.transfer.xlsx_reader import Workbook
from reports import xlsx_rows
from reports.transfer_workbook import write_export, write_template

AWKWARD = ["a & b < c > d", "  spaces kept  ", "line one\r\nline two\nthree", "tab\tin", "=SUM(A1:A2)", "#N/A",
           "Zoë 😀 Ó Briain", "]]> not a section end", "'quoted' \"double\"", "x" * 5000]


def test_awkward_text_numbers_and_dates_read_back_as_written(tmp_path):
    path = tmp_path / "export.xlsx"
    notes = [(f"RF-{n:06d}", date(2026, 1, 1 + n), "09:30", 45 + n, "jdoe", None, "F2F", None, "5", text)
             for n, text in enumerate(AWKWARD)]
    staff = [("jdoe", "Jo Doe", "TRAINER", None, None, date(2024, 4, 1), None)]
    write_export(path, {"Staff": staff, "Sessions": notes})
    wb = openpyxl.load_workbook(path)
    got = [[c.value for c in row] for row in wb["Sessions"].iter_rows(min_row=2, max_col=10)]
    assert [r[9] for r in got] == AWKWARD
    assert all(wb["Sessions"].cell(2 + n, 10).data_type == "s" for n in range(len(AWKWARD)))
    assert [r[3] for r in got] == [45 + n for n in range(len(AWKWARD))]
    assert got[0][1] == datetime(2026, 1, 1) and wb["Sessions"]["B2"].number_format == "yyyy-mm-dd"
    assert wb["Staff"]["F2"].value == datetime(2024, 4, 1) and wb["Staff"]["F2"].number_format == "yyyy-mm-dd"
    assert wb["Sessions"].max_row == 1 + len(AWKWARD)
    # The import's reader (calamine for a plain sheet) reads the same text, number and date.
    with Workbook(path) as book:
        scan = book.scan("Sessions")
        assert scan.plain and scan.last_row == 1 + len(AWKWARD)
        rows = dict(book.rows("Sessions", scan.last_row))
    assert [rows[2 + n][10] for n in range(len(AWKWARD))] == AWKWARD
    assert rows[2][2] == datetime(2026, 1, 1) and rows[3][4] == 46


def test_the_template_keeps_its_examples_and_dates_format_and_records_follow_them(tmp_path):
    path = tmp_path / "template.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    assert wb["Clients"]["A2"].value == "EXAMPLE" and wb["Clients"].max_row == 2
    dob = next(c for c in wb["Clients"][2] if isinstance(c.value, datetime))
    assert dob.number_format == "yyyy-mm-dd"


def test_numbers_booleans_and_a_wide_sheet_with_gaps(tmp_path):
    path = tmp_path / "export.xlsx"
    width = len(next(s for s in __import__("db.transfer.workbook_spec", fromlist=["x"]).sheets()
                     if s.name == "Assessments").columns)
    row = ["RF-000001", date(2025, 3, 4), "BASELINE"] + [None] * (width - 3)
    row[5], row[-1] = 72.5, 7
    write_export(path, {"Assessments": [tuple(row)]})
    ws = openpyxl.load_workbook(path)["Assessments"]
    values = [c.value for c in ws[2]]
    assert values[5] == 72.5 and values[width - 1] == 7 and values[6] is None and ws.max_column == width


def test_text_an_xlsx_cannot_hold_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "export.xlsx"
    with pytest.raises(xlsx_rows.IllegalText):
        write_export(path, {"Staff": [("jdoe", "Jo\x07Doe", "TRAINER", None, None, None, None)]})
    assert not path.exists()
    with pytest.raises(TypeError):
        write_export(path, {"Staff": [("jdoe", object(), "TRAINER", None, None, None, None)]})
    assert not path.exists()


def test_a_sheet_longer_than_a_spreadsheet_opens_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_rows, "MAX_ROW", 50)            # Excel's 1,048,576, made small for the test
    path = tmp_path / "export.xlsx"
    staff = [(f"user{n}", "Jo Doe", "TRAINER", None, None, None, None) for n in range(49)]
    write_export(path, {"Staff": staff})                      # the header and 49 rows: row 50, the last
    assert openpyxl.load_workbook(path)["Staff"].max_row == 50
    path.unlink()
    with pytest.raises(xlsx_rows.TooManyRows, match="Staff"):
        write_export(path, {"Staff": staff + [("one-more", "Jo Doe", "TRAINER", None, None, None, None)]})
    assert not path.exists()
