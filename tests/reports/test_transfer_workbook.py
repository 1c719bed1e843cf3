"""The import workbook files: the blank template and the full export, re-opened with openpyxl
(and once with LibreOffice, as a user's spreadsheet program would open them)."""
import shutil
import subprocess
from datetime import date, datetime

import openpyxl
import pytest

from db import codes
from db.transfer import workbook_spec as spec
from reports import transfer_workbook
from db.errors import Cancelled
from reports.transfer_workbook import write_export, write_template

# IMPORT.md's sheets and headers in its order, "*" marking a required column: written out here, not
# taken from db.transfer.workbook_spec, so a wrong name or order there fails these tests.
_ANSWERS = ["weight_kg", "height_cm", "waist_cm", "bp_systolic", "bp_diastolic",
            *(f"swemwbs_{i}" for i in range(1, 8)), *(f"wemwbs_{i}" for i in range(1, 15)),
            "ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious",
            "auditc_1", "auditc_2", "auditc_3", "activity_days", "fruitveg_portions", "fried_snacks",
            "smoking_status", "cigarettes_per_day",
            # SMOKING's other two items (INSTRUMENTS.md); IMPORT.md's list leaves them out, but an export
            # must carry every answer to round-trip.
            "uses_ecig", "wants_stop_referral",
            "confidence",
            *(f"phq9_{i}" for i in range(1, 10)), *(f"gad7_{i}" for i in range(1, 8))]
IMPORT_MD = {
    "Staff": ["username*", "full_name*", "role*", "email", "phone", "start_date", "end_date"],
    "Venues": ["venue_code*", "name*", "type*", "postcode"],
    "Clients": ["client_ref*", "nhs_number", "title", "first_name*", "last_name*", "preferred_name", "date_of_birth*",
                "gender*", "ethnicity*", "postcode", "address_line_1", "address_line_2", "town", "phone", "mobile",
                "email", "gp_registered", "gp_practice_code", "employment", "disability", "first_language",
                "interpreter_needed", "carer", "consent_date", "consent_share_gp"],
    "Referrals": ["referral_ref*", "client_ref*", "received_date*", "source*", "referrer_name",
                  "referrer_organisation", "reasons", "priority", "allocated_trainer", "closed_date",
                  "closure_reason", "notes"],
    "Sessions": ["referral_ref*", "date*", "start_time", "duration_minutes", "trainer*", "venue_code", "mode*", "type",
                 "attendance*", "notes"],
    "Assessments": ["referral_ref*", "date*", "timepoint*", *_ANSWERS],
    "Goals": ["referral_ref*", "plan_agreed_date*", "area*", "goal*", "steps", "barriers", "who_can_help",
              "importance", "confidence", "review_date", "status*", "status_date"],
    "Signposting": ["referral_ref*", "date*", "category*", "destination", "type*", "outcome"],
}
# Added after v1 (issue 15): optional columns at the end of v1 sheets, and optional sheets.
V2_COLUMNS = {
    "Staff": ["other_roles", "account_ended"],
    "Venues": ["open_days", "active"],
    "Clients": ["consent_version", "gp_practice_name", "contact_phone", "contact_text", "contact_letter",
                "contact_email", "may_leave_message", "asian_thresholds", "archived_date", "anonymised_at",
                "erased_lsoa_code", "erased_imd_decile", "erased_imd_quintile", "erased_imd_edition",
                "erased_postcode_status"],
    "Referrals": ["age_override_by", "erased_figures_dob", "erased_nhs_valid"],
    "Sessions": ["next_steps", "group_title"],
    "Goals": ["start_date"],
    "Signposting": ["outcome_date", "follow_up_date", "directory_name"],
}
V2_SHEETS = {
    "Directory": ["name*", "category*", "phone", "address", "web", "notes", "active"],
    "Plans": ["referral_ref*", "plan_agreed_date*", "what_matters_to_me", "contacts"],
    "Plan versions": ["referral_ref*", "plan_agreed_date*", "version*", "agreed_date*", "what_matters_to_me", "goals",
                      "contacts"],
    "Goal reviews": ["referral_ref*", "plan_agreed_date*", "area*", "goal*", "review_date*", "outcome*", "note",
                     "previous_goal", "next_review_date"],
    "Session goals": ["referral_ref*", "date*", "start_time", "trainer*", "plan_agreed_date*", "area*", "goal*"],
    "Session history": ["referral_ref*", "date*", "start_time", "trainer*", "action*", "from_date", "from_time",
                        "from_venue", "to_date", "to_time", "to_venue", "attendance", "reason*", "at", "by"],
    "Settings": ["scope*", "key*", "value*"],
    "Documents": ["client_ref*", "referral_ref", "kind*", "file*", "file_name", "template_version*", "sha256*",
                  "created_at*", "created_by"],
    "Contact attempts": ["referral_ref*", "date*", "method*", "outcome*", "note"],
    "Safeguarding prompts": ["client_ref*", "referral_ref*", "instrument*", "item*", "answer", "steps*", "raised_at*",
                             "acknowledged_by*"],
    "Return runs": ["period*", "spec_version*", "disclosure*", "generated_at*", "generated_by", "figures_file*",
                    "file_name", "file_sha256", "submitted", "submitted_at", "submitted_by", "sent_file",
                    "sent_file_name", "sent_sha256", "sent_at", "sent_by", "members_file"],
}
SHEETS = ["Instructions", *IMPORT_MD, *V2_SHEETS, "Codes"]


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "template.xlsx"
    write_template(path)
    return openpyxl.load_workbook(path)


