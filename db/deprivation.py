"""Postcode -> LSOA (2011) -> English Indices of Deprivation 2019 decile and quintile.

The shipped reference files are gzip CSVs (2.2 million postcodes for England). They
are turned once, on first use, into a compact SQLite file in the user's cache folder,
so that opening the lookup costs nothing and one lookup is one indexed read. The
cache file's name carries a hash of the source files: a changed source gets a new
file and is rebuilt, and an old file is never read by mistake.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import resources
from db import paths
from db.errors import BadPath, Cancelled, HTDeskError
from db.validation import NFA, fail, normalise_postcode

IMD_EDITION = "IMD2019"
MATCH_STATUSES = ("found", "terminated", "not_found", "nfa")

ENGLAND_SOURCE = resources.path("reference", "postcode_lsoa11_england.csv.gz")
NORTH_EAST_SOURCE = resources.path("reference", "postcode_lsoa11_north_east.csv.gz")
IMD_SOURCE = resources.path("reference", "imd2019_lsoa11.csv.gz")

# Bump when the cache file's tables change: the number is part of its file name.
SCHEMA_VERSION = 1

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

_POSTCODE_HEADER = ["pcds", "lsoa11cd", "doterm"]
_IMD_HEADER = ["lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", "imd_rank", "imd_decile"]
_BATCH = 100_000          # rows per executemany: progress and cancel checks in between
_STALE_TEMP_SECONDS = 3600  # a leftover temp file this old is from a crashed build

# The exact licence lines of the shipped files (resources/reference/README.md).
_OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
_ONS_POSTCODES = ("Contains OS data © Crown copyright and database right 2022; "
                  "Contains Royal Mail data © Royal Mail copyright and database right 2022; "
                  "Source: Office for National Statistics licensed under the Open Government Licence v3.0.")
LICENCES: dict[str, tuple[str, ...]] = {
    "imd2019_lsoa11.csv.gz": (_OGL,),
    "postcode_lsoa11_england.csv.gz": (_OGL, _ONS_POSTCODES),
    "postcode_lsoa11_north_east.csv.gz": (_OGL, _ONS_POSTCODES),
}


def licence_lines() -> list[str]:
    """Licence lines of the shipped reference files, each once, for the About box and README."""
    return list(dict.fromkeys(line for lines in LICENCES.values() for line in lines))




_CANCELLED = ("Building the postcode lookup was cancelled. It will be built the next time "
              "a postcode is looked up.")


class ReferenceDataError(HTDeskError):
    """A reference file is not in the expected layout."""


def quintile(decile: int) -> int:
    """IMD quintile from the decile: ceil(decile / 2); 1 is the most deprived fifth."""
    if isinstance(decile, bool) or not isinstance(decile, int) or not 1 <= decile <= 10:
        raise ValueError(f"an IMD decile is a whole number from 1 to 10, not {decile!r}")
    return math.ceil(decile / 2)


@dataclass(frozen=True)
class Deprivation:
    postcode: str               # normalised postcode, or "NFA"
    lsoa_code: str | None
    imd_decile: int | None
    imd_quintile: int | None
    imd_edition: str | None     # "IMD2019" when found or terminated
    match_status: str           # one of MATCH_STATUSES

    @property
    def matched(self) -> bool:
        """The postcode gave an LSOA (live or terminated): what DQ_POSTCODE_MATCHED counts."""
        return self.match_status in ("found", "terminated")


@dataclass(frozen=True)
class LsoaInfo:
    code: str
    name: str | None
    lad_code: str | None
    lad_name: str | None
    imd_rank: int | None
    imd_decile: int | None
    imd_quintile: int | None


# --- where the cache file lives ------------------------------------------------

_hash_cache: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and mtime stay the same (30 ms for England)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def _resolve(source: str | os.PathLike | None, default: Path) -> Path:
    """A source path; a bare file name is looked for among the shipped reference files."""
    path = Path(source) if source is not None else default
    if not path.is_file():
        shipped = resources.path("reference", str(source)) if source is not None else path
        if not shipped.is_file():
            raise BadPath(f"The reference file {path} was not found: reinstall the app, "
                          "or choose another file.")
        path = shipped
    return path.resolve()


def _stem(source: Path) -> str:
    return source.name.removesuffix(".gz").removesuffix(".csv")


def database_path(source: str | os.PathLike | None = None,
                  imd_source: str | os.PathLike | None = None) -> Path:
    """The cache file for this source: its name holds short hashes of both input files
    and the schema version, so any change means a new file."""
    src = _resolve(source, ENGLAND_SOURCE)
    imd = _resolve(imd_source, IMD_SOURCE)
    name = f"{_stem(src)}-{_sha256(src)[:12]}-imd{_sha256(imd)[:8]}-v{SCHEMA_VERSION}.sqlite3"
    return paths.cache_dir() / name


# --- building ------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- INTEGER PRIMARY KEY is the rowid itself, the cheapest key SQLite has; WITHOUT ROWID
-- would only add a second copy of the key here.
CREATE TABLE lsoa (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT, lad_code TEXT, lad_name TEXT,
    imd_rank INTEGER, imd_decile INTEGER
);
-- One row per postcode, clustered on the postcode: a lookup is one B-tree search.
-- The LSOA is a small integer and the flag 0/1 takes no bytes in SQLite's record format.
CREATE TABLE postcode (
    postcode TEXT PRIMARY KEY,
    lsoa INTEGER NOT NULL,
    terminated INTEGER NOT NULL
) WITHOUT ROWID;
"""


