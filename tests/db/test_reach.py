"""The reach and equity dashboard's engine (issue 13): one engine with the return, eight quarters,
the figures the return does not carry, the drift sentences, data quality, who sees what."""
from __future__ import annotations

from db.connection import copy_database
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from db import data_quality, reach, reach_kept
from db.errors import PermissionDenied
from db.periods import parse_period
from db.store import CaseStore
from reports.quarterly_return import build_return
from returns_scenario import ADMIN, ADMIN_PASSWORD, PERIOD, TODAY, TRAINER, TRAINER_PASSWORD, Scenario, stub_deprivation


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reach")
    scenario = Scenario(folder / "service.sqlite3")
    store = scenario.store
    store.service.add_staff("Cath Coordinator", "COORD", username="cath", password="maple-orbit-51")
    # Venues: two attended Q2 sessions in a community centre, one at a GP surgery, one by phone (left out).
    cc = store.service.add_venue("CC1", "Elm Street Centre", "COMMUNITY")
    gp = store.service.add_venue("GP1", "Park Surgery", "GP")
    for ref, day, venue in ((scenario.r3, "2026-08-20", cc), (scenario.r4, "2026-08-21", cc),
                            (scenario.r3, "2026-09-01", gp)):
        store.diary.add(ref, {"session_date": day, "attendance": "5", "mode": "F2F", "staff_id": scenario.trainer,
                              "venue_id": venue}, today=TODAY)
    store.close()
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


def data_sheet(path) -> dict:
    rows = load_workbook(path)["Data"].iter_rows(min_row=2, values_only=True)
    return {(r[0], r[1]): r[2:5] for r in rows}


def test_the_dashboards_figures_are_the_returns_data_sheet(store, tmp_path):
    dash = store.reach.dashboard(PERIOD)
    assert [q.period.code for q in dash.quarters][-1] == PERIOD and len(dash.quarters) == 8
    assert dash.quarters[0].period.code == "2024-25-Q3"
    build_return(store, PERIOD, tmp_path / "q2.xlsx")
    sheet = data_sheet(tmp_path / "q2.xlsx")
    compared = 0
    for item in reach.ITEMS:
        if (item.measure, item.breakdown) in sheet:
            f = dash.current(item)
            value, numerator, denominator = sheet[(item.measure, item.breakdown)]
            shown = None if f.value is None else (int(f.value) if isinstance(f.value, int) else float(f.value))
            assert (shown, f.denominator or 0) == (value, denominator or 0), item.key
            compared += 1
    assert compared >= 10
    imd = dash.current(reach.ITEM["imd_q12"])
    assert (imd.numerator, imd.denominator) == sheet[("STARTS_IMD_Q1_Q2", "all")][1:] == (1, 1)
    # And every quarter's figure is the return's figure for that quarter.
    q1 = store.returns.figures("2026-27-Q1")
    assert dash.quarters[-2].get(reach.ITEM["starts"]).value == q1.value("STARTS")


def test_figures_the_return_does_not_carry(store):
    dash = store.reach.dashboard(PERIOD)
    venue = dash.current(reach.ITEM["community_venue"])
    assert (venue.value, venue.numerator, venue.denominator) == (D("66.7"), 2, 3)
    assert store.reach.explain(PERIOD, "SESSIONS_COMMUNITY_VENUE") == ["RF-000003", "RF-000004"]
    # Active in Q2: R1, R2, R3, R4; one trainer held their sessions.
    caseload = dash.current(reach.ITEM["caseload"])
    assert (caseload.value, caseload.numerator, caseload.denominator) == (D("4.0"), 4, 1)
    assert len(store.reach.explain(PERIOD, "CASELOAD_PER_TRAINER")) == 4
    # Starts: R2 (Asian), R3 (not known), R4 (Black): a third each.
    asian = dash.current(reach.ITEM["eth_asian"])
    assert (asian.value, asian.numerator, asian.denominator) == (D("33.3"), 1, 3)
    assert store.reach.explain(PERIOD, "STARTS_SHARE", "ethnic_group=ASIAN") == ["RF-000002"]
    nhs = dash.current(reach.ITEM["nhs_source"])
    assert (nhs.numerator, nhs.denominator) == (1, 3)           # R2 from a GP
    signposting = dash.current(reach.ITEM["signposting"])
    assert (signposting.numerator, signposting.denominator) == (0, 2)
    # The return's own measures are explained by the return's engine.
    assert store.reach.explain(PERIOD, "STARTS") == store.returns.explain(PERIOD, "STARTS")
    with pytest.raises(Exception) as info:
        store.reach.explain(PERIOD, "STARTS_SHARE", "ethnic_group=PURPLE")
    assert "ethnic_group=WHITE" in str(info.value)


