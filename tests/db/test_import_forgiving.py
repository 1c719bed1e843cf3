"""Forgiving where people are (issue 15): common forms of a label are accepted and noted, every
refusal of a coded cell lists the choices, imported staff are named as needing a password, and a
second copy of a client or a second open referral is a warning with both references."""
import json

import pytest

import resources
from db import codes
from db.transfer import workbook_spec as spec

from test_import import BASE, book, changed, reasons, run, snapshot, store  # noqa: F401  (store is a fixture)


# --- the list of common forms ---------------------------------------------------------------------

def test_every_common_form_names_a_real_code_and_never_shadows_a_code_or_label():
    with open(resources.path("codes", "synonyms.json"), encoding="utf-8") as f:
        data = json.load(f)
    lists = codes.lists()
    for list_name, forms in data.items():
        if list_name.startswith("_"):
            continue
        assert list_name in lists, list_name
        folded: dict[str, str] = {}
        for form, code in forms.items():
            assert code in codes.codes(list_name), (list_name, form, code)
            # A form that is already a code or label must mean that very code (never another).
            already = codes.match(list_name, form)
            assert already in (None, code), (list_name, form, code, already)
            key = codes._fold(form)
            assert folded.setdefault(key, code) == code, (list_name, form)     # one meaning per form


@pytest.mark.parametrize("list_name, typed, code", [
    ("gender", "Male", "1"), ("gender", " female ", "2"), ("ethnicity", "Pakistani", "J"),
    ("ethnicity", "white british", "A"), ("attendance", "DNA", "3"), ("attendance", "Did not attend", "3"),
    ("source", "Self referral", "SELF"), ("source", "self-referred", "SELF"), ("yes_no", "true", "Y"),
    ("closure_reason", "Deceased", "DIED"), ("goal_status", "Achieved", "FULL"),
])
def test_common_forms_are_read_as_their_code(list_name, typed, code):
    assert codes.synonym(list_name, typed) == code
    assert codes.match(list_name, typed) is None            # the forms are the import's; match stays strict


@pytest.mark.parametrize("list_name, typed", [("gender", "M"), ("ethnicity", "British"), ("ethnicity", "Asian"),
                                               ("attendance", "Cancelled"), ("source", "Other service")])
def test_ambiguous_forms_are_not_guessed(list_name, typed):
    assert codes.synonym(list_name, typed) is None and codes.match(list_name, typed) is None


def test_the_drop_down_form_code_dash_label_matches():
    for list_name, items in codes.lists().items():
        for code, label in items:
            assert codes.match(list_name, codes.code_and_label(list_name, code)) == code
            assert codes.match(list_name, f"{code} - {label}") == code


# --- through the import -----------------------------------------------------------------------------

def test_labels_and_common_forms_import_and_each_form_is_noted_once(store, tmp_path):
    data = changed(BASE, "Clients", 0, gender="Female", ethnicity="Irish")
    data = changed(data, "Clients", 1, gender="male", ethnicity="Pakistani")
    data = changed(data, "Clients", 2, gender="Male")
    data = changed(data, "Referrals", 1, source="Self referral")
    data = changed(data, "Sessions", 2, attendance="Seen", mode="In person")
    data = changed(data, "Staff", 0, role="5 – Attended")        # not a role: refused below, on its own
    data = changed(data, "Staff", 0, role="TRAINER – Health trainer")
    report = run(store, book(tmp_path / "forms.xlsx", data))
    assert report.committed, report.text()
    conn = store.db.conn
    assert conn.execute("SELECT gender, ethnicity FROM clients WHERE client_ref = 'HT-000101'").fetchone() == ("2", "B")
    assert conn.execute("SELECT gender, ethnicity FROM clients WHERE client_ref = 'HT-000102'").fetchone() == ("1", "J")
    assert conn.execute("SELECT source FROM referrals WHERE referral_ref = 'RF-000202'").fetchone() == ("SELF",)
    notes = [w for w in report.warnings if w.reason.startswith("Read '")]
    by_form = {(w.sheet, w.column, w.value): w.reason for w in notes}
    assert by_form[("Clients", "gender", "Male")] == ("Read 'Male' as 1 – Male (including trans man) (a common form "
                                                      "of the label) in 1 row(s): 4.")
    assert by_form[("Clients", "gender", "male")].endswith("in 1 row(s): 3.")
    assert "J – Asian or Asian British – Pakistani" in by_form[("Clients", "ethnicity", "Pakistani")]
    assert ("Referrals", "source", "Self referral") in by_form
    assert ("Sessions", "attendance", "Seen") in by_form and ("Sessions", "mode", "In person") in by_form
    # A code – label as the drop-down writes it is the code itself: nothing to note.
    assert not any(w.column == "role" for w in notes)
    assert "Read 'Male' as 1 – Male" in report.text()


