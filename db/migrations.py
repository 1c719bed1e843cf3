"""Schema, as named migration steps (sqlite-utils' Migrations).

A released step is never edited: a change to the schema is a new step at the
end. Tables are created with explicit SQL rather than sqlite-utils' `alter=True`
so the same steps also run over an SQLCipher connection. Before any pending step
runs, `connection.open_store_database` copies the file to a backup.
"""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from . import codes

MIGRATION_SET = "htdesk"
migrations = Migrations(MIGRATION_SET)

# Columns every table people edit carries: the version for conflict detection
# and who changed it when.
_EDITED = """
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime')),
    created_by TEXT,
    updated_at TEXT,
    updated_by TEXT
"""


def _script(db: Database, sql: str) -> None:
    # executescript() would COMMIT the migration's transaction; run statement by statement.
    for statement in sql.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_core")
def core(db: Database) -> None:
    _script(db, f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE settings (
    scope TEXT NOT NULL,            -- 'global' or a service code
    key TEXT NOT NULL,
    value TEXT,                     -- JSON
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE TABLE code_lists (
    list TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL,
    position INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (list, code)
) WITHOUT ROWID;
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT, phone TEXT, email TEXT, commissioner TEXT, logo BLOB,
    {_EDITED}
);
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    email TEXT, phone TEXT, start_date TEXT, end_date TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    {_EDITED}
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff(id),
    locked INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_login TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    {_EDITED}
);
CREATE TABLE account_roles (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
) WITHOUT ROWID;
CREATE TABLE venues (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    code TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, postcode TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    {_EDITED},
    UNIQUE (service_id, code)
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    client_ref TEXT NOT NULL UNIQUE,
    nhs_number TEXT, title TEXT,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, preferred_name TEXT,
    date_of_birth TEXT NOT NULL,
    gender TEXT NOT NULL, ethnicity TEXT NOT NULL,
    asian_thresholds INTEGER NOT NULL DEFAULT 0,   -- trainer marks 'S' for adjusted BMI thresholds
    postcode TEXT, address_line_1 TEXT, address_line_2 TEXT, town TEXT,
    phone TEXT, mobile TEXT, email TEXT,
    contact_phone INTEGER NOT NULL DEFAULT 0, contact_text INTEGER NOT NULL DEFAULT 0,
    contact_letter INTEGER NOT NULL DEFAULT 0, contact_email INTEGER NOT NULL DEFAULT 0,
    may_leave_message INTEGER NOT NULL DEFAULT 0,
    gp_registered TEXT, gp_practice_code TEXT, gp_practice_name TEXT,
    employment TEXT, disability TEXT, first_language TEXT,
    interpreter_needed TEXT, carer TEXT,
    consent_date TEXT, consent_version TEXT, consent_share_gp TEXT,
    lsoa_code TEXT, imd_decile INTEGER, imd_quintile INTEGER, imd_edition TEXT,
    postcode_status TEXT,           -- found, terminated, not_found, nfa, or NULL (none given)
    archived_at TEXT, archived_by TEXT,
    anonymised_at TEXT,
    {_EDITED}
);
CREATE INDEX clients_service ON clients(service_id);
CREATE INDEX clients_name ON clients(last_name COLLATE NOCASE, first_name COLLATE NOCASE);
CREATE INDEX clients_nhs ON clients(nhs_number);
CREATE INDEX clients_dob ON clients(date_of_birth);
CREATE INDEX clients_postcode ON clients(postcode);

-- Search as you type: an FTS5 index over what people type to find someone.
-- Kept in step by the store when a client is saved (see clients.search_text).
CREATE VIRTUAL TABLE clients_search USING fts5(
    text, tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
);

CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    referral_ref TEXT NOT NULL UNIQUE,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    received_date TEXT NOT NULL,
    source TEXT NOT NULL,
    referrer_name TEXT, referrer_organisation TEXT,
    priority TEXT NOT NULL DEFAULT 'routine',
    status TEXT NOT NULL DEFAULT 'NEW',
    allocated_staff_id INTEGER REFERENCES staff(id),
    first_contact_date TEXT,
    first_attended_date TEXT,
    closed_date TEXT, closure_reason TEXT,
    notes TEXT,
    age_override_by TEXT,
    {_EDITED}
);
CREATE INDEX referrals_client ON referrals(client_id);
CREATE INDEX referrals_received ON referrals(service_id, received_date);
CREATE INDEX referrals_closed ON referrals(service_id, closed_date);
CREATE INDEX referrals_started ON referrals(service_id, first_attended_date);
CREATE INDEX referrals_status ON referrals(status, allocated_staff_id);
CREATE TABLE referral_reasons (
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    area TEXT NOT NULL,
    PRIMARY KEY (referral_id, area)
) WITHOUT ROWID;
CREATE TABLE contact_attempts (
    id INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    attempt_date TEXT NOT NULL, method TEXT NOT NULL, outcome TEXT NOT NULL, note TEXT,
    {_EDITED}
);
CREATE INDEX contact_attempts_referral ON contact_attempts(referral_id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    client_id INTEGER NOT NULL REFERENCES clients(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    venue_id INTEGER REFERENCES venues(id),
    session_date TEXT NOT NULL, start_time TEXT, duration_minutes INTEGER,
    mode TEXT NOT NULL, type TEXT, attendance TEXT NOT NULL,
    notes TEXT, next_steps TEXT,
    {_EDITED}
);
CREATE INDEX sessions_referral ON sessions(referral_id, session_date);
CREATE INDEX sessions_client ON sessions(client_id);
CREATE INDEX sessions_date ON sessions(session_date, attendance);
CREATE INDEX sessions_staff ON sessions(staff_id, session_date);

CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    agreed_date TEXT NOT NULL,
    what_matters TEXT,
    {_EDITED}
);
CREATE INDEX plans_referral ON plans(referral_id);
CREATE INDEX plans_agreed ON plans(agreed_date);
CREATE TABLE goals (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    area TEXT NOT NULL, goal_text TEXT NOT NULL,
    steps TEXT, barriers TEXT, who_can_help TEXT,
    importance INTEGER, confidence INTEGER,
    start_date TEXT, review_date TEXT,
    status TEXT NOT NULL DEFAULT 'NOTSTARTED', status_date TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    {_EDITED}
);
CREATE INDEX goals_plan ON goals(plan_id);
CREATE INDEX goals_status_date ON goals(status_date);

CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    assessed_date TEXT NOT NULL,
    timepoint TEXT NOT NULL,
    instrument TEXT NOT NULL,
    answers TEXT NOT NULL,          -- JSON: item key -> answer
    scores TEXT NOT NULL,           -- JSON: score key -> value, computed by the app
    bands TEXT NOT NULL,            -- JSON: band key -> label
    is_result INTEGER NOT NULL,     -- its main score exists (INSTRUMENTS.md "Pairing")
    not_computable_reason TEXT,
    flags TEXT,                     -- JSON list, e.g. ["safeguarding"]
    {_EDITED}
);
CREATE INDEX assessments_referral ON assessments(referral_id, instrument);
CREATE INDEX assessments_client ON assessments(client_id, instrument, assessed_date);

