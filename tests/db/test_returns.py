"""The quarterly return's figures (RETURN.md), against a small service counted by hand
(tests/returns_scenario.py says what is in it)."""
from __future__ import annotations

from db.connection import copy_database
from datetime import date, datetime
from decimal import Decimal as D
from fractions import Fraction

import pytest

from db import codes, returns
from db.errors import NotFound, PermissionDenied, ValidationError
from db.periods import parse_period
from db.returns import Figure, apply_disclosure, round_half_away
from db.store import CaseStore
from returns_scenario import (ADMIN, ADMIN_PASSWORD, PERIOD, TODAY, TRAINER, TRAINER_PASSWORD, Scenario,
                              new_store, stub_deprivation)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("returns")
    scenario = Scenario(folder / "service.sqlite3")
    scenario.store.close()
    return folder / "service.sqlite3"


@pytest.fixture
def scenario_db(built, tmp_path):
    """A fresh copy of the scenario's database for each test that writes."""
    path = tmp_path / "service.sqlite3"
    copy_database(built, path)
    return path


@pytest.fixture
def store(scenario_db):
    s = CaseStore.open(scenario_db)
    s.sign_in(ADMIN, ADMIN_PASSWORD)
    stub_deprivation(s)
    yield s
    s.close()


def rows(measure, dim, codes_, nonzero=None, unknown=False):
    nonzero = nonzero or {}
    out = [(measure, f"{dim}={c}", nonzero.get(c, 0), None, None) for c in codes_]
    if unknown:
        out.append((measure, f"{dim}=unknown", nonzero.get("unknown", 0), None, None))
    return out


def count(measure, value, breakdown="all"):
    return (measure, breakdown, value, None, None)


def pct(measure, value, num, den, breakdown="all"):
    return (measure, breakdown, None if value is None else D(value), num, den)


def mean(measure, score, value, n):
    return (measure, f"score={score}", None if value is None else D(value), None, n)


SCORES = ["weight_kg", "bmi", "waist_cm", "swemwbs_metric", "ons4_satisfied", "ons4_worthwhile", "ons4_happy",
          "ons4_anxious", "auditc", "activity_days", "fruitveg_portions", "confidence"]   # WEMWBS is off by default
INSTRUMENTS_ON = ["BODY", "SWEMWBS", "ONS4", "AUDITC", "ACTIVITY", "FRUITVEG", "SMOKING", "CONFIDENCE"]


