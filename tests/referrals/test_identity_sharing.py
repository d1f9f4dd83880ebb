"""Issue 27: the reporter's identity under their control.

Contact details are hidden on the case page until shown with a reason (an audit event supervisors see); a
referral's recipient sees the reporter's details only through a sharing for THAT referral: the reporter's
consent (asked in their mailbox, answered on /check, withdrawable until opened) or a legal duty two different
supervisors approved (the service, the pages and the database refuse one person twice)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from referrals import identity
from referrals import services as referral_services
from referrals.models import IdentitySharing, Referral
from reports.identity import IdentityRefused, report_add_contact, who_knows
from reports.models import Anonymity, Message, Report
from reports.services import Contact, report_read
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    identity_consented,
    referral_of,
    signed_in,
    staff_user,
    staff_with_mfa,
    submit_report,
)
from triage import case_content
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.workflow import ActionNotAllowed, ActionNotPermitted

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NAME, EMAIL, PHONE = "Sam Jones", "sam@private.example", "07700 900982"


def text(response: Any) -> str:
    return response.content.decode()


def named_case(**overrides: Any) -> tuple[Case, str]:
    values: dict[str, Any] = {
        "anonymity": Anonymity.NAMED,
        "contact": Contact(name=NAME, email=EMAIL, phone=PHONE),
        "local_authority": authority(ROTHERHAM),
    }
    values.update(overrides)
    submitted = submit_report(**values)
    return report_route(report_id=submitted.report.pk), submitted.access_code


def referred_twice(case: Case, by: User) -> tuple[Referral, Referral]:
    """Rotherham (the case's own) and Sheffield (a child placed out of area)."""
    rotherham = referral_services.case_refer(case=case, summary="For Rotherham.", acting_user=by)
    sheffield = referral_services.case_refer(
        case=case, summary="For Sheffield.", recipient=authority(SHEFFIELD), acting_user=by
    )
    return rotherham, sheffield


def officer_of(code: str, username: str) -> User:
    officer, _ = staff_with_mfa(username, role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([authority(code)])
    return officer


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("id-handler", role=User.Role.CALL_HANDLER)[0]


@pytest.fixture
def supervisors() -> tuple[User, User]:
    return (
        staff_with_mfa("id-supervisor-one", role=User.Role.SUPERVISOR)[0],
        staff_with_mfa("id-supervisor-two", role=User.Role.SUPERVISOR)[0],
    )


# --- consent, per referral ---------------------------------------------------------------------------------


def test_consent_for_rotherham_says_nothing_about_sheffield(handler: User) -> None:
    case, _ = named_case()
    rotherham, sheffield = referred_twice(case, handler)
    sharing = identity.identity_ask_consent(
        case=case, referral_id=rotherham.pk, covers=["name", "phone"], acting_user=handler
    )
    # The question in the mailbox names exactly what and with whom.
    asked = case.report.messages.filter(direction=Message.Direction.FROM_HELPLINE).last()
    assert asked is not None
    body = report_read(report=case.report, data_key=case_content.case_data_key(case)).messages[-1].body
    assert body.startswith("May we give your name and telephone number to Rotherham so they can speak to you?")
    # Before the answer, nothing is shown to either.
    rotherham_officer, sheffield_officer = officer_of(ROTHERHAM, "rot-officer"), officer_of(SHEFFIELD, "shf-officer")
    before = referral_services.referral_open(referral=rotherham, acting_user=rotherham_officer)
    assert (before.reporter_name, before.reporter_phone, before.reporter_email) == ("", "", "")

    identity.identity_reporter_answer(case.report, sharing.pk, True)

    opened = referral_services.referral_open(referral=rotherham, acting_user=rotherham_officer)
    assert (opened.reporter_name, opened.reporter_phone, opened.reporter_email) == (NAME, PHONE, "")
    assert opened.identity_route == "consent"
    other = referral_services.referral_open(referral=sheffield, acting_user=sheffield_officer)
    assert (other.reporter_name, other.reporter_phone, other.reporter_email) == ("", "", "")
    # The officers' pages and API say the same.
    rot_page = text(signed_in(rotherham_officer).get(f"/staff/referrals/{case.case_number}", follow=True))
    assert NAME in rot_page and PHONE in rot_page and EMAIL not in rot_page
    shf_client = signed_in(sheffield_officer)
    shf_page = text(shf_client.get(f"/staff/referrals/{case.case_number}", follow=True))
    assert NAME not in shf_page and PHONE not in shf_page
    api = shf_client.get(f"/api/v1/referrals/{sheffield.pk}").json()
    assert api["reporter"] == {"name": "", "email": "", "phone": ""}
    # Events: asked (by the handler), given (by the reporter: no actor, the day only), seen (by Rotherham).
    kinds = list(case_events(case).filter(kind__startswith="identity").values_list("kind", "actor_id"))
    assert kinds == [("identity_consent_given", None), ("identity_seen", rotherham_officer.pk)]
    given = case_events(case).get(kind="identity_consent_given")
    assert timezone.localtime(given.created_at).time().isoformat() == "00:00:00"
    assert case_events(case).filter(kind="ask_identity_consent", actor=handler).count() == 1


def test_a_no_shares_nothing_and_a_second_question_may_follow(handler: User) -> None:
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    sharing = identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["name"], acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="one decision at a time"):
        identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["email"], acting_user=handler)
    identity.identity_reporter_answer(case.report, sharing.pk, False)
    with pytest.raises(IdentityRefused, match="answered this question already"):
        identity.identity_reporter_answer(case.report, sharing.pk, True)
    officer = officer_of(ROTHERHAM, "rot-officer")
    assert referral_services.referral_open(referral=referral, acting_user=officer).reporter_name == ""
    identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["email"], acting_user=handler)


