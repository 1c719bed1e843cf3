"""The import of IMPORT.md: read every row, validate every row, then write all or nothing.

Three phases, so a bad row anywhere changes nothing:
1. read     the workbook's sheets and headers (xlsx_reader); a missing sheet,
            missing required column or duplicate header stops here;
2. check    every row through the same rules the forms use (clients.validate,
            referrals.validate, ...), resolving references within the workbook and
            the database, and comparing rows whose identity already exists;
3. write    only when nothing failed and it is not a dry run: one transaction,
            inserts batched with executemany, one audit event "import".

Derived values (BMI and every score, IMD, referral status) are computed here by
the app's own functions, never read from the workbook.
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from sqlite_utils import Database

from .. import driver, engine, pg
from .. import (accounts, assessments, audit, clients, codes, connection, instruments, plans, referrals, services,
                sessions, signposting)
from ..errors import Cancelled, DatabaseUnusable
from ..errors import FieldError, ValidationError
from ..records import CLIENT_FIELDS, Actor, Service
from ..validation import (check_age_for_referral, check_closure, check_measurement, check_not_future, clean_name,
                          clean_text, normalise_postcode, parse_date)
from . import workbook_spec as spec
from .report import ImportReport
from .xlsx_reader import CellProblem, Workbook, WorkbookUnreadable, cell_name, merged_in_rows, plain

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

# An imported staff member's account holds the username the workbook refers to (the
# staff table has none). It is locked with no usable password until an administrator
# unlocks it and sets one: nobody can sign in as an imported trainer by accident.
UNUSABLE_PASSWORD_HASH = "!imported: no password set"
REF_LIMIT = 30
_CHUNK = 500                  # references per "IN (...)" query
_PROGRESS_EVERY = 1000
_TRAINER_ROLES = ("TRAINER", "CHAMPION")
_NOT_RESOLVED_RECEIVED = "1900-01-01"   # stands in for the received date of a referral with errors


@dataclass
class Row:
    number: int
    values: dict[str, object]

    def get(self, column: str):
        return self.values.get(column)


@dataclass(eq=False)
class Entry:
    """A record rows can refer to: in the database already (id set) or new from this workbook."""
    id: int | None
    new: bool
    valid: bool = True
    row: int | None = None
    data: dict = field(default_factory=dict)


_PLAIN_TYPES = frozenset({str, int, float, bool})   # read as they are; dates and times go through plain()


def _blank(value) -> bool:
    return value is None or isinstance(value, CellProblem) or (isinstance(value, str) and not value.strip())


def _text(value) -> str | None:
    """A cell as text: numbers as their digits (an NHS number typed as a number keeps its ten)."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, datetime):
        return value.date().isoformat() if not (value.hour or value.minute or value.second) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _code_value(value):
    if isinstance(value, bool):
        return "Y" if value else "N"
    return None if _blank(value) else value


