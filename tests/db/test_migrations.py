"""Schema steps: a saved database of every earlier schema is upgraded, after a backup."""
import shutil

import pytest

from db import paths
from db.connection import open_database
from db.errors import BadPath, DatabaseUnusable
from db.migrations import migrations
from db.store import CaseStore
from pathlib import Path
from rawdb import raw_connect

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize("saved,first_pending", [("schema_0001_core.sqlite3", "0002_list_views"),
                                                  ("schema_0002_list_views.sqlite3", "0003_waiting_list_three_tries"),
                                                  ("schema_0003_waiting_list_three_tries.sqlite3", "0004_drafts"),
                                                  ("schema_0004_drafts.sqlite3", "0005_drop_code_lists"),
                                                  ("schema_0005_drop_code_lists.sqlite3", "0008_return_submissions"),
                                                  ("schema_head_0006_0007_0008.sqlite3", "0010_accounts_and_settings"),
                                                  ("schema_head_0009.sqlite3", "0012_reach_figures")])
def test_every_earlier_schema_is_backed_up_then_migrated(tmp_path, saved, first_pending):
    db_file = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURES / saved, db_file)
    store = CaseStore.open(db_file)
    assert migrations.pending(store.db) == []
    store.act_as_system()
    assert [c.client_ref for c in store.clients.search("zoe")] == ["HT-000001"]
    assert store.db.conn.execute("SELECT COUNT(*) FROM waiting_list").fetchone()[0] == 1   # a view of step 0002
    store.close()
    backups = list(paths.backups_dir(db_file).glob(f"old-before-{first_pending}-*.sqlite3"))
    assert len(backups) == 1
    kept = raw_connect(backups[0])
    assert kept.execute("SELECT first_name FROM clients").fetchone()[0] == "Zoë"
    assert first_pending not in {r[0] for r in kept.execute("SELECT name FROM _sqlite_migrations")}


def test_new_database_has_every_step_and_our_application_id(tmp_path):
    db = open_database(tmp_path / "new.sqlite3", create=True)
    assert db.conn.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"HTDK", "big")
    assert migrations.pending(db) == []
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not paths.backups_dir(tmp_path / "new.sqlite3").exists()   # nothing to back up on a new file


@pytest.mark.parametrize("content,error", [
    (b"hello, this is a text file\n" * 10, DatabaseUnusable),
    (None, DatabaseUnusable),       # another app's SQLite file
])
def test_foreign_files_are_refused_and_left_alone(tmp_path, content, error):
    path = tmp_path / "other.db"
    if content is None:
        conn = raw_connect(path)
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(error):
        open_database(path)
    assert path.read_bytes() == before


def test_missing_folder_and_missing_file_are_bad_paths(tmp_path):
    with pytest.raises(BadPath, match="does not exist"):
        open_database(tmp_path / "nope" / "x.sqlite3", create=True)
    with pytest.raises(BadPath, match="htdesk init"):
        open_database(tmp_path / "x.sqlite3")
    with pytest.raises(BadPath, match="folder"):
        open_database(tmp_path)


def test_a_failing_step_rolls_back_and_stays_pending(tmp_path):
    from sqlite_utils.migrations import Migrations
    from sqlite_utils import Database
    steps = Migrations("trial")

    @steps(name="0001")
    def one(db):
        db.execute("CREATE TABLE a (x)")

    @steps(name="0002")
    def two(db):
        db.execute("CREATE TABLE b (x)")
        raise RuntimeError("power cut")

    db = Database(raw_connect(tmp_path / "t.sqlite3"))
    with pytest.raises(RuntimeError):
        steps.apply(db)
    assert [m.name for m in steps.pending(db)] == ["0002"]
    assert not db["b"].exists() and db["a"].exists()
