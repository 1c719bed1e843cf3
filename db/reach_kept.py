"""The dashboard's counted quarters kept in the database (step 0012_reach_figures), so an opening
reads them instead of counting: which quarters a write since may have changed, keeping a count, the
figures an earlier version of the app counted (shown while this one counts again), and after a bulk
load counting ahead every quarter the dashboard offers (db/reach.py counts)."""
from __future__ import annotations

from datetime import date
from typing import Callable, Iterable

from sqlite_utils import Database

from . import reach
from .errors import Cancelled
from .periods import Period
from .reach import (OPERATIONAL, OUTCOME_INSTRUMENTS, QUARTERS, QUARTERS_OFFERED, SECTIONS, QuarterFigures,
                    quarters_ending)
from .returns import figures_from_json, figures_to_json

# Counting eight quarters takes seconds at 50,000 clients; opening the dashboard should not. Each
# quarter's figures are kept with the last audit event the count saw (its mark). Every write through
# the store leaves an audit event in the same transaction (db/api.py), so the events written since a
# quarter's mark say whether it may have changed: every quarter from the earliest date the written
# record can change a figure from (_RECORD_DATES: a session's own date, a plan's agreed date...) or,
# for the referral itself, from the earliest date of anything of that referral (received, closed,
# sessions, plans, goals' status dates, signposting), and for a person's details, of anything of all
# their referrals; a date the event itself names (a session moved out of a quarter) counts too. An
# event about no person that is not known to leave the figures alone (an import, a restore, a
# venue's type, a setting) makes every quarter stale. A referral's figures in a quarter depend only on
# its own records of that quarter, its own earlier sessions (was it a start), the referral and the
# person's details, so the earlier quarters are kept; the stale ones are counted again, by the same
# engine, and kept in turn.

# Events that change nothing any figure reads: reading, signing in, printing, exporting, backups,
# submitting a return; and records no figure reads (accounts, staff details, the directory, letters).
_UNCOUNTED_ACTIONS = ("view", "login", "failed_login", "lock", "unlock", "print", "export", "backup", "submit")
_UNCOUNTED_ENTITIES = frozenset({"account", "staff", "directory", "document", "return_run", "audit",
                                 "contact_attempt", "safeguarding", "service"})
_CHUNK = 150                     # ids per look-up (six lists of them stay under SQLite's 999 values)

# The earliest dated thing a figure reads, of each of a few referrals, or of all a few clients' referrals.
_EARLIEST_OF = {
    "referral": """
SELECT referral_id, MIN(d) FROM (
    SELECT id AS referral_id, received_date AS d FROM referrals WHERE id IN ({ids})
    UNION ALL SELECT id, closed_date FROM referrals WHERE id IN ({ids})
    UNION ALL SELECT referral_id, MIN(session_date) FROM sessions WHERE referral_id IN ({ids}) GROUP BY referral_id
    UNION ALL SELECT referral_id, MIN(signpost_date) FROM signposting WHERE referral_id IN ({ids}) GROUP BY referral_id
    UNION ALL SELECT referral_id, MIN(agreed_date) FROM plans WHERE referral_id IN ({ids}) GROUP BY referral_id
    UNION ALL SELECT p.referral_id, MIN(g.status_date) FROM goals g JOIN plans p ON p.id = g.plan_id
              WHERE p.referral_id IN ({ids}) GROUP BY p.referral_id
) t WHERE d IS NOT NULL GROUP BY referral_id
""",
    "client": """
SELECT client_id, MIN(d) FROM (
    SELECT client_id, MIN(received_date) AS d FROM referrals WHERE client_id IN ({ids}) GROUP BY client_id
    UNION ALL SELECT client_id, MIN(closed_date) FROM referrals WHERE client_id IN ({ids}) GROUP BY client_id
    UNION ALL SELECT client_id, MIN(session_date) FROM sessions WHERE client_id IN ({ids}) GROUP BY client_id
    UNION ALL SELECT client_id, MIN(signpost_date) FROM signposting WHERE client_id IN ({ids}) GROUP BY client_id
    UNION ALL SELECT r.client_id, MIN(p.agreed_date) FROM plans p JOIN referrals r ON r.id = p.referral_id
              WHERE r.client_id IN ({ids}) GROUP BY r.client_id
    UNION ALL SELECT r.client_id, MIN(g.status_date) FROM goals g JOIN plans p ON p.id = g.plan_id
              JOIN referrals r ON r.id = p.referral_id WHERE r.client_id IN ({ids}) GROUP BY r.client_id
) t WHERE d IS NOT NULL GROUP BY client_id
""",
}
# The earliest date from which a record about one referral can change a figure: a session's own date
# (its quarter's sessions and attendance, and whether later quarters' attended sessions are starts);
# an assessment's referral's closed date (outcomes are counted in the quarter a referral closed; an
# open referral's assessments change no figure yet); a plan's agreed date (and its goals' status
# dates, for goals written with it); a goal's status date and its plan's agreed date; signposting's date. With any date the event names (a session moved), the
# quarters from the earliest on may change, no earlier one.
_RECORD_DATES = {
    "session": "SELECT id, session_date FROM sessions WHERE id IN ({ids})",
    "assessment": "SELECT a.id, r.closed_date FROM assessments a JOIN referrals r ON r.id = a.referral_id "
                  "WHERE a.id IN ({ids})",
    "signposting": "SELECT id, signpost_date FROM signposting WHERE id IN ({ids})",
    "plan": "SELECT p.id, p.agreed_date, (SELECT MIN(g.status_date) FROM goals g WHERE g.plan_id = p.id) "
            "FROM plans p WHERE p.id IN ({ids})",
    "goal": "SELECT g.id, CASE WHEN g.status_date IS NOT NULL AND g.status_date < p.agreed_date THEN g.status_date "
            "ELSE p.agreed_date END FROM goals g JOIN plans p ON p.id = g.plan_id WHERE g.id IN ({ids})",
}


