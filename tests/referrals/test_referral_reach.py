"""Issue 22 points 1 and 12, and the refer form's minor points: a referral never claims an email that was
not sent; an authority no email reaches is named before the referral, and the handler must say how the
helpline will tell it (a follow-up note on the case, audited); the authority's referral page has what an
officer needs; the refer form offers only what can succeed; "(done)" says when."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from core import crypto
from directory import lookup
from directory.models import LocalAuthority
from referrals import services as referral_services
from reports.models import Anonymity
from reports.services import Contact
from tests.factories import identity_consented, referral_of, sign_in, staff_with_mfa, submit_report
from triage import case_actions as actions
from triage.case_content import case_data_key
from triage.intake import report_route
from triage.models import Case, CaseNote
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

SHEFFIELD, LEEDS, ROTHERHAM = "E08000039", "E08000035", "E08000018"


def text(response: Any) -> str:
    return response.content.decode()


def authority(code: str) -> LocalAuthority:
    found = lookup.authority_by_code(code)
    assert found is not None
    return found


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("handler", role=User.Role.SUPERVISOR)[0]


@pytest.fixture
def client(handler: User) -> Client:
    c = Client()
    sign_in(c, handler)
    return c


def routed(code: str = SHEFFIELD, **overrides: Any) -> Case:
    return report_route(report_id=submit_report(local_authority=authority(code), **overrides).report.pk)


def refer(client: Client, case: Case, **fields: Any) -> Any:
    data = {f"refer-{name}": value for name, value in {"summary": "Please look into this.", **fields}.items()}
    return client.post(f"/staff/cases/{case.case_number}/refer", data, follow=True)


# --- point 1: never claim a notification that was not sent ------------------------------------------


def test_the_case_page_says_before_referring_that_no_email_will_reach_an_authority(client: Client) -> None:
    case = routed(SHEFFIELD)
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert 'data-testid="refer-no-inbox"' in page
    assert "No email will reach Sheffield" in page
    assert "How will the helpline make sure the authority knows?" in page
    # The directory has no number for Sheffield here: its GOV.UK page, never a made-up number.
    assert "https://www.gov.uk/find-local-council/sheffield" in page


def test_referring_without_saying_how_the_authority_will_be_told_is_refused(client: Client) -> None:
    case = routed(SHEFFIELD)
    response = refer(client, case)
    assert response.status_code == 400
    assert "Choose how the helpline will make sure the authority knows" in text(response)
    case.refresh_from_db()
    assert case.referrals.count() == 0


def test_a_referral_that_reaches_nobody_says_so_and_leaves_an_audited_follow_up(client: Client, handler: User) -> None:
    case = routed(SHEFFIELD)
    response = refer(client, case, how_told="phone", how_told_note="Call the MASH on Monday at 9am")
    assert response.status_code == 200
    page = text(response)
    assert "told by email" not in page
    assert "No email was sent: Sheffield has no referral inbox and no officer with an account." in page
    assert "the helpline must make sure Sheffield knows" in page
    assert not case_emails(case).filter(template="authority_referral").exists()
    case.refresh_from_db()
    assert case.status == Case.Status.REFERRED and referral_of(case).ack_due_at is not None
    note = CaseNote.objects.get(case=case)
    body = crypto.open_text(case_data_key(case), bytes(note.body))
    assert "The helpline must confirm that Sheffield knows" in body
    assert "Call the MASH on Monday at 9am" in body
    assert b"MASH" not in bytes(note.body)  # sealed
    event = AuditEvent.objects.get(kind="referral_follow_up")
    assert event.actor == handler
    assert event.detail == {"authority": SHEFFIELD, "how": "phone", "note_id": note.pk}
    assert AuditEvent.objects.get(kind="refer").detail["emails"] == 0
    # The note's words are in no event.
    assert not AuditEvent.objects.filter(detail__icontains="MASH").exists()
    # The follow-up is on the case page for the helpline.
    assert "The helpline must confirm that Sheffield knows" in text(client.get(f"/staff/cases/{case.case_number}"))


def test_the_service_leaves_a_follow_up_even_when_called_without_the_form(handler: User) -> None:
    case = routed(SHEFFIELD)
    referral_services.case_refer(case=case, summary="Please look.", acting_user=handler)
    assert AuditEvent.objects.get(kind="referral_follow_up").detail["how"] == "not_chosen"


def test_a_referral_to_an_authority_with_an_inbox_says_exactly_what_was_queued(client: Client) -> None:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="referrals@rotherham.example")
    case = routed(ROTHERHAM)
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert 'data-testid="refer-reach"' in page and "referrals@rotherham.example" in page
    assert "How will the helpline make sure" not in page
    response = refer(client, case)
    body = text(response)
    assert "is being sent to 1 address there" in body
    assert "told by email" not in body
    assert case_emails(case).filter(template="authority_referral").count() == 1
    assert not AuditEvent.objects.filter(kind="referral_follow_up").exists()


def test_an_update_to_an_authority_no_email_reaches_does_not_claim_an_email(client: Client, handler: User) -> None:
    case = routed(SHEFFIELD)
    referral_services.case_refer(case=case, summary="Please look.", acting_user=handler, how_told="phone")
    response = client.post(
        f"/staff/cases/{case.case_number}/update_authority", {"update_authority-summary": "More."}, follow=True
    )
    assert "No email was sent: Sheffield has no referral inbox" in text(response)
    assert "Update added to Sheffield&#x27;s referral page." in text(response)


# --- minor: offer only what can succeed --------------------------------------------------------------


def test_refer_is_not_offered_for_a_concern_about_the_cases_own_council(client: Client) -> None:
    case = routed(LEEDS, about_authority=authority(LEEDS))
    Case.objects.filter(pk=case.pk).update(authority=authority(LEEDS), conflict_authority=authority(LEEDS))
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert "Refer to Leeds" not in page
    assert 'data-testid="submit-refer"' not in page


def test_the_refer_form_never_offers_to_share_the_reporters_identity(client: Client) -> None:
    """Issue 27: consent is asked of the reporter per referral, afterwards, never ticked by the helpline."""
    named = routed(ROTHERHAM, anonymity=Anonymity.NAMED, contact=Contact(name="Sam", email="sam@private.example"))
    page = text(client.get(f"/staff/cases/{named.case_number}"))
    assert 'data-testid="submit-refer"' in page  # control: the refer form is there
    assert "has agreed that their identity may be shared" not in page
    assert "Which of their contact details did they agree to share?" not in page
    assert 'name="refer-share_identity"' not in page


def test_name_the_organisation_is_offered_only_when_one_was_given(client: Client) -> None:
    without = routed(ROTHERHAM, organisation_name="")
    assert "Name the organisation" not in text(client.get(f"/staff/cases/{without.case_number}"))
    with_one = routed(ROTHERHAM)
    assert "Name the organisation" in text(client.get(f"/staff/cases/{with_one.case_number}"))


def test_a_full_postcode_or_a_district_in_another_area_is_refused(client: Client, handler: User) -> None:
    case = routed(SHEFFIELD)
    response = refer(client, case, postcode_district="S1 2HH", how_told="phone", how_told_note="Call")
    assert response.status_code == 400 and "Enter a postcode district only" in text(response)
    with pytest.raises(actions.workflow.ActionNotAllowed, match="not in Sheffield"):
        referral_services.case_refer(case=case, summary="s", acting_user=handler, postcode_district="LS1")


# --- point 12: what the authority's referral page shows ----------------------------------------------


@pytest.fixture
def officer() -> User:
    user = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)[0]
    user.authorities.set([authority(SHEFFIELD)])
    return user


def officer_page(officer: User, case: Case) -> str:
    c = Client()
    sign_in(c, officer)
    response = c.get(f"/staff/referrals/{case.case_number}", follow=True)
    assert response.status_code == 200
    return text(response)


def test_the_referral_page_has_where_risk_organisation_phone_and_consented_contact(
    client: Client, officer: User, settings: Any
) -> None:
    settings.HELPLINE_PHONE = "0808 157 0192"
    case = routed(
        SHEFFIELD,
        anonymity=Anonymity.NAMED,
        child_at_immediate_risk=True,
        organisation_name="Northside Children's Home",
        contact=Contact(name="Sam Jones", email="sam@private.example", phone="07700 900982"),
    )
    response = refer(
        client,
        case,
        postcode_district="s1",
        share_organisation="on",
    )
    assert response.status_code == 200, text(response)[:500]
    # Issue 27: the reporter's identity is shared afterwards, for this referral, with their consent.
    identity_consented(referral_of(case), ("name", "email"))
    page = officer_page(officer, case)
    assert "S1, Sheffield, Yorkshire and The Humber" in page
    assert 'data-testid="referral-immediate-risk"><strong class="govuk-tag govuk-tag--red">Yes' in page
    assert "Northside Children&#x27;s Home" in page
    assert "0808 157 0192" in page
    assert "Sam Jones" in page and "Shared with their consent, for this referral only" in page
    assert "sam@private.example" in page
    assert "07700 900982" not in page  # their consent for this referral covers the email only
    assert AuditEvent.objects.filter(kind="content_viewed", actor=officer, detail__view="referral").exists()


def test_the_referral_page_shows_nothing_the_helpline_did_not_pass_on(officer: User, handler: User) -> None:
    case = routed(SHEFFIELD, anonymity=Anonymity.NAMED, contact=Contact(name="Sam Jones", email="sam@private.example"))
    referral_services.case_refer(case=case, summary="Please look.", acting_user=handler, how_told="phone")
    page = officer_page(officer, case)
    assert "Sam Jones" not in page and "sam@private.example" not in page
    assert "Northside" not in page
    assert "Sheffield, Yorkshire and The Humber" in page and "no postcode district given" in page
    assert 'data-testid="referral-immediate-risk">No' in page


def test_record_the_outcome_is_not_offered_once_recorded(officer: User, handler: User) -> None:
    case = routed(SHEFFIELD)
    referral_services.case_refer(case=case, summary="Please look.", acting_user=handler, how_told="phone")
    referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)
    assert "Record the outcome" in officer_page(officer, case)
    referral_services.referral_record_outcome(
        referral=referral_of(case), outcome="early_help", note="", acting_user=officer
    )
    page = officer_page(officer, case)
    assert "Record the outcome" not in page
    assert "Record what was done" in page


# --- minor: "(done)" says when --------------------------------------------------------------------


def test_a_met_clock_says_when_it_was_done(client: Client, officer: User, handler: User) -> None:
    case = routed(SHEFFIELD)
    referral_services.case_refer(case=case, summary="Please look.", acting_user=handler, how_told="phone")
    referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)
    case.refresh_from_db()
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    from core.templatetags.deadlines import deadline

    row = page.split("Authority acknowledgement</dt>", 1)[1].split("</dd>", 1)[0]
    assert f"Done at {deadline(referral_of(case).acknowledged_at)}" in row
    assert "(done)" not in page


def test_how_the_authority_will_be_told_follows_the_authority_chosen_not_the_cases_own(client: Client) -> None:
    """A case of Leeds (which has an inbox) referred to Sheffield (which has none): the helpline must say how it
    will tell Sheffield; the other way round, nothing more is asked."""
    leeds = authority(LEEDS)
    LocalAuthority.objects.filter(pk=leeds.pk).update(referral_email="referrals@leeds.example")
    reachable = routed(LEEDS)
    refused = refer(client, reachable, recipient=SHEFFIELD)
    assert refused.status_code == 400
    page = text(refused)
    assert "Choose how the helpline will make sure the authority knows" in page
    assert "No email will reach Sheffield" in page
    assert reachable.referrals.count() == 0
    assert refer(client, reachable, recipient=SHEFFIELD, how_told="phone", how_told_note="Call").status_code == 200
    assert reachable.referrals.get().authority.gss_code == SHEFFIELD

    unreachable = routed(SHEFFIELD)
    assert refer(client, unreachable, recipient=LEEDS).status_code == 200
    assert unreachable.referrals.get().authority.gss_code == LEEDS