def test_drift_sentences_name_each_share_that_moved():
    periods = reach.quarters_ending(parse_period(PERIOD))

    def quarter(p, imd, community):
        from db.returns import Figure
        return reach.QuarterFigures(p, {("STARTS_IMD_Q1_Q2", "all"): Figure("STARTS_IMD_Q1_Q2", "all", imd, 1, 1),
                                        ("STARTS_COMMUNITY_SOURCE", "all"):
                                            Figure("STARTS_COMMUNITY_SOURCE", "all", community, 1, 1)})
    imd = [D("71.0"), D("69.2"), D("66.0"), D("63.1"), D("60.0"), D("57.5"), D("55.0"), D("52.4")]
    community = [D("40.0"), D("41.0"), D("39.0"), D("40.5"), D("42.0"), D("41.0"), D("40.0"), D("43.9")]
    quarters = [quarter(p, i, c) for p, i, c in zip(periods, imd, community)]
    assert reach.drift_sentences(quarters) == [
        "Starts from the most deprived two fifths fell from 71% to 52% over eight quarters."]
    # A share without figures in the first quarters is compared from its first quarter with one.
    quarters[0] = quarter(periods[0], None, D("30.0"))
    assert reach.drift_sentences(quarters) == [
        "Starts from the most deprived two fifths fell from 69% to 52% from 2024-25 Q4 to 2026-27 Q2.",
        "Starts referred by community organisations or themselves rose from 30% to 44% over eight quarters."]


def test_coordinators_see_the_operational_half_trainers_nothing(built, tmp_path):
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    s = CaseStore.open(path)
    s.sign_in("cath", "maple-orbit-51")
    dash = s.reach.dashboard(PERIOD)
    measures = {m for q in dash.quarters for (m, _) in q.figures}
    assert "STARTS" in measures and "DNA_RATE" in measures
    assert not measures & {"STARTS_IMD_Q1_Q2", "OUTCOME_MEANINGFUL", "STARTS_SHARE"}
    assert s.reach.explain(PERIOD, "STARTS")
    with pytest.raises(PermissionDenied):
        s.reach.explain(PERIOD, "STARTS_IMD_Q1_Q2")
    with pytest.raises(PermissionDenied):
        s.reach.dashboard(PERIOD, sections=["reach"])
    assert s.reach.data_quality(today=TODAY)
    s.close()
    s = CaseStore.open(path)
    s.sign_in(TRAINER, TRAINER_PASSWORD)
    with pytest.raises(PermissionDenied):
        s.reach.dashboard(PERIOD)
    with pytest.raises(PermissionDenied):
        s.reach.data_quality()
    s.close()


def test_data_quality_lists_each_record_that_needs_attention(store):
    rows = store.reach.data_quality(today=TODAY)
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r.kind, []).append(r)
    assert set(by_kind) <= set(data_quality.QUALITY_KINDS)
    # C2 has no postcode and no GP status; C5 no GP status; C3 is "not known" ethnicity (99).
    details = {r.name: r.detail for r in by_kind["client_details"]}
    assert details["Nguyễn Văn"] == "No postcode, no GP status"
    assert details["Zoë Ali-Khan"] == "No ethnicity"
    assert details["Kevin Dunn"] == "No GP status"
    # R6 received 1 September, never contacted; R4's session of 30 September still booked.
    assert [r.referral_ref for r in by_kind["no_contact"]] == ["RF-000006"]
    assert [(r.referral_ref, r.since) for r in by_kind["outcome_not_recorded"]] == [("RF-000004", "2026-09-30")]
    # R2 closed with a baseline and only a review.
    assert [r.referral_ref for r in by_kind["no_exit"]] == ["RF-000002"]
    assert all(r.client_id for r in rows)


def test_working_days():
    from datetime import date
    assert data_quality.working_days_before(date(2026, 11, 2), 5) == date(2026, 10, 26)     # Monday -> Monday before
    assert data_quality.working_days_before(date(2026, 11, 4), 5) == date(2026, 10, 28)


def test_the_local_populations_share_from_the_shipped_reference():
    from db.deprivation import NORTH_EAST_SOURCE, DeprivationLookup
    with DeprivationLookup.open(NORTH_EAST_SOURCE) as lookup:
        here = lookup.lookup("NE1 7RU")
        info = lookup.lsoa_info(here.lsoa_code)
        names, n, deprived = lookup.local_area({here.lsoa_code: 9})
        assert names == (info.lad_name,) and n > 50 and 0 < deprived < n
        # A local authority with under 5% of the clients is not "local".
        other = lookup.lookup("DH1 3LE").lsoa_code
        assert lookup.local_area({here.lsoa_code: 99, other: 1})[0] == (info.lad_name,)
        assert len(lookup.local_area({here.lsoa_code: 50, other: 50})[0]) == 2


