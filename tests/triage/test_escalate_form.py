"""The Escalate form: each route's fields under its radio (GOV.UK's conditional reveal, every field on the
page without JavaScript), only the chosen route's fields checked, and independent review no longer offered
once the case is under it (on the page and through the staff API, which validate with the same form)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from referrals.models import Referral
from tests.factories import reviewed_case, routed_case, signed_in_as
from tests.triage.page_text import section
from triage.models import Case
from triage.staff_actions import action_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

POLICE_FIELDS = ("escalate-force", "escalate-how_sent", "escalate-crime_reference")


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def revealed(form: str, choice: str) -> str:
    """The markup shown under the route radio ``choice`` (independent review's comes before the police radio;
    the police's, last, runs to the button)."""
    end = 'id="id_escalate-route-2"' if choice == "national_review" else 'data-testid="submit-escalate"'
    return section(form, f'data-testid="conditional-route-{choice}"', end)


def escalate_form(page: str) -> str:
    return page[page.index('id="action-escalate"') :].split("</details>", 1)[0]


def test_the_police_fields_are_revealed_under_the_police_radio_and_the_reason_under_review() -> None:
    client, _ = signed_in_as(User.Role.SUPERVISOR)
    case = routed_case()
    form = escalate_form(text(client.get(f"/staff/cases/{case.case_number}")))
    police, review = revealed(form, "police"), revealed(form, "national_review")
    for name in POLICE_FIELDS:
        assert f'name="{name}"' in police and f'name="{name}"' not in review
        assert form.count(f'name="{name}"') == (2 if name == "escalate-how_sent" else 1), name  # radios: one each
    assert 'name="escalate-reason"' in review and 'name="escalate-reason"' not in police
    assert form.count('name="escalate-reason"') == 1
    # Hidden by the radios' script until chosen: the class GOV.UK Frontend hides only once its script runs.
    assert 'data-aria-controls="conditional-id_escalate-route-2"' in form
    assert "govuk-radios__conditional--hidden" in form


def test_only_the_chosen_routes_fields_are_checked() -> None:
    client, _ = signed_in_as(User.Role.SUPERVISOR)
    case = routed_case()
    # Police fields typed and then left for independent review: not checked, not kept.
    form = action_form(
        "escalate",
        {
            "escalate-route": "national_review",
            "escalate-reason": "The concern is about the council.",
            "escalate-force": "no-such-force",
            "escalate-how_sent": "pigeon",
            "escalate-crime_reference": "X" * 65,
        },
        case=case,
    )
    assert form is not None and form.is_valid(), form.errors if form else None
    assert "force" not in form.cleaned_data and "crime_reference" not in form.cleaned_data
    # The police route checks its own fields, and not the reason.
    refused = action_form("escalate", {"escalate-route": "police", "escalate-reason": "R" * 30_000}, case=case)
    assert refused is not None and not refused.is_valid()
    assert set(refused.errors) == {"force", "how_sent"}
    sent = client.post(
        f"/staff/cases/{case.case_number}/escalate",
        {"escalate-route": "police", "escalate-force": "police-south-yorkshire", "escalate-how_sent": "telephone"},
        follow=True,
    )
    assert sent.status_code == 200
    assert "Referral to South Yorkshire Police recorded" in text(sent)


def test_a_case_under_review_is_not_offered_independent_review_again() -> None:
    client, supervisor = signed_in_as(User.Role.SUPERVISOR)
    case, _ = reviewed_case(supervisor)
    form = action_form("escalate", case=case)
    assert form is not None
    assert form.fields["route"].choices == [("police", "The police")]
    assert "reason" not in form.fields
    page = escalate_form(text(client.get(f"/staff/cases/{case.case_number}")))
    assert "Independent national review" not in page and "Why the case needs independent review" not in page
    assert '<input type="hidden" name="escalate-route" value="police">' in page
    assert "Which police force" in page and "govuk-radios__conditional" not in page
    # Sent anyway, by the page or the API: refused with why, and no second review.
    again = client.post(
        f"/staff/cases/{case.case_number}/escalate",
        {"escalate-route": "national_review", "escalate-reason": "Again."},
        follow=True,
    )
    assert again.status_code == 400
    assert "The case is already under independent national review: escalate it to the police" in text(again)
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(supervisor)[1]}")
    refused = api.post(
        f"/api/v1/cases/{case.case_number}/escalate",
        {"route": "national_review", "reason": "Again."},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["route"] == [
        "The case is already under independent national review: escalate it to the police"
    ]
    assert Referral.objects.filter(case=case).count() == 1
    # The police route is still there.
    done = client.post(
        f"/staff/cases/{case.case_number}/escalate",
        {"escalate-route": "police", "escalate-force": "police-south-yorkshire", "escalate-how_sent": "telephone"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.escalated_to_police and case.status == Case.Status.NATIONAL_REVIEW
