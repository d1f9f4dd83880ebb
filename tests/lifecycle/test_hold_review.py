"""The yearly review of legal holds: every active hold listed with its basis and dates, the overdue reviews
first and marked; "keep for another year" moves the next review a year on, and "release" (after a
confirmation) lets the schedule apply again. Supervisors and administrators only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from core import keystore
from lifecycle import selectors
from reports.models import Report
from tests.factories import ROTHERHAM, partnership_make, signed_in, signed_in_as, staff_user, staff_with_mfa
from tests.lifecycle.conftest import ClosedCase
from tests.triage.page_text import error_summary, section, text
from triage import case_actions, retention
from triage.models import Case, LegalHold

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "key_folder")]
R = User.Role


def held(case: Case, *, review_in_days: int, basis: str = "court_order") -> LegalHold:
    supervisor = staff_user("review-holder", role=R.SUPERVISOR)
    hold = case_actions.case_hold_place(case=case, basis=basis, reason="Order 5", acting_user=supervisor)[0]
    LegalHold.objects.filter(pk=hold.pk).update(review_due_on=timezone.localdate() + timedelta(days=review_in_days))
    return LegalHold.objects.get(pk=hold.pk)


def listed(body: str) -> list[str]:
    """The case numbers of the held list's rows, in order."""
    table = section(body, 'data-testid="holds-table"', "</table>")
    return re.findall(r'data-testid="hold-row">\s*<th[^>]*>(?:<a[^>]*>)?([0-9]{4}-[A-Z0-9]+)', table)


@pytest.fixture
def supervisor_client() -> Client:
    return signed_in(staff_with_mfa("reviewing-supervisor", role=R.SUPERVISOR)[0])


