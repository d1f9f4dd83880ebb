"""Post/redirect/get on the officer's referral actions (issue 13 point 1, issue 14 point 5): a refused action
redirects to the referral page, which shows the form once, bound to what was typed, with its error and the
status it was refused with; a refresh shows the page afresh; a done action redirects with a banner saying
what happened; each button names its action."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import services as referral_services
from referrals.models import AuthorityAction
from tests.factories import referral_of, sign_in, staff_user, staff_with_mfa, submit_report
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM = "E08000018"
NOTE = "Spoke to the school's safeguarding lead on Tuesday."


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def officer() -> User:
    user, _ = staff_with_mfa("prg-officer", role=User.Role.AUTHORITY_OFFICER)
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    user.authorities.add(rotherham)
    return user


@pytest.fixture
def client(officer: User) -> Client:
    signed_in = Client()
    sign_in(signed_in, officer)
    return signed_in


@pytest.fixture
def case() -> Case:
    referred = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    referral_services.case_refer(
        case=referred,
        summary="Please look into this.",
        acting_user=staff_user("prg-referrer", role=User.Role.SUPERVISOR),
    )
    referred.refresh_from_db()
    return referred


def page_of(case: Case) -> str:
    """The referral's own page: its case number and its id."""
    return f"/staff/referrals/{case.case_number}/{case.referrals.latest('id').pk}"


def test_a_form_with_errors_redirects_and_the_page_shows_it_once_with_what_was_typed(
    client: Client, case: Case, officer: User
) -> None:
    referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)

    posted = client.post(f"{page_of(case)}/record_action", {"record_action-note": NOTE})

    assert posted.status_code == 302
    assert posted["Location"] == f"{page_of(case)}#action-record_action"
    shown = client.get(page_of(case))
    assert shown.status_code == 400
    body = text(shown)
    assert "govuk-error-summary" in body
    assert "Choose what was done" in body
    assert NOTE in body  # what was typed is kept across the redirect
    assert '<details class="govuk-details" id="action-record_action" open>' in body
    assert body.count("Error: ") == 1 and "<title>Error: Referral" in body
    assert not AuthorityAction.objects.filter(case=case).exclude(kind=AuthorityAction.Kind.ACKNOWLEDGED).exists()

    again = client.get(page_of(case))  # a refresh: the page afresh
    assert again.status_code == 200
    assert "govuk-error-summary" not in text(again)
    assert NOTE not in text(again)


def test_a_refused_action_redirects_and_the_page_says_why_with_a_409(client: Client, case: Case) -> None:
    data = {"record_outcome-outcome": "early_help", "record_outcome-note": NOTE}

    posted = client.post(f"{page_of(case)}/record_outcome", data)

    assert posted.status_code == 302
    assert posted["Location"] == f"{page_of(case)}#actions"
    shown = client.get(page_of(case))
    assert shown.status_code == 409
    body = text(shown)
    assert "Acknowledge the referral first" in body
    assert NOTE in body  # the refused outcome's note is still there to send once acknowledged
    assert '<details class="govuk-details" id="action-record_outcome" open>' in body
    assert client.get(page_of(case)).status_code == 200
    case.refresh_from_db()
    assert referral_of(case).outcome_at is None


def test_an_unknown_action_redirects_to_the_page_with_a_404(client: Client, case: Case) -> None:
    posted = client.post(f"{page_of(case)}/reopen")
    assert posted.status_code == 302
    shown = client.get(page_of(case))
    assert shown.status_code == 404
    assert "That action does not exist." in text(shown)


def test_a_failure_kept_for_one_referral_is_not_shown_on_another(client: Client, case: Case, officer: User) -> None:
    other = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    referral_services.case_refer(
        case=other, summary="Another.", acting_user=staff_user("prg-referrer", role="supervisor")
    )
    client.post(f"{page_of(case)}/ask_helpline", {"ask_helpline-note": ""})
    assert client.get(page_of(other)).status_code == 200
    assert client.get(page_of(case)).status_code == 400


@pytest.mark.parametrize(
    ("action", "data", "banner"),
    [
        ("acknowledge", {}, "Referral acknowledged"),
        ("record_action", {"record_action-kind": "strategy_discussion", "record_action-note": NOTE}, "Action recorded"),
        ("record_outcome", {"record_outcome-outcome": "early_help"}, "Outcome recorded"),
        ("ask_helpline", {"ask_helpline-note": "Which school?"}, "Question sent to the helpline"),
    ],
)
def test_a_done_action_redirects_to_the_page_with_a_banner_saying_what_happened_once(
    client: Client, case: Case, officer: User, action: str, data: dict[str, str], banner: str
) -> None:
    if action != "acknowledge":
        referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)

    posted = client.post(f"{page_of(case)}/{action}", data)

    assert posted.status_code == 302
    assert posted["Location"] == page_of(case)
    shown = text(client.get(page_of(case)))
    assert "govuk-notification-banner--success" in shown
    assert f'<p class="govuk-notification-banner__heading">{banner}</p>' in shown
    assert "govuk-notification-banner" not in text(client.get(page_of(case)))


def test_each_button_names_its_action(client: Client, case: Case) -> None:
    body = text(client.get(page_of(case)))
    for button in ("Acknowledge referral", "Record action", "Record outcome", "Send question to the helpline"):
        assert f">{button}</button>" in body
    assert ">Save</button>" not in body and ">Submit</button>" not in body


def test_the_helpline_is_asked_for_feedback_only_once_every_authority_has_an_outcome() -> None:
    """A child placed out of area: the case goes to Sheffield and to Rotherham. Sheffield's outcome tells the
    helpline that one authority has answered; only Rotherham's, the last, says to send the reporter feedback."""
    supervisor = staff_user("feedback-supervisor", role=User.Role.SUPERVISOR)
    case = report_route(report_id=submit_report().report.pk)
    referrals = [
        referral_services.case_refer(
            case=case, summary="Placed out of area.", acting_user=supervisor, recipient=council
        )
        for council in (authority_by_code("E08000039"), authority_by_code("E08000018"))
    ]
    officer = staff_user("feedback-officer", role=User.Role.AUTHORITY_OFFICER)

    def outcome(referral: Any) -> list[str]:
        referral_services.referral_acknowledge(referral=referral, acting_user=officer)
        referral_services.referral_record_outcome(
            referral=referral, outcome="early_help", note="Family supported.", acting_user=officer
        )
        return list(
            case_emails(case)
            .filter(template__startswith="authority_outcome_recorded")
            .values_list("template", flat=True)
        )

    assert outcome(referrals[0]) == ["authority_outcome_recorded_one"]
    assert outcome(referrals[1]) == ["authority_outcome_recorded_one", "authority_outcome_recorded"]