CREATE TABLE directory (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    name TEXT NOT NULL, category TEXT NOT NULL,
    phone TEXT, address TEXT, web TEXT, notes TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    {_EDITED}
);
CREATE TABLE plan_contacts (
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    directory_id INTEGER NOT NULL REFERENCES directory(id),
    PRIMARY KEY (plan_id, directory_id)
) WITHOUT ROWID;
CREATE TABLE signposting (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    signpost_date TEXT NOT NULL,
    category TEXT NOT NULL,
    destination TEXT,
    directory_id INTEGER REFERENCES directory(id),
    type TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'unknown',
    follow_up_date TEXT,
    {_EDITED}
);
CREATE INDEX signposting_referral ON signposting(referral_id);
CREATE INDEX signposting_date ON signposting(signpost_date);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    client_id INTEGER REFERENCES clients(id),
    referral_id INTEGER REFERENCES referrals(id),
    kind TEXT NOT NULL, file_name TEXT NOT NULL,
    content BLOB NOT NULL,
    template_version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL
);
CREATE INDEX documents_client ON documents(client_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT,
    action TEXT NOT NULL,
    entity TEXT,
    entity_id TEXT,
    before TEXT, after TEXT,        -- JSON of the changed fields
    detail TEXT
);
CREATE INDEX audit_entity ON audit(entity, entity_id);

CREATE TABLE return_runs (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    period TEXT NOT NULL, spec_version TEXT NOT NULL, disclosure TEXT NOT NULL,
    generated_at TEXT NOT NULL, generated_by TEXT,
    figures TEXT NOT NULL, file_name TEXT, file_sha256 TEXT,
    submitted INTEGER NOT NULL DEFAULT 0, submitted_at TEXT, submitted_by TEXT
);
CREATE INDEX return_runs_period ON return_runs(service_id, period)
""")
    for list_name, items in codes.lists().items():
        db.conn.executemany(
            "INSERT INTO code_lists (list, code, label, position) VALUES (?, ?, ?, ?)",
            [(list_name, c, lab, i) for i, (c, lab) in enumerate(items)],
        )


@migrations(name="0002_list_views")
def list_views(db: Database) -> None:
    # Screens read lists from views made for them (one simple SELECT each).
    _script(db, """
CREATE VIEW waiting_list AS
SELECT r.id AS referral_id, r.referral_ref, r.received_date, r.priority, r.status,
       r.source, r.allocated_staff_id, s.full_name AS trainer_name, r.service_id,
       c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name,
       c.date_of_birth, c.postcode, c.phone, c.mobile, c.imd_quintile,
       (SELECT COUNT(*) FROM contact_attempts a WHERE a.referral_id = r.id) AS attempts,
       (SELECT MAX(a.attempt_date) FROM contact_attempts a WHERE a.referral_id = r.id) AS last_attempt,
       (SELECT GROUP_CONCAT(area, ';') FROM referral_reasons rr WHERE rr.referral_id = r.id) AS reasons
FROM referrals r
JOIN clients c ON c.id = r.client_id
LEFT JOIN staff s ON s.id = r.allocated_staff_id
WHERE r.status IN ('NEW', 'CONTACTING', 'WAITING') AND c.archived_at IS NULL;
CREATE VIEW client_list AS
SELECT c.id, c.client_ref, c.first_name, c.last_name, c.preferred_name, c.date_of_birth,
       c.nhs_number, c.postcode, c.archived_at, c.service_id, c.imd_quintile
FROM clients c
""")


@migrations(name="0003_waiting_list_three_tries")
def waiting_list_three_tries(db: Database) -> None:
    # The three-tries protocol counts unsuccessful attempts only, and stops once the client is reached.
    _script(db, """
DROP VIEW waiting_list;
CREATE VIEW waiting_list AS
SELECT r.id AS referral_id, r.referral_ref, r.received_date, r.priority, r.status,
       r.source, r.allocated_staff_id, s.full_name AS trainer_name, r.service_id, r.first_contact_date,
       c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name,
       c.date_of_birth, c.postcode, c.phone, c.mobile, c.imd_quintile,
       (SELECT COUNT(*) FROM contact_attempts a WHERE a.referral_id = r.id) AS attempts,
       (SELECT COUNT(*) FROM contact_attempts a WHERE a.referral_id = r.id
          AND a.outcome IN ('NOANSWER', 'MESSAGE', 'LETTER', 'WRONGNUM')) AS unsuccessful_attempts,
       (SELECT MAX(a.attempt_date) FROM contact_attempts a WHERE a.referral_id = r.id) AS last_attempt,
       (SELECT GROUP_CONCAT(area, ';') FROM referral_reasons rr WHERE rr.referral_id = r.id) AS reasons