def expected_rows():
    area = codes.codes("area")
    baseline = {"weight_kg": ("100.00", 1), "bmi": ("34.60", 1), "swemwbs_metric": ("17.29", 2),
                "ons4_satisfied": ("4.00", 1), "auditc": ("7.00", 1)}
    exit_ = {"weight_kg": "95.00", "bmi": "32.87", "swemwbs_metric": "20.96", "ons4_satisfied": "7.00", "auditc": "1.00"}
    change = {"weight_kg": "-5.00", "bmi": "-1.73", "swemwbs_metric": "3.67", "ons4_satisfied": "3.00",
              "auditc": "-6.00"}
    improved = {"weight_kg": (1, 1), "bmi": (1, 1), "swemwbs_metric": (2, 2), "ons4_satisfied": (1, 1),
                "auditc": (1, 1)}
    out = [count("REFERRALS_RECEIVED", 4)]
    out += rows("REFERRALS_RECEIVED", "source", codes.codes("source"), {"GP": 1, "PHARM": 1, "OUTREACH": 1, "UNK": 1})
    out += rows("REFERRALS_RECEIVED", "source_group", ["COMMUNITY", "NHS", "OTHER"],
                {"COMMUNITY": 1, "NHS": 2, "OTHER": 1})
    out += [count("STARTS", 3), count("ACTIVE_REFERRALS", 4), count("SESSIONS_ATTENDED", 4)]
    out += rows("SESSIONS_ATTENDED", "mode", codes.codes("mode"), {"F2F": 2, "PHONE": 1, "GROUP": 1})
    out += [count("SESSIONS_DNA", 1), pct("DNA_RATE", "16.7", 1, 6),
            ("WAIT_DAYS_MEDIAN", "all", D("7.0"), None, 3), pct("WAIT_WITHIN_28_DAYS", "66.7", 2, 3),
            count("CLOSED", 4)]
    out += rows("CLOSED", "closure_reason", codes.codes("closure_reason"),
                {"COMPLETED": 2, "DISENGAGED": 1, "UNABLE": 1})
    out += rows("STARTS_BY", "gender", ["1", "2", "3", "4", "Z", "X"], {"1": 1, "2": 1, "Z": 1})
    out += rows("STARTS_BY", "age_band", ["under16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75plus"],
                {"16-24": 1, "25-34": 1, "65-74": 1})
    out += rows("STARTS_BY", "ethnic_group", ["WHITE", "MIXED", "ASIAN", "BLACK", "OTHER", "NOTSTATED"],
                {"ASIAN": 1, "BLACK": 1, "NOTSTATED": 1})
    out += rows("STARTS_BY", "imd_quintile", ["1", "2", "3", "4", "5"], {"2": 1, "unknown": 2}, unknown=True)
    out += rows("STARTS_BY", "gp_registered", ["Y", "N", "U"], {"Y": 1, "U": 1, "unknown": 1}, unknown=True)
    out += rows("STARTS_BY", "employment", ["01", "02", "03", "04", "05", "06", "07", "08", "ZZ"],
                {"01": 1, "ZZ": 1, "unknown": 1}, unknown=True)
    out += rows("STARTS_BY", "disability", ["Y", "N", "Z"], {"N": 1, "Z": 1, "unknown": 1}, unknown=True)
    out += [pct("STARTS_IMD_Q1_Q2", "100.0", 1, 1), pct("STARTS_COMMUNITY_SOURCE", "66.7", 2, 3),
            count("PLANS_AGREED", 2), count("GOALS_SET", 4)]
    out += rows("GOALS_SET", "area", area, {"DIET": 1, "ACTIVITY": 1, "MONEY": 1, "SOCIAL": 1})
    out += [count("GOALS_CLOSED", 3)]
    out += rows("GOALS_CLOSED", "area", area, {"DIET": 1, "ACTIVITY": 1, "WEIGHT": 1})
    out += rows("GOALS_CLOSED", "status", ["FULL", "PARTLY", "NOT"], {"FULL": 1, "PARTLY": 1, "NOT": 1})
    out += [pct("GOALS_ACHIEVED", "66.7", 2, 3)]
    achieved = {"DIET": ("100.0", 1, 1), "ACTIVITY": ("0.0", 0, 1), "WEIGHT": ("100.0", 1, 1)}
    out += [pct("GOALS_ACHIEVED", *achieved.get(a, (None, 0, 0)), breakdown=f"area={a}") for a in area]
    out += rows("OUTCOME_PAIRS", "instrument", INSTRUMENTS_ON,
                {"BODY": 1, "SWEMWBS": 2, "ONS4": 1, "AUDITC": 1, "SMOKING": 1})
    out += rows("OUTCOME_STOOD_IN", "instrument", INSTRUMENTS_ON, {"SWEMWBS": 1, "AUDITC": 1, "SMOKING": 1})
    out += [mean("OUTCOME_MEAN_BASELINE", k, *baseline.get(k, (None, 0))) for k in SCORES]
    out += [mean("OUTCOME_MEAN_EXIT", k, exit_.get(k), baseline.get(k, (None, 0))[1]) for k in SCORES]
    out += [mean("OUTCOME_MEAN_CHANGE", k, change.get(k), baseline.get(k, (None, 0))[1]) for k in SCORES]
    out += [pct("OUTCOME_IMPROVED", "100.0" if k in improved else None, *improved.get(k, (0, 0)),
                breakdown=f"score={k}") for k in SCORES]
    out += [pct("OUTCOME_MEANINGFUL", "100.0", 1, 1, breakdown="score=weight_kg"),
            pct("OUTCOME_MEANINGFUL", "50.0", 1, 2, breakdown="score=swemwbs_metric")]
    out += [pct("SMOKERS_QUIT", "100.0", 1, 1), pct("AUDITC_POSITIVE_TO_NEGATIVE", "100.0", 1, 1),
            count("SIGNPOSTED", 2)]
    out += rows("SIGNPOSTED", "category", codes.codes("signposting_category"), {"STOPSMOKING": 1, "FOOD": 1})
    out += rows("SIGNPOSTED", "type", ["signposted", "referred"], {"signposted": 1, "referred": 1})
    out += [pct("DQ_NHS_NUMBER", "33.3", 1, 3), pct("DQ_POSTCODE_MATCHED", "33.3", 1, 3),
            pct("DQ_ETHNICITY_RECORDED", "66.7", 2, 3), pct("DQ_PAIRED_WELLBEING", "50.0", 2, 4)]
    return out


