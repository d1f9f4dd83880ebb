"""Issue 24, point 3: an independent national review that someone actually does. A case sent for review is a
referral to the review team (with the helpline's reason, its clocks and its thread), worked by a national
reviewer in the referral workspace to findings and an outcome, and referred on to Ofsted (recorded with how
it was sent and the reference given, never emailed); the reporter's page says what happens and by when."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from accounts import policy
from accounts.models import User
from directory.models import NationalBody
from notify import services as notify_services
from referrals import services
from referrals.models import AuthorityAction, Referral
from tests.factories import (
    ROTHERHAM,
    authority,
    national_body,
    referral_make,
    reporter_opened,
    reviewed_case,
    routed_case,
    signed_in,
    staff_user,
    staff_with_mfa,
    submit_report,
)
from triage import case_actions
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=LONDON)
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
CANARY = "CANARY-Rv24"
REASON = "REASON-Kq8: the council's own social workers are said to have hidden the reports."
TEAM_INBOX = "review-team@review.example"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_a_case_sent_for_review_is_worked_by_a_reviewer_to_an_outcome_and_referred_on_to_ofsted() -> None:
    NationalBody.objects.filter(code="review-team").update(contact_email=TEAM_INBOX)
    supervisor = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR, email="sup@helpline.example")[0]
    reviewer = staff_with_mfa("reviewer", role=User.Role.NATIONAL_REVIEWER, email="reviewer@review.example")[0]
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=LONDON), tick=False):
        submitted = submit_report(local_authority=authority(ROTHERHAM), details=f"{CANARY} details")
        case = report_route(report_id=submitted.report.pk)

    with time_machine.travel(SATURDAY, tick=False):
        helpline = signed_in(supervisor)
        # No reason: refused on the page, with the field's error.
        refused = helpline.post(f"/staff/cases/{case.case_number}/escalate", {"escalate-route": "national_review"})
        assert refused.status_code == 302
        page = helpline.get(refused["Location"])
        assert page.status_code == 400
        assert "Write why the case needs independent review" in text(page)
        assert not Referral.objects.filter(case=case).exists()

        sent = helpline.post(
            f"/staff/cases/{case.case_number}/escalate",
            {"escalate-route": "national_review", "escalate-reason": REASON},
            follow=True,
        )
        assert sent.status_code == 200
        assert "Case sent for independent national review" in text(sent)
        assert "within 1 working day" in text(sent) and "within 45 working days" in text(sent)

    case.refresh_from_db()
    assert case.status == Case.Status.NATIONAL_REVIEW and case.independent_review
    review = Referral.objects.get(case=case)
    assert review.body == national_body("review-team") and review.authority is None
    assert review.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT
    assert review.ack_due_at.astimezone(LONDON).date().isoformat() == "2026-12-07"
    assert review.outcome_due_at.astimezone(LONDON).date().isoformat() == "2027-02-10"
    assert REASON.encode() not in bytes(review.summary)  # sealed
    # The team's inbox and its reviewer hear that a case waits, with nothing of it in the email.
    told = {n.recipient: notify_services.email_render(n) for n in case_emails(case).filter(template="review_referral")}
    assert set(told) == {TEAM_INBOX, "reviewer@review.example"}
    for message in told.values():
        assert case.case_number in message.body
        assert "REASON-Kq8" not in message.body and CANARY not in message.body
        assert submitted.report.reference not in message.body

    # The reporter's page says what happens and by when.
    with time_machine.travel(SATURDAY, tick=False):
        shown = text(reporter_opened(submitted).get("/check/concern"))
    assert "Under independent national review" in shown
    assert "does not work for the council it is about" in shown
    assert (
        "The helpline sent your concern to the independent review team on Saturday 5 December 2026. The team "
        "must acknowledge it within 1 working day, and record its findings by Wednesday 10 February 2027." in shown
    )

    # The reviewer's workspace: the case in their list, the reason and the council it is about; never the
    # reporter's words or reference.
    with time_machine.travel(MONDAY, tick=False):
        workspace = signed_in(reviewer)
        home = workspace.get("/staff/", follow=True)
        assert home.redirect_chain[-1][0] == "/staff/referrals"
        assert "Cases sent for independent review" in text(home) and case.case_number in text(home)
        url = f"/staff/referrals/{case.case_number}/{review.pk}"
        opened = text(workspace.get(url))
        assert REASON in opened and "Rotherham" in opened
        assert CANARY not in opened and submitted.report.reference not in opened
        assert "Record the findings and outcome" in opened and "Refer on to Ofsted" in opened
        assert "Record the outcome" not in opened and "Record what was done" not in opened

        # Refer on before acknowledging: refused.
        early = workspace.post(
            f"{url}/refer_on", {"refer_on-body": "ofsted", "refer_on-how_sent": "secure_channel"}, follow=True
        )
        assert "Acknowledge the referral first." in text(early)

        assert workspace.post(f"{url}/acknowledge").status_code == 302
        asked = workspace.post(f"{url}/ask_helpline", {"ask_helpline-note": "Was the LADO told?"})
        assert asked.status_code == 302
        question = AuthorityAction.objects.get(referral=review, kind=AuthorityAction.Kind.QUESTION)
        services.case_reply_to_authority(
            case=case, question_id=question.pk, body="Yes, in March.", acting_user=supervisor
        )
        assert "Yes, in March." in text(workspace.get(url))

        no_findings = workspace.post(f"{url}/record_findings", {"record_findings-outcome": "review_upheld"})
        assert workspace.get(no_findings["Location"]).status_code == 400
        findings = workspace.post(
            f"{url}/record_findings",
            {"record_findings-outcome": "review_upheld", "record_findings-note": "The reports were hidden."},
            follow=True,
        )
        assert "Findings recorded" in text(findings)
        referred_on = workspace.post(
            f"{url}/refer_on",
            {"refer_on-body": "ofsted", "refer_on-how_sent": "secure_channel", "refer_on-reference": "OFS-2026-118"},
            follow=True,
        )
        assert "Referral to Ofsted recorded" in text(referred_on)
        assert "Ofsted, through the body's own secure channel" in text(referred_on)
        assert "reference OFS-2026-118" in text(referred_on)

    review.refresh_from_db()
    assert review.status == Referral.Status.OUTCOME_RECORDED and review.outcome == "review_upheld"
    to_ofsted = Referral.objects.get(case=case, body=national_body("ofsted"))
    assert to_ofsted.referred_from == review
    assert to_ofsted.status == Referral.Status.SENT and to_ofsted.how_sent == "secure_channel"
    assert b"OFS-2026-118" not in bytes(to_ofsted.sent_reference)
    kinds = list(case_events(case).values_list("kind", flat=True))
    for kind in (
        "escalate_national_review",
        "review_referral_made",
        "authority_acknowledged",
        "authority_question",
        "authority_outcome",
        "authority_referred_on",
    ):
        assert kind in kinds, kind
    # The helpline hears of the findings and of the referral on, by email with no content; Ofsted gets none.
    rendered = [notify_services.email_render(n) for n in case_emails(case).filter(recipient="sup@helpline.example")]
    subjects = [message.subject for message in rendered]
    assert f"The independent review recorded its findings for case {case.case_number}" in subjects
    assert f"The independent review referred case {case.case_number} on" in subjects
    assert all("The reports were hidden" not in message.body for message in rendered)
    assert not case_emails(case).filter(recipient__icontains="ofsted").exists()

    # The reporter's page says where the review passed their concern; the helpline's case page shows it all.
    with time_machine.travel(MONDAY, tick=False):
        shown = text(reporter_opened(submitted).get("/check/concern"))
        case_page = text(signed_in(supervisor).get(f"/staff/cases/{case.case_number}"))
    assert "The independent review team has passed your concern to Ofsted." in shown
    assert "OFS-2026-118" not in shown
    assert "Referred on by the independent review" in case_page and "OFS-2026-118" in case_page
    assert "Concern upheld" in case_page


def test_the_reporter_reads_when_the_review_was_acknowledged_and_its_findings_recorded_and_who_has_it() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    with time_machine.travel(SATURDAY, tick=False):
        submitted = submit_report(local_authority=authority(ROTHERHAM))
        case = report_route(report_id=submitted.report.pk)
        review = services.case_send_for_review(case=case, reason=REASON, acting_user=supervisor)
    with time_machine.travel(MONDAY, tick=False):
        services.referral_acknowledge(referral=review, acting_user=reviewer)
        acknowledged = text(reporter_opened(submitted).get("/check/concern"))
    assert (
        "The independent review team acknowledged your concern on Monday 7 December 2026. It must record its "
        "findings by Wednesday 10 February 2027. The helpline then tells you what it can here." in acknowledged
    )
    assert "must acknowledge" not in acknowledged

    with time_machine.travel(datetime(2027, 1, 12, 11, 0, tzinfo=LONDON), tick=False):
        services.referral_record_outcome(
            referral=review,
            outcome="review_upheld",
            note="FINDINGS-Wp7: the reports were hidden.",
            acting_user=reviewer,
        )
        services.referral_refer_on(
            referral=review, body=national_body("ofsted"), how_sent="telephone", acting_user=reviewer
        )
        found = text(reporter_opened(submitted).get("/check/concern"))
    assert (
        "The independent review team recorded its findings on Tuesday 12 January 2027. The helpline will tell "
        "you what happens next." in found
    )
    assert "records its findings" not in found and "record its findings by" not in found
    assert "FINDINGS-Wp7" not in found

    case_actions.case_close(case=case, outcome="substantiated", feedback="Thank you.", acting_user=supervisor)
    closed = text(reporter_opened(submitted).get("/check/concern"))
    assert "Who else has your concern" in closed
    assert "The independent review team has passed your concern to Ofsted." in closed


def plain(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


# What the helpline's case page said of the review team before it named it.
AUTHORITY_WORDS = (
    "the authority's referral page",
    "The authority has been emailed",
    "The authority is waiting",
    "Reply to the authority",
    "Your reply to the authority",
    "Ask the reporter for the authority",
    "Authority acknowledgement",
    "Authority outcome",
    "Answer to the authority's question",
    "The authority acknowledged",
    "The authority asked",
    "Replied to the authority",
)


def test_the_helpline_case_page_names_the_review_team_where_it_said_the_authority() -> None:
    supervisor = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)[0]
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    case, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer)
    services.referral_ask_helpline(referral=review, question="Was the LADO told?", acting_user=reviewer)
    helpline = signed_in(supervisor)
    page = plain(helpline.get(f"/staff/cases/{case.case_number}"))
    for said in (
        "The independent review team is waiting for an answer to 1 question.",
        "Reply to the independent review team",
        "Your reply to the independent review team",
        "The independent review team reads this.",
        "Ask the reporter for the independent review team",
        "what the independent review team needs to know",
        "Review team acknowledgement Done",
        "Findings by",
        "Answer to the review team's question 1",
        "Referral to the independent national review team",
        "The independent review team acknowledged the referral",
        "The independent review team asked a question",
    ):
        assert said in page, said
    for said in AUTHORITY_WORDS:
        assert said not in page, said

    question = AuthorityAction.objects.get(referral=review, kind=AuthorityAction.Kind.QUESTION)
    replied = helpline.post(
        f"/staff/cases/{case.case_number}/reply_to_authority",
        {"reply_to_authority-question": str(question.pk), "reply_to_authority-body": "Yes, in March."},
        follow=True,
    )
    page = plain(replied)
    assert "Reply added to the independent review team's referral page." in page
    assert "Replied to the independent review team" in page
    for said in AUTHORITY_WORDS:
        assert said not in page, said

    # Referred on to Ofsted, the case has two referrals: the review's clocks and events name it once.
    services.referral_refer_on(
        referral=review, body=national_body("ofsted"), how_sent="telephone", acting_user=reviewer
    )
    page = plain(helpline.get(f"/staff/cases/{case.case_number}"))
    assert "The review team referred the case on" in page and "Review team acknowledgement" in page
    assert "(the independent review team)" not in page and "(Independent national review team)" not in page


def test_the_reviewers_page_is_headed_for_a_case_sent_for_review_leads_back_and_says_times_alike() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    reviewer = staff_with_mfa("reviewer", role=User.Role.NATIONAL_REVIEWER)[0]
    with time_machine.travel(SATURDAY, tick=False):
        case, review = reviewed_case(supervisor)
    url = f"/staff/referrals/{case.case_number}/{review.pk}"
    with time_machine.travel(MONDAY, tick=False):
        workspace = signed_in(reviewer)
        assert workspace.post(f"{url}/acknowledge").status_code == 302
        workspace.post(f"{url}/ask_helpline", {"ask_helpline-note": "Was the LADO told?"})
        page = text(workspace.get(url))
    assert f"<title>Case {case.case_number} sent for independent review – Independent national review" in page
    assert f'<span class="govuk-caption-l">Case {case.case_number}</span>' in page
    assert '<h1 class="govuk-heading-l">Case sent for independent review</h1>' in page
    assert (
        '<a href="/staff/referrals" class="govuk-back-link" data-testid="back-to-list">Back to cases sent for '
        "independent review</a>" in page
    )
    # Every time as GOV.UK writes one, as the deadlines are: never "5 December 2026 10:00".
    assert "10am on Saturday 5 December 2026" in page  # referred
    assert "acknowledged at 9am on Monday 7 December 2026" in page
    assert "Question 1 for the helpline</strong>, 9am on Monday 7 December 2026" in page
    assert not re.search(r"\b\d{1,2}:\d{2}\b", plain_text(page)), "a 24-hour clock time"

    with time_machine.travel(MONDAY, tick=False):
        referred_on = workspace.post(
            f"{url}/refer_on", {"refer_on-body": "ofsted", "refer_on-how_sent": "telephone"}, follow=True
        )
    assert "Referral to Ofsted recorded. The helpline has been told." in text(referred_on)


def test_an_officers_referral_page_leads_back_to_their_referrals() -> None:
    officer = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)[0]
    officer.authorities.add(authority(ROTHERHAM))
    referral = referral_make(routed_case(local_authority=authority(ROTHERHAM)))
    page = text(signed_in(officer).get(f"/staff/referrals/{referral.case.case_number}/{referral.pk}"))
    assert f'<h1 class="govuk-heading-l">Referral {referral.case.case_number}</h1>' in page
    assert ">Back to referrals</a>" in page


def plain_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_sending_for_review_withdraws_the_authorities_referrals_and_closing_withdraws_the_review() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    case = routed_case(local_authority=authority(ROTHERHAM))
    to_rotherham = services.case_refer(case=case, summary="Please look.", acting_user=supervisor)
    review = services.case_send_for_review(case=case, reason=REASON, acting_user=supervisor)
    to_rotherham.refresh_from_db()
    review.refresh_from_db()
    assert to_rotherham.status == Referral.Status.WITHDRAWN
    assert review.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT
    case_actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=supervisor)
    review.refresh_from_db()
    assert review.status == Referral.Status.WITHDRAWN
    with pytest.raises(ActionNotAllowed, match="no longer open"):
        services.referral_acknowledge(
            referral=review, acting_user=staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
        )


def test_a_review_needs_a_reason_and_the_review_team_in_the_directory() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    case = routed_case()
    with pytest.raises(ActionNotAllowed, match="Give the reason"):
        services.case_send_for_review(case=case, reason="  ", acting_user=supervisor)
    NationalBody.objects.filter(kind=NationalBody.Kind.REVIEW_TEAM).delete()
    with pytest.raises(ActionNotAllowed, match="no independent national review team"):
        services.case_send_for_review(case=case, reason=REASON, acting_user=supervisor)
    case.refresh_from_db()
    assert case.status == Case.Status.NEW and not case.independent_review


def test_with_nobody_to_email_at_the_review_team_a_follow_up_is_left_on_the_case() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    case, review = reviewed_case(supervisor)
    assert [e.detail for e in case_events(case).filter(kind="review_referral_made")] == [
        {"referral_id": review.pk, "body": "review-team", "emails": 0}
    ]
    assert case_events(case).filter(kind="referral_follow_up", detail__authority="review-team").exists()


def test_only_the_review_refers_on_to_ofsted_the_police_or_the_panel_once_each() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    _, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer)
    for code in ("review-team", "cqc"):
        with pytest.raises(ActionNotAllowed, match="Choose Ofsted, a police force"):
            services.referral_refer_on(
                referral=review, body=national_body(code), how_sent="telephone", acting_user=reviewer
            )
    with pytest.raises(ActionNotAllowed, match="Choose how"):
        services.referral_refer_on(
            referral=review, body=national_body("ofsted"), how_sent="email", acting_user=reviewer
        )
    police = services.referral_refer_on(
        referral=review,
        body=national_body("police-south-yorkshire"),
        how_sent="telephone",
        reference="14/123456/26",
        acting_user=reviewer,
    )
    services.referral_refer_on(
        referral=review, body=national_body("cspr-panel"), how_sent="telephone", acting_user=reviewer
    )
    with pytest.raises(ActionNotAllowed, match="already referred the case to South Yorkshire Police"):
        services.referral_refer_on(
            referral=review, body=national_body("police-south-yorkshire"), how_sent="telephone", acting_user=reviewer
        )
    assert police.recipient_kind == "police_force" and police.recipient_name == "South Yorkshire Police"
    # An authority's referral is never referred on, and takes no review outcome.
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    to_rotherham = referral_make(routed_case(local_authority=authority(ROTHERHAM)))
    services.referral_acknowledge(referral=to_rotherham, acting_user=officer)
    with pytest.raises(ActionNotAllowed, match="Only the independent national review"):
        services.referral_refer_on(
            referral=to_rotherham, body=national_body("ofsted"), how_sent="telephone", acting_user=officer
        )
    with pytest.raises(ActionNotAllowed, match="Choose an outcome"):
        services.referral_record_outcome(referral=to_rotherham, outcome="review_upheld", note="x", acting_user=officer)


def test_a_reviewer_sees_only_the_review_teams_referrals_and_an_officer_never_sees_them() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.add(authority(ROTHERHAM))
    reviewed, review = reviewed_case(supervisor, local_authority=authority(ROTHERHAM))
    to_rotherham = referral_make(routed_case(local_authority=authority(ROTHERHAM)))
    for_reviewer, for_officer = policy.referral_scope(reviewer), policy.referral_scope(officer)
    assert for_reviewer is not None and for_officer is not None
    assert set(Referral.objects.filter(for_reviewer)) == {review}
    assert set(Referral.objects.filter(for_officer)) == {to_rotherham}
    case_scope = policy.case_scope(reviewer)
    assert case_scope is not None
    assert set(Case.objects.filter(case_scope).distinct()) == {reviewed}
    client = signed_in(staff_with_mfa("reviewer2", role=User.Role.NATIONAL_REVIEWER)[0])
    assert client.get(f"/staff/referrals/{to_rotherham.case.case_number}/{to_rotherham.pk}").status_code == 404
    assert client.get(f"/staff/cases/{reviewed.case_number}").status_code == 403


def test_the_api_names_the_review_team_as_the_recipient() -> None:
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    _, review = reviewed_case(supervisor)
    client = signed_in(staff_with_mfa("reviewer", role=User.Role.NATIONAL_REVIEWER)[0])
    listed = client.get("/api/v1/referrals").json()
    assert [row["recipient"] for row in listed["results"]] == [
        {"kind": "review_team", "code": "review-team", "name": "Independent national review team"}
    ]
    detail = client.get(f"/api/v1/referrals/{review.pk}").json()
    assert detail["summary"] == "The concern is about the council's own children's services."
    assert detail["referred_on"] == []
    assert connection.vendor == "postgresql"
