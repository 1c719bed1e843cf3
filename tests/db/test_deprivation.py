"""Postcode -> LSOA (2011) -> IMD 2019, checked against the shipped files themselves.

The cache is pointed at session temp folders: the North East lookup is built once
for the session, the England one at most once (a few seconds). Tests that build or
break files use their own folder through monkeypatch.
"""
import csv
import gzip
import hashlib
import itertools
import os
import re
import sqlite3
import threading
import time
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

import resources
from db import deprivation
from db.deprivation import (
    Deprivation, DeprivationLookup, ReferenceDataError, licence_lines, quintile,
)
from db.errors import BadPath, Cancelled, ValidationError

NE = deprivation.NORTH_EAST_SOURCE
ENGLAND = deprivation.ENGLAND_SOURCE


def read_csv(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="session")
def imd() -> dict[str, tuple[str, int]]:
    """LSOA code -> (LAD code, decile), straight from the IMD file."""
    rows = read_csv(deprivation.IMD_SOURCE)[1:]
    return {r[0]: (r[2], int(r[5])) for r in rows}


@pytest.fixture(scope="session")
def session_cache():
    """The run's own cache folder (tests/conftest.py makes one per run), shared with the other tests
    that need the England reference, so it is built once per run, not once per module."""
    from db import paths
    return paths.cache_dir()


@pytest.fixture(scope="session")
def ne(session_cache):
    with DeprivationLookup.open(NE) as lookup:
        yield lookup


@pytest.fixture(scope="session")
def england(session_cache):
    started = time.perf_counter()
    lookup = DeprivationLookup.open(ENGLAND)
    seconds = time.perf_counter() - started
    print(f"\nEngland lookup built in {seconds:.1f} s, {lookup.path.stat().st_size / 1e6:.1f} MB")
    yield lookup
    lookup.close()


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("HTDESK_CACHE_DIR", str(folder))
    return folder


def write_source(path: Path, rows: list[tuple[str, str, str]], header="pcds,lsoa11cd,doterm") -> Path:
    text = header + "\n" + "".join(f"{pc},{lsoa},{term}\n" for pc, lsoa, term in rows)
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    return path


TINY = [("NE1 7RU", "E01008397", ""), ("SR1 1AA", "E01008703", "199912"), ("XX1 1XX", "E01999999", "")]


# --- pure parts ---------------------------------------------------------------

def test_quintile_is_ceil_of_half_the_decile():
    assert [quintile(d) for d in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    for bad in (0, 11, None, 2.0, True):
        with pytest.raises(ValueError):
            quintile(bad)


def test_deprivation_is_frozen():
    result = Deprivation("NFA", None, None, None, None, "nfa")
    with pytest.raises(FrozenInstanceError):
        result.match_status = "found"
    assert not result.matched


def test_licence_lines_are_exactly_those_of_the_shipped_files():
    assert licence_lines() == [
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        "Contains OS data © Crown copyright and database right 2022; Contains Royal Mail data © Royal Mail "
        "copyright and database right 2022; Source: Office for National Statistics licensed under the "
        "Open Government Licence v3.0.",
    ]
    readme = resources.path("reference", "README.md").read_text(encoding="utf-8")
    for line in licence_lines():
        assert line in readme


def test_readme_checksums_match_the_shipped_files():
    readme = resources.path("reference", "README.md").read_text(encoding="utf-8")
    listed = dict((name, sha) for sha, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M))
    shipped = sorted(p.name for p in resources.path("reference").glob("*.csv.gz"))
    assert sorted(listed) == shipped
    for name in shipped:
        assert hashlib.sha256(resources.path("reference", name).read_bytes()).hexdigest() == listed[name]


# --- North East lookups -------------------------------------------------------

def test_live_postcode(ne, imd):
    result = ne.lookup("NE1 7RU")
    assert result == Deprivation("NE1 7RU", "E01008397", 6, 3, "IMD2019", "found")
    assert imd["E01008397"] == ("E08000021", 6)
    assert result.matched


def test_postcode_as_typed_is_normalised(ne):
    assert ne.lookup("ne17ru") == ne.lookup(" NE1 7RU ")
    assert ne.lookup("dh13le").postcode == "DH1 3LE"


def test_terminated_postcode_keeps_its_lsoa_and_decile(ne):
    result = ne.lookup("SR1 1AA")      # terminated 1999-12
    assert result == Deprivation("SR1 1AA", "E01008703", 1, 1, "IMD2019", "terminated")
    assert result.matched


@pytest.mark.parametrize("postcode", ["ZZ1 1ZZ", "SW1A 1AA", "EH1 1YZ"])
def test_valid_format_not_in_the_file_is_not_found(ne, postcode):
    assert ne.lookup(postcode) == Deprivation(postcode, None, None, None, None, "not_found")


@pytest.mark.parametrize("typed", ["NFA", "nfa", "No fixed abode"])
def test_no_fixed_abode(ne, typed):
    assert ne.lookup(typed) == Deprivation("NFA", None, None, None, None, "nfa")


