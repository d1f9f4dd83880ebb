"""Staff pages: the current page is marked in the navigation, page titles carry the service's name, and a
case page has a skip link to its actions (issue 13, GOV.UK details)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import partnership_of_region, sign_in, staff_with_mfa, submit_report
from triage.intake import report_route

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def signed_in_handler() -> Client:
    user, _ = staff_with_mfa("furniture", role=User.Role.CALL_HANDLER)
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize(("path", "current"), [("/staff/", "Queues"), ("/staff/cases", "Cases")])
def test_the_current_page_is_marked_in_the_navigation(path: str, current: str) -> None:
    page = signed_in_handler().get(path).content.decode()
    assert page.count('aria-current="page"') == 1
    assert f'aria-current="page">{current}</a>' in page
    assert "govuk-header__navigation-item--active" in page


def test_staff_and_public_titles_name_their_service() -> None:
    assert "<title>Queues – Helpline workspace – GOV.UK</title>" in signed_in_handler().get("/staff/").content.decode()
    public = Client().get("/privacy").content.decode()
    assert " – Report a concern – GOV.UK</title>" in public


def test_a_case_page_can_skip_to_its_actions() -> None:
    case = report_route(report_id=submit_report().report.pk)
    page = signed_in_handler().get(f"/staff/cases/{case.case_number}").content.decode()
    assert '<a href="#actions" class="govuk-skip-link"' in page and 'id="actions"' in page
    assert page.index("Skip to case actions") < page.index("govuk-header")


@pytest.mark.parametrize(
    ("role", "path", "name"),
    [
        (User.Role.CALL_HANDLER, "/staff/", "Helpline workspace"),
        (User.Role.SUPERVISOR, "/staff/cases", "Helpline workspace"),
        (User.Role.AUTHORITY_OFFICER, "/staff/referrals", "Local authority referrals"),
        (User.Role.PARTNERSHIP, "/staff/statistics", "Safeguarding statistics"),
        (User.Role.OVERSIGHT_ANALYST, "/staff/statistics", "National oversight"),
        (User.Role.ADMINISTRATOR, "/staff/admin/staff", "Service administration"),
    ],
)
def test_each_role_sees_its_own_service_name_in_the_header_and_title(role: str, path: str, name: str) -> None:
    user, _ = staff_with_mfa(f"named-{role}", role=role)
    if role == User.Role.PARTNERSHIP:
        user.partnership = partnership_of_region("Yorkshire and The Humber")
        user.save(update_fields=["partnership"])
    client = Client()
    sign_in(client, user)
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    page = response.content.decode()
    assert f'govuk-header__service-name">{name}</a>' in page
    assert f" – {name} – GOV.UK</title>" in page
    if name != "Helpline workspace":
        assert "Helpline workspace" not in page


def test_the_sign_in_page_names_no_one_s_workspace() -> None:
    """Officers, reviewers and partnerships sign in at the same address as the helpline."""
    page = Client().get("/staff/sign-in").content.decode()
    assert 'govuk-header__service-name">Staff services</a>' in page
    assert "<title>Sign in – Staff services – GOV.UK</title>" in page
    assert '<h1 class="govuk-heading-l">Sign in to staff services</h1>' in page
    assert "Helpline workspace" not in page and "helpline workspace" not in page
