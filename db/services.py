"""Service set-up: services, staff, venues, the local directory, settings and reference counters."""
from __future__ import annotations

import json

from sqlite_utils import Database

from . import codes, versioned
from .errors import FieldError, NotFound, ValidationError
from .records import DirectoryEntry, Service, Staff, Venue, from_row


# --- meta and settings -----------------------------------------------------

def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db: Database, key: str, value: str) -> None:
    db.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value))


def get_setting(db: Database, key: str, default=None, scope: str = "global"):
    row = db.conn.execute("SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key)).fetchone()
    return json.loads(row[0]) if row else default


def set_setting(db: Database, key: str, value, scope: str = "global") -> None:
    db.conn.execute(
        "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT(scope, key) DO UPDATE SET value = excluded.value",
        (scope, key, json.dumps(value, ensure_ascii=False)))


def next_number(db: Database, counter: str) -> int:
    """The next number of a reference series (client refs, referral refs), inside the caller's transaction."""
    return db.conn.execute("INSERT INTO counters (name, value) VALUES (?, 1) "
                           "ON CONFLICT(name) DO UPDATE SET value = counters.value + 1 RETURNING value",
                           (counter,)).fetchone()[0]


def bump_counter(db: Database, counter: str, at_least: int) -> None:
    """Keep a series ahead of references that arrived from outside (imports)."""
    db.conn.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = CASE WHEN excluded.value > counters.value "
                    "THEN excluded.value ELSE counters.value END", (counter, at_least))


# --- services --------------------------------------------------------------

def validate_service(name: str, code: str) -> tuple[str, str]:
    errors = []
    name = (name or "").strip()
    code = (code or "").strip().upper()
    if not name:
        errors.append(FieldError("service_name", "Service name: give the name the service uses on letters, e.g. Tyneside Health Trainers."))
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 12:
        errors.append(FieldError("service_code", "Service code: give a short code of letters and digits (up to 12), e.g. TYNEHT."))
    if errors:
        raise ValidationError(errors)
    return name, code


def create_service(db: Database, name: str, code: str, by: str | None, **details) -> int:
    name, code = validate_service(name, code)
    if db.conn.execute("SELECT 1 FROM services WHERE code = ?", (code,)).fetchone():
        raise ValidationError(FieldError("service_code", f"Service code: {code} is already used by another service."))
    cur = db.conn.execute(
        "INSERT INTO services (code, name, address, phone, email, commissioner, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (code, name, details.get("address"), details.get("phone"), details.get("email"),
         details.get("commissioner"), by))
    return cur.fetchone()[0]


SERVICE_DETAILS = {"name": 120, "address": 300, "phone": 40, "email": 120, "commissioner": 120}


def update_service(db: Database, service_id: int, values: dict, expected_version: int, by: str) -> tuple[dict, dict]:
    """Change the details printed on plans, letters and returns, if nobody changed them meanwhile."""
    from .validation import ErrorCollector, clean_text
    errors = ErrorCollector()
    clean = {f: errors.check(clean_text, values.get(f), f"service_{f}" if f == "name" else f, limit,
                             required=(f == "name"), multiline=(f == "address")) or None
             for f, limit in SERVICE_DETAILS.items() if f in values}
    errors.raise_if_any()
    row = db.conn.execute(f"SELECT row_version, {', '.join(SERVICE_DETAILS)} FROM services WHERE id = ?", (service_id,)).fetchone()
    if row is None:
        raise NotFound(f"There is no service {service_id}.")
    before = dict(zip(SERVICE_DETAILS, row[1:]))

    def conflict():
        from .errors import ConflictError
        who, when = versioned.who_changed(db, "services", service_id)
        return ConflictError(f"Someone else ({who}) changed the service's details at {when} after you opened "
                             "them: reopen and try again.")
    versioned.update(db, "services", service_id, clean, expected_version, by, conflict=conflict)
    return {k: before[k] for k in clean}, clean