@pytest.mark.parametrize("typed", ["NE1", "not a postcode", "", "  "])
def test_bad_or_blank_postcode_is_a_validation_error(ne, typed):
    with pytest.raises(ValidationError) as exc:
        ne.lookup(typed)
    assert exc.value.fields == ["postcode"]


def test_every_500th_north_east_postcode_matches_the_files(ne, imd):
    rows = read_csv(NE)
    assert rows[0] == ["pcds", "lsoa11cd", "doterm"]
    checked = 0
    for pcds, lsoa, doterm in rows[1::500]:
        _, decile = imd[lsoa]
        status = "terminated" if doterm else "found"
        assert ne.lookup(pcds.lower().replace(" ", "")) == Deprivation(
            pcds, lsoa, decile, quintile(decile), "IMD2019", status)
        checked += 1
    assert checked > 200


def test_lsoa_info(ne):
    info = ne.lsoa_info("E01008397")
    assert (info.code, info.name, info.lad_code, info.lad_name) == (
        "E01008397", "Newcastle upon Tyne 024C", "E08000021", "Newcastle upon Tyne")
    assert (info.imd_rank, info.imd_decile, info.imd_quintile) == (18149, 6, 3)
    assert ne.lsoa_info("e01008397") == info
    assert ne.lsoa_info("E01999999") is None


def test_meta_counts_match_the_readme(ne):
    meta = ne.meta()
    assert (meta["postcodes"], meta["terminated"], meta["lsoas"]) == ("100448", "24786", "32844")
    assert meta["source_sha256"] == "986fa61c970b562e0c180e9344526d63218d6d5ab58a785ba6a297df1ae65ff0"
    assert meta["lsoas_without_imd"] == "0"


def test_cache_file_is_named_by_the_source_hash(ne, session_cache):
    assert ne.path.parent == session_cache
    assert ne.path.name.startswith("postcode_lsoa11_north_east-986fa61c970b-")
    assert DeprivationLookup.is_built(NE)
    assert not list(session_cache.glob("*.building"))


def test_opening_again_does_not_rebuild_and_reads_no_rows(ne):
    calls = []
    mtime = ne.path.stat().st_mtime_ns
    with DeprivationLookup.open(NE, on_progress=lambda *a: calls.append(a)) as again:
        assert again.path == ne.path
        assert again.lookup("NE1 7RU").imd_decile == 6
    assert calls == [] and ne.path.stat().st_mtime_ns == mtime


def test_lookup_is_read_only(ne):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ne._conn.execute("DELETE FROM postcode")


def test_lookup_from_another_thread(ne):
    results = []
    worker = threading.Thread(target=lambda: results.append(ne.lookup("SR1 1AA").match_status))
    worker.start()
    worker.join()
    assert results == ["terminated"]


def test_shipped_file_name_is_enough(session_cache, ne):
    with DeprivationLookup.open("postcode_lsoa11_north_east.csv.gz") as lookup:
        assert lookup.path == ne.path


# --- building -----------------------------------------------------------------

def test_build_reports_progress(own_cache):
    calls = []
    with DeprivationLookup.open(NE, on_progress=lambda *a: calls.append(a)) as lookup:
        assert lookup.lookup("NE1 7RU").match_status == "found"
    total = NE.stat().st_size
    assert all(t == total for _, t, _ in calls)
    dones = [d for d, _, _ in calls]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == total
    assert {label for _, _, label in calls} >= {"Reading deprivation data", "Reading postcodes", "Finishing"}


def test_cancel_leaves_nothing_behind(own_cache):
    with pytest.raises(Cancelled, match="cancelled"):
        DeprivationLookup.open(NE, cancelled=lambda: True)
    assert list(own_cache.iterdir()) == []
    assert not DeprivationLookup.is_built(NE)
    # Cancelling part-way, after some rows were written.
    seen = []
    with pytest.raises(Cancelled):
        deprivation.build(NE, on_progress=lambda *a: seen.append(a), cancelled=lambda: len(seen) >= 2)
    assert list(own_cache.iterdir()) == []
    # Next time it builds normally.
    with DeprivationLookup.open(NE) as lookup:
        assert lookup.lookup("SR1 1AA").match_status == "terminated"


def test_crash_mid_build_leaves_no_half_file(own_cache):
    def crash(done, total, label):
        if label == "Reading postcodes":
            raise RuntimeError("power cut")
    with pytest.raises(RuntimeError, match="power cut"):
        deprivation.build(NE, on_progress=crash)
    assert list(own_cache.iterdir()) == []


