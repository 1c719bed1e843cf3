"""The quarterly return workbook, re-opened with openpyxl (and recalculated by
LibreOffice when it is installed) to check every sheet against the figures."""
from __future__ import annotations

import csv
import shutil
from db.connection import copy_database
import subprocess
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from db.store import CaseStore
from reports.quarterly_return import build_return, workbook_bytes
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, Scenario, stub_deprivation

SHEETS = ["Cover", "Activity", "Reach", "Plans and goals", "Outcomes", "Signposting", "Data quality",
          "Definitions", "Data"]
PEOPLE_SHEETS = SHEETS[1:7]
STAMP = datetime(2026, 10, 5, 14, 30, 0)
# The Definitions sheet, written out here (each checked against RETURN.md's table) rather than imported
# from the code, so a wrong title or definition in the code fails the test: measure -> (title, definition).
DEFINITIONS = {
    "REFERRALS_RECEIVED": ("Referrals received",
        "Referrals the service received in the period, by where they came from."),
    "STARTS": ("People starting support",
        "People starting support: referrals whose first attended session (attendance 5 or 6) was in the "
        "period."),
    "ACTIVE_REFERRALS": ("Referrals with an attended session",
        "Referrals with at least one attended session in the period."),
    "SESSIONS_ATTENDED": ("Sessions attended",
        "Sessions in the period that the client attended (attended, or arrived late and was seen), by "
        "mode."),
    "SESSIONS_DNA": ("Sessions not attended (DNA)",
        "Sessions in the period the client did not attend without warning (attendance 3)."),
    "DNA_RATE": ("Did-not-attend rate",
        "Did-not-attend sessions as a percentage of sessions in the period that were attended, arrived "
        "late, or not attended (attendance 5, 6, 7 and 3)."),
    "WAIT_DAYS_MEDIAN": ("Median wait to first session",
        "Median number of calendar days from the referral being received to the first attended session, "
        "over the people starting support (same day is 0). Denominator: number of starts."),
    "WAIT_WITHIN_28_DAYS": ("Started within 28 days",
        "Percentage of people starting support who waited 28 days or fewer."),
    "CLOSED": ("Referrals closed",
        "Referrals closed in the period, by closure reason."),
    "STARTS_BY": ("Starts by client details",
        "People starting support by their current details: gender, age on the start date, ethnic group, "
        "deprivation quintile of their postcode (1 = most deprived), GP registration, employment, "
        "disability. Each breakdown adds up to STARTS."),
    "STARTS_IMD_Q1_Q2": ("Starts in the most deprived two fifths",
        "Percentage of people starting support, among those whose deprivation quintile is known, who live"
        " in the most deprived two fifths of England (quintiles 1 and 2)."),
    "STARTS_COMMUNITY_SOURCE": ("Starts referred by community or self",
        "Percentage of people starting support who were referred by community sources or themselves "
        "rather than the NHS."),
    "PLANS_AGREED": ("Personal health plans agreed",
        "Personal health plans agreed in the period."),
    "GOALS_SET": ("Goals set",
        "Goals on the plans agreed in the period, by area."),
    "GOALS_CLOSED": ("Goals closed",
        "Goals marked fully, partly or not achieved with a status date in the period."),
    "GOALS_ACHIEVED": ("Goals fully or partly achieved",
        "Percentage of the goals closed in the period that were fully or partly achieved."),
    "OUTCOME_PAIRS": ("Before-and-after pairs",
        "Referrals closed in the period with a before-and-after pair for the instrument: the first "
        "baseline result and the last exit result (or the last review result when there is no exit)."),
    "OUTCOME_STOOD_IN": ("Pairs using a review result",
        "Of those pairs, how many used a review result because there was no exit result."),
    "OUTCOME_MEAN_BASELINE": ("Mean at baseline",
        "Mean baseline value of the score, over the pairs where the score exists both before and after."),
    "OUTCOME_MEAN_EXIT": ("Mean at exit",
        "Mean exit (or stood-in review) value of the score, over the same pairs."),
    "OUTCOME_MEAN_CHANGE": ("Mean change",
        "Mean of each pair's change (exit minus baseline), over the same pairs. A fall is negative."),
    "OUTCOME_IMPROVED": ("Improved",
        "Percentage of pairs whose score moved in the better direction (down for weight, BMI, waist, "
        "anxiety and AUDIT-C; up for the others)."),
    "OUTCOME_MEANINGFUL": ("Meaningful improvement",
        "Percentage of pairs with a meaningful improvement: wellbeing (SWEMWBS metric or WEMWBS) up by 3 "
        "or more, or weight down by 5% of the baseline weight or more."),
    "SMOKERS_QUIT": ("Smokers who quit",
        "Of the smoking pairs with a current smoker at baseline, the percentage who were ex-smokers at "
        "exit (self-reported)."),
    "AUDITC_POSITIVE_TO_NEGATIVE": ("AUDIT-C positive to negative",
        "Of the AUDIT-C pairs scoring 5 or more at baseline (increasing or higher risk), the percentage "
        "scoring under 5 at exit."),
    "SIGNPOSTED": ("Signposting and onward referrals",
        "Signposting and onward referrals dated in the period, by kind of service and by whether the "
        "client was given details or referred."),
    "DQ_NHS_NUMBER": ("Valid NHS number",
        "Data quality: percentage of people starting support whose record has a valid NHS number."),
    "DQ_POSTCODE_MATCHED": ("Postcode matched",
        "Data quality: percentage of people starting support whose postcode was found in the postcode "
        "lookup (current or terminated), so their deprivation is known."),
    "DQ_ETHNICITY_RECORDED": ("Ethnicity recorded",
        "Data quality: percentage of people starting support whose ethnicity was asked (anything but 'not"
        " known'; choosing not to say counts as asked)."),
    "DQ_PAIRED_WELLBEING": ("Closed with a wellbeing pair",
        "Data quality: percentage of referrals closed in the period with a SWEMWBS before-and-after pair."),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbook")
    Scenario(folder / "service.sqlite3").store.close()
    return folder / "service.sqlite3"


@pytest.fixture
def store(built, tmp_path):
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    s = CaseStore.open(path)
    s.sign_in(ADMIN, ADMIN_PASSWORD)
    stub_deprivation(s)
    yield s
    s.close()


@pytest.fixture
def workbook(store, tmp_path):
    run = build_return(store, PERIOD, tmp_path / "return.xlsx", generated_at=STAMP)
    return run, load_workbook(tmp_path / "return.xlsx")


def _number(v):
    return Decimal(str(v)) if isinstance(v, float) else v


def test_sheets_in_order(workbook):
    _, wb = workbook
    assert wb.sheetnames == SHEETS


def test_cover(workbook):
    run, wb = workbook
    ws = wb["Cover"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert values["Service"] == "Test & Co Health Trainers" and values["Service code"] == "TEST"
    assert values["Period"] == "2026-27 Q2"
    assert values["Period starts"].date() == date(2026, 7, 1) and values["Period ends"].date() == date(2026, 9, 30)
    assert values["Generated at"] == STAMP and values["Generated by"] == "Bea Boss (boss)"
    assert values["Specification version"] == "1" and values["Disclosure policy"] == "none"
    for label in ("Name", "Role", "Date"):
        assert label in values and values[label] is None           # sign-off cells, left to fill in
    date_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Date")
    validations = ws.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].type == "date"
    assert f"B{date_row}" in str(validations[0].sqref)
    assert wb.properties.created == wb.properties.modified
    assert wb.properties.creator == "Health Trainer Desk"


def test_people_sheets_are_set_up_for_print_and_screen(workbook):
    _, wb = workbook
    for name in PEOPLE_SHEETS:
        ws = wb[name]
        assert ws["A1"].value == name
        assert ws.freeze_panes, name
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9", name   # 9 = A4
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert "Test && Co Health Trainers (TEST)" in ws.oddHeader.center.text and "2026-27 Q2" in ws.oddHeader.center.text


def _totals(ws):
    """(row, column, formula) of every total cell of the sheet."""
    for row in ws.iter_rows():
        if row[0].value == "Total":
            for cell in row[2:]:
                if cell.value is not None:
                    yield cell


def test_totals_are_live_sums_equal_to_the_all_figures(workbook):
    run, wb = workbook
    figures = run.figures
    expected = {  # sheet: the `all` figures its totals stand for, top to bottom, left to right
        "Activity": [figures.value("REFERRALS_RECEIVED")] * 2 + [figures.value("SESSIONS_ATTENDED"),
                                                                 figures.value("CLOSED")],
        "Reach": [figures.value("STARTS")] * 7,
        "Plans and goals": [figures.value("GOALS_SET"), figures.value("GOALS_CLOSED"),
                            figures.get("GOALS_ACHIEVED").numerator, figures.value("GOALS_ACHIEVED"),
                            figures.value("GOALS_CLOSED")],
        "Signposting": [figures.value("SIGNPOSTED")] * 2,
    }
    for sheet, wanted in expected.items():
        ws = wb[sheet]
        got = []
        for cell in _totals(ws):
            if isinstance(cell.value, str) and cell.value.startswith("=SUM("):
                first, last = cell.value[5:-1].split(":")
                got.append(sum(c.value or 0 for row in ws[first:last] for c in row))
            else:
                got.append(_number(cell.value))       # a percentage total: the `all` figure itself
        assert got == wanted, sheet
    formulas = [c.value for c in _totals(wb["Reach"])]
    assert all(f.startswith("=SUM(C") for f in formulas)


def test_data_sheet_holds_every_figure(workbook):
    run, wb = workbook
    ws = wb["Data"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("measure", "breakdown", "value", "numerator", "denominator")
    assert [tuple(_number(v) for v in r) for r in rows[1:]] == run.figures.rows()
    assert ws.freeze_panes == "A2"


def test_people_sheets_show_the_same_figures(workbook):
    run, wb = workbook
    ws = wb["Activity"]
    summary = {ws.cell(r, 1).value: _number(ws.cell(r, 3).value) for r in range(1, 20)}
    assert summary["STARTS"] == 3 and summary["DNA_RATE"] == Decimal("16.7")
    assert summary["WAIT_DAYS_MEDIAN"] == Decimal("7")
    assert ws.cell(next(r for r in range(1, 20) if ws.cell(r, 1).value == "WAIT_DAYS_MEDIAN"), 3).number_format == "0.0"
    out = wb["Outcomes"]
    found = {out.cell(r, 1).value: [_number(out.cell(r, c).value) for c in range(3, 9)] for r in range(1, out.max_row + 1)}
    assert found["swemwbs_metric"] == [2, Decimal("17.29"), Decimal("20.96"), Decimal("3.67"), Decimal("100"),
                                       Decimal("50")]
    assert found["waist_cm"][0] == 0 and found["waist_cm"][1] is None
    assert found["auditc"][5] == "n/a"          # meaningful improvement is for weight and wellbeing only


def test_definitions_one_row_per_measure(workbook):
    run, wb = workbook
    ws = wb["Definitions"]
    present = list(dict.fromkeys(f.measure for f in run.figures.figures))
    listed = [ws.cell(r, 1).value for r in range(6, 6 + len(present))]
    assert listed == present
    for r, m in enumerate(present, 6):
        assert (ws.cell(r, 2).value, ws.cell(r, 6).value) == DEFINITIONS[m], m


def test_identical_data_gives_an_identical_file(store):
    figures = store.returns.figures(PERIOD, generated_at=STAMP)
    one = workbook_bytes(figures.figures, figures.meta)
    two = workbook_bytes(store.returns.figures(PERIOD, generated_at=STAMP).figures, figures.meta)
    assert one == two


def test_nhs_england_policy_has_no_live_sums(store, tmp_path):
    run = build_return(store, PERIOD, tmp_path / "pub.xlsx", sdc="nhs-england", generated_at=STAMP)
    wb = load_workbook(tmp_path / "pub.xlsx")
    for name in PEOPLE_SHEETS:
        for row in wb[name].iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and cell.value.startswith("=")), (name, cell.coordinate)
    cover = wb["Cover"]
    assert any(cover.cell(r, 2).value == "nhs-england" for r in range(1, 20))
    data = {(r[0], r[1]): r[2] for r in wb["Data"].iter_rows(min_row=2, values_only=True)}
    assert data[("STARTS", "all")] == "*" and data[("STARTS_BY", "gender=3")] == 0
    assert run.figures.meta.disclosure == "nhs-england"


def test_empty_period_gives_a_valid_workbook_of_zeros(store, tmp_path):
    build_return(store, "2030-31-Q1", tmp_path / "empty.xlsx", generated_at=STAMP)
    wb = load_workbook(tmp_path / "empty.xlsx")
    assert wb.sheetnames == SHEETS
    values = [r[2] for r in wb["Data"].iter_rows(min_row=2, values_only=True)]
    assert values and all(v in (0, None) for v in values)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_computes_the_totals_equal_to_the_all_figures(workbook, tmp_path):
    run, _ = workbook
    profile = tmp_path / "lo-profile"
    out = tmp_path / "csv"
    # Every sheet to CSV, formulas computed as a user's spreadsheet would (the -1 sheet option: all sheets).
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), run.path], check=True, capture_output=True, timeout=180)
    f = run.figures
    wanted = {"Activity": [f.value("REFERRALS_RECEIVED")] * 2 + [f.value("SESSIONS_ATTENDED"), f.value("CLOSED")],
              "Reach": [f.value("STARTS")] * 7,
              "Signposting": [f.value("SIGNPOSTED")] * 2}
    for sheet, totals in wanted.items():
        with open(out / f"return-{sheet}.csv", encoding="utf-8") as fh:
            got = [int(row[2]) for row in csv.reader(fh) if row and row[0] == "Total"]
        assert got == totals, sheet
