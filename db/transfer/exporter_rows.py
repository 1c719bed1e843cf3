"""Every record of a service as rows of the import workbook (the full export: no lock-in).

Rows come out in the columns of workbook_spec and in an order that depends only
on the data (references, dates, usernames; then the order records were made), so
exporting, importing into a fresh database and exporting again gives the same
workbook cell by cell. Values are typed for the spreadsheet: dates as dates,
numbers as numbers, codes and references as text.

Generators: each sheet is read from the database as it is written, so a large
service never sits in memory whole. Consume them before closing the store.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

from sqlite_utils import Database

from .. import codes, engine
from . import workbook_spec as spec


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _usernames(db: Database) -> dict[int, str]:
    """Staff id -> the username rows refer to (an account-less staff member gets staff-<id>)."""
    names = {}
    for staff_id, username in db.conn.execute(
            "SELECT s.id, (SELECT username FROM accounts a WHERE a.staff_id = s.id ORDER BY a.id LIMIT 1) "
            "FROM staff s"):
        names[staff_id] = username or f"staff-{staff_id}"
    return names


def export_rows(db: Database, service_id: int) -> dict[str, Iterator[tuple]]:
    """Sheet name -> rows (tuples in the sheet's column order), for every sheet of the spec."""
    usernames = _usernames(db)
    venue_codes = {vid: code for vid, code in db.conn.execute("SELECT id, code FROM venues")}
    sheets = {s.name: s for s in spec.sheets()}
    return {
        "Staff": _staff(db, service_id, usernames, sheets["Staff"]),
        "Venues": _venues(db, service_id),
        "Clients": _clients(db, service_id, sheets["Clients"]),
        "Referrals": _referrals(db, service_id, usernames),
        "Sessions": _sessions(db, service_id, usernames, venue_codes),
        "Assessments": _assessments(db, service_id, sheets["Assessments"]),
        "Goals": _goals(db, service_id),
        "Signposting": _signposting(db, service_id),
        "Directory": _directory(db, service_id),
        "Plans": _plans(db, service_id),
        "Plan versions": _plan_versions(db, service_id),
        "Goal reviews": _goal_reviews(db, service_id),
        "Session goals": _session_goals(db, service_id, usernames),
        "Session history": _session_history(db, service_id, usernames, venue_codes),
        "Settings": _settings(db, service_id, venue_codes),
        "Documents": (row for row, _ in documents(db, service_id)),
        "Contact attempts": _contact_attempts(db, service_id),
        "Safeguarding prompts": _safeguarding_prompts(db, service_id),
        "Return runs": (row for row, _ in return_runs(db, service_id)),
    }


def _yn(flag) -> str | None:
    return None if flag is None else ("Y" if flag else "N")


def _has_column(db, table: str, column: str) -> bool:
    return engine.has_column(db, table, column)


def _staff(db, service_id, usernames, sheet) -> Iterator[tuple]:
    order = {c: i for i, c in enumerate(codes.codes("staff_role"))}
    ended_sql = "a.ended_on" if _has_column(db, "accounts", "ended_on") else "NULL"
    accounts = {}
    for staff_id, account_id, ended in db.conn.execute(
            f"SELECT a.staff_id, a.id, {ended_sql} FROM accounts a WHERE a.staff_id IS NOT NULL ORDER BY a.id"):
        accounts.setdefault(staff_id, (account_id, ended))
    roles: dict[int, list[str]] = {}
    for account_id, role in db.conn.execute("SELECT account_id, role FROM account_roles"):
        roles.setdefault(account_id, []).append(role)
    rows = []
    for r in db.query("SELECT * FROM staff WHERE service_id = ? ORDER BY id", [service_id]):
        account_id, ended = accounts.get(r["id"], (None, None))
        others = sorted((x for x in roles.get(account_id, []) if x != r["role"]), key=lambda x: order.get(x, 99))
        rows.append((usernames[r["id"]], r["full_name"], r["role"], r["email"], r["phone"],
                     _day(r["start_date"]), _day(r["end_date"]), ";".join(others) or None, _day(ended)))
    rows.sort(key=lambda r: r[0].casefold())
    yield from rows


def _venues(db, service_id) -> Iterator[tuple]:
    from .importer import open_days_text
    for code, name, vtype, postcode, open_days, active in db.conn.execute(
            "SELECT code, name, type, postcode, open_days, active FROM venues WHERE service_id = ? "
            "ORDER BY code, id", (service_id,)):
        yield (code, name, vtype, postcode, open_days_text(open_days), _yn(active))


_DATE_COLUMNS = {"date_of_birth", "consent_date", "archived_date"}      # anonymised_at: date and time, as text
_FLAG_COLUMNS = {"contact_phone", "contact_text", "contact_letter", "contact_email", "may_leave_message",
                 "asian_thresholds"}


def _clients(db, service_id, sheet) -> Iterator[tuple]:
    columns = sheet.column_names
    selected = ["substr(archived_at, 1, 10)" if c == "archived_date" else
                f"CASE WHEN anonymised_at IS NOT NULL THEN {c[7:]} END" if c.startswith("erased_") else c
                for c in columns]
    cur = db.conn.execute(f"SELECT {', '.join(selected)} FROM clients WHERE service_id = ? ORDER BY client_ref, id",
                          (service_id,))
    date_at = [i for i, c in enumerate(columns) if c in _DATE_COLUMNS]
    flag_at = [i for i, c in enumerate(columns) if c in _FLAG_COLUMNS]
    for r in cur:
        r = list(r)
        for i in date_at:
            r[i] = _day(r[i])
        for i in flag_at:
            r[i] = _yn(r[i])
        yield tuple(r)


def _referrals(db, service_id, usernames) -> Iterator[tuple]:
    order = {c: i for i, c in enumerate(codes.codes("area"))}
    reasons: dict[int, list[str]] = {}
    for rid, area in db.conn.execute("SELECT rr.referral_id, rr.area FROM referral_reasons rr "
                                     "JOIN referrals r ON r.id = rr.referral_id WHERE r.service_id = ?", (service_id,)):
        reasons.setdefault(rid, []).append(area)
    cur = db.conn.execute(
        "SELECT r.id, r.referral_ref, c.client_ref, r.received_date, r.source, r.referrer_name, "
        "r.referrer_organisation, r.priority, r.allocated_staff_id, r.closed_date, r.closure_reason, r.notes, "
        "r.age_override_by, e.figures_dob, e.nhs_valid "
        "FROM referrals r JOIN clients c ON c.id = r.client_id LEFT JOIN erased_referrals e ON e.referral_id = r.id "
        "WHERE r.service_id = ? ORDER BY r.referral_ref, r.id",
        (service_id,))
    for (rid, ref, client_ref, received, source, rname, rorg, priority, staff_id, closed, reason, notes,
         override_by, figures_dob, nhs_valid) in cur:
        areas = sorted(reasons.get(rid, []), key=lambda a: order.get(a, 99))
        yield (ref, client_ref, _day(received), source, rname, rorg, ";".join(areas) or None, priority,
               usernames.get(staff_id) if staff_id else None, _day(closed), reason, notes, override_by,
               _day(figures_dob), _yn(nhs_valid))


def _hhmm(text: str | None) -> str | None:
    """Times as the app writes them (HH:MM): older or bulk-loaded rows may hold 9:00."""
    if not text:
        return None
    hours, _, minutes = text.partition(":")
    return f"{int(hours):02d}:{minutes}" if hours.isdigit() else text


def _sessions(db, service_id, usernames, venue_codes) -> Iterator[tuple]:
    cur = db.conn.execute(
        "SELECT r.referral_ref, x.session_date, x.start_time, x.duration_minutes, x.staff_id, x.venue_id, x.mode, "
        "x.type, x.attendance, x.notes, x.id, x.next_steps, g.title FROM sessions x "
        "JOIN referrals r ON r.id = x.referral_id LEFT JOIN session_groups g ON g.id = x.group_id "
        "WHERE r.service_id = ? ORDER BY r.referral_ref, x.session_date, x.id", (service_id,))

    def rows_of(group):
        # Ordered here, not in SQL, so 9:00 and 09:00 sort alike; blank times first as SQLite would.
        group.sort(key=lambda g: (g[1], g[2] is not None, _hhmm(g[2]) or "", g[10]))
        for ref, day, start, duration, staff_id, venue_id, mode, stype, attendance, notes, _, steps, title in group:
            yield (ref, _day(day), _hhmm(start), duration, usernames.get(staff_id),
                   venue_codes.get(venue_id) if venue_id else None, mode, stype, attendance, notes, steps, title)

    group: list = []
    for record in cur:
        if group and record[0] != group[0][0]:
            yield from rows_of(group)
            group = []
        group.append(record)
    if group:
        yield from rows_of(group)


def _assessments(db, service_id, sheet) -> Iterator[tuple]:
    """One row per occasion (referral, date, timepoint), every instrument's answers on it. An occasion
    holding the same instrument twice cannot be one row: the second goes on a row of its own."""
    answer_columns = [c.name for c in sheet.columns if c.kind == spec.ANSWER]
    tp_order = {c: i for i, c in enumerate(codes.codes("timepoint"))}
    cur = db.conn.execute(
        "SELECT r.referral_ref, a.assessed_date, a.timepoint, a.instrument, a.answers FROM assessments a "
        "JOIN referrals r ON r.id = a.referral_id WHERE r.service_id = ? ORDER BY r.referral_ref, a.assessed_date, a.id",
        (service_id,))

    def rows_of(group: list) -> list[tuple]:
        occasions: dict[tuple, list[dict]] = {}
        for ref, day, tp, instrument, answers in group:
            rows = occasions.setdefault((ref, day, tp), [])
            for row in rows:          # the first row of this occasion without this instrument
                if instrument not in row["_instruments"]:
                    break
            else:
                row = {"_instruments": set()}
                rows.append(row)
            row["_instruments"].add(instrument)
            row.update(json.loads(answers))
        out = []
        for (ref, day, tp), rows in sorted(occasions.items(), key=lambda kv: (kv[0][1], tp_order.get(kv[0][2], 99))):
            for row in rows:
                out.append((ref, _day(day), tp, *[row.get(c) for c in answer_columns]))
        return out

    # Group per referral and date as the cursor goes (it is ordered so), keeping memory small.
    group: list = []
    current = None
    for record in cur:
        key = (record[0], record[1])
        if key != current and group:
            yield from rows_of(group)
            group = []
        current = key
        group.append(record)
    if group:
        yield from rows_of(group)


def _goals(db, service_id) -> Iterator[tuple]:
    cur = db.conn.execute(
        "SELECT r.referral_ref, p.agreed_date, g.area, g.goal_text, g.steps, g.barriers, g.who_can_help, "
        "g.importance, g.confidence, g.review_date, g.status, g.status_date, g.start_date FROM goals g "
        "JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = ? "
        "ORDER BY r.referral_ref, p.agreed_date, p.id, g.position, g.id", (service_id,))
    for (ref, agreed, area, text, steps, barriers, who, importance, confidence, review, status, status_date,
         start) in cur:
        yield (ref, _day(agreed), area, text, steps, barriers, who, importance, confidence, _day(review), status,
               _day(status_date), _day(start))


def _signposting(db, service_id) -> Iterator[tuple]:
    cur = db.conn.execute(
        "SELECT r.referral_ref, s.signpost_date, s.category, s.destination, s.type, s.outcome, s.outcome_date, "
        "s.follow_up_date, d.name FROM signposting s "
        "JOIN referrals r ON r.id = s.referral_id LEFT JOIN directory d ON d.id = s.directory_id WHERE r.service_id = ? "
        "ORDER BY r.referral_ref, s.signpost_date, s.id", (service_id,))
    for ref, day, category, destination, stype, outcome, outcome_day, follow_up, directory in cur:
        yield (ref, _day(day), category, destination, stype, outcome, _day(outcome_day), _day(follow_up), directory)


def _directory(db, service_id) -> Iterator[tuple]:
    for name, category, phone, address, web, notes, active in db.conn.execute(
            "SELECT name, category, phone, address, web, notes, active FROM directory WHERE service_id = ? "
            "ORDER BY name COLLATE NOCASE, id", (service_id,)):
        yield (name, category, phone, address, web, notes, _yn(active))


def _plans(db, service_id) -> Iterator[tuple]:
    contacts: dict[int, list[str]] = {}
    for plan_id, name in db.conn.execute(
            "SELECT pc.plan_id, d.name FROM plan_contacts pc JOIN directory d ON d.id = pc.directory_id "
            "WHERE d.service_id = ? ORDER BY d.name COLLATE NOCASE, d.id", (service_id,)):
        contacts.setdefault(plan_id, []).append(name)
    for plan_id, ref, agreed, matters in db.conn.execute(
            "SELECT p.id, r.referral_ref, p.agreed_date, p.what_matters FROM plans p "
            "JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = ? "
            "ORDER BY r.referral_ref, p.agreed_date, p.id", (service_id,)):
        yield (ref, _day(agreed), matters, ";".join(contacts.get(plan_id, [])) or None)


def _plan_versions(db, service_id) -> Iterator[tuple]:
    names = {i: n for i, n in db.conn.execute("SELECT id, name FROM directory WHERE service_id = ?", (service_id,))}
    for ref, plan_day, version, agreed, matters, goals, contacts in db.conn.execute(
            "SELECT r.referral_ref, p.agreed_date, v.version, v.agreed_date, v.what_matters, v.goals, v.contacts "
            "FROM plan_versions v JOIN plans p ON p.id = v.plan_id JOIN referrals r ON r.id = p.referral_id "
            "WHERE r.service_id = ? ORDER BY r.referral_ref, p.agreed_date, p.id, v.version", (service_id,)):
        kept = [{k: v for k, v in g.items() if k != "id"} for g in json.loads(goals or "[]")]
        chosen = [names.get(i) for i in json.loads(contacts or "[]")]
        yield (ref, _day(plan_day), version, _day(agreed), matters,
               json.dumps(kept, ensure_ascii=False, separators=(",", ":")) if kept else None,
               ";".join(sorted((n for n in chosen if n), key=str.casefold)) or None)


def _goal_reviews(db, service_id) -> Iterator[tuple]:
    for (ref, agreed, area, text, day, outcome, note, previous, nxt) in db.conn.execute(
            "SELECT r.referral_ref, p.agreed_date, g.area, g.goal_text, v.review_date, v.outcome, v.note, "
            "v.previous_text, v.next_review_date FROM goal_reviews v JOIN goals g ON g.id = v.goal_id "
            "JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = ? "
            "ORDER BY r.referral_ref, p.agreed_date, g.position, g.id, v.review_date, v.id", (service_id,)):
        yield (ref, _day(agreed), area, text, _day(day), outcome, note, previous, _day(nxt))


def _session_goals(db, service_id, usernames) -> Iterator[tuple]:
    rows = []
    for (ref, day, start, staff_id, agreed, area, text) in db.conn.execute(
            "SELECT r.referral_ref, x.session_date, x.start_time, x.staff_id, p.agreed_date, g.area, g.goal_text "
            "FROM session_goals sg JOIN sessions x ON x.id = sg.session_id JOIN goals g ON g.id = sg.goal_id "
            "JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = x.referral_id WHERE r.service_id = ?",
            (service_id,)):
        rows.append((ref, _day(day), _hhmm(start), usernames.get(staff_id), _day(agreed), area, text))
    rows.sort(key=lambda r: tuple("" if v is None else str(v) for v in r))
    yield from rows


def _session_history(db, service_id, usernames, venue_codes) -> Iterator[tuple]:
    cur = db.conn.execute(
        "SELECT r.referral_ref, x.session_date, x.start_time, x.staff_id, h.action, h.from_date, h.from_time, "
        "h.from_venue_id, h.to_date, h.to_time, h.to_venue_id, h.attendance, h.reason, h.at, h.by "
        "FROM session_history h JOIN sessions x ON x.id = h.session_id JOIN referrals r ON r.id = x.referral_id "
        "WHERE r.service_id = ? ORDER BY r.referral_ref, x.session_date, x.start_time, x.id, h.id", (service_id,))
    venue = lambda vid: venue_codes.get(vid) if vid else None  # noqa: E731
    for (ref, day, start, staff_id, action, from_day, from_time, from_venue, to_day, to_time, to_venue, attendance,
         reason, at, by) in cur:
        yield (ref, _day(day), _hhmm(start), usernames.get(staff_id), action, _day(from_day), _hhmm(from_time),
               venue(from_venue), _day(to_day), _hhmm(to_time), venue(to_venue), attendance, reason, at, by)


def _settings(db, service_id, venue_codes) -> Iterator[tuple]:
    """Settings with their scope as the workbook names it: global, service (this one), venue:CODE."""
    code = db.conn.execute("SELECT code FROM services WHERE id = ?", (service_id,)).fetchone()[0]
    mine = {vid for (vid,) in db.conn.execute("SELECT id FROM venues WHERE service_id = ?", (service_id,))}
    rows = []
    for scope, key, value in db.conn.execute("SELECT scope, key, value FROM settings"):
        if scope == "global":
            shown = "global"
        elif scope == code:
            shown = "service"
        elif scope.startswith("venue:") and scope[6:].isdigit() and int(scope[6:]) in mine:
            shown = f"venue:{venue_codes[int(scope[6:])]}"
        else:
            continue               # another service's
        rows.append((shown, key, value))
    yield from sorted(rows)


def documents(db, service_id) -> Iterator[tuple[tuple, int]]:
    """(Documents sheet row, document id) for every kept document: the PDF's file name in the
    documents folder is the client's reference, the day it was made and its kind (numbered when one
    client has two of a kind on one day), so two exports of the same facts name them alike."""
    cur = db.conn.execute(
        "SELECT d.id, c.client_ref, r.referral_ref, d.kind, d.file_name, d.template_version, d.sha256, d.created_at, "
        "d.created_by FROM documents d JOIN clients c ON c.id = d.client_id LEFT JOIN referrals r "
        "ON r.id = d.referral_id WHERE c.service_id = ? ORDER BY c.client_ref, d.created_at, d.kind, d.sha256, d.id",
        (service_id,))
    seen: dict[str, int] = {}
    for doc_id, client_ref, referral_ref, kind, file_name, version, sha, created_at, created_by in cur:
        stem = f"{client_ref}-{(created_at or '')[:10]}-{kind}"
        seen[stem] = seen.get(stem, 0) + 1
        name = f"{stem}.pdf" if seen[stem] == 1 else f"{stem}-{seen[stem]}.pdf"
        yield (client_ref, referral_ref, kind, name, file_name, version, sha, created_at, created_by), doc_id


def write_documents(db, service_id, folder) -> int:
    """The kept PDFs, byte for byte, and the returns' files (figures, the workbook as sent, the referrals
    behind each figure) into the folder (made here; it must not hold anything else)."""
    from pathlib import Path
    from .. import return_submissions
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    n = 0
    for row, doc_id in documents(db, service_id):
        content = db.conn.execute("SELECT content FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        (folder / row[3]).write_bytes(content)
        n += 1
    for row, run_id in return_runs(db, service_id):
        figures, workbook, members = db.conn.execute(
            "SELECT r.figures, s.workbook, s.members FROM return_runs r LEFT JOIN return_submissions s "
            "ON s.run_id = r.id WHERE r.id = ?", (run_id,)).fetchone()
        (folder / row[_RUN_AT["figures_file"]]).write_text(figures, encoding="utf-8")
        if row[_RUN_AT["sent_file"]]:
            (folder / row[_RUN_AT["sent_file"]]).write_bytes(workbook)
        if row[_RUN_AT["members_file"]]:
            (folder / row[_RUN_AT["members_file"]]).write_text(
                json.dumps(return_submissions.unpack(members), ensure_ascii=False, separators=(",", ":")),
                encoding="utf-8")
        n += 1
    return n


_RUN_AT = {c: i for i, c in enumerate(spec.sheet("Return runs").column_names)}


def return_runs(db, service_id) -> Iterator[tuple[tuple, int]]:
    """(Return runs sheet row, run id) for every return built: its files in the documents folder are
    named by the period and the moment it was built (numbered when two runs share both)."""
    cur = db.conn.execute(
        "SELECT r.id, r.period, r.spec_version, r.disclosure, r.generated_at, r.generated_by, r.file_name, "
        "r.file_sha256, r.submitted, r.submitted_at, r.submitted_by, s.run_id, s.file_name, s.file_sha256, "
        "s.submitted_at, s.submitted_by, s.members IS NOT NULL FROM return_runs r "
        "LEFT JOIN return_submissions s ON s.run_id = r.id WHERE r.service_id = ? "
        "ORDER BY r.period, r.generated_at, r.figures, r.id", (service_id,))
    seen: dict[str, int] = {}
    for (run_id, period, version, disclosure, at, by, file_name, sha, submitted, submitted_at, submitted_by,
         sent, sent_name, sent_sha, sent_at, sent_by, has_members) in cur:
        stem = f"return-{period}-{(at or '').replace(':', '-')}"
        seen[stem] = seen.get(stem, 0) + 1
        if seen[stem] > 1:
            stem += f"-{seen[stem]}"
        yield ((period, version, disclosure, at, by, f"{stem}-figures.json", file_name, sha, _yn(submitted),
                submitted_at, submitted_by, f"{stem}-sent.xlsx" if sent else None, sent_name, sent_sha, sent_at,
                sent_by, f"{stem}-members.json" if sent and has_members else None), run_id)


def _safeguarding_prompts(db, service_id) -> Iterator[tuple]:
    for row in db.conn.execute(
            "SELECT c.client_ref, r.referral_ref, p.instrument, p.item, p.answer, p.steps, p.raised_at, "
            "p.acknowledged_by FROM safeguarding_prompts p JOIN clients c ON c.id = p.client_id "
            "JOIN referrals r ON r.id = p.referral_id WHERE c.service_id = ? "
            "ORDER BY r.referral_ref, p.raised_at, p.instrument, p.item, p.id", (service_id,)):
        yield tuple(row)


def _contact_attempts(db, service_id) -> Iterator[tuple]:
    for ref, day, method, outcome, note in db.conn.execute(
            "SELECT r.referral_ref, a.attempt_date, a.method, a.outcome, a.note FROM contact_attempts a "
            "JOIN referrals r ON r.id = a.referral_id WHERE r.service_id = ? "
            "ORDER BY r.referral_ref, a.attempt_date, a.id", (service_id,)):
        yield (ref, _day(day), method, outcome, note)


def counts(db: Database, service_id: int) -> dict[str, int]:
    """Records per sheet, for the export's audit event and progress."""
    q = lambda sql: db.conn.execute(sql, (service_id,)).fetchone()[0]  # noqa: E731
    return {
        "Staff": q("SELECT COUNT(*) FROM staff WHERE service_id = ?"),
        "Venues": q("SELECT COUNT(*) FROM venues WHERE service_id = ?"),
        "Clients": q("SELECT COUNT(*) FROM clients WHERE service_id = ?"),
        "Referrals": q("SELECT COUNT(*) FROM referrals WHERE service_id = ?"),
        "Sessions": q("SELECT COUNT(*) FROM sessions x JOIN referrals r ON r.id = x.referral_id WHERE r.service_id = ?"),
        "Assessments": q("SELECT COUNT(DISTINCT a.referral_id || '|' || a.assessed_date || '|' || a.timepoint) "
                         "FROM assessments a JOIN referrals r ON r.id = a.referral_id WHERE r.service_id = ?"),
        "Goals": q("SELECT COUNT(*) FROM goals g JOIN plans p ON p.id = g.plan_id JOIN referrals r "
                   "ON r.id = p.referral_id WHERE r.service_id = ?"),
        "Signposting": q("SELECT COUNT(*) FROM signposting s JOIN referrals r ON r.id = s.referral_id "
                         "WHERE r.service_id = ?"),
        "Directory": q("SELECT COUNT(*) FROM directory WHERE service_id = ?"),
        "Plans": q("SELECT COUNT(*) FROM plans p JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = ?"),
        "Plan versions": q("SELECT COUNT(*) FROM plan_versions v JOIN plans p ON p.id = v.plan_id JOIN referrals r "
                           "ON r.id = p.referral_id WHERE r.service_id = ?"),
        "Goal reviews": q("SELECT COUNT(*) FROM goal_reviews v JOIN goals g ON g.id = v.goal_id JOIN plans p "
                          "ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id WHERE r.service_id = ?"),
        "Session goals": q("SELECT COUNT(*) FROM session_goals sg JOIN sessions x ON x.id = sg.session_id "
                           "JOIN referrals r ON r.id = x.referral_id WHERE r.service_id = ?"),
        "Session history": q("SELECT COUNT(*) FROM session_history h JOIN sessions x ON x.id = h.session_id "
                             "JOIN referrals r ON r.id = x.referral_id WHERE r.service_id = ?"),
        "Settings": db.conn.execute("SELECT COUNT(*) FROM settings").fetchone()[0],
        "Documents": q("SELECT COUNT(*) FROM documents d JOIN clients c ON c.id = d.client_id WHERE c.service_id = ?"),
        "Contact attempts": q("SELECT COUNT(*) FROM contact_attempts a JOIN referrals r ON r.id = a.referral_id "
                              "WHERE r.service_id = ?"),
        "Safeguarding prompts": q("SELECT COUNT(*) FROM safeguarding_prompts p JOIN clients c ON c.id = p.client_id "
                                  "WHERE c.service_id = ?"),
        "Return runs": q("SELECT COUNT(*) FROM return_runs WHERE service_id = ?"),
    }