def test_eight_quarters_read_at_once_are_each_quarters_own_figures(store):
    """The dashboard reads each source once for the eight quarters; every quarter must still be
    exactly what the quarter counted alone gives (and the return's own figures)."""
    from db import assessments
    on = assessments.enabled_instruments(store.db, "TEST")
    late = parse_period("2026-27-Q3")
    periods = reach.quarters_ending(late)
    together = reach.span_figures(store.db, 1, periods, on)
    for p, q in zip(periods, together):
        alone = reach.quarter_figures(store.db, 1, p, on)
        assert q.figures == alone.figures, p.label
        ret = {f.key: f for f in store.returns.figures(p).figures}
        assert all(ret[k] == f for k, f in q.figures.items() if k in ret), p.label
    assert together[-2].figures[("STARTS", "all")].value == 3


def test_counted_quarters_are_kept_until_the_data_changes(store, tmp_path):
    first = store.reach.dashboard(PERIOD)
    again = store.reach.dashboard(PERIOD)
    assert again.quarters[-1] is first.quarters[-1]                  # kept, not counted again
    # A write through this store: counted again, and the late session shows.
    store.diary.add(6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2}, today=TODAY)
    after = store.reach.dashboard(PERIOD)
    assert after.current(reach.ITEM["starts"]).value == 4
    # A commit by another program on the same database: counted again too.
    other = CaseStore.open(store.path)
    other.sign_in(ADMIN, ADMIN_PASSWORD)
    other.referrals.close(6, "2026-09-20", "COMPLETED", today=TODAY)
    other.close()
    latest = store.reach.dashboard(PERIOD)
    assert latest.current(reach.ITEM["completed"]).value == after.current(reach.ITEM["completed"]).value + 1
    # Another chosen quarter counts only the quarter it adds.
    moved = store.reach.dashboard("2026-27-Q3")
    assert moved.quarters[-2] is latest.quarters[-1]


def test_a_cancelled_count_stops_even_with_quarters_kept(store):
    from db.errors import Cancelled
    with pytest.raises(Cancelled):
        store.reach.dashboard(PERIOD, cancelled=lambda: True)
    store.reach.dashboard(PERIOD)                                   # counted and kept
    with pytest.raises(Cancelled):
        store.reach.dashboard(PERIOD, cancelled=lambda: True)


def test_another_services_sessions_are_not_counted(store):
    """One service in the file lets the dashboard skip the service look-up per session; with a
    second service's referral in the file its sessions must still be left out, and each quarter
    still equals the return's."""
    before = store.reach.dashboard(PERIOD)
    db = store.db
    other = db.conn.execute("INSERT INTO services (code, name) VALUES ('OTHER', 'Other service')").lastrowid
    client = db.conn.execute("SELECT client_id FROM referrals LIMIT 1").fetchone()[0]
    rid = db.conn.execute("INSERT INTO referrals (service_id, referral_ref, client_id, received_date, source) "
                          "VALUES (?, 'RF-OTHER1', ?, '2026-07-01', 'GP')", (other, client)).lastrowid
    venue = db.conn.execute("SELECT venue_id FROM sessions WHERE venue_id IS NOT NULL LIMIT 1").fetchone()[0]
    their_trainer = db.conn.execute("INSERT INTO staff (service_id, full_name, role) VALUES (?, 'Other Trainer', "
                                    "'TRAINER')", (other,)).lastrowid
    db.conn.execute("INSERT INTO sessions (referral_id, client_id, staff_id, venue_id, session_date, mode, attendance) "
                    "VALUES (?, ?, ?, ?, '2026-08-03', 'F2F', '5')", (rid, client, their_trainer, venue))
    db.conn.commit()
    from db import assessments
    periods = [q.period for q in before.quarters]
    after = reach.span_figures(db, 1, periods, assessments.enabled_instruments(db, "TEST"))
    for q0, q1 in zip(before.quarters, after):
        assert q0.figures == q1.figures, q0.period.label
        ret = {f.key: f for f in store.returns.figures(q1.period, "TEST").figures}
        assert all(ret[k] == f for k, f in q1.figures.items() if k in ret)


