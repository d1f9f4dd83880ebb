"""Issue 24, point 4: the helpline refers a case directly to a national body with no accounts here (Ofsted, the
Care Quality Commission, the Child Safeguarding Practice Review Panel). It is one action of the registry
(refer_national_body), on the case page and in the staff API alike: a referral recorded as passed on outside
the service, with how it was sent, the reference the body gave and what was passed on (both sealed), audited
with codes only, and nothing ever emailed to the body."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from django.test import Client

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import AuditEvent
from directory.models import NationalBody
from notify.models import Notification
from outbox.models import OutboxMessage
from referrals import services
from referrals.models import Referral
from tests.factories import (
    ROTHERHAM,
    authority,
    national_body,
    reviewed_case,
    routed_case,
    signed_in,
    signed_in_as,
    staff_user,
    staff_with_mfa,
)
from triage import case_actions
from triage.events import case_events
from triage.models import Case
from triage.selectors import reporter_status
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role
ACTION = "refer_national_body"
CANARY = "CANARY-Nb24"
SUMMARY = f"{CANARY}: the council's children's services ignored three reports about the same home."
REFERENCE = "OFS-2026-0042"
OFSTED_INBOX = "whistleblowing@ofsted.example"
NOT_HELPLINE = [role for role, _ in R.choices if not policy.role_may(role, Permission.HELPLINE_WORK)]


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def page_data(**fields: str) -> dict[str, str]:
    answer = {"national_body": "ofsted", "how_sent": "secure_channel", "reference": REFERENCE, "summary": SUMMARY}
    answer.update(fields)
    return {f"{ACTION}-{name}": value for name, value in answer.items() if value is not None}


def api_post(client: Client, case: Case, body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case.case_number}/{ACTION}", json.dumps(body), content_type="application/json")


def helpline(role: str = R.CALL_HANDLER) -> tuple[Client, User]:
    return signed_in_as(role, username="nb-helpline")


def sent_nothing() -> tuple[int, int]:
    return Notification.objects.count(), OutboxMessage.objects.count()


# --- through the case page ---------------------------------------------------------------------------


def test_the_helpline_refers_a_case_to_ofsted_on_the_case_page_and_nothing_is_sent_to_ofsted() -> None:
    NationalBody.objects.filter(code="ofsted").update(contact_email=OFSTED_INBOX)
    client, handler = helpline()
    case = routed_case(local_authority=authority(ROTHERHAM))
    before = sent_nothing()

    page = client.get(f"/staff/cases/{case.case_number}")
    shown = text(page)
    assert 'id="action-refer_national_body"' in shown and "Refer to a national body" in shown
    form = page.context["action_forms"][ACTION]
    offered = [value for value, _ in form.fields["national_body"].choices if value]
    assert sorted(offered) == ["cqc", "cspr-panel", "ofsted"]  # never a police force or the review team

    done = client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data(), follow=True)

    assert done.status_code == 200
    shown = text(done)
    assert "Referral to Ofsted recorded with the reference it gave. No email was sent" in shown
    referral = Referral.objects.get(case=case)
    assert (referral.body, referral.authority, referral.referred_from) == (national_body("ofsted"), None, None)
    assert (referral.status, referral.how_sent, referral.referred_by) == (
        Referral.Status.SENT,
        "secure_channel",
        handler,
    )
    # What was passed on and the body's reference are sealed.
    assert CANARY.encode() not in bytes(referral.summary)
    assert REFERENCE.encode() not in bytes(referral.sent_reference)
    case.refresh_from_db()
    assert case.status == Case.Status.NEW  # the case's status does not change
    # The case page lists it: who, how it was sent, their reference and what was passed on; no clocks.
    panel = shown[shown.index('data-testid="referral-ofsted"') :]
    assert "Passed on outside this service" in panel
    assert "Referred by the helpline" in panel and "through the body's own secure channel" in panel
    assert f'Their reference: <strong data-testid="referral-reference">{REFERENCE}</strong>' in panel
    assert "What was passed on" in panel and SUMMARY in panel
    assert "Authority acknowledgement" not in shown
    # Nothing is sent to the body, whatever address it has: no email, no outbox row.
    assert sent_nothing() == before
    assert not Notification.objects.filter(recipient=OFSTED_INBOX).exists()
    # The reporter reads that the helpline passed their concern to Ofsted.
    assert reporter_status(case.report).passed_on == ("Ofsted",)


def test_the_referral_is_audited_once_with_codes_and_never_the_words() -> None:
    client, handler = helpline()
    case = routed_case()
    client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data(national_body="cqc", how_sent="telephone"))
    referral = Referral.objects.get(case=case)
    event = case_events(case).get(kind=ACTION)
    assert event.actor_id == handler.pk
    assert event.detail == {
        "status": Case.Status.NEW,
        "referral_id": referral.pk,
        "body": "cqc",
        "kind": "cqc",
        "how_sent": "telephone",
        "reference_given": True,
    }
    # Nothing anybody wrote reaches the audit trail.
    for stored in AuditEvent.objects.all():
        assert CANARY not in json.dumps(stored.detail) and REFERENCE not in json.dumps(stored.detail)
    timeline = text(client.get(f"/staff/cases/{case.case_number}"))
    assert "Referred to a national body" in timeline


@pytest.mark.parametrize(
    ("fields", "field_error"),
    [
        ({"national_body": ""}, "Choose which national body the case was referred to"),
        ({"national_body": "police-south-yorkshire"}, "Choose a national body from the list"),
        ({"national_body": "review-team"}, "Choose a national body from the list"),
        ({"how_sent": ""}, "Choose how the case was passed to the national body"),
        ({"how_sent": "email"}, "Choose how the case was passed to the national body from the list"),
        ({"summary": "   "}, "Write what was passed on to the national body"),
        ({"reference": "R" * 65}, "The reference must be 64 characters or fewer"),
    ],
)
def test_bad_input_on_the_page_is_a_gov_uk_error_and_records_nothing(fields: dict[str, str], field_error: str) -> None:
    client, _ = helpline()
    case = routed_case()
    refused = client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data(**fields))
    assert refused.status_code == 302
    page = client.get(refused["Location"])
    assert page.status_code == 400
    shown = text(page)
    assert "govuk-error-summary" in shown and field_error in shown
    assert not Referral.objects.filter(case=case).exists()
    assert not case_events(case).filter(kind=ACTION).exists()


def test_the_same_body_is_not_recorded_twice_and_the_page_says_why() -> None:
    client, _ = helpline()
    case = routed_case()
    client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data())
    again = client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data())
    assert again.status_code == 302
    page = client.get(again["Location"])
    assert page.status_code == 409
    assert "The case was already referred to Ofsted by the helpline on" in text(page)
    assert Referral.objects.filter(case=case).count() == 1
    # Another body is a referral of its own.
    client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data(national_body="cspr-panel", reference=""))
    assert sorted(Referral.objects.filter(case=case).values_list("body__code", flat=True)) == ["cspr-panel", "ofsted"]


def test_a_body_the_review_already_referred_the_case_to_is_refused_naming_the_review() -> None:
    supervisor = staff_user("nb-supervisor", role=R.SUPERVISOR)
    reviewer = staff_user("nb-reviewer", role=R.NATIONAL_REVIEWER)
    case, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer)
    services.referral_refer_on(
        referral=review, body=national_body("ofsted"), how_sent="telephone", acting_user=reviewer
    )
    with pytest.raises(ActionNotAllowed, match="already referred to Ofsted by the independent review"):
        services.case_refer_national_body(
            case=case, body=national_body("ofsted"), how_sent="telephone", summary=SUMMARY, acting_user=supervisor
        )
    # Under review, the helpline may still refer the case to another body itself.
    services.case_refer_national_body(
        case=case, body=national_body("cqc"), how_sent="telephone", summary=SUMMARY, acting_user=supervisor
    )
    case.refresh_from_db()
    assert case.status == Case.Status.NATIONAL_REVIEW


def test_the_service_refuses_a_police_force_the_review_team_a_closed_case_and_no_summary() -> None:
    supervisor = staff_user("nb-supervisor", role=R.SUPERVISOR)
    case = routed_case()
    for code in ("police-south-yorkshire", "review-team"):
        with pytest.raises(ActionNotAllowed, match="Choose Ofsted, the Care Quality Commission"):
            services.case_refer_national_body(
                case=case, body=national_body(code), how_sent="telephone", summary=SUMMARY, acting_user=supervisor
            )
    with pytest.raises(ActionNotAllowed, match="Write what was passed on"):
        services.case_refer_national_body(
            case=case, body=national_body("ofsted"), how_sent="telephone", summary=" ", acting_user=supervisor
        )
    case_actions.case_close(case=case, outcome="duplicate", feedback="Thank you.", acting_user=supervisor)
    with pytest.raises(ActionNotAllowed, match="You cannot refer to a national body while the case is closed"):
        services.case_refer_national_body(
            case=case, body=national_body("ofsted"), how_sent="telephone", summary=SUMMARY, acting_user=supervisor
        )
    assert not Referral.objects.filter(case=case).exists()


@pytest.mark.parametrize("role", NOT_HELPLINE)
def test_the_page_action_is_forbidden_to_a_role_without_helpline_work(role: str) -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    client, _ = signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []))
    response = client.post(f"/staff/cases/{case.case_number}/{ACTION}", page_data())
    assert response.status_code == 403
    assert not Referral.objects.filter(case=case).exists()


def test_the_helplines_home_names_the_review_team_whose_findings_wait_for_feedback() -> None:
    """A body that recorded an outcome (the review team) is named where the feedback due is listed, as an
    authority is."""
    supervisor = staff_user("nb-supervisor", role=R.SUPERVISOR)
    reviewer = staff_user("nb-reviewer", role=R.NATIONAL_REVIEWER)
    case, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer)
    services.referral_record_outcome(
        referral=review, outcome="review_upheld", note="The reports were kept back.", acting_user=reviewer
    )
    client, _ = helpline()
    rows = client.get("/staff/").context["work"].feedback_due_cases
    assert [(row["case_number"], row["authority__name"]) for row in rows] == [
        (case.case_number, "Independent national review team")
    ]


# --- through the staff API -----------------------------------------------------------------------------


def test_the_api_refers_a_case_to_the_review_panel_and_the_case_shows_the_body_as_its_recipient() -> None:
    client, _ = helpline(R.SUPERVISOR)
    case = routed_case()
    before = sent_nothing()
    detail = client.get(f"/api/v1/cases/{case.case_number}").json()
    assert ACTION in detail["allowed_actions"]

    done = api_post(client, case, {"national_body": "cspr-panel", "how_sent": "telephone", "summary": SUMMARY})

    assert done.status_code == 200, done.content
    assert done.json() == {"case_number": case.case_number, "status": Case.Status.NEW}
    assert sent_nothing() == before
    referral = Referral.objects.get(case=case)
    rows = client.get(f"/api/v1/cases/{case.case_number}").json()["referrals"]
    assert len(rows) == 1
    row = rows[0]
    assert row["recipient"] == {
        "kind": "cspr_panel",
        "code": "cspr-panel",
        "name": "Child Safeguarding Practice Review Panel",
    }
    assert (row["id"], row["status"], row["how_sent"], row["reference"]) == (referral.pk, "sent", "telephone", "")
    assert (row["summary"], row["referred_from"]) == (SUMMARY, None)
    # Nobody here answers it: it has no clocks.
    assert (row["acknowledgement_due_at"], row["outcome_due_at"], row["outcome"]) == (None, None, "")


def test_the_api_row_of_a_referral_the_review_made_names_the_review_referral() -> None:
    supervisor = staff_user("nb-supervisor", role=R.SUPERVISOR)
    reviewer = staff_user("nb-reviewer", role=R.NATIONAL_REVIEWER)
    case, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer)
    onward = services.referral_refer_on(
        referral=review,
        body=national_body("police-south-yorkshire"),
        how_sent="telephone",
        reference="CR-1",
        acting_user=reviewer,
    )
    client, _ = helpline()
    rows = {row["id"]: row for row in client.get(f"/api/v1/cases/{case.case_number}").json()["referrals"]}
    assert rows[onward.pk]["recipient"]["kind"] == "police_force"
    assert (rows[onward.pk]["referred_from"], rows[onward.pk]["reference"]) == (review.pk, "CR-1")
    # The review referral itself keeps its clocks and is not passed on.
    assert rows[review.pk]["how_sent"] == "" and rows[review.pk]["acknowledgement_due_at"] is not None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"national_body": "police-kent", "how_sent": "telephone", "summary": SUMMARY},
            {"national_body": ["Choose a national body from the list"]},
        ),
        (
            {"national_body": "ofsted", "how_sent": "pigeon", "summary": SUMMARY},
            {"how_sent": ["Choose how the case was passed to the national body from the list"]},
        ),
        (
            {"national_body": "ofsted"},
            {
                "how_sent": ["Choose how the case was passed to the national body"],
                "summary": ["Write what was passed on to the national body"],
            },
        ),
        (
            {"national_body": "ofsted", "how_sent": "telephone", "summary": SUMMARY, "reference": 42},
            {"reference": ["Must be text."]},
        ),
    ],
)
def test_bad_input_in_the_api_is_a_field_error_and_records_nothing(body: dict[str, Any], errors: Any) -> None:
    client, _ = helpline()
    case = routed_case()
    response = api_post(client, case, body)
    assert response.status_code == 400
    assert response.json() == errors
    assert not Referral.objects.filter(case=case).exists()


def test_a_second_referral_to_the_same_body_is_a_conflict_in_the_api() -> None:
    client, _ = helpline()
    case = routed_case()
    body = {"national_body": "ofsted", "how_sent": "telephone", "summary": SUMMARY}
    assert api_post(client, case, body).status_code == 200
    again = api_post(client, case, body)
    assert again.status_code == 409
    assert again.json()["detail"].startswith("The case was already referred to Ofsted by the helpline on ")
    assert Referral.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("role", NOT_HELPLINE)
def test_the_api_action_is_forbidden_to_a_role_without_helpline_work(role: str) -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    user, _ = staff_with_mfa(f"nb-{role}", role=role)
    client = signed_in(user)
    events = AuditEvent.objects.count()
    response = api_post(client, case, {"national_body": "ofsted", "how_sent": "telephone", "summary": SUMMARY})
    assert response.status_code == 403
    assert not Referral.objects.filter(case=case).exists()
    assert AuditEvent.objects.count() == events


def test_the_roles_refused_are_exactly_those_outside_the_helpline() -> None:
    """The refusal tests above cover every role the policy does not give helpline work."""
    assert set(NOT_HELPLINE) == set(R.values) - {R.CALL_HANDLER, R.SUPERVISOR}
