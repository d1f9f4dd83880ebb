from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.timetrail import day_start, is_day_only
from notify.models import Notification
from tests.factories import staff_user, submit_report
from triage.escalations import deadlines_sweep
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case, Escalation
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.fixture
def urgent_case() -> Case:
    staff_user("sup-a", email="a@helpline.test")
    return report_route(report_id=submit_report(child_at_immediate_risk=True).report.pk)


def test_nothing_escalates_before_a_deadline(urgent_case: Case) -> None:
    assert deadlines_sweep(now=urgent_case.triage_due_at - timedelta(minutes=1)) == 0


def test_an_untriaged_urgent_case_alerts_supervisors_once_its_hour_has_passed(urgent_case: Case) -> None:
    later = urgent_case.triage_due_at + timedelta(minutes=1)
    with time_machine.travel(later):
        assert deadlines_sweep(now=later) == 1
        assert deadlines_sweep(now=later + timedelta(minutes=5)) == 0
    escalation = Escalation.objects.get(case=urgent_case)
    assert escalation.step == "triage_overdue"
    assert escalation.deadline == urgent_case.triage_due_at
    assert case_emails(urgent_case).filter(template="triage_overdue").count() == 1
    event = case_events(urgent_case).get(kind="escalated")
    assert event.detail["step"] == "triage_overdue"
    # Counted from when the reporter sent it, so the trail keeps the day only (core.timetrail).
    assert event.detail == {"step": "triage_overdue", "deadline": day_start(urgent_case.triage_due_at).isoformat()}
    assert is_day_only(event.created_at) and is_day_only(escalation.created_at)
    assert all(is_day_only(e.created_at) for e in Notification.objects.filter(template="triage_overdue"))


def test_a_triaged_case_does_not_escalate_for_triage(urgent_case: Case) -> None:
    Case.objects.filter(pk=urgent_case.pk).update(status=Case.Status.REFERRED)
    assert deadlines_sweep(now=urgent_case.triage_due_at + timedelta(hours=1)) == 0


def test_supervisors_are_warned_before_reporter_feedback_is_due_and_again_when_overdue(urgent_case: Case) -> None:
    Case.objects.filter(pk=urgent_case.pk).update(status=Case.Status.REFERRED)
    due = urgent_case.reporter_feedback_due_at
    assert deadlines_sweep(now=due - timedelta(days=13)) == 1
    assert deadlines_sweep(now=due + timedelta(minutes=1)) == 1
    assert set(Escalation.objects.values_list("step", flat=True)) == {"feedback_due_soon", "feedback_overdue"}


def test_closed_cases_never_escalate(urgent_case: Case) -> None:
    Case.objects.filter(pk=urgent_case.pk).update(status=Case.Status.CLOSED, closed_at=timezone.now())
    assert deadlines_sweep(now=urgent_case.reporter_feedback_due_at + timedelta(days=30)) == 0
