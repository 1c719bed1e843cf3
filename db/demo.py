"""A believable demo service with synthetic people, the same for the same seed and day.

Rows are generated in Python and written with executemany in one transaction,
because 50,000 clients must be ready within a minute; the values obey the same
rules the store enforces (checked by `htdesk check` and the tests), and every
assessment is scored by db.instruments exactly as a recorded one would be.
"""
from __future__ import annotations

import csv
import gzip
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import resources

from . import accounts, audit, clients, codes, connection, engine, instruments, referrals, rules, services
from . import demo_drift as drift
from .connection import open_database
from .errors import BadPath
from .referrals import format_ref as referral_ref

DEMO_PASSWORD = "demo"
SERVICE_NAME = "Tyne and Wear Health Trainers"  # outputs of a demo database add DEMO themselves
SERVICE_CODE = "DEMO"

FIRST_NAMES = {
    "1": ["James", "Mohammed", "Daniel", "Kwame", "Liam", "Tomasz", "Aarav", "Connor", "Wei", "Oluwaseun",
          "Seán", "Jamal", "Ryan", "Imran", "Dawid", "Callum", "Ahmed", "Gareth", "Nguyễn Văn", "José",
          "Darren", "Kieran", "Bilal", "Stephen", "Raj", "Chukwuemeka", "Paul", "Mícheál", "Yusuf", "Kevin"],
    "2": ["Siobhán", "Aisha", "Emma", "Zoë", "Priya", "Chloe", "Fatima", "Gemma", "Agnieszka", "Mei",
          "Niamh", "Amara", "Leanne", "Shabnam", "Renée", "Joanne", "Chiamaka", "Rachel", "Maryam", "Kerry",
          "Thị Lan", "Dolores", "Sophie", "Nadia", "Bethany", "Ngozi", "Ewa", "Hayley", "Saoirse", "Ayesha"],
}
LAST_NAMES = ["Smith", "O'Neill", "Khan", "Robson", "Nguyễn", "Kowalski", "Patel", "Charlton", "Ali-Khan",
              "Adeyemi", "Milburn", "Begum", "McGuinness", "Wójcik", "Chen", "Okafor", "Armstrong", "Hussain",
              "D'Souza", "Brown", "Ó Briain", "Shearer", "Mensah", "Rahman", "Lindqvist", "Taylor", "Walker",
              "Ahmed", "Müller", "Thompson", "Dunn", "Iqbal", "Forster", "Nowak", "Johnson", "Gascoigne",
              "Osei", "Singh", "Hall", "Tran", "Wilson", "Mahmood", "Hughes", "Abdi", "Scott", "Pérez",
              "Bell", "Ramsay", "Kaur", "Clarke"]
ETHNICITY_WEIGHTS = {"A": 70, "B": 1, "C": 4, "D": 1, "E": 1, "F": 1, "G": 1, "H": 2, "J": 3, "K": 3, "L": 1,
                     "M": 1, "N": 3, "P": 1, "R": 1, "S": 2, "Z": 2, "99": 2}
SOURCE_WEIGHTS = {"SELF": 14, "GP": 22, "NHSHC": 6, "PHARM": 4, "SSS": 3, "HEALTH": 4, "MH": 3, "SOCPRES": 8,
                  "LA": 5, "HOUSING": 5, "EMPLOY": 4, "VCS": 8, "FAITH": 2, "WORK": 2, "OUTREACH": 8,
                  "OTHER": 1, "UNK": 1}
AREA_WEIGHTS = {"DIET": 20, "ACTIVITY": 18, "WEIGHT": 18, "SMOKING": 8, "ALCOHOL": 6, "WELLBEING": 16,
                "SLEEP": 4, "SEXUAL": 1, "SOCIAL": 8, "MONEY": 7, "HOUSING": 4, "WORK": 5, "CARING": 3,
                "OTHER": 2}
VENUES = [("GP01", "Elswick Health Centre", "GP"), ("CC01", "Byker Community Centre", "COMMUNITY"),
          ("CC02", "Pallion Action Group Hall", "COMMUNITY"), ("LC01", "Eldon Leisure", "LEISURE"),
          ("LB01", "Jarrow Library", "LIBRARY"), ("FV01", "St Cuthbert's Church Hall", "FAITH"),
          ("WP01", "Nissan Staff Wellbeing Room", "WORKPLACE"), ("PH01", "Benwell Pharmacy", "PHARMACY"),
          ("HM01", "Client's home", "HOME"), ("OD01", "Leazes Park", "OUTDOOR"),
          ("RM01", "Telephone or video", "REMOTE"), ("OT01", "Gateshead Jobcentre", "OTHER")]
DIRECTORY = [("Smokefree Newcastle", "STOPSMOKING", "0191 000 0101"),
             ("Slimming Together", "WEIGHTMGMT", "0191 000 0102"),
             ("Active Newcastle exercise referral", "EXERCISE", "0191 000 0103"),
             ("Road to Recovery alcohol service", "ALCOHOLSVC", "0191 000 0104"),
             ("NHS Talking Therapies Newcastle", "TALKING", "0191 000 0105"),
             ("Your GP practice nurse", "GPPRACTICE", None),
             ("Community pharmacy health check", "PHARMACY", None),
             ("Citizens Advice Newcastle", "DEBT", "0191 000 0108"),
             ("Shelter North East", "HOUSINGSVC", "0191 000 0109"),
             ("Skills Hub at the library", "EMPLOYMENT", "0191 000 0110"),
             ("West End Foodbank", "FOOD", "0191 000 0111"),
             ("Knit and natter group", "SOCIALGRP", "0191 000 0112"),
             ("Carers Trust Tyne and Wear", "CARERS", "0191 000 0113"),
             ("New Croft sexual health", "SEXHEALTH", "0191 000 0114"),
             ("Harbour domestic abuse support", "DOMABUSE", "0191 000 0115"),
             ("Age UK befriending", "OTHER", "0191 000 0116")]
ATTENDANCE_WEIGHTS = {"5": 74, "6": 5, "7": 1, "2": 4, "3": 13, "4": 3}
MODE_WEIGHTS = {"F2F": 55, "PHONE": 25, "VIDEO": 5, "GROUP": 8, "HOME": 5, "TEXT": 2}
CLOSURE_FOR_ENGAGED = {"COMPLETED": 70, "DISENGAGED": 18, "MOVED": 3, "ONWARD": 5, "OTHER": 3, "DIED": 1}


@dataclass
class _PostcodePool:
    deprived: list[tuple]    # (postcode, lsoa, decile, status) in quintiles 1-2
    other: list[tuple]


