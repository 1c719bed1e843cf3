"""Letters: appointment, could not reach you, outcome letter to the GP; read back with pypdf."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest

from db.errors import PermissionDenied, ValidationError
from reports.letters import build_letter
from reports.printing import print_letter

from print_case import NAME, SWEMWBS_LINE, TODAY, build_case, pdf_text

FULL_NAME = f"{NAME[0]} {NAME[1]}"


def flat(text: str) -> str:
    return " ".join(text.split())


def letter_text(case, kind: str, user: str = "coord") -> str:
    case.as_user(user)
    return flat(pdf_text(build_letter(kind, case.store.documents.letter_data(kind, case.referral_id, today=TODAY))))


def test_the_appointment_letter_gives_the_next_booked_session(case):
    text = letter_text(case, "appointment")
    for words in ("Tyneside Health Trainers", "Private and confidential", FULL_NAME, "4 Rose Terrace",
                  "Newcastle upon Tyne", "Date: 16 June 2025", f"Our reference: {case.referral_ref}",
                  "Your next health trainer session", "Monday 23 June 2025 at 2pm (about 45 minutes)",
                  "Riverside Community Centre, NE1 4XX", "Aisha Rahman, your health trainer",
                  "Cannot make it, or want to change the time?", "0191 496 0123", "Yours sincerely",
                  "Colin Baxter", "for Tyneside Health Trainers", "Page 1 of 1"):
        assert words in text, words


def test_no_appointment_letter_without_a_booked_session(tmp_path):
    c = build_case(tmp_path, booked=False)
    try:
        with pytest.raises(ValidationError) as exc:
            c.store.documents.letter_data("appointment", c.referral_id, today=TODAY)
        assert exc.value.fields == ["session"] and "book the session first" in str(exc.value)
    finally:
        c.store.close()


@pytest.fixture
def unreached(tmp_path):
    """A referral never reached: no session held, three unsuccessful tries."""
    folder = tmp_path / "unreached"
    folder.mkdir()
    c = build_case(folder, held=False, goals=None, assessments=False)
    for day, outcome in (("2025-03-02", "NOANSWER"), ("2025-03-04", "MESSAGE"), ("2025-03-06", "NOANSWER")):
        c.store.referrals.add_contact_attempt(c.referral_id, day, "PHONE", outcome, today=TODAY)
    yield c
    c.store.close()


def test_the_could_not_reach_you_letter_lists_the_tries_and_how_to_get_in_touch(unreached):
    case = unreached
    text = letter_text(case, "no-contact")
    for words in ("We have been trying to contact you",
                  "You were referred to us on 1 March 2025 (from: GP or practice staff), for support with "
                  "healthy eating, weight, and money and debt.",
                  "We have tried to contact you 3 times (on 2 March 2025, 4 March 2025 and 6 March 2025)",
                  "Please get in touch by Monday 30 June 2025", "0191 496 0123", "healthtrainers@example.org",
                  "we will close your referral for now", "contact us again at any time"):
        assert words in text, words


def test_the_gp_letter_summarises_support_goals_and_outcomes(case):
    case.as_user("trainer1")
    case.store.signposting.add(case.referral_id, {"signpost_date": "2025-04-07", "category": "DEBT",
                                                  "type": "referred", "destination": "Citizens Advice Newcastle",
                                                  "outcome": "attended"}, today=TODAY)
    text = letter_text(case, "gp-outcome", user="trainer1")
    for words in ("The GP", "Elswick Family Practice", "Practice code A12345", "Dear Doctor,", FULL_NAME,
                  "Date of birth 2 April 1968", "NHS number 943 476 5919",
                  "was referred to Tyneside Health Trainers on 1 March 2025",
                  "They attended 3 sessions between 10 March 2025 and 6 May 2025 with Aisha Rahman",
                  "Support is continuing", "Goals agreed", "Healthy eating", "In progress",
                  "Outcome measures", "Weight (kg) 92.4 88.1 −4.3 kg (−4.7%)", "SWEMWBS (metric) 17.43 22.35 +4.92",
                  "review (no exit assessment yet)", SWEMWBS_LINE, "Citizens Advice Newcastle",
                  "agreed to us sharing this information with you (consent recorded 3 March 2025)",
                  "Aisha Rahman"):
        assert words in text, words


@pytest.mark.parametrize("consent", ["N", None])
def test_the_gp_letter_is_refused_without_consent_to_share(tmp_path, consent):
    c = build_case(tmp_path, consent_share_gp=consent)
    try:
        out = tmp_path / "gp.pdf"
        with pytest.raises(ValidationError) as exc:
            print_letter(c.store, "gp-outcome", c.referral_id, out, today=TODAY)
        assert exc.value.fields == ["consent_share_gp"]
        assert "has not agreed to share information with their GP" in str(exc.value)
        assert not out.exists() and c.store.documents.for_client(c.client_id) == []
        # Nor can the bytes be slipped in by another route.
        with pytest.raises(ValidationError):
            c.store.documents.keep(c.client_id, c.referral_id, "letter-gp-outcome", "gp.pdf", b"%PDF-1.4", "x")
    finally:
        c.store.close()


def test_who_may_print_which_letter(case, tmp_path):
    case.as_user("trainer1")          # the client's own trainer: the GP letter, not the waiting-list letters
    assert case.store.documents.letter_data("gp-outcome", case.referral_id, today=TODAY).outcomes
    for kind in ("appointment", "no-contact"):
        with pytest.raises(PermissionDenied):
            case.store.documents.letter_data(kind, case.referral_id, today=TODAY)
    for user in ("trainer2", "champ"):  # another trainer; a volunteer champion
        case.as_user(user)
        with pytest.raises(PermissionDenied):
            print_letter(case.store, "gp-outcome", case.referral_id, tmp_path / "gp.pdf", today=TODAY)
    assert not (tmp_path / "gp.pdf").exists()


def test_an_unknown_letter_kind_is_refused_clearly(case):
    with pytest.raises(ValidationError, match="There is no 'reminder' letter"):
        case.store.documents.letter_data("reminder", case.referral_id, today=TODAY)
    with pytest.raises(ValidationError, match="appointment, no-contact, gp-outcome"):
        build_letter("reminder", None)


@pytest.mark.parametrize("kind", ["appointment", "no-contact", "gp-outcome"])
def test_every_letter_is_kept_as_printed_and_audited(case, unreached, tmp_path, kind):
    if kind == "no-contact":
        case = unreached
    out = tmp_path / f"{kind}.pdf"
    kept, pdf = print_letter(case.store, kind, case.referral_id, out, today=TODAY)
    written = out.read_bytes()
    assert written == pdf and kept.sha256 == hashlib.sha256(written).hexdigest()
    assert (kept.kind, kept.referral_id, kept.created_by) == (f"letter-{kind}", case.referral_id, "coord")
    assert case.store.documents.get(kept.id).content == written
    case.as_user("admin")
    actions = [e["action"] for e in case.store.admin.audit_events("document", kept.id)]
    assert sorted(actions) == ["print", "view"]


def test_a_demo_letter_says_demo(tmp_path):
    c = build_case(tmp_path, demo=True)
    try:
        text = pdf_text(build_letter("gp-outcome", c.store.documents.letter_data("gp-outcome", c.referral_id, today=TODAY)))
        assert "DEMO" in text
    finally:
        c.store.close()


# --- letters that tell the truth (issue 12): each refusal one sentence ---------------------------------

def refused(store, kind: str, referral_id: int, today=TODAY) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        store.documents.letter_data(kind, referral_id, today=today)
    message = str(exc.value)
    # One sentence: no full stop before the end; the same words the screens are given before printing.
    assert message.endswith(".") and ". " not in message.rstrip("."), message
    assert store.documents.letter_refusal(kind, referral_id, today=today) == message
    return exc.value


def test_no_contact_letter_refused_for_a_completed_referral_with_sessions_attended(case):
    case.store.referrals.close(case.referral_id, "2025-06-01", "COMPLETED", today=TODAY)
    err = refused(case.store, "no-contact", case.referral_id)
    assert err.fields == ["status"] and "is closed" in str(err)


def test_no_contact_letter_refused_once_the_client_was_reached(case, unreached):
    err = refused(case.store, "no-contact", case.referral_id)          # three sessions attended
    assert err.fields == ["contact_attempts"] and "already had a successful contact" in str(err)
    unreached.store.referrals.add_contact_attempt(unreached.referral_id, "2025-03-08", "PHONE", "REACHED",
                                                  today=TODAY)
    assert "already had a successful contact" in str(refused(unreached.store, "no-contact",
                                                             unreached.referral_id))


def test_no_contact_letter_refused_without_any_attempt(tmp_path):
    c = build_case(tmp_path, held=False, goals=None, assessments=False)
    try:
        err = refused(c.store, "no-contact", c.referral_id)
        assert "no unsuccessful contact attempts recorded" in str(err)
        c.store.referrals.add_contact_attempt(c.referral_id, "2025-03-02", "PHONE", "NOANSWER", today=TODAY)
        assert c.store.documents.letter_refusal("no-contact", c.referral_id, today=TODAY) is None
    finally:
        c.store.close()


def test_gp_letter_refused_for_a_referral_never_seen(tmp_path):
    c = build_case(tmp_path, held=False, goals=None, assessments=False)
    try:
        err = refused(c.store, "gp-outcome", c.referral_id)
        assert err.fields == ["session"] and "no attended session yet" in str(err)
    finally:
        c.store.close()


@pytest.mark.parametrize("gp", [{"gp_registered": "N", "gp_practice_code": None, "gp_practice_name": None},
                                {"gp_registered": "Y", "gp_practice_code": None, "gp_practice_name": None}])
def test_gp_letter_refused_without_a_gp_practice(tmp_path, gp):
    c = build_case(tmp_path, **gp)
    try:
        err = refused(c.store, "gp-outcome", c.referral_id)
        assert err.fields == ["gp_practice"] and "has no GP practice recorded" in str(err)
        out = tmp_path / "gp.pdf"
        with pytest.raises(ValidationError):
            print_letter(c.store, "gp-outcome", c.referral_id, out, today=TODAY)
        assert not out.exists() and c.store.documents.for_client(c.client_id) == []
    finally:
        c.store.close()


def test_appointment_letter_needs_a_session_after_today(case):
    # Booked sessions on 23 June and 7 July 2025: printed on 23 June, only 7 July is news.
    data = case.store.documents.letter_data("appointment", case.referral_id, today=date(2025, 6, 23))
    assert data.session.session_date == "2025-07-07"
    err = refused(case.store, "appointment", case.referral_id, today=date(2025, 7, 7))   # the day itself
    assert err.fields == ["session"] and "no session booked after today (2025-07-07)" in str(err)


def test_the_screens_are_told_who_may_not_print_before_the_rules(case):
    case.as_user("trainer1")
    assert "trainer1 may not print letters" in case.store.documents.letter_refusal("no-contact", case.referral_id)
    assert case.store.documents.letter_refusal("gp-outcome", case.referral_id, today=TODAY) is None


def test_the_appointment_letter_gives_the_session_chosen_in_the_diary(case):
    sessions = {s.session_date: s.id for s in case.store.diary.next_booked(case.client_id, today=TODAY)}
    later = sessions["2025-07-07"]
    data = case.store.documents.letter_data("appointment", case.referral_id, today=TODAY, session_id=later)
    assert (data.session.id, data.session.session_date) == (later, "2025-07-07")
    assert case.store.documents.letter_data("appointment", case.referral_id,
                                            today=TODAY).session.session_date == "2025-06-23"
    err = refused_with(case.store, "appointment", case.referral_id, today=date(2025, 6, 30),
                       session_id=sessions["2025-06-23"])      # chosen, but already past on the 30th
    assert err.fields == ["session"]
    assert str(err) == ("That session is not a booking of " + case.store.referrals.get(case.referral_id).referral_ref
                        + " still to come after 2025-06-30: an appointment letter is only for a future session.")


def refused_with(store, kind, referral_id, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        store.documents.letter_data(kind, referral_id, **kw)
    return exc.value
