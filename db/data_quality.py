"""Data quality (issue 13): every record that needs attention, by kind, each naming its client and
referral, for the dashboard page, the reach report and the coordinators."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from . import bank_holidays, codes


@dataclass(frozen=True)
class QualityRow:
    kind: str
    client_id: int
    client_ref: str
    name: str
    referral_id: int | None
    referral_ref: str | None
    detail: str
    since: str | None = None          # the date the row has been waiting since


QUALITY_KINDS = {
    "client_details": "Clients without ethnicity, postcode or GP status",
    "no_contact": "Referrals waiting with no contact attempt after 5 working days",
    "outcome_not_recorded": "Past sessions still booked (outcome not recorded)",
    "no_exit": "Closed referrals with a baseline and no exit assessment",
    "plan_review": "Plans past their review date",
    "signposting_follow_up": "Signposting with no outcome after its follow-up date",
}


# Monday to Friday, England and Wales bank holidays left out.
working_days_before = bank_holidays.working_days_before


_NAME = "TRIM(COALESCE(NULLIF(c.preferred_name, ''), c.first_name) || ' ' || c.last_name)"


def data_quality(db: Database, service_id: int, today: date) -> list[QualityRow]:
    """Every record that needs attention, by kind (QUALITY_KINDS), oldest first within a kind.
    Archived and anonymised clients are left out: nobody can act on them."""
    t = today.isoformat()
    live = "c.service_id = :service AND c.archived_at IS NULL AND c.anonymised_at IS NULL"
    params = {"service": service_id, "today": t, "cutoff": working_days_before(today, 5).isoformat()}
    out: list[QualityRow] = []
    conn = db.conn

    for cid, ref, name, eth, pc, gp, status in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, c.ethnicity, c.postcode, c.gp_registered, c.postcode_status "
            f"FROM clients c WHERE {live} AND (c.ethnicity = '99' OR c.ethnicity IS NULL OR c.postcode IS NULL "
            "OR c.postcode = '' OR c.gp_registered IS NULL OR c.gp_registered = '') ORDER BY c.client_ref", params):
        missing = [w for w, gone in (("ethnicity", eth in (None, "99")), ("postcode", not pc),
                                     ("GP status", not gp)) if gone]
        out.append(QualityRow("client_details", cid, ref, name, None, None, "No " + ", no ".join(missing)))

    for cid, ref, name, rid, rref, received in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, r.id, r.referral_ref, r.received_date FROM referrals r "
            f"JOIN clients c ON c.id = r.client_id WHERE {live} AND r.status IN ('NEW', 'CONTACTING', 'WAITING') "
            "AND r.received_date <= :cutoff AND NOT EXISTS (SELECT 1 FROM contact_attempts a WHERE a.referral_id = r.id) "
            "AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.referral_id = r.id) "
            "ORDER BY r.received_date, r.referral_ref", params):
        out.append(QualityRow("no_contact", cid, ref, name, rid, rref, f"Received {received}, no contact attempt",
                              received))

    for cid, ref, name, rid, rref, day, n in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, r.id, r.referral_ref, MIN(s.session_date), COUNT(*) FROM sessions s "
            f"JOIN referrals r ON r.id = s.referral_id JOIN clients c ON c.id = r.client_id "
            f"WHERE {live} AND s.attendance = '0' AND s.session_date < :today "
            "GROUP BY r.id, c.id ORDER BY MIN(s.session_date), r.referral_ref", params):
        what = f"Session on {day} still booked" if n == 1 else f"{n} past sessions still booked, the first on {day}"
        out.append(QualityRow("outcome_not_recorded", cid, ref, name, rid, rref, what, day))

    for cid, ref, name, rid, rref, closed in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, r.id, r.referral_ref, r.closed_date FROM referrals r "
            f"JOIN clients c ON c.id = r.client_id WHERE {live} AND r.closed_date IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM assessments a WHERE a.referral_id = r.id AND a.timepoint = 'BASELINE') "
            "AND NOT EXISTS (SELECT 1 FROM assessments a WHERE a.referral_id = r.id AND a.timepoint = 'EXIT') "
            "ORDER BY r.closed_date DESC, r.referral_ref", params):
        out.append(QualityRow("no_exit", cid, ref, name, rid, rref, f"Closed {closed} with a baseline, no exit", closed))

    for cid, ref, name, rid, rref, agreed, review in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, r.id, r.referral_ref, p.agreed_date, MIN(g.review_date) FROM goals g "
            "JOIN plans p ON p.id = g.plan_id JOIN referrals r ON r.id = p.referral_id "
            f"JOIN clients c ON c.id = r.client_id WHERE {live} AND r.closed_date IS NULL "
            "AND g.status IN ('NOTSTARTED', 'INPROGRESS') AND g.review_date < :today "
            "GROUP BY p.id, r.id, c.id ORDER BY MIN(g.review_date), r.referral_ref", params):
        out.append(QualityRow("plan_review", cid, ref, name, rid, rref,
                              f"Plan agreed {agreed}: review was due {review}", review))

    for cid, ref, name, rid, rref, follow, category in conn.execute(
            f"SELECT c.id, c.client_ref, {_NAME}, r.id, r.referral_ref, x.follow_up_date, x.category FROM signposting x "
            f"JOIN referrals r ON r.id = x.referral_id JOIN clients c ON c.id = x.client_id "
            f"WHERE {live} AND x.outcome = 'unknown' AND x.follow_up_date < :today "
            "ORDER BY x.follow_up_date, r.referral_ref", params):
        out.append(QualityRow("signposting_follow_up", cid, ref, name, rid, rref,
                              f"{codes.label('signposting_category', category)}: follow-up was due {follow}", follow))
    return out
