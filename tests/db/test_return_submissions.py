"""Submitting a return keeps what was sent (RETURN.md "Behaviour", issue 13): the bytes, a
signed-off file matched by its figures, never overwritten, late changes on their own sheet,
explain as submitted or as now."""
from __future__ import annotations

import hashlib
from db.connection import copy_database
from datetime import date

import pytest
from openpyxl import load_workbook

from db.errors import BadPath, NotFound
from db.store import CaseStore
from reports.quarterly_return import build_return
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, TODAY, Scenario


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    Scenario(folder / "service.sqlite3").store.close()
    return folder / "service.sqlite3"


@pytest.fixture
def store(built, tmp_path):
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    s = CaseStore.open(path)
    s.sign_in(ADMIN, ADMIN_PASSWORD)
    yield s
    s.close()


def late_entry(store) -> None:
    """R6 (received 1 Sep) turns out to have had an attended session on 10 Sep: a fourth start."""
    store.diary.add(6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2}, today=TODAY)


def test_submitting_keeps_the_bytes_sent(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    build_return(store, PERIOD, out)
    assert store.returns.submitted(PERIOD) is None
    store.returns.submit(PERIOD, out)
    sent = store.returns.submitted(PERIOD)
    assert sent["workbook"] == out.read_bytes()
    assert sent["sent_file_name"] == "q2.xlsx" and sent["submitted_by"]
    # Reprintable from the database alone, even when the file is gone.
    out.unlink()
    assert load_workbook(__import__("io").BytesIO(store.returns.submitted(PERIOD)["workbook"])).sheetnames[0] == "Cover"


def test_a_signed_off_file_is_matched_by_its_figures(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    run = build_return(store, PERIOD, out)
    signed = tmp_path / "q2-signed.xlsx"
    wb = load_workbook(out)
    cover = wb["Cover"]
    for row in cover.iter_rows(min_col=1, max_col=1):
        if row[0].value == "Name":
            cover.cell(row[0].row, 2, "Bea Boss")
        if row[0].value == "Date":
            cover.cell(row[0].row, 2, date(2026, 10, 15))
    wb.save(signed)
    assert hashlib.sha256(signed.read_bytes()).hexdigest() != run.sha256
    done = store.returns.submit(PERIOD, signed)
    assert done["id"] == run.run_id
    sent = store.returns.submitted(PERIOD)
    assert sent["workbook"] == signed.read_bytes() and sent["sent_file_name"] == "q2-signed.xlsx"
    event = store.admin.audit_events("return_run")[0]
    assert event["action"] == "submit" and '"same_bytes_as_built": false' in event["after"]


def test_a_file_whose_figures_were_edited_is_refused(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    build_return(store, PERIOD, out)
    wb = load_workbook(out)
    data = wb["Data"]
    for row in data.iter_rows(min_row=2):
        if row[0].value == "STARTS" and row[1].value == "all":
            row[2].value = 99
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    with pytest.raises(NotFound) as info:
        store.returns.submit(PERIOD, edited)
    assert "No return built for 2026-27 Q2 has the figures" in str(info.value)
    assert store.returns.submitted(PERIOD) is None


def test_rebuilding_never_overwrites_the_submitted_file_and_lists_late_changes(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    build_return(store, PERIOD, out)
    store.returns.submit(PERIOD, out)
    before = out.read_bytes()
    late_entry(store)
    with pytest.raises(BadPath) as info:
        build_return(store, PERIOD, out)
    assert "never overwritten" in str(info.value)
    assert out.read_bytes() == before
    assert ("STARTS", "all") in {(c.measure, c.breakdown) for c in store.returns.late_changes(PERIOD)}

    again = tmp_path / "q2-again.xlsx"
    run = build_return(store, PERIOD, again)
    wb = load_workbook(again)
    assert "Late changes" in wb.sheetnames
    assert wb.sheetnames.index("Late changes") < wb.sheetnames.index("Data")
    rows = [[c.value for c in r] for r in wb["Late changes"].iter_rows()]
    starts = next(r for r in rows if r[4] == "STARTS all")
    assert starts[2:4] == [3, 4]
    assert len([r for r in rows if r[4] and " " in str(r[4]) and str(r[4]).split()[0].isupper()]) == len(run.late_changes)
    # The first build had no late changes, so no such sheet.
    assert "Late changes" not in load_workbook(__import__("io").BytesIO(store.returns.submitted(PERIOD)["workbook"])).sheetnames


def test_explain_as_submitted_or_as_now(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    build_return(store, PERIOD, out)
    with pytest.raises(NotFound):
        store.returns.explain(PERIOD, "STARTS", as_submitted=True)
    store.returns.submit(PERIOD, out)
    then = store.returns.explain(PERIOD, "STARTS", as_submitted=True)
    late_entry(store)
    now = store.returns.explain(PERIOD, "STARTS")
    assert len(then) == 3 and len(now) == 4
    assert set(now) - set(then) == {"RF-000006"}
    assert store.returns.explain(PERIOD, "STARTS", as_submitted=True) == then
    assert store.returns.explain(PERIOD, "SESSIONS_ATTENDED", "mode=VIDEO", as_submitted=True) == []
    with pytest.raises(Exception) as info:
        store.returns.explain(PERIOD, "STARTS_BY", "gender=9", as_submitted=True)
    assert "gender=1" in str(info.value)


def test_late_changes_compare_the_figures_just_counted_without_counting_again(store, tmp_path, monkeypatch):
    """The return page counts the figures and lists the late changes: one count, as the command's
    build does, so the page is never slower than the command (issue 13, Speed)."""
    from db import returns
    out = tmp_path / "q2.xlsx"
    build_return(store, PERIOD, out)
    store.returns.submit(PERIOD, out)
    late_entry(store)
    counted_again = store.returns.late_changes(PERIOD)
    assert ("STARTS", "all") in {(c.measure, c.breakdown) for c in counted_again}
    figures = store.returns.figures(PERIOD)
    counts = []
    real = returns.compute_figures
    monkeypatch.setattr(returns, "compute_figures", lambda *a, **k: (counts.append(1), real(*a, **k))[1])
    assert store.returns.late_changes(PERIOD, figures=figures) == counted_again
    assert counts == []
    # Figures under another policy than the submitted return's are counted again, under its policy.
    published = store.returns.figures(PERIOD, sdc="nhs-england")
    counts.clear()
    assert store.returns.late_changes(PERIOD, figures=published) == counted_again
    assert counts == [1]