def _looked_up(db: Database, template: str, ids, times: int) -> dict:
    """id -> the earliest of the dates each row gives (None when it gives none), a chunk at a time."""
    ids = sorted(set(ids))
    out: dict = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        for key, *dates in db.conn.execute(template.format(ids=", ".join("?" * len(chunk))), chunk * times):
            dates = [d for d in dates if d is not None]
            out[key] = min(dates) if dates else None
    return out


def _engine_files() -> list:
    from pathlib import Path
    import resources
    here = Path(__file__).resolve().parent
    files = sorted(p for p in here.rglob("*.py") if "__pycache__" not in p.parts)
    if not files:       # a frozen build keeps the code in its archive, not as files: fall back to the version
        raise OSError("the source files are not at hand")
    return files + [Path(resources.path("codes", "codes.json"))]


_ENGINE: list[str] = []


def engine_version() -> str:
    """A fingerprint of the code and code lists the figures are counted by (any change in a new
    version of the app counts every quarter again), or the app's version where the source is not
    at hand (a frozen build)."""
    if not _ENGINE:
        import hashlib
        digest = hashlib.sha256()
        try:
            for path in _engine_files():
                digest.update(path.name.encode("utf-8"))
                digest.update(path.read_bytes())
            _ENGINE.append(digest.hexdigest()[:16])
        except OSError:
            from .version import app_version
            _ENGINE.append("app-" + app_version())
    return _ENGINE[0]


def scope_of(sections: Iterable[str], instruments_on: Iterable[str]) -> str:
    """What a kept quarter was counted for: the engine, the sections, the outcome instruments on."""
    on = sorted(c for c in instruments_on if c in OUTCOME_INSTRUMENTS)
    return f"{engine_version()}|{','.join(sorted(sections))}|{','.join(on)}"


def audit_mark(db: Database) -> int:
    """The last audit event written (0 for none): what a count has seen."""
    return db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]


def _counted_for(scope: str) -> str:
    """A scope without its engine: the sections and instruments, as every version of the engine writes them."""
    return scope.split("|", 1)[1]


def kept_quarters(db: Database, service_id: int, scope: str, periods: Iterable[Period]) -> dict[str, tuple]:
    """period code -> (audit mark, QuarterFigures) of the quarters kept for this scope."""
    return _kept(db, service_id, periods, "scope = ?", scope)


def earlier_quarters(db: Database, service_id: int, scope: str, periods: Iterable[Period]) -> dict[str, tuple]:
    """kept_quarters as an earlier version of the engine counted them for the same sections and
    instruments (the newest of each quarter): after an app update, what the page shows while it
    counts every quarter again."""
    same = _counted_for(scope)
    return _kept(db, service_id, periods, "scope <> ?", scope, lambda kept_scope: _counted_for(kept_scope) == same)


def _kept(db: Database, service_id: int, periods: Iterable[Period], where: str, scope: str,
          wanted: Callable[[str], bool] = lambda _: True) -> dict[str, tuple]:
    by_code = {p.code: p for p in periods}
    if not by_code:
        return {}
    marks = ", ".join("?" * len(by_code))
    out = {}
    for code, kept_scope, mark, text in db.conn.execute(
            f"SELECT period, scope, audit_mark, figures FROM reach_figures WHERE service_id = ? "
            f"AND period IN ({marks}) AND {where} ORDER BY counted_at", (service_id, *by_code, scope)):
        if wanted(kept_scope):                    # the newest of a quarter comes last and stays
            figures = {f.key: f for f in figures_from_json(text)}
            out[code] = (mark, QuarterFigures(by_code[code], figures))
    return out