def test_the_list_shows_every_active_hold_with_the_overdue_reviews_first_and_marked(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    later, overdue, soon = (held(closed_case(), review_in_days=days) for days in (200, -10, 5))
    released = held(closed_case(), review_in_days=-50)
    case_actions.case_hold_release(case=released.case, acting_user=staff_user("review-holder"))

    body = text(supervisor_client.get("/staff/lifecycle/holds"))
    assert listed(body) == [overdue.case.case_number, soon.case.case_number, later.case.case_number]
    assert "3 cases</strong> on legal hold, 1 with its review overdue." in body
    rows = section(body, 'data-testid="holds-table"', "</table>").split('data-testid="hold-row"')[1:]
    assert "Review overdue" in rows[0] and "Review overdue" not in rows[1] + rows[2]
    assert "A court order" in rows[0] and "by review-holder" in rows[0]
    # Kept for another year once its review is due (from a month before); released at any time.
    holds = (overdue, soon, later)
    offered = [f'data-testid="keep-{hold.case.case_number}"' in row for hold, row in zip(holds, rows, strict=True)]
    assert offered == [True, True, False]
    assert "Review not due yet" in rows[2] and f'data-testid="release-{later.case.case_number}"' in rows[2]


def test_the_list_is_read_in_one_query_however_many_holds(
    closed_case: ClosedCase, django_assert_num_queries: Any
) -> None:
    for days in (1, 2, 3):
        held(closed_case(), review_in_days=days)
    supervisor = staff_user("review-counter", role=R.SUPERVISOR)
    with django_assert_num_queries(1):
        assert len(selectors.holds_active(user=supervisor).rows) == 3


def test_keeping_a_hold_reviewed_early_moves_its_review_on_a_year_from_the_day_it_was_due(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    hold = held(closed_case(), review_in_days=20)
    due = hold.review_due_on
    text(supervisor_client.post(f"/staff/lifecycle/holds/{hold.pk}/keep", follow=True))
    hold.refresh_from_db()
    assert hold.review_due_on == retention.add_months(due, 12)


def test_keeping_a_hold_whose_review_is_overdue_moves_its_review_a_year_from_today_and_is_audited(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    hold = held(closed_case(), review_in_days=-3)
    body = text(supervisor_client.post(f"/staff/lifecycle/holds/{hold.pk}/keep", follow=True))
    next_review = retention.add_months(timezone.localdate(), 12)
    hold.refresh_from_db()
    assert hold.review_due_on == next_review and hold.released_on is None
    assert f"Case {hold.case.case_number} stays on legal hold." in body
    assert "Review overdue" not in section(body, 'data-testid="holds-table"', "</table>")
    event = AuditEvent.objects.get(kind="legal_hold_reviewed")
    assert event.subject_id == hold.case_id
    assert event.actor is not None and event.actor.username == "reviewing-supervisor"
    assert event.detail == {"hold_id": hold.pk, "review_due_on": next_review.isoformat()}


def test_keeping_a_released_hold_is_refused_with_the_error_summary(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    hold = held(closed_case(), review_in_days=3)
    case_actions.case_hold_release(case=hold.case, acting_user=staff_user("review-holder"))
    response = supervisor_client.post(f"/staff/lifecycle/holds/{hold.pk}/keep", follow=True)
    assert response.status_code == 409
    assert "This hold has already been released." in error_summary(response)
    assert not AuditEvent.objects.filter(kind="legal_hold_reviewed").exists()


def test_an_administrator_reviews_and_releases_a_hold_from_the_list_without_seeing_the_case(
    closed_case: ClosedCase,
) -> None:
    case = closed_case()
    hold = held(case, review_in_days=-1)
    client, admin = signed_in_as(R.ADMINISTRATOR)
    body = text(client.get("/staff/lifecycle/holds"))
    assert listed(body) == [case.case_number]
    assert f"/staff/cases/{case.case_number}" not in body, "administrators open no case"
    assert "Legal holds" in section(body, 'id="navigation"', "</nav>"), "their own menu"

    page = text(client.get(f"/staff/lifecycle/holds/{hold.pk}/release"))
    assert case.destroy_on is not None
    assert f"the case's content is destroyed on {case.destroy_on.day} {case.destroy_on:%B %Y}" in page
    refused = client.post(f"/staff/lifecycle/holds/{hold.pk}/release", {}, follow=True)
    assert refused.status_code == 400
    assert "Confirm that you want to release the hold" in error_summary(refused)
    assert LegalHold.objects.get(pk=hold.pk).released_on is None

    done = text(client.post(f"/staff/lifecycle/holds/{hold.pk}/release", {"confirm": "on"}, follow=True))
    assert f"Legal hold on case {case.case_number} released." in done
    assert "No case is on legal hold." in done
    released = LegalHold.objects.get(pk=hold.pk)
    assert (released.released_on, released.released_by) == (timezone.localdate(), admin)
    assert Report.objects.get(pk=case.report_id).custody_key_id == keystore.epoch_key_id(case.destroy_on)
    assert AuditEvent.objects.get(kind="legal_hold_released").actor == admin


def test_releasing_a_case_whose_day_has_passed_warns_that_the_next_run_destroys_it(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    case = closed_case(due_in_days=-2)
    hold = held(case, review_in_days=10)
    page = text(supervisor_client.get(f"/staff/lifecycle/holds/{hold.pk}/release"))
    assert "its content is destroyed at the retention schedule's next daily run" in page
    done = text(supervisor_client.post(f"/staff/lifecycle/holds/{hold.pk}/release", {"confirm": "on"}, follow=True))
    assert "Its day to be destroyed has passed" in done
    # Under this month's epoch key: its own month's may be destroyed already (triage.retention.custody_key_for).
    assert Report.objects.get(pk=case.report_id).custody_key_id == keystore.epoch_key_id(timezone.localdate())


@pytest.mark.parametrize(
    "role", [R.CALL_HANDLER, R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER, R.PARTNERSHIP, R.OVERSIGHT_ANALYST]
)
def test_every_other_role_is_refused_the_list_and_its_actions(role: str, closed_case: ClosedCase) -> None:
    hold = held(closed_case(), review_in_days=-1)
    partnership = partnership_make("Rotherham", ROTHERHAM) if role == R.PARTNERSHIP else None
    client, _ = signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []), partnership=partnership)
    assert client.get("/staff/lifecycle/holds").status_code == 403
    assert client.post(f"/staff/lifecycle/holds/{hold.pk}/keep").status_code == 403
    assert client.get(f"/staff/lifecycle/holds/{hold.pk}/release").status_code == 403
    assert client.post(f"/staff/lifecycle/holds/{hold.pk}/release", {"confirm": "on"}).status_code == 403
    stored = LegalHold.objects.get(pk=hold.pk)
    assert stored.released_on is None and stored.review_due_on == hold.review_due_on
    assert "Retention" not in text(client.get("/staff/", follow=True))