# The service settings an administrator keeps (issue 14): key -> (default, kind, scope, label).
# Scope "service" is kept per service code, "global" once for the database.
SERVICE_SETTINGS = {
    "service.website": (None, str, "service", "Website"),
    "letters.signer_name": (None, str, "service", "Letters are signed by"),
    "letters.signer_role": (None, str, "service", "Signer's role"),
    "three_tries.attempts": (3, int, "global", "Unsuccessful tries before the could-not-reach letter"),
    "dna.in_a_row": (2, int, "global", "Missed sessions (DNA) in a row before the follow-up list"),
    "review_interval_weeks": (6, int, "global", "Weeks between assessments and plan reviews"),
    "retention.years": (8, int, "global", "Years to keep records after last contact"),
    "idle_lock_minutes": (10, int, "global", "Lock the window after idle minutes"),
}
_LIMITS = {"three_tries.attempts": (1, 10), "dna.in_a_row": (1, 5), "review_interval_weeks": (1, 52),
           "retention.years": (1, 30), "idle_lock_minutes": (1, 120)}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def read_settings(db: Database, service_code: str) -> dict:
    return {k: get_setting(db, k, default, service_code if scope == "service" else "global")
            for k, (default, _kind, scope, _label) in SERVICE_SETTINGS.items()}


def check_settings(values: dict) -> dict:
    """Known keys only, each of its kind and within its limits; an empty text clears it."""
    clean, errors = {}, []
    for key, value in values.items():
        if key not in SERVICE_SETTINGS:
            errors.append(FieldError(key, f"{key} is not a service setting; choose from {', '.join(SERVICE_SETTINGS)}."))
            continue
        _default, kind, _scope, label = SERVICE_SETTINGS[key]
        if kind is int:
            low, high = _LIMITS[key]
            try:
                number = int(str(value).strip())
            except (TypeError, ValueError):
                number = None
            if number is None or not low <= number <= high:
                errors.append(FieldError(key, f"{label}: give a whole number from {low} to {high}."))
                continue
            clean[key] = number
        else:
            text = " ".join(str(value or "").split())
            if len(text) > 120:
                errors.append(FieldError(key, f"{label}: keep it to 120 characters."))
                continue
            clean[key] = text or None
    if errors:
        raise ValidationError(errors)
    return clean


def check_weekdays(days) -> list[str]:
    wanted = [str(d).strip()[:3].title() for d in days if str(d).strip()]
    bad = [d for d in wanted if d not in WEEKDAYS]
    if bad:
        raise ValidationError(FieldError("opening_days", f"Opening days: {', '.join(bad)} is not a day; use "
                                                         f"{', '.join(WEEKDAYS)}."))
    return [d for d in WEEKDAYS if d in wanted]


CONTACT_FIELDS = ("address", "phone", "email")


def check_contact(values: dict) -> dict:
    """The service's contact details as given at set-up (each optional), cleaned and checked."""
    from .validation import ErrorCollector, clean_text
    errors = ErrorCollector()
    clean = {f: errors.check(clean_text, values.get(f), f, SERVICE_DETAILS[f], multiline=(f == "address")) or None
             for f in CONTACT_FIELDS if values.get(f)}
    errors.raise_if_any()
    return clean


def contact_refusal(service) -> str | None:
    """Why nothing addressed to a client may print for this service (no way to reach it), or None."""
    if any((getattr(service, f, None) or "").strip() for f in CONTACT_FIELDS):
        return None
    return (f"{service.name} has no phone number, email or address, so a client could not get in touch: an "
            "administrator adds them in Settings (or 'htdesk service set --phone ...'), then print again.")


def set_service_logo(db: Database, service_id: int, logo: bytes | None, by: str) -> None:
    if logo is not None and not (logo.startswith(b"\x89PNG\r\n\x1a\n") or logo.startswith(b"\xff\xd8\xff")):
        raise ValidationError(FieldError("logo", "Logo: choose a PNG or JPEG picture."))
    if logo is not None and len(logo) > 2_000_000:
        raise ValidationError(FieldError("logo", "Logo: the picture is over 2 MB; choose a smaller one."))
    versioned.update(db, "services", service_id, {"logo": logo}, None, by, conflict=lambda: NotFound(
        f"There is no service {service_id}."))


def list_services(db: Database) -> list[Service]:
    return [from_row(Service, r) for r in db.query("SELECT * FROM services ORDER BY code")]