def test_cancel_is_looked_at_before_each_source_is_read(store, monkeypatch):
    """Reading the sources is most of a count (all of it happens in the first quarter): Cancel pressed
    while the first source is read stops the count before the next one is read."""
    from db import assessments
    from db.errors import Cancelled
    loads = []
    real = reach._Span.load
    monkeypatch.setattr(reach._Span, "load", lambda span, name: (loads.append(name), real(span, name))[1])
    with pytest.raises(Cancelled):
        reach.span_figures(store.db, 1, reach.quarters_ending(parse_period(PERIOD)),
                           assessments.enabled_instruments(store.db, "TEST"), cancelled=lambda: len(loads) >= 1)
    assert len(loads) == 1


def test_counting_leaves_no_rows_for_the_cyclic_collector(store):
    """The rows read for a count are freed when it ends, not left in a reference cycle for the
    collector's next full pass (which then walks them all, in whatever runs next)."""
    import gc
    from db import assessments
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        reach.span_figures(store.db, 1, reach.quarters_ending(parse_period(PERIOD)),
                           assessments.enabled_instruments(store.db, "TEST"))
        assert not any(isinstance(o, (reach._Span, reach._QuarterView)) for o in gc.get_objects())
    finally:
        if was:
            gc.enable()


def test_working_days_leave_out_bank_holidays_in_england_and_wales():
    from datetime import date
    from db.bank_holidays import bank_holidays
    assert sorted(bank_holidays(2026)) == [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4),
                                           date(2026, 5, 25), date(2026, 8, 31), date(2026, 12, 25),
                                           date(2026, 12, 28)]           # Boxing Day on a Saturday: Monday
    assert sorted(bank_holidays(2027))[-2:] == [date(2027, 12, 27), date(2027, 12, 28)]   # both at a weekend
    assert sorted(bank_holidays(2022)) == [date(2022, 1, 3), date(2022, 4, 15), date(2022, 4, 18), date(2022, 5, 2),
                                           date(2022, 6, 2), date(2022, 6, 3), date(2022, 8, 29), date(2022, 9, 19),
                                           date(2022, 12, 26), date(2022, 12, 27)]
    assert date(2020, 5, 8) in bank_holidays(2020) and date(2020, 5, 4) not in bank_holidays(2020)   # VE day
    # Five working days before Tuesday 7 April 2026 skip Easter Monday and Good Friday.
    assert data_quality.working_days_before(date(2026, 4, 7), 5) == date(2026, 3, 27)
    assert data_quality.working_days_before(date(2027, 1, 4), 5) == date(2026, 12, 23)   # 24, 29, 30, 31 Dec


# --- quarters kept in the database (0012_reach_figures) ------------------------------------------------

def _opened(path) -> CaseStore:
    """Another program (or the next opening) on the same database."""
    s = CaseStore.open(path)
    s.sign_in(ADMIN, ADMIN_PASSWORD)
    stub_deprivation(s)
    return s


@pytest.fixture
def counted(monkeypatch):
    """The quarters each count of the dashboard counted (reading kept quarters is no count)."""
    spans: list = []
    real = reach.span_figures

    def spy(db, service_id, periods, *args, **kwargs):
        spans.append([p.code for p in periods])
        return real(db, service_id, periods, *args, **kwargs)
    monkeypatch.setattr(reach, "span_figures", spy)
    return spans


def _starts(dash, back=0):
    return dash.quarters[-1 - back].get(reach.ITEM["starts"]).value


def test_counted_quarters_are_kept_in_the_database_for_the_next_opening(store, counted):
    first = store.reach.dashboard(PERIOD)
    assert counted == [[p.code for p in reach.quarters_ending(parse_period(PERIOD))]]
    # Signing in and opening a client record write audit events that change no figure.
    other = _opened(store.path)
    try:
        other.clients.record(1)
        kept = other.reach.dashboard(PERIOD)
    finally:
        other.close()
    assert len(counted) == 1                                   # read from the database, not counted
    assert [q.figures for q in kept.quarters] == [q.figures for q in first.quarters]
    assert kept.sentences == first.sentences
    # The kept figures are still the return's own (the exact values, not the ones shown).
    ret = {f.key: f for f in store.returns.figures(PERIOD).figures}
    assert all(ret[k] == f for k, f in kept.quarters[-1].figures.items() if k in ret)