FROM referrals r
JOIN clients c ON c.id = r.client_id
LEFT JOIN staff s ON s.id = r.allocated_staff_id
WHERE r.status IN ('NEW', 'CONTACTING', 'WAITING') AND c.archived_at IS NULL
""")


@migrations(name="0004_drafts")
def drafts(db: Database) -> None:
    # What a person was typing into a form, saved every few seconds, so a crash loses no work.
    # Kept in the database (encrypted with it when a key is set), never in a plain file.
    _script(db, """
CREATE TABLE drafts (
    username TEXT NOT NULL COLLATE NOCASE,
    form_key TEXT NOT NULL,             -- which form: 'client:123', or 'client:new'
    field_values TEXT NOT NULL,         -- JSON: field key -> value as typed
    saved_at TEXT NOT NULL,             -- local time, ISO
    PRIMARY KEY (username, form_key)
) WITHOUT ROWID
""")


@migrations(name="0005_drop_code_lists")
def drop_code_lists(db: Database) -> None:
    # 0001 copied the code lists into a table nothing ever read: the lists live in
    # db/codes.py with the code that checks them, so the copy could only go stale.
    db.conn.execute("DROP TABLE IF EXISTS code_lists")


@migrations(name="0008_return_submissions")
def return_submissions(db: Database) -> None:
    # What was sent: the submitted workbook's own bytes (a manager may have filled in the
    # Cover's sign-off cells, so they can differ from the file the app wrote), and the
    # referral references behind every figure at submission, so a figure can be explained
    # "as submitted" after late changes.
    _script(db, """
CREATE TABLE return_submissions (
    run_id INTEGER PRIMARY KEY REFERENCES return_runs(id),
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    workbook BLOB NOT NULL,
    members BLOB,                       -- zlib-compressed JSON: "MEASURE|breakdown" -> [referral refs]
    submitted_at TEXT NOT NULL,
    submitted_by TEXT
);
CREATE INDEX return_submissions_sha ON return_submissions(file_sha256)
""")


@migrations(name="0006_diary")
def diary(db: Database) -> None:
    # The diary (issue 11): group bookings (one sessions row per client, linked by group_id, so the
    # return counts a group member's attendance exactly as a one-to-one session), goals worked on in
    # a session, the history of moves and cancellations, venue opening days, and the lists' views.
    _script(db, f"""
CREATE TABLE session_groups (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    title TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    venue_id INTEGER REFERENCES venues(id),
    {_EDITED}
);
ALTER TABLE sessions ADD COLUMN group_id INTEGER REFERENCES session_groups(id);
CREATE INDEX sessions_group ON sessions(group_id);
CREATE INDEX sessions_venue ON sessions(venue_id, session_date);
-- ISO weekdays the venue is open, e.g. '12345'; NULL: any day
ALTER TABLE venues ADD COLUMN open_days TEXT;
CREATE TABLE session_goals (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    goal_id INTEGER NOT NULL REFERENCES goals(id),
    PRIMARY KEY (session_id, goal_id)
) WITHOUT ROWID;
CREATE TABLE session_history (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    action TEXT NOT NULL,              -- moved, cancelled
    from_date TEXT, from_time TEXT, from_venue_id INTEGER,
    to_date TEXT, to_time TEXT, to_venue_id INTEGER,
    attendance TEXT,                   -- for a cancellation: 2 (by the client) or 4 (by the service)
    reason TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime')),
    by TEXT
);
CREATE INDEX session_history_session ON session_history(session_id);
CREATE VIEW diary_entries AS
SELECT x.id AS session_id, x.referral_id, x.client_id, x.staff_id, x.venue_id, x.group_id,
       x.session_date, x.start_time, x.duration_minutes, x.mode, x.type, x.attendance, x.notes,
       x.row_version, st.full_name AS staff_name, v.name AS venue_name, v.type AS venue_type,
       c.client_ref, c.first_name, c.last_name, c.preferred_name, r.referral_ref, g.title AS group_title,
       (SELECT COUNT(*) FROM sessions p WHERE p.referral_id = x.referral_id AND p.attendance NOT IN ('2', '4')
          AND (p.session_date < x.session_date OR (p.session_date = x.session_date
               AND (COALESCE(p.start_time, '') < COALESCE(x.start_time, '')
                    OR (COALESCE(p.start_time, '') = COALESCE(x.start_time, '') AND p.id <= x.id))))
       ) AS session_number
