"""The demo's people read true (issue 12): goals whose words fit their area and person, ONS4 answers that
move independently, titles that match gender identity, towns that match postcodes."""
import json
from datetime import date

import pytest
from rawdb import raw_connect

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from db.demo import create_demo
    path = tmp_path_factory.mktemp("demo-words") / "demo.sqlite3"
    create_demo(path, clients=600, seed=5, today=TODAY)
    conn = raw_connect(path)
    yield conn
    conn.close()


def test_titles_match_gender_identity(demo):
    rows = demo.execute("SELECT gender, title FROM clients WHERE title IS NOT NULL").fetchall()
    assert rows
    allowed = {"1": {"Mr", "Dr"}, "2": {"Ms", "Mrs", "Miss"}, "3": {"Mx"}, "4": {"Mx"}}
    wrong = [(g, t) for g, t in rows if t not in allowed.get(g, set())]
    assert wrong == []


@pytest.mark.parametrize("district, town", [("NE33", "South Shields"), ("NE1", "Newcastle upon Tyne"),
                                            ("NE8", "Gateshead"), ("SR4", "Sunderland"), ("DH1", "Durham"),
                                            ("TS24", "Hartlepool"), ("DL1", "Darlington")])
def test_towns_match_postcodes(demo, district, town):
    towns = {t for (t,) in demo.execute("SELECT DISTINCT town FROM clients WHERE postcode LIKE ?", (district + " %",))}
    assert towns <= {town}
    assert demo.execute("SELECT COUNT(*) FROM clients WHERE postcode = 'NFA' AND town IS NOT NULL").fetchone()[0] == 0
    # Sunderland is never the town of a Newcastle postcode, as it was when towns were drawn at random.
    assert demo.execute("SELECT COUNT(*) FROM clients WHERE postcode LIKE 'NE%' AND town = 'Sunderland'").fetchone()[0] == 0


def test_goal_words_fit_their_area(demo):
    rows = demo.execute("SELECT area, goal_text, steps, barriers, who_can_help FROM goals").fetchall()
    assert len(rows) > 500
    assert not any("DVD" in (r[3] or "") for r in rows)
    barriers_by_area: dict[str, set] = {}
    for area, _, steps, barriers, _who in rows:
        assert steps and barriers and barriers.startswith("If ") and " then " in barriers
        barriers_by_area.setdefault(area, set()).add(barriers)
    areas = list(barriers_by_area)
    for i, a in enumerate(areas):            # no if-then plan is shared between two areas
        for b in areas[i + 1:]:
            assert not barriers_by_area[a] & barriers_by_area[b], (a, b)
    sexual = [r for r in rows if r[0] == "SEXUAL"]
    assert all("clinic" in (r[2] + r[3]).lower() for r in sexual)


def test_no_smoking_goal_for_someone_who_does_not_smoke(demo):
    smokers = {}
    for client_id, answers in demo.execute("SELECT client_id, answers FROM assessments WHERE instrument = 'SMOKING'"):
        smokers.setdefault(client_id, set()).add(json.loads(answers)["smoking_status"])
    goals = demo.execute("SELECT r.client_id FROM goals g JOIN plans p ON p.id = g.plan_id "
                         "JOIN referrals r ON r.id = p.referral_id WHERE g.area = 'SMOKING'").fetchall()
    assert goals
    wrong = [c for (c,) in goals if c in smokers and "1" not in smokers[c]]
    assert wrong == []
    carers = dict(demo.execute("SELECT id, carer FROM clients"))
    caring = demo.execute("SELECT r.client_id FROM goals g JOIN plans p ON p.id = g.plan_id "
                          "JOIN referrals r ON r.id = p.referral_id WHERE g.area = 'CARING'").fetchall()
    assert all(carers[c] == "Y" for (c,) in caring)


def test_the_four_ons4_answers_move_independently(demo):
    pairs = demo.execute(
        "SELECT a.scores, b.scores FROM assessments a JOIN assessments b ON a.referral_id = b.referral_id "
        "WHERE a.instrument = 'ONS4' AND b.instrument = 'ONS4' AND a.timepoint = 'BASELINE' AND b.timepoint = 'EXIT'"
    ).fetchall()
    assert len(pairs) > 20
    keys = ("ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious")
    moved_alike = 0
    for before, after in pairs:
        before, after = json.loads(before), json.loads(after)
        changes = [after[k] - before[k] for k in keys]
        changes[3] = -changes[3]            # anxiety improves downwards
        if len(set(changes)) == 1 and changes[0] != 0:
            moved_alike += 1
    assert moved_alike < len(pairs) * 0.15, (moved_alike, len(pairs))


def test_every_demo_plan_has_its_first_agreed_version(demo):
    plans, versions = demo.execute("SELECT (SELECT COUNT(*) FROM plans), (SELECT COUNT(*) FROM plan_versions "
                                   "WHERE version = 1)").fetchone()
    assert plans > 100 and versions == plans


def test_a_second_referral_starts_near_the_weight_the_person_had(demo):
    firsts = demo.execute(
        "SELECT a.client_id, a.referral_id, a.scores FROM assessments a "
        "WHERE a.instrument = 'BODY' AND a.timepoint = 'BASELINE' ORDER BY a.client_id, a.assessed_date").fetchall()
    by_client: dict = {}
    for client, referral, scores in firsts:
        by_client.setdefault(client, []).append(json.loads(scores)["weight_kg"])
    jumps = [max(w) / min(w) for w in by_client.values() if len(w) > 1]
    assert jumps and max(jumps) < 1.25, max(jumps)


def test_contacts_and_signposting_fit_the_areas(demo):
    from db.demo import _AREA_CATEGORIES
    rows = demo.execute("SELECT p.id, d.category FROM plan_contacts c JOIN plans p ON p.id = c.plan_id "
                        "JOIN directory d ON d.id = c.directory_id").fetchall()
    assert rows
    for plan_id, category in rows:
        areas = {a for (a,) in demo.execute("SELECT area FROM goals WHERE plan_id = ?", (plan_id,))}
        assert any(category in _AREA_CATEGORIES[a] for a in areas), (plan_id, category, areas)
    signs = demo.execute("SELECT referral_id, category FROM signposting").fetchall()
    assert signs
    fits = 0
    for referral_id, category in signs:
        areas = {a for (a,) in demo.execute("SELECT area FROM referral_reasons WHERE referral_id = ?", (referral_id,))}
        fits += any(category in _AREA_CATEGORIES[a] for a in areas)
    assert fits == len(signs)