# --- the figures ------------------------------------------------------------------------------

def test_data_sheet_rows_exactly(store):
    figures = store.returns.figures(PERIOD)
    got = figures.rows()
    want = expected_rows()
    assert [r[:2] for r in got] == [r[:2] for r in want]      # every row, in order
    for g, w in zip(got, want):
        assert g == w, g
    # Decimals keep their places: 7.0 days, 17.29, never -0.
    assert str(figures.value("WAIT_DAYS_MEDIAN")) == "7.0"
    assert str(figures.value("OUTCOME_MEAN_BASELINE", "score=swemwbs_metric")) == "17.29"
    assert str(figures.value("GOALS_ACHIEVED", "area=ACTIVITY")) == "0.0"


def test_meta(store):
    figures = store.returns.figures("2026-27 Q2", generated_at=datetime(2026, 10, 3, 9, 30, 5, 123))
    m = figures.meta
    assert (m.service_code, m.service_name, m.period.code) == ("TEST", "Test & Co Health Trainers", "2026-27-Q2")
    assert m.generated_at == datetime(2026, 10, 3, 9, 30, 5) and m.generated_by == "Bea Boss (boss)"
    assert m.disclosure == "none" and m.spec_version == "1" and m.instruments == tuple(INSTRUMENTS_ON)


def test_count_breakdowns_add_up(store):
    figures = store.returns.figures(PERIOD).figures
    by = {}
    for f in figures:
        if f.kind == "count":
            dim = f.breakdown.split("=")[0]
            by.setdefault((f.measure, dim), 0)
            by[(f.measure, dim)] += f.value
    starts = store.returns.figures(PERIOD).value("STARTS")
    for (measure, dim), total in by.items():
        if dim == "all":
            continue
        if measure == "STARTS_BY":
            assert total == starts, dim
        elif measure not in ("OUTCOME_PAIRS", "OUTCOME_STOOD_IN"):
            assert total == by[(measure, "all")], (measure, dim)


def test_start_in_another_quarter_from_the_referral(store):
    # R3 was received in Q1 and starts in Q2; R7 is received in Q2 and starts in Q3.
    assert store.returns.explain(PERIOD, "STARTS") == sorted(
        [store.referrals.get(i).referral_ref for i in (2, 3, 4)])
    q3 = store.returns.figures("2026-27-Q3")
    assert q3.value("STARTS") == 1 and q3.value("REFERRALS_RECEIVED") == 0
    assert q3.value("WAIT_DAYS_MEDIAN") == D("15.0")       # 20 Sep -> 5 Oct
    q1 = store.returns.figures("2026-27-Q1")
    assert q1.value("STARTS") == 1 and q1.value("ACTIVE_REFERRALS") == 1   # R1, 20 June


def test_whole_year_adds_the_quarters_counts(store):
    year = store.returns.figures("2026-27")
    quarters = [store.returns.figures(f"2026-27-Q{q}") for q in (1, 2, 3, 4)]
    for measure in ("REFERRALS_RECEIVED", "STARTS", "SESSIONS_ATTENDED", "SESSIONS_DNA", "CLOSED", "PLANS_AGREED",
                    "GOALS_SET", "GOALS_CLOSED", "SIGNPOSTED"):
        assert year.value(measure) == sum(q.value(measure) for q in quarters), measure


