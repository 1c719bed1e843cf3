"""The audit trail's costs (issue 14), for people to read; timings belong here, never in the tests.

    python benchmarks/bench_audit.py [--rows 200000]

On a new database in a temporary folder: the cost of one chained audit row (audit.record inside
one transaction), `htdesk check`'s verification of the whole chain, opening a record through the
store (an audited opening, one short transaction of its own) against reading it again within the
same opening (no row written), the schema step's backfill of an unchained trail of the same size,
and a subject access bundle for one person whose record was opened 300 times.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    from db import audit, connection
    from db.store import CaseStore
    from reports.sar import write_bundle
    folder = Path(tempfile.mkdtemp(prefix="htdesk-bench-audit-"))
    try:
        path = folder / "bench.sqlite3"
        store = CaseStore.create_new(path, service_name="Bench Health Trainers", service_code="BENCH",
                                     admin_username="admin", admin_password="quartz-meadow-2026")
        store.sign_in("admin", "quartz-meadow-2026")
        client = store.clients.add({"first_name": "Ann", "last_name": "Bench", "date_of_birth": "1970-01-01",
                                    "gender": "2", "ethnicity": "A"}).ids[0]
        for _ in range(300):          # a person opened 300 times: a long-supported client's trail
            store.clients.record(client)
        t = time.perf_counter()
        store.privacy.write_subject_access(client, folder / "sar.zip", write_bundle=write_bundle)
        sar = time.perf_counter() - t
        # The rest of the service's trail: other people's events (entity ids of no client here).
        t = time.perf_counter()
        with connection.transaction(store.db):
            for i in range(args.rows):
                audit.record(store.db, store.actor, "view", "referral", 10_000_000 + i, detail="referral")
        insert = time.perf_counter() - t
        t = time.perf_counter()
        checked, broken = audit.verify(store.db)
        verify = time.perf_counter() - t
        assert broken is None
        t = time.perf_counter()
        for _ in range(200):
            store.clients.record(client)
        opening = (time.perf_counter() - t) / 200
        t = time.perf_counter()
        for _ in range(200):
            store.clients.record(client, opening=False)
        again = (time.perf_counter() - t) / 200
        store.close()
        from db import keys             # the database is encrypted: a raw connection needs its key
        raw = connection.connect(path, key=keys.KeyFile.load(path).unwrap_password("admin", "quartz-meadow-2026")[0])
        raw.execute("DROP TRIGGER audit_only_redaction")
        raw.execute("UPDATE audit SET hash = NULL, payload_sha = NULL, client_id = NULL")
        t = time.perf_counter()
        audit.chain_all(raw)
        backfill = time.perf_counter() - t
        raw.close()
        result = {"rows": checked, "insert_us_per_row": round(insert / args.rows * 1e6, 1),
                  "verify_s": round(verify, 2), "record_opening_ms": round(opening * 1000, 2),
                  "record_same_opening_ms": round(again * 1000, 2), "backfill_s": round(backfill, 2),
                  "sar_bundle_s": round(sar, 2)}
        print(json.dumps(result))
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
