"""A program killed mid-write loses no committed record and leaves a sound database."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from db import maintenance
from db.store import CaseStore

WRITER = textwrap.dedent("""
    import sys
    from datetime import date
    from db.store import CaseStore
    store = CaseStore.open(sys.argv[1])
    store.sign_in("admin", "amber-kettle-42")
    n = 0
    while True:
        n += 1
        ch = store.clients.add({"first_name": "Writer", "last_name": f"N{n}", "date_of_birth": "1970-01-01",
                               "gender": "1", "ethnicity": "A"}, today=date(2026, 1, 1))
        print(ch.ids[0], flush=True)
""")


def test_kill_during_writes_loses_nothing_committed(case_store, tmp_path):
    path = case_store.path
    case_store.close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True, env=env)
    committed = []
    deadline = time.time() + 60
    while len(committed) < 40 and time.time() < deadline:
        line = proc.stdout.readline()
        if line.strip():
            committed.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = CaseStore.open(path)
    store.sign_in("admin", "amber-kettle-42")
    assert all(r.ok for r in maintenance.check(store.db)), maintenance.check(store.db)
    found = {r[0] for r in store.db.conn.execute("SELECT id FROM clients")}
    assert set(committed) <= found and len(committed) >= 40
    # Each write landed whole: the client, its search entry and its audit event together.
    assert store.db.conn.execute("SELECT COUNT(*) FROM clients_search").fetchone()[0] == len(found)
    audited = {int(r[0]) for r in store.db.conn.execute("SELECT entity_id FROM audit WHERE entity='client' AND action='create'")}
    assert audited == found
    store.close()
