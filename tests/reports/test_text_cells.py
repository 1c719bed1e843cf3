"""Every text cell the app writes into a workbook is text, never a formula, whatever it begins
with (issue 16): the return, the export and the template; formulas only the return's own totals."""
import re
import zipfile

import openpyxl
import pytest

from db.store import CaseStore
from reports import quarterly_return, transfer_workbook

HOSTILE = ['=HYPERLINK("http://example.invalid","click me")', "+44 Ann", "-Bo+3", "@SUM(1+Cy)"]
OWN_TOTAL = re.compile(r"^=SUM\([A-Z]{1,3}\d+:[A-Z]{1,3}\d+\)$")


def formula_cells(path) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) for every cell stored as a formula, read from the XML itself."""
    found = []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append((ws.title, cell.coordinate, str(cell.value)))
    with zipfile.ZipFile(path) as z:
        xml_formulas = sum(z.read(n).count(b"<f>") + z.read(n).count(b"<f ") for n in z.namelist()
                           if n.startswith("xl/worksheets/"))
    assert xml_formulas == len(found)
    return found


def texts(path) -> set[str]:
    wb = openpyxl.load_workbook(path)
    return {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


@pytest.fixture
def hostile_store(case_store):
    store = case_store
    service = store.service.get()
    store.service.update({"name": HOSTILE[0]}, expected_version=service.row_version)
    manager_id = store.service.add_staff(HOSTILE[3], "MANAGER", username="boss", password="strong-fennel-19")
    assert manager_id
    for i, name in enumerate(HOSTILE):
        store.clients.add({"first_name": name, "last_name": HOSTILE[-1 - i], "date_of_birth": "1980-01-01",
                           "gender": "2", "ethnicity": "A", "town": name})
    path = store.path
    store.close()
    boss = CaseStore.open(path)
    boss.sign_in("boss", "strong-fennel-19")
    yield boss
    boss.close()


def test_the_return_holds_names_beginning_with_formula_signs_as_text(hostile_store, tmp_path):
    out = tmp_path / "return.xlsx"
    quarterly_return.build_return(hostile_store, "2026-27-Q1", out)
    formulas = formula_cells(out)
    assert all(OWN_TOTAL.match(f) for _, _, f in formulas), formulas
    written = texts(out)
    assert any(HOSTILE[0] in t for t in written)         # the service name, exactly as typed
    assert any(HOSTILE[3] in t for t in written)         # the manager's name


def test_the_export_and_the_template_hold_no_formula_at_all(hostile_store, tmp_path):
    out = tmp_path / "export.xlsx"
    admin = CaseStore.open(hostile_store.path)
    admin.sign_in("admin", "amber-kettle-42")
    admin.transfer.export_workbook(out, write_workbook=transfer_workbook.write_export)
    admin.close()
    assert formula_cells(out) == []
    assert set(HOSTILE) <= texts(out)
    template = tmp_path / "template.xlsx"
    transfer_workbook.write_template(template)
    assert formula_cells(template) == []