def test_empty_period_gives_zeros_and_empty_percentages(store):
    empty = store.returns.figures("2030-31-Q1")
    assert len(empty.figures) == len(expected_rows())
    for f in empty.figures:
        if f.kind == "count":
            assert f.value == 0, f
        elif f.kind == "percent":
            assert (f.value, f.numerator, f.denominator) == (None, 0, 0), f
        else:
            assert (f.value, f.numerator, f.denominator) == (None, None, 0), f


def test_age_on_the_start_date_with_the_29_february_rule(tmp_path):
    store = new_store(tmp_path / "leap.sqlite3")
    trainer = store.service.add_staff("Tom Trainer", "TRAINER")
    today = date(2025, 4, 10)
    # Born 29 Feb 2000: 24 on 28 Feb 2025, 25 from 1 March 2025 (2025 has no 29 February).
    for first, start in (("Ann", "2025-02-28"), ("Bob", "2025-03-01")):
        client = store.clients.add({"first_name": first, "last_name": "Leap", "date_of_birth": "2000-02-29",
                                   "gender": "2", "ethnicity": "A"}, today=today).ids[0]
        referral = store.referrals.add(client, {"received_date": "2025-02-01", "source": "SELF"}, today=today).ids[0]
        store.diary.add(referral, {"session_date": start, "attendance": "5", "mode": "F2F", "staff_id": trainer},
                          today=today)
    figures = store.returns.figures("2024-25-Q4")
    assert figures.value("STARTS_BY", "age_band=16-24") == 1
    assert figures.value("STARTS_BY", "age_band=25-34") == 1
    store.close()


def test_switched_off_instruments_leave_their_rows_out(store):
    store.service.set_enabled_instruments(["BODY", "ONS4"])
    figures = store.returns.figures(PERIOD)
    measures = {f.measure for f in figures.figures}
    assert not measures & {"SMOKERS_QUIT", "AUDITC_POSITIVE_TO_NEGATIVE", "DQ_PAIRED_WELLBEING"}
    assert [f.breakdown for f in figures.figures if f.measure == "OUTCOME_PAIRS"] == [
        "instrument=BODY", "instrument=ONS4"]
    scores = [f.breakdown for f in figures.figures if f.measure == "OUTCOME_MEAN_CHANGE"]
    assert scores == ["score=weight_kg", "score=bmi", "score=waist_cm", "score=ons4_satisfied",
                      "score=ons4_worthwhile", "score=ons4_happy", "score=ons4_anxious"]
    assert [f.breakdown for f in figures.figures if f.measure == "OUTCOME_MEANINGFUL"] == ["score=weight_kg"]
    store.service.set_enabled_instruments([])
    measures = {f.measure for f in store.returns.figures(PERIOD).figures}
    assert not any(m.startswith("OUTCOME_") for m in measures)
    with pytest.raises(NotFound):
        store.returns.explain(PERIOD, "OUTCOME_PAIRS", "instrument=BODY")


def test_wemwbs_switched_on_gets_its_rows(store):
    store.service.set_enabled_instruments(["SWEMWBS", "WEMWBS"])
    figures = store.returns.figures(PERIOD)
    assert [f.breakdown for f in figures.figures if f.measure == "OUTCOME_MEANINGFUL"] == [
        "score=swemwbs_metric", "score=wemwbs"]
    assert figures.get("OUTCOME_PAIRS", "instrument=WEMWBS").value == 0


def test_trainer_may_not_build_returns(store, scenario_db):
    other = CaseStore.open(scenario_db)
    other.sign_in(TRAINER, TRAINER_PASSWORD)
    with pytest.raises(PermissionDenied):
        other.returns.figures(PERIOD)
    with pytest.raises(PermissionDenied):
        other.returns.explain(PERIOD, "STARTS")
    other.close()


# --- explain -------------------------------------------------------------------------------------