def test_a_write_in_a_past_quarter_counts_that_quarter_again_at_the_next_opening(store, counted):
    before = store.reach.dashboard(PERIOD)
    assert (_starts(before, 1), _starts(before)) == (1, 3)     # Q1: R1; Q2: R2, R3, R4
    # Another program records a session for R2 (received 25 June) on 28 June: R2 now starts in Q1.
    other = _opened(store.path)
    other.diary.add(2, {"session_date": "2026-06-28", "attendance": "5", "mode": "F2F", "staff_id": 2}, today=TODAY)
    other.close()
    counted.clear()
    later = _opened(store.path)
    try:
        after = later.reach.dashboard(PERIOD)
    finally:
        later.close()
    assert (_starts(after, 1), _starts(after)) == (2, 2)
    assert _starts(after, 1) == store.returns.figures("2026-27-Q1").value("STARTS")
    # Only the quarters from that person's earliest date (R2 received 25 June) were counted again.
    assert counted == [["2026-27-Q1", "2026-27-Q2"]]
    assert [q.figures for q in after.quarters[:-2]] == [q.figures for q in before.quarters[:-2]]
    # This program sees it too (the other program's commit empties what it kept in memory).
    assert _starts(store.reach.dashboard(PERIOD), 1) == 2

    # A write through this store to a person who started in a past quarter: C1 (R1 started 20 June) is
    # now recorded as Indian, so Q1's starts (R1, and R2 of C2, Indian) are all Asian, at this opening
    # and the next.
    asian = reach.ITEM["eth_asian"]
    assert before.quarters[-2].get(asian).value == D("0.0")
    version = store.clients.get(1).row_version
    store.clients.update(1, {"ethnicity": "H"}, expected_version=version, today=TODAY)
    assert store.reach.dashboard(PERIOD).quarters[-2].get(asian).value == D("100.0")
    nxt = _opened(store.path)
    try:
        assert nxt.reach.dashboard(PERIOD).quarters[-2].get(asian).value == D("100.0")
    finally:
        nxt.close()


def test_the_quarters_as_last_counted_come_at_once_with_those_written_to_since(store, counted):
    assert store.reach.kept_dashboard(PERIOD) is None                 # never counted: nothing to show yet
    first = store.reach.dashboard(PERIOD)
    counted.clear()
    kept, stale = store.reach.kept_dashboard(PERIOD)
    assert stale == () and [q.figures for q in kept.quarters] == [q.figures for q in first.quarters]
    # A session recorded on 28 June for R2 (received 25 June) may change Q1 and Q2: those two are said
    # to be updating, and the figures shown meanwhile are still the last count's.
    store.diary.add(2, {"session_date": "2026-06-28", "attendance": "5", "mode": "F2F", "staff_id": 2}, today=TODAY)
    kept, stale = store.reach.kept_dashboard(PERIOD)
    assert stale == ("2026-27-Q1", "2026-27-Q2") and counted == []
    assert (_starts(kept, 1), _starts(kept)) == (1, 3)
    after = store.reach.dashboard(PERIOD)
    assert (_starts(after, 1), _starts(after)) == (2, 2)
    assert store.reach.kept_dashboard(PERIOD)[1] == ()

def _workbook(path, data: dict):
    """An import workbook holding these sheets' rows (every other sheet with its headers only)."""
    from openpyxl import Workbook
    from db.transfer import workbook_spec as spec
    wb = Workbook()
    wb.remove(wb.active)
    for s in spec.sheets():
        if s.optional and s.name not in data:
            continue
        ws = wb.create_sheet(s.name)
        used = {k for row in data.get(s.name, []) for k in row}
        columns = [c.name for c in s.columns if c.since == 1 or c.name in used]
        ws.append(columns)
        for row in data.get(s.name, []):
            ws.append([row.get(spec.header_key(c)) for c in columns])
    wb.save(path)
    return path


def test_an_import_counts_every_kept_quarter_again(store, counted, tmp_path):
    """An import may touch any quarter: it counts again itself every quarter the dashboard's views offered
    today show (the quarter in progress and the ten before, each with its seven before), for a manager and
    a coordinator, so an opening at the oldest quarter offered counts nothing either."""
    before = store.reach.dashboard(PERIOD)
    book = _workbook(tmp_path / "more.xlsx", {
        "Clients": [{"client_ref": "HT-000901", "first_name": "Ada", "last_name": "Imported",
                     "date_of_birth": "1970-01-01", "gender": "2", "ethnicity": "A"}],
        "Referrals": [{"referral_ref": "RF-000901", "client_ref": "HT-000901", "received_date": "2026-05-01",
                       "source": "SELF"}],
        "Sessions": [{"referral_ref": "RF-000901", "date": "2026-05-10", "trainer": TRAINER, "mode": "F2F",
                      "attendance": "5"}],
    })
    other = _opened(store.path)
    counted.clear()
    try:
        report = other.transfer.import_workbook(book, today=TODAY)
        assert report.ok, [f"{i.sheet}|{i.row}|{i.column}|{i.reason}" for i in report.failures]
    finally:
        other.close()
    ahead = [p.code for p in reach.quarters_ending(parse_period("2026-27-Q3"), 18)]     # from TODAY's quarter
    assert counted == [ahead, ahead] and ahead[0] == "2022-23-Q2"
    counted.clear()
    later = _opened(store.path)
    try:
        after = later.reach.dashboard(PERIOD)
        assert later.reach.dashboard("2026-27-Q3").quarters[-2] == after.quarters[-1]
        oldest = later.reach.dashboard("2024-25-Q1")          # ten before the quarter in progress
        assert oldest.quarters[0].period.code == "2022-23-Q2" and counted == []
    finally:
        later.close()
    assert _starts(after, 1) == _starts(before, 1) + 1 == store.returns.figures("2026-27-Q1").value("STARTS")


