"""htdesk plan and htdesk letter, run as a user runs them (CLI.md)."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from db.store import CaseStore
from desktop.cli import main
from db.connection import copy_database

PASSWORD = "correct horse battery staple"
NAME = "Nguyễn Thị Siobhán O'Neill-Zoë"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A small service built once: one client with a plan and a booked session, one without consent."""
    path = tmp_path_factory.mktemp("cli") / "svc.sqlite3"
    today = date.today()
    with CaseStore.create_new(path, service_name="Tyneside Health Trainers", service_code="TYNEHT",
                              contact={"phone": "0191 496 0123"},
                              admin_username="admin", admin_password=PASSWORD) as store:
        store.sign_in("admin", PASSWORD)
        trainer = store.service.add_staff("Aisha Rahman", "TRAINER", username="trainer1", password=PASSWORD)
        store.service.add_staff("Colin Baxter", "COORD", username="coord", password=PASSWORD)
        store.sign_in("coord", PASSWORD)
        refs = {}
        # consents: seen a month ago, a session booked next week, a plan; declines: no consent to share;
        # unreached: three tries and no contact, a session booked for today only, not registered with a GP;
        # unseen: consent and a GP practice, but never seen.
        for key, consent, start in (("consents", "Y", "10:00"), ("declines", "N", "11:30"),
                                    ("unreached", "Y", "09:00"), ("unseen", "Y", "15:00")):
            gp = {"gp_registered": "N"} if key == "unreached" else \
                {"gp_registered": "Y", "gp_practice_code": "A12345", "gp_practice_name": "Elswick Family Practice"}
            client = store.clients.add({"first_name": "Nguyễn Thị Siobhán", "last_name": "O'Neill-Zoë",
                                       "date_of_birth": "1968-04-02", "gender": "2", "ethnicity": "A",
                                       "consent_share_gp": consent, **gp}).ids[0]
            referral = store.referrals.add(client, {"received_date": (today - timedelta(days=60)).isoformat(),
                                                   "source": "SELF", "reasons": ["ACTIVITY"]}).ids[0]
            if key == "unreached":
                for days in (50, 45, 40):
                    store.referrals.add_contact_attempt(referral, (today - timedelta(days=days)).isoformat(),
                                                        "PHONE", "NOANSWER")
            store.referrals.allocate(referral, trainer)
            if key in ("consents", "declines"):
                store.diary.add(referral, {"session_date": (today - timedelta(days=30)).isoformat(),
                                           "start_time": start, "mode": "PHONE", "attendance": "5",
                                           "staff_id": trainer})
            store.diary.add(referral, {"session_date": (today + timedelta(days=0 if key == "unreached" else 7)
                                                        ).isoformat(),
                                         "start_time": start, "mode": "PHONE", "attendance": "0",
                                         "staff_id": trainer})
            if key == "consents":
                store.plans.add(referral, {"agreed_date": (today - timedelta(days=30)).isoformat()},
                               goals=[{"area": "ACTIVITY", "goal_text": "Walk to the shops twice a week"}])
            refs[key] = (store.clients.get(client).client_ref, store.referrals.get(referral).referral_ref)
    return path, refs


@pytest.fixture
def svc(template, tmp_path, monkeypatch):
    monkeypatch.setenv("HTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HTDESK_PASSWORD", PASSWORD)
    path = tmp_path / "svc.sqlite3"
    copy_database(template[0], path)
    return path, template[1]


def min_font_size(path) -> float:
    sizes = []
    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: sizes.append(size * abs(tm[0]) * abs(cm[0]))
                          if text.strip() else None)
    return min(sizes)


def kept_documents(path):
    with CaseStore.open(path) as store:
        store.sign_in("coord", PASSWORD)
        ref = store.clients.search("Siobhán")
        return [d for c in ref for d in store.documents.for_client(c.id)]


def test_plan_writes_the_pdf_and_keeps_it(svc, tmp_path, capsys):
    db, refs = svc
    out = tmp_path / "plan.pdf"
    code = main(["plan", refs["consents"][0], "--out", str(out), "--db", str(db), "--user", "trainer1"])
    shown = capsys.readouterr()
    assert code == 0, shown.err
    assert f"Wrote {out}" in shown.out and "Kept with the record of" in shown.out
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert NAME in text and "Walk to the shops twice a week" in text
    docs = kept_documents(db)
    assert len(docs) == 1 and docs[0].sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert docs[0].template_version == "plan-v1"


def test_plan_in_large_print(svc, tmp_path, capsys):
    db, refs = svc
    normal, large = tmp_path / "n.pdf", tmp_path / "l.pdf"
    assert main(["plan", refs["consents"][0], "--out", str(normal), "--db", str(db), "--user", "trainer1"]) == 0
    assert main(["plan", refs["consents"][0], "--out", str(large), "--large-print", "--db", str(db),
                 "--user", "trainer1"]) == 0
    assert min_font_size(large) >= 16 > min_font_size(normal)
    assert {d.template_version for d in kept_documents(db)} == {"plan-v1", "plan-v1-large-print"}