FROM sessions x
JOIN clients c ON c.id = x.client_id
JOIN referrals r ON r.id = x.referral_id
LEFT JOIN staff st ON st.id = x.staff_id
LEFT JOIN venues v ON v.id = x.venue_id
LEFT JOIN session_groups g ON g.id = x.group_id;
CREATE VIEW caseload AS
SELECT r.id AS referral_id, r.referral_ref, r.allocated_staff_id AS staff_id, r.status, r.received_date,
       c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name,
       (SELECT COUNT(*) FROM sessions x WHERE x.referral_id = r.id AND x.attendance IN ('5', '6')) AS sessions_attended,
       (SELECT MAX(x.session_date) FROM sessions x WHERE x.referral_id = r.id AND x.attendance IN ('5', '6')) AS last_attended,
       (SELECT MIN(p.agreed_date) FROM plans p WHERE p.referral_id = r.id) AS plan_agreed,
       EXISTS (SELECT 1 FROM assessments a WHERE a.referral_id = r.id AND a.timepoint = 'BASELINE') AS has_baseline,
       (SELECT MAX(a.assessed_date) FROM assessments a WHERE a.referral_id = r.id AND a.timepoint = 'REVIEW') AS last_review,
       EXISTS (SELECT 1 FROM assessments a WHERE a.referral_id = r.id AND a.timepoint = 'EXIT') AS has_exit,
       EXISTS (SELECT 1 FROM sessions x WHERE x.referral_id = r.id AND x.type = 'EXIT'
               AND x.attendance NOT IN ('2', '3', '4', '7')) AS exit_session
FROM referrals r
JOIN clients c ON c.id = r.client_id
WHERE r.status <> 'CLOSED' AND r.allocated_staff_id IS NOT NULL AND c.archived_at IS NULL;
CREATE VIEW dna_follow_up AS
SELECT r.id AS referral_id, r.referral_ref, r.allocated_staff_id AS staff_id, st.full_name AS staff_name,
       c.id AS client_id, c.client_ref, c.first_name, c.last_name, c.preferred_name, c.phone, c.mobile,
       (SELECT MAX(x.session_date) FROM sessions x WHERE x.referral_id = r.id AND x.attendance = '3') AS last_dna
FROM referrals r
JOIN clients c ON c.id = r.client_id
LEFT JOIN staff st ON st.id = r.allocated_staff_id
WHERE r.status <> 'CLOSED' AND c.archived_at IS NULL
  AND (SELECT x.attendance FROM sessions x WHERE x.referral_id = r.id AND x.attendance NOT IN ('0', '2', '4')
       ORDER BY x.session_date DESC, x.start_time DESC, x.id DESC LIMIT 1) = '3'
  AND (SELECT x.attendance FROM sessions x WHERE x.referral_id = r.id AND x.attendance NOT IN ('0', '2', '4')
       ORDER BY x.session_date DESC, x.start_time DESC, x.id DESC LIMIT 1 OFFSET 1) = '3'