def test_quarters_counted_by_another_version_of_the_engine_are_counted_again(store, counted, monkeypatch):
    store.reach.dashboard(PERIOD)
    monkeypatch.setattr(reach_kept, "_ENGINE", ["another-version"])
    other = _opened(store.path)
    try:
        other.reach.dashboard(PERIOD)
    finally:
        other.close()
    assert len(counted) == 2 and len(counted[1]) == 8
    scopes = {s for (s,) in store.db.conn.execute("SELECT DISTINCT scope FROM reach_figures")}
    assert scopes and all(s.startswith("another-version|") for s in scopes)     # the old ones are gone


def test_after_an_app_update_the_earlier_versions_figures_are_shown_while_counted_again(store, counted,
                                                                                        monkeypatch):
    """The first opening after an update shows the eight quarters at once as the earlier version counted
    them, all said to be counting again; the count then replaces them, and keeping it drops only that
    scope's earlier figures of the quarters counted (the older ones and a coordinator's are still shown
    while they are counted)."""
    monkeypatch.setattr(reach_kept, "_ENGINE", ["test-engine"])
    first = store.reach.dashboard(PERIOD)
    store.reach.dashboard(PERIOD, sections=reach.OPERATIONAL)
    store.reach.dashboard("2025-26-Q1")                 # 2023-24 Q2 to 2025-26 Q1: six quarters before PERIOD's
    store.diary.add(2, {"session_date": "2026-06-28", "attendance": "5", "mode": "F2F", "staff_id": 2}, today=TODAY)
    monkeypatch.setattr(reach_kept, "_ENGINE", ["another-version"])
    other = _opened(store.path)
    try:
        kept, stale = other.reach.kept_dashboard(PERIOD)
        assert kept.earlier_version and len(counted) == 3
        assert stale == tuple(p.code for p in reach.quarters_ending(parse_period(PERIOD)))
        assert [q.figures for q in kept.quarters] == [q.figures for q in first.quarters]
        assert (_starts(kept, 1), _starts(kept)) == (1, 3)          # the earlier count, before the session
        now = other.reach.dashboard(PERIOD)
        assert (_starts(now, 1), _starts(now)) == (2, 2) and len(counted[3]) == 8
        again, stale = other.reach.kept_dashboard(PERIOD)
        assert not again.earlier_version and stale == ()
        # A quarter this version has not counted yet is still shown as the earlier version counted it.
        older, stale = other.reach.kept_dashboard("2025-26-Q1")
        assert older.earlier_version
        assert stale == ("2023-24-Q2", "2023-24-Q3", "2023-24-Q4", "2024-25-Q1", "2024-25-Q2")
    finally:
        other.close()
    # Keeping the count dropped the manager's earlier figures of the quarters it counted only: the older
    # ones and the coordinator's are shown until counted again.
    kept = {}
    for scope, period in store.db.conn.execute("SELECT scope, period FROM reach_figures"):
        engine, sections, _ = scope.split("|")
        kept.setdefault((engine, sections == ",".join(sorted(reach.OPERATIONAL))), set()).add(period)
    eight = {p.code for p in reach.quarters_ending(parse_period(PERIOD))}
    assert kept == {("another-version", False): eight, ("test-engine", True): eight,
                    ("test-engine", False): {"2023-24-Q2", "2023-24-Q3", "2023-24-Q4", "2024-25-Q1", "2024-25-Q2"}}


def test_figures_are_shown_when_they_cannot_be_kept(store):
    """Keeping the quarters is only a help: with another program holding the write lock the
    dashboard still shows its figures, and keeps nothing."""
    other = _opened(store.path)
    other.db.conn.execute("BEGIN IMMEDIATE")
    try:
        dash = store.reach.dashboard(PERIOD)
    finally:
        other.db.conn.execute("ROLLBACK")
        other.close()
    assert _starts(dash) == 3
    assert store.db.conn.execute("SELECT COUNT(*) FROM reach_figures").fetchone()[0] == 0
    store.reach._counted.clear()
    store.reach.dashboard(PERIOD)
    assert store.db.conn.execute("SELECT COUNT(*) FROM reach_figures").fetchone()[0] == 8


