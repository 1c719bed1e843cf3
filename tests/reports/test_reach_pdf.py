"""The reach report (CLI.md v2 `htdesk report reach`, issue 13): its deprivation line agrees with
the return's Data sheet, DEMO on every page of a demo database, two or three A4 pages, the
sentences of what moved; the command's exit codes."""
from __future__ import annotations

import re
from db.connection import copy_database
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from db.demo import create_demo
from db.store import CaseStore
from desktop.cli import main
from reports.quarterly_return import build_return
from reports.reach_pdf import build_reach_report
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, TRAINER, TRAINER_PASSWORD, Scenario

LINE = re.compile(r"Starts from the two most deprived fifths: ([\d,]+) of ([\d,]+) \(([\d.]+)%\)")
DEMO_TODAY = date(2026, 11, 30)
DEMO_PERIOD = "2026-27-Q3"      # the quarter in progress on DEMO_TODAY: the eight quarters lie inside the demo's two years


def text_of(path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages]


def data_sheet(path, measure, breakdown="all"):
    for row in load_workbook(path)["Data"].iter_rows(min_row=2, values_only=True):
        if row[0] == measure and row[1] == breakdown:
            return row[2:5]
    raise KeyError(measure)


@pytest.fixture(scope="module")
def scenario_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reach-report")
    Scenario(folder / "service.sqlite3").store.close()
    return folder / "service.sqlite3"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("reach-demo") / "demo.sqlite3"
    create_demo(path, clients=600, seed=3, today=DEMO_TODAY)
    return path


def open_as(path, tmp_path, user, password):
    copy = tmp_path / path.name
    copy_database(path, copy)
    store = CaseStore.open(copy)
    store.sign_in(user, password)
    return store


def agrees(pdf, workbook):
    found = [LINE.search(page) for page in text_of(pdf)]
    m = next(f for f in found if f)
    value, numerator, denominator = data_sheet(workbook, "STARTS_IMD_Q1_Q2")
    assert (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) == (numerator, denominator)
    assert float(m.group(3)) == pytest.approx(value)
    return m


def test_the_deprivation_line_agrees_with_the_returns_data_sheet(scenario_db, tmp_path):
    store = open_as(scenario_db, tmp_path, ADMIN, ADMIN_PASSWORD)
    try:
        report = build_reach_report(store, PERIOD, tmp_path / "reach.pdf")
        build_return(store, PERIOD, tmp_path / "q2.xlsx")
    finally:
        store.close()
    m = agrees(tmp_path / "reach.pdf", tmp_path / "q2.xlsx")
    assert m.group(0) == report.imd_line == "Starts from the two most deprived fifths: 1 of 1 (100.0%)"
    pages = text_of(tmp_path / "reach.pdf")
    assert not any("DEMO" in p for p in pages)               # not a demo database


def test_a_demo_report_says_demo_on_every_page_and_shows_the_drift(demo_db, tmp_path):
    store = open_as(demo_db, tmp_path, "manager", "demo")
    try:
        build_reach_report(store, DEMO_PERIOD, tmp_path / "reach.pdf", today=DEMO_TODAY)
        build_return(store, DEMO_PERIOD, tmp_path / "q2.xlsx")
    finally:
        store.close()
    reader = PdfReader(str(tmp_path / "reach.pdf"))
    assert 2 <= len(reader.pages) <= 3
    assert all(round(float(p.mediabox.width)) == 595 and round(float(p.mediabox.height)) == 842 for p in reader.pages)
    pages = text_of(tmp_path / "reach.pdf")
    assert all("DEMO" in p for p in pages)
    agrees(tmp_path / "reach.pdf", tmp_path / "q2.xlsx")
    everything = " ".join(pages)
    # The demo drifts: the deprived share and community referrals fall over eight quarters.
    assert re.search(r"Starts from the most deprived two fifths fell from \d+% to \d+% over eight quarters", everything)
    assert re.search(r"Starts referred by community organisations or themselves fell from \d+% to \d+%", everything)
    assert "Who the service reaches: shares over eight quarters" in everything
    assert "Share (%)" in everything and "Financial quarter" in everything
    assert "Data quality today" in everything and "Past sessions still booked" in everything


def test_the_command(scenario_db, tmp_path, monkeypatch, capsys):
    path = tmp_path / "service.sqlite3"
    copy_database(scenario_db, path)
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HTDESK_PASSWORD", ADMIN_PASSWORD)
    out = tmp_path / "reach.pdf"
    assert main(["report", "reach", PERIOD, "--out", str(out), "--db", str(path), "--user", ADMIN]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out}" in printed and "Starts from the two most deprived fifths: 1 of 1 (100.0%)" in printed
    assert main(["report", "reach", "2026-Q2", "--out", str(out), "--db", str(path), "--user", ADMIN]) == 2
    assert "2026-27-Q2" in capsys.readouterr().err
    assert main(["report", "reach", "2026-27", "--out", str(out), "--db", str(path), "--user", ADMIN]) == 2
    assert "whole year" in capsys.readouterr().err
    assert main(["report", "reach", PERIOD, "--out", str(tmp_path / "x.txt"), "--db", str(path), "--user", ADMIN]) == 2
    monkeypatch.setenv("HTDESK_PASSWORD", TRAINER_PASSWORD)
    assert main(["report", "reach", PERIOD, "--out", str(out), "--db", str(path), "--user", TRAINER]) == 3


def test_the_local_populations_share_is_on_the_dashboard_and_the_report(demo_db, tmp_path):
    from db.deprivation import NORTH_EAST_SOURCE, DeprivationLookup
    copy = tmp_path / "demo.sqlite3"
    copy_database(demo_db, copy)
    store = CaseStore.open(copy, reference_source=NORTH_EAST_SOURCE)
    store.sign_in("manager", "demo")
    try:
        store.reference.prepare()
        dash = store.reach.dashboard(DEMO_PERIOD)
        with DeprivationLookup.open(NORTH_EAST_SOURCE) as lookup:
            from db import reach
            names, n, deprived = lookup.local_area(reach.client_lsoas(store.db, 1))
        assert dash.local.neighbourhoods == n and dash.local.in_q1_q2 == deprived and dash.local.authorities == names
        assert 0 < dash.local.share < 100
        build_reach_report(store, DEMO_PERIOD, tmp_path / "reach.pdf", today=DEMO_TODAY)
    finally:
        store.close()
    first = text_of(tmp_path / "reach.pdf")[0]
    assert f"Local population in the two most deprived fifths: {dash.local.share:.0f}%" in first
