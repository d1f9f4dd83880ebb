"""Defects a usability walk found with several referrals on one case: the refer form's button and reach
name the right authority; each referral has a page of its own; a withdrawn referral says so; messages
name the authority when there are several; plain wording."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals import services as referral_services
from referrals.models import AuthorityAction, Referral
from tests.factories import sign_in, staff_with_mfa, submit_report
from triage import case_actions
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails, email_context

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM, SHEFFIELD = "E08000018", "E08000039"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("handler", role=User.Role.SUPERVISOR)[0]


@pytest.fixture
def client(handler: User) -> Client:
    c = Client()
    sign_in(c, handler)
    return c


def officer(code: str) -> User:
    user, _ = staff_with_mfa(f"officer-{code}", role=User.Role.AUTHORITY_OFFICER)
    authority = authority_by_code(code)
    assert authority is not None
    user.authorities.set([authority])
    return user


def signed_in(user: User) -> Client:
    c = Client()
    sign_in(c, user)
    return c


def rotherham_case() -> Case:
    return report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)


def refer(case: Case, handler: User, code: str = ROTHERHAM, summary: str = "Please look.") -> Referral:
    return referral_services.case_refer(
        case=case, summary=summary, recipient=authority_by_code(code), acting_user=handler
    )


# --- 1: the refer form names no authority it may not be about -------------------------------------------


def test_the_refer_form_button_is_neutral_and_the_default_option_is_the_named_authority(client: Client) -> None:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="referrals@rotherham.example")
    case = rotherham_case()
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert ">Refer the case</button>" in page
    assert "Refer to Rotherham" not in page
    assert f'<option value="{ROTHERHAM}" selected>Rotherham</option>' in page
    assert '<option value="" selected>' not in page
    assert "If you refer it to Rotherham, an email" in page
    response = client.post(
        f"/staff/cases/{case.case_number}/refer",
        {
            "refer-recipient": SHEFFIELD,
            "refer-summary": "Please look.",
            "refer-how_told": "phone",
            "refer-how_told_note": "Call Sheffield's front door on Monday",
        },
        follow=True,
    )
    body = text(response)
    assert "Case referred to Sheffield. No email was sent: Sheffield has no referral inbox" in body


# --- 2: each referral at its own address ------------------------------------------------------------------

OLD_SUMMARY = "OLD-SUMMARY-a1: the first referral."
NEW_SUMMARY = "NEW-SUMMARY-b2: the second referral, after a reopen."
OLD_QUESTION = "OLD-QUESTION-c3: which school?"


@pytest.fixture
def referred_twice(handler: User) -> tuple[Case, Referral, Referral, AuthorityAction]:
    """Referred to Rotherham, asked a question, closed (withdrawn), reopened and referred to it again."""
    case = rotherham_case()
    first = refer(case, handler, summary=OLD_SUMMARY)
    question = referral_services.referral_ask_helpline(
        referral=first, question=OLD_QUESTION, acting_user=officer(ROTHERHAM)
    )
    case_actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=handler)
    case_actions.case_reopen(case=case, reason="New information.", acting_user=handler)
    case.refresh_from_db()
    second = refer(case, handler, summary=NEW_SUMMARY)
    case.refresh_from_db()
    return case, first, second, question


def referral_path(referral: Referral) -> str:
    return f"/staff/referrals/{referral.case.case_number}/{referral.pk}"


def test_an_authority_referred_a_case_twice_can_open_both_referrals(
    referred_twice: tuple[Case, Referral, Referral, AuthorityAction], handler: User
) -> None:
    case, first, second, question = referred_twice
    client = signed_in(User.objects.get(username=f"officer-{ROTHERHAM}"))
    listed = text(client.get("/staff/referrals?status=all"))
    assert f'href="{referral_path(first)}"' in listed and f'href="{referral_path(second)}"' in listed
    old_page = text(client.get(referral_path(first)))
    assert OLD_SUMMARY in old_page and OLD_QUESTION in old_page and NEW_SUMMARY not in old_page
    new_page = text(client.get(referral_path(second)))
    assert NEW_SUMMARY in new_page and OLD_SUMMARY not in new_page and OLD_QUESTION not in new_page
    # The helpline answers the old referral's question; the answer is on the old referral's page alone.
    referral_services.case_reply_to_authority(
        case=case, question_id=question.pk, body="OLD-ANSWER-d4: Oakwood.", acting_user=handler
    )
    assert "OLD-ANSWER-d4" in text(client.get(referral_path(first)))
    assert "OLD-ANSWER-d4" not in text(client.get(referral_path(second)))
    # The reply's email links to the referral it answers.
    email = case_emails(case).filter(template="authority_reply").first()
    assert email is not None
    link = email_context(email)["referral_url"]
    assert str(link).endswith(referral_path(first))


def test_the_case_number_address_leads_to_the_latest_referral_and_actions_post_to_their_own(
    referred_twice: tuple[Case, Referral, Referral, AuthorityAction],
) -> None:
    case, first, second, _ = referred_twice
    client = signed_in(User.objects.get(username=f"officer-{ROTHERHAM}"))
    response = client.get(f"/staff/referrals/{case.case_number}")
    assert response.status_code == 302 and response["Location"] == referral_path(second)
    page = text(client.get(referral_path(second)))
    assert f'action="{referral_path(second)}/acknowledge"' in page
    response = client.post(f"{referral_path(second)}/acknowledge")
    assert response.status_code == 302 and response["Location"] == referral_path(second)
    second.refresh_from_db()
    assert second.acknowledged_at is not None
    # Another case's number with this referral's id is not found.
    other = rotherham_case()
    assert client.get(f"/staff/referrals/{other.case_number}/{first.pk}").status_code == 404
    # The referral email links to its own referral.
    email = case_emails(case).filter(template="authority_referral", occasion=f"referral-{second.pk}").first()
    assert email is not None
    assert str(email_context(email)["referral_url"]).endswith(referral_path(second))


# --- 3: closing says what it withdraws; a withdrawn referral says so ----------------------------------


def test_the_close_form_lists_the_referrals_and_questions_closing_withdraws(client: Client, handler: User) -> None:
    case = rotherham_case()
    rotherham = refer(case, handler)
    refer(case, handler, code=SHEFFIELD)
    referral_services.referral_ask_helpline(referral=rotherham, question="Which?", acting_user=officer(ROTHERHAM))
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    close_form = page.split('id="action-close"')[1].split("</details>")[0]
    assert "Closing the case withdraws its open referrals to:" in close_form
    assert "<li>Rotherham (with 1 unanswered question from it)</li>" in close_form
    assert "<li>Sheffield</li>" in close_form


def test_a_withdrawn_referral_says_so_and_offers_no_deadlines_or_actions(
    referred_twice: tuple[Case, Referral, Referral, AuthorityAction],
) -> None:
    _, first, _, _ = referred_twice
    first.refresh_from_db()
    client = signed_in(User.objects.get(username=f"officer-{ROTHERHAM}"))
    page = text(client.get(referral_path(first)))
    assert 'data-testid="referral-withdrawn">Withdrawn</strong>' in page
    assert f"The helpline withdrew this referral on {first.withdrawn_at:%-d %B %Y}." in page
    assert "The helpline has closed this case" not in page
    assert "Acknowledge by" not in page and "Outcome by" not in page
    assert "Acknowledge referral" not in page and 'data-testid="submit-' not in page