def test_plan_for_a_client_without_a_plan_says_so(svc, tmp_path, capsys):
    db, refs = svc
    out = tmp_path / "none.pdf"
    assert main(["plan", refs["declines"][0], "--out", str(out), "--db", str(db), "--user", "trainer1"]) == 2
    assert "no personal health plan yet" in capsys.readouterr().err and not out.exists()


def test_letters_by_a_coordinator(svc, tmp_path, capsys):
    db, refs = svc
    for kind, who in (("appointment", "consents"), ("no-contact", "unreached"), ("gp-outcome", "consents")):
        out = tmp_path / f"{kind}.pdf"
        code = main(["letter", kind, refs[who][1], "--out", str(out), "--db", str(db), "--user", "coord"])
        assert code == 0, capsys.readouterr().err
        assert NAME in PdfReader(out).pages[0].extract_text()
    text = PdfReader(tmp_path / "appointment.pdf").pages[0].extract_text()
    assert "By telephone: we will call you" in text and "10am" in text
    assert sorted(d.kind for d in kept_documents(db)) == ["letter-appointment", "letter-gp-outcome",
                                                          "letter-no-contact"]


def test_an_unknown_letter_kind_exits_2_with_the_choices(svc, tmp_path, capsys, monkeypatch):
    db, refs = svc
    monkeypatch.delenv("HTDESK_PASSWORD")     # refused before any password is asked for
    code = main(["letter", "reminder", refs["consents"][1], "--out", str(tmp_path / "x.pdf"), "--db", str(db),
                 "--user", "coord"])
    err = capsys.readouterr().err
    assert code == 2 and "There is no 'reminder' letter" in err and "appointment, no-contact, gp-outcome" in err


def test_the_gp_letter_without_consent_exits_2_and_writes_nothing(svc, tmp_path, capsys):
    db, refs = svc
    out = tmp_path / "gp.pdf"
    code = main(["letter", "gp-outcome", refs["declines"][1], "--out", str(out), "--db", str(db), "--user", "coord"])
    err = capsys.readouterr().err
    assert code == 2 and "has not agreed to share information with their GP" in err
    assert not out.exists() and kept_documents(db) == []


def test_a_trainer_may_not_send_waiting_list_letters(svc, tmp_path, capsys):
    db, refs = svc
    out = tmp_path / "a.pdf"
    code = main(["letter", "appointment", refs["consents"][1], "--out", str(out), "--db", str(db),
                 "--user", "trainer1"])
    assert code == 3 and "trainer1 may not" in capsys.readouterr().err and not out.exists()


def test_a_missing_folder_is_a_clear_bad_path(svc, tmp_path, capsys):
    db, refs = svc
    out = tmp_path / "no such folder" / "plan.pdf"
    code = main(["plan", refs["consents"][0], "--out", str(out), "--db", str(db), "--user", "trainer1"])
    assert code == 2 and "does not exist" in capsys.readouterr().err
    assert kept_documents(db) == []


@pytest.mark.parametrize("kind, who, words", [
    ("no-contact", "consents", "has already had a successful contact with the client"),
    ("no-contact", "unseen", "has no unsuccessful contact attempts recorded"),
    ("gp-outcome", "unreached", "has no GP practice recorded"),
    ("gp-outcome", "unseen", "has no attended session yet"),
    ("gp-outcome", "declines", "has not agreed to share information with their GP"),
    ("appointment", "unreached", "has no session booked after today"),
])
def test_a_letter_that_would_not_be_true_exits_2_with_one_sentence(svc, tmp_path, capsys, kind, who, words):
    db, refs = svc
    out = tmp_path / "letter.pdf"
    code = main(["letter", kind, refs[who][1], "--out", str(out), "--db", str(db), "--user", "coord"])
    err = capsys.readouterr().err
    assert code == 2 and words in err, err
    sentence = err.strip().splitlines()[-1]
    assert sentence.count(". ") == 0 and sentence.endswith("."), sentence
    assert not out.exists() and kept_documents(db) == []


def test_no_contact_letter_for_a_closed_referral_exits_2(svc, tmp_path, capsys):
    db, refs = svc
    with CaseStore.open(db) as store:
        store.sign_in("coord", PASSWORD)
        store.referrals.close(store.referrals.id_for_ref(refs["unreached"][1]), date.today().isoformat(), "UNABLE")
    out = tmp_path / "nc.pdf"
    code = main(["letter", "no-contact", refs["unreached"][1], "--out", str(out), "--db", str(db), "--user", "coord"])
    assert code == 2 and "is closed" in capsys.readouterr().err and not out.exists()
