"""The personal health plan PDF: read back as text with pypdf, as a user's PDF reader would see it."""
from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader

from db.errors import NotFound, PermissionDenied
from db.store import CaseStore
from reports.plan_pdf import build_plan_pdf, template_version
from reports.printing import print_plan

from print_case import NAME, PASSWORD, SWEMWBS_LINE, TODAY, build_case, font_sizes, goal, pdf_pages, pdf_text

FULL_NAME = f"{NAME[0]} {NAME[1]}"


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces made single spaces (a wrapped line reads as one)."""
    return " ".join(text.split())


def plan_bytes(case, large_print=False, user="trainer1") -> bytes:
    case.as_user(user)
    return build_plan_pdf(case.store.documents.plan_data(case.client_id, today=TODAY), large_print=large_print)


def test_the_plan_prints_everything_the_client_needs(case):
    text = flat(pdf_text(plan_bytes(case)))
    for words in [
        "Tyneside Health Trainers", "0191 496 0123", "healthtrainers@example.org", "My health plan",
        FULL_NAME, "Aisha Rahman", "07700 900123",
        "Date we agreed this plan 10 March 2025", "Next review 7 July 2025",
        "What matters to me", "keep up with my grandchildren",
        "Goal 1: Healthy eating", "Goal 2: Physical activity",
        "I want to walk my granddaughter to school three mornings a week",
        "When: Monday, Wednesday and Friday mornings", "If it is raining, then I will wear my good coat",
        "Who can help me My daughter Mai", "7 out of 10", "9 out of 10",
        "How I am doing", "92.4 kg", "88.1 kg", "4.3 kg less", "17 ", "22 ",
        "My weight over time", "My wellbeing score over time",
        "My next sessions", "Monday 23 June 2025", "2pm", "Riverside Community Centre",
        "Monday 7 July 2025", "midday", "By telephone: we will call you", "Need to change or cancel a session?",
        "Useful contacts near me", "Elswick Pantry", "Open Tuesdays 10am to 1pm", "Citizens Advice Newcastle",
        "0808 278 7842", "Our signatures",
    ]:
        assert words in text, words


def test_the_name_prints_exactly_with_an_embedded_font(case):
    pdf = plan_bytes(case)
    assert FULL_NAME in pdf_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            seen.add(str(font["/BaseFont"]))
            # Every font is a TrueType subset carried in the file: nothing left to the viewer's fonts.
            assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]
    assert all("DejaVuSans" in name for name in seen), seen


def test_measures_show_the_bmi_thresholds_used_and_the_swemwbs_copyright_line(case):
    text = flat(pdf_text(plan_bytes(case)))
    # Ethnicity K (Bangladeshi) takes NICE's lower thresholds; the plan says so.
    assert "My BMI is compared with the lower limits NICE advises" in text
    assert "35.2 (well above the healthy range)" in text
    assert SWEMWBS_LINE in text


def test_standard_bmi_thresholds_are_named_too(tmp_path):
    c = build_case(tmp_path, ethnicity="A")
    try:
        text = flat(pdf_text(plan_bytes(c)))
        assert "My BMI is compared with the standard NICE limits" in text
        assert "35.2 (well above the healthy range)" in text
    finally:
        c.store.close()


def test_every_page_is_numbered_and_marked_confidential(tmp_path):
    c = build_case(tmp_path, goals=[goal(n) for n in range(1, 11)])
    try:
        pdf = plan_bytes(c)
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        assert len(pages) > 3
        for n, page in enumerate(pages, 1):
            assert f"Page {n} of {len(pages)}" in page
            assert "Private and confidential" in page
    finally:
        c.store.close()


def test_ten_goals_flow_over_pages_in_order(tmp_path):
    c = build_case(tmp_path, goals=[goal(n) for n in range(1, 11)])
    try:
        text = flat(pdf_text(plan_bytes(c)))
        positions = [text.index(f"Goal number {n}:") for n in range(1, 11)]
        assert positions == sorted(positions)
        assert text.count("I want to walk my granddaughter") == 10
        assert "Goal 10: Alcohol" in text and "I have ten goals" in text
        # Nothing after the goals was lost.
        assert "How I am doing" in text and "Our signatures" in text
    finally:
        c.store.close()


def test_a_plan_with_no_goals_yet_prints_a_friendly_page(tmp_path):
    c = build_case(tmp_path, goals=[], assessments=False, booked=False)
    try:
        text = flat(pdf_text(plan_bytes(c)))
        assert "We have not set any goals yet" in text
        assert "at your next session we will choose one or two small changes" in text.lower()
        assert "Goal 1" not in text
        assert "We have not recorded any measures yet" in text
        assert "No sessions are booked yet" in text
        assert "My weight over time" not in text
    finally:
        c.store.close()


def test_charts_need_at_least_two_results(tmp_path):
    c = build_case(tmp_path, assessments=False)
    try:
        c.as_user("trainer1")
        c.store.assessments.add(c.referral_id, "2025-03-10", "BASELINE", "BODY", {"weight_kg": 80, "height_cm": 170},
                               today=TODAY)
        text = flat(pdf_text(plan_bytes(c)))
        assert "80.0 kg" in text and "Not measured again yet" in text
        assert "My weight over time" not in text and "My wellbeing score over time" not in text
        # No SWEMWBS score on the page, so no SWEMWBS line either.
        assert "SWEMWBS ©" not in text
    finally:
        c.store.close()


def test_large_print_sets_every_piece_of_text_at_16_point_or_more(case):
    normal, large = plan_bytes(case), plan_bytes(case, large_print=True)
    sizes = font_sizes(large)
    assert sizes and min(size for size, _ in sizes) >= 16, sorted(sizes)[:5]
    assert min(size for size, _ in font_sizes(normal)) < 16      # the check can fail
    assert pdf_pages(large) > pdf_pages(normal)
    # Same content, laid out larger.
    normal_text, large_text = flat(pdf_text(normal)), flat(pdf_text(large))
    for words in (FULL_NAME, "keep up with my grandchildren", "4.3 kg less", SWEMWBS_LINE, "Elswick Pantry",
                  "Monday 23 June 2025", "Our signatures", "My wellbeing score over time"):
        assert words in normal_text and words in large_text, words


def test_a_demo_database_prints_demo_on_every_page(tmp_path):
    c = build_case(tmp_path, demo=True, goals=[goal(n) for n in range(1, 5)])
    try:
        pdf = plan_bytes(c)
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        assert len(pages) > 1 and all("DEMO" in page for page in pages)
    finally:
        c.store.close()


def test_a_real_database_prints_no_demo_mark(case):
    assert "DEMO" not in pdf_text(plan_bytes(case))


def test_a_logo_prints_and_a_broken_one_never_stops_the_print(tmp_path):
    image = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    image.new("RGB", (240, 80), (0, 94, 184)).save(buf, format="PNG")
    c = build_case(tmp_path, logo=buf.getvalue())
    try:
        pdf = plan_bytes(c)
        first = PdfReader(io.BytesIO(pdf)).pages[0]
        assert any(str(x.get_object()["/Subtype"]) == "/Image" for x in first["/Resources"]["/XObject"].values())
        with c.store.db.atomic():
            c.store.db.conn.execute("UPDATE services SET logo = ?", (b"not a picture",))
        assert FULL_NAME in pdf_text(plan_bytes(c))
    finally:
        c.store.close()


def test_build_writes_to_a_path_or_a_file_and_returns_the_same_bytes(case, tmp_path):
    case.as_user("trainer1")
    data = case.store.documents.plan_data(case.client_id, today=TODAY)
    out = tmp_path / "plan.pdf"
    pdf = build_plan_pdf(data, out)
    assert out.read_bytes() == pdf and pdf.startswith(b"%PDF")
    buf = io.BytesIO()
    assert build_plan_pdf(data, buf) and buf.getvalue().startswith(b"%PDF")


# --- kept as printed -------------------------------------------------------------------------------

def test_a_printed_plan_is_kept_exactly_as_printed_and_audited(case, tmp_path):
    store = case.as_user("trainer1")
    out = tmp_path / "my plan.pdf"
    kept, pdf = print_plan(store, case.client_id, out, large_print=True, today=TODAY)
    written = out.read_bytes()
    assert written == pdf
    assert kept.sha256 == hashlib.sha256(written).hexdigest()
    assert (kept.kind, kept.file_name, kept.template_version, kept.created_by) == (
        "plan", "my plan.pdf", template_version(True), "trainer1")
    assert kept.referral_id == case.referral_id and kept.size == len(written) and kept.content is None
    assert [d.id for d in store.documents.for_client(case.client_id)] == [kept.id]

    # Reopened later, through another connection, by someone else: unchanged.
    with CaseStore.open(case.path) as other:
        other.sign_in("coord", PASSWORD)
        again = other.documents.get(kept.id)
        assert again.content == written and again.sha256 == kept.sha256
    store.sign_in("admin", PASSWORD)
    prints = [e for e in store.admin.audit_events("document", kept.id) if e["action"] == "print"]
    assert len(prints) == 1 and prints[0]["username"] == "trainer1"
    assert case.client_ref in prints[0]["detail"] and kept.sha256 in prints[0]["after"]
    views = [e for e in store.admin.audit_events("document", kept.id) if e["action"] == "view"]
    assert [e["username"] for e in views] == ["coord"]


def test_a_kept_document_that_no_longer_matches_its_fingerprint_is_not_handed_over(case, tmp_path):
    store = case.as_user("trainer1")
    kept, _ = print_plan(store, case.client_id, tmp_path / "p.pdf", today=TODAY)
    with store.db.atomic():
        store.db.conn.execute("UPDATE documents SET content = ? WHERE id = ?", (b"%PDF-tampered", kept.id))
    with pytest.raises(Exception, match="fingerprint"):
        store.documents.get(kept.id)


def test_who_may_print_a_plan(case, tmp_path):
    case.as_user("champ")       # a champion sees only clients allocated to them
    with pytest.raises(PermissionDenied):
        case.store.documents.plan_data(case.client_id, today=TODAY)
    case.as_user("admin")       # admin and manager: managers print plans
    assert case.store.documents.plan_data(case.client_id, today=TODAY).client.id == case.client_id
    out = tmp_path / "refused.pdf"
    case.as_user("champ")
    with pytest.raises(PermissionDenied):
        print_plan(case.store, case.client_id, out, today=TODAY)
    assert not out.exists()


def test_a_client_without_a_plan_gets_a_clear_message(tmp_path):
    c = build_case(tmp_path, goals=None)
    try:
        c.as_user("trainer1")
        with pytest.raises(NotFound, match="no personal health plan yet"):
            c.store.documents.plan_data(c.client_id, today=TODAY)
    finally:
        c.store.close()


# --- plans that tell the truth (issue 12) ---------------------------------------------------------------

def test_measures_are_plain_words_that_say_whether_a_change_is_real(case):
    text = flat(pdf_text(plan_bytes(case)))
    # SWEMWBS metric 17.43 -> 22.35 prints as whole numbers; 4.92 points is over the threshold of 3.
    assert "17 22" in text and "up by 5: a real improvement, 3 points or more" in text
    assert "17.43" not in text and "22.35" not in text and "4.92" not in text
    # 92.4 -> 88.1 kg is 4.65% of the starting weight: a start, not yet the 5% that counts.
    assert "4.3 kg less: a start; a real change is 5% of my starting weight, 4.6 kg" in text
    # Fruit and vegetables have no threshold in INSTRUMENTS.md: better or worse only.
    assert "up by 3, better" in text
    for clinical in ("obesity", "Obesity", "down by 2.48"):
        assert clinical not in text, clinical


def test_a_small_wellbeing_change_is_not_called_real():
    from reports.wording import _change
    assert _change("swemwbs_metric", 20.73, 23.21) == ("up by 2: too small a change to be sure it is real; "
                                                        "that takes 3 points")
    # 18.59 -> 21.54 shows as 19 and 22 but is 2.95: the words do not contradict the numbers.
    assert _change("swemwbs_metric", 18.59, 21.54) == ("higher: too small a change to be sure it is real; "
                                                        "that takes 3 points")
    assert _change("swemwbs_metric", 23.21, 20.0).startswith("down by 3: a real drop")
    assert _change("weight_kg", 100.0, 95.0) == "5.0 kg less: a real change, 5% of my starting weight or more"
    # For someone who started in the healthy range, losing weight is not praised as a change that counts.
    assert _change("weight_kg", 60.0, 55.0, {"bmi": "healthy_weight"}) == "5.0 kg less"
    assert _change("bmi", 21.0, 20.2, {"bmi": "healthy_weight"}) == "down by 0.8"
    assert _change("bmi", 31.0, 30.2, {"bmi": "obesity_1"}) == "down by 0.8, better"
    assert _change("ons4_anxious", 7, 4) == "down by 3, better"


def test_a_past_review_date_is_never_printed_as_a_promise(case):
    later = date(2025, 8, 1)        # after the goals' review date (7 July 2025) and every booked session
    case.as_user("trainer1")
    text = flat(pdf_text(build_plan_pdf(case.store.documents.plan_data(case.client_id, today=later))))
    assert "7 July 2025" not in text.split("My goals")[1].split("How I am doing")[0]
    assert "We will look at this again on" not in text
    assert "We will look at this again at my next session." in text
    assert "Next review At my next session" in text


def test_a_closed_clients_plan_says_support_ended_and_what_they_achieved(tmp_path):
    c = build_case(tmp_path, booked=False, goals=[goal(1, status="FULL", status_date="2025-05-06"),
                                                  goal(2, status="PARTLY", status_date="2025-05-06"),
                                                  goal(3)])
    try:
        c.as_user("coord")
        c.store.referrals.close(c.referral_id, "2025-05-20", "COMPLETED", today=TODAY)
        c.as_user("trainer1")
        text = flat(pdf_text(build_plan_pdf(c.store.documents.plan_data(c.client_id, today=TODAY))))
        assert "My support ended 20 May 2025" in text
        assert "My support from Tyneside Health Trainers ended on 20 May 2025" in text
        assert "I set three goals and fully achieved one and partly achieved one." in text
        assert "Achieved: “Goal number 1:" in text and "Partly achieved: “Goal number 2:" in text
        assert "My wellbeing score" in text and "a real improvement" in text
        assert "If I would like support again, I can contact the service on 0191 496 0123" in text
        for promise in ("Next review", "At my next session", "We will contact you to arrange the next one",
                        "We will look at this again", "Need to change or cancel a session?"):
            assert promise not in text, promise
        assert "Carrying on by myself" in text
    finally:
        c.store.close()


def test_the_summary_of_goals_reads_as_a_sentence():
    from reports.plan_pdf import _goals_sentence
    assert _goals_sentence(2, 0, 1) == "I set two goals and partly achieved one."
    assert _goals_sentence(1, 1, 0) == "I set one goal and achieved it."
    assert _goals_sentence(3, 3, 0) == "I set three goals and achieved all of them."
    assert _goals_sentence(2, 0, 0) == ("I set two goals. I did not achieve them this time, and I can keep working "
                                        "on them.")