def _ref(value) -> str | None:
    text = _text(value)
    return text.strip().upper() if text else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Importer:
    def __init__(self, db: Database, actor: Actor, service: Service, *, deprivation_for, prepare_reference,
                 today: date | None = None, on_progress: ProgressFn | None = None,
                 cancelled: CancelFn | None = None):
        self.db = db
        self.actor = actor
        self.service = service
        self.deprivation_for = deprivation_for
        self.prepare_reference = prepare_reference
        self.today = today or date.today()
        self._progress = on_progress
        self._cancelled = cancelled
        self.rows: dict[str, list[Row]] = {}
        self.present: dict[str, set[str]] = {}     # columns each sheet has
        self.report: ImportReport | None = None
        # entries rows refer to, by their normalised key
        self.staff: dict[str, Entry] = {}
        self.venues: dict[str, Entry] = {}
        self.clients: dict[str, Entry] = {}
        self.referrals: dict[str, Entry] = {}
        self.directory: dict[str, Entry] = {}
        self.new_directory: list[Entry] = []
        self.new_plans: list[tuple] = []        # (referral entry, agreed date, what matters, [directory entries])
        self.new_attempts: list[tuple] = []     # (referral entry, date, method, outcome, note)
        self.new_history: list[tuple] = []      # (("new", index) or ("db", session id), action, values)
        self.new_documents: list[tuple] = []    # (client entry, referral entry or None, values, file path)
        self.new_prompts: list[tuple] = []      # (referral entry, values): safeguarding prompts
        self.new_runs: list[dict] = []          # return runs, each with its submission when it was sent
        self._goal_at: dict[tuple, int] = {}     # (referral, agreed, area, goal text) -> index in new_goals
        self._existing_goals: dict = {}
        self.new_reviews: list[tuple] = []      # (goal ref, values)
        self.new_settings: list[tuple] = []     # (scope as stored or a venue entry, key, value)
        self.new_versions: list[tuple] = []     # (referral, plan agreed date, version, values, directory entries)
        self.new_session_goals: list[tuple] = []   # (session ref, goal ref)
        self.path: Path | None = None
        self._session_at: dict[tuple, int] = {}
        # new records to write, in workbook order
        self.new_staff: list[Entry] = []
        self.new_venues: list[Entry] = []
        self.new_clients: list[Entry] = []
        self.new_referrals: list[Entry] = []
        # Compact tuples (referral entry first), so a large workbook stays small in memory.
        self.new_sessions: list[tuple] = []
        self.new_goals: list[tuple] = []
        self.new_assessments: list[tuple] = []
        self.new_signposts: list[tuple] = []
        self.touched_referrals: list[Entry] = []

    # --- helpers ----------------------------------------------------------------------------

    def progress(self, done: int, total: int, label: str) -> None:
        if self._cancelled is not None and self._cancelled():
            raise Cancelled("The import was cancelled: nothing was imported.")
        if self._progress is not None:
            self._progress(done, total, label)

    def _field_errors(self, sheet: str, row: Row, exc: ValidationError, columns: dict[str, str]) -> None:
        for e in exc.errors:
            column = columns.get(e.field, e.field)
            self.report.fail(sheet, row.number, column, row.get(column), e.message)

    def _rows(self, sheet: str):
        rows = self.rows.get(sheet, [])
        total = len(rows)
        for i, row in enumerate(rows):
            if i % _PROGRESS_EVERY == 0:
                self.progress(i, total, f"Checking {sheet}")
            yield row
        self.rows[sheet] = []          # checked: what is kept now is only what will be written
        self.progress(total, total, f"Checking {sheet}")

    def _compare(self, sheet: str, row: Row, pairs: list[tuple[str, object, object]], what: str) -> None:
        """pairs: (column, workbook value, database value), for the columns the sheet has."""
        counts = self.report.sheet_counts(sheet)
        differ = [(c, mine, theirs) for c, mine, theirs in pairs
                  if c in self.present[sheet] and not _same(mine, theirs)]
        if not differ:
            counts.unchanged += 1
            return
        counts.conflicts += 1
        for column, mine, theirs in differ:
            self.report.conflict(sheet, row.number, column, row.get(column),
                                 f"{what} is already in the database with another {column}. The database was kept.",
                                 held=_shown(theirs))

    # --- phase 1: read ----------------------------------------------------------------------

    def read(self, path: Path) -> bool:
        """Read every sheet of the spec; False when the workbook's layout stops the import."""
        report = self.report
        self.path = Path(path)
        try:
            wb = Workbook(path)
        except WorkbookUnreadable as exc:
            report.fail(None, None, None, None, str(exc))
            return False
        with wb:
            names: dict[str, str] = {}
            for n in wb.sheet_names:
                if spec.sheet_key(n) in names:
                    report.fail(n, None, None, None, f"Two sheets are called {n} (ignoring case and spaces): "
                                                     "rename or remove one, so it is clear which to import.")
                names[spec.sheet_key(n)] = n
            wanted = {spec.sheet_key(s.name) for s in spec.sheets()}
            for key, actual in names.items():
                if key not in wanted and key not in (spec.sheet_key(spec.CODES_SHEET),
                                                     spec.sheet_key(spec.INSTRUCTIONS_SHEET)):
                    report.warn(actual, None, None, None,
                                "This sheet is not part of the import workbook: it was ignored.")
            structure_ok = True
            for s in spec.sheets():
                actual = names.get(spec.sheet_key(s.name))
                if actual is None and s.optional:      # added after v1: a v1 workbook has no such sheet
                    self.present[s.name] = set()
                    continue
                if actual is None or not wb.is_worksheet(actual):
                    report.fail(s.name, None, None, None,
                                f"The workbook has no sheet called {s.name}. Add it (it may stay empty), or "
                                "rename the sheet that holds these rows; 'htdesk template' writes every sheet.")
                    structure_ok = False
                    continue
                try:
                    structure_ok &= self._read_sheet(wb, s, actual)
                except WorkbookUnreadable as exc:
                    report.fail(s.name, None, None, None, str(exc))
                    return False
        if structure_ok:
            self._accept_common_forms()
        return structure_ok and not report.failures

    def _read_sheet(self, wb: Workbook, s: spec.Sheet, actual: str) -> bool:
        report = self.report
        scan = wb.scan(actual)
        header: dict[int, str] = {}
        header_row = None
        rows: list[Row] = []
        ok = True
        unnamed_with_data: set[int] = set()
        ignored: set[int] = set()
        for read, (number, cells) in enumerate(wb.rows(actual, scan.last_row)):
            if read % _PROGRESS_EVERY == 0:
                self.progress(number, scan.last_row, f"Reading {s.name}")
            if header_row is None:
                if all(_blank(v) for v in cells.values()):
                    continue
                header_row = number
                ok = self._header(s, header_row, cells, header)
                ignored = {col for col, v in cells.items() if not _blank(v)}   # unknown headers: reported once
                continue
            first = cells.get(1)
            if isinstance(first, str) and first.strip().upper() == spec.EXAMPLE_MARK:
                continue
            values: dict[str, object] = {}
            for column, value in cells.items():
                name = header.get(column)
                if name is None:
                    if not _blank(value) and column not in unnamed_with_data and column not in ignored:
                        unnamed_with_data.add(column)
                        report.warn(s.name, number, cell_name(column, header_row), value,
                                    "This column has values but no header: it was ignored.")
                    continue
                if type(value) in _PLAIN_TYPES:
                    values[name] = value
                elif isinstance(value, CellProblem):
                    self._cell_problem(s.name, number, name, column, value)
                else:
                    values[name] = plain(value)
            if all(_blank(v) for v in values.values()):
                continue
            rows.append(Row(number, values))
        self.progress(scan.last_row, scan.last_row, f"Reading {s.name}")
        if header_row is None:
            report.fail(s.name, None, None, None,
                        f"The sheet {s.name} has no header row. Put the column names of IMPORT.md in its first row "
                        "('htdesk template' writes them).")
            return False
        for ref, first_row in merged_in_rows(scan.merged, header_row, max(header_row, scan.last_row)):
            report.fail(s.name, first_row, None, ref,
                        f"Cells {ref} are merged. Unmerge them (Home > Merge > Unmerge Cells) and put the value "
                        "in every row that needs it.")
            ok = False
        self.rows[s.name] = rows
        self.report.sheet_counts(s.name).rows = len(rows)
        return ok

    def _cell_problem(self, sheet: str, number: int, name: str, column: int, problem: CellProblem) -> None:
        if problem.malformed:
            self.report.fail(sheet, number, name, None,
                             f"Cell {cell_name(column, number)} cannot be read: {problem.malformed}. Retype the value "
                             "in Excel (or in a copy made with 'htdesk template'), save and import again.")
        elif problem.formula_without_value:
            self.report.fail(sheet, number, name, None,
                             f"Cell {cell_name(column, number)} holds a formula with no calculated value (the file "
                             "was saved without calculating it). Open the workbook in Excel, let it calculate, "
                             "save, and import again; or type the value instead of the formula.")
        else:
            self.report.fail(sheet, number, name, problem.error,
                             f"Cell {cell_name(column, number)} holds the spreadsheet error {problem.error}: "
                             "correct the value or the formula behind it.")

    def _header(self, s: spec.Sheet, header_row: int, cells: dict[int, object], header: dict[int, str]) -> bool:
        report = self.report
        ok = True
        seen: dict[str, int] = {}
        for column in sorted(cells):
            raw = cells[column]
            if _blank(raw) or isinstance(raw, CellProblem):
                continue
            key = spec.header_key(raw)
            if key not in s.column_names:
                report.warn(s.name, None, str(raw).strip(), None,
                            f"'{str(raw).strip()}' is not a column of the {s.name} sheet: it was ignored. "
                            f"Its columns are: {', '.join(s.column_names[:12])}"
                            f"{'…' if len(s.column_names) > 12 else ''}.")
                continue
            if key in seen:
                report.fail(s.name, None, key, None,
                            f"The header {key} appears twice (cells {cell_name(seen[key], header_row)} and "
                            f"{cell_name(column, header_row)}): remove or rename one, so it is clear which values to use.")
                ok = False
                continue
            seen[key] = column
            header[column] = key
        for name in s.required:
            if name not in seen:
                report.fail(s.name, None, name, None,
                            f"The required column {name} is missing from the {s.name} sheet: add it "
                            "('htdesk template' shows every column).")
                ok = False
        self.present[s.name] = set(seen)
        return ok

    # --- phase 2: check ---------------------------------------------------------------------

    def check(self) -> None:
        self._load_known()
        self._check_staff()
        self._check_venues()
        self._check_directory()
        self._check_clients()
        self._check_referrals()
        self._check_sessions()
        self._check_session_history()
        self._check_assessments()
        self._check_plans()
        self._check_goals()
        self._check_goal_reviews()
        self._check_plan_versions()
        self._check_session_goals()
        self._check_signposting()
        self._check_contact_attempts()
        self._check_documents()
        self._check_settings()
        self._check_safeguarding_prompts()
        self._check_return_runs()

    def _accept_common_forms(self) -> None:
        """Common forms of a label (resources/codes/synonyms.json: "Male", "DNA", "Self referral") are
        read as their code, and each form is noted once in the report with the rows that used it."""
        for s in spec.sheets():
            coded = [c for c in s.columns if c.code_list and c.kind in (spec.CODE, spec.CODES, spec.ANSWER)
                     and codes.synonyms(c.code_list)]
            if not coded:
                continue
            noted: dict[tuple[str, str, str], list[int]] = {}
            for row in self.rows.get(s.name, []):
                for c in coded:
                    value = row.values.get(c.name)
                    if not isinstance(value, str) or not value.strip():
                        continue
                    if c.kind == spec.CODES:
                        parts = [p.strip() for p in value.split(";")]
                        mapped = [codes.synonym(c.code_list, p) or p for p in parts]
                        if mapped != parts:
                            for p, m in zip(parts, mapped):
                                if p != m:
                                    noted.setdefault((c.name, p, m), []).append(row.number)
                            row.values[c.name] = ";".join(mapped)
                        continue
                    code = codes.synonym(c.code_list, value)
                    if code is not None:
                        noted.setdefault((c.name, value.strip(), code), []).append(row.number)
                        row.values[c.name] = code
            for (column, form, code), numbers in noted.items():
                list_name = s.column(column).code_list
                shown_rows = ", ".join(str(n) for n in numbers[:10]) + (", …" if len(numbers) > 10 else "")
                self.report.warn(s.name, numbers[0], column, form,
                                 f"Read '{form}' as {codes.code_and_label(list_name, code)} "
                                 f"(a common form of the label) in {len(numbers)} row(s): {shown_rows}.")

    def _load_known(self) -> None:
        """What the database already holds that the workbook may refer to."""
        for r in self.db.query(
                "SELECT s.*, (SELECT username FROM accounts a WHERE a.staff_id = s.id ORDER BY a.id LIMIT 1) "
                "AS username FROM staff s ORDER BY s.id"):
            username = r["username"] or f"staff-{r['id']}"
            self.staff.setdefault(username.casefold(), Entry(r["id"], False, data=dict(r)))
        # Usernames of accounts with no staff member still cannot be taken again.
        self._taken_usernames = {r[0].casefold() for r in self.db.conn.execute("SELECT username FROM accounts")}
        for r in self.db.query("SELECT * FROM venues WHERE service_id = ? ORDER BY id", [self.service.id]):
            self.venues.setdefault(r["code"].casefold(), Entry(r["id"], False, data=dict(r)))
        for r in self.db.query("SELECT * FROM directory WHERE service_id = ? ORDER BY id", [self.service.id]):
            self.directory.setdefault(" ".join(r["name"].split()).casefold(), Entry(r["id"], False, data=dict(r)))
        client_refs = {_ref(r.get("client_ref")) for s in ("Clients", "Referrals", "Documents", "Safeguarding prompts")
                       for r in self.rows.get(s, [])}
        for r in self._by_refs("clients", "client_ref", client_refs):
            self.clients[r["client_ref"].upper()] = Entry(r["id"], False, data=dict(r))
        referral_refs = {_ref(r.get("referral_ref")) for s in ("Referrals", "Sessions", "Assessments", "Goals",
                                                                "Signposting", "Plans", "Contact attempts",
                                                                "Session history", "Documents", "Goal reviews",
                                                                "Session goals", "Plan versions",
                                                                "Safeguarding prompts")
                         for r in self.rows.get(s, [])}
        found = list(self._by_refs("referrals", "referral_ref", referral_refs))
        reasons = defaultdict(set)
        ids = [r["id"] for r in found]
        for chunk in _chunks(ids):
            for rid, area in self.db.conn.execute(
                    f"SELECT referral_id, area FROM referral_reasons WHERE referral_id IN ({_marks(chunk)})", chunk):
                reasons[rid].add(area)
        client_ids = {r["client_id"] for r in found} - {e.id for e in self.clients.values()}
        extra_clients = {}
        for chunk in _chunks(list(client_ids)):
            for r in self.db.query(f"SELECT * FROM clients WHERE id IN ({_marks(chunk)})", chunk):
                extra_clients[r["id"]] = Entry(r["id"], False, data=dict(r))
        by_client_id = {e.id: e for e in self.clients.values()}
        by_client_id.update(extra_clients)
        for r in found:
            data = dict(r)
            data["reasons"] = reasons[r["id"]]
            self.referrals[r["referral_ref"].upper()] = Entry(
                r["id"], False, data={**data, "client": by_client_id[r["client_id"]]})

    def _by_refs(self, table: str, column: str, refs: set):
        refs = sorted(r for r in refs if r)
        for chunk in _chunks(refs):
            yield from self.db.query(f"SELECT * FROM {table} WHERE {column} IN ({_marks(chunk)})", chunk)

    def _fail_all(self, sheet: str, row: Row, errors) -> None:
        """Report every field error of one row (sheet, row, column, value, reason)."""
        for e in errors:
            self.report.fail(sheet, row.number, e.field, row.get(e.field), e.message)

    def _refused(self, sheet: str, row: Row, errors, index: dict, key) -> bool:
        """A row with errors is reported and, when it has a key, kept in the index as invalid, so rows
        of other sheets that refer to it are refused quietly instead of as unknown references."""
        if not errors:
            return False
        self._fail_all(sheet, row, errors)
        if key:
            index.setdefault(key, Entry(None, True, valid=False, row=row.number))
        return True

    def _dup(self, sheet: str, row: Row, column: str, seen: dict, key, what: str) -> bool:
        if key in seen:
            self.report.fail(sheet, row.number, column, row.get(column),
                             f"{what} appears twice on this sheet (rows {seen[key]} and {row.number}): "
                             "keep one row for it.")
            return True
        seen[key] = row.number
        return False

    def _foreign(self, sheet: str, row: Row, column: str, entry: Entry, what: str) -> bool:
        if not entry.new and entry.data.get("service_id") not in (None, self.service.id):
            self.report.fail(sheet, row.number, column, row.get(column),
                             f"{what} belongs to another service in this database: it cannot be imported into "
                             f"{self.service.code}.")
            return True
        return False

    # Staff ---------------------------------------------------------------------------------

    def _check_staff(self) -> None:
        sheet = "Staff"
        seen: dict = {}
        for row in self._rows(sheet):
            errors: list[FieldError] = []
            username = (_text(row.get("username")) or "").strip()
            if not username or any(ch.isspace() for ch in username) or len(username) > 60:
                errors.append(FieldError("username", "Username: give a sign-in name with no spaces (up to 60 "
                                                     "characters), e.g. jsmith."))
            clean: dict = {}
            clean["full_name"] = _collect(errors, clean_name, row.get("full_name"), "full_name", 120)
            clean["role"] = codes.match("staff_role", _code_value(row.get("role")))
            if clean["role"] is None:
                errors.append(FieldError("role", f"Role: '{_text(row.get('role')) or ''}' is not a staff role; "
                                                 f"choose one of {', '.join(codes.codes('staff_role'))}."))
            clean["email"] = _collect(errors, clean_text, _text(row.get("email")), "email", 120, multiline=False) or None
            clean["phone"] = _collect(errors, clean_text, _text(row.get("phone")), "phone", 30, multiline=False) or None
            for f in ("start_date", "end_date"):
                day = _collect(errors, parse_date, row.get(f), f)
                if day is not None:
                    _collect(errors, check_not_future, day, f, self.today)
                clean[f] = day.isoformat() if day else None
            if clean["start_date"] and clean["end_date"] and clean["end_date"] < clean["start_date"]:
                errors.append(FieldError("end_date", "End date is before the start date: check both dates."))
            others = _text(row.get("other_roles"))
            clean["other_roles"] = []
            for part in (others.split(";") if others else []):
                if part.strip():
                    code = codes.match("staff_role", part.strip())
                    if code is None:
                        errors.append(FieldError("other_roles", f"Other roles: '{part.strip()}' is not a staff role."))
                    elif code == "ADMIN":
                        # Never given by an import (issue 14): an administrator adds it in the app.
                        self.report.warn(sheet, row.number, "other_roles", part.strip(),
                                         "The administrator role is not given by an import: an administrator "
                                         "adds it in the app. The other roles were kept.")
                    elif code != clean["role"] and code not in clean["other_roles"]:
                        clean["other_roles"].append(code)
            ended = _collect(errors, parse_date, row.get("account_ended"), "account_ended")
            if ended is not None:
                _collect(errors, check_not_future, ended, "account_ended", self.today)
            clean["account_ended"] = ended.isoformat() if ended else None
            if self._refused(sheet, row, errors, self.staff, username and username.casefold()):
                continue
            key = username.casefold()
            if self._dup(sheet, row, "username", seen, key, f"Username {username}"):
                continue
            existing = self.staff.get(key)
            if existing is not None and not existing.new:
                theirs = existing.data
                self._compare(sheet, row, [(c, clean[c], theirs.get(c)) for c in
                                           ("full_name", "role", "email", "phone", "start_date", "end_date")],
                              f"Staff member {username}")
                continue
            if clean["role"] == "ADMIN":
                # Accounts made by an import are never administrators (issue 14): the staff member is
                # kept with their role, but their account gets no administrator role; an administrator
                # gives it in Staff and accounts, where the last-administrator rules hold.
                self.report.warn(sheet, row.number, "role", row.get("role"),
                                 f"The import does not make {username} an administrator: their account is made "
                                 "with no role; an administrator gives the administrator role in the app.")
            if key in self._taken_usernames:
                self.report.fail(sheet, row.number, "username", username,
                                 f"Username {username} is already an account with no staff member: choose another.")
                continue
            entry = Entry(None, True, row=row.number, data={**clean, "username": username})
            self.staff[key] = entry
            self.new_staff.append(entry)
            self.report.sheet_counts(sheet).created += 1
            self.report.needs_password.append(username)

    def _staff_for(self, sheet: str, row: Row, column: str, required: bool = True) -> Entry | None:
        username = _text(row.get(column))
        if username is None:
            return None
        entry = self.staff.get(username.strip().casefold())
        if entry is None:
            self.report.fail(sheet, row.number, column, username,
                             f"No staff member has the username {username.strip()}: add them to the Staff sheet "
                             "or correct the username.")
        return entry

    # Venues --------------------------------------------------------------------------------

    def _check_venues(self) -> None:
        sheet = "Venues"
        seen: dict = {}
        for row in self._rows(sheet):
            errors: list[FieldError] = []
            code = (_text(row.get("venue_code")) or "").strip()
            if not code or len(code) > 20:
                errors.append(FieldError("venue_code", "Venue code: give a short code for the venue (up to 20 characters)."))
            name = _collect(errors, clean_text, _text(row.get("name")), "name", 120, required=True, multiline=False)
            vtype = codes.match("venue_type", _code_value(row.get("type")))
            if vtype is None:
                errors.append(FieldError("type", f"Venue type: '{_text(row.get('type')) or ''}' is not on the list; "
                                                 "choose one from the Codes sheet."))
            postcode = _collect(errors, normalise_postcode, _text(row.get("postcode")), "postcode") or None
            open_days = _collect(errors, parse_open_days, row.get("open_days"), "open_days")
            active = _flag(row.get("active"), default=1)
            if active is None:
                errors.append(FieldError("active", "Active: Y or N (blank means Y)."))
            if self._refused(sheet, row, errors, self.venues, code and code.casefold()):
                continue
            key = code.casefold()
            if self._dup(sheet, row, "venue_code", seen, key, f"Venue code {code}"):
                continue
            clean = {"code": code, "name": name, "type": vtype, "postcode": postcode, "open_days": open_days,
                     "active": active}
            existing = self.venues.get(key)
            if existing is not None and not existing.new:
                self._compare(sheet, row, [(c, clean[c], existing.data.get(c)) for c in ("name", "type", "postcode")]
                              + [("open_days", open_days, existing.data.get("open_days")),
                                 ("active", active, existing.data.get("active"))],
                              f"Venue {code}")
                continue
            entry = Entry(None, True, row=row.number, data=clean)
            self.venues[key] = entry
            self.new_venues.append(entry)
            self.report.sheet_counts(sheet).created += 1

    # Clients -------------------------------------------------------------------------------

    _CLIENT_COLUMNS = [c for c in CLIENT_FIELDS if c in spec.sheet("Clients").column_names]

    def _check_clients(self) -> None:
        sheet = "Clients"
        seen: dict = {}
        kinds = {c.name: c.kind for c in spec.sheet(sheet).columns}
        nhs_seen: dict[str, list[str]] = defaultdict(list)
        for row in self._rows(sheet):
            ref_errors = []
            ref = _ref(row.get("client_ref"))
            if not ref or len(ref) > REF_LIMIT or any(ch.isspace() or not ch.isprintable() for ch in ref):
                ref_errors.append(FieldError("client_ref", f"Client reference: give the client's reference with no "
                                                           f"spaces (up to {REF_LIMIT} characters), e.g. HT-000123."))
            values = {}
            for c in self._CLIENT_COLUMNS:
                raw = row.get(c)
                values[c] = _text(raw) if kinds[c] == spec.TEXT else (_code_value(raw) if kinds[c] == spec.CODE else raw)
            for c in clients.FLAG_FIELDS:
                if c in values and values[c] is not None and codes.match("yes_no", values[c]) is None:
                    ref_errors.append(FieldError(c, f"{c}: Y or N."))
                elif c in values and values[c] is not None:
                    values[c] = codes.match("yes_no", values[c])
            archived = _collect(ref_errors, parse_date, row.get("archived_date"), "archived_date")
            if archived is not None:
                _collect(ref_errors, check_not_future, archived, "archived_date", self.today)
            anonymised = _text(row.get("anonymised_at"))
            anonymised = anonymised.strip() if anonymised else None
            if anonymised:
                try:
                    datetime.fromisoformat(anonymised)
                except ValueError:
                    ref_errors.append(FieldError("anonymised_at", "Anonymised at: a date and time as htdesk export "
                                                                  "writes it (2024-02-05T10:15:00)."))
            kept = None
            if anonymised:
                # An erased person's deprivation as the app kept it (their postcode is gone).
                kept = {k: _text(row.get("erased_" + k)) for k in self._DEPRIVATION}
                for k in ("imd_decile", "imd_quintile"):
                    if kept[k] is not None:
                        top = 10 if k == "imd_decile" else 5
                        if not kept[k].strip().isdigit() or not 1 <= int(kept[k]) <= top:
                            ref_errors.append(FieldError("erased_" + k, f"erased_{k}: a whole number from 1 to {top}."))
                        else:
                            kept[k] = int(kept[k])
            try:
                clean = clients.validate(values, self.today)
                clean["archived_at"] = archived.isoformat() if archived else None
                if anonymised and clean["archived_at"] == anonymised[:10]:
                    clean["archived_at"] = anonymised      # archived by the erasure, at that moment
                clean["anonymised_at"] = anonymised
                clean["_kept_deprivation"] = kept
                errors = ref_errors
            except ValidationError as exc:
                clean = None
                errors = ref_errors + exc.errors
            if self._refused(sheet, row, errors, self.clients, ref):
                continue
            if self._dup(sheet, row, "client_ref", seen, ref, f"Client reference {ref}"):
                continue
            existing = self.clients.get(ref)
            if existing is not None and not existing.new:
                if self._foreign(sheet, row, "client_ref", existing, f"Client {ref}"):
                    continue
                self._compare(sheet, row, [(c, clean[c], existing.data.get(c)) for c in self._CLIENT_COLUMNS]
                              + [("archived_date", clean["archived_at"], (existing.data.get("archived_at") or "")[:10]
                                  or None), ("anonymised_at", clean["anonymised_at"], existing.data.get("anonymised_at"))],
                              f"Client {ref}")
                continue
            entry = Entry(None, True, row=row.number, data={**clean, "client_ref": ref})
            self.clients[ref] = entry
            self.new_clients.append(entry)
            self.report.sheet_counts(sheet).created += 1
            if clean.get("nhs_number"):
                nhs_seen[clean["nhs_number"]].append(ref)
            if clean.get("postcode") and not anonymised:
                entry.data["_needs_lookup"] = True
        self._nhs_warnings(nhs_seen)
        self._same_person_warnings()

    @staticmethod
    def _person_key(data: dict) -> tuple | None:
        first, last, dob = data.get("first_name"), data.get("last_name"), data.get("date_of_birth")
        if not (first and last and dob):
            return None
        dob = dob.isoformat() if isinstance(dob, date) else str(dob)
        postcode = (data.get("postcode") or "").replace(" ", "").upper()
        return (" ".join(str(first).split()).casefold(), " ".join(str(last).split()).casefold(), dob, postcode)

    def _same_person_warnings(self) -> None:
        """A second copy of a client (same name, date of birth and postcode), in the workbook or
        already in the database: a warning naming both references, never a refusal."""
        new_by_key: dict[tuple, list[Entry]] = defaultdict(list)
        for entry in self.new_clients:
            key = self._person_key(entry.data)
            if key is not None:
                new_by_key[key].append(entry)
        if not new_by_key:
            return
        known: dict[tuple, list[str]] = defaultdict(list)
        births = sorted({k[2] for k in new_by_key})
        for chunk in _chunks(births):
            for r in self.db.query(
                    f"SELECT client_ref, first_name, last_name, date_of_birth, postcode FROM clients "
                    f"WHERE service_id = ? AND date_of_birth IN ({_marks(chunk)})", [self.service.id, *chunk]):
                key = self._person_key(dict(r))
                if key in new_by_key:
                    known[key].append(r["client_ref"])
        for key, entries in new_by_key.items():
            refs = [e.data["client_ref"] for e in entries]
            for entry in entries:
                ref = entry.data["client_ref"]
                others = [r for r in refs if r != ref] + [r for r in known[key] if r != ref]
                if others:
                    self.report.warn("Clients", entry.row, "client_ref", ref,
                                     f"{ref} has the same name, date of birth and postcode as "
                                     f"{', '.join(others)}: check they are not two copies of one person "
                                     "(both were kept).")

    def _nhs_warnings(self, nhs_seen: dict[str, list[str]]) -> None:
        """Same NHS number on two clients: a warning (a possible duplicate), not a refusal (DATA.md)."""
        known: dict[str, list[str]] = defaultdict(list)
        numbers = sorted(nhs_seen)
        for chunk in _chunks(numbers):
            for nhs, ref in self.db.conn.execute(
                    f"SELECT nhs_number, client_ref FROM clients WHERE nhs_number IN ({_marks(chunk)})", chunk):
                known[nhs].append(ref)
        for nhs, refs in nhs_seen.items():
            for ref in refs:
                others = sorted(set(refs + known[nhs]) - {ref})
                if others:
                    entry = self.clients[ref]
                    self.report.warn("Clients", entry.row, "nhs_number", nhs,
                                     f"The NHS number of {ref} is also recorded for {', '.join(others)}: check they "
                                     "are not the same person.")

    # Referrals -----------------------------------------------------------------------------

    _REFERRAL_FIELDS = {"received_date": "received_date", "source": "source", "reasons": "reasons",
                        "priority": "priority", "referrer_name": "referrer_name",
                        "referrer_organisation": "referrer_organisation", "notes": "notes",
                        "date_of_birth": "received_date", "allocated_staff_id": "allocated_trainer",
                        "closed_date": "closed_date", "closure_reason": "closure_reason"}

    def _check_referrals(self) -> None:
        sheet = "Referrals"
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            ref = _ref(row.get("referral_ref"))
            if not ref or len(ref) > REF_LIMIT or any(ch.isspace() or not ch.isprintable() for ch in ref):
                self.report.fail(sheet, row.number, "referral_ref", row.get("referral_ref"),
                                 f"Referral reference: give the referral's reference with no spaces (up to "
                                 f"{REF_LIMIT} characters), e.g. RF-000123.")
            client_ref = _ref(row.get("client_ref"))
            client = self.clients.get(client_ref) if client_ref else None
            if client_ref and client is None:
                self.report.fail(sheet, row.number, "client_ref", row.get("client_ref"),
                                 f"Client {client_ref} is not on the Clients sheet nor in the database: add the "
                                 "client or correct the reference.")
            elif client is not None and self._foreign(sheet, row, "client_ref", client, f"Client {client_ref}"):
                client = None
            reasons_raw = _text(row.get("reasons"))
            values = {"received_date": row.get("received_date"), "source": _code_value(row.get("source")),
                      "reasons": [p.strip() for p in reasons_raw.split(";") if p.strip()] if reasons_raw else [],
                      "priority": _code_value(row.get("priority")),
                      "referrer_name": _text(row.get("referrer_name")),
                      "referrer_organisation": _text(row.get("referrer_organisation")),
                      "notes": _text(row.get("notes"))}
            if not client_ref:
                self.report.fail(sheet, row.number, "client_ref", None,
                                 "Client reference is required: give the client this referral belongs to.")
            client_ok = client is not None and client.valid
            dob = client.data.get("date_of_birth") if client_ok else None
            try:
                # The received date stands in for the birth date here (it always passes), so the age
                # is checked once, below, with the client's own date of birth and no override.
                clean = referrals.validate(values, values["received_date"], self.today, age_override=True)
            except ValidationError as exc:
                clean = None
                self._field_errors(sheet, row, exc, self._REFERRAL_FIELDS)
            override_by = _text(row.get("age_override_by"))
            if override_by is not None:
                override_by = override_by.strip()
                if self._staff_for(sheet, row, "age_override_by") is None:
                    override_by = None
            erased = None
            if not _blank(row.get("erased_nhs_valid")) or not _blank(row.get("erased_figures_dob")):
                # A person erased: what the return's figures still need of the details erased.
                nhs_valid = _flag(row.get("erased_nhs_valid"), -1)
                if nhs_valid not in (0, 1):
                    self.report.fail(sheet, row.number, "erased_nhs_valid", row.get("erased_nhs_valid"),
                                     "Erased NHS valid: Y or N (required with erased_figures_dob).")
                try:
                    figures_dob = parse_date(row.get("erased_figures_dob"), "erased_figures_dob")
                    erased = (figures_dob.isoformat() if figures_dob else None, nhs_valid)
                except ValidationError as exc:
                    self._field_errors(sheet, row, exc, {})
            if clean is not None and dob and not (client_ok and client.data.get("anonymised_at")):
                # (an erased person's date of birth is only its year: their age was checked when they came)
                try:
                    check_age_for_referral(dob, clean["received_date"], override_by is not None)
                except ValidationError as exc:
                    self._field_errors(sheet, row, exc, self._REFERRAL_FIELDS)
            trainer = self._staff_for(sheet, row, "allocated_trainer")
            if trainer is not None and trainer.valid:
                role = trainer.data.get("role")
                if role not in _TRAINER_ROLES:
                    self.report.fail(sheet, row.number, "allocated_trainer", row.get("allocated_trainer"),
                                     f"Referrals are allocated to a health trainer or champion, and "
                                     f"{_text(row.get('allocated_trainer'))} is {codes.label('staff_role', role).lower()}.")
            closed = row.get("closed_date")
            reason_raw = _code_value(row.get("closure_reason"))
            reason = codes.match("closure_reason", reason_raw) if reason_raw is not None else None
            if reason_raw is not None and reason is None:
                self.report.fail(sheet, row.number, "closure_reason", reason_raw,
                                 "Closure reason: choose one from the list on the Codes sheet.")
            closed_day = None
            try:
                closed_day = parse_date(closed, "closed_date")
                check_closure(clean["received_date"] if clean else None, closed_day, reason_raw, self.today)
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, self._REFERRAL_FIELDS)
            if len(self.report.failures) > before or not ref:
                if ref:
                    self.referrals.setdefault(ref, Entry(None, True, valid=False, row=row.number))
                continue
            if self._dup(sheet, row, "referral_ref", seen, ref, f"Referral reference {ref}"):
                continue
            clean.update(closed_date=closed_day.isoformat() if closed_day else None, closure_reason=reason,
                         referral_ref=ref, client=client, trainer=trainer, age_override_by=override_by,
                         erased=erased)
            existing = self.referrals.get(ref)
            if existing is not None and not existing.new:
                if self._foreign(sheet, row, "referral_ref", existing, f"Referral {ref}"):
                    continue
                theirs = existing.data
                self._compare(sheet, row, [
                    ("client_ref", client_ref, theirs["client"].data.get("client_ref")),
                    ("received_date", clean["received_date"], theirs["received_date"]),
                    ("source", clean["source"], theirs["source"]),
                    ("referrer_name", clean["referrer_name"], theirs["referrer_name"]),
                    ("referrer_organisation", clean["referrer_organisation"], theirs["referrer_organisation"]),
                    ("reasons", set(clean["reasons"]), theirs["reasons"]),
                    ("priority", clean["priority"], theirs["priority"]),
                    ("allocated_trainer", trainer.id if trainer else None, theirs["allocated_staff_id"]),
                    ("closed_date", clean["closed_date"], theirs["closed_date"]),
                    ("closure_reason", clean["closure_reason"], theirs["closure_reason"]),
                    ("notes", clean["notes"], theirs["notes"]),
                    ("age_override_by", override_by, theirs.get("age_override_by")),
                ], f"Referral {ref}")
                continue
            entry = Entry(None, True, row=row.number, data=clean)
            self.referrals[ref] = entry
            self.new_referrals.append(entry)
            self.report.sheet_counts(sheet).created += 1
        self._second_open_referral_warnings()

    def _second_open_referral_warnings(self) -> None:
        """A client with two open referrals (one new from this workbook): a warning naming both."""
        open_new: dict[int, list[Entry]] = defaultdict(list)     # by id() of the client entry
        clients_of: dict[int, Entry] = {}
        for entry in self.new_referrals:
            if entry.data.get("closed_date") is None and entry.data.get("client") is not None:
                client = entry.data["client"]
                open_new[id(client)].append(entry)
                clients_of[id(client)] = client
        known: dict[int, list[str]] = defaultdict(list)
        by_client_id = {c.id: key for key, c in clients_of.items() if not c.new}
        ids = sorted(by_client_id)
        for chunk in _chunks(ids):
            for client_id, ref in self.db.conn.execute(
                    f"SELECT client_id, referral_ref FROM referrals WHERE closed_date IS NULL "
                    f"AND client_id IN ({_marks(chunk)}) ORDER BY referral_ref", chunk):
                known[by_client_id[client_id]].append(ref)
        mine = {e.data["referral_ref"] for entries in open_new.values() for e in entries}
        for key, entries in open_new.items():
            refs = [e.data["referral_ref"] for e in entries]
            in_db = [r for r in known[key] if r not in mine]
            client_ref = clients_of[key].data.get("client_ref")
            for entry in entries:
                ref = entry.data["referral_ref"]
                others = [r for r in refs if r != ref] + in_db
                if others:
                    self.report.warn("Referrals", entry.row, "referral_ref", ref,
                                     f"Client {client_ref} would have {ref} and {', '.join(others)} open at once: "
                                     "check one is not a copy of the other (both were kept).")

    def _referral_for(self, sheet: str, row: Row) -> Entry | None:
        ref = _ref(row.get("referral_ref"))
        if not ref:
            self.report.fail(sheet, row.number, "referral_ref", None,
                             "Referral reference is required: give the referral this row belongs to.")
            return None
        entry = self.referrals.get(ref)
        if entry is None:
            self.report.fail(sheet, row.number, "referral_ref", row.get("referral_ref"),
                             f"Referral {ref} is not on the Referrals sheet nor in the database: add the referral "
                             "or correct the reference.")
            return None
        if self._foreign(sheet, row, "referral_ref", entry, f"Referral {ref}"):
            return None
        return entry

    @staticmethod
    def _received(entry: Entry | None) -> str:
        if entry is None or not entry.valid:
            return _NOT_RESOLVED_RECEIVED
        return entry.data["received_date"]

    def _children_of_known(self, sql: str, referral_entries) -> list[dict]:
        ids = sorted({e.id for e in referral_entries if not e.new})
        found = []
        for chunk in _chunks(ids):
            found += list(self.db.query(sql.format(marks=_marks(chunk)), chunk))
        return found

    def _known_referrals(self, sheet: str) -> list[Entry]:
        out = []
        for row in self.rows.get(sheet, []):
            e = self.referrals.get(_ref(row.get("referral_ref")) or "")
            if e is not None and not e.new:
                out.append(e)
        return out

    # Sessions ------------------------------------------------------------------------------

    _SESSION_FIELDS = {"session_date": "date", "staff_id": "trainer", "venue_id": "venue_code",
                       "received_date": "referral_ref"}

    def _advance_cancellations(self) -> set[tuple]:
        """Sessions the Session history sheet says were cancelled (referral, date, time, trainer, code)."""
        found = set()
        for row in self.rows.get("Session history", []):
            if (_text(row.get("action")) or "").strip().casefold() != "cancelled":
                continue
            try:
                day = parse_date(row.get("date"), "date")
            except ValidationError:
                continue
            found.add((_ref(row.get("referral_ref")), day.isoformat() if day else None,
                       _hhmm_text(row.get("start_time")), (_text(row.get("trainer")) or "").strip().casefold(),
                       codes.match("attendance", _code_value(row.get("attendance")))))
        return found

    def _check_sessions(self) -> None:
        sheet = "Sessions"
        existing = {}
        for r in self._children_of_known("SELECT * FROM sessions WHERE referral_id IN ({marks}) ORDER BY id",
                                         self._known_referrals(sheet) + self._known_referrals("Session history")
                                         + self._known_referrals("Session goals")):
            existing.setdefault((r["referral_id"], r["session_date"], r["start_time"], r["staff_id"]), r)
        self._existing_sessions = existing
        self._session_at: dict[tuple, int] = {}        # (referral, date, time, trainer) -> index in new_sessions
        cancelled = self._advance_cancellations()
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            trainer = self._staff_for(sheet, row, "trainer")
            venue = None
            venue_code = _text(row.get("venue_code"))
            if venue_code:
                venue = self.venues.get(venue_code.strip().casefold())
                if venue is None:
                    self.report.fail(sheet, row.number, "venue_code", venue_code,
                                     f"Venue {venue_code.strip()} is not on the Venues sheet nor in the database: "
                                     "add it or correct the code.")
            values = {"session_date": row.get("date"), "attendance": _code_value(row.get("attendance")),
                      "start_time": _text(row.get("start_time")), "duration_minutes": row.get("duration_minutes"),
                      "mode": _code_value(row.get("mode")), "type": _code_value(row.get("type")),
                      "notes": _text(row.get("notes")),
                      "staff_id": 1 if trainer is not None or _text(row.get("trainer")) else None}
            if isinstance(values["duration_minutes"], str):
                values["duration_minutes"] = values["duration_minutes"].strip() or None
            # A booking cancelled in advance (2 or 4 on a date still to come) is the diary's own record: it
            # is accepted only with its cancellation on the Session history sheet (DATA.md's rule stands
            # for every other row), and checked as the booking it was.
            code = codes.match("attendance", values["attendance"])
            advance = None
            if code in ("2", "4") and cancelled:
                try:
                    day = parse_date(values["session_date"], "date")
                except ValidationError:
                    day = None
                if day is not None and day > self.today and (
                        _ref(row.get("referral_ref")), day.isoformat(), _hhmm_text(values["start_time"]),
                        (_text(row.get("trainer")) or "").strip().casefold(), code) in cancelled:
                    advance, values["attendance"] = code, "0"
            try:
                clean = sessions.validate(values, self._received(referral), self.today)
                if advance is not None:
                    clean["attendance"] = advance
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, self._SESSION_FIELDS)
                clean = None
            if len(self.report.failures) > before or clean is None or referral is None or trainer is None:
                continue
            if not (referral.valid and trainer.valid and (venue is None or venue.valid)):
                continue
            key = (id(referral), clean["session_date"], clean["start_time"], id(trainer))
            if self._dup(sheet, row, "date", seen, key,
                         f"A session of referral {_ref(row.get('referral_ref'))} on {clean['session_date']} "
                         f"at {clean['start_time'] or '(no time)'} with {_text(row.get('trainer'))}"):
                continue
            if not referral.new and not trainer.new:
                theirs = existing.get((referral.id, clean["session_date"], clean["start_time"], trainer.id))
                if theirs is not None:
                    self._compare(sheet, row, [
                        ("duration_minutes", clean["duration_minutes"], theirs["duration_minutes"]),
                        ("venue_code", venue.id if venue else None, theirs["venue_id"]),
                        ("mode", clean["mode"], theirs["mode"]), ("type", clean["type"], theirs["type"]),
                        ("attendance", clean["attendance"], theirs["attendance"]),
                        ("notes", clean["notes"], theirs["notes"]),
                        ("next_steps", _text(row.get("next_steps")), theirs.get("next_steps")),
                    ], f"The session on {clean['session_date']}")
                    continue
            errors: list[FieldError] = []
            next_steps = _collect(errors, clean_text, _text(row.get("next_steps")), "next_steps", 2000) or None
            title = _collect(errors, clean_text, _text(row.get("group_title")), "group_title", 120,
                             multiline=False) or None
            self._fail_all(sheet, row, errors)
            if errors:
                continue
            group = (title, trainer, venue) if title else None
            self._session_at[key] = len(self.new_sessions)
            self.new_sessions.append((referral, trainer, venue, clean["session_date"], clean["start_time"],
                                      clean["duration_minutes"], clean["mode"], clean["type"], clean["attendance"],
                                      clean["notes"], next_steps, group))
            self.report.sheet_counts(sheet).created += 1

    # Assessments ----------------------------------------------------------------------------

    def _check_assessments(self) -> None:
        sheet = "Assessments"
        answer_columns = [c.name for c in spec.sheet(sheet).columns if c.kind == spec.ANSWER]
        existing: dict[tuple, dict] = {}
        for r in self._children_of_known("SELECT referral_id, assessed_date, timepoint, answers FROM assessments "
                                         "WHERE referral_id IN ({marks}) ORDER BY id", self._known_referrals(sheet)):
            existing.setdefault((r["referral_id"], r["assessed_date"], r["timepoint"]), {}).update(
                json.loads(r["answers"]))
        enabled = set(assessments.enabled_instruments(self.db, self.service.code))
        seen: dict = {}
        occasions = []
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            received = self._received(referral)
            day = None
            try:
                day = parse_date(row.get("date"), "date", required=True)
                check_not_future(day, "date", self.today)
                if day.isoformat() < received:
                    self.report.fail(sheet, row.number, "date", row.get("date"),
                                     f"Assessment date {day.isoformat()} is before the referral was received "
                                     f"({received}): check the date.")
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, {})
            timepoint = codes.match("timepoint", _code_value(row.get("timepoint")))
            if timepoint is None:
                self.report.fail(sheet, row.number, "timepoint", row.get("timepoint"),
                                 "Timepoint: choose baseline, review, exit or a follow-up (see the Codes sheet).")
            cells = row.values
            answers = {c: v for c in answer_columns if (v := cells.get(c)) is not None and not _blank(v)}
            found = instruments.instruments_in_answers(answers)
            if not found:
                self.report.fail(sheet, row.number, None, None,
                                 "This row has no answers: fill in at least one answer column, or delete the row.")
            typed: dict[str, dict] = {}
            for code in found:
                try:
                    typed[code] = instruments.normalise_answers(code, answers)
                except ValidationError as exc:
                    self._field_errors(sheet, row, exc, {})
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            key = (id(referral), day.isoformat(), timepoint)
            if self._dup(sheet, row, "date", seen, key,
                         f"The {timepoint} assessment of referral {_ref(row.get('referral_ref'))} on {day.isoformat()}"):
                continue
            merged = {k: v for t in typed.values() for k, v in t.items()}
            if not referral.new:
                theirs = existing.get((referral.id, day.isoformat(), timepoint))
                if theirs is not None:
                    self._compare_answers(sheet, row, merged, theirs, answer_columns)
                    continue
            for key_name in ("weight_kg", "height_cm", "waist_cm"):
                if key_name in merged:
                    check = check_measurement(key_name, merged[key_name])
                    if check.needs_confirmation:
                        self.report.warn(sheet, row.number, key_name, merged[key_name], check.message)
            for code in typed:
                if code not in enabled:
                    self.report.warn(sheet, row.number, None, None,
                                     f"{code} answers are stored, but {code} is switched off for "
                                     f"{self.service.code}: they appear nowhere until it is switched on in settings.")
            occasions.append((row, referral, day.isoformat(), timepoint, typed))
            self.report.sheet_counts(sheet).created += 1
        self._score(sheet, occasions)

    def _compare_answers(self, sheet: str, row: Row, mine: dict, theirs: dict, columns: list[str]) -> None:
        counts = self.report.sheet_counts(sheet)
        differ = [c for c in columns if not _same(mine.get(c), theirs.get(c))]
        if not differ:
            counts.unchanged += 1
            return
        counts.conflicts += 1
        for c in differ:
            self.report.conflict(sheet, row.number, c, row.get(c),
                                 f"This assessment is already in the database with another {c}. The database was "
                                 "kept.", held=_shown(theirs.get(c)))

    def _score(self, sheet: str, occasions: list) -> None:
        """Score every new assessment as assessments.record would, with the height carried
        forward from the client's latest earlier measurement (database or workbook)."""
        heights: dict[int, list] = defaultdict(list)        # id(client entry) -> [(date, source, order, height)]
        clients_of = {}
        known_client_ids = {}
        for row, referral, day, timepoint, typed in occasions:
            client = referral.data["client"]
            clients_of[id(client)] = client
            if not client.new:
                known_client_ids[client.id] = id(client)
            height = typed.get("BODY", {}).get("height_cm")
            if height is not None:
                heights[id(client)].append((day, 1, row.number, height))
        ids = sorted(known_client_ids)
        for chunk in _chunks(ids):
            for cid, day, aid, answers in self.db.conn.execute(
                    f"SELECT client_id, assessed_date, id, answers FROM assessments WHERE instrument = 'BODY' "
                    f"AND client_id IN ({_marks(chunk)})", chunk):
                height = json.loads(answers).get("height_cm")
                if height is not None:
                    heights[known_client_ids[cid]].append((day, 0, aid, height))
        for entries in heights.values():
            entries.sort()
        for i, (row, referral, day, timepoint, typed) in enumerate(occasions):
            if i % _PROGRESS_EVERY == 0:
                self.progress(i, len(occasions), "Scoring assessments")
            client = referral.data["client"]
            data = client.data
            carried = None
            entries = heights.get(id(client))
            if entries:
                at = bisect.bisect_left(entries, (day,))
                if at:
                    carried = entries[at - 1][3]
            context = instruments.ScoringContext(sex=data.get("gender"), ethnicity=data.get("ethnicity"),
                                                 asian_thresholds_override=bool(data.get("asian_thresholds")),
                                                 carried_height_cm=carried)
            for code, answers in typed.items():
                # The answers were normalised when the row was checked: scored as instruments.score does,
                # without normalising them a second time (half the time of scoring a large workbook).
                scored = instruments.SCORERS[code](instruments.INSTRUMENTS[code], answers, context)
                if not scored.computable:
                    self.report.warn(sheet, row.number, None, None,
                                     f"{code}: stored with its score not computable ({scored.reason}).")
                if "safeguarding" in scored.flags:
                    self.report.warn(sheet, row.number, "phq9_9", answers.get("phq9_9"),
                                     "PHQ-9 question 9 is answered above 0: the safeguarding prompt is recorded as "
                                     "raised. Make sure the service's escalation steps were followed.")
                # The same columns and JSON as assessments.insert_scored, made now so only text is kept.
                self.new_assessments.append((
                    referral, day, timepoint, code, assessments._json(answers), assessments._json(dict(scored.scores)),
                    assessments._json(dict(scored.bands)), int(scored.computable),
                    None if scored.computable else scored.reason,
                    assessments._json(list(scored.flags)) if scored.flags else None))

    # Goals ---------------------------------------------------------------------------------

    _GOAL_FIELDS = {"agreed_date": "plan_agreed_date", "goal_text": "goal"}

    # Plans (v2) ---------------------------------------------------------------------------------

    def _check_plans(self) -> None:
        """One row per plan: what matters to the client and the directory entries chosen. A plan
        may have no goals; goals of the Goals sheet join the plan of the same referral and date."""
        sheet = "Plans"
        self._existing_plans: dict[tuple, int] = {}
        self._plan_rows: dict[tuple, tuple] = {}
        known = self._known_referrals(sheet) + self._known_referrals("Goals")
        existing = {}
        for r in self._children_of_known("SELECT * FROM plans WHERE referral_id IN ({marks}) ORDER BY id", known):
            self._existing_plans.setdefault((r["referral_id"], r["agreed_date"]), r["id"])
            existing.setdefault((r["referral_id"], r["agreed_date"]), r)
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            clean = None
            try:
                clean = plans.validate_plan({"agreed_date": row.get("plan_agreed_date"),
                                             "what_matters": _text(row.get("what_matters_to_me"))},
                                            self._received(referral), self.today)
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, {"agreed_date": "plan_agreed_date",
                                                     "what_matters": "what_matters_to_me"})
            contacts = []
            names = _text(row.get("contacts"))
            for name in (names.split(";") if names else []):
                if name.strip():
                    entry = self._directory_for(sheet, row, name, "contacts")
                    if entry is not None and entry not in contacts:
                        contacts.append(entry)
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            agreed = clean["agreed_date"]
            if self._dup(sheet, row, "plan_agreed_date", seen, (id(referral), agreed),
                         f"The plan of referral {_ref(row.get('referral_ref'))} agreed on {agreed}"):
                continue
            if not referral.new:
                theirs = existing.get((referral.id, agreed))
                if theirs is not None:
                    self._compare(sheet, row, [("what_matters_to_me", clean.get("what_matters"),
                                                theirs["what_matters"])], "This plan")
                    continue
            self._plan_rows[(id(referral), agreed)] = (referral, agreed, clean.get("what_matters"), contacts)
            self.report.sheet_counts(sheet).created += 1

    # Directory (v2) -----------------------------------------------------------------------------

    def _directory_for(self, sheet: str, row: Row, name: str | None, column: str) -> Entry | None:
        if not name or not name.strip():
            return None
        entry = self.directory.get(" ".join(name.split()).casefold())
        if entry is None:
            self.report.fail(sheet, row.number, column, name.strip(),
                             f"No directory entry is called {name.strip()}: add it to the Directory sheet or "
                             "correct the name.")
        elif not entry.valid:
            return None
        return entry

    def _check_directory(self) -> None:
        sheet = "Directory"
        seen: dict = {}
        for row in self._rows(sheet):
            errors: list[FieldError] = []
            clean = {"name": _collect(errors, clean_text, _text(row.get("name")), "name", 120, required=True,
                                      multiline=False),
                     "category": codes.match("signposting_category", _code_value(row.get("category")))}
            if clean["category"] is None:
                errors.append(FieldError("category", "Category: choose the kind of service."))
            for f, limit in (("phone", 40), ("address", 200), ("web", 200), ("notes", 1000)):
                clean[f] = _collect(errors, clean_text, _text(row.get(f)), f, limit, multiline=f == "notes") or None
            clean["active"] = _flag(row.get("active"), default=1)
            if clean["active"] is None:
                errors.append(FieldError("active", "Active: Y or N (blank means Y)."))
            key = " ".join((clean["name"] or "").split()).casefold()
            if self._refused(sheet, row, errors, self.directory, key):
                continue
            if self._dup(sheet, row, "name", seen, key, f"The directory entry {clean['name']}"):
                continue
            existing = self.directory.get(key)
            if existing is not None and not existing.new:
                self._compare(sheet, row, [(c, clean[c], existing.data.get(c)) for c in
                                           ("category", "phone", "address", "web", "notes", "active")],
                              f"Directory entry {clean['name']}")
                continue
            entry = Entry(None, True, row=row.number, data=clean)
            self.directory[key] = entry
            self.new_directory.append(entry)
            self.report.sheet_counts(sheet).created += 1

    # Session history (v2) -----------------------------------------------------------------------

    def _check_session_history(self) -> None:
        sheet = "Session history"
        existing_sessions = getattr(self, "_existing_sessions", {})
        known_ids = sorted({r["id"] for r in existing_sessions.values()})
        existing = set()
        for chunk in _chunks(known_ids):
            for sid, action, at in self.db.conn.execute(
                    f"SELECT session_id, action, at FROM session_history WHERE session_id IN ({_marks(chunk)})", chunk):
                existing.add((sid, action, at))
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            trainer = self._staff_for(sheet, row, "trainer")
            errors: list[FieldError] = []
            day = _collect(errors, parse_date, row.get("date"), "date", required=True)
            start = _hhmm_text(row.get("start_time"))
            action = (_text(row.get("action")) or "").strip().casefold()
            if action not in ("moved", "cancelled"):
                errors.append(FieldError("action", "Action: moved or cancelled."))
            values = {}
            for f in ("from_date", "to_date"):
                d = _collect(errors, parse_date, row.get(f), f)
                values[f] = d.isoformat() if d else None
            for f in ("from_time", "to_time"):
                values[f] = _hhmm_text(row.get(f))
            for f in ("from_venue", "to_venue"):
                code = _text(row.get(f))
                values[f] = None
                if code:
                    values[f] = self.venues.get(code.strip().casefold())
                    if values[f] is None:
                        errors.append(FieldError(f, f"Venue {code.strip()} is not on the Venues sheet nor in the "
                                                    "database."))
            attendance = _code_value(row.get("attendance"))
            values["attendance"] = codes.match("attendance", attendance) if attendance is not None else None
            if attendance is not None and values["attendance"] is None:
                errors.append(FieldError("attendance", "Attendance: a code of the attendance list."))
            if action == "cancelled" and values["attendance"] not in ("2", "4"):
                errors.append(FieldError("attendance", "A cancellation is by the client (2) or the service (4)."))
            values["reason"] = _collect(errors, clean_text, _text(row.get("reason")), "reason", 1000,
                                        required=True) or None
            values["at"] = (_text(row.get("at")) or "").strip() or None
            values["by"] = (_text(row.get("by")) or "").strip() or None
            self._fail_all(sheet, row, errors)
            if len(self.report.failures) > before or referral is None or trainer is None or not referral.valid:
                continue
            day_text = day.isoformat()
            index = self._session_at.get((id(referral), day_text, start, id(trainer)))
            if index is not None:
                self.new_history.append((("new", index), action, values))
            else:
                found = None if referral.new or trainer.new else existing_sessions.get(
                    (referral.id, day_text, start, trainer.id))
                if found is None:
                    self.report.fail(sheet, row.number, "date", row.get("date"),
                                     f"No session of referral {_ref(row.get('referral_ref'))} on {day_text} at "
                                     f"{start or '(no time)'} with {_text(row.get('trainer'))} is on the Sessions "
                                     "sheet or in the database.")
                    continue
                if (found["id"], action, values["at"]) in existing:
                    self.report.sheet_counts(sheet).unchanged += 1
                    continue
                self.new_history.append((("db", found["id"]), action, values))
            self.report.sheet_counts(sheet).created += 1

    # Goal reviews and goals worked on in a session (v2) -----------------------------------------

    def _goal_ref(self, sheet: str, row: Row, referral: Entry):
        """("new", index) or ("db", id) of the goal a row names by plan date, area and goal text."""
        errors: list[FieldError] = []
        agreed = _collect(errors, parse_date, row.get("plan_agreed_date"), "plan_agreed_date", required=True)
        area = codes.match("area", _code_value(row.get("area")))
        text = (_text(row.get("goal")) or "").strip()
        if errors or area is None or not text:
            self.report.fail(sheet, row.number, "goal", row.get("goal"),
                             "Name the goal by plan_agreed_date, area and goal, as on the Goals sheet.")
            return None
        key = (id(referral), agreed.isoformat(), area, text)
        if key in self._goal_at:
            return ("new", self._goal_at[key])
        theirs = None if referral.new else self._existing_goals.get((referral.id, agreed.isoformat(), area, text))
        if theirs is None and not referral.new:
            row_ = self.db.conn.execute(
                "SELECT g.id FROM goals g JOIN plans p ON p.id = g.plan_id WHERE p.referral_id = ? AND p.agreed_date = ? "
                "AND g.area = ? AND g.goal_text = ?", (referral.id, agreed.isoformat(), area, text)).fetchone()
            theirs = {"id": row_[0]} if row_ else None
        if theirs is None:
            self.report.fail(sheet, row.number, "goal", text, f"No goal with this text ({area}) of the plan agreed on "
                             f"{agreed.isoformat()} is on the Goals sheet or in the database.")
            return None
        return ("db", theirs["id"])

    def _check_goal_reviews(self) -> None:
        sheet = "Goal reviews"
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            goal = self._goal_ref(sheet, row, referral) if referral is not None and referral.valid else None
            errors: list[FieldError] = []
            day = _collect(errors, parse_date, row.get("review_date"), "review_date", required=True)
            if day is not None:
                _collect(errors, check_not_future, day, "review_date", self.today)
            outcome = (_text(row.get("outcome")) or "").strip().upper()
            if outcome not in plans.REVIEW_OUTCOMES:
                errors.append(FieldError("outcome", "Outcome: " + ", ".join(plans.REVIEW_OUTCOMES) + "."))
            nxt = _collect(errors, parse_date, row.get("next_review_date"), "next_review_date")
            values = {"review_date": day.isoformat() if day else None, "outcome": outcome,
                      "note": _collect(errors, clean_text, _text(row.get("note")), "note", 2000) or None,
                      "previous_text": _collect(errors, clean_text, _text(row.get("previous_goal")), "previous_goal",
                                                1000) or None,
                      "next_review_date": nxt.isoformat() if nxt else None}
            self._fail_all(sheet, row, errors)
            if len(self.report.failures) > before or goal is None:
                continue
            if goal[0] == "db" and self.db.conn.execute(
                    "SELECT 1 FROM goal_reviews WHERE goal_id = ? AND review_date = ? AND outcome = ?",
                    (goal[1], values["review_date"], outcome)).fetchone():
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_reviews.append((goal, values))
            self.report.sheet_counts(sheet).created += 1

    def _check_plan_versions(self) -> None:
        sheet = "Plan versions"
        seen: dict = {}
        new_plan_keys = {(id(r), a) for r, a, *_ in self._plan_rows.values()} | {(id(g[0]), g[1]) for g in self.new_goals}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            errors: list[FieldError] = []
            plan_day = _collect(errors, parse_date, row.get("plan_agreed_date"), "plan_agreed_date", required=True)
            agreed = _collect(errors, parse_date, row.get("agreed_date"), "agreed_date", required=True)
            version = _num(row.get("version"))
            if not isinstance(version, int) or version < 1:
                errors.append(FieldError("version", "Version: a whole number from 1."))
            matters = _collect(errors, clean_text, _text(row.get("what_matters_to_me")), "what_matters_to_me",
                               4000) or None
            goals = []
            text = _text(row.get("goals"))
            if text:
                try:
                    goals = json.loads(text)
                    if not isinstance(goals, list) or not all(isinstance(g, dict) for g in goals):
                        raise ValueError
                except ValueError:
                    errors.append(FieldError("goals", "Goals: the version's goals as the export writes them "
                                                      "(a JSON list)."))
            self._fail_all(sheet, row, errors)
            chosen = []
            names = _text(row.get("contacts"))
            for name in (names.split(";") if names else []):
                if name.strip():
                    entry = self._directory_for(sheet, row, name, "contacts")
                    if entry is not None:
                        chosen.append(entry)
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            key = (id(referral), plan_day.isoformat())
            if self._dup(sheet, row, "version", seen, (key, version), f"Version {version} of this plan"):
                continue
            known = None if referral.new else self._existing_plans.get((referral.id, plan_day.isoformat()))
            if known is None and referral.new is False and key not in new_plan_keys:
                row_ = self.db.conn.execute("SELECT id FROM plans WHERE referral_id = ? AND agreed_date = ?",
                                            (referral.id, plan_day.isoformat())).fetchone()
                known = row_[0] if row_ else None
            if known is None and key not in new_plan_keys:
                self.report.fail(sheet, row.number, "plan_agreed_date", row.get("plan_agreed_date"),
                                 "No plan of this referral was agreed on that date (Plans or Goals sheet, or the "
                                 "database).")
                continue
            if known is not None and key not in new_plan_keys:
                if self.db.conn.execute("SELECT 1 FROM plan_versions WHERE plan_id = ? AND version = ?",
                                        (known, version)).fetchone():
                    self.report.sheet_counts(sheet).unchanged += 1
                    continue
                self._existing_plans[(referral.id, plan_day.isoformat())] = known
            goals = [{k: v for k, v in g.items() if k != "id"} for g in goals]
            self.new_versions.append((referral, plan_day.isoformat(), version,
                                      {"agreed_date": agreed.isoformat(), "what_matters": matters, "goals": goals},
                                      chosen))
            self.report.sheet_counts(sheet).created += 1

    def _check_session_goals(self) -> None:
        sheet = "Session goals"
        existing_sessions = getattr(self, "_existing_sessions", {})
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            trainer = self._staff_for(sheet, row, "trainer")
            errors: list[FieldError] = []
            day = _collect(errors, parse_date, row.get("date"), "date", required=True)
            self._fail_all(sheet, row, errors)
            if len(self.report.failures) > before or referral is None or trainer is None or not referral.valid:
                continue
            goal = self._goal_ref(sheet, row, referral)
            start = _hhmm_text(row.get("start_time"))
            index = self._session_at.get((id(referral), day.isoformat(), start, id(trainer)))
            if index is not None:
                session = ("new", index)
            else:
                found = None if referral.new or trainer.new else existing_sessions.get(
                    (referral.id, day.isoformat(), start, trainer.id))
                if found is None:
                    self.report.fail(sheet, row.number, "date", row.get("date"),
                                     f"No session of referral {_ref(row.get('referral_ref'))} on {day.isoformat()} at "
                                     f"{start or '(no time)'} with {_text(row.get('trainer'))} is on the Sessions "
                                     "sheet or in the database.")
                    continue
                session = ("db", found["id"])
            if goal is None or self._dup(sheet, row, "goal", seen, (session, goal), "This goal of this session"):
                continue
            if session[0] == "db" and goal[0] == "db" and self.db.conn.execute(
                    "SELECT 1 FROM session_goals WHERE session_id = ? AND goal_id = ?", (session[1], goal[1])).fetchone():
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_session_goals.append((session, goal))
            self.report.sheet_counts(sheet).created += 1

    # Settings (v2) -------------------------------------------------------------------------------

    def _check_settings(self) -> None:
        sheet = "Settings"
        seen: dict = {}
        for row in self._rows(sheet):
            scope_text = (_text(row.get("scope")) or "").strip()
            key = (_text(row.get("key")) or "").strip()
            value = _text(row.get("value"))
            venue = None
            if scope_text == "global":
                scope = "global"
            elif scope_text == "service":
                scope = self.service.code
            elif scope_text.startswith("venue:") and self.venues.get(scope_text[6:].strip().casefold()):
                venue = self.venues[scope_text[6:].strip().casefold()]
                scope = f"venue:{venue.id}" if not venue.new else None
            else:
                self.report.fail(sheet, row.number, "scope", scope_text, "Scope: global, service or venue:CODE of "
                                 "a venue on the Venues sheet or in the database.")
                continue
            try:
                json.loads(value or "")
            except ValueError:
                self.report.fail(sheet, row.number, "value", value, "Value: as htdesk export writes it (JSON).")
                continue
            if not key or len(key) > 100:
                self.report.fail(sheet, row.number, "key", key, "Key: the setting's name.")
                continue
            if self._dup(sheet, row, "key", seen, (scope_text, key), f"The setting {key} ({scope_text})"):
                continue
            if scope is not None:
                theirs = self.db.conn.execute("SELECT value FROM settings WHERE scope = ? AND key = ?",
                                              (scope, key)).fetchone()
                if theirs is not None:
                    self._compare(sheet, row, [("value", json.loads(value), json.loads(theirs[0]))],
                                  f"The setting {key} ({scope_text})")
                    continue
            self.new_settings.append((scope if venue is None else venue, key, value))
            self.report.sheet_counts(sheet).created += 1

    # Documents (v2) ------------------------------------------------------------------------------

    def _check_documents(self) -> None:
        """Kept PDFs: each row names a file in the folder FILE-documents beside the workbook, whose
        SHA-256 must be the one on the row (the document comes back byte for byte, or not at all)."""
        sheet = "Documents"
        rows = self.rows.get(sheet, [])
        if not rows:
            return
        folder = spec.documents_folder(self.path)
        known = sorted({e.id for e in self.clients.values() if not e.new and e.id is not None})
        existing = set()
        for chunk in _chunks(known):
            for client_id, kind, sha in self.db.conn.execute(
                    f"SELECT client_id, kind, sha256 FROM documents WHERE client_id IN ({_marks(chunk)})", chunk):
                existing.add((client_id, kind, sha))
        for row in self._rows(sheet):
            before = len(self.report.failures)
            ref = _ref(row.get("client_ref"))
            client = self.clients.get(ref) if ref else None
            if client is None:
                self.report.fail(sheet, row.number, "client_ref", row.get("client_ref"),
                                 f"Client {ref or ''} is not on the Clients sheet nor in the database.")
            referral = self._referral_for(sheet, row) if _text(row.get("referral_ref")) else None
            values = {}
            for f, limit, required in (("kind", 40, True), ("file_name", 200, False), ("template_version", 20, True),
                                       ("created_at", 40, True), ("created_by", 60, False)):
                errors: list[FieldError] = []
                values[f] = _collect(errors, clean_text, _text(row.get(f)), f, limit, required=required,
                                     multiline=False) or None
                self._fail_all(sheet, row, errors)
            sha = (_text(row.get("sha256")) or "").strip().lower()
            name = (_text(row.get("file")) or "").strip()
            file = folder / name
            if not name or "/" in name or "\\" in name or name.startswith("."):
                self.report.fail(sheet, row.number, "file", name, "File: the PDF's name in the folder "
                                 f"{folder.name} beside the workbook (a name, not a path).")
            elif not file.is_file():
                self.report.fail(sheet, row.number, "file", name, f"There is no file {name} in the folder "
                                 f"{folder.name} beside the workbook: copy the export's documents folder with it.")
            elif sha256_of(file) != sha:
                self.report.fail(sheet, row.number, "sha256", row.get("sha256"),
                                 f"The file {name} is not the document kept (its SHA-256 differs): it was changed "
                                 "or replaced, so it was not imported.")
            if len(self.report.failures) > before or client is None or not client.valid:
                continue
            if not client.new and (client.id, values["kind"], sha) in existing:
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_documents.append((client, referral, {**values, "sha256": sha}, file))
            self.report.sheet_counts(sheet).created += 1

    def _write_documents(self, by: str) -> None:
        for client, referral, v, file in self.new_documents:
            content = file.read_bytes()
            if hashlib.sha256(content).hexdigest() != v["sha256"]:
                raise OSError(f"{file} changed while it was being imported")
            self.db.conn.execute(
                "INSERT INTO documents (client_id, referral_id, kind, file_name, content, template_version, sha256, "
                "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (client.id, referral.id if referral else None, v["kind"], v["file_name"] or file.name, content,
                 v["template_version"], v["sha256"], v["created_at"], v["created_by"] or by))

    # Contact attempts (v2) ----------------------------------------------------------------------

    def _check_contact_attempts(self) -> None:
        sheet = "Contact attempts"
        existing = set()
        for r in self._children_of_known("SELECT * FROM contact_attempts WHERE referral_id IN ({marks})",
                                         self._known_referrals(sheet)):
            existing.add((r["referral_id"], r["attempt_date"], r["method"], r["outcome"], r["note"] or ""))
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            day = None
            try:
                day = parse_date(row.get("date"), "date", required=True)
                check_not_future(day, "date", self.today)
                if day.isoformat() < self._received(referral):
                    self.report.fail(sheet, row.number, "date", row.get("date"),
                                     f"Attempt date {day.isoformat()} is before the referral was received "
                                     f"({self._received(referral)}): check the date.")
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, {})
            method = codes.match("contact_method", _code_value(row.get("method")))
            if method is None:
                self.report.fail(sheet, row.number, "method", row.get("method"),
                                 "Method: choose how the client was tried." if not _blank(row.get("method"))
                                 else "Method is required.")
            outcome = codes.match("contact_outcome", _code_value(row.get("outcome")))
            if outcome is None:
                self.report.fail(sheet, row.number, "outcome", row.get("outcome"),
                                 "Outcome: choose what happened." if not _blank(row.get("outcome"))
                                 else "Outcome is required.")
            errors: list[FieldError] = []
            note = _collect(errors, clean_text, _text(row.get("note")), "note", 1000) or None
            self._fail_all(sheet, row, errors)
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            key = (id(referral), day.isoformat(), method, outcome, note or "")
            if self._dup(sheet, row, "date", seen, key,
                         f"The contact attempt of referral {_ref(row.get('referral_ref'))} on {day.isoformat()}"):
                continue
            if not referral.new and (referral.id, *key[1:]) in existing:
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_attempts.append((referral, day.isoformat(), method, outcome, note))
            self.report.sheet_counts(sheet).created += 1

    def _check_goals(self) -> None:
        sheet = "Goals"
        known = self._known_referrals(sheet)
        existing = {}
        for r in self._children_of_known(
                "SELECT p.id AS plan_id, p.referral_id, p.agreed_date, g.* FROM plans p LEFT JOIN goals g "
                "ON g.plan_id = p.id WHERE p.referral_id IN ({marks}) ORDER BY p.id, g.position, g.id", known):
            self._existing_plans.setdefault((r["referral_id"], r["agreed_date"]), r["plan_id"])
            if r["id"] is not None:
                existing.setdefault((r["referral_id"], r["agreed_date"], r["area"], r["goal_text"]), r)
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            received = self._received(referral)
            agreed = None
            try:
                agreed = plans.validate_plan({"agreed_date": row.get("plan_agreed_date")}, received,
                                             self.today)["agreed_date"]
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, self._GOAL_FIELDS)
            values = {"area": _code_value(row.get("area")), "goal_text": _text(row.get("goal")),
                      "steps": _text(row.get("steps")), "barriers": _text(row.get("barriers")),
                      "who_can_help": _text(row.get("who_can_help")), "importance": _num(row.get("importance")),
                      "confidence": _num(row.get("confidence")), "review_date": row.get("review_date"),
                      "status": _code_value(row.get("status")), "status_date": row.get("status_date"),
                      "start_date": row.get("start_date")}
            if values["status"] is None:
                self.report.fail(sheet, row.number, "status", None,
                                 "Status is required: choose one from the list on the Codes sheet.")
            try:
                clean = plans.validate_goal(values, self.today)
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, self._GOAL_FIELDS)
                clean = None
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            key = (id(referral), agreed, clean["area"], clean["goal_text"])
            if self._dup(sheet, row, "goal", seen, key,
                         f"This goal ({clean['area']}) of the plan agreed on {agreed}"):
                continue
            if not referral.new:
                theirs = existing.get((referral.id, agreed, clean["area"], clean["goal_text"]))
                if theirs is not None:
                    self._compare(sheet, row, [(c, clean[c], theirs[c]) for c in
                                               ("steps", "barriers", "who_can_help", "importance", "confidence",
                                                "review_date", "status", "status_date", "start_date")],
                                  "This goal")
                    continue
            self._goal_at[key] = len(self.new_goals)
            self.new_goals.append((referral, agreed, *[clean.get(c) for c in plans.GOAL_COLUMNS]))
            self.report.sheet_counts(sheet).created += 1
        self._existing_goals = existing

    # Signposting ---------------------------------------------------------------------------

    _SIGNPOST_FIELDS = {"signpost_date": "date"}

    def _check_signposting(self) -> None:
        sheet = "Signposting"
        existing = {}
        for r in self._children_of_known("SELECT * FROM signposting WHERE referral_id IN ({marks}) ORDER BY id",
                                         self._known_referrals(sheet)):
            existing.setdefault((r["referral_id"], r["signpost_date"], r["category"], r["destination"] or ""), r)
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            values = {"signpost_date": row.get("date"), "category": _code_value(row.get("category")),
                      "destination": _text(row.get("destination")), "type": _code_value(row.get("type")),
                      "outcome": _code_value(row.get("outcome")), "follow_up_date": row.get("follow_up_date")}
            try:
                clean = signposting.validate(values, self._received(referral), self.today)
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, self._SIGNPOST_FIELDS)
                clean = None
            outcome_day = None
            try:
                outcome_day = parse_date(row.get("outcome_date"), "outcome_date")
                if outcome_day is not None:
                    check_not_future(outcome_day, "outcome_date", self.today)
                    if clean is not None and outcome_day.isoformat() < clean["signpost_date"]:
                        self.report.fail(sheet, row.number, "outcome_date", row.get("outcome_date"),
                                         "Outcome date is before the date the client was signposted.")
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, {})
            directory = self._directory_for(sheet, row, _text(row.get("directory_name")), "directory_name")
            if len(self.report.failures) > before or referral is None or not referral.valid:
                continue
            key = (id(referral), clean["signpost_date"], clean["category"], clean["destination"] or "")
            if self._dup(sheet, row, "destination", seen, key,
                         f"Signposting of referral {_ref(row.get('referral_ref'))} on {clean['signpost_date']} to "
                         f"{clean['category']} {clean['destination'] or ''}".rstrip()):
                continue
            if not referral.new:
                theirs = existing.get((referral.id, clean["signpost_date"], clean["category"],
                                       clean["destination"] or ""))
                if theirs is not None:
                    self._compare(sheet, row, [("type", clean["type"], theirs["type"]),
                                               ("outcome", clean["outcome"], theirs["outcome"]),
                                               ("outcome_date", outcome_day.isoformat() if outcome_day else None,
                                                theirs.get("outcome_date")),
                                               ("follow_up_date", clean["follow_up_date"], theirs["follow_up_date"])],
                                  "This signposting")
                    continue
            self.new_signposts.append((referral, clean["signpost_date"], clean["category"], clean["destination"],
                                       directory, clean["type"], clean["outcome"],
                                       clean["follow_up_date"], outcome_day.isoformat() if outcome_day else None))
            self.report.sheet_counts(sheet).created += 1

    # --- phase 3: write ---------------------------------------------------------------------

    def look_up_postcodes(self, known: dict | None = None) -> dict:
        """Deprivation of every new client's postcode (before the write lock is taken: the
        reference is built once per PC, about 10 s, never inside a transaction)."""
        if any(e.data.get("_needs_lookup") for e in self.new_clients):
            self.prepare_reference(self._progress, self._cancelled)
        deprivation = dict(known or {})
        for i, e in enumerate(self.new_clients):
            if i % _PROGRESS_EVERY == 0:
                self.progress(i, len(self.new_clients), "Looking up postcodes")
            pc = e.data.get("postcode")
            if pc not in deprivation:
                deprivation[pc] = self.deprivation_for(pc)
        return deprivation

    # Safeguarding prompts (v2) ------------------------------------------------------------------

    def _check_safeguarding_prompts(self) -> None:
        """Each prompt an answer raised, as it was: the steps shown, when, and who acknowledged them."""
        sheet = "Safeguarding prompts"
        existing = set()
        for r in self._children_of_known("SELECT * FROM safeguarding_prompts WHERE referral_id IN ({marks})",
                                         self._known_referrals(sheet)):
            existing.add((r["referral_id"], r["instrument"], r["item"], r["raised_at"]))
        seen: dict = {}
        for row in self._rows(sheet):
            before = len(self.report.failures)
            referral = self._referral_for(sheet, row)
            ref = _ref(row.get("client_ref"))
            client = self.clients.get(ref) if ref else None
            if client is None:
                self.report.fail(sheet, row.number, "client_ref", row.get("client_ref"),
                                 f"Client {ref or ''} is not on the Clients sheet nor in the database.")
            elif referral is not None and referral.valid and client.valid and (
                    referral.data["client"] is not client if referral.new else referral.data["client_id"] != client.id):
                self.report.fail(sheet, row.number, "client_ref", row.get("client_ref"),
                                 f"Referral {_ref(row.get('referral_ref'))} is not a referral of client {ref}.")
            values: dict = {}
            errors: list[FieldError] = []
            for f, limit, multiline in (("instrument", 20, False), ("item", 40, False), ("steps", 5000, True),
                                        ("raised_at", 40, False), ("acknowledged_by", 60, False)):
                values[f] = _collect(errors, clean_text, _text(row.get(f)), f, limit, required=True,
                                     multiline=multiline) or None
            self._fail_all(sheet, row, errors)
            answer = row.get("answer")
            if _blank(answer):
                values["answer"] = None
            elif isinstance(answer, (int, float)) and not isinstance(answer, bool) and float(answer).is_integer():
                values["answer"] = int(answer)
            elif isinstance(answer, str) and answer.strip().isdigit():
                values["answer"] = int(answer.strip())
            else:
                self.report.fail(sheet, row.number, "answer", answer, "Answer: a whole number (the answer given).")
            if values.get("raised_at"):
                try:
                    datetime.fromisoformat(values["raised_at"])
                except ValueError:
                    self.report.fail(sheet, row.number, "raised_at", row.get("raised_at"),
                                     "Raised at: a date and time as htdesk export writes it (2024-02-05T10:15:00).")
            if len(self.report.failures) > before or referral is None or not referral.valid or client is None:
                continue
            key = (id(referral), values["instrument"], values["item"], values["raised_at"])
            if self._dup(sheet, row, "raised_at", seen, key,
                         f"The safeguarding prompt of referral {_ref(row.get('referral_ref'))} at "
                         f"{values['raised_at']}"):
                continue
            if not referral.new and (referral.id, *key[1:]) in existing:
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_prompts.append((referral, values))
            self.report.sheet_counts(sheet).created += 1

    def _write_safeguarding_prompts(self) -> None:
        self.db.conn.executemany(
            "INSERT INTO safeguarding_prompts (client_id, referral_id, instrument, item, answer, steps, raised_at, "
            "acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(_client_id(referral), referral.id, v["instrument"], v["item"], v["answer"], v["steps"], v["raised_at"],
              v["acknowledged_by"]) for referral, v in self.new_prompts])

    # Return runs (v2) -----------------------------------------------------------------------------

    def _check_return_runs(self) -> None:
        """Each return built, with its figures; a submitted one with the workbook as sent (checked by its
        SHA-256) and the referrals behind each figure then. The files are in the documents folder."""
        from .. import periods, return_submissions, returns
        sheet = "Return runs"
        rows = self.rows.get(sheet, [])
        if not rows:
            return
        folder = spec.documents_folder(self.path)
        existing = {tuple(r) for r in self.db.conn.execute(
            "SELECT period, generated_at, figures, file_sha256 FROM return_runs WHERE service_id = ?",
            (self.service.id,))}
        seen: dict = {}

        def file_of(row: Row, column: str, required: bool) -> Path | None:
            name = (_text(row.get(column)) or "").strip()
            if not name:
                if required:
                    self.report.fail(sheet, row.number, column, None, f"{column} is required: the file's name in "
                                     f"the folder {folder.name} beside the workbook.")
                return None
            if "/" in name or "\\" in name or name.startswith("."):
                self.report.fail(sheet, row.number, column, name, f"{column}: a file's name in the folder "
                                 f"{folder.name} beside the workbook (a name, not a path).")
                return None
            if not (folder / name).is_file():
                self.report.fail(sheet, row.number, column, name, f"There is no file {name} in the folder "
                                 f"{folder.name} beside the workbook: copy the export's documents folder with it.")
                return None
            return folder / name

        for row in self._rows(sheet):
            before = len(self.report.failures)
            v: dict = {}
            try:
                v["period"] = periods.parse_period(_text(row.get("period")), "period").code
            except ValidationError as exc:
                self._field_errors(sheet, row, exc, {})
            errors: list[FieldError] = []
            for f, limit, required in (("spec_version", 20, True), ("generated_at", 40, True),
                                       ("generated_by", 200, False), ("file_name", 200, False),
                                       ("file_sha256", 64, False), ("submitted_at", 40, False),
                                       ("submitted_by", 60, False), ("sent_file_name", 200, False),
                                       ("sent_sha256", 64, False), ("sent_at", 40, False), ("sent_by", 60, False)):
                v[f] = _collect(errors, clean_text, _text(row.get(f)), f, limit, required=required,
                                multiline=False) or None
            self._fail_all(sheet, row, errors)
            v["disclosure"] = (_text(row.get("disclosure")) or "").strip()
            if v["disclosure"] not in ("none", "nhs-england"):
                self.report.fail(sheet, row.number, "disclosure", row.get("disclosure"),
                                 "Disclosure: none or nhs-england.")
            v["submitted"] = _flag(row.get("submitted"), 0)
            if v["submitted"] is None:
                self.report.fail(sheet, row.number, "submitted", row.get("submitted"), "Submitted: Y or N.")
            figures = file_of(row, "figures_file", True)
            if figures is not None:
                try:
                    v["figures"] = figures.read_text(encoding="utf-8")
                    returns.figures_from_json(v["figures"])
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    self.report.fail(sheet, row.number, "figures_file", row.get("figures_file"),
                                     f"The file {figures.name} does not hold a return's figures as htdesk export "
                                     "writes them (JSON).")
            sent = file_of(row, "sent_file", False)
            v["sent"] = None
            if sent is not None:
                if sha256_of(sent) != (v["sent_sha256"] or "").lower():
                    self.report.fail(sheet, row.number, "sent_sha256", row.get("sent_sha256"),
                                     f"The file {sent.name} is not the workbook sent (its SHA-256 differs): it was "
                                     "changed or replaced, so it was not imported.")
                elif not v["sent_file_name"] or not v["sent_at"]:
                    self.report.fail(sheet, row.number, "sent_at", row.get("sent_at"),
                                     "A sent workbook needs its sent_file_name and sent_at.")
                v["sent"] = sent
            members = file_of(row, "members_file", False)
            v["members"] = None
            if members is not None:
                try:
                    found = json.loads(members.read_text(encoding="utf-8"))
                    if not isinstance(found, dict):
                        raise ValueError
                    v["members"] = return_submissions.pack(found)
                except (ValueError, UnicodeDecodeError):
                    self.report.fail(sheet, row.number, "members_file", row.get("members_file"),
                                     f"The file {members.name} does not hold the referrals behind each figure as "
                                     "htdesk export writes them (JSON).")
            if v["generated_at"]:
                try:
                    datetime.fromisoformat(v["generated_at"])
                except ValueError:
                    self.report.fail(sheet, row.number, "generated_at", row.get("generated_at"),
                                     "Generated at: a date and time as htdesk export writes it (2024-07-10T09:30:00).")
            if len(self.report.failures) > before:
                continue
            key = (v["period"], v["generated_at"], v["figures"], v["file_sha256"])
            if self._dup(sheet, row, "generated_at", seen, key,
                         f"The return run of {v['period']} built at {v['generated_at']}"):
                continue
            if key in existing:
                self.report.sheet_counts(sheet).unchanged += 1
                continue
            self.new_runs.append(v)
            self.report.sheet_counts(sheet).created += 1

    def _write_return_runs(self) -> None:
        for v in self.new_runs:
            run_id = self.db.conn.execute(
                "INSERT INTO return_runs (service_id, period, spec_version, disclosure, generated_at, generated_by, "
                "figures, file_name, file_sha256, submitted, submitted_at, submitted_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (self.service.id, v["period"], v["spec_version"], v["disclosure"], v["generated_at"],
                 v["generated_by"], v["figures"], v["file_name"], v["file_sha256"], v["submitted"],
                 v["submitted_at"], v["submitted_by"])).fetchone()[0]
            if v["sent"] is not None:
                content = v["sent"].read_bytes()
                if hashlib.sha256(content).hexdigest() != v["sent_sha256"].lower():
                    raise OSError(f"{v['sent']} changed while it was being imported")
                self.db.conn.execute(
                    "INSERT INTO return_submissions (run_id, file_name, file_sha256, workbook, members, submitted_at, "
                    "submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, v["sent_file_name"], v["sent_sha256"], content, v["members"], v["sent_at"],
                     v["sent_by"]))

    def write(self, path: Path, sha256: str, deprivation: dict) -> None:
        """Inside the caller's transaction (which holds the write lock)."""
        by = self.actor.username
        total = sum(len(x) for x in (self.new_staff, self.new_venues, self.new_clients, self.new_referrals,
                                     self.new_sessions, self.new_goals, self.new_assessments,
                                     self.new_signposts))
        step = [0]

        def tick(n: int, label: str) -> None:
            step[0] += n
            self.progress(step[0], total, label)

        self._write_staff(by)
        self._write_venues(by)
        self._write_directory(by)
        tick(len(self.new_staff) + len(self.new_venues), "Writing staff and venues")
        self._write_clients(by, deprivation, tick)
        self._write_referrals(by, tick)
        self._write_sessions(by, tick)
        self._write_goals(by, tick)
        self._write_assessments(by, tick)
        self._write_signposting(by, tick)
        self._write_contact_attempts(by)
        self._write_documents(by)
        self._write_safeguarding_prompts()
        self._write_return_runs()
        self.db.conn.executemany("INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)", [
            (scope if isinstance(scope, str) else f"venue:{scope.id}", key, value)
            for scope, key, value in self.new_settings])
        engine.analyze_after_bulk_load(self.db)
        for i, e in enumerate(dict.fromkeys(self.touched_referrals)):
            if i % _PROGRESS_EVERY == 0:
                self.progress(i, len(self.touched_referrals), "Working out referral status")
            referrals.refresh_status(self.db, e.id)
        self._bump_counters()
        created = {sheet: c.created for sheet, c in self.report.counts.items()}
        audit.record(self.db, self.actor, "import", "workbook", None,
                     after={"file": path.name, "sha256": sha256, "service": self.service.code,
                            "created": created, "unchanged": sum(c.unchanged for c in self.report.counts.values()),
                            "conflicts": len(self.report.conflicts), "report": getattr(self, "report_file", None)},
                     detail=f"{path.name} (sha256 {sha256})")
        self.progress(total, total, "Saving")

    def _insert_many(self, table: str, columns: list[str], count: int, rows, want_ids: bool = True) -> list[int]:
        """executemany over rows (a list or a generator, so big tables are never copied whole),
        then the new ids in insertion order (rowids only grow inside our transaction)."""
        if not count:
            return []
        conn = self.db.conn
        if engine.is_postgres(self.db):
            # Several writers: each new row's id as the server gave it, never inferred from the old maximum.
            ids = conn.executemany_returning(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(columns)}) RETURNING id", rows)
            if len(ids) != count:
                raise RuntimeError(f"{table}: {len(ids)} rows written for {count}")
            return ids if want_ids else []
        start = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(columns)})", rows)
        if want_ids:
            ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id > ? ORDER BY id", (start,))]
        else:
            ids = []
        written = len(ids) if want_ids else conn.execute(f"SELECT COUNT(*) FROM {table} WHERE id > ?",
                                                          (start,)).fetchone()[0]
        if written != count:
            raise RuntimeError(f"{table}: {written} rows written for {count}")   # rolls the whole import back
        return ids

    def _write_staff(self, by: str) -> None:
        for e in self.new_staff:
            d = e.data
            active = not (d.get("end_date") and d["end_date"] <= self.today.isoformat())
            e.id = services.add_staff(self.db, self.service.id, d["full_name"], d["role"], by, email=d["email"],
                                      phone=d["phone"], start_date=d["start_date"], end_date=d["end_date"],
                                      active=active)
            account_id = accounts.create(self.db, d["username"], None,
                                         [r for r in (d["role"], *d.get("other_roles", [])) if r != "ADMIN"], e.id,
                                         by, password_hash=UNUSABLE_PASSWORD_HASH, must_change=True, no_roles_ok=True)
            accounts.set_locked(self.db, d["username"], True, by)
            if d.get("account_ended") and _has_column(self.db, "accounts", "ended_on"):
                self.db.conn.execute("UPDATE accounts SET ended_on = ? WHERE id = ?", (d["account_ended"], account_id))

    def _write_venues(self, by: str) -> None:
        for e in self.new_venues:
            d = e.data
            e.id = services.add_venue(self.db, self.service.id, d["code"], d["name"], d["type"], d["postcode"], by)
            if d.get("open_days") is not None or d.get("active", 1) != 1:
                self.db.conn.execute("UPDATE venues SET open_days = ?, active = ? WHERE id = ?",
                                     (d.get("open_days"), d.get("active", 1), e.id))

    _DEPRIVATION = ("lsoa_code", "imd_decile", "imd_quintile", "imd_edition", "postcode_status")

    def _write_clients(self, by: str, deprivation: dict, tick) -> None:
        columns = ["service_id", "client_ref", *CLIENT_FIELDS, *self._DEPRIVATION, "archived_at", "archived_by",
                   "anonymised_at", "created_by"]
        rows = []
        for e in self.new_clients:
            d = e.data
            dep = d["_kept_deprivation"] if d.get("anonymised_at") else deprivation[d.get("postcode")]
            rows.append((self.service.id, d["client_ref"], *[d.get(f) for f in CLIENT_FIELDS],
                         *[dep[k] for k in self._DEPRIVATION], d.get("archived_at"),
                         by if d.get("archived_at") else None, d.get("anonymised_at"), by))
        ids = self._insert_many("clients", columns, len(rows), rows)
        search = []
        for e, new_id in zip(self.new_clients, ids):
            e.id = new_id
            d = e.data
            # An erased person is found by reference and the names the erasure gave (as db/rights.py keeps it).
            search.append((new_id, f"{d['client_ref']} {d['first_name']} {d['last_name']}" if d.get("anonymised_at")
                           else clients.search_text(d)))
        self.db.conn.executemany("INSERT INTO clients_search (rowid, text) VALUES (?, ?)", search)
        tick(len(rows), "Writing clients")

    def _write_referrals(self, by: str, tick) -> None:
        columns = ["service_id", "referral_ref", "client_id", "received_date", "source", "referrer_name",
                   "referrer_organisation", "priority", "allocated_staff_id", "closed_date", "closure_reason",
                   "notes", "age_override_by", "created_by"]
        rows = []
        for e in self.new_referrals:
            d = e.data
            rows.append((self.service.id, d["referral_ref"], d["client"].id, d["received_date"], d["source"],
                         d["referrer_name"], d["referrer_organisation"], d["priority"] or "routine",
                         d["trainer"].id if d["trainer"] else None, d["closed_date"], d["closure_reason"],
                         d["notes"], d.get("age_override_by"), by))
        ids = self._insert_many("referrals", columns, len(rows), rows)
        reasons = []
        for e, new_id in zip(self.new_referrals, ids):
            e.id = new_id
            reasons += [(new_id, area) for area in e.data["reasons"]]
        self.db.conn.executemany("INSERT INTO referral_reasons (referral_id, area) VALUES (?, ?)", reasons)
        self.db.conn.executemany("INSERT INTO erased_referrals (referral_id, figures_dob, nhs_valid) VALUES (?, ?, ?)",
                                 [(e.id, *e.data["erased"]) for e in self.new_referrals if e.data.get("erased")])
        self.touched_referrals += self.new_referrals
        tick(len(rows), "Writing referrals")

    def _write_sessions(self, by: str, tick) -> None:
        columns = ["referral_id", "client_id", "staff_id", "venue_id", "session_date", "start_time",
                   "duration_minutes", "mode", "type", "attendance", "notes", "next_steps", "group_id", "created_by"]
        self.touched_referrals += [s[0] for s in self.new_sessions]
        # Group bookings (v2 group_title): one group per title, trainer and venue.
        groups: dict[tuple, int] = {}
        for *_, group in self.new_sessions:
            if group is not None:
                title, trainer, venue = group
                key = (title, id(trainer), id(venue) if venue else None)
                if key not in groups:
                    groups[key] = self.db.conn.execute(
                        "INSERT INTO session_groups (service_id, title, staff_id, venue_id, created_by) "
                        "VALUES (?, ?, ?, ?, ?) RETURNING id", (self.service.id, title, trainer.id,
                                                                venue.id if venue else None, by)).fetchone()[0]

        def group_id(group):
            if group is None:
                return None
            title, trainer, venue = group
            return groups[(title, id(trainer), id(venue) if venue else None)]
        ids = self._insert_many("sessions", columns, len(self.new_sessions), (
            (referral.id, _client_id(referral), trainer.id, venue.id if venue else None, *values, group_id(group), by)
            for referral, trainer, venue, *values, group in self.new_sessions),
            want_ids=bool(self.new_history or self.new_session_goals))
        self._new_session_ids = ids
        rows, now = [], engine.now()
        for (kind, at), action, v in self.new_history:
            session_id = ids[at] if kind == "new" else at
            rows.append((session_id, action, v["from_date"], v["from_time"],
                         v["from_venue"].id if v["from_venue"] else None, v["to_date"], v["to_time"],
                         v["to_venue"].id if v["to_venue"] else None, v["attendance"], v["reason"], v["at"] or now,
                         v["by"]))
        # "at" left blank takes the moment of the import.
        self.db.conn.executemany(
            "INSERT INTO session_history (session_id, action, from_date, from_time, from_venue_id, to_date, to_time, "
            "to_venue_id, attendance, reason, at, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        tick(len(self.new_sessions), "Writing sessions")

    def _write_directory(self, by: str) -> None:
        columns = ["service_id", "name", "category", "phone", "address", "web", "notes", "active", "created_by"]
        ids = self._insert_many("directory", columns, len(self.new_directory), [
            (self.service.id, *[e.data[c] for c in columns[1:-1]], by) for e in self.new_directory])
        for e, new_id in zip(self.new_directory, ids):
            e.id = new_id

    def _write_contact_attempts(self, by: str) -> None:
        self._insert_many("contact_attempts", ["referral_id", "attempt_date", "method", "outcome", "note", "created_by"],
                          len(self.new_attempts),
                          [(referral.id, *values, by) for referral, *values in self.new_attempts], want_ids=False)
        self.touched_referrals += [a[0] for a in self.new_attempts]

    def _write_goals(self, by: str, tick) -> None:
        plan_ids: dict[tuple, int] = {}
        new_plans = []
        what_matters: dict[tuple, str | None] = {}
        contacts: dict[tuple, list[Entry]] = {}
        plan_keys = [(referral, agreed) for referral, agreed, *_ in self._plan_rows.values()]
        for referral, agreed, matters, chosen in self._plan_rows.values():
            what_matters[(referral.id, agreed)] = matters
            contacts[(referral.id, agreed)] = chosen
        for referral, agreed in plan_keys + [(g[0], g[1]) for g in self.new_goals]:
            key = (referral.id, agreed)
            if key in plan_ids:
                continue
            known = self._existing_plans.get(key) if not referral.new else None
            if known is not None:
                plan_ids[key] = known
            else:
                plan_ids[key] = -1
                new_plans.append(key)
        ids = self._insert_many("plans", ["referral_id", "agreed_date", "what_matters", "created_by"],
                                len(new_plans), [(rid, day, what_matters.get((rid, day)), by) for rid, day in new_plans])
        plan_ids.update(zip(new_plans, ids))
        self.db.conn.executemany("INSERT INTO plan_contacts (plan_id, directory_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                 [(plan_ids[key], e.id) for key, chosen in contacts.items() for e in chosen])
        positions: dict[int, int] = {}
        fresh = set(new_plans)
        for known_id in {v for k, v in plan_ids.items() if k not in fresh}:
            positions[known_id] = self.db.conn.execute(
                "SELECT COALESCE(MAX(position), 0) FROM goals WHERE plan_id = ?", (known_id,)).fetchone()[0]
        columns = ["plan_id", *plans.GOAL_COLUMNS, "position", "created_by"]
        def rows():
            for referral, agreed, *values in self.new_goals:
                plan_id = plan_ids[(referral.id, agreed)]
                positions[plan_id] = positions.get(plan_id, 0) + 1
                yield (plan_id, *values, positions[plan_id], by)
        goal_ids = self._insert_many("goals", columns, len(self.new_goals), rows(),
                                     want_ids=bool(self.new_reviews or self.new_session_goals))
        ref = lambda r: goal_ids[r[1]] if r[0] == "new" else r[1]  # noqa: E731
        self.db.conn.executemany(
            "INSERT INTO goal_reviews (goal_id, review_date, outcome, note, previous_text, next_review_date, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(ref(goal), v["review_date"], v["outcome"], v["note"], v["previous_text"], v["next_review_date"], by)
             for goal, v in self.new_reviews])
        sessions_ref = lambda r: self._new_session_ids[r[1]] if r[0] == "new" else r[1]  # noqa: E731
        self.db.conn.executemany("INSERT INTO session_goals (session_id, goal_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                 [(sessions_ref(s_), ref(g)) for s_, g in self.new_session_goals])
        # Versions kept on the Plan versions sheet, with the goals' and contacts' ids of this database.
        version_rows = []
        for referral, agreed, version, values, chosen in self.new_versions:
            plan_id = plan_ids.get((referral.id, agreed)) or self._existing_plans.get((referral.id, agreed))
            by_text = {(a, t): i for i, a, t in self.db.conn.execute(
                "SELECT id, area, goal_text FROM goals WHERE plan_id = ?", (plan_id,))}
            goals = [{**g, "id": by_text.get((g.get("area"), g.get("goal_text")))} for g in values["goals"]]
            goals = [{"id": g["id"], **{k: v for k, v in g.items() if k != "id"}} for g in goals]
            version_rows.append((plan_id, version, values["agreed_date"], values["what_matters"],
                                 json.dumps(goals, ensure_ascii=False, separators=(",", ":")),
                                 json.dumps([e.id for e in chosen], separators=(",", ":")), by))
        self.db.conn.executemany(
            "INSERT INTO plan_versions (plan_id, version, agreed_date, what_matters, goals, contacts, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", version_rows)
        if new_plans:
            plans.first_versions(self.db)     # version 1 of each new plan without one, as the app keeps
        tick(len(self.new_goals), "Writing plans and goals")

    def _write_assessments(self, by: str, tick) -> None:
        columns = ["client_id", "referral_id", "assessed_date", "timepoint", "instrument", "answers", "scores",
                   "bands", "is_result", "not_computable_reason", "flags", "created_by"]
        self._insert_many("assessments", columns, len(self.new_assessments), (
            (_client_id(referral), referral.id, *values, by) for referral, *values in self.new_assessments),
            want_ids=False)
        tick(len(self.new_assessments), "Writing assessments")

    def _write_signposting(self, by: str, tick) -> None:
        columns = ["client_id", "referral_id", "signpost_date", "category", "destination", "directory_id", "type",
                   "outcome", "follow_up_date", "outcome_date", "created_by"]
        self._insert_many("signposting", columns, len(self.new_signposts), (
            (_client_id(referral), referral.id, day, category, destination, directory.id if directory else None,
             *values, by) for referral, day, category, destination, directory, *values in self.new_signposts),
            want_ids=False)
        tick(len(self.new_signposts), "Writing signposting")

    def _bump_counters(self) -> None:
        """Refs kept as given: keep the app's own series ahead of them, so later refs never collide."""
        for counter, prefix, entries in (("client_ref", clients.REF_PREFIX, self.new_clients),
                                         ("referral_ref", referrals.REF_PREFIX, self.new_referrals)):
            highest = 0
            pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
            for e in entries:
                m = pattern.match(e.data["client_ref" if counter == "client_ref" else "referral_ref"])
                if m:
                    highest = max(highest, int(m.group(1)))
            if highest:
                services.bump_counter(self.db, counter, highest)


# --- the whole import -------------------------------------------------------------------------

def run(db: Database, actor: Actor, service: Service, path: Path, *, dry_run: bool, deprivation_for,
        prepare_reference, on_progress=None, cancelled=None, today: date | None = None,
        write_report: bool = True) -> ImportReport:
    """Read, check, write. The check reads one moment of the database (a snapshot) without
    holding anyone up. The write then takes the write lock; if another program committed
    anything since the check began (an edit, a return run, a backup's audit row), the rows are
    checked again while the lock is held, so what is written was checked against exactly the
    data it joins, and unrelated work elsewhere never stops the import."""
    started = time.perf_counter()
    path = Path(path)
    report = ImportReport(file=str(path), service_code=service.code, dry_run=dry_run)

    def new_importer(rep: ImportReport) -> Importer:
        imp = Importer(db, actor, service, deprivation_for=deprivation_for, prepare_reference=prepare_reference,
                       today=today, on_progress=on_progress, cancelled=cancelled)
        imp.report = rep
        # The report written beside the workbook is named in the import's audit event.
        imp.report_file = str(_report_file(path)) if write_report and path.parent.is_dir() else None
        return imp

    importer = new_importer(report)
    try:
        if path.is_file():
            report.sha256 = sha256_of(path)
        data_version = engine.data_version(db)
        if importer.read(path):
            rows_read = {sheet: list(rows) for sheet, rows in importer.rows.items()}
            present = dict(importer.present)
            after_read = _copy_report(report)
            recorder = _ReadRecorder(db)
            importer.db = recorder             # every read the check makes is kept with its answer
            try:
                with connection.snapshot(db):
                    importer.check()
            finally:
                importer.db = db
            if _writable(report, dry_run):
                deprivation = importer.look_up_postcodes()
                with connection.transaction(db):
                    if engine.data_version(db) != data_version \
                            and not recorder.same_answers(db):
                        # Someone committed meanwhile, and it changed something the check read (an
                        # edit elsewhere does not): check again, now that nobody else can write.
                        report = _copy_report(after_read)
                        importer = new_importer(report)
                        importer.rows = {sheet: list(rows) for sheet, rows in rows_read.items()}
                        importer.present = present
                        importer.check()
                        if _writable(report, dry_run):
                            deprivation = importer.look_up_postcodes(deprivation)
                    if _writable(report, dry_run):
                        importer.write(path, report.sha256, deprivation)
                        report.committed = True
    except Cancelled:
        report.cancelled = True
        report.committed = False
    except (*driver.Error, OSError, DatabaseUnusable) as exc:
        # The database is busy, full or read-only: nothing was imported; the report says why.
        plain = connection.translate(exc)
        report.committed = False
        report.fail(None, None, None, None, str(plain) if plain is not exc or isinstance(exc, DatabaseUnusable)
                    else f"The import stopped: {exc}")
        _finish(report, path, started, write_report)
        if plain is exc:
            raise
        raise plain from exc
    _finish(report, path, started, write_report)
    return report


class _ReadRecorder:
    """The database as the check sees it: each query it runs is kept with a digest of its
    answer, so that under the write lock the same queries can be asked again. The same answers
    mean the check, a function of the workbook and those answers, would decide the same: the
    rows it will write were checked against exactly the data they join. Anything the recorder
    does not know how to keep makes it give up (a full check again, always correct)."""

    def __init__(self, db: Database):
        self._db = db
        self.asked: list[tuple[str, tuple, str]] = []
        self.complete = True
        self.conn = _RecordingConnection(self)

    def query(self, sql: str, params=None):
        rows = list(self._db.query(sql, params or []))
        self.asked.append(("query", sql, tuple(params or ()), _digest(rows)))
        return iter(rows)

    def _execute(self, sql: str, params=()):
        rows = self._db.conn.execute(sql, params).fetchall()
        self.asked.append(("execute", sql, tuple(params), _digest(rows)))
        return _Rows(rows)

    def __getattr__(self, name):
        self.complete = False             # a way of reading that is not kept: check again to be sure
        return getattr(self._db, name)

    def same_answers(self, db: Database) -> bool:
        if not self.complete:
            return False
        for how, sql, params, digest in self.asked:
            rows = list(db.query(sql, list(params))) if how == "query" else db.conn.execute(sql, params).fetchall()
            if _digest(rows) != digest:
                return False
        return True


class _RecordingConnection:
    def __init__(self, recorder: _ReadRecorder):
        self._recorder = recorder

    def execute(self, sql: str, params=()):
        return self._recorder._execute(sql, params)

    def __getattr__(self, name):
        self._recorder.complete = False
        return getattr(self._recorder._db.conn, name)


class _Rows(list):
    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


def _digest(rows) -> str:
    return hashlib.sha256(repr([tuple(r.items()) if isinstance(r, dict) else tuple(r) for r in rows])
                          .encode("utf-8", "surrogatepass")).hexdigest()


def _writable(report: ImportReport, dry_run: bool) -> bool:
    return not report.failures and not dry_run and any(c.created for c in report.counts.values())


def _copy_report(report: ImportReport) -> ImportReport:
    copy = dataclasses.replace(report, failures=list(report.failures), warnings=list(report.warnings),
                               conflicts=list(report.conflicts), records=dict(report.records),
                               counts={k: dataclasses.replace(v) for k, v in report.counts.items()},
                               needs_password=list(report.needs_password))
    return copy


def _list_choices(report: ImportReport) -> None:
    """Every refusal of a coded cell ends with the list's choices, code and label."""
    columns = {(s.name, c.name): c.code_list for s in spec.sheets() for c in s.columns
               if c.code_list and c.kind in (spec.CODE, spec.CODES, spec.ANSWER)}
    for i, issue in enumerate(report.failures):
        list_name = columns.get((issue.sheet, issue.column))
        if list_name is None or issue.value in (None, "") or "Choices:" in issue.reason:
            continue
        parts = issue.value.split(";") if list_name == "area" else [issue.value]
        if all(codes.match(list_name, p.strip()) is not None for p in parts if p.strip()):
            continue
        report.failures[i] = dataclasses.replace(
            issue, reason=f"{issue.reason.rstrip()} Choices (code or label): {codes.choices(list_name)}.")


def _report_file(path: Path) -> Path:
    from .report import report_path_for
    return report_path_for(path)


def _finish(report: ImportReport, path: Path, started: float, write_report: bool) -> None:
    _list_choices(report)
    report.sort([s.name for s in spec.sheets()])
    report.seconds = time.perf_counter() - started
    if write_report and path.parent.is_dir():
        try:
            report.write(_report_file(path))
        except OSError as exc:
            report.warn(None, None, None, None, f"The report could not be written beside the workbook ({exc}).")


# --- small helpers ------------------------------------------------------------------------------

def _hhmm_text(value) -> str | None:
    """A time cell as the app keeps it (HH:MM), or None."""
    text = _text(plain(value)) if value is not None and not isinstance(value, CellProblem) else None
    if not text or not text.strip():
        return None
    text = text.strip()
    hours, _, rest = text.partition(":")
    return f"{int(hours):02d}:{rest[:2]}" if hours.isdigit() and rest[:2].isdigit() else text


def _flag(value, default: int) -> int | None:
    """A Y/N cell as 1/0 (blank: default); None when it is neither."""
    if _blank(value):
        return default
    code = codes.match("yes_no", _code_value(value)) or codes.synonym("yes_no", _text(value))
    return None if code is None else int(code == "Y")


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_open_days(value, field: str = "open_days") -> str | None:
    """'Mon;Wed;Fri' (or Monday, or the ISO day numbers 1-7) -> the stored '135'; blank -> None (every day)."""
    text = _text(value)
    if not text or not text.strip():
        return None
    days = set()
    for part in re.split(r"[;,\s]+", text.strip()):
        if not part:
            continue
        p = part.casefold()[:3]
        if p in _DAY_NAMES:
            days.add(_DAY_NAMES.index(p) + 1)
        elif part.isdigit() and all(ch in "1234567" for ch in part):
            days.update(int(ch) for ch in part)
        else:
            raise ValidationError(FieldError(field, f"Open days: '{part}' is not a day; write e.g. Mon;Wed;Fri."))
    return "".join(str(d) for d in sorted(days))


def open_days_text(stored: str | None) -> str | None:
    if not stored:
        return None
    return ";".join(_DAY_NAMES[int(ch) - 1].capitalize() for ch in sorted(stored) if ch in "1234567")


def _has_column(db, table: str, column: str) -> bool:
    return engine.has_column(db, table, column)


def _client_id(referral: Entry) -> int:
    return referral.data["client"].id if referral.new else referral.data["client_id"]


def _collect(errors: list, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        errors.extend(exc.errors)
        return None


def _num(value):
    if isinstance(value, str):
        return value.strip() or None
    return value


def _same(a, b) -> bool:
    if isinstance(a, (set, frozenset)) or isinstance(b, (set, frozenset)):
        return set(a or ()) == set(b or ())
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _shown(value) -> str:
    if value in (None, ""):
        return "(blank)"
    if isinstance(value, (set, frozenset)):
        return ";".join(sorted(value)) or "(blank)"
    return f"'{value}'"


def _chunks(items: list):
    items = list(items)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _marks(items) -> str:
    return ", ".join("?" * len(items))
