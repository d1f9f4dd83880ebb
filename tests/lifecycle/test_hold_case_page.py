"""Legal hold on the case page: a supervisor's case action like any other (the page and the staff API read it
from triage.staff_actions), with the legal basis and the notice's reference. The case and its linked cases are
held, their data keys move under the held key, nothing can shred them, and the page shows the hold until a
supervisor releases it, after a confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from core import keystore
from lifecycle.keys import SCHEDULE, custody_key_destroy_unused
from lifecycle.shredding import CaseHeld, shred_family
from reports.models import Report
from tests.factories import routed_case, signed_in, staff_with_mfa
from tests.lifecycle.conftest import ClosedCase
from tests.triage.page_text import error_summary, section, text
from triage import case_actions, retention
from triage.case_content import case_open
from triage.links import cases_link
from triage.models import Case, LegalHold
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "key_folder")]

REFERENCE = "Inquiry notice IIGG/2027/118"


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("holding-supervisor", role=User.Role.SUPERVISOR)[0]


@pytest.fixture
def supervisor_client(supervisor: User) -> Client:
    return signed_in(supervisor)


def hold(client: Client, case: Case, basis: str = "inquiry_notice", reason: str = REFERENCE) -> Any:
    return client.post(
        f"/staff/cases/{case.case_number}/place_hold",
        {"place_hold-basis": basis, "place_hold-reason": reason},
        follow=True,
    )


def release(client: Client, case: Case, confirm: bool = True) -> Any:
    return client.post(
        f"/staff/cases/{case.case_number}/release_hold",
        {"release_hold-confirm": "on"} if confirm else {},
        follow=True,
    )


def custody_key(case: Case) -> str:
    return Report.objects.get(pk=case.report_id).custody_key_id


def active_holds() -> list[LegalHold]:
    return list(LegalHold.objects.filter(released_on__isnull=True).select_related("case"))


def test_a_supervisor_holds_a_case_and_its_linked_case_from_the_case_page(
    supervisor: User, supervisor_client: Client, closed_case: ClosedCase
) -> None:
    case = closed_case()
    linked = routed_case()
    cases_link(case=case, other=linked, linked_by=supervisor)
    form = section(
        text(supervisor_client.get(f"/staff/cases/{case.case_number}")), 'id="action-place_hold"', "</details>"
    )
    assert f"Its linked case {linked.case_number} is put on hold too" in form

    body = text(hold(supervisor_client, case))
    assert f"Case {case.case_number} is on legal hold, and so is its linked case {linked.case_number}." in body

    held = {hold.case_id: hold for hold in active_holds()}
    assert set(held) == {case.pk, linked.pk}
    assert held[linked.pk].linked_from == held[case.pk]
    assert custody_key(case) == custody_key(linked) == keystore.held_key_id()
    assert REFERENCE.encode() not in bytes(held[case.pk].reason), "the reference is sealed"
    events = AuditEvent.objects.filter(kind="legal_hold_placed").order_by("id")
    assert [(e.subject_id, e.actor_id, e.detail["basis"]) for e in events] == [
        (case.pk, supervisor.pk, "inquiry_notice"),
        (linked.pk, supervisor.pk, "inquiry_notice"),
    ]
    assert all(REFERENCE not in str(event.detail) for event in events)

    card = section(body, 'data-testid="legal-hold"', "</dl>")
    today = timezone.localdate()
    assert "A notice from a statutory inquiry (Inquiries Act 2005)" in card
    assert REFERENCE in card
    assert f"{today:%B %Y} by holding-supervisor" in card
    assert f"{retention.add_months(today, 12).day} {retention.add_months(today, 12):%B %Y}" in card
    assert linked.case_number in section(card, 'data-testid="hold-held-with"', "</dd>")
    assert 'id="action-place_hold"' not in body, "a held case is not offered another hold"
    assert 'id="action-release_hold"' in body
    linked_page = text(supervisor_client.get(f"/staff/cases/{linked.case_number}"))
    because = section(linked_page, 'data-testid="hold-because-of"', "</dd>")
    assert "Held because the linked case" in because and case.case_number in because


def test_a_held_case_survives_every_attempt_to_shred_it(supervisor: User, closed_case: ClosedCase) -> None:
    case = closed_case()
    case_actions.case_hold_place(case=case, basis="court_order", reason="Order 44", acting_user=supervisor)
    with pytest.raises(CaseHeld):
        shred_family(Report.objects.get(pk=case.report_id), why="schedule")
    with pytest.raises(CaseHeld):
        shred_family(Report.objects.get(pk=case.report_id), why="early", acting_users=(supervisor,))
    report = Report.objects.get(pk=case.report_id)
    assert report.content_destroyed_on is None and bytes(report.content)
    assert case_open(case=case, acting_user=supervisor).content["summary"] == "Missing episodes ignored"


@pytest.mark.parametrize(
    ("basis", "reason", "error"),
    [
        ("court_order", "", "Enter the reference of the notice, order or request"),
        ("court_order", "   ", "Enter the reference of the notice, order or request"),
        ("", REFERENCE, "Choose the legal basis for the hold"),
        # The evidence export's own basis is recorded by it, never chosen here.
        ("evidence_export", REFERENCE, "Choose the legal basis for the hold from the list"),
        ("court_order", "x" * 201, "The reference must be 200 characters or fewer"),
    ],
)
def test_a_hold_without_a_basis_or_a_reference_is_refused_with_the_error_summary(
    supervisor_client: Client, closed_case: ClosedCase, basis: str, reason: str, error: str
) -> None:
    case = closed_case()
    response = hold(supervisor_client, case, basis=basis, reason=reason)
    assert response.status_code == 400
    assert error in error_summary(response)
    assert 'id="action-place_hold" open' in response.content.decode()
    assert active_holds() == []
    assert keystore.kind_of(custody_key(case)) == keystore.EPOCH


def test_a_call_handler_is_not_offered_a_hold_and_is_refused_one_on_the_page_and_the_api(
    closed_case: ClosedCase,
) -> None:
    handler = staff_with_mfa("hold-handler", role=User.Role.CALL_HANDLER)[0]
    client = signed_in(handler)
    case = closed_case()
    assert 'id="action-place_hold"' not in text(client.get(f"/staff/cases/{case.case_number}"))
    response = hold(client, case)
    assert response.status_code == 409
    assert "Only a supervisor can put a case on legal hold or release it." in error_summary(response)
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(handler)[1]}")
    assert "place_hold" not in api.get(f"/api/v1/cases/{case.case_number}").json()["allowed_actions"]
    refused = api.post(
        f"/api/v1/cases/{case.case_number}/place_hold",
        {"basis": "court_order", "reason": REFERENCE},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only a supervisor can put a case on legal hold or release it."}
    assert active_holds() == []


def test_the_staff_api_offers_and_takes_a_hold_and_its_release_like_the_page(
    supervisor: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(supervisor)[1]}")
    offered = api.get(f"/api/v1/cases/{case.case_number}").json()["allowed_actions"]
    assert "place_hold" in offered and "release_hold" not in offered
    done = api.post(
        f"/api/v1/cases/{case.case_number}/place_hold",
        {"basis": "police_request", "reason": "Operation reference OP-77"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert [hold.basis for hold in active_holds()] == ["police_request"]
    offered = api.get(f"/api/v1/cases/{case.case_number}").json()["allowed_actions"]
    assert "release_hold" in offered and "place_hold" not in offered
    refused = api.post(f"/api/v1/cases/{case.case_number}/release_hold", {}, content_type="application/json")
    assert refused.status_code == 400
    assert active_holds() != []
    done = api.post(
        f"/api/v1/cases/{case.case_number}/release_hold", {"confirm": True}, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert active_holds() == []


def test_a_supervisor_releases_a_hold_after_confirming_and_the_linked_holds_stay(
    supervisor: User, supervisor_client: Client, closed_case: ClosedCase
) -> None:
    case = closed_case()
    linked = routed_case()
    cases_link(case=case, other=linked, linked_by=supervisor)
    hold(supervisor_client, case)

    refused = release(supervisor_client, case, confirm=False)
    assert refused.status_code == 400
    assert "Confirm that you want to release the hold" in error_summary(refused)
    assert {hold.case_id for hold in active_holds()} == {case.pk, linked.pk}

    body = text(release(supervisor_client, case))
    assert "Legal hold released. The retention schedule applies to this case again." in body
    assert [hold.case_id for hold in active_holds()] == [linked.pk], "the linked case's hold is its own"
    case.refresh_from_db()
    assert case.destroy_on is not None
    assert custody_key(case) == keystore.epoch_key_id(case.destroy_on)
    assert custody_key(linked) == keystore.held_key_id()
    event = AuditEvent.objects.get(kind="legal_hold_released")
    assert (event.subject_id, event.actor_id) == (case.pk, supervisor.pk)
    assert 'data-testid="legal-hold"' not in body
    assert 'id="action-place_hold"' in body and 'id="action-release_hold"' not in body


def test_a_second_hold_on_a_held_case_and_a_release_of_a_case_not_held_are_refused(
    supervisor: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    with pytest.raises(ActionNotAllowed, match="This case is not on legal hold."):
        case_actions.case_hold_release(case=case, acting_user=supervisor)
    case_actions.case_hold_place(case=case, basis="court_order", reason="Order 1", acting_user=supervisor)
    with pytest.raises(ActionNotAllowed, match="This case is already on legal hold."):
        case_actions.case_hold_place(case=case, basis="court_order", reason="Order 2", acting_user=supervisor)
    assert LegalHold.objects.filter(case=case).count() == 1


def test_a_hold_released_after_its_day_and_its_months_key_moves_under_this_months_epoch_key(
    supervisor: User, closed_case: ClosedCase
) -> None:
    """The defect this fixes: a case held past its destruction month, whose epoch key the schedule has since
    destroyed, could not be released (re-wrapping under a destroyed key is refused)."""
    case = closed_case()
    case_actions.case_hold_place(case=case, basis="court_order", reason="Order 9", acting_user=supervisor)
    # Closed 38 months ago: its 36 months ended two months ago, and that month's key is gone.
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=38 * 31))
    past_day = retention.destruction_day(Case.objects.get(pk=case.pk))
    assert past_day is not None and past_day < timezone.localdate().replace(day=1)
    past_key = keystore.epoch_key_id(past_day)
    keystore.wrapping_key(past_key)  # the month's key, made as its cases closed
    assert custody_key_destroy_unused(past_key, why=SCHEDULE), "no case is under it: the schedule destroys it"

    case_actions.case_hold_release(case=case, acting_user=supervisor)
    case.refresh_from_db()
    assert case.destroy_on == past_day, "its day stays: the schedule destroys it at its next run"
    assert custody_key(case) == keystore.epoch_key_id(timezone.localdate())
    assert case_open(case=case, acting_user=supervisor).content["summary"] == "Missing episodes ignored"
