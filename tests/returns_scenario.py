"""A small service whose 2026-27 Q2 return is known by hand (tests of db.returns,
the workbook and the command line share it). Built through CaseStore only.

Deprivation is stubbed per postcode (the store's own seam, deprivation_for), so the
quintiles are chosen here and no postcode reference has to be built.

What happens (period 1 July - 30 September 2026, today 1 November 2026):
  R1 C1 received 10 Jun (SELF); attended 20 Jun (Q1 start) and 5 Jul (PHONE): active, not a start;
     closed 31 Aug COMPLETED; SWEMWBS 21->28 raw (19.25->25.03); BODY 100->95 kg (exactly 5%).
  R2 C2 received 25 Jun (GP); arrived late and seen (6) 2 Jul F2F: start, wait 7; DNA 20 Jul;
     closed 15 Sep DISENGAGED; SWEMWBS 14->17 raw by a REVIEW standing in (15.32->16.88);
     AUDIT-C 7->1 and smoking 1->2, both by REVIEW.
  R3 C3 received 1 May (VCS); arrived late, not seen (7) 10 Jul; attended 15 Aug GROUP: start, wait 106.
  R4 C4 received 1 Jul (OUTREACH); attended 1 Jul F2F: start, wait 0; booked (0) 30 Sep;
     closed 30 Sep COMPLETED; SWEMWBS baseline not computable (no pair); ONS4 satisfied 4->7.
  R5 C5 received 1 Aug (UNK); closed 20 Aug UNABLE.
  R6 C1 received 1 Sep (GP).
  R7 C2 received 20 Sep (PHARM); first attended 5 Oct (starts next quarter).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from db.store import CaseStore

TODAY = date(2026, 11, 1)
PERIOD = "2026-27-Q2"
ADMIN, ADMIN_PASSWORD = "boss", "granite-violet-64"
TRAINER, TRAINER_PASSWORD = "tina", "pebble-saffron-72"

# postcode -> (quintile, match status)
DEPRIVATION = {"NE1 1AA": (1, "found"), "NE2 2BB": (2, "terminated"), "ZZ1 1ZZ": (None, "not_found")}


def stub_deprivation(store: CaseStore) -> None:
    def deprivation_for(postcode):
        if not postcode:
            return {"lsoa_code": None, "imd_decile": None, "imd_quintile": None, "imd_edition": None,
                    "postcode_status": None}
        if postcode == "NFA":
            return {"lsoa_code": None, "imd_decile": None, "imd_quintile": None, "imd_edition": None,
                    "postcode_status": "nfa"}
        quintile, status = DEPRIVATION[postcode]
        return {"lsoa_code": "E01000001" if quintile else None, "imd_decile": quintile * 2 if quintile else None,
                "imd_quintile": quintile, "imd_edition": "IMD2019" if quintile else None, "postcode_status": status}
    store.reference.deprivation_for = deprivation_for


def new_store(path: Path) -> CaseStore:
    store = CaseStore.create_new(path, service_name="Test & Co Health Trainers", service_code="TEST",
                                 contact={"phone": "0191 496 0000"},
                                 admin_username=ADMIN, admin_password=ADMIN_PASSWORD, admin_full_name="Bea Boss")
    store.sign_in(ADMIN, ADMIN_PASSWORD)
    stub_deprivation(store)
    return store


SWEMWBS_OF = {  # raw score -> seven answers
    14: [2] * 7, 17: [3, 3, 3, 2, 2, 2, 2], 21: [3] * 7, 28: [4] * 7,
}


def swemwbs(raw: int) -> dict:
    return {f"swemwbs_{i}": a for i, a in enumerate(SWEMWBS_OF[raw], 1)}


class Scenario:
    """The built database, with the ids the tests need."""

    def __init__(self, path: Path):
        self.path = path
        self.store = store = new_store(path)
        self.trainer = store.service.add_staff("Tina Trainer", "TRAINER", username=TRAINER, password=TRAINER_PASSWORD)
        t = TODAY
        c1 = self.client("Siobhán", "O'Neill", "1980-03-15", "2", "A", "NE1 1AA", nhs="9434765919",
                         gp="Y", employment="01", disability="N")
        c2 = self.client("Nguyễn", "Văn", "2001-07-02", "1", "H", None)
        c3 = self.client("Zoë", "Ali-Khan", "1952-02-29", "Z", "99", "NFA", gp="U", employment="ZZ", disability="Z")
        c4 = self.client("Amara", "Okafor", "2002-07-02", "2", "N", "NE2 2BB", nhs="4010232137",
                         gp="Y", employment="01", disability="N")
        c5 = self.client("Kevin", "Dunn", "1970-01-01", "1", "A", "ZZ1 1ZZ")
        self.clients = [c1, c2, c3, c4, c5]

        self.r1 = self.referral(c1, "2026-06-10", "SELF")
        self.session(self.r1, "2026-06-20", "5", "F2F")
        self.session(self.r1, "2026-07-05", "5", "PHONE")
        store.plans.add(self.r1, {"agreed_date": "2026-06-20"}, goals=[
            {"area": "WEIGHT", "goal_text": "Lose half a stone", "status": "PARTLY", "status_date": "2026-07-15"}],
            today=t)
        store.signposting.add(self.r1, {"signpost_date": "2026-06-25", "category": "DEBT", "type": "signposted"},
                              today=t)
        self.assess(self.r1, "2026-06-20", "BASELINE", "SWEMWBS", swemwbs(21))
        self.assess(self.r1, "2026-08-30", "EXIT", "SWEMWBS", swemwbs(28))
        self.assess(self.r1, "2026-06-20", "BASELINE", "BODY", {"weight_kg": 100, "height_cm": 170})
        self.assess(self.r1, "2026-08-30", "EXIT", "BODY", {"weight_kg": 95})
        store.referrals.close(self.r1, "2026-08-31", "COMPLETED", today=t)

        self.r2 = self.referral(c2, "2026-06-25", "GP")
        self.session(self.r2, "2026-07-02", "6", "F2F")
        self.session(self.r2, "2026-07-20", "3", "F2F")
        store.plans.add(self.r2, {"agreed_date": "2026-07-02"}, goals=[
            {"area": "DIET", "goal_text": "Five a day", "status": "FULL", "status_date": "2026-08-01"},
            {"area": "ACTIVITY", "goal_text": "Walk to work", "status": "NOT", "status_date": "2026-09-01"},
            {"area": "MONEY", "goal_text": "Sort out the gas bill", "status": "INPROGRESS"}], today=t)
        store.signposting.add(self.r2, {"signpost_date": "2026-07-02", "category": "STOPSMOKING", "type": "referred"},
                              today=t)
        self.assess(self.r2, "2026-07-02", "BASELINE", "SWEMWBS", swemwbs(14))
        self.assess(self.r2, "2026-08-01", "REVIEW", "SWEMWBS", swemwbs(17))
        self.assess(self.r2, "2026-07-02", "BASELINE", "AUDITC", {"auditc_1": 4, "auditc_2": 2, "auditc_3": 1})
        self.assess(self.r2, "2026-08-01", "REVIEW", "AUDITC", {"auditc_1": 1, "auditc_2": 0, "auditc_3": 0})
        self.assess(self.r2, "2026-07-02", "BASELINE", "SMOKING", {"smoking_status": "1", "cigarettes_per_day": 20})
        self.assess(self.r2, "2026-08-01", "REVIEW", "SMOKING", {"smoking_status": "2"})
        store.referrals.close(self.r2, "2026-09-15", "DISENGAGED", today=t)

        self.r3 = self.referral(c3, "2026-05-01", "VCS")
        self.session(self.r3, "2026-07-10", "7", "F2F")
        self.session(self.r3, "2026-08-15", "5", "GROUP")

        self.r4 = self.referral(c4, "2026-07-01", "OUTREACH")
        self.session(self.r4, "2026-07-01", "5", "F2F")
        self.session(self.r4, "2026-09-30", "0", "F2F")
        store.plans.add(self.r4, {"agreed_date": "2026-07-01"}, goals=[
            {"area": "SOCIAL", "goal_text": "Join the lunch club", "status": "DROPPED", "status_date": "2026-08-01"}],
            today=t)
        store.signposting.add(self.r4, {"signpost_date": "2026-08-01", "category": "FOOD", "type": "signposted"},
                              today=t)
        six = {k: v for k, v in swemwbs(21).items() if k != "swemwbs_7"}
        self.assess(self.r4, "2026-07-01", "BASELINE", "SWEMWBS", six)
        self.assess(self.r4, "2026-09-29", "EXIT", "SWEMWBS", swemwbs(28))
        self.assess(self.r4, "2026-07-01", "BASELINE", "ONS4", {"ons4_satisfied": 4})
        self.assess(self.r4, "2026-09-29", "EXIT", "ONS4", {"ons4_satisfied": 7, "ons4_happy": 8})
        store.referrals.close(self.r4, "2026-09-30", "COMPLETED", today=t)

        self.r5 = self.referral(c5, "2026-08-01", "UNK")
        store.referrals.close(self.r5, "2026-08-20", "UNABLE", today=t)

        self.r6 = self.referral(c1, "2026-09-01", "GP")
        self.r7 = self.referral(c2, "2026-09-20", "PHARM")
        self.session(self.r7, "2026-10-05", "5", "F2F")

    def client(self, first, last, dob, gender, ethnicity, postcode, nhs=None, gp=None, employment=None,
               disability=None) -> int:
        changes = self.store.clients.add({
            "first_name": first, "last_name": last, "date_of_birth": dob, "gender": gender, "ethnicity": ethnicity,
            "postcode": postcode, "nhs_number": nhs, "gp_registered": gp, "employment": employment,
            "disability": disability}, today=TODAY)
        return changes.ids[0]

    def referral(self, client_id, received, source) -> int:
        return self.store.referrals.add(client_id, {"received_date": received, "source": source,
                                                   "reasons": ["DIET"]}, today=TODAY).ids[0]

    def session(self, referral_id, day, attendance, mode) -> int:
        return self.store.diary.add(referral_id, {"session_date": day, "attendance": attendance, "mode": mode,
                                                    "staff_id": self.trainer}, today=TODAY).ids[0]

    def assess(self, referral_id, day, timepoint, instrument, answers):
        return self.store.assessments.add(referral_id, day, timepoint, instrument, answers, today=TODAY)

    def ref(self, referral_id: int) -> str:
        return self.store.referrals.get(referral_id).referral_ref