def test_explain_lists_exactly_as_many_references_as_each_count(store):
    figures = store.returns.figures(PERIOD).figures
    checked = 0
    for f in figures:
        if f.kind == "count":
            refs = store.returns.explain(PERIOD, f.measure, f.breakdown)
            assert len(refs) == f.value, f
            checked += 1
    assert checked > 100


def test_explain_names_the_referrals(store):
    ref = {i: store.referrals.get(i).referral_ref for i in range(1, 8)}
    assert store.returns.explain(PERIOD, "STARTS_BY", "imd_quintile=unknown") == sorted([ref[2], ref[3]])
    assert store.returns.explain(PERIOD, "ACTIVE_REFERRALS") == sorted([ref[1], ref[2], ref[3], ref[4]])
    assert store.returns.explain(PERIOD, "OUTCOME_STOOD_IN", "instrument=SWEMWBS") == [ref[2]]
    assert store.returns.explain(PERIOD, "SESSIONS_ATTENDED", "mode=F2F") == sorted([ref[2], ref[4]])
    assert store.returns.explain(PERIOD, "REFERRALS_RECEIVED", "source_group=NHS") == sorted([ref[6], ref[7]])
    # A percentage: its numerator; a mean: the pairs it is over.
    assert store.returns.explain(PERIOD, "WAIT_WITHIN_28_DAYS") == sorted([ref[2], ref[4]])
    assert store.returns.explain(PERIOD, "OUTCOME_MEAN_BASELINE", "score=swemwbs_metric") == sorted([ref[1], ref[2]])
    assert store.returns.explain(PERIOD, "smokers_quit") == [ref[2]]


def test_explain_refuses_what_is_not_there(store):
    with pytest.raises(ValidationError) as info:
        store.returns.explain(PERIOD, "NO_SUCH_MEASURE")
    assert "STARTS" in str(info.value)
    with pytest.raises(ValidationError) as info:
        store.returns.explain(PERIOD, "STARTS_BY")          # no `all` row
    assert "gender=CODE" in str(info.value)
    with pytest.raises(ValidationError):
        store.returns.explain(PERIOD, "STARTS", "colour=blue")
    # An unknown code is refused with the codes it could be (an empty list would read as zero).
    with pytest.raises(ValidationError) as info:
        store.returns.explain(PERIOD, "REFERRALS_RECEIVED", "source=NOSUCH")
    assert "source=GP" in str(info.value) and "source=UNK" in str(info.value)
    with pytest.raises(ValidationError) as info:
        store.returns.explain(PERIOD, "STARTS_BY", "gender=unknown")      # gender is required: no unknown row
    assert "gender=1" in str(info.value)
    with pytest.raises(ValidationError) as info:
        store.returns.explain(PERIOD, "OUTCOME_IMPROVED", "score=nope")
    assert "score=swemwbs_metric" in str(info.value)
    # Every breakdown the Data sheet shows is accepted.
    for f in store.returns.figures(PERIOD).figures:
        store.returns.explain(PERIOD, f.measure, f.breakdown)


def test_explain_is_audited(store):
    store.returns.explain(PERIOD, "STARTS")
    events = store.admin.audit_events("return")
    assert events[0]["action"] == "view" and "STARTS" in events[0]["detail"]


# --- rounding and disclosure -----------------------------------------------------------------------

@pytest.mark.parametrize("value, places, shown", [
    (Fraction(17285, 1000), 2, "17.29"), (Fraction(-17285, 1000), 2, "-17.29"), (Fraction(1, 3), 1, "0.3"),
    (Fraction(-1, 100), 1, "0.0"), (Fraction(-5, 100), 1, "-0.1"), (Fraction(5, 100), 1, "0.1"),
    (D("2.5"), 0, "3"), (D("-2.5"), 0, "-3"), (0, 2, "0.00"), (Fraction(200, 3), 1, "66.7"),
])
def test_round_half_away_from_zero_never_minus_zero(value, places, shown):
    assert str(round_half_away(value, places)) == shown