def _open_csv(path: Path, header: list[str]) -> tuple[io.BufferedReader, csv.reader]:
    """The raw file (its tell() is the progress through the compressed bytes) and a reader."""
    raw = open(path, "rb")
    try:
        text = io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="rb"), encoding="utf-8", newline="")
        reader = csv.reader(text)
        found = next(reader, None)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raw.close()
        raise ReferenceDataError(f"The reference file {path.name} cannot be read ({exc}): "
                                 "reinstall the app.") from exc
    if found != header:
        raw.close()
        raise ReferenceDataError(f"The reference file {path.name} does not have the expected columns "
                                 f"({', '.join(header)}): reinstall the app, or choose the right file.")
    return raw, reader


def _build_into(db_file: Path, source: Path, imd: Path, meta: dict[str, str],
                progress: ProgressFn, cancelled: CancelFn) -> None:
    total = source.stat().st_size
    os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT, 0o600))      # a cache of ours: the owner's only
    conn = sqlite3.connect(db_file, isolation_level=None)
    try:
        # A temp file that is thrown away on any failure needs no journal or syncing;
        # the finished file is fsynced once before it is renamed into place.
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                           "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536;")
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN")

        progress(0, total, "Reading deprivation data")
        raw, reader = _open_csv(imd, _IMD_HEADER)
        with raw:
            try:
                lsoas = [(i, code, name, lad_code, lad_name, int(rank), int(decile))
                         for i, (code, name, lad_code, lad_name, rank, decile) in enumerate(reader, 1)]
            except (ValueError, csv.Error) as exc:
                raise ReferenceDataError(f"{imd.name} line {reader.line_num} is not in the expected "
                                         f"layout ({exc}): reinstall the app.") from exc
        conn.executemany("INSERT INTO lsoa VALUES (?, ?, ?, ?, ?, ?, ?)", lsoas)
        ids = {row[1]: row[0] for row in lsoas}
        unknown: dict[str, int] = {}   # LSOAs in the postcode file but not in the IMD file

        def lsoa_id(code: str) -> int:
            try:
                return ids[code]
            except KeyError:
                # Kept with no decile rather than failing the whole build: the postcode
                # still gets its LSOA, and its deprivation is unknown.
                ids[code] = unknown[code] = len(ids) + 1
                return ids[code]

        raw, reader = _open_csv(source, _POSTCODE_HEADER)
        with raw:
            # The file is sorted by postcode in byte order, which is SQLite's BINARY
            # order: every insert lands at the right edge of the B-tree, so nothing is
            # moved and the build stays at a few seconds for England.
            rows = ((pc, lsoa_id(code), doterm != "") for pc, code, doterm in reader)
            try:
                while batch := list(itertools.islice(rows, _BATCH)):
                    if cancelled():
                        raise Cancelled(_CANCELLED)
                    conn.executemany("INSERT INTO postcode VALUES (?, ?, ?)", batch)
                    progress(min(raw.tell(), total), total, "Reading postcodes")
            except (ValueError, csv.Error, EOFError, OSError) as exc:
                # Raised while reading the row itself, so the line number is exact.
                raise ReferenceDataError(f"{source.name} line {reader.line_num} is not in the expected "
                                         f"layout ({exc}): reinstall the app.") from exc
            except sqlite3.IntegrityError as exc:
                raise ReferenceDataError(f"{source.name} lists a postcode twice (seen by line "
                                         f"{reader.line_num}): reinstall the app.") from exc
        if cancelled():
            raise Cancelled(_CANCELLED)

        progress(total, total, "Finishing")
        conn.executemany("INSERT INTO lsoa (id, code) VALUES (?, ?)",
                         [(i, code) for code, i in unknown.items()])
        counts = conn.execute("SELECT count(*), coalesce(sum(terminated), 0) FROM postcode").fetchone()
        meta = {**meta, "postcodes": str(counts[0]), "terminated": str(counts[1]),
                "lsoas": str(len(lsoas)), "lsoas_without_imd": str(len(unknown))}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open folders)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass   # in use by another copy of the app (Windows), or already gone