def test_a_dry_run_notes_the_forms_too_and_changes_nothing(store, tmp_path):
    data = changed(BASE, "Clients", 0, gender="Woman")
    before = snapshot(store)
    report = run(store, book(tmp_path / "dry.xlsx", data), dry_run=True)
    assert report.ok and not report.committed and snapshot(store) == before
    assert any(w.reason.startswith("Read 'Woman' as 2 – Female") for w in report.warnings)


def test_every_refusal_of_a_coded_cell_lists_the_choices_with_code_and_label(store, tmp_path):
    data = changed(BASE, "Clients", 1, gender="M", ethnicity="Martian")
    data = changed(data, "Sessions", 0, attendance="Maybe")
    data = changed(data, "Referrals", 0, reasons="WEIGHT;Gardening", closure_reason="Bored")
    data = changed(data, "Staff", 0, role="Boss")
    report = run(store, book(tmp_path / "bad.xlsx", data))
    assert not report.committed
    lines = reasons(report)
    for sheet, column, list_name in (("Clients", "gender", "gender"), ("Clients", "ethnicity", "ethnicity"),
                                     ("Sessions", "attendance", "attendance"), ("Referrals", "reasons", "area"),
                                     ("Referrals", "closure_reason", "closure_reason"), ("Staff", "role", "staff_role")):
        line = next(line for line in lines if line.startswith(f"{sheet}|") and f"|{column}|" in line)
        assert line.endswith(f"Choices (code or label): {codes.choices(list_name)}."), line
    assert "3 Did not attend, no warning" in codes.choices("attendance")
    assert "A White – British; B White – Irish" in codes.choices("ethnicity")


def test_imported_staff_are_named_as_needing_a_password_with_how_to_set_one(store, tmp_path):
    path = book(tmp_path / "staff.xlsx")
    dry = run(store, path, dry_run=True)
    assert dry.needs_password == ["jdoe", "kbell"]
    text = dry.text()
    assert "Accounts that would need a password before anyone can sign in with them: 2" in text
    assert "htdesk user passwd USERNAME   then   htdesk user unlock USERNAME" in text and "jdoe, kbell" in text
    done = run(store, path)
    assert "Accounts that need a password before anyone can sign in with them: 2" in done.text()
    again = run(store, path)                        # already there: nothing new needs a password
    assert again.needs_password == [] and "need a password" not in again.text()


def test_a_second_copy_of_a_client_is_a_warning_naming_both_references(store, tmp_path):
    assert run(store, book(tmp_path / "first.xlsx")).committed
    copy = {"client_ref": "HT-000901", "first_name": "siobhán ", "last_name": "O'NEILL", "date_of_birth": "12/3/1980",
            "gender": "2", "ethnicity": "A", "postcode": "ne17ru"}
    twin = dict(copy, client_ref="HT-000902")
    other = dict(copy, client_ref="HT-000903", postcode="NE1 7RT")          # moved house: not warned
    data = {s: [] for s in BASE}
    data["Clients"] = [copy, twin, other]
    for dry_run in (True, False):
        report = run(store, book(tmp_path / f"copy{dry_run}.xlsx", data), dry_run=dry_run)
        assert report.ok and not report.failures
        warned = {w.value: w.reason for w in report.warnings if w.column == "client_ref"}
        assert warned["HT-000901"] == ("HT-000901 has the same name, date of birth and postcode as HT-000902, "
                                       "HT-000101: check they are not two copies of one person (both were kept).")
        assert "HT-000901" in warned["HT-000902"] and "HT-000101" in warned["HT-000902"]
        assert "HT-000903" not in warned
    assert store.db.conn.execute("SELECT COUNT(*) FROM clients WHERE client_ref LIKE 'HT-0009%'").fetchone()[0] == 3


def test_a_second_open_referral_for_one_client_is_a_warning_naming_both(store, tmp_path):
    report = run(store, book(tmp_path / "base.xlsx"), dry_run=True)
    warned = {w.value: w.reason for w in report.warnings if w.sheet == "Referrals" and w.column == "referral_ref"}
    # HT-000103 has RF-000203 and RF-000204 open in BASE; RF-000201 is closed, RF-000202 is alone.
    assert warned == {
        "RF-000203": "Client HT-000103 would have RF-000203 and RF-000204 open at once: check one is not a copy of "
                     "the other (both were kept).",
        "RF-000204": "Client HT-000103 would have RF-000204 and RF-000203 open at once: check one is not a copy of "
                     "the other (both were kept)."}
    assert run(store, book(tmp_path / "base.xlsx")).committed
    data = {s: [] for s in BASE}
    data["Referrals"] = [{"referral_ref": "RF-000299", "client_ref": "HT-000102", "received_date": "2026-10-20",
                          "source": "GP"}]
    later = run(store, book(tmp_path / "later.xlsx", data))
    assert later.committed
    assert [w.reason for w in later.warnings if w.column == "referral_ref"] == [
        "Client HT-000102 would have RF-000299 and RF-000202 open at once: check one is not a copy of the other "
        "(both were kept)."]