def stale_periods(db: Database, marks: dict[str, int], periods: Iterable[Period]) -> set[str]:
    """Of the kept quarters (period code -> audit mark), those a write since its mark may have
    changed (see the notes above)."""
    if not marks:
        return set()
    from . import engine
    since = min(marks.values())
    events = []                  # (id, the earliest date it names or None, what it is about or None: everything)
    records: dict[str, set] = {}
    for event_id, entity, entity_id, client_id, named in engine.audit_dates_since(db, since, _UNCOUNTED_ACTIONS):
        if entity in _UNCOUNTED_ENTITIES:
            continue
        if client_id is None:
            events.append((event_id, None, None))
            continue
        about = (entity, entity_id, int(client_id))
        if entity in _RECORD_DATES and str(entity_id or "").isdigit():
            records.setdefault(entity, set()).add(int(entity_id))
        events.append((event_id, named, about))
    if not events:
        return set()
    dated = {(entity, i): d for entity, ids in records.items()
             for i, d in _looked_up(db, _RECORD_DATES[entity], ids, 1).items()}
    whose = {}                   # event -> ("record", its date) | ("referral", id) | ("client", id)
    for k, (event_id, named, about) in enumerate(events):
        if about is not None:
            entity, entity_id, client_id = about
            key = int(entity_id) if str(entity_id or "").isdigit() else None
            if entity == "referral" and key is not None:
                whose[k] = ("referral", key)
            elif (entity, key) in dated:
                whose[k] = ("record", dated[(entity, key)])
            else:
                whose[k] = ("client", client_id)
    earliest = {kind: _looked_up(db, _EARLIEST_OF[kind], [i for t, i in whose.values() if t == kind], 6)
                for kind in ("referral", "client")}
    earliest["record"] = {}
    stale = set()
    for p in periods:
        mark = marks.get(p.code)
        if mark is None:
            continue
        end = p.end.isoformat()
        for k, (event_id, named, about) in enumerate(events):
            if event_id <= mark:
                continue
            if about is None:
                stale.add(p.code)
                break
            kind, key = whose[k]
            dates = [d for d in (named, key if kind == "record" else earliest[kind].get(key)) if d is not None]
            if dates and min(dates) <= end:
                stale.add(p.code)
                break
    return stale


def keep_quarters(db: Database, service_id: int, scope: str, mark: int, quarters: Iterable[QuarterFigures]) -> bool:
    """Keep counted quarters for the next opening. Only a help: when the database cannot be written
    at once (another program is writing, a read-only file) nothing is kept and False comes back."""
    from datetime import datetime
    from . import connection
    rows = [(service_id, q.period.code, scope, mark, figures_to_json(q.figures.values()),
             datetime.now().isoformat(timespec="seconds")) for q in quarters]
    if not rows:
        return True
    conn = db.conn
    try:
        waited = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout = 200")
    except Exception:  # noqa: BLE001 - an engine without the pragma waits as it always does
        waited = None
    try:
        with connection.transaction(db):
            # These quarters as another version of the engine counted them for this scope are of no further
            # use; the rest are still shown (as the earlier version's) while they are counted again.
            same = "|" + _counted_for(scope)
            marks = ", ".join("?" * len(rows))
            conn.execute(f"DELETE FROM reach_figures WHERE service_id = ? AND period IN ({marks}) AND scope <> ? "
                         "AND substr(scope, length(scope) - ? + 1) = ?",
                         (service_id, *[r[1] for r in rows], scope, len(same), same))
            conn.executemany(
                "INSERT INTO reach_figures (service_id, period, scope, audit_mark, figures, counted_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service_id, period, scope) DO UPDATE SET "
                "audit_mark = excluded.audit_mark, figures = excluded.figures, counted_at = excluded.counted_at",
                rows)
        return True
    except Exception:  # noqa: BLE001 - busy or read-only: the figures are shown all the same, counted next time
        return False
    finally:
        if waited is not None:
            conn.execute(f"PRAGMA busy_timeout = {int(waited)}")


def count_and_keep(db: Database, today: date, on_progress=None, cancelled=None) -> None:
    """After a bulk load (the demo, an import): every quarter the dashboard's views offered today show
    (the quarter in progress and the ten before it, each with its seven before; the next quarter's view
    counts only that quarter when opened) counted and kept for each of the dashboard's two forms, a
    manager's and a coordinator's, so an opening at any of them reads them instead of counting, and
    after an app update there are earlier figures to show while the new version counts. Cancel stops
    it quietly: the load itself is done, and the dashboard counts what was not kept when it opens."""
    from . import assessments
    from .periods import period_containing
    periods = quarters_ending(period_containing(today), QUARTERS_OFFERED - 2 + QUARTERS)
    mark = audit_mark(db)
    try:
        for service_id, code in db.conn.execute("SELECT id, code FROM services ORDER BY id").fetchall():
            on = tuple(assessments.enabled_instruments(db, code))
            for sections in (tuple(SECTIONS), OPERATIONAL):
                figures = reach.span_figures(db, service_id, periods, on, sections, on_progress, cancelled)
                keep_quarters(db, service_id, scope_of(sections, on), mark, figures)
    except Cancelled:
        return
