"""Early destruction by two supervisors (lifecycle.early_destruction): one asks with a reason from a short
list, a different one approves, and the case's content is crypto-shredded then; the request and both
decisions are audit events naming both supervisors and the reason. The one who asked can never approve, a
held or open case cannot be destroyed, and the database keeps the two-person rule too."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from audit.trail import audit_verify
from core import keystore
from lifecycle import shredlog
from lifecycle.early_destruction import (
    DestructionRefused,
    early_destruction_approve,
    early_destruction_refuse,
    early_destruction_request,
    early_destruction_withdraw,
)
from lifecycle.models import EarlyDestruction
from lifecycle.shredding import shred_family
from referrals import services as referral_services
from referrals.officer_actions import content_kept_check
from reports.models import Message, Report
from tests.factories import ROTHERHAM, authority, case_closed, referral_of, routed_case, staff_user
from tests.lifecycle.conftest import ClosedCase
from triage import case_actions, retention
from triage.case_content import FileUnavailable, case_open, file_destroyed_check
from triage.models import Case
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "key_folder")]
R = User.Role
S = EarlyDestruction.Status
CHILD = EarlyDestruction.Reason.CHILD_DETAILS


@pytest.fixture
def first() -> User:
    return staff_user("first-supervisor", role=R.SUPERVISOR)


@pytest.fixture
def second() -> User:
    return staff_user("second-supervisor", role=R.SUPERVISOR)


def assert_intact(case: Case, reader: User) -> None:
    report = Report.objects.get(pk=case.report_id)
    assert report.content_destroyed_on is None and bytes(report.content)
    assert case_open(case=case, acting_user=reader).content["summary"] == "Missing episodes ignored"


def test_one_supervisor_asks_another_approves_and_the_content_is_destroyed_with_both_named(
    first: User, second: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    asked = early_destruction_request(case=case, reason=CHILD, acting_user=first)
    assert (asked.status, asked.requested_by, asked.decided_by) == (S.PENDING, first, None)
    assert_intact(case, first)

    destroyed = early_destruction_approve(request=asked, acting_user=second)
    assert destroyed.case_numbers == [case.case_number]
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by) == (S.APPROVED, second)
    report = Report.objects.get(pk=case.report_id)
    assert report.content_destroyed_on == timezone.localdate()
    assert bytes(report.content) == b"" and not report.custody_key_id and not report.helpline_key_id
    assert all(bytes(body) == b"" for body in Message.objects.filter(report=report).values_list("body", flat=True))
    with pytest.raises(keystore.ContentDestroyed):
        keystore.data_key_of(report)

    requested = AuditEvent.objects.get(kind="early_destruction_requested")
    approved = AuditEvent.objects.get(kind="early_destruction_approved")
    shredded = AuditEvent.objects.get(kind="content_destroyed")
    assert (requested.actor, requested.subject_id) == (first, case.pk)
    assert requested.detail == {"request_id": asked.pk, "reason": CHILD, "requested_by": "first-supervisor"}
    assert approved.actor == second
    assert approved.detail == {
        "request_id": asked.pk,
        "reason": CHILD,
        "requested_by": "first-supervisor",
        "approved_by": "second-supervisor",
    }
    assert shredded.detail["why"] == "early" and shredded.detail["reason"] == CHILD
    assert shredded.detail["by"] == ["first-supervisor", "second-supervisor"]
    assert [entry.case_number for entry in shredlog.entries()] == [case.case_number]
    assert audit_verify() == []


def test_the_supervisor_who_asked_can_never_approve_and_the_database_refuses_it_too(
    first: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    asked = early_destruction_request(case=case, reason=EarlyDestruction.Reason.FILED_IN_ERROR, acting_user=first)
    with pytest.raises(DestructionRefused, match="another supervisor must approve it"):
        early_destruction_approve(request=asked, acting_user=first)
    with pytest.raises(DestructionRefused, match="withdraw the request instead"):
        early_destruction_refuse(request=asked, acting_user=first)
    asked.refresh_from_db()
    assert asked.status == S.PENDING
    assert_intact(case, first)
    assert not AuditEvent.objects.filter(kind__in=["early_destruction_approved", "content_destroyed"]).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        EarlyDestruction.objects.filter(pk=asked.pk).update(
            status=S.APPROVED, decided_by=first, decided_at=timezone.now()
        )


def test_a_held_case_can_be_neither_asked_for_nor_approved(first: User, second: User, closed_case: ClosedCase) -> None:
    held = closed_case()
    case_actions.case_hold_place(case=held, basis="court_order", reason="Order 12", acting_user=first)
    with pytest.raises(DestructionRefused, match="on legal hold"):
        early_destruction_request(case=held, reason=CHILD, acting_user=first)
    assert not EarlyDestruction.objects.exists()

    later = closed_case()
    asked = early_destruction_request(case=later, reason=CHILD, acting_user=first)
    case_actions.case_hold_place(case=later, basis="inquiry_notice", reason="Notice 4", acting_user=second)
    with pytest.raises(DestructionRefused, match="on legal hold"):
        early_destruction_approve(request=asked, acting_user=second)
    asked.refresh_from_db()
    assert asked.status == S.PENDING
    assert_intact(later, second)


def test_an_open_case_is_refused_until_it_is_closed(first: User) -> None:
    case = routed_case()
    with pytest.raises(DestructionRefused, match="Only a closed case can be destroyed early"):
        early_destruction_request(case=case, reason=EarlyDestruction.Reason.DUPLICATE, acting_user=first)
    assert not EarlyDestruction.objects.exists()


def test_a_case_reopened_after_the_request_is_not_destroyed_on_approval(
    first: User, second: User, closed_case: ClosedCase
) -> None:
    case = closed_case()
    asked = early_destruction_request(case=case, reason=CHILD, acting_user=first)
    case_actions.case_reopen(case=case, reason="More came in.", acting_user=second)
    with pytest.raises(DestructionRefused, match="Only a closed case"):
        early_destruction_approve(request=asked, acting_user=second)
    assert_intact(Case.objects.get(pk=case.pk), second)


def test_only_one_request_waits_for_a_case_at_a_time(first: User, second: User, closed_case: ClosedCase) -> None:
    case = closed_case()
    early_destruction_request(case=case, reason=CHILD, acting_user=first)
    with pytest.raises(DestructionRefused, match="already waiting for a second supervisor"):
        early_destruction_request(case=case, reason=EarlyDestruction.Reason.DUPLICATE, acting_user=second)
    assert EarlyDestruction.objects.filter(case=case).count() == 1


def test_another_supervisor_refuses_and_the_one_who_asked_withdraws(
    first: User, second: User, closed_case: ClosedCase
) -> None:
    refused_case, withdrawn_case = closed_case(), closed_case()
    refused = early_destruction_request(case=refused_case, reason=CHILD, acting_user=first)
    early_destruction_refuse(request=refused, acting_user=second)
    refused.refresh_from_db()
    assert (refused.status, refused.decided_by) == (S.REFUSED, second)
    event = AuditEvent.objects.get(kind="early_destruction_refused")
    assert event.actor == second
    assert event.detail == {
        "request_id": refused.pk,
        "reason": CHILD,
        "requested_by": "first-supervisor",
        "refused_by": "second-supervisor",
    }
    with pytest.raises(DestructionRefused, match="no longer waiting: it was refused"):
        early_destruction_approve(request=refused, acting_user=second)

    withdrawn = early_destruction_request(case=withdrawn_case, reason=CHILD, acting_user=first)
    with pytest.raises(DestructionRefused, match="Only the supervisor who asked can withdraw"):
        early_destruction_withdraw(request=withdrawn, acting_user=second)
    early_destruction_withdraw(request=withdrawn, acting_user=first)
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.decided_by) == (S.WITHDRAWN, first)
    assert AuditEvent.objects.get(kind="early_destruction_withdrawn").actor == first
    assert_intact(refused_case, second)
    assert_intact(withdrawn_case, second)


@pytest.mark.parametrize("role", [R.CALL_HANDLER, R.ADMINISTRATOR, R.AUTHORITY_OFFICER])
def test_only_a_supervisor_may_ask_or_decide(role: str, first: User, closed_case: ClosedCase) -> None:
    case = closed_case()
    other = staff_user(f"not-a-supervisor-{role}", role=role)
    with pytest.raises(PermissionDenied):
        early_destruction_request(case=case, reason=CHILD, acting_user=other)
    asked = early_destruction_request(case=case, reason=CHILD, acting_user=first)
    with pytest.raises(PermissionDenied):
        early_destruction_approve(request=asked, acting_user=other)
    assert_intact(case, first)


def test_an_unknown_reason_is_refused(first: User, closed_case: ClosedCase) -> None:
    with pytest.raises(DestructionRefused, match="Choose why"):
        early_destruction_request(case=closed_case(), reason="because", acting_user=first)


def test_refusals_on_a_case_destroyed_early_say_so_not_the_retention_schedule(
    first: User, second: User, closed_case: ClosedCase
) -> None:
    supervisor = staff_user("referring-supervisor", role=R.SUPERVISOR)
    case = routed_case(local_authority=authority(ROTHERHAM))
    referral_services.case_refer(case=case, summary="Please look.", acting_user=supervisor)
    case = case_closed(Case.objects.get(pk=case.pk), supervisor)
    early_destruction_approve(
        request=early_destruction_request(case=case, reason=CHILD, acting_user=first), acting_user=second
    )
    case = Case.objects.select_related("report").get(pk=case.pk)
    day = timezone.localdate()
    said = f"Content destroyed on {day.day} {day:%B %Y} early, with a second supervisor's approval"

    with pytest.raises(ActionNotAllowed) as note:
        case_actions.case_add_note(case=case, body="More", acting_user=supervisor)
    with pytest.raises(FileUnavailable) as file:
        file_destroyed_check(case)
    with pytest.raises(ActionNotAllowed) as recorded:
        content_kept_check(referral_of(case), "add_note")
    for refusal in (note, file, recorded):
        assert str(refusal.value.args[0]).startswith(said)
        assert "retention schedule" not in str(refusal.value)
    assert retention.destroyed_words(case) == said


def test_a_case_destroyed_by_the_schedule_says_so(closed_case: ClosedCase) -> None:
    case = closed_case(due_in_days=0)
    shred_family(case.report, why="schedule")
    case = Case.objects.select_related("report").get(pk=case.pk)
    day = timezone.localdate()
    assert retention.destroyed_words(case) == f"Content destroyed on {day.day} {day:%B %Y} under the retention schedule"