def service_by_code(db: Database, code: str | None) -> Service:
    """The service named, or the only one; a clear message when that is ambiguous."""
    services = list_services(db)
    if code:
        for s in services:
            if s.code.upper() == code.strip().upper():
                return s
        raise NotFound(f"There is no service with code {code}. Codes here: {', '.join(s.code for s in services) or 'none'}.")
    if len(services) == 1:
        return services[0]
    if not services:
        raise NotFound("This database has no service yet. Run 'htdesk init' first.")
    raise NotFound(f"This database holds several services: name one with --service ({', '.join(s.code for s in services)}).")


# --- staff -----------------------------------------------------------------

def add_staff(db: Database, service_id: int, full_name: str, role: str, by: str | None, **details) -> int:
    errors = []
    full_name = (full_name or "").strip()
    if not full_name:
        errors.append(FieldError("full_name", "Full name: give the staff member's name."))
    if role not in codes.codes("staff_role"):
        errors.append(FieldError("role", f"Role: choose one of {', '.join(codes.codes('staff_role'))}."))
    if errors:
        raise ValidationError(errors)
    cur = db.conn.execute(
        "INSERT INTO staff (service_id, full_name, role, email, phone, start_date, end_date, active, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (service_id, full_name, role, details.get("email"), details.get("phone"), details.get("start_date"),
         details.get("end_date"), int(details.get("active", True)), by))
    return cur.fetchone()[0]


_STAFF_SQL = ("SELECT s.*, (SELECT username FROM accounts a WHERE a.staff_id = s.id ORDER BY a.id LIMIT 1) AS username "
              "FROM staff s")


def list_staff(db: Database, service_id: int | None = None, roles: tuple[str, ...] | None = None,
               active_only: bool = True) -> list[Staff]:
    where, params = [], []
    if service_id is not None:
        where.append("s.service_id = ?")
        params.append(service_id)
    if roles:
        where.append(f"s.role IN ({','.join('?' * len(roles))})")
        params.extend(roles)
    if active_only:
        where.append("s.active = 1")
    sql = _STAFF_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.full_name"
    return [from_row(Staff, r) for r in db.query(sql, params)]


def get_staff(db: Database, staff_id: int) -> Staff:
    rows = list(db.query(_STAFF_SQL + " WHERE s.id = ?", [staff_id]))
    if not rows:
        raise NotFound(f"There is no staff member {staff_id}.")
    return from_row(Staff, rows[0])


# --- venues and directory ----------------------------------------------------

def add_venue(db: Database, service_id: int, code: str, name: str, type_: str, postcode: str | None, by: str | None) -> int:
    errors = []
    if not (code or "").strip():
        errors.append(FieldError("venue_code", "Venue code: give a short code for the venue."))
    if not (name or "").strip():
        errors.append(FieldError("name", "Venue name: give the venue's name."))
    if type_ not in codes.codes("venue_type"):
        errors.append(FieldError("type", "Venue type: choose a type from the list."))
    if errors:
        raise ValidationError(errors)
    cur = db.conn.execute(
        "INSERT INTO venues (service_id, code, name, type, postcode, created_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (service_id, code.strip(), name.strip(), type_, postcode, by))
    return cur.fetchone()[0]


def list_venues(db: Database, service_id: int | None = None) -> list[Venue]:
    if service_id is None:
        rows = db.query("SELECT * FROM venues WHERE active = 1 ORDER BY name")
    else:
        rows = db.query("SELECT * FROM venues WHERE active = 1 AND service_id = ? ORDER BY name", [service_id])
    return [from_row(Venue, r) for r in rows]


def add_directory_entry(db: Database, service_id: int, name: str, category: str, by: str | None, **details) -> int:
    if not (name or "").strip():
        raise ValidationError(FieldError("name", "Directory entry: give the service's name."))
    if category not in codes.codes("signposting_category"):
        raise ValidationError(FieldError("category", "Directory entry: choose a category from the list."))
    cur = db.conn.execute(
        "INSERT INTO directory (service_id, name, category, phone, address, web, notes, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (service_id, name.strip(), category, details.get("phone"), details.get("address"), details.get("web"),
         details.get("notes"), by))
    return cur.fetchone()[0]


def list_directory(db: Database, service_id: int | None = None) -> list[DirectoryEntry]:
    sql = "SELECT * FROM directory WHERE active = 1"
    params = []
    if service_id is not None:
        sql += " AND service_id = ?"
        params.append(service_id)
    return [from_row(DirectoryEntry, r) for r in db.query(sql + " ORDER BY category, name", params)]
