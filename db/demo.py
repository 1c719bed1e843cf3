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

from . import accounts, audit, clients, codes, connection, instruments, referrals, rules, services
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
GOALS = {
    "DIET": ["Eat five portions of fruit and veg most days", "Cook a meal from scratch twice a week",
             "Swap fizzy drinks for water"],
    "ACTIVITY": ["Walk to the shops instead of taking the bus", "Go to the Tuesday walking group",
                 "Try the free swim session at the leisure centre"],
    "WEIGHT": ["Lose half a stone by the summer", "Fit into my old work trousers"],
    "SMOKING": ["Stop smoking before my daughter's wedding", "Cut down to five a day"],
    "ALCOHOL": ["Have three drink-free days a week", "No drinking on work nights"],
    "WELLBEING": ["Feel less stressed at the end of the day", "Get out of the house every day"],
    "SLEEP": ["Go to bed by eleven", "Stop using my phone in bed"],
    "SEXUAL": ["Book a check-up at the sexual health clinic"],
    "SOCIAL": ["Join the knit and natter group", "Ring my sister once a week"],
    "MONEY": ["Get help with my debts from Citizens Advice", "Work out a weekly budget"],
    "HOUSING": ["Get the damp in my flat sorted", "Apply for a move nearer my mam"],
    "WORK": ["Start volunteering at the food bank", "Do a CV course at the library"],
    "CARING": ["Get a carer's assessment", "Have one afternoon a week for myself"],
    "OTHER": ["Sort out my bus pass"],
}
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
    import sqlite3
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        row = None
    if not row or row[0] != "1":
        raise BadPath(f"{path} exists and is not a demo database: it was left alone. Give another path with --db.")
    if not remove:
        return
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def create_demo(path: Path | str, clients: int = 300, seed: int = 1, today: date | None = None,
                on_progress=None) -> dict[str, int]:
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
    try:
        db = open_database(tmp, create=True)
        try:
            # Bulk load: the file is new, so a crash just means running demo again.
            db.conn.execute("PRAGMA synchronous = OFF")
            with connection.transaction(db):
                summary = _Generator(db, random.Random(seed), today, clients, progress).run()
            db.conn.execute("PRAGMA synchronous = FULL")
            db.conn.execute("ANALYZE")
        finally:
            db.conn.close()
        _check_target(path)
        connection.place_new_database(tmp, path)
    except BaseException:
        connection.remove_database_files(tmp)
        raise
    return summary


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
        self._diary_plan_groups()      # the diary (issue 11): believable weeks around today
        self._diary_tidy()
        self._write()
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
            "preferred_name": None, "title": rng.choice(["Mr", "Ms", "Mrs", "Miss", "Mx", None]) if gender in "12" else None,
            "date_of_birth": dob.isoformat(), "gender": gender, "ethnicity": _pick(rng, ETHNICITY_WEIGHTS),
            "nhs_number": _nhs_number(rng) if rng.random() < 0.85 else None,
            "postcode": postcode[0] if postcode else None,
            "lsoa_code": postcode[1] if postcode else None,
            "imd_decile": postcode[2] if postcode else None,
            "imd_quintile": (postcode[2] + 1) // 2 if postcode and postcode[2] else None,
            "imd_edition": "IMD2019" if postcode and postcode[1] else None,
            "postcode_status": postcode[3] if postcode else None,
            "address_line_1": f"{rng.randint(1, 180)} {rng.choice(['Westgate Road', 'Shields Road', 'Front Street', 'Station Road', 'Hylton Road', 'Durham Road'])}" if postcode and postcode[0] != "NFA" else None,
            "town": rng.choice(["Newcastle upon Tyne", "Gateshead", "Sunderland", "South Shields", "Durham"]),
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
            _drift_deprivation(self, client, day)      # the service drifts (issue 13)
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
        referral["source"] = _drift_source(self, referral["source"], received)
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
        venue = _drift_venue(self, venue, day)
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
        self._plan(referral, areas, start, finished, last_attended)
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

    def _plan(self, referral, areas, agreed: date, finished: bool, last: date) -> None:
        rng = self.rng
        self.plan_no += 1
        pid = self.plan_no
        self.plan_rows.append((pid, referral["id"], agreed.isoformat(),
                               rng.choice(["Being able to play with my grandchildren", "Feeling more like myself again",
                                           "Getting fit enough to go back to work", "Not worrying about money all the time",
                                           "Being around for my kids"]), "demo"))
        goal_areas = list(dict.fromkeys(areas + rng.sample(list(AREA_WEIGHTS), k=rng.randint(0, 2))))[:4]
        for pos, area in enumerate(goal_areas, start=1):
            if finished:
                status = rng.choices(["FULL", "PARTLY", "NOT", "DROPPED"], weights=[40, 35, 18, 7])[0]
                status_date = last.isoformat()
            else:
                status = rng.choice(["NOTSTARTED", "INPROGRESS", "INPROGRESS"])
                status_date = None
            self.goal_rows.append((pid, area, rng.choice(GOALS[area]),
                                   "Every Monday and Thursday after tea", "If it rains then I will do the DVD at home instead",
                                   rng.choice(["My sister", "My neighbour", "The trainer", None]),
                                   rng.randint(5, 10), rng.randint(3, 10), agreed.isoformat(),
                                   (agreed + timedelta(days=42)).isoformat(), status, status_date, pos, "demo"))
        if rng.random() < 0.6:
            for d in rng.sample(self.directory, k=rng.randint(1, 2)):
                self.plan_contact_rows.append((pid, d))

    def _assessments(self, referral, client, attended, finished: bool) -> None:
        rng = self.rng
        reasons = self.reasons_by_referral
        areas_of = lambda r: reasons[r["id"]]  # noqa: E731
        baseline_day = attended[0][0]
        # A person's height is theirs across every referral, so carried-forward BMI matches the record.
        height = self.heights.setdefault(client["id"], round(rng.uniform(150, 190)))
        weight = rng.uniform(0.75, 1.45) * 24 * (height / 100) ** 2     # BMI about 18 to 35
        self.base = {"weight": weight, "height": height, "waist": 0.7 * weight + 35 + rng.uniform(-6, 6),
                     "swem": rng.randint(12, 28), "ons": [rng.randint(2, 8) for _ in range(3)] + [rng.randint(2, 8)],
                     "audit": [rng.randint(0, 4), rng.randint(0, 3), rng.randint(0, 2)],
                     "activity": rng.randint(0, 4), "fv": rng.randint(0, 5), "smoke": rng.choices(["1", "2", "4"], weights=[28, 22, 50])[0],
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
            answers["ONS4"] = {k: max(0, min(10, v + round((-2 if k == "ons4_anxious" else 2) * gain)))
                               for k, v in zip(("ons4_satisfied", "ons4_worthwhile", "ons4_happy", "ons4_anxious"), b["ons"])}
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
        d = rng.randrange(len(DIRECTORY))
        name, category, _ = DIRECTORY[d]
        self.sign_rows.append((client["id"], referral["id"], day.isoformat(), category, name, self.directory[d],
                               rng.choice(["signposted", "signposted", "referred"]),
                               rng.choices(["attended", "not_attended", "unknown"], weights=[45, 20, 35])[0],
                               None, "demo"))

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

    def _diary_tidy(self) -> None:
        rng, today = self.rng, self.today
        lo, hi = today - timedelta(days=self._DIARY_WINDOW), today + timedelta(days=self._DIARY_WINDOW)
        kept, by_day = [], {}
        for row in self.session_rows:
            day = date.fromisoformat(row[4])
            if not lo <= day <= hi:
                kept.append(row)
                continue
            if day.weekday() == 5:
                day -= timedelta(days=1)
            elif day.weekday() == 6:
                day += timedelta(days=1)
            by_day.setdefault((row[2], day), []).append(row)
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
                                    "VALUES (?, ?, ?, ?, 'demo')", (self.service_id, title, staff, venue)).lastrowid
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