def test_changed_source_is_rebuilt_and_the_old_file_dropped(own_cache, tmp_path):
    source = write_source(tmp_path / "tiny.csv.gz", TINY[:2])
    with DeprivationLookup.open(source) as first:
        assert first.lookup("SR1 1AA").match_status == "terminated"
        assert first.lookup("XX1 1XX").match_status == "not_found"
        old_path = first.path
    write_source(source, TINY)
    assert not DeprivationLookup.is_built(source)
    with DeprivationLookup.open(source) as second:
        assert second.path != old_path
        assert second.lookup("XX1 1XX").match_status == "found"
    assert not old_path.exists()
    assert [p.name for p in own_cache.iterdir()] == [second.path.name]


def test_lsoa_missing_from_imd_gives_lsoa_but_no_deprivation(own_cache, tmp_path):
    source = write_source(tmp_path / "tiny.csv.gz", TINY)
    with DeprivationLookup.open(source) as lookup:
        assert lookup.lookup("xx11xx") == Deprivation("XX1 1XX", "E01999999", None, None, None, "found")
        assert lookup.lookup("NE1 7RU").imd_decile == 6
        assert lookup.meta()["lsoas_without_imd"] == "1"
        assert lookup.lsoa_info("E01999999").imd_decile is None


def test_damaged_cache_file_is_rebuilt(own_cache, tmp_path):
    source = write_source(tmp_path / "tiny.csv.gz", TINY)
    path = deprivation.database_path(source)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with DeprivationLookup.open(source) as lookup:
        assert lookup.lookup("NE1 7RU").match_status == "found"


def test_wrong_columns_are_refused(own_cache, tmp_path):
    source = write_source(tmp_path / "bad.csv.gz", TINY, header="postcode,lsoa,terminated")
    with pytest.raises(ReferenceDataError, match="expected columns"):
        DeprivationLookup.open(source)
    assert list(own_cache.iterdir()) == []


def test_duplicate_postcode_is_refused(own_cache, tmp_path):
    source = write_source(tmp_path / "dup.csv.gz", TINY + TINY[:1])
    with pytest.raises(ReferenceDataError, match="postcode twice"):
        DeprivationLookup.open(source)
    assert list(own_cache.iterdir()) == []


def test_short_row_is_refused_with_its_line(own_cache, tmp_path):
    source = tmp_path / "short.csv.gz"
    source.write_bytes(gzip.compress(b"pcds,lsoa11cd,doterm\nNE1 7RU,E01008397,\nSR1 1AA,E01008703\n"))
    with pytest.raises(ReferenceDataError, match="line 3"):
        DeprivationLookup.open(source)
    assert list(own_cache.iterdir()) == []


def test_stale_files_of_other_sources_are_left_alone(own_cache, tmp_path):
    tiny = write_source(tmp_path / "tiny.csv.gz", TINY)
    other = write_source(tmp_path / "tiny-extra.csv.gz", TINY[:1])
    other_path = deprivation.build(other)
    old_temp = own_cache / (deprivation.database_path(tiny).stem + "-abc123.building")
    old_temp.write_bytes(b"half")
    os.utime(old_temp, (0, 0))          # a crashed build from long ago
    deprivation.build(tiny)
    assert other_path.exists() and not old_temp.exists()


def test_missing_source_file(own_cache, tmp_path):
    with pytest.raises(BadPath):
        DeprivationLookup.open(tmp_path / "nowhere.csv.gz")


# --- England ------------------------------------------------------------------

def test_england_lookups(england, imd):
    assert england.lookup("sw1a1aa") == Deprivation("SW1A 1AA", "E01004736", 8, 4, "IMD2019", "found")
    assert england.lookup("W1A 0AX") == Deprivation("W1A 0AX", "E01002726", 4, 2, "IMD2019", "terminated")
    assert england.lookup("B33 8TH") == Deprivation("B33 8TH", "E01009513", 1, 1, "IMD2019", "found")
    assert england.lookup("NE1 7RU").lsoa_code == "E01008397"
    for outside in ("EH1 1YZ", "CF10 1AA", "BT1 1AA", "ZZ1 1ZZ", "GIR 0AA"):   # not English, or not real
        assert england.lookup(outside).match_status == "not_found"


def test_england_counts_match_the_readme(england):
    meta = england.meta()
    assert (meta["postcodes"], meta["terminated"], meta["lsoas"]) == ("2226377", "752316", "32844")
    assert meta["lsoas_without_imd"] == "0"


def test_every_10007th_england_postcode_matches_the_files(england, imd):
    with gzip.open(ENGLAND, "rt", encoding="utf-8", newline="") as f:
        rows = itertools.islice(csv.reader(f), 1, None, 10007)
        checked = 0
        for pcds, lsoa, doterm in rows:
            decile = imd[lsoa][1]
            assert england.lookup(pcds) == Deprivation(pcds, lsoa, decile, quintile(decile), "IMD2019",
                                                       "terminated" if doterm else "found")
            checked += 1
    assert checked > 200


def test_england_lookup_is_fast(england):
    started = time.perf_counter()
    for _ in range(2000):
        england.lookup("DH1 3LE")
    assert (time.perf_counter() - started) / 2000 < 0.001   # well under a millisecond each