def test_template_has_every_sheet_and_header_of_the_spec_in_order(template):
    assert template.sheetnames == SHEETS
    for name, headers in {**IMPORT_MD, **V2_SHEETS}.items():
        ws = template[name]
        headers = headers + V2_COLUMNS.get(name, [])       # v1's columns first, in v1's order
        assert [c.value for c in ws[1]] == [h.rstrip("*") for h in headers]
        assert ws.freeze_panes == "A2"
        for cell, header in zip(ws[1], headers):
            assert cell.font.b
            assert (cell.comment is not None) == header.endswith("*"), (name, header)
    # IMPORT.md's own lists, spot-checked, including the instrument items.
    assert spec.sheet("Clients").required == ("client_ref", "first_name", "last_name", "date_of_birth", "gender",
                                              "ethnicity")
    answers = spec.sheet("Assessments").column_names
    assert answers[:8] == ("referral_ref", "date", "timepoint", "weight_kg", "height_cm", "waist_cm", "bp_systolic",
                           "bp_diastolic")
    assert "swemwbs_7" in answers and "wemwbs_14" in answers and "gad7_7" in answers and "phq9_9" in answers


def test_each_sheet_has_one_grey_example_row_the_import_skips(template):
    for s in spec.sheets():
        ws = template[s.name]
        assert ws.max_row == 2
        row = ws[2]
        assert row[0].value == "EXAMPLE"
        assert row[0].font.color.rgb.endswith("808080") and row[0].fill.fgColor.rgb.endswith("EDEDED")
    clients = template["Clients"]
    names = [c.value for c in clients[1]]
    example = dict(zip(names, [c.value for c in clients[2]]))
    assert example["first_name"] == "Siobhán" and example["last_name"] == "O'Neill"
    assert example["date_of_birth"] == datetime(1980, 5, 17)
    assert clients.cell(2, names.index("date_of_birth") + 1).number_format == "yyyy-mm-dd"


def test_the_codes_sheet_lists_every_code_list_with_labels(template):
    ws = template["Codes"]
    header = [c.value for c in ws[1]]
    for name, items in codes.lists().items():
        col = header.index(name) + 1
        assert header[col] == f"{name} label"
        listed = [(ws.cell(r, col).value, ws.cell(r, col + 1).value) for r in range(2, len(items) + 2)]
        assert listed == [(c, lab) for c, lab in items]
        assert ws.cell(len(items) + 2, col).value is None
    col = header.index("smoking_status") + 1
    assert ws.cell(2, col).value == "1" and ws.cell(2, col + 1).value == "Current smoker"
    # Codes stay text: employment 01 keeps its zero.
    col = header.index("employment") + 1
    assert ws.cell(2, col).value == "01"


