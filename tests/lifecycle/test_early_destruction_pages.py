"""Early destruction in the workspace: a supervisor asks from a closed case's page, with a reason chosen from
a list and a confirmation (bad input comes back with the GOV.UK error summary); the request waits on a list
for a second supervisor, who approves it after a confirmation, or refuses it. The one who asked is offered
neither, and is refused if they try. Nobody but supervisors reaches any of it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from lifecycle.models import EarlyDestruction
from reports.models import Report
from tests.factories import ROTHERHAM, partnership_make, routed_case, signed_in, signed_in_as, staff_with_mfa
from tests.lifecycle.conftest import ClosedCase
from tests.triage.page_text import error_summary, section, text
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "key_folder")]
R = User.Role
S = EarlyDestruction.Status


@pytest.fixture
def first() -> User:
    return staff_with_mfa("asking-supervisor", role=R.SUPERVISOR)[0]


@pytest.fixture
def second() -> User:
    return staff_with_mfa("approving-supervisor", role=R.SUPERVISOR)[0]


def ask(client: Client, case: Case, **data: str) -> object:
    return client.post(f"/staff/lifecycle/destruction/ask/{case.case_number}", data, follow=True)


def content_destroyed(case: Case) -> bool:
    return Report.objects.get(pk=case.report_id).content_destroyed_on is not None


def test_a_closed_case_page_offers_a_supervisor_the_way_to_ask(first: User, closed_case: ClosedCase) -> None:
    client = signed_in(first)
    closed = text(client.get(f"/staff/cases/{closed_case().case_number}"))
    assert "Ask to destroy this case early" in closed
    assert "Ask to destroy this case early" not in text(client.get(f"/staff/cases/{routed_case().case_number}"))
    handler = signed_in(staff_with_mfa("asking-handler", role=R.CALL_HANDLER)[0])
    assert "Ask to destroy this case early" not in text(handler.get(f"/staff/cases/{closed_case().case_number}"))


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {},
            [
                "Choose why the case should be destroyed early",
                "Confirm that you have checked the case should be destroyed",
            ],
        ),
        ({"reason": "child_details"}, ["Confirm that you have checked the case should be destroyed"]),
        ({"reason": "no_reason", "confirm": "on"}, ["Choose why the case should be destroyed early from the list"]),
    ],
)
def test_asking_without_a_reason_or_the_confirmation_is_refused_with_the_error_summary(
    first: User, closed_case: ClosedCase, data: dict[str, str], errors: list[str]
) -> None:
    case = closed_case()
    response = ask(signed_in(first), case, **data)
    assert response.status_code == 400  # type: ignore[attr-defined]
    summary = section(error_summary(response), 'class="govuk-error-summary"', "</ul>")
    assert all(error in summary for error in errors)
    assert not EarlyDestruction.objects.exists()


def test_the_asker_waits_and_is_refused_approval_then_a_second_supervisor_approves(
    first: User, second: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    asker = signed_in(first)
    asked_page = text(ask(asker, case, reason="child_details", confirm="on"))
    asked = EarlyDestruction.objects.get(case=case)
    assert f"You asked for case {case.case_number} to be destroyed early." in asked_page
    assert "You asked for this, so another supervisor must approve or refuse it." in asked_page
    assert 'data-testid="submit-approve"' not in asked_page and 'data-testid="submit-refuse"' not in asked_page
    refused = asker.post(f"/staff/lifecycle/destruction/{asked.pk}/approve", {"confirm": "on"}, follow=True)
    assert refused.status_code == 409
    assert "another supervisor must approve it" in error_summary(refused)
    assert not content_destroyed(case)
    waiting = text(asker.get(f"/staff/cases/{case.case_number}"))
    assert "Waiting for approval" in section(waiting, 'data-testid="early-destruction-pending"', "</p>")

    approver = signed_in(second)
    pending = section(text(approver.get("/staff/lifecycle/destruction")), 'data-testid="pending-table"', "</table>")
    assert case.case_number in pending and "It holds a child's details that should not be here" in pending
    assert "asking-supervisor" in pending
    home = section(text(approver.get("/staff/")), 'data-testid="retention-work"', "</ul>")
    assert "1 request to destroy a case early waiting for you" in home

    unconfirmed = approver.post(f"/staff/lifecycle/destruction/{asked.pk}/approve", {}, follow=True)
    assert unconfirmed.status_code == 400
    assert "Confirm that you want to destroy the case's content" in error_summary(unconfirmed)
    assert not content_destroyed(case)

    done = text(approver.post(f"/staff/lifecycle/destruction/{asked.pk}/approve", {"confirm": "on"}, follow=True))
    assert f"Case {case.case_number}'s content is destroyed." in done
    assert "Approved: content destroyed" in section(done, 'data-testid="request-status"', "</dd>")
    assert f"{timezone.localdate().day} {timezone.localdate():%B %Y}" in section(
        done, 'data-testid="request-destroyed"', "</dd>"
    )
    assert content_destroyed(case)
    asked.refresh_from_db()
    assert (asked.status, asked.requested_by, asked.decided_by) == (S.APPROVED, first, second)
    decided = section(text(approver.get("/staff/lifecycle/destruction")), 'data-testid="decided-table"', "</table>")
    assert "Approved: content destroyed by approving-supervisor" in decided


def test_a_second_supervisor_refuses_and_the_case_stays(first: User, second: User, closed_case: ClosedCase) -> None:
    case = closed_case()
    ask(signed_in(first), case, reason="duplicate", confirm="on")
    asked = EarlyDestruction.objects.get(case=case)
    done = text(signed_in(second).post(f"/staff/lifecycle/destruction/{asked.pk}/refuse", follow=True))
    assert f"Request refused. Case {case.case_number} stays, on its retention schedule." in done
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by) == (S.REFUSED, second)
    assert not content_destroyed(case)


def test_asking_for_a_held_case_says_why_not_and_is_refused(first: User, closed_case: ClosedCase) -> None:
    from triage.case_actions import case_hold_place

    case = closed_case()
    case_hold_place(case=case, basis="court_order", reason="Order 71", acting_user=first)
    client = signed_in(first)
    assert "Ask to destroy this case early" not in text(client.get(f"/staff/cases/{case.case_number}"))
    page = client.get(f"/staff/lifecycle/destruction/ask/{case.case_number}")
    assert page.status_code == 409
    assert "This case is on legal hold" in page.content.decode()
    refused = ask(client, case, reason="child_details", confirm="on")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "This case is on legal hold" in error_summary(refused)
    assert not EarlyDestruction.objects.exists()


def test_an_unknown_request_or_decision_is_not_found(first: User, closed_case: ClosedCase) -> None:
    client = signed_in(first)
    assert client.get("/staff/lifecycle/destruction/999999").status_code == 404
    ask(client, closed_case(), reason="child_details", confirm="on")
    asked = EarlyDestruction.objects.get()
    assert client.post(f"/staff/lifecycle/destruction/{asked.pk}/shred").status_code == 404


@pytest.mark.parametrize(
    "role", [R.CALL_HANDLER, R.ADMINISTRATOR, R.AUTHORITY_OFFICER, R.PARTNERSHIP, R.OVERSIGHT_ANALYST]
)
def test_every_other_role_is_refused_every_page(role: str, first: User, closed_case: ClosedCase) -> None:
    case = closed_case()
    ask(signed_in(first), case, reason="child_details", confirm="on")
    asked = EarlyDestruction.objects.get()
    partnership = partnership_make("Rotherham", ROTHERHAM) if role == R.PARTNERSHIP else None
    client, _ = signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []), partnership=partnership)
    assert client.get("/staff/lifecycle/destruction").status_code == 403
    assert client.get(f"/staff/lifecycle/destruction/ask/{case.case_number}").status_code == 403
    assert ask(client, closed_case(), reason="child_details", confirm="on").status_code == 403  # type: ignore[attr-defined]
    assert client.get(f"/staff/lifecycle/destruction/{asked.pk}").status_code == 403
    for decision in ("approve", "refuse", "withdraw"):
        response = client.post(f"/staff/lifecycle/destruction/{asked.pk}/{decision}", {"confirm": "on"})
        assert response.status_code == 403
    asked.refresh_from_db()
    assert asked.status == S.PENDING and not content_destroyed(case)