def test_a_write_to_one_referral_counts_only_that_referrals_quarters_again(store, counted):
    """C1 has R1 (received 10 June, started in Q1) and R6 (received 1 September): a session for R6
    counts Q2 again and keeps Q1, whose figures R6 does not touch."""
    before = store.reach.dashboard(PERIOD)
    other = _opened(store.path)
    other.diary.add(6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2}, today=TODAY)
    other.close()
    counted.clear()
    after = store.reach.dashboard(PERIOD)
    assert counted == [["2026-27-Q2"]]
    assert (_starts(after, 1), _starts(after)) == (_starts(before, 1), _starts(before) + 1)
    assert after.quarters[-1].figures == reach.quarter_figures(store.db, 1, parse_period(PERIOD),
                                                               after.instruments).figures


def test_attendance_recorded_counts_only_that_sessions_quarter_again(store, counted):
    """The everyday write: R3 (received 1 May, in Q1) has its 10 July session's attendance corrected
    from 'arrived late, not seen' to 'did not attend'. Only Q2 can change (the session's own quarter
    and later), so Q1 is kept; the figures are a fresh count's."""
    before = store.reach.dashboard(PERIOD)
    session_id, version = store.db.conn.execute(
        "SELECT id, row_version FROM sessions WHERE referral_id = 3 AND session_date = '2026-07-10'").fetchone()
    other = _opened(store.path)
    other.diary.record_attendance(session_id, "3", expected_version=version, today=TODAY)
    other.close()
    counted.clear()
    after = store.reach.dashboard(PERIOD)
    assert counted == [["2026-27-Q2"]]
    dna = reach.ITEM["dna"]
    assert after.current(dna).numerator == before.current(dna).numerator + 1
    assert after.quarters[-1].figures == reach.quarter_figures(store.db, 1, parse_period(PERIOD),
                                                               after.instruments).figures
    assert after.quarters[-2].figures == before.quarters[-2].figures


def test_after_every_kind_of_write_the_kept_quarters_are_a_fresh_counts(store, counted):
    """Signposting followed up, a goal reviewed, an exit assessment on a closed referral, a referral
    closed, a plan agreed with a goal already met, each in a past quarter: after each, this store's
    dashboard and the next opening's are exactly what counting all eight quarters afresh gives."""
    from db import assessments
    periods = reach.quarters_ending(parse_period(PERIOD))
    on = tuple(assessments.enabled_instruments(store.db, "TEST"))
    conn = store.db.conn
    sign_id, sign_v = conn.execute("SELECT id, row_version FROM signposting WHERE referral_id = 1").fetchone()
    goal_id, goal_v = conn.execute("SELECT g.id, g.row_version FROM goals g JOIN plans p ON p.id = g.plan_id "
                                   "WHERE p.referral_id = 1").fetchone()
    writes = [
        lambda s: s.signposting.record_outcome(sign_id, {"outcome": "attended", "outcome_date": "2026-07-01"},
                                               expected_version=sign_v, today=TODAY),
        lambda s: s.plans.update_goal(goal_id, {"status": "NOT", "status_date": "2026-07-15"},
                                      expected_version=goal_v, today=TODAY),
        lambda s: s.assessments.add(1, "2026-08-31", "EXIT", "BODY", {"weight_kg": 99}, today=TODAY),
        lambda s: s.referrals.close(6, "2026-09-20", "COMPLETED", today=TODAY),
        lambda s: s.plans.add(3, {"agreed_date": "2026-06-01"}, goals=[
            {"area": "DIET", "goal_text": "Porridge, not toast", "status": "FULL", "status_date": "2026-06-15"}],
            today=TODAY),
    ]
    shown = store.reach.dashboard(PERIOD)
    for write in writes:
        write(store)
        dash = store.reach.dashboard(PERIOD)
        fresh = reach.span_figures(store.db, 1, periods, on)
        assert [q.figures for q in dash.quarters] == [q.figures for q in fresh]
        assert [q.figures for q in dash.quarters] != [q.figures for q in shown.quarters]      # it did change
        shown = dash
    nxt = _opened(store.path)
    try:
        assert [q.figures for q in nxt.reach.dashboard(PERIOD).quarters] == [q.figures for q in shown.quarters]
    finally:
        nxt.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from datetime import date
    from db.demo import create_demo
    path = tmp_path_factory.mktemp("reach-demo") / "demo.sqlite3"
    create_demo(path, clients=300, seed=5, today=date(2026, 11, 30))
    return path


