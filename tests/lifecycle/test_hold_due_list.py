"""Warnings before destruction: supervisors see the closed cases the retention schedule destroys in the next
30 days (and any whose day has passed but which are not destroyed yet), never those on legal hold or already
destroyed, and can put each on hold from there without opening its content."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from core import keystore
from lifecycle import selectors
from lifecycle.shredding import shred_family
from reports.models import Report
from tests.factories import (
    ROTHERHAM,
    partnership_make,
    routed_case,
    signed_in,
    signed_in_as,
    staff_user,
    staff_with_mfa,
)
from tests.lifecycle.conftest import ClosedCase
from tests.triage.page_text import error_summary, section, text
from triage import case_actions
from triage.models import LegalHold

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "key_folder")]
R = User.Role


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("due-supervisor", role=R.SUPERVISOR)[0]


@pytest.fixture
def supervisor_client(supervisor: User) -> Client:
    return signed_in(supervisor)


def listed(body: str) -> list[str]:
    table = section(body, 'data-testid="due-table"', "</table>")
    return re.findall(r'data-testid="due-row">\s*<th[^>]*><a[^>]*>([0-9]{4}-[A-Z0-9]+)', table)


def test_the_list_has_the_cases_due_in_30_days_and_those_past_their_day_soonest_first(
    supervisor: User, supervisor_client: Client, closed_case: ClosedCase
) -> None:
    passed = closed_case(due_in_days=-5)
    today = closed_case(due_in_days=0)
    in_ten = closed_case(due_in_days=10)
    in_thirty = closed_case(due_in_days=30)
    closed_case(due_in_days=31)  # not yet
    closed_case()  # years away
    routed_case()  # open: no day at all
    held = closed_case(due_in_days=10)
    case_actions.case_hold_place(case=held, basis="court_order", reason="Order 3", acting_user=supervisor)
    destroyed = closed_case(due_in_days=-2)
    shred_family(Report.objects.get(pk=destroyed.report_id), why="schedule")

    body = text(supervisor_client.get("/staff/lifecycle/due"))
    assert listed(body) == [c.case_number for c in (passed, today, in_ten, in_thirty)]
    assert "4 cases</strong> are due, 1 of them past its day" in body
    rows = section(body, 'data-testid="due-table"', "</table>").split('data-testid="due-row"')[1:]
    assert "Day passed" in rows[0] and "Today" in rows[1]
    assert "Concern not substantiated" in rows[2]
    assert f'href="/staff/lifecycle/due/{in_ten.case_number}/hold"' in rows[2]
    assert not AuditEvent.objects.filter(kind="content_viewed").exists(), "no content is opened for the list"


def test_the_list_is_read_in_three_queries_however_many_cases(
    closed_case: ClosedCase, django_assert_num_queries: Any
) -> None:
    for days in (1, 2, 3, -1):
        closed_case(due_in_days=days)
    supervisor = staff_user("due-counter", role=R.SUPERVISOR)
    with django_assert_num_queries(3):
        due = selectors.destruction_due(user=supervisor)
    assert (due.total, due.overdue, len(due.rows)) == (4, 1, 4)


def test_the_list_comes_a_page_at_a_time(
    supervisor_client: Client, closed_case: ClosedCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "DUE_PAGE_SIZE", 2)
    cases = [closed_case(due_in_days=days) for days in (3, 1, 2)]
    first, second = (text(supervisor_client.get(f"/staff/lifecycle/due?page={n}")) for n in (1, 2))
    assert listed(first) == [cases[1].case_number, cases[2].case_number]
    assert listed(second) == [cases[0].case_number]
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert listed(text(supervisor_client.get("/staff/lifecycle/due?page=x"))) == listed(first)


def test_a_supervisor_holds_a_case_from_the_list_and_it_leaves_the_list_for_the_held_list(
    supervisor: User, supervisor_client: Client, closed_case: ClosedCase
) -> None:
    case = closed_case(due_in_days=12)
    page = text(supervisor_client.get(f"/staff/lifecycle/due/{case.case_number}/hold"))
    assert "Put the case on legal hold" in page and "Why must the case be kept?" in page

    refused = supervisor_client.post(
        f"/staff/lifecycle/due/{case.case_number}/hold", {"place_hold-basis": "police_request"}, follow=True
    )
    assert refused.status_code == 400
    assert "Enter the reference of the notice, order or request" in error_summary(refused)
    assert not LegalHold.objects.exists()

    done = supervisor_client.post(
        f"/staff/lifecycle/due/{case.case_number}/hold",
        {"place_hold-basis": "police_request", "place_hold-reason": "Operation OP-77"},
        follow=True,
    )
    body = text(done)
    assert done.redirect_chain[-1][0] == "/staff/lifecycle/due"
    assert f"Case {case.case_number} is on legal hold." in body
    assert 'data-testid="due-row"' not in body and "No case is due for destruction" in body
    hold = LegalHold.objects.get(case=case)
    assert (hold.basis, hold.placed_by, hold.released_on) == ("police_request", supervisor, None)
    assert Report.objects.get(pk=case.report_id).custody_key_id == keystore.held_key_id()
    assert AuditEvent.objects.filter(kind="legal_hold_placed", subject_id=case.pk, actor=supervisor).count() == 1
    assert not AuditEvent.objects.filter(kind="content_viewed").exists(), "held without opening its content"
    assert case.case_number in text(supervisor_client.get("/staff/lifecycle/holds"))


def test_the_hold_page_of_a_case_already_held_says_so_and_refuses_another(
    supervisor: User, supervisor_client: Client, closed_case: ClosedCase
) -> None:
    case = closed_case(due_in_days=5)
    case_actions.case_hold_place(case=case, basis="court_order", reason="Order 8", acting_user=supervisor)
    page = supervisor_client.get(f"/staff/lifecycle/due/{case.case_number}/hold")
    assert page.status_code == 409
    assert "This case is already on legal hold." in page.content.decode()
    refused = supervisor_client.post(
        f"/staff/lifecycle/due/{case.case_number}/hold",
        {"place_hold-basis": "court_order", "place_hold-reason": "Order 9"},
        follow=True,
    )
    assert refused.status_code == 409
    assert "This case is already on legal hold." in error_summary(refused)
    assert LegalHold.objects.filter(case=case).count() == 1


def test_an_unknown_case_is_not_found(supervisor_client: Client) -> None:
    assert supervisor_client.get("/staff/lifecycle/due/2026-ZZZZZZ/hold").status_code == 404


def test_supervisors_find_the_list_from_their_home_page_and_the_menu(
    supervisor_client: Client, closed_case: ClosedCase
) -> None:
    closed_case(due_in_days=3)
    closed_case(due_in_days=-1)
    home = text(supervisor_client.get("/staff/"))
    work = section(home, 'data-testid="retention-work"', "</ul>")
    assert "2 cases due for destruction in the next 30 days" in work and "(1 past its day)" in work
    assert "0 requests to destroy a case early waiting for you" in work
    assert 'href="/staff/lifecycle/due"' in section(home, 'id="navigation"', "</ul>")


@pytest.mark.parametrize(
    "role", [R.CALL_HANDLER, R.ADMINISTRATOR, R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER, R.PARTNERSHIP]
)
def test_every_other_role_is_refused_the_list_and_its_hold_page(role: str, closed_case: ClosedCase) -> None:
    case = closed_case(due_in_days=3)
    partnership = partnership_make("Rotherham", ROTHERHAM) if role == R.PARTNERSHIP else None
    client, _ = signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []), partnership=partnership)
    assert client.get("/staff/lifecycle/due").status_code == 403
    assert client.get(f"/staff/lifecycle/due/{case.case_number}/hold").status_code == 403
    refused = client.post(
        f"/staff/lifecycle/due/{case.case_number}/hold",
        {"place_hold-basis": "court_order", "place_hold-reason": "Order 1"},
    )
    assert refused.status_code == 403
    assert not LegalHold.objects.exists()
    home = client.get("/staff/", follow=True)
    assert 'data-testid="retention-work"' not in home.content.decode()
    assert keystore.kind_of(Report.objects.get(pk=case.report_id).custody_key_id) == keystore.EPOCH