def test_disclosure_nhs_england():
    given = [
        Figure("STARTS", "all", 0), Figure("CLOSED", "all", 1), Figure("CLOSED", "closure_reason=MOVED", 7),
        Figure("SESSIONS_ATTENDED", "all", 8), Figure("SESSIONS_DNA", "all", 12), Figure("PLANS_AGREED", "all", 13),
        Figure("GOALS_SET", "all", 1002),
        Figure("DNA_RATE", "all", D("12.5"), 4, 32),          # numerator suppressed
        Figure("WAIT_WITHIN_28_DAYS", "all", D("62.5"), 10, 16),   # from 10/15
        Figure("STARTS_IMD_Q1_Q2", "all", None, 0, 0),        # empty stays empty
        Figure("DQ_NHS_NUMBER", "all", D("0.0"), 0, 9),       # 0 stays 0
        Figure("WAIT_DAYS_MEDIAN", "all", D("7.0"), None, 7), # 7 people: suppressed
        Figure("OUTCOME_MEAN_BASELINE", "score=bmi", D("31.25"), None, 9),
        Figure("OUTCOME_MEAN_EXIT", "score=bmi", None, None, 0),
    ]
    got = [f.row() for f in apply_disclosure(given, "nhs-england")]
    assert got == [
        ("STARTS", "all", 0, None, None), ("CLOSED", "all", "*", None, None),
        ("CLOSED", "closure_reason=MOVED", "*", None, None), ("SESSIONS_ATTENDED", "all", 10, None, None),
        ("SESSIONS_DNA", "all", 10, None, None), ("PLANS_AGREED", "all", 15, None, None),
        ("GOALS_SET", "all", 1000, None, None),
        ("DNA_RATE", "all", "*", "*", 30),
        ("WAIT_WITHIN_28_DAYS", "all", D("66.7"), 10, 15),
        ("STARTS_IMD_Q1_Q2", "all", None, 0, 0),
        ("DQ_NHS_NUMBER", "all", D("0.0"), 0, 10),
        ("WAIT_DAYS_MEDIAN", "all", "*", None, "*"),
        ("OUTCOME_MEAN_BASELINE", "score=bmi", D("31.25"), None, 10),
        ("OUTCOME_MEAN_EXIT", "score=bmi", None, None, 0),
    ]
    assert apply_disclosure(given, "none") == given
    with pytest.raises(ValidationError):
        apply_disclosure(given, "public")


def test_disclosure_through_the_store(store):
    figures = store.returns.figures(PERIOD, sdc="nhs-england")
    assert figures.meta.disclosure == "nhs-england"
    assert figures.value("STARTS") == "*" and figures.value("STARTS_BY", "gender=3") == 0
    assert figures.get("DNA_RATE").row() == ("DNA_RATE", "all", "*", "*", "*")


# --- runs, submit, late changes ---------------------------------------------------------------------

def fake_writer(figures, meta, out):
    out.write_bytes(("|".join(map(str, (f.row() for f in figures))) + meta.generated_at.isoformat()).encode())


def test_build_records_audits_and_reports_late_changes(store, tmp_path):
    first = store.returns.build(PERIOD, tmp_path / "q2.xlsx", write_workbook=fake_writer,
                               generated_at=datetime(2026, 10, 5, 10, 0, 0))
    assert first.late_changes == () and first.compared_with is None
    assert (tmp_path / "q2.xlsx").exists() and len(first.sha256) == 64
    runs = store.returns.runs(PERIOD)
    assert runs[0]["id"] == first.run_id and runs[0]["file_name"] == "q2.xlsx"
    assert runs[0]["generated_by"] == "Bea Boss (boss)" and runs[0]["disclosure"] == "none"
    assert store.admin.audit_events("return_run")[0]["action"] == "export"
    assert not list(tmp_path.glob(".htdesk-return-*"))      # the temporary file is gone

    store.returns.submit(PERIOD, tmp_path / "q2.xlsx")
    assert store.admin.audit_events("return_run")[0]["action"] == "submit"

    # A late entry: R6 (received 1 Sep) turns out to have had an attended session on 10 Sep.
    store.diary.add(6, {"session_date": "2026-09-10", "attendance": "5", "mode": "VIDEO", "staff_id": 2},
                      today=TODAY)
    second = store.returns.build(PERIOD, tmp_path / "q2-again.xlsx", write_workbook=fake_writer)
    changed = {(c.measure, c.breakdown): (c.old, c.new) for c in second.late_changes}
    assert changed[("STARTS", "all")] == (3, 4)
    assert changed[("SESSIONS_ATTENDED", "mode=VIDEO")] == (0, 1)
    assert changed[("WAIT_DAYS_MEDIAN", "all")] == (D("7.0"), D("8.0"))      # waits 0, 7, 9, 106
    assert ("REFERRALS_RECEIVED", "all") not in changed
    assert second.compared_with["id"] == first.run_id


