"""Client search on a demo database: a whole date of birth finds exactly the people born that
day, in every form people type it, while names, NHS numbers, postcodes and references still work."""
from __future__ import annotations

import random
from datetime import date

import pytest

from db.store import CaseStore
from db.validation import typed_date

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from db.demo import create_demo
    path = tmp_path_factory.mktemp("search") / "demo.sqlite3"
    create_demo(path, clients=3000, seed=11, today=TODAY)
    store = CaseStore.open(path)
    store.sign_in("manager", "demo")
    yield store
    store.close()


def _sample(store, n=60):
    rows = store.db.conn.execute(
        "SELECT id, date_of_birth, last_name, nhs_number, postcode, client_ref FROM clients "
        "WHERE archived_at IS NULL ORDER BY id").fetchall()
    return random.Random(5).sample(rows, n)


def _forms(iso: str) -> list[str]:
    y, m, d = iso.split("-")
    return [f"{d}/{m}/{y}", f"{int(d)}/{int(m)}/{y}", iso, f"{d}.{m}.{y}", f"{d} {m} {y}", f"{d}-{m}-{y}",
            f"{d}/{m}/{y[2:]}", f"{int(d)} {date.fromisoformat(iso):%b} {y}"]


def test_every_sampled_client_is_found_by_their_own_date_of_birth_and_only_that_date(demo_store):
    for client_id, dob, *_ in _sample(demo_store):
        born_that_day = {r[0] for r in demo_store.db.conn.execute(
            "SELECT id FROM clients WHERE date_of_birth = ? AND archived_at IS NULL", (dob,))}
        for text in _forms(dob):
            found = demo_store.clients.search(text)
            assert client_id in {c.id for c in found}, f"{text!r} did not find client {client_id}"
            if len(text) > 8:   # a two-digit year may also mean 19yy and 20yy; a full year means one day
                assert {c.date_of_birth for c in found} == {dob}, text
                assert {c.id for c in found} == born_that_day, text


def test_a_date_with_a_name_narrows_to_that_person(demo_store):
    for client_id, dob, last_name, *_ in _sample(demo_store, 20):
        y, m, d = dob.split("-")
        found = demo_store.clients.search(f"{last_name} {d}/{m}/{y}")
        assert client_id in {c.id for c in found}
        assert all(c.date_of_birth == dob and c.last_name == last_name for c in found)


def test_names_nhs_numbers_postcodes_and_references_still_find_the_client(demo_store):
    for client_id, _dob, last_name, nhs, postcode, ref in _sample(demo_store, 20):
        typed = [ref, ref[3:].lstrip("0"), f"{last_name}"]
        if nhs:
            typed += [nhs, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"]
        if postcode and postcode != "NFA":
            typed += [postcode, postcode.replace(" ", "")]
        for text in typed:
            found = demo_store.clients.search(text, limit=5000)
            assert client_id in {c.id for c in found}, f"{text!r} did not find client {client_id}"


def test_a_broad_prefix_lists_people_in_name_order(demo_store):
    for text in ("h", "HT-0", "1", "s"):
        found = demo_store.clients.search(text)
        assert len(found) == 200
        keys = [(c.last_name.casefold(), c.first_name.casefold(), c.id) for c in found]
        assert keys == sorted(keys), text


@pytest.mark.parametrize("text, expected", [
    ("19/10/1977", [date(1977, 10, 19)]),
    ("19/10/77", [date(1977, 10, 19)]),
    ("1977-10-19", [date(1977, 10, 19)]),
    ("19.10.1977", [date(1977, 10, 19)]),
    ("19 10 1977", [date(1977, 10, 19)]),
    ("19 Oct 1977", [date(1977, 10, 19)]),
    ("19/10/05", [date(1905, 10, 19), date(2005, 10, 19)]),
    ("19/10", None),                   # not a whole date: searched as words
    ("943 476 5919", None),            # an NHS number
    ("TS4 3BS", None),
    ("31/02/1980", None),              # not a real date
    ("HT-0", None),
])
def test_typed_date(text, expected):
    found = typed_date(text, today=TODAY)
    assert (found[0] if found else None) == expected