""")


@migrations(name="0007_plans_and_signposting")
def plans_and_signposting(db: Database) -> None:
    # Issue 12. Each agreed version of a plan is kept with its date, the goals as agreed in JSON
    # (existing plans get their first version now); reviews of a goal (achieved, partly, not this
    # time, changed) with their date; the date a signposting outcome was learnt, and the follow-up
    # list of signposting whose outcome is still unknown; PHQ-9 item 9 safeguarding prompts, each
    # acknowledged by the person who saw the service's steps.
    _script(db, """
CREATE TABLE plan_versions (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    version INTEGER NOT NULL,
    agreed_date TEXT NOT NULL,
    what_matters TEXT,
    goals TEXT NOT NULL,
    contacts TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime')),
    created_by TEXT,
    UNIQUE (plan_id, version)
);
INSERT INTO plan_versions (plan_id, version, agreed_date, what_matters, goals, contacts, created_by)
SELECT p.id, 1, p.agreed_date, p.what_matters,
       (SELECT json_group_array(json_object('id', g.id, 'area', g.area, 'goal_text', g.goal_text,
                'steps', g.steps, 'barriers', g.barriers, 'who_can_help', g.who_can_help,
                'importance', g.importance, 'confidence', g.confidence, 'start_date', g.start_date,
                'review_date', g.review_date, 'status', g.status, 'status_date', g.status_date))
        FROM (SELECT * FROM goals WHERE plan_id = p.id ORDER BY position, id) g),
       (SELECT json_group_array(directory_id) FROM plan_contacts WHERE plan_id = p.id),
       p.created_by
FROM plans p;
CREATE TABLE goal_reviews (
    id INTEGER PRIMARY KEY,
    goal_id INTEGER NOT NULL REFERENCES goals(id),
    review_date TEXT NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT,
    previous_text TEXT,
    next_review_date TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime')),
    created_by TEXT
);
CREATE INDEX goal_reviews_goal ON goal_reviews(goal_id);
ALTER TABLE signposting ADD COLUMN outcome_date TEXT;
CREATE INDEX signposting_unknown ON signposting(outcome, follow_up_date);
CREATE VIEW signposting_follow_up AS
SELECT s.id AS signpost_id, s.client_id, s.referral_id, s.signpost_date, s.category, s.destination,
       s.directory_id, s.type, s.follow_up_date, s.row_version, d.name AS directory_name,
       c.client_ref, c.first_name, c.last_name, c.preferred_name, r.referral_ref,
       r.allocated_staff_id AS staff_id, r.service_id
FROM signposting s
JOIN clients c ON c.id = s.client_id
JOIN referrals r ON r.id = s.referral_id
LEFT JOIN directory d ON d.id = s.directory_id
WHERE s.outcome = 'unknown' AND c.archived_at IS NULL;
CREATE TABLE safeguarding_prompts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    instrument TEXT NOT NULL,
    item TEXT NOT NULL,
    answer INTEGER,
    steps TEXT NOT NULL,
    raised_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime')),
    acknowledged_by TEXT NOT NULL
);
CREATE INDEX safeguarding_prompts_client ON safeguarding_prompts(client_id)
""")


@migrations(name="0010_accounts_and_settings")
def accounts_and_settings(db: Database) -> None:
    # Issue 14: an administrator's lockout after wrong passwords lasts a fixed time (locked_until),
    # so five wrong tries can never shut every administrator out for good; an account is ended
    # (ended_on) when its holder leaves, and an ended account cannot sign in.
    _script(db, """
ALTER TABLE accounts ADD COLUMN locked_until TEXT;
ALTER TABLE accounts ADD COLUMN ended_on TEXT
""")


@migrations(name="0011_audit_chain_and_rights")
def audit_chain_and_rights(db: Database) -> None:
    # Issue 14. The audit trail names the client each row is about (client_id) and is
    # tamper-evident: each row's hash chains it to the row before (db/audit.py, computed at
    # insert); what a row says about a person enters the chain through payload_sha, so erasure can
    # blank it (redacted_at) and the chain still verifies. Existing rows are chained now. Triggers
    # refuse any DELETE, and any UPDATE but that redaction of rows about an anonymised person.
    from . import audit
    _script(db, """
