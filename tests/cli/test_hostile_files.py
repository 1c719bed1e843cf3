"""Hostile and broken files through the command line (issue 16, the fast part): malformed cells
and zip bombs are refused naming the sheet and cell or the limit, with the import report written
and nothing imported; foreign, newer-schema and non-regular database files are refused by every
command, changing nothing. benchmarks/reliability.py runs the long part."""
import os
import re
import time
import zipfile

import openpyxl
import pytest

from db.transfer import xlsx_reader
from desktop.cli import main
from reports import transfer_workbook
from rawdb import raw_connect


@pytest.fixture
def env(monkeypatch, tmp_path, case_store):
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HTDESK_PASSWORD", "amber-kettle-42")
    path = case_store.path
    case_store.close()
    return path


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="module")
def good_book(tmp_path_factory):
    """A template with one client on row 3 (first_name in D3, date_of_birth in G3)."""
    path = tmp_path_factory.mktemp("books") / "good.xlsx"
    transfer_workbook.write_template(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Clients"]
    header = [c.value for c in ws[1]]
    assert header[3] == "first_name" and header[6] == "date_of_birth"
    values = {"client_ref": "HT-000001", "first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01",
              "gender": "2", "ethnicity": "A"}
    for i, name in enumerate(header, 1):
        ws.cell(3, i, values.get(name))
    wb.save(path)
    return path


def _sheet_part(path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        names = openpyxl.load_workbook(path, read_only=True).sheetnames
        return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def patched(src, target, part: str, change) -> None:
    with zipfile.ZipFile(src) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            out.writestr(info.filename, data)


def _cell(xml: str, ref: str) -> re.Match:
    m = re.search(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml)
    assert m, ref
    return m


def replace_cell(ref: str, new: str):
    def change(xml: str) -> str:
        m = _cell(xml, ref)
        return xml[:m.start()] + new + xml[m.end():]
    return change


MALFORMED = {
    "shared string out of range": (replace_cell("D3", '<c r="D3" t="s"><v>99999</v></c>'), "D3"),
    "negative shared string": (replace_cell("D3", '<c r="D3" t="s"><v>-1</v></c>'), "D3"),
    "reference !!3": (replace_cell("D3", '<c r="!!3" t="inlineStr"><is><t>Ann</t></is></c>'), "'!!3'"),
    "reference ZZZZZZZZ3": (replace_cell("D3", '<c r="ZZZZZZZZ3" t="inlineStr"><is><t>Ann</t></is></c>'),
                            "'ZZZZZZZZ3'"),
    "row number abc": (lambda xml: xml.replace('<row r="3"', '<row r="abc"', 1), "'abc'"),
    "number sixty": (replace_cell("D3", '<c r="D3"><v>sixty</v></c>'), "D3"),
    "number NaN": (replace_cell("G3", '<c r="G3"><v>NaN</v></c>'), "G3"),
    "number 1e999": (replace_cell("G3", '<c r="G3" s="0"><v>1e999</v></c>'), "G3"),
    "date not-a-date": (replace_cell("G3", '<c r="G3" t="d"><v>not-a-date</v></c>'), "G3"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_cell_is_exit_2_naming_sheet_and_cell_with_the_report_written(env, good_book, tmp_path, capsys,
                                                                                 case):
    change, named = MALFORMED[case]
    bad = tmp_path / "bad.xlsx"
    patched(good_book, bad, _sheet_part(good_book, "Clients"), change)
    code, text = cli(capsys, "import", bad, "--db", env, "--user", "admin")
    assert code == 2, text
    assert "Clients" in text and named in text, text
    assert "Something went wrong" not in text and "Traceback" not in text
    report = tmp_path / "bad-import-report.txt"
    assert report.exists() and named in report.read_text(encoding="utf-8")
    conn = raw_connect(env)
    assert conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 0
    conn.close()


def test_the_good_book_itself_imports(env, good_book, tmp_path, capsys):
    code, text = cli(capsys, "import", good_book, "--db", env, "--user", "admin", "--dry-run")
    assert code == 0, text


def _bomb(path, part_name: str, payload: bytes, base) -> None:
    with zipfile.ZipFile(base) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist() if i.filename != part_name]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in items:
            out.writestr(name, data)
        out.writestr(part_name, payload)


def test_a_whitespace_zip_bomb_is_refused_by_its_ratio_before_anything_is_inflated(env, good_book, tmp_path, capsys):
    part = _sheet_part(good_book, "Clients")
    with zipfile.ZipFile(good_book) as z:
        xml = z.read(part)
    payload = xml.replace(b'<row r="3"', b"<row r=\"3\">" + b" " * (24 << 20) + b"</row><row r=\"4\"", 1)
    bomb = tmp_path / "bomb.xlsx"
    _bomb(bomb, part, payload, good_book)
    assert bomb.stat().st_size < 200_000
    started = time.perf_counter()
    code, text = cli(capsys, "import", bomb, "--db", env, "--user", "admin")
    assert code == 2 and "zip bomb" in text and part in text, text
    assert time.perf_counter() - started < 10
    assert (tmp_path / "bomb-import-report.txt").exists()


def test_a_row_too_large_and_too_many_or_too_long_shared_strings_are_each_named(env, good_book, tmp_path, capsys,
                                                                               monkeypatch):
    # Small limits, the same code paths as the real ones (the long suite uses the real sizes).
    monkeypatch.setattr(xlsx_reader, "MAX_ROW_BYTES", 64 << 10)
    monkeypatch.setattr(xlsx_reader, "MAX_SHARED_STRINGS", 1000)
    part = _sheet_part(good_book, "Clients")
    with zipfile.ZipFile(good_book) as z:
        xml = z.read(part)
    cases = {
        "row": (part, xml.replace(b"<row r=\"3\"", b"<row r=\"3\">" + b"<c/>" * 40000 + b"</row><row r=\"4\"", 1),
                "row 3 is larger than"),
        "count": ("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                  + b"".join(b"<si><t>s%d</t></si>" % i for i in range(1500)) + b"</sst>", "more than 1,000 different texts"),
        "length": ("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   b"<si><t>" + os.urandom(30000).hex().encode() + b"</t></si></sst>", "more than 32,767 characters"),
    }
    for name, (part_name, payload, expected) in cases.items():
        book = tmp_path / f"{name}.xlsx"
        _bomb(book, part_name, payload, good_book)
        if part_name == "xl/sharedStrings.xml":
            _add_shared_strings_type(book)
        code, text = cli(capsys, "import", book, "--db", env, "--user", "admin")
        assert code == 2 and expected in text, (name, text)


def _add_shared_strings_type(book) -> None:
    with zipfile.ZipFile(book) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in items:
            if name == "[Content_Types].xml" and b"sharedStrings" not in data:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            out.writestr(name, data)


def test_a_part_larger_than_its_limit_in_the_zip_directory_is_refused_unopened(good_book, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_reader, "MAX_OTHER_PART_BYTES", 1000)
    with pytest.raises(xlsx_reader.WorkbookTooLarge, match=r"its part xl/\S+ would unpack to .* \(the limit is 1 KB\)"):
        xlsx_reader.Workbook(good_book)


# --- database files that are not ours, for every command --------------------------------------------------

COMMANDS = [
    ("check",), ("backup",), ("export", "{tmp}/e.xlsx"), ("import", "{book}"), ("return", "2026-27-Q1", "--out", "{tmp}/r.xlsx"),
    ("restore", "{backup}"), ("user", "lock", "someone"), ("plan", "HT-000001", "--out", "{tmp}/p.pdf"),
    ("letter", "appointment", "RF-000001", "--out", "{tmp}/l.pdf"),
]


def _foreign(path):
    conn = raw_connect(path)
    conn.execute("PRAGMA user_version = 3")
    conn.close()


def _newer(path, template):
    from db.connection import copy_database
    copy_database(template, path)
    conn = raw_connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('htdesk', '0099_x', 'now')")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app_version', '7.0')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind", ["foreign", "newer", "fifo"])
def test_every_command_refuses_a_database_that_is_not_ours_with_exit_4_and_changes_nothing(env, good_book, tmp_path,
                                                                                          capsys, kind):
    db = tmp_path / f"{kind}.sqlite3"
    if kind == "foreign":
        _foreign(db)
    elif kind == "newer":
        _newer(db, env)
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(db)
    before = db.read_bytes() if kind != "fifo" else None
    expected = {"foreign": "another program", "newer": "newer version of Health Trainer Desk (version 7.0)",
                "fifo": "not a regular file"}[kind]
    for command in COMMANDS:
        args = [a.format(tmp=tmp_path, book=good_book, backup=env) for a in command]
        started = time.perf_counter()
        code, text = cli(capsys, *args, "--db", db, "--user", "admin")
        assert code == 4, (command, text)
        assert expected in text and "Traceback" not in text, (command, text)
        assert time.perf_counter() - started < 5
        if before is not None:
            assert db.read_bytes() == before, command
    # (SQLite's read-only look at a WAL file may leave its empty -wal and -shm companions.)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(kind) and not p.name.endswith(("-wal", "-shm", ".keys"))
                  ) == [db.name]
    assert not (tmp_path / "e.xlsx").exists() and not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize("kind", ["foreign", "fifo"])
def test_init_and_demo_leave_a_file_that_is_not_theirs_alone(env, tmp_path, capsys, kind):
    db = tmp_path / f"{kind}.sqlite3"
    if kind == "foreign":
        _foreign(db)
    elif not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    else:
        os.mkfifo(db)
    for command in (("init", "--service-name", "S", "--service-code", "S1", "--admin", "boss"),
                    ("demo", "--clients", "5")):
        code, text = cli(capsys, *command, "--db", db)
        assert code in (2, 4) and "Traceback" not in text, (command, text)
        assert (db.stat().st_size > 0) == (kind == "foreign")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((kind, "."))) == [db.name]


def test_an_import_that_cannot_get_the_write_lock_is_a_plain_busy_error_with_the_report_written(
        env, good_book, tmp_path, capsys, monkeypatch):
    """Another program takes the database just before the import writes, and keeps it past the
    busy timeout: the import stops with the plain busy error (exit 4 on the command line), its
    report says so, and nothing is imported."""
    from db import connection
    from db.errors import DatabaseBusy
    from db.store import CaseStore
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)
    book = tmp_path / "in.xlsx"
    book.write_bytes(good_book.read_bytes())
    store = CaseStore.open(env)
    store.sign_in("admin", "amber-kettle-42")
    holder = raw_connect(env, isolation_level=None)

    def take_the_lock(done, total, label):
        if label == "Looking up postcodes" and not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="in use by another program"):
            store.transfer.import_workbook(book, on_progress=take_the_lock)
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    report = (tmp_path / "in-import-report.txt").read_text(encoding="utf-8")
    assert "in use by another program" in report
    assert store.db.conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 0
    store.close()
    from desktop.cli import EXIT_DATABASE
    assert issubclass(DatabaseBusy, connection.DatabaseUnusable) and EXIT_DATABASE == 4


def test_a_zip_directory_asking_for_an_unknown_zip_version_is_damaged_not_exit_1(env, good_book, tmp_path, capsys):
    """Found by the fuzzer: one changed byte made zipfile raise NotImplementedError."""
    data = bytearray(good_book.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 6:at + 8] = (136).to_bytes(2, "little")      # "version 13.6 needed to extract"
    bad = tmp_path / "v136.xlsx"
    bad.write_bytes(bytes(data))
    code, text = cli(capsys, "import", bad, "--db", env, "--user", "admin")
    assert code == 2 and "is damaged" in text and "Something went wrong" not in text, text