def test_only_details_the_reporter_gave_can_be_asked_for(handler: User) -> None:
    case, _ = named_case(contact=Contact(name=NAME, email=EMAIL))
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="not given the helpline their telephone number"):
        identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["phone"], acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="Choose what would be shared"):
        identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["address"], acting_user=handler)
    other, _ = named_case()
    with pytest.raises(ActionNotAllowed, match="no such referral"):
        identity.identity_ask_consent(case=other, referral_id=referral.pk, covers=["name"], acting_user=handler)
    assert not IdentitySharing.objects.exists()


def test_consent_can_be_withdrawn_until_the_recipient_opens_it(handler: User) -> None:
    case, _ = named_case()
    first, second = referred_twice(case, handler)
    kept = identity_consented(first, ("name",), asked_by=handler)
    withdrawn = identity_consented(second, ("name", "email"), asked_by=handler)
    report = case.report
    identity.identity_reporter_withdraw(report, withdrawn.pk)
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.withdrawn_on) == (IdentitySharing.Status.WITHDRAWN, timezone.localdate())
    sheffield = officer_of(SHEFFIELD, "shf-officer")
    assert referral_services.referral_open(referral=second, acting_user=sheffield).reporter_name == ""
    # Once Rotherham opened it, the sharing is made: it cannot be withdrawn.
    rotherham = officer_of(ROTHERHAM, "rot-officer")
    assert referral_services.referral_open(referral=first, acting_user=rotherham).reporter_name == NAME
    kept.refresh_from_db()
    assert kept.seen_on == timezone.localdate()
    with pytest.raises(IdentityRefused, match="cannot be undone"):
        identity.identity_reporter_withdraw(report, kept.pk)
    # Another report's reporter cannot touch it.
    stranger, _ = named_case()
    with pytest.raises(IdentityRefused):
        identity.identity_reporter_withdraw(stranger.report, kept.pk)
    assert case_events(case).filter(kind="identity_consent_withdrawn", actor=None).count() == 1


def test_the_helpline_opening_a_referral_does_not_make_the_sharing(handler: User) -> None:
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    sharing = identity_consented(referral, ("name",), asked_by=handler)
    referral_services.referral_open(referral=referral, acting_user=handler)
    sharing.refresh_from_db()
    assert sharing.seen_on is None