def test_coded_columns_have_drop_downs_from_the_codes_sheet(template):
    header = [c.value for c in template["Codes"][1]]
    for s in spec.sheets():
        ws = template[s.name]
        by_range = {str(r): dv for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
        for i, column in enumerate(s.columns, 1):
            letter = openpyxl.utils.get_column_letter(i)
            dv = by_range.get(f"{letter}2:{letter}1048576")
            if column.code_list:
                assert dv is not None and dv.type == "list", (s.name, column.name)
                # The drop-down shows "code – label" (issue 15); the import takes that, the code or the label.
                code_col = openpyxl.utils.get_column_letter(header.index(f"{column.code_list} choice") + 1)
                size = len(spec.code_lists()[column.code_list])
                assert dv.formula1 == f"Codes!${code_col}$2:${code_col}${size + 1}"
                shown = [template["Codes"][f"{code_col}{r}"].value for r in range(2, size + 2)]
                assert shown == [f"{c} – {lab}" for c, lab in spec.code_lists()[column.code_list]]
                assert dv.errorStyle == "warning"       # labels are accepted too, so never a hard stop
            elif column.kind == spec.ANSWER and column.minimum is not None:
                # Body measurements (INSTRUMENTS.md: weight to 1 decimal, height, waist) take decimals;
                # every other answer is a whole number.
                kind = "decimal" if column.name in ("weight_kg", "height_cm", "waist_cm") else "whole"
                assert dv is not None and dv.type == kind, (s.name, column.name)
    gender = template["Clients"].data_validations.dataValidation
    assert any(dv.type == "list" and "Codes!" in dv.formula1 for dv in gender)
    swemwbs = [dv for dv in template["Assessments"].data_validations.dataValidation
               if dv.type == "whole" and dv.formula1 == "1" and dv.formula2 == "5"]
    assert swemwbs


def test_libreoffice_opens_the_template(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    path = tmp_path / "template.xlsx"
    write_template(path)
    profile = tmp_path / "lo-profile"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "csv",
                        "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "template.csv").read_text(encoding="utf-8", errors="replace").splitlines()
    # The first sheet, as the user sees it on opening, is the Instructions sheet.
    assert lines[0].startswith("Health Trainer Desk import workbook") and "How to fill it in" in lines


def test_export_keeps_text_as_text_and_dates_as_dates(tmp_path):
    path = tmp_path / "export.xlsx"
    staff = [("=cmd", "Zoë 😀 O'Neill", "TRAINER", "#N/A", None, date(2024, 4, 1), None)]
    clients = [tuple(["HT-000001", "9434765919", None, "Siobhán", "Nguyễn", None, date(1980, 5, 17), "2", "A",
                      "NE1 7RU"] + [None] * 8 + ["01"] + [None] * 6)]
    write_export(path, {"Staff": staff, "Clients": clients})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    row = [c for c in wb["Staff"][2]]
    assert [c.value for c in row[:4]] == ["=cmd", "Zoë 😀 O'Neill", "TRAINER", "#N/A"]
    assert row[0].data_type == "s" and row[3].data_type == "s"
    assert row[5].value == datetime(2024, 4, 1) and row[5].number_format == "yyyy-mm-dd"
    client = [c.value for c in wb["Clients"][2]]
    assert client[1] == "9434765919" and client[18] == "01" and client[3] == "Siobhán"
    assert wb["Clients"].max_row == 2 and wb["Sessions"].max_row == 1     # no example rows in an export


def test_an_export_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "export.xlsx"

    def many():
        for n in range(5000):
            yield (f"HT-{n:06d}", None, None, "Ann", "Lee", None, date(1980, 1, 1), "2", "A")
    with pytest.raises(Cancelled):
        write_export(path, {"Clients": many()}, cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []
    seen = []
    write_export(path, {"Clients": many()}, counts={"Clients": 5000}, on_progress=lambda d, t, label: seen.append(d))
    assert seen[-1] == 5000 and openpyxl.load_workbook(path)["Clients"].max_row == 5001
    with pytest.raises(ValueError):
        write_template(tmp_path / "template.csv")


def test_template_column_widths_fit_their_headers(template):
    for s in spec.sheets():
        ws = template[s.name]
        for i, c in enumerate(s.columns, 1):
            assert ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width >= len(c.name)
    assert transfer_workbook.MAX_ROW == 1_048_576


def test_the_instructions_sheet_describes_every_sheet_and_what_was_added_after_v1(template):
    lines = [r[0].value for r in template["Instructions"].iter_rows() if r[0].value]
    assert max(len(line) for line in lines) <= 90          # short lines: readable on screen and printed
    text = " ".join(" ".join(lines).split())              # the wrapped lines joined again
    for name in [*IMPORT_MD, *V2_SHEETS]:
        assert any(line.startswith(name) for line in lines), name
    for name, added in V2_COLUMNS.items():
        assert f"Optional columns added after v1: {', '.join(added)} A row is recognised" in text, name
    assert "Contact attempts (optional sheet, added after v1)" in text
    assert "htdesk user passwd USERNAME" in text and "'code – label'" in text and "Self referral" in text