ALTER TABLE audit ADD COLUMN client_id INTEGER;
ALTER TABLE audit ADD COLUMN payload_sha TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
ALTER TABLE audit ADD COLUMN redacted_at TEXT;
CREATE INDEX audit_client ON audit(client_id, id);
CREATE INDEX audit_user ON audit(username COLLATE NOCASE, id);
-- What the returns need of an erased person's referral (db/rights.py): a date giving the same
-- age on the start date, and whether the NHS number was valid.
CREATE TABLE erased_referrals (
    referral_id INTEGER PRIMARY KEY REFERENCES referrals(id),
    figures_dob TEXT,
    nhs_valid INTEGER NOT NULL
)
""")
    audit.chain_all(db.conn)
    # Trigger bodies hold ';' so each goes whole (not through _script).
    db.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
               "SELECT RAISE(ABORT, 'The audit trail cannot be changed: rows are never deleted.'); END")
    db.execute(f"""CREATE TRIGGER audit_only_redaction BEFORE UPDATE ON audit
WHEN NOT (OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
          AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.username IS OLD.username AND NEW.action = OLD.action
          AND NEW.entity IS OLD.entity AND NEW.entity_id IS OLD.entity_id AND NEW.client_id IS OLD.client_id
          AND NEW.payload_sha IS OLD.payload_sha AND NEW.hash IS OLD.hash
          AND NEW.before IS NULL AND NEW.after IS NULL AND NEW.detail = '{audit.REDACTED}'
          AND EXISTS (SELECT 1 FROM clients c WHERE c.id = OLD.client_id AND c.anonymised_at IS NOT NULL))
BEGIN
    SELECT RAISE(ABORT, 'The audit trail cannot be changed.');
END""")


@migrations(name="0009_reach_indexes")
def reach_indexes(db: Database) -> None:
    # Issue 13: the dashboard counts eight quarters in one read of their sessions, grouped by day,
    # attendance, mode and venue, and each referral's attended sessions with who held them; this
    # index answers both without reading the table (a quarter's session queries took half the time).
    db.execute("CREATE INDEX sessions_span ON sessions(session_date, attendance, mode, venue_id, referral_id, staff_id)")


@migrations(name="0012_reach_figures")
def reach_figures(db: Database) -> None:
    # Issue 13: the dashboard's figures of each quarter, kept once counted, so opening the dashboard
    # reads them instead of counting eight quarters again. `scope` names what was counted (the
    # engine's version, the sections, the instruments switched on); `audit_mark` is the last audit
    # event the count saw: every write through the store leaves one, and those written since decide
    # which kept quarters must be counted again (db/reach.py, stale_periods).
    db.execute("""CREATE TABLE reach_figures (
    service_id INTEGER NOT NULL REFERENCES services(id),
    period TEXT NOT NULL,
    scope TEXT NOT NULL,
    audit_mark INTEGER NOT NULL,
    figures TEXT NOT NULL,
    counted_at TEXT NOT NULL,
    PRIMARY KEY (service_id, period, scope)
)""")
    # The goals closed in the quarters counted, read from the index alone (the goals' rows, with
    # their wording, were most of that read: 1.1 s of eight quarters at 50,000 clients, now 0.4 s).
    db.execute("CREATE INDEX goals_closed_span ON goals(status_date, status, area, plan_id)")
    # The data-quality lists shown with the figures: closed referrals with a baseline and no exit (from
    # the index, not the assessments' rows) and past sessions still booked (the few with attendance 0,
    # not every past session): 1.0 s to 0.4 s at 50,000 clients.
    db.execute("CREATE INDEX assessments_timepoint ON assessments(referral_id, timepoint)")
    db.execute("CREATE INDEX sessions_booked ON sessions(attendance, session_date)")