def test_a_referral_shared_under_the_old_rule_keeps_what_it_shared(handler: User) -> None:
    """Migration 0008 records an old identity_shared referral as consented and carried over: its name, and the
    contact details its particulars named."""
    import json

    from core import crypto

    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    key = case_content.case_data_key(case)
    Referral.objects.filter(pk=referral.pk).update(
        particulars=crypto.seal_text(
            key, json.dumps({"postcode_district": "", "organisation": False, "contact": ["email"]})
        )
    )
    IdentitySharing.objects.create(
        referral=referral,
        route="consent",
        status="agreed",
        covers=["name"],
        asked_by=handler,
        asked_at=referral.referred_at,
        answered_on=timezone.localdate(),
        seen_on=timezone.localdate(),
        carried_over=True,
    )
    referral.refresh_from_db()
    opened = referral_services.referral_open(referral=referral, acting_user=officer_of(ROTHERHAM, "rot-officer"))
    assert (opened.reporter_name, opened.reporter_email, opened.reporter_phone) == (NAME, EMAIL, "")


# --- legal duty: two different supervisors ---------------------------------------------------------------------


def test_a_legal_duty_needs_two_different_supervisors_and_the_reporter_is_told(supervisors: tuple[User, User]) -> None:
    one, two = supervisors
    case, _ = named_case()
    rotherham, sheffield = referred_twice(case, one)
    proposal = identity.identity_propose(
        case=case,
        referral_id=rotherham.pk,
        covers=["name", "phone"],
        basis="immediate_risk",
        legal_reference="Strategy discussion 14/3",
        acting_user=one,
    )
    officer = officer_of(ROTHERHAM, "rot-officer")
    assert referral_services.referral_open(referral=rotherham, acting_user=officer).reporter_name == ""
    with pytest.raises(ActionNotAllowed, match="a second supervisor must approve"):
        identity.identity_decide(case=case, proposal_id=proposal.pk, approve=True, acting_user=one)
    messages_before = case.report.messages.count()
    identity.identity_decide(case=case, proposal_id=proposal.pk, approve=True, acting_user=two)
    opened = referral_services.referral_open(referral=rotherham, acting_user=officer)
    assert (opened.reporter_name, opened.reporter_phone, opened.identity_route) == (NAME, PHONE, "legal_duty")
    sheffield_officer = officer_of(SHEFFIELD, "shf-officer")
    assert referral_services.referral_open(referral=sheffield, acting_user=sheffield_officer).reporter_name == ""
    # The reporter is told afterwards, in their mailbox, and /check lists it with its basis.
    assert case.report.messages.count() == messages_before + 1
    told = report_read(report=case.report, data_key=case_content.case_data_key(case)).messages[-1].body
    assert "because the law required it: a child was at immediate risk of harm" in told
    rows = who_knows(Report.objects.get(pk=case.report_id)).known
    assert [(r.recipient, r.covers, r.route, r.can_withdraw) for r in rows] == [
        ("Rotherham", "name and telephone number", "legal_duty", False)
    ]
    # Every step audited, with its actor.
    assert case_events(case).filter(kind="propose_identity_disclosure", actor=one).count() == 1
    assert case_events(case).filter(kind="decide_identity_disclosure", actor=two, detail__approved=True).count() == 1
    with pytest.raises(ActionNotAllowed, match="decided already"):
        identity.identity_decide(case=case, proposal_id=proposal.pk, approve=False, acting_user=two)


def test_the_database_refuses_one_person_deciding_their_own_proposal(supervisors: tuple[User, User]) -> None:
    one, _ = supervisors
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=one)
    proposal = identity.identity_propose(
        case=case, referral_id=referral.pk, covers=["name"], basis="court_order", legal_reference="C-1", acting_user=one
    )
    with pytest.raises(IntegrityError, match="identity_sharing_two_people"), transaction.atomic():
        IdentitySharing.objects.filter(pk=proposal.pk).update(
            status="approved", decided_by=one, decided_at=timezone.now()
        )


def test_a_call_handler_may_neither_propose_nor_approve(handler: User, supervisors: tuple[User, User]) -> None:
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    with pytest.raises(ActionNotPermitted):
        identity.identity_propose(
            case=case,
            referral_id=referral.pk,
            covers=["name"],
            basis="court_order",
            legal_reference="C",
            acting_user=handler,
        )
    proposal = identity.identity_propose(
        case=case,
        referral_id=referral.pk,
        covers=["name"],
        basis="court_order",
        legal_reference="C",
        acting_user=supervisors[0],
    )
    with pytest.raises(ActionNotPermitted):
        identity.identity_decide(case=case, proposal_id=proposal.pk, approve=True, acting_user=handler)