def test_late_changes_compare_under_the_submitted_policy(store, tmp_path):
    store.returns.build(PERIOD, tmp_path / "pub.xlsx", write_workbook=fake_writer, sdc="nhs-england")
    store.returns.submit(PERIOD, tmp_path / "pub.xlsx")
    again = store.returns.build(PERIOD, tmp_path / "full.xlsx", write_workbook=fake_writer, sdc="none")
    assert again.late_changes == ()


def test_submit_refuses_unknown_changed_wrong_period_or_twice(store, tmp_path):
    out = tmp_path / "q2.xlsx"
    store.returns.build(PERIOD, out, write_workbook=fake_writer)
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"not the file")
    with pytest.raises(NotFound) as info:
        store.returns.submit(PERIOD, other)
    assert "opened and saved" in str(info.value)
    with pytest.raises(ValidationError) as info:
        store.returns.submit("2026-27-Q3", out)
    assert "2026-27 Q2" in str(info.value)
    store.returns.submit(PERIOD, out)
    with pytest.raises(ValidationError) as info:
        store.returns.submit(PERIOD, out)
    assert "already submitted" in str(info.value)


def test_build_refuses_bad_output_paths(store, tmp_path):
    from db.errors import BadPath
    with pytest.raises(BadPath):
        store.returns.build(PERIOD, tmp_path / "q2.csv", write_workbook=fake_writer)
    with pytest.raises(BadPath):
        store.returns.build(PERIOD, tmp_path / "missing" / "q2.xlsx", write_workbook=fake_writer)
    assert store.returns.runs() == []


def test_a_failed_write_records_no_run(store, tmp_path):
    def broken(figures, meta, out):
        raise OSError("disk full")
    with pytest.raises(OSError):
        store.returns.build(PERIOD, tmp_path / "q2.xlsx", write_workbook=broken)
    assert store.returns.runs() == [] and not (tmp_path / "q2.xlsx").exists()
    assert not list(tmp_path.glob(".htdesk-return-*"))


def test_figures_json_round_trip():
    figures = [Figure("DNA_RATE", "all", D("16.70"), 1, 6), Figure("STARTS", "all", "*"),
               Figure("STARTS_IMD_Q1_Q2", "all", None, 0, 0), Figure("OUTCOME_MEAN_CHANGE", "score=bmi", D("-1.73"), None, 1)]
    back = returns.figures_from_json(returns.figures_to_json(figures))
    assert [f.row() for f in back] == [f.row() for f in figures]
    assert returns.late_changes(figures, back) == []


def test_period_is_checked(store):
    with pytest.raises(ValidationError) as info:
        store.returns.figures("Q2 2026")
    assert info.value.fields == ["period"]
    assert parse_period(PERIOD).code == PERIOD


def test_progress_is_reported_and_cancel_writes_nothing(store, tmp_path):
    from db.errors import Cancelled
    seen = []
    store.returns.build(PERIOD, tmp_path / "q2.xlsx", write_workbook=fake_writer,
                       on_progress=lambda done, total, label: seen.append((done, total)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    calls = iter([False, False, True])
    with pytest.raises(Cancelled):
        store.returns.build(PERIOD, tmp_path / "cancelled.xlsx", write_workbook=fake_writer,
                           cancelled=lambda: next(calls))
    assert not (tmp_path / "cancelled.xlsx").exists() and len(store.returns.runs()) == 1