@pytest.fixture
def demo(demo_db):
    s = CaseStore.open(demo_db)          # shared by the tests: the counts below keep nothing
    s.sign_in("manager", "demo")
    yield s
    s.close()


@pytest.mark.parametrize("last, n", [("2026-27-Q3", 8), ("2025-26-Q3", 8), ("2026-27-Q1", 1), ("2025-26-Q4", 3)])
def test_a_demos_quarters_counted_together_are_each_quarters_own_count(demo, last, n):
    """The dashboard's count of several quarters at once (each source read once; a referral a start in
    the quarter of its first attended session of the span unless it had one before; the others one
    weighted row a quarter; pairs made from plain rows) gives, quarter by quarter, exactly what the
    return's engine counts for that quarter alone, on a demo of 300 clients over two years: eight
    quarters inside the demo (people who started before them are active in them), eight starting before
    the demo, one quarter (a recount after a write) and three (a new quarter chosen); the operational
    half alone the same."""
    from db import assessments
    service = demo.service.get()
    on = assessments.enabled_instruments(demo.db, service.code)
    periods = reach.quarters_ending(parse_period(last), n)
    together = reach.span_figures(demo.db, service.id, periods, on)
    assert [q.period for q in together] == periods
    for p, q in zip(periods, together):
        assert q.figures == reach.quarter_figures(demo.db, service.id, p, on).figures, p.label
        ret = {f.key: f for f in demo.returns.figures(p).figures}
        shared = [k for k in q.figures if k in ret]
        assert len(shared) > 20 and all(ret[k] == q.figures[k] for k in shared), p.label
    starts = [q.figures[("STARTS", "all")].value for q in together]
    assert sum(starts) > 0
    # The operational half (a coordinator's) reads no assessment, and counts the same.
    operational = {i.measure for i in reach.ITEMS if i.section in reach.OPERATIONAL}
    half = reach.span_figures(demo.db, service.id, periods, on, sections=reach.OPERATIONAL)
    assert [q.figures for q in half] == [{k: f for k, f in q.figures.items() if k[0] in operational}
                                         for q in together]
    if last == "2026-27-Q3":
        first = together[0].figures
        assert first[("CASELOAD_PER_TRAINER", "all")].numerator > first[("STARTS", "all")].value > 0
        assert together[-1].figures[("OUTCOME_MEANINGFUL", "score=weight_kg")].denominator > 0


def test_a_new_demos_dashboard_opens_from_quarters_counted_when_it_was_made(demo_db, monkeypatch):
    """The demo counts and keeps the quarters the dashboard's views offered show (the first view: the
    quarter in progress and the seven before it) for a manager and for a coordinator: the first opening
    reads them, counting nothing, and they are what a count gives."""
    from db import assessments
    count = reach.span_figures
    for username, sections in (("manager", tuple(reach.SECTIONS)), ("coordinator", reach.OPERATIONAL)):
        store = CaseStore.open(demo_db)
        store.sign_in(username, "demo")
        try:
            service = store.service.get()
            on = assessments.enabled_instruments(store.db, service.code)
            periods = reach.quarters_ending(parse_period("2026-27-Q3"))
            expected = [q.figures for q in count(store.db, service.id, periods, on, sections)]

            def no_count(*args, **kw):
                raise AssertionError("counted again")
            monkeypatch.setattr(reach, "span_figures", no_count)
            shown = store.reach.dashboard("2026-27-Q3")
            assert [q.figures for q in shown.quarters] == expected
            assert bool(shown.sentences) == (username == "manager")     # the drift: the reach shares
        finally:
            monkeypatch.setattr(reach, "span_figures", count)
            store.close()


def test_an_import_with_nothing_new_counts_nothing_and_keeps_the_database_as_it_was(store, counted, tmp_path):
    book = _workbook(tmp_path / "same.xlsx", {
        "Clients": [{"client_ref": "HT-000902", "first_name": "Bea", "last_name": "Twice",
                     "date_of_birth": "1971-01-01", "gender": "2", "ethnicity": "A"}]})
    other = _opened(store.path)
    try:
        assert other.transfer.import_workbook(book, today=TODAY).committed
        counted.clear()
        kept = other.db.conn.execute("SELECT * FROM reach_figures ORDER BY 1, 2, 3").fetchall()
        again = other.transfer.import_workbook(book, today=TODAY)
        assert again.ok and not again.committed and counted == []
        assert other.db.conn.execute("SELECT * FROM reach_figures ORDER BY 1, 2, 3").fetchall() == kept
    finally:
        other.close()