def test_the_page_and_the_api_refuse_a_second_approval_by_the_proposer(supervisors: tuple[User, User]) -> None:
    one, two = supervisors
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=one)
    page = signed_in(one)
    proposed = page.post(
        f"/staff/cases/{case.case_number}/propose_identity_disclosure",
        {
            "propose_identity_disclosure-referral": str(referral.pk),
            "propose_identity_disclosure-covers": ["name"],
            "propose_identity_disclosure-basis": "court_order",
            "propose_identity_disclosure-legal_reference": "Order 2026/77",
        },
        follow=True,
    )
    assert proposed.status_code == 200 and "Nothing is shared until a second supervisor approves" in text(proposed)
    proposal = IdentitySharing.objects.get(referral=referral)
    assert b"Order 2026/77" not in bytes(proposal.legal_reference)  # sealed
    refused = page.post(
        f"/staff/cases/{case.case_number}/decide_identity_disclosure",
        {"decide_identity_disclosure-proposal": str(proposal.pk), "decide_identity_disclosure-decision": "approve"},
        follow=True,
    )
    assert refused.status_code == 409
    assert "a second supervisor must approve" in text(refused)
    api = signed_in(one).post(
        f"/api/v1/cases/{case.case_number}/decide_identity_disclosure",
        {"proposal": str(proposal.pk), "decision": "approve"},
        content_type="application/json",
    )
    assert api.status_code == 409, api.content
    proposal.refresh_from_db()
    assert proposal.status == IdentitySharing.Status.PROPOSED
    done = signed_in(two).post(
        f"/api/v1/cases/{case.case_number}/decide_identity_disclosure",
        {"proposal": str(proposal.pk), "decision": "approve"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (IdentitySharing.Status.APPROVED, two)


# --- contact details hidden, shown with a reason ---------------------------------------------------------------


def test_contact_details_are_hidden_until_shown_with_a_reason_and_supervisors_see_who_and_why(
    handler: User, supervisors: tuple[User, User]
) -> None:
    case, _ = named_case()
    client = signed_in(handler)
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert NAME not in page and EMAIL not in page and PHONE not in page
    assert 'data-testid="contact-hidden"' in page
    api = client.get(f"/api/v1/cases/{case.case_number}").json()
    assert api["contact"] is None and "contact" not in api["content"]
    assert sorted(api["contact_given"]) == ["email", "name", "phone"]
    assert NAME not in str(api)
    # A reason is required (page and API alike).
    missing = client.post(f"/staff/cases/{case.case_number}/reveal_contact", {}, follow=True)
    assert missing.status_code == 400 and "Choose why you need to see the contact details" in text(missing)
    bad = client.post(
        f"/api/v1/cases/{case.case_number}/reveal_contact", {"reason": "curious"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "reason" in bad.json()
    assert not case_events(case).filter(kind="contact_revealed").exists()
    shown = client.post(
        f"/staff/cases/{case.case_number}/reveal_contact", {"reveal_contact-reason": "contact_reporter"}, follow=True
    )
    assert shown.status_code == 200
    assert NAME in text(shown) and PHONE in text(shown) and EMAIL in text(shown)
    assert client.get(f"/api/v1/cases/{case.case_number}").json()["contact"] == {
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
    }
    event = case_events(case).get(kind="contact_revealed")
    assert (event.actor, event.detail["reason"], event.detail["shown"]) == (
        handler,
        "contact_reporter",
        ["email", "name", "phone"],
    )
    assert NAME not in str(event.detail)
    # Shown to that member of staff only.
    other = signed_in(supervisors[1])
    assert NAME not in text(other.get(f"/staff/cases/{case.case_number}#x"))
    # Supervisors see who revealed what and why; a call handler does not.
    supervisor_page = text(signed_in(supervisors[0]).get(f"/staff/cases/{case.case_number}"))
    panel = re.search(r'data-testid="contact-reveals".*?</table>', supervisor_page, re.S)
    assert panel is not None
    assert "id-handler" in panel.group(0) and "To contact the reporter" in panel.group(0)
    assert "Email address, name and telephone number" not in panel.group(0)  # the order is name first
    assert "Name, telephone number and email address" in panel.group(0)
    assert 'data-testid="contact-reveals"' not in text(client.get(f"/staff/cases/{case.case_number}"))


def test_an_anonymous_reporter_has_nothing_to_show(handler: User) -> None:
    submitted = submit_report(anonymity=Anonymity.ANONYMOUS)
    case = report_route(report_id=submitted.report.pk)
    client = signed_in(handler)
    assert 'id="action-reveal_contact"' not in text(client.get(f"/staff/cases/{case.case_number}"))
    refused = client.post(
        f"/api/v1/cases/{case.case_number}/reveal_contact",
        {"reason": "contact_reporter"},
        content_type="application/json",
    )
    assert refused.status_code == 409


# --- changing one's mind on /check ---------------------------------------------------------------------------


def check_in(reference: str, access_code: str) -> Client:
    client = Client()
    response = client.post("/check", {"reference": reference, "access_code": access_code})
    assert response.status_code == 302
    return client


def test_an_anonymous_reporter_gives_the_helpline_their_details_from_check(handler: User) -> None:
    submitted = submit_report(anonymity=Anonymity.ANONYMOUS)
    case = report_route(report_id=submitted.report.pk)
    reporter = check_in(submitted.report.reference, submitted.access_code)
    page = text(reporter.get("/check/concern"))
    assert 'data-testid="nobody-knows"' in page
    refused = reporter.post("/check/concern/contact", {"name": NAME, "email": "", "phone": ""}, follow=True)
    assert refused.status_code == 400 and "Enter an email address or a phone number" in text(refused)
    given = reporter.post("/check/concern/contact", {"name": NAME, "email": EMAIL, "phone": ""}, follow=True)
    assert given.status_code == 200
    assert "The helpline, since" in text(given) and 'data-testid="nobody-knows"' not in text(given)
    report = Report.objects.get(pk=case.report_id)
    assert (report.anonymity, report.has_contact_email, report.contact_given_on) == (
        Anonymity.CONFIDENTIAL,
        True,
        timezone.localdate(),
    )
    assert NAME.encode() not in bytes(report.content)  # sealed
    # Shown on the case from then on, with a reason like any other contact details.
    client = signed_in(handler)
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert 'data-testid="contact-given-on"' in page and NAME not in page
    client.post(f"/staff/cases/{case.case_number}/reveal_contact", {"reveal_contact-reason": "contact_reporter"})
    assert NAME in text(client.get(f"/staff/cases/{case.case_number}"))
    # Audited on the report (the case's timeline shows it), the day only.
    event = case_content.AuditEvent.objects.get(kind="reporter_gave_contact")
    assert event.actor is None and timezone.localtime(event.created_at).time().isoformat() == "00:00:00"
    assert NAME not in str(event.detail) and EMAIL not in str(event.detail)
    with pytest.raises(IdentityRefused):
        report_add_contact(report=report, data_key=case_content.case_data_key(case), name="Someone", email=EMAIL)


def test_the_reporter_answers_and_withdraws_on_check(handler: User) -> None:
    case, access_code = named_case()
    rotherham, sheffield = referred_twice(case, handler)
    asked = identity.identity_ask_consent(
        case=case, referral_id=rotherham.pk, covers=["name", "phone"], acting_user=handler
    )
    reporter = check_in(case.report.reference, access_code)
    page = text(reporter.get("/check/concern"))
    assert "May we give your name and telephone number to Rotherham so they can speak to you?" in page
    assert "Nobody else knows who you are." in page
    unanswered = reporter.post("/check/concern/identity/answer", {"sharing": str(asked.pk)}, follow=True)
    assert unanswered.status_code == 400 and "Select yes if we may share them" in text(unanswered)
    # Not a question of this report: refused, nothing changes.
    stranger, _ = named_case()
    theirs = referral_services.case_refer(case=stranger, summary="x", acting_user=handler)
    other = identity.identity_ask_consent(case=stranger, referral_id=theirs.pk, covers=["name"], acting_user=handler)
    wrong = reporter.post("/check/concern/identity/answer", {"sharing": str(other.pk), "answer": "yes"}, follow=True)
    assert wrong.status_code == 400 and "no such question" in text(wrong)
    other.refresh_from_db()
    assert other.status == IdentitySharing.Status.ASKED
    agreed = reporter.post("/check/concern/identity/answer", {"sharing": str(asked.pk), "answer": "yes"}, follow=True)
    assert agreed.status_code == 200
    panel = re.search(r'id="who-knows".*?(?=<h2)', text(agreed), re.S)
    assert panel is not None
    words = re.sub(r"\s+", " ", panel.group(0))
    today = timezone.localdate()
    assert f"Rotherham: your name and telephone number, since {today.day} {today:%B %Y}, because you agreed." in words
    assert "Sheffield" not in words
    withdrawn = reporter.post("/check/concern/identity/withdraw", {"sharing": str(asked.pk)}, follow=True)
    assert withdrawn.status_code == 200 and "You have withdrawn your consent" in text(withdrawn)
    officer = officer_of(ROTHERHAM, "rot-officer")
    assert referral_services.referral_open(referral=rotherham, acting_user=officer).reporter_name == ""


def test_an_anonymous_reporter_sees_that_no_one_knows() -> None:
    submitted = submit_report(anonymity=Anonymity.ANONYMOUS)
    report_route(report_id=submitted.report.pk)
    page = text(check_in(submitted.report.reference, submitted.access_code).get("/check/concern"))
    assert "No one knows who you are" in page


# --- scope: nobody else sees the reporter without a sharing for THAT referral ---------------------------------


@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST, User.Role.ADMINISTRATOR])
def test_partnerships_oversight_and_administrators_never_see_the_reporter(role: str, handler: User) -> None:
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    identity_consented(referral, ("name", "phone", "email"), asked_by=handler)
    client = signed_in(staff_with_mfa(f"someone-{role}", role=role)[0])
    for path in (
        f"/staff/cases/{case.case_number}",
        f"/staff/referrals/{case.case_number}",
        f"/api/v1/cases/{case.case_number}",
        f"/api/v1/referrals/{referral.pk}",
    ):
        response = client.get(path)
        assert response.status_code in (302, 403, 404), (path, response.status_code)
        assert NAME not in text(response) and PHONE not in text(response)
    posted = client.post(
        f"/api/v1/cases/{case.case_number}/reveal_contact",
        {"reason": "contact_reporter"},
        content_type="application/json",
    )
    assert posted.status_code in (401, 403)
    assert not case_events(case).filter(kind="contact_revealed").exists()


def test_a_reviewer_sees_the_reporter_only_with_a_sharing_for_the_review_referral(handler: User) -> None:
    case, _ = named_case(about_authority=authority(ROTHERHAM))
    case = Case.objects.get(pk=case.pk)
    review = referral_services.case_send_for_review(case=case, reason="About the council.", acting_user=handler)
    reviewer, _ = staff_with_mfa("id-reviewer", role=User.Role.NATIONAL_REVIEWER)
    client = signed_in(reviewer)
    assert NAME not in text(client.get(f"/api/v1/referrals/{review.pk}"))
    identity_consented(review, ("name",), asked_by=handler)
    assert client.get(f"/api/v1/referrals/{review.pk}").json()["reporter"]["name"] == NAME
    assert referral_of(case).pk == review.pk


def test_an_officer_never_reveals_contact_details_and_sees_none_without_a_sharing(handler: User) -> None:
    case, _ = named_case()
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    officer = officer_of(ROTHERHAM, "rot-officer")
    client = signed_in(officer)
    assert NAME not in text(client.get(f"/staff/referrals/{case.case_number}", follow=True))
    assert client.get(f"/api/v1/referrals/{referral.pk}").json()["reporter"] == {"name": "", "email": "", "phone": ""}
    assert (
        client.post(f"/staff/cases/{case.case_number}/reveal_contact", {"reveal_contact-reason": "x"}).status_code
        == 403
    )
    staff_user("unused")  # the factories' default supervisor exists for other tests; nothing here depends on it