def _load_postcodes() -> _PostcodePool:
    """Real North East postcodes with their IMD 2019 decile, split by deprivation."""
    deciles = {}
    with gzip.open(resources.path("reference", "imd2019_lsoa11.csv.gz"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            deciles[row["lsoa11cd"]] = int(row["imd_decile"])
    deprived, other = [], []
    with gzip.open(resources.path("reference", "postcode_lsoa11_north_east.csv.gz"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            decile = deciles[row["lsoa11cd"]]
            item = (row["pcds"], row["lsoa11cd"], decile, "terminated" if row["doterm"] else "found")
            (deprived if decile <= 4 else other).append(item)
    deprived.sort()
    other.sort()
    return _PostcodePool(deprived, other)


def _nhs_number(rng: random.Random) -> str:
    while True:
        nine = "".join(str(rng.randint(0, 9)) for _ in range(9))
        if nine[0] == "0":
            continue
        check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
        if check == 11:
            check = 0
        if check != 10:
            return nine + str(check)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _check_target(path: Path, remove: bool = True) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    from . import driver, keys
    if keys.is_encrypted_file(path):
        # Encrypted: its key file says whether it is a demo (nothing else is readable without a key).
        try:
            row = ("1",) if keys.KeyFile.load(path).demo else None
        except keys.KeyFileError:
            row = None
    else:
        connection._check_ours(path)     # another program's file, or a newer version's: left alone
        try:
            conn = driver.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
            finally:
                conn.close()
        except driver.Error:
            row = None
    if not row or row[0] != "1":
        raise BadPath(f"{path} exists and is not a demo database: it was left alone. Give another path with --db.")
    if not remove:
        return
    for suffix in ("", "-wal", "-shm", ".keys"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class DemoSummary(dict):
    """What create_demo made, by kind; recovery_key: the new database's recovery key (shown once)."""
    recovery_key: str | None = None


def create_demo(path: Path | str, clients: int = 300, seed: int = 1, today: date | None = None,
                on_progress=None) -> DemoSummary:
    from . import pg
    if pg.is_server_url(path):
        return _create_demo_on_server(str(path), clients, seed, today or date.today(), on_progress)
    path = Path(path)
    if path.is_dir():
        raise BadPath(f"{path} is a folder: give a file name for the demo database, e.g. demo.sqlite3.")
    if not path.parent.exists():
        raise BadPath(f"The folder {path.parent} does not exist. Create it first or choose another place.")
    connection.check_new_target(path)
    _check_target(path, remove=False)
    today = today or date.today()
    progress = on_progress or (lambda done, total, label: None)
    # Made under a temporary name beside the target and renamed into place when complete: a kill
    # or a full disk leaves no half-made demo (a leftover is removed by the next start).
    tmp = connection.temp_beside(path)
    from . import keys
    key, keyfile = keys.new_database_key(), keys.KeyFile.new(path)
    recovery = keys.new_recovery_key()
    keyfile.set_recovery(key, recovery)
    try:
        db = open_database(tmp, create=True, key=key)
        try:
            # Bulk load: the file is new, so a crash just means running demo again.
            db.conn.execute("PRAGMA synchronous = OFF")
            with connection.transaction(db):
                summary = _Generator(db, random.Random(seed), today, clients, progress).run()
            db.conn.execute("PRAGMA synchronous = FULL")
            db.conn.execute("ANALYZE")
            from . import reach_kept
            reach_kept.count_and_keep(db, today, progress)    # the dashboard's first opening reads, not counts
            keys.sync_from_db(db, key, keyfile)
        finally:
            db.conn.close()
        _check_target(path)
        keyfile.save()
        connection.place_new_database(tmp, path)
    except BaseException:
        connection.remove_database_files(tmp)
        raise
    summary = DemoSummary(summary)
    summary.recovery_key = recovery
    return summary


def _create_demo_on_server(url: str, clients: int, seed: int, today: date, on_progress) -> DemoSummary:
    """The same demo on an empty database of a PostgreSQL server (issue 18): one transaction, so a
    failure leaves the schema and no service; no key file or recovery key (a server's own)."""
    from .errors import FieldError, ValidationError
    db = open_database(url, create=True)
    try:
        if db.conn.execute("SELECT COUNT(*) FROM services").fetchone()[0]:
            raise ValidationError(FieldError("db", "This server database already holds a service: give the "
                                                   "address of an empty database for the demo."))
        with connection.transaction(db):
            summary = _Generator(db, random.Random(seed), today, clients,
                                 on_progress or (lambda done, total, label: None)).run()
            # The generator gives some rows their ids itself: each table's identity goes on from its
            # highest id, so the next plan, goal... saved on the server does not collide with the demo's.
            for (table,) in db.conn.execute(
                    "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND column_name = 'id' AND is_identity = 'YES'").fetchall():
                db.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} "
                                "HAVING MAX(id) IS NOT NULL")
        db.conn.execute("ANALYZE")
        from . import reach_kept
        reach_kept.count_and_keep(db, today, on_progress)
    finally:
        db.conn.close()
    return DemoSummary(summary)


class _Generator:
    def __init__(self, db, rng: random.Random, today: date, n_clients: int, progress):
        self.db, self.rng, self.today, self.n_clients, self.progress = db, rng, today, n_clients, progress
        self.conn = db.conn
        self.by = "demo"

    def run(self) -> dict[str, int]:
        db = self.db
        service_id = services.create_service(db, SERVICE_NAME, SERVICE_CODE, self.by, address="Civic Centre, Newcastle upon Tyne NE1 8QH",
                                             phone="0191 000 0100", email="healthtrainers@example.org",
                                             commissioner="Newcastle City Council Public Health")
        services.set_meta(db, "demo", "1")
        self.service_id = service_id
        self._people()
        self.venues = [services.add_venue(db, service_id, c, n, t, None, self.by) for c, n, t in VENUES]
        self.directory = [services.add_directory_entry(db, service_id, n, cat, self.by, phone=ph)
                          for n, cat, ph in DIRECTORY]
        self.progress(0, self.n_clients, "Choosing postcodes")
        self.pool = _load_postcodes()
        self._clients_and_referrals()
        _towns_from_postcodes(self)    # after any change of postcode (issue 12)
        self._diary_plan_groups()      # the diary (issue 11): believable weeks around today
        self._diary_champion_load()
        self._diary_tidy()
        self._write()
        _plans_first_versions(self)    # each plan's agreed version 1 (issue 12)
        self._diary_groups()
        audit.record(db, None, "create", "database", None, detail=f"demo with {self.n_clients} clients")
        counts = {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("clients", "referrals", "sessions", "plans", "goals", "assessments", "signposting")}
        return counts

    def _people(self) -> None:
        db = self.db
        n_trainers = max(4, self.n_clients // 1200)
        trainer_names = ["Amy Charlton", "Hassan Mirza", "Claire Dodds", "Tunde Bakare", "Lindsay Ord",
                         "Marek Zielinski", "Shazia Akhtar", "Gavin Coulson"]
        staff = [("Alex Admin", "ADMIN", "admin", ["ADMIN"]),
                 ("Morag Manager", "MANAGER", "manager", ["MANAGER"]),
                 ("Colin Coordinator", "COORD", "coordinator", ["COORD"])]
        for i in range(n_trainers):
            # A large service has dozens of trainers: make further believable names from the lists.
            name = trainer_names[i] if i < len(trainer_names) else \
                f"{FIRST_NAMES['12'[i % 2]][(i * 7) % 30]} {LAST_NAMES[(i * 11) % len(LAST_NAMES)]}"
            staff.append((name, "TRAINER", f"trainer{i + 1}", ["TRAINER"]))
        staff.append(("Chris Champion", "CHAMPION", "champion1", ["CHAMPION"]))
        password_hash = accounts.hash_password(DEMO_PASSWORD)  # one hash: every demo account has the same password
        self.trainers, self.champion = [], None
        start = (self.today - timedelta(days=900)).isoformat()
        for full_name, role, username, roles in staff:
            staff_id = services.add_staff(db, self.service_id, full_name, role, self.by, start_date=start,
                                          email=f"{username}@example.org")
            accounts.create(db, username, DEMO_PASSWORD, roles, staff_id, self.by, password_hash=password_hash)
            if role == "TRAINER":
                self.trainers.append(staff_id)
            elif role == "CHAMPION":
                self.champion = staff_id

    # --- people and their support ---------------------------------------------------

    def _client(self, number: int) -> dict:
        rng = self.rng
        gender = rng.choices(["1", "2", "3", "4", "Z", "X"], weights=[40, 55, 1, 0.5, 2, 1.5])[0]
        names = FIRST_NAMES["1" if gender == "1" else "2" if gender == "2" else rng.choice("12")]
        first = rng.choice(names)
        last = rng.choice(LAST_NAMES)
        if first.startswith("Nguyễn") or first.startswith("Thị"):
            last = "Nguyễn" if not first.startswith("Nguyễn") else "Thị"
        age = min(95, max(16, int(rng.triangular(16, 88, 45))))
        dob = self.today - timedelta(days=age * 365 + rng.randint(40, 360) + 730)
        r = rng.random()
        if r < 0.03:
            postcode = ("NFA", None, None, "nfa")
        elif r < 0.06:
            postcode = None
        else:
            pool = self.pool.deprived if rng.random() < 0.67 else self.pool.other
            postcode = rng.choice(pool)
            if postcode[3] == "terminated" and rng.random() < 0.85:
                postcode = rng.choice(pool)   # most clients give a live postcode
        row = {
            "client_ref": clients.format_ref(number), "first_name": first, "last_name": last,
            "preferred_name": None, "title": _title(rng, gender),
            "date_of_birth": dob.isoformat(), "gender": gender, "ethnicity": _pick(rng, ETHNICITY_WEIGHTS),
            "nhs_number": _nhs_number(rng) if rng.random() < 0.85 else None,
            "postcode": postcode[0] if postcode else None,
            "lsoa_code": postcode[1] if postcode else None,
            "imd_decile": postcode[2] if postcode else None,
            "imd_quintile": (postcode[2] + 1) // 2 if postcode and postcode[2] else None,
            "imd_edition": "IMD2019" if postcode and postcode[1] else None,
            "postcode_status": postcode[3] if postcode else None,
            "address_line_1": f"{rng.randint(1, 180)} {rng.choice(['Westgate Road', 'Shields Road', 'Front Street', 'Station Road', 'Hylton Road', 'Durham Road'])}" if postcode and postcode[0] != "NFA" else None,
            "town": _post_town(postcode[0]) if postcode else None,
            "mobile": f"07700 9{rng.randint(0, 99999):05d}" if rng.random() < 0.85 else None,
            "phone": f"0191 496 {rng.randint(0, 9999):04d}" if rng.random() < 0.3 else None,
            "email": None, "contact_phone": 1, "contact_text": int(rng.random() < 0.6),
            "contact_letter": int(rng.random() < 0.5), "contact_email": 0,
            "may_leave_message": int(rng.random() < 0.7),
            "gp_registered": rng.choices(["Y", "N", "U", None], weights=[88, 4, 3, 5])[0],
            "employment": rng.choices(codes.codes("employment") + [None], weights=[30, 14, 3, 14, 8, 6, 2, 15, 5, 3])[0],
            "disability": rng.choices(["Y", "N", "Z", None], weights=[22, 65, 5, 8])[0],
            "first_language": "English" if rng.random() < 0.88 else rng.choice(["Urdu", "Polish", "Bengali", "Arabic", "Vietnamese", "Tigrinya"]),
            "interpreter_needed": "N", "carer": rng.choice(["Y", "N", "N", "N"]),
            "consent_share_gp": "Y" if rng.random() < 0.8 else "N",
        }
        if row["first_language"] != "English" and rng.random() < 0.4:
            row["interpreter_needed"] = "Y"
        row["gp_practice_code"] = f"A8{rng.randint(1000, 9999)}" if row["gp_registered"] == "Y" else None
        row["gp_practice_name"] = rng.choice(["Elswick Surgery", "Bridge View Practice", "Millfield Medical Group",
                                              "Jarrow Health Centre"]) if row["gp_registered"] == "Y" else None
        return row

    def _clients_and_referrals(self) -> None:
        rng = self.rng
        self.client_rows, self.referral_rows, self.reason_rows, self.attempt_rows = [], [], [], []
        self.session_rows, self.plan_rows, self.goal_rows, self.assessment_rows = [], [], [], []
        self.sign_rows, self.plan_contact_rows = [], []
        self.referral_no = self.plan_no = 0
        self.reasons_by_referral: dict[int, set[str]] = {}
        self.heights: dict[int, int] = {}
        window = 730
        for n in range(1, self.n_clients + 1):
            client = self._client(n)
            client["id"] = n
            client["consent_date"] = None
            self.client_rows.append(client)
            episodes = 1 if rng.random() < 0.70 else 2
            day = self.today - timedelta(days=rng.randint(1, window))
            drift.deprivation(self, client, day)      # the service drifts (issue 13)
            for _ in range(episodes):
                self._referral(client, day)
                day = day + timedelta(days=rng.randint(200, 500))
                if day >= self.today:
                    break
            if n % 2000 == 0:
                self.progress(n, self.n_clients, "Making clients")

    def _referral(self, client: dict, received: date) -> None:
        rng = self.rng
        self.referral_no += 1
        rid = self.referral_no
        if client["consent_date"] is None:
            client["consent_date"] = received.isoformat()
        trainer = self.champion if rng.random() < 0.06 else rng.choice(self.trainers)
        referral = {"id": rid, "client_id": client["id"], "referral_ref": referral_ref(rid),
                    "received_date": received.isoformat(), "source": _pick(rng, SOURCE_WEIGHTS),
                    "priority": "urgent" if rng.random() < 0.08 else "routine", "allocated_staff_id": None,
                    "closed_date": None, "closure_reason": None,
                    "referrer_name": rng.choice(["Dr Patel", "Sue at the housing office", "Self", None, None]),
                    "referrer_organisation": None}
        referral["source"] = drift.source(self, referral["source"], received)
        self.referral_rows.append(referral)
        areas = rng.sample(list(AREA_WEIGHTS), k=1) + rng.choices(list(AREA_WEIGHTS), weights=list(AREA_WEIGHTS.values()), k=rng.randint(0, 2))
        areas = list(dict.fromkeys(areas))
        self.reason_rows += [(rid, a) for a in areas]
        self.reasons_by_referral[rid] = set(areas)

        # Contact attempts: the three-tries protocol.
        day = received
        reached = None
        tries = 0
        while tries < 3:
            day = day + timedelta(days=rng.randint(1, 5))
            if day >= self.today:
                break
            tries += 1
            outcome = "REACHED" if rng.random() < 0.62 else rng.choice(["NOANSWER", "MESSAGE", "NOANSWER", "WRONGNUM"])
            self.attempt_rows.append((rid, day.isoformat(), "PHONE", outcome, None, "coordinator"))
            if outcome == "REACHED":
                reached = day
                break
        if reached is None:
            if tries >= 3 and day + timedelta(days=14) < self.today:
                self.attempt_rows.append((rid, (day + timedelta(days=1)).isoformat(), "LETTER", "LETTER", "Could not reach you letter", "coordinator"))
                self._close(referral, day + timedelta(days=15), "UNABLE")
            return
        if rng.random() < 0.07:
            self._close(referral, reached, "DECLINED" if rng.random() < 0.7 else "NOTSUIT")
            return
        referral["allocated_staff_id"] = trainer
        first = reached + timedelta(days=rng.randint(3, 30))
        if first >= self.today:
            self._session(referral, client, trainer, first, "INITIAL", "0")
            return
        self._support(referral, client, trainer, areas, first)

    def _close(self, referral: dict, day: date, reason: str) -> None:
        if day < self.today:
            referral["closed_date"] = day.isoformat()
            referral["closure_reason"] = reason

    def _session(self, referral, client, trainer, day: date, stype: str, attendance: str | None = None) -> str:
        rng = self.rng
        if attendance is None:
            attendance = "0" if day >= self.today else _pick(rng, ATTENDANCE_WEIGHTS)
            if day < self.today and day > self.today - timedelta(days=7) and rng.random() < 0.1:
                attendance = "0"   # a recent session whose outcome is not recorded yet
        mode = _pick(rng, MODE_WEIGHTS)
        venue = {"PHONE": 10, "VIDEO": 10, "TEXT": 10, "HOME": 8}.get(mode, rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 11]))
        venue = drift.venue(self, venue, day)
        self.session_rows.append((
            referral["id"], client["id"], trainer, self.venues[venue], day.isoformat(),
            f"{rng.choice([9, 10, 11, 13, 14, 15, 16]):02d}:{rng.choice(['00', '30'])}", rng.choice([30, 45, 60, 60]),
            mode, stype, attendance, None, None, "demo"))
        return attendance

    def _support(self, referral, client, trainer, areas, first: date) -> None:
        rng = self.rng
        planned = rng.randint(4, 13)
        day = first
        attended = []
        last_attended = None
        misses = 0
        for i in range(planned):
            stype = "INITIAL" if i == 0 else "EXIT" if i == planned - 1 else ("REVIEW" if i % 3 == 2 else "SUPPORT")
            if day >= self.today:
                self._session(referral, client, trainer, day, stype, "0")
                break
            att = self._session(referral, client, trainer, day, stype)
            if rules.attended(att):
                attended.append((day, stype))
                last_attended = day
                misses = 0
            elif att == rules.DNA:
                misses += 1
                if misses >= 2 and rng.random() < 0.5:
                    break
            day = day + timedelta(days=rng.randint(7, 21))
        if not attended:
            if day + timedelta(days=30) < self.today:
                self._close(referral, day, "DISENGAGED")
            return
        finished = day < self.today and (len(attended) >= 2 or misses >= 2)
        start = attended[0][0]
        self._plan(referral, areas, start, finished, last_attended, client)
        self._assessments(referral, client, attended, finished)
        if rng.random() < 0.55:
            self._signpost(referral, client, start + timedelta(days=rng.randint(0, 20)))
        if finished:
            closed = max(last_attended, day - timedelta(days=rng.randint(0, 6)))
            reason = _pick(rng, CLOSURE_FOR_ENGAGED) if misses < 2 else "DISENGAGED"
            self._close(referral, closed, reason)
            if referral["closed_date"] and rng.random() < 0.15:
                fu = closed + timedelta(days=rng.randint(80, 100))
                if fu < self.today:
                    self._session(referral, client, trainer, fu, "FOLLOWUP", "5")
                    self._assessment_set(referral, client, fu, "FU3", 2.0)

    def _plan(self, referral, areas, agreed: date, finished: bool, last: date, client: dict | None = None) -> None:
        rng = self.rng
        self.plan_no += 1
        pid = self.plan_no
        self.plan_rows.append((pid, referral["id"], agreed.isoformat(),
                               rng.choice(["Being able to play with my grandchildren", "Feeling more like myself again",
                                           "Getting fit enough to go back to work", "Not worrying about money all the time",
                                           "Being around for my kids"]), "demo"))
        goal_areas = list(dict.fromkeys(areas + rng.sample(list(AREA_WEIGHTS), k=rng.randint(0, 2))))[:4]
        goal_areas = _goal_areas_for(goal_areas, client, self._smoking_status(client, areas) == "1")
        for pos, area in enumerate(goal_areas, start=1):
            if finished:
                status = rng.choices(["FULL", "PARTLY", "NOT", "DROPPED"], weights=[40, 35, 18, 7])[0]
                status_date = last.isoformat()
            else:
                status = rng.choice(["NOTSTARTED", "INPROGRESS", "INPROGRESS"])
                status_date = None
            goal_text, steps, if_then, who = _goal_words(rng, area, client)
            self.goal_rows.append((pid, area, goal_text, steps, if_then, who,
                                   rng.randint(5, 10), rng.randint(3, 10), agreed.isoformat(),
                                   (agreed + timedelta(days=42)).isoformat(), status, status_date, pos, "demo"))
        if rng.random() < 0.6:
            for d in _directory_for(self, goal_areas, rng.randint(1, 2)):
                self.plan_contact_rows.append((pid, d))

    def _smoking_status(self, client: dict | None, areas) -> str:
        """One smoking status per person, kept across referrals: a smoker when a referral is about smoking."""
        if client is None:
            return "4"
        known = self.smokers.get(client["id"]) if hasattr(self, "smokers") else None
        if known is None:
            if not hasattr(self, "smokers"):
                self.smokers = {}
            known = "1" if "SMOKING" in areas else self.rng.choices(["1", "2", "4"], weights=[15, 25, 60])[0]
            self.smokers[client["id"]] = known
        return known

    def _assessments(self, referral, client, attended, finished: bool) -> None:
        rng = self.rng
        reasons = self.reasons_by_referral
        areas_of = lambda r: reasons[r["id"]]  # noqa: E731
        baseline_day = attended[0][0]
        # A person's height is theirs across every referral, so carried-forward BMI matches the record.
        height = self.heights.setdefault(client["id"], round(rng.uniform(150, 190)))
        weight = _client_weight(self, client, height)     # BMI about 18 to 35, the person's own
        self.base = {"weight": weight, "height": height, "waist": 0.7 * weight + 35 + rng.uniform(-6, 6),
                     "swem": rng.randint(12, 28), "ons": [rng.randint(2, 8) for _ in range(3)] + [rng.randint(2, 8)],
                     "ons_gain": [rng.uniform(0.5, 3.0) for _ in range(4)],
                     "audit": [rng.randint(0, 4), rng.randint(0, 3), rng.randint(0, 2)],
                     "activity": rng.randint(0, 4), "fv": rng.randint(0, 5), "smoke": self._smoking_status(client, areas_of(referral)),
                     "confidence": rng.randint(2, 7),
                     # Trainers measure what the referral is about, not everything every time.
                     "set": {code for code, areas in (
                         ("SMOKING", {"SMOKING"}), ("AUDITC", {"ALCOHOL"}), ("ACTIVITY", {"ACTIVITY", "WEIGHT"}),
                         ("FRUITVEG", {"DIET", "WEIGHT"}), ("ONS4", {"WELLBEING", "SOCIAL"}), ("CONFIDENCE", set()))
                         if rng.random() < (0.45 if areas & areas_of(referral) else 0.06)}}
        self._assessment_set(referral, client, baseline_day, "BASELINE", 0.0, heights=True)
        reviews = [d for d, t in attended[1:] if t == "REVIEW"]
        if reviews and rng.random() < 0.7:
            self._assessment_set(referral, client, reviews[0], "REVIEW", 0.5, light=True)
        if finished and len(attended) >= 2 and rng.random() < 0.8:
            self._assessment_set(referral, client, attended[-1][0], "EXIT", 1.0)

    def _assessment_set(self, referral, client, day: date, timepoint: str, progress: float,
                        heights: bool = False, light: bool = False) -> None:
        """Answers for one occasion: change grows with progress through support, with noise."""
        rng, b = self.rng, self.base if hasattr(self, "base") else None
        if b is None:
            return
        gain = progress * rng.uniform(-0.2, 1.0)
        weight = round(b["weight"] * (1 - 0.05 * gain), 1)
        answers = {"BODY": {"weight_kg": weight, "waist_cm": round(b["waist"] - 4 * gain, 1)},
                   "SWEMWBS": {f"swemwbs_{i}": max(1, min(5, round((b["swem"] + 5 * gain) / 7 + rng.uniform(-0.6, 0.6))))
                               for i in range(1, 8)}}
        if heights:
            answers["BODY"]["height_cm"] = round(b["height"])
        if rng.random() < 0.04:
            answers["SWEMWBS"].pop("swemwbs_4")   # an unanswered item: not computable
        if not light:
            answers["ONS4"] = _ons4_answers(rng, b, gain)
            q1 = max(0, b["audit"][0] - round(gain))
            answers["AUDITC"] = {"auditc_1": q1, "auditc_2": max(0, b["audit"][1] - round(gain)) if q1 else None,
                                 "auditc_3": max(0, b["audit"][2] - round(gain)) if q1 else None}
            answers["ACTIVITY"] = {"activity_days": max(0, min(7, b["activity"] + round(3 * gain)))}
            answers["FRUITVEG"] = {"fruitveg_portions": max(0, min(15, b["fv"] + round(2 * gain))), "fried_snacks": max(0, 3 - round(2 * gain))}
            smoke = b["smoke"]
            if smoke == "1" and progress >= 1 and rng.random() < 0.35:
                smoke = "2"
            answers["SMOKING"] = {"smoking_status": smoke, **({"cigarettes_per_day": rng.randint(5, 25)} if smoke == "1" else {})}
            answers["CONFIDENCE"] = {"confidence": max(0, min(10, b["confidence"] + round(3 * gain)))}
        answers = {code: a for code, a in answers.items()
                   if code == "BODY" or (code == "SWEMWBS" and not light) or code in b["set"]}
        ctx = instruments.ScoringContext(sex=client["gender"], ethnicity=client["ethnicity"],
                                         carried_height_cm=None if heights else round(b["height"]))
        for code, raw in answers.items():
            raw = {k: v for k, v in raw.items() if v is not None}
            typed = instruments.normalise_answers(code, raw)
            scored = instruments.score(code, typed, ctx)
            self.assessment_rows.append((
                client["id"], referral["id"], day.isoformat(), timepoint, code,
                json.dumps(typed, sort_keys=True), json.dumps(dict(scored.scores), sort_keys=True, default=float),
                json.dumps(dict(scored.bands), sort_keys=True), int(scored.computable),
                None if scored.computable else scored.reason,
                json.dumps(list(scored.flags)) if scored.flags else None, "demo"))

    def _signpost(self, referral, client, day: date) -> None:
        rng = self.rng
        if day >= self.today:
            return
        d = _directory_index_for(self, sorted(self.reasons_by_referral.get(referral["id"], ())))
        name, category, _ = DIRECTORY[d]
        self.sign_rows.append((client["id"], referral["id"], day.isoformat(), category, name, self.directory[d],
                               rng.choice(["signposted", "signposted", "referred"]),
                               rng.choices(["attended", "not_attended", "unknown"], weights=[45, 20, 35])[0],
                               (day + timedelta(days=28)).isoformat(), "demo"))    # followed up four weeks on

    # --- writing ---------------------------------------------------------------------------

    def _write(self) -> None:
        conn = self.conn
        self.progress(0, 7, "Writing")
        cols = ["id", "service_id", "client_ref", *[c for c in self.client_rows[0] if c not in ("id", "client_ref")], "created_by"] if self.client_rows else []
        if self.client_rows:
            conn.executemany(
                f"INSERT INTO clients ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                ([c["id"], self.service_id, c["client_ref"], *[c[k] for k in cols[3:-1]], "demo"] for c in self.client_rows))
            conn.executemany("INSERT INTO clients_search (rowid, text) VALUES (?, ?)",
                             ((c["id"], clients.search_text(c)) for c in self.client_rows))
        self.progress(1, 7, "Writing")
        conn.executemany(
            "INSERT INTO referrals (id, service_id, referral_ref, client_id, received_date, source, referrer_name, "
            "referrer_organisation, priority, allocated_staff_id, closed_date, closure_reason, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'demo')",
            ((r["id"], self.service_id, r["referral_ref"], r["client_id"], r["received_date"], r["source"],
              r["referrer_name"], r["referrer_organisation"], r["priority"], r["allocated_staff_id"],
              r["closed_date"], r["closure_reason"]) for r in self.referral_rows))
        conn.executemany("INSERT INTO referral_reasons (referral_id, area) VALUES (?, ?)", self.reason_rows)
        conn.executemany("INSERT INTO contact_attempts (referral_id, attempt_date, method, outcome, note, created_by) "
                         "VALUES (?, ?, ?, ?, ?, ?)", self.attempt_rows)
        self.progress(2, 7, "Writing")
        conn.executemany(
            "INSERT INTO sessions (referral_id, client_id, staff_id, venue_id, session_date, start_time, duration_minutes, "
            "mode, type, attendance, notes, next_steps, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.session_rows)
        self.progress(3, 7, "Writing")
        conn.executemany("INSERT INTO plans (id, referral_id, agreed_date, what_matters, created_by) VALUES (?, ?, ?, ?, ?)",
                         self.plan_rows)
        conn.executemany(
            "INSERT INTO goals (plan_id, area, goal_text, steps, barriers, who_can_help, importance, confidence, "
            "start_date, review_date, status, status_date, position, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.goal_rows)
        conn.executemany("INSERT INTO plan_contacts (plan_id, directory_id) VALUES (?, ?)", self.plan_contact_rows)
        self.progress(4, 7, "Writing")
        conn.executemany(
            "INSERT INTO assessments (client_id, referral_id, assessed_date, timepoint, instrument, answers, scores, bands, "
            "is_result, not_computable_reason, flags, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.assessment_rows)
        conn.executemany(
            "INSERT INTO signposting (client_id, referral_id, signpost_date, category, destination, directory_id, type, "
            "outcome, follow_up_date, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.sign_rows)
        self.progress(5, 7, "Working out statuses")
        engine.analyze_after_bulk_load(self.db)
        referrals.refresh_status(self.db)     # every referral, set-wise, by the store's own rule
        services.bump_counter(self.db, "client_ref", len(self.client_rows))
        services.bump_counter(self.db, "referral_ref", self.referral_no)
        self.progress(7, 7, "Writing")

    # --- the diary (issue 11): believable weeks around today ------------------------------------------
    # Sessions in the three weeks either side of today fall on weekdays in working hours without
    # clashes (at most seven one-to-one sessions a day for a trainer, four for a volunteer champion,
    # around a lunch hour), and every trainer runs one weekly group at a community venue whose past
    # meetings carry attendance at the demo's DNA rate.

    _DIARY_WINDOW = 21
    _DIARY_GROUPS = (("Walking group", "CC02", 10 * 60, 60), ("Cook and eat on a budget", "CC01", 13 * 60 + 30, 90),
                     ("Feel good chat and cuppa", "FV01", 14 * 60, 60), ("Get active together", "LB01", 10 * 60 + 30, 60),
                     ("Stop smoking support group", "CC01", 15 * 60, 60))
    _VENUE_DAYS = {"CC01": "12345", "CC02": "1234", "FV01": "2345", "LB01": "123456", "GP01": "12345",
                   "WP01": "12345", "PH01": "123456"}

    def _diary_plan_groups(self) -> None:
        codes_at = {code: i for i, (code, _n, _t) in enumerate(VENUES)}
        self.diary_group_plan = {}
        for i, staff in enumerate(self.trainers):
            title, venue, start, length = self._DIARY_GROUPS[i % len(self._DIARY_GROUPS)]
            days = self._VENUE_DAYS.get(venue, "12345")
            weekday = int(days[(i // len(self._DIARY_GROUPS)) % len(days)]) - 1
            self.diary_group_plan[staff] = (weekday, start, length, title, self.venues[codes_at[venue]])
        for code, days in self._VENUE_DAYS.items():
            self.conn.execute("UPDATE venues SET open_days = ? WHERE id = ?", (days, self.venues[codes_at[code]]))

    def _diary_champion_load(self) -> None:
        """A volunteer champion keeps a small caseload (the most recent 15 open referrals); the rest of
        those open referrals, with their sessions, belong to trainers."""
        if self.champion is None or not self.trainers:
            return
        open_ids = [r["id"] for r in self.referral_rows
                    if r["allocated_staff_id"] == self.champion and r["closed_date"] is None]
        moved = {rid: self.rng.choice(self.trainers) for rid in open_ids[:-15]}
        if not moved:
            return
        for r in self.referral_rows:
            if r["id"] in moved:
                r["allocated_staff_id"] = moved[r["id"]]
        self.session_rows = [(row[0], row[1], moved[row[0]], *row[3:]) if row[0] in moved else row
                             for row in self.session_rows]

    def _diary_tidy(self) -> None:
        rng, today = self.rng, self.today
        lo, hi = today - timedelta(days=self._DIARY_WINDOW), today + timedelta(days=90)
        kept, by_day, ahead = [], {}, {}
        for row in self.session_rows:
            day = date.fromisoformat(row[4])
            if not lo <= day <= hi:
                kept.append(row)
            elif day >= today:
                ahead.setdefault(row[2], []).append(row)
            else:
                if day.weekday() == 5:
                    day -= timedelta(days=1)
                elif day.weekday() == 6:
                    day += timedelta(days=1)
                by_day.setdefault((row[2], day), []).append(row)
        # Bookings still to come: a full day passes its bookings on to the trainer's next day with room,
        # so a busy trainer's clients wait longer for their next session rather than being double-booked.
        for staff, rows in ahead.items():
            cap = 4 if staff == self.champion else 7
            for row in sorted(rows, key=lambda r: (r[4], r[5] or "")):
                day = max(date.fromisoformat(row[4]), today)
                while day.weekday() >= 5 or len(by_day.get((staff, day), ())) >= cap:
                    day += timedelta(days=1)
                by_day.setdefault((staff, day), []).append(row)
        for (staff, day), rows in sorted(by_day.items()):
            cap = 4 if staff == self.champion else 7
            group = self.diary_group_plan.get(staff)
            busy = (group[1], group[1] + group[2]) if group and group[0] == day.weekday() else None
            t = 9 * 60 + rng.choice([0, 30, 60])
            for row in sorted(rows, key=lambda r: r[5] or "")[:cap]:
                length = row[6] or 60
                if t < 13 * 60 + 30 and t + length > 12 * 60 + 30:
                    t = 13 * 60 + 30                                   # lunch
                if busy and t < busy[1] + 15 and busy[0] < t + length + 15:
                    t = busy[1] + 15                                   # the group
                if t + length > 17 * 60:
                    break
                attendance = row[9]
                if day >= today and attendance != "0":
                    attendance = "0"
                mode = "F2F" if row[7] == "GROUP" else row[7]
                kept.append((*row[:4], day.isoformat(), f"{t // 60:02d}:{t % 60:02d}", length, mode, row[8],
                             attendance, *row[10:]))
                t += length + rng.choice([15, 15, 30, 45])
        self.session_rows = kept

    def _diary_groups(self) -> None:
        rng, conn, today = self.rng, self.conn, self.today
        monday = today - timedelta(days=today.weekday())
        touched = set()
        for staff, (weekday, start, length, title, venue) in self.diary_group_plan.items():
            open_refs = [r for r in conn.execute(
                "SELECT id, client_id, received_date FROM referrals WHERE allocated_staff_id = ? "
                "AND status IN ('ACTIVE', 'WAITING') ORDER BY id", (staff,))]
            if len(open_refs) < 4:
                continue
            members = rng.sample(open_refs, min(len(open_refs), rng.randint(4, 7)))
            group_id = conn.execute("INSERT INTO session_groups (service_id, title, staff_id, venue_id, created_by) "
                                    "VALUES (?, ?, ?, ?, 'demo') RETURNING id", (self.service_id, title, staff, venue)).fetchone()[0]
            for week in range(-3, 3):
                day = monday + timedelta(days=7 * week + weekday)
                for rid, client_id, received in members:
                    if day.isoformat() < received:
                        continue
                    attendance = "0" if day >= today else _pick(rng, ATTENDANCE_WEIGHTS)
                    conn.execute(
                        "INSERT INTO sessions (referral_id, client_id, staff_id, venue_id, session_date, start_time, "
                        "duration_minutes, mode, type, attendance, group_id, created_by) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'GROUP', 'SUPPORT', ?, ?, 'demo')",
                        (rid, client_id, staff, venue, day.isoformat(), f"{start // 60:02d}:{start % 60:02d}", length,
                         attendance, group_id))
                    touched.add(rid)
        for rid in touched:
            referrals.refresh_status(self.db, rid)


# --- goals, wellbeing, titles and towns that fit the person (issue 12) -------------------------------------
# Every goal's words belong to its area: its steps, its if-then plan and who can help. Smoking goals only
# for people who smoke; caring goals only for carers; job-seeking steps not for the retired.

GOAL_WORDS = {
    "DIET": [("Eat five portions of fruit and veg most days",
              "Add a piece of fruit to breakfast and veg to every tea, starting this week",
              "If the fruit bowl is empty then I will buy frozen veg, which keeps", "My partner, who does the shopping"),
             ("Cook a meal from scratch twice a week",
              "Tuesday and Saturday teas, using the recipes from the cook and eat group",
              "If I am too tired after work then I will cook a double batch on Saturday and freeze half",
              "The cook and eat group at the community centre"),
             ("Swap fizzy drinks for water",
              "Take a bottle of water to work and have sparkling water with tea",
              "If I crave a fizzy drink then I will have a sugar-free one and not a full-sugar one", "My workmate Jen")],
    "ACTIVITY": [("Walk to the shops instead of taking the bus",
                  "Walk to the Co-op and back on Monday, Wednesday and Friday mornings",
                  "If it is pouring down then I will walk laps of the shopping centre instead", "My neighbour, who walks her dog"),
                 ("Go to the Tuesday walking group", "Meet the group at 10am at the community centre every Tuesday",
                  "If my knee is sore then I will do the short loop and still have the cuppa after", "The walk leader, Pat"),
                 ("Try the free swim session at the leisure centre", "Book the Sunday 9am session online on Friday",
                  "If I feel nervous going alone then I will ask my cousin to come the first time", "My cousin Dawn")],
    "WEIGHT": [("Lose half a stone by the summer", "Weigh in on Friday mornings, smaller plates at tea, no seconds",
                "If I slip up at the weekend then I will start again on Monday, not give up", "The health trainer at my weigh-ins"),
               ("Fit into my old work trousers", "Swap the crisps at lunch for fruit and walk at dinner time",
                "If there is cake in the staff room then I will have one piece and take a walk after", "My sister")],
    "SMOKING": [("Stop smoking before my daughter's wedding", "Set a quit date and see the stop smoking service each week",
                 "If I get a craving with a brew then I will use my inhalator and go outside for fresh air",
                 "The stop smoking adviser at the pharmacy"),
                ("Cut down to five a day", "No smoking in the house or the car; one fewer each week",
                 "If I am stressed then I will text my friend before lighting up", "My friend who quit last year")],
    "ALCOHOL": [("Have three drink-free days a week", "Monday, Tuesday and Wednesday with no drink in the house",
                 "If friends ask me to the pub on a dry day then I will have a soft drink", "My husband, who is doing it too"),
                ("No drinking on work nights", "Buy alcohol-free beer for Sunday to Thursday",
                 "If I have had a bad day then I will go for a walk instead of opening a bottle", "My mate from the club")],
    "WELLBEING": [("Feel less stressed at the end of the day", "Ten minutes of the breathing exercise after tea",
                   "If the kids are playing up then I will do it after they are in bed", "NHS Talking Therapies"),
                  ("Get out of the house every day", "A short walk to the park or the shop each morning",
                   "If I feel low and want to stay in then I will just go to the end of the street", "My daughter, who rings each morning")],
    "SLEEP": [("Go to bed by eleven", "TV off at half ten and a warm drink without caffeine",
               "If I cannot sleep after twenty minutes then I will get up and read for a bit", "The sleep leaflet from the trainer"),
              ("Stop using my phone in bed", "Charge my phone in the kitchen every night",
               "If I need an alarm then I will use the old clock radio", "My partner")],
    "SEXUAL": [("Book a check-up at the sexual health clinic", "Ring the clinic on Monday morning or book online",
                "If I feel embarrassed then I will remember that the staff do this every day and it is confidential",
                "The sexual health clinic's nurse")],
    "SOCIAL": [("Join the knit and natter group", "Go on Thursday afternoon at the library; take my half-finished scarf",
                "If I feel shy then I will sit near Brenda, who I know from church", "The group organiser, Brenda"),
               ("Ring my sister once a week", "Sunday evening after tea",
                "If she does not answer then I will leave a message and try on Monday", "My sister")],
    "MONEY": [("Get help with my debts from Citizens Advice", "Ring the advice line on Monday with my bills in front of me",
               "If I get anxious on the phone then I will ask my trainer to make the first call with me", "Citizens Advice"),
              ("Work out a weekly budget", "Write down every bill and what comes in, with the trainer's budget sheet",
               "If money runs out before payday then I will ring the food bank and not a loan company", "The money adviser at the library")],
    "HOUSING": [("Get the damp in my flat sorted", "Report it to the housing office in writing and keep a copy",
                 "If they do not reply in two weeks then I will ring Shelter for advice", "Shelter North East"),
                ("Apply for a move nearer my mam", "Fill in the housing register form with the trainer",
                 "If the form asks for papers I do not have then I will ask the housing officer what else counts", "My housing officer")],
    "WORK": [("Start volunteering at the food bank", "Go to the volunteers' morning on Wednesday",
              "If I feel I am not ready then I will go once just to see it", "The food bank coordinator"),
             ("Do a CV course at the library", "Book the Thursday course and take my work history",
              "If I cannot get there then I will ask about the online version", "The Skills Hub at the library")],
    "CARING": [("Get a carer's assessment", "Ring the council's carers line and ask for an assessment",
                "If I cannot talk freely at home then I will ring from the car park at work", "Carers Trust Tyne and Wear"),
               ("Have one afternoon a week for myself", "My brother sits with Dad on Saturday afternoons",
                "If my brother cannot come then I will ask about the sitting service", "My brother and the carers centre")],
    "OTHER": [("Sort out my bus pass", "Take my photo and proof of address to the travel centre",
               "If I am missing a document then I will ask the trainer what else they take", "The travel centre staff")],
}
_JOB_SEEKING = ("Do a CV course at the library",)


def _goal_words(rng: random.Random, area: str, client: dict | None) -> tuple[str, str, str, str]:
    """(goal, steps, if-then, who can help) that belong together and to the person."""
    options = GOAL_WORDS[area]
    if client is not None and client.get("employment") == "08":        # retired: no CV course
        options = [o for o in options if o[0] not in _JOB_SEEKING] or options
    return rng.choice(options)


def _goal_areas_for(areas: list[str], client: dict | None, smokes: bool) -> list[str]:
    """The plan's areas without those that do not fit the person."""
    out = []
    for area in areas:
        if area == "SMOKING" and not smokes:
            continue
        if area == "CARING" and client is not None and client.get("carer") != "Y":
            continue
        out.append(area)
    return out or ["WELLBEING"]


def _title(rng: random.Random, gender: str) -> str | None:
    """A title that matches gender identity (and sometimes none)."""
    if gender == "1":
        return rng.choice(["Mr"] * 6 + ["Dr", None])
    if gender == "2":
        return rng.choice(["Ms", "Mrs", "Miss", "Ms", None])
    if gender in ("3", "4"):
        return rng.choice(["Mx", None])
    return None


def _ons4_answers(rng: random.Random, base: dict, gain: float) -> dict:
    """The four ONS4 answers, each moving on its own: life satisfaction and worthwhile slowly, happiness and
    anxiety with the day (each has its own response to support and its own noise)."""
    out = {}
    for key, start, own in zip(("ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious"), base["ons"],
                               base["ons_gain"]):
        direction = -1 if key == "ons4_anxious" else 1
        noise = rng.choice([-1, 0, 0, 0, 1]) if key in ("ons4_happy", "ons4_anxious") else 0
        out[key] = max(0, min(10, start + direction * round(own * gain) + noise))
    return out


# Post towns of the postcode districts the demo's North East postcodes fall in (Royal Mail's post towns).
_POST_TOWNS = {
    "NE": {**{n: "Newcastle upon Tyne" for n in (1, 2, 3, 4, 5, 6, 7, 12, 13, 15, 16, 18, 20, 27, 99)},
           **{n: "Gateshead" for n in (8, 9, 10, 11)}, 17: "Consett", 19: "Newcastle upon Tyne",
           21: "Blaydon-on-Tyne", 22: "Bedlington", 23: "Cramlington", 24: "Blyth", 25: "Whitley Bay",
           26: "Whitley Bay", 28: "Wallsend", 29: "North Shields", 30: "North Shields", 31: "Hebburn", 32: "Jarrow",
           33: "South Shields", 34: "South Shields", 35: "Boldon Colliery", 36: "East Boldon", 37: "Washington",
           38: "Washington", 39: "Rowlands Gill", 40: "Ryton", 41: "Wylam", 42: "Prudhoe", 43: "Stocksfield",
           44: "Riding Mill", 45: "Corbridge", 46: "Hexham", 47: "Hexham", 48: "Hexham", 49: "Haltwhistle",
           61: "Morpeth", 62: "Choppington", 63: "Ashington", 64: "Newbiggin-by-the-Sea", 65: "Morpeth",
           66: "Alnwick", 67: "Chathill", 68: "Seahouses", 69: "Bamburgh", 70: "Belford", 71: "Wooler"},
    "SR": {7: "Seaham", 8: "Peterlee"},
    "DH": {1: "Durham", 2: "Chester le Street", 3: "Chester le Street", 4: "Houghton le Spring",
           5: "Houghton le Spring", 6: "Durham", 7: "Durham", 8: "Consett", 9: "Stanley"},
    "TS": {**{n: "Middlesbrough" for n in range(1, 10)}, 10: "Redcar", 11: "Redcar", 12: "Saltburn-by-the-Sea",
           13: "Saltburn-by-the-Sea", 14: "Guisborough", 15: "Yarm", **{n: "Stockton-on-Tees" for n in range(16, 22)},
           22: "Billingham", 23: "Billingham", **{n: "Hartlepool" for n in range(24, 28)}, 28: "Wingate",
           29: "Trimdon Station"},
    "DL": {1: "Darlington", 2: "Darlington", 3: "Darlington", 4: "Shildon", 5: "Newton Aycliffe", 6: "Northallerton",
           7: "Northallerton", 8: "Bedale", 9: "Catterick Garrison", 10: "Richmond", 11: "Richmond",
           12: "Barnard Castle", 13: "Bishop Auckland", 14: "Bishop Auckland", 15: "Crook", 16: "Spennymoor",
           17: "Ferryhill"},
    "TD": {15: "Berwick-upon-Tweed", 12: "Cornhill-on-Tweed"},
    "CA": {6: "Carlisle", 8: "Brampton", 9: "Alston"},
}
_AREA_TOWNS = {"NE": "Newcastle upon Tyne", "SR": "Sunderland", "DH": "Durham", "TS": "Middlesbrough",
               "DL": "Darlington", "TD": "Berwick-upon-Tweed", "CA": "Carlisle"}


def _post_town(postcode: str | None) -> str | None:
    """The post town of a postcode (its district), so an address's town matches its postcode."""
    if not postcode or postcode == "NFA":
        return None
    district = postcode.split()[0]
    area = "".join(ch for ch in district[:2] if ch.isalpha())
    digits = "".join(ch for ch in district[len(area):] if ch.isdigit())
    number = int(digits) if digits else None
    return _POST_TOWNS.get(area, {}).get(number) or _AREA_TOWNS.get(area)


def _towns_from_postcodes(gen) -> None:
    """Every client's town from their postcode as finally chosen (no town without a postcode)."""
    for client in gen.client_rows:
        client["town"] = _post_town(client.get("postcode"))


def _plans_first_versions(gen) -> None:
    from . import plans
    plans.first_versions(gen.db)      # inside create_demo's one transaction


def _client_weight(gen, client: dict, height: float) -> float:
    """A person's starting weight, kept across their referrals (a second referral starts near where the
    first left off, not 30 kg away)."""
    if not hasattr(gen, "weights"):
        gen.weights = {}
    known = gen.weights.get(client["id"])
    if known is None:
        known = gen.rng.uniform(0.75, 1.45) * 24 * (height / 100) ** 2
    else:
        known = known * gen.rng.uniform(0.96, 1.04)
    gen.weights[client["id"]] = known
    return known


# Where a trainer would point someone for each area (DIRECTORY's categories).
_AREA_CATEGORIES = {"DIET": ("FOOD", "WEIGHTMGMT"), "ACTIVITY": ("EXERCISE",), "WEIGHT": ("WEIGHTMGMT", "EXERCISE"),
                    "SMOKING": ("STOPSMOKING",), "ALCOHOL": ("ALCOHOLSVC",), "WELLBEING": ("TALKING",),
                    "SLEEP": ("GPPRACTICE",), "SEXUAL": ("SEXHEALTH",), "SOCIAL": ("SOCIALGRP", "OTHER"),
                    "MONEY": ("DEBT",), "HOUSING": ("HOUSINGSVC",), "WORK": ("EMPLOYMENT",), "CARING": ("CARERS",),
                    "OTHER": ("PHARMACY",)}


def _directory_index_for(gen, areas) -> int:
    """A DIRECTORY entry that fits one of the areas (signposting for debt goes to debt advice)."""
    wanted = [c for a in areas for c in _AREA_CATEGORIES.get(a, ())]
    fitting = [i for i, (_, category, _) in enumerate(DIRECTORY) if category in wanted]
    return gen.rng.choice(fitting) if fitting else gen.rng.randrange(len(DIRECTORY))


def _directory_for(gen, areas, k: int) -> list[int]:
    """Directory ids for a plan's useful contacts, fitting its goals' areas."""
    wanted = [c for a in areas for c in _AREA_CATEGORIES.get(a, ())]
    fitting = [gen.directory[i] for i, (_, category, _) in enumerate(DIRECTORY) if category in wanted]
    return gen.rng.sample(fitting, k=min(k, len(fitting))) if fitting else []