# --- the drift (issue 13) ---------------------------------------------------------------------------
# Over its two years the demo service drifts the way the studies of health trainer services found
# real ones did: from community settings and the most deprived neighbourhoods towards NHS-referred,
# clinic-based work. The share of community and self referrals, of clients from the two most
# deprived fifths and of sessions in community venues falls gradually, so the dashboard's drift
# view and its sentences have something to show. A separate random stream (seeded from the main
# one without drawing from it) keeps every other choice of the demo as it was.

DRIFT_DEPRIVED = 0.45      # at the end, this share of would-be deprived clients live elsewhere instead
DRIFT_SOURCE = 0.45        # ... of community referrals come from the NHS instead
DRIFT_VENUE = 0.45         # ... of community-venue sessions are held in a clinic instead
_COMMUNITY_SOURCES = ("SELF", "LA", "HOUSING", "EMPLOY", "VCS", "FAITH", "WORK", "OUTREACH")
_NHS_SOURCES = ("GP", "GP", "GP", "NHSHC", "SOCPRES", "PHARM", "HEALTH")
_COMMUNITY_VENUES = (1, 2, 3, 4, 5, 6, 9)       # indexes of VENUES
_CLINICAL_VENUES = (0, 0, 7)


def _drift_rng(gen) -> random.Random:
    if not hasattr(gen, "_drift_random"):
        gen._drift_random = random.Random(gen.rng.getstate()[1][0] ^ 0x5EED)
    return gen._drift_random


def _drift_share(gen, day: date) -> float:
    """0 two years before today, rising evenly to 1 today."""
    return min(1.0, max(0.0, 1 - (gen.today - day).days / 730))


def _drift_deprivation(gen, client: dict, day: date) -> None:
    r = _drift_rng(gen)
    if client.get("imd_quintile") in (1, 2) and r.random() < DRIFT_DEPRIVED * _drift_share(gen, day):
        postcode = r.choice(gen.pool.other)
        client.update(postcode=postcode[0], lsoa_code=postcode[1], imd_decile=postcode[2],
                      imd_quintile=(postcode[2] + 1) // 2 if postcode[2] else None,
                      imd_edition="IMD2019" if postcode[1] else None, postcode_status=postcode[3])


def _drift_source(gen, source: str, day: date) -> str:
    r = _drift_rng(gen)
    if source in _COMMUNITY_SOURCES and r.random() < DRIFT_SOURCE * _drift_share(gen, day):
        return r.choice(_NHS_SOURCES)
    return source


def _drift_venue(gen, venue: int, day: date) -> int:
    r = _drift_rng(gen)
    if venue in _COMMUNITY_VENUES and r.random() < DRIFT_VENUE * _drift_share(gen, day):
        return r.choice(_CLINICAL_VENUES)
    return venue