def _remove_stale(final: Path, stem: str) -> None:
    """Drop cache files of older versions of this source and temp files of crashed builds.
    The exact name pattern keeps "tiny" from touching the files of "tiny-extra"."""
    ours = re.compile(re.escape(stem) + r"-[0-9a-f]{12}-imd[0-9a-f]{8}-v[0-9]+(\.sqlite3|-.+\.building)")
    now = time.time()
    for other in final.parent.iterdir():
        match = ours.fullmatch(other.name)
        if not match or other == final:
            continue
        try:
            if match[1] == ".sqlite3" or now - other.stat().st_mtime > _STALE_TEMP_SECONDS:
                _remove_quietly(other)
        except OSError:
            pass


def build(source: str | os.PathLike | None = None, on_progress: ProgressFn | None = None,
          cancelled: CancelFn | None = None, imd_source: str | os.PathLike | None = None) -> Path:
    """Build the cache file for source (default: England) and return its path.

    Written to a temp file in the cache folder and renamed into place only when
    complete, so a crash or a cancel never leaves a half-built lookup behind.
    Raises errors.Cancelled when cancelled() becomes true.
    """
    src = _resolve(source, ENGLAND_SOURCE)
    imd = _resolve(imd_source, IMD_SOURCE)
    final = database_path(src, imd)
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    meta = {"schema_version": str(SCHEMA_VERSION), "source": src.name, "source_sha256": _sha256(src),
            "imd_source": imd.name, "imd_sha256": _sha256(imd), "imd_edition": IMD_EDITION,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    fd, temp_name = tempfile.mkstemp(prefix=f"{final.stem}-", suffix=".building", dir=final.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        _build_into(temp, src, imd, meta, on_progress or (lambda done, total, label: None),
                    cancelled or (lambda: False))
        _fsync(temp)
        try:
            os.replace(temp, final)
        except PermissionError:
            # Windows: another copy of the app built the same file and has it open.
            if not final.is_file():
                raise
            _remove_quietly(temp)
        _fsync_dir(final.parent)
    except BaseException:
        _remove_quietly(temp)
        raise
    _remove_stale(final, _stem(src))
    return final


# --- reading -------------------------------------------------------------------

_LOOKUP_SQL = ("SELECT p.terminated, l.code, l.imd_decile FROM postcode p "
               "JOIN lsoa l ON l.id = p.lsoa WHERE p.postcode = ?")
_LSOA_SQL = "SELECT code, name, lad_code, lad_name, imd_rank, imd_decile FROM lsoa WHERE code = ?"


def _connect_read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: the lookup can never change the file. check_same_thread=False so a worker
    # thread may use it too; the lock in DeprivationLookup keeps calls one at a time.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise sqlite3.DatabaseError("not a postcode lookup of this version")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class DeprivationLookup:
    """Read-only postcode -> deprivation lookup over the cache file. Opening reads no rows."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn = _connect_read_only(self.path)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, source: str | os.PathLike | None = None, on_progress: ProgressFn | None = None,
             cancelled: CancelFn | None = None) -> DeprivationLookup:
        """Open the lookup for source (default: England), building it first if needed
        (a few seconds for England; on_progress and cancelled as for build())."""
        path = database_path(source)
        if path.is_file():
            try:
                return cls(path)
            except sqlite3.Error:
                # Damaged on disk (the build itself never leaves a partial file): rebuild.
                _remove_quietly(path)
        return cls(build(source, on_progress, cancelled))

    @staticmethod
    def is_built(source: str | os.PathLike | None = None) -> bool:
        """True when the cache file for source exists, so open() will not need to build."""
        return database_path(source).is_file()

    def lookup(self, postcode_text: str) -> Deprivation:
        """Deprivation for a postcode as typed. Raises ValidationError for a blank or
        badly formed postcode; a well-formed one not in the file is "not_found"."""
        postcode = normalise_postcode(postcode_text)
        if postcode == NFA:
            return Deprivation(NFA, None, None, None, None, "nfa")
        if not postcode:
            raise fail("postcode", "Postcode is blank: enter the client's postcode, "
                                   "or NFA for no fixed abode.")
        with self._lock:
            row = self._conn.execute(_LOOKUP_SQL, (postcode,)).fetchone()
        if row is None:
            return Deprivation(postcode, None, None, None, None, "not_found")
        terminated, code, decile = row
        return Deprivation(postcode, code, decile, quintile(decile) if decile else None,
                           IMD_EDITION if decile else None, "terminated" if terminated else "found")

    def lsoa_info(self, code: str) -> LsoaInfo | None:
        """Name, local authority and IMD 2019 rank/decile of an LSOA (2011); None if unknown."""
        with self._lock:
            row = self._conn.execute(_LSOA_SQL, ((code or "").strip().upper(),)).fetchone()
        if row is None:
            return None
        decile = row[5]
        return LsoaInfo(*row, imd_quintile=quintile(decile) if decile else None)

    def local_area(self, lsoa_counts: dict[str, int], min_share: float = 0.05) -> tuple[tuple[str, ...], int, int]:
        """The local population's deprivation, for comparison with a service's clients: the local
        authorities holding at least min_share of the clients (lsoa_counts: LSOA code -> clients;
        at least the largest), and how many of their LSOAs there are and how many are in the two
        most deprived fifths (deciles 1-4). LSOAs hold similar numbers of people (about 1,500), so
        the share of LSOAs stands for the share of the population."""
        by_lad: dict[str, int] = {}
        names: dict[str, str] = {}
        codes = [c for c in lsoa_counts if c]
        with self._lock:
            for i in range(0, len(codes), 500):
                chunk = codes[i:i + 500]
                marks = ", ".join("?" * len(chunk))
                for code, lad, lad_name in self._conn.execute(
                        f"SELECT code, lad_code, lad_name FROM lsoa WHERE code IN ({marks})", chunk):
                    by_lad[lad] = by_lad.get(lad, 0) + lsoa_counts[code]
                    names[lad] = lad_name
            total = sum(by_lad.values())
            if not total:
                return (), 0, 0
            ranked = sorted(by_lad, key=lambda lad: (-by_lad[lad], lad))
            chosen = [lad for lad in ranked if by_lad[lad] >= min_share * total] or ranked[:1]
            marks = ", ".join("?" * len(chosen))
            n, deprived = self._conn.execute(
                f"SELECT COUNT(*), SUM(CASE WHEN imd_decile <= 4 THEN 1 ELSE 0 END) FROM lsoa "
                f"WHERE lad_code IN ({marks})", chosen).fetchone()
        return tuple(names[lad] for lad in chosen), n or 0, deprived or 0

    def meta(self) -> dict[str, str]:
        """How the file was built: sources, their SHA-256, counts, when."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DeprivationLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
