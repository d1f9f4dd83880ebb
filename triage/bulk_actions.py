"""What helpline staff do to many cases at once (bulk triage on a bad day): assign, set priority, link as
duplicates of one case, close. Each is the same action as triage.case_actions' for one case, carried out over
cases that triage.staff_actions.run_bulk has already locked (in one query) and checked against the workflow,
inside its one transaction: the same rules, the same audit event per case, the same emails, but written in a
fixed number of queries however many cases there are (bulk updates and inserts; the events staged and chained
at commit in one batch, audit.staging).

Each function takes the locked cases it may act on and raises workflow.ActionNotAllowed for bad input (an
assignee who is not helpline staff, an outcome not in the list), which refuses the whole batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import Subject
from audit.trail import EventWritten, events_record
from core import crypto
from core.rows import rows_update
from core.timetrail import day_start, recorded_now
from notify.models import Notification
from notify.services import notifications_queue_many
from reports.models import URGENT_TRIAGE, Message
from triage import deadlines, retention, workflow
from triage.case_content import case_data_key
from triage.events import cases_event
from triage.intake import queue_for
from triage.models import Case, CaseLink, Escalation, Outcome
from triage.notifications import CASE, supervisors
from triage.ports import referral_port

# The statuses in which a case's open referrals are with their recipients (as case_actions.WITH_RECIPIENTS).
WITH_RECIPIENTS = frozenset({Case.Status.REFERRED, Case.Status.NATIONAL_REVIEW})


def bulk_refusal(action: str, case: Case) -> str:
    """Why ``case`` cannot take ``action`` in a bulk run, though the workflow allows it ("" when it can):
    a case with referrals open is closed from its own page, where its recipients are withdrawn one by one."""
    if action == "close" and case.status in WITH_RECIPIENTS:
        return "It has referrals open: close it from its own page."
    if case.report_id is None and action in ("close", "link_duplicate"):
        # A national review case has no reporter to tell, and no report to be a duplicate of another's.
        return "It is a national review case with no report: act on it from its own page."
    return ""


def cases_moved(
    cases: Sequence[Case],
    action: str,
    acting_user: User,
    detail: Callable[[Case], dict[str, object]],
    fields: Sequence[str] = (),
) -> None:
    """case_actions.case_move for many cases: the new statuses (and ``fields`` the caller set) saved in one
    update, triage clocks met for those leaving triage, and one audit event per case (staged, chained at
    commit)."""
    left_triage: list[int] = []
    left_recipients: list[Case] = []
    changed = set(fields)
    for case in cases:
        new_status = workflow.status_after(case, action)
        if case.status in workflow.IN_TRIAGE and new_status not in workflow.IN_TRIAGE:
            case.triage_due_at = day_start(case.triage_due_at)
            left_triage.append(case.pk)
            changed.add("triage_due_at")
        if case.status in WITH_RECIPIENTS and new_status != case.status:
            left_recipients.append(case)
        if new_status != case.status:
            case.status = new_status
            changed.add("status")
    if changed:
        rows_update(list(cases), sorted(changed))
    if left_triage:
        # The triage clock is met: the alert taken when it was missed keeps the day only, as the case's deadline.
        Escalation.objects.filter(case_id__in=left_triage, step=Escalation.Step.TRIAGE_OVERDUE).update(
            deadline=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("triage_due_at")[:1])
        )
    for case in left_recipients:  # not reached for close (bulk_refusal); kept so no caller skips it
        referral_port().withdraw_open(case, acting_user)
    cases_event(
        kind=action, cases=cases, actor=acting_user, detail=lambda case: {"status": case.status, **detail(case)}
    )


def supervisors_alert_many(cases: Sequence[Case], template: str) -> None:
    """triage.notifications.supervisors_alert for many cases: one email per supervisor per case, queued in one
    insert, and an event on each case saying how many."""
    if not cases:
        return
    addresses = sorted(set(supervisors().filter(is_active=True).exclude(email="").values_list("email", flat=True)))
    if not addresses:
        return
    notifications_queue_many(
        template=template, emails=[(address, CASE, case.pk, "") for case in cases for address in addresses]
    )
    cases_event(kind="staff_alerted", cases=cases, detail=lambda case: {"template": template, "emails": len(addresses)})


def cases_assign(*, cases: Sequence[Case], assignee: User, acting_user: User) -> None:
    if not policy.may(assignee, Permission.HELPLINE_WORK):
        raise workflow.ActionNotAllowed("Cases can only be assigned to active helpline staff.")
    for case in cases:
        case.assignee = assignee
    cases_moved(cases, "assign", acting_user, lambda case: {"assignee": assignee.pk}, fields=["assignee"])


def cases_set_priority(*, cases: Sequence[Case], priority: str, acting_user: User) -> None:
    if priority not in Case.Priority.values:
        raise workflow.ActionNotAllowed("Choose urgent or standard.")
    urgent = priority == Case.Priority.URGENT
    previous: dict[int, str] = {}
    made_urgent: list[Case] = []
    urgent_queue = queue_for("urgent") if urgent else None
    for case in cases:
        previous[case.pk] = case.priority
        if case.priority != priority and case.status in workflow.IN_TRIAGE:
            # Made urgent by staff: the hour runs from now. Made standard: from the day the report was sent.
            case.triage_due_at = (
                timezone.now() + URGENT_TRIAGE
                if urgent
                else deadlines.triage_due(case.report.submitted_at if case.report else case.created_at, urgent=False)
            )
        if urgent and case.priority != priority and urgent_queue is not None:
            case.queue = urgent_queue
            made_urgent.append(case)
        case.priority = priority
    cases_moved(
        cases,
        "set_priority",
        acting_user,
        lambda case: {"from": previous[case.pk], "to": priority},
        fields=["priority", "triage_due_at", "queue"],
    )
    # Now urgent: the supervisors hear of each as of any urgent case.
    supervisors_alert_many(made_urgent, "urgent_case")


def cases_link_duplicate(*, cases: Sequence[Case], other: Case, acting_user: User) -> None:
    """Link each case to ``other`` both ways (once), with an event on each case and one on ``other`` per case,
    as case_link_duplicate does for one."""
    if any(case.pk == other.pk for case in cases):
        raise workflow.ActionNotAllowed("A case cannot be linked to itself.")
    now = recorded_now()
    CaseLink.objects.bulk_create(
        [
            link
            for case in cases
            for link in (
                CaseLink(case=case, other=other, linked_by=acting_user, created_at=now),
                CaseLink(case=other, other=case, linked_by=acting_user, created_at=now),
            )
        ],
        ignore_conflicts=True,
    )
    cases_moved(cases, "link_duplicate", acting_user, lambda case: {"other_case": other.case_number})
    events_record(
        [
            EventWritten(
                kind="link_duplicate",
                subject=(Subject.CASE, other.pk),
                actor=acting_user,
                detail={"other_case": case.case_number},
                at=recorded_now(),
            )
            for case in cases
        ]
    )


def cases_close(*, cases: Sequence[Case], outcome: str, feedback: str, acting_user: User) -> None:
    """case_close for many cases: the same feedback to each reporter's mailbox (sealed with each case's own
    key), the reporters with an address told by email, the retention schedule applied, an event each."""
    if outcome not in Outcome.values:
        raise workflow.ActionNotAllowed("Choose an outcome from the list.")
    if not feedback.strip():
        raise workflow.ActionNotAllowed("Write the feedback the reporter will read.")
    today = timezone.localdate()
    messages = Message.objects.bulk_create(
        [
            Message(
                report=case.report,
                direction=Message.Direction.FROM_HELPLINE,
                author=acting_user,
                body=crypto.seal_text(case_data_key(case), feedback),
                sent_on=today,
            )
            for case in cases
        ]
    )
    message_of = {case.pk: message.pk for case, message in zip(cases, messages, strict=True)}
    notifications_queue_many(
        template="reporter_update",
        emails=[
            (Notification.REPORTER, CASE, case.pk, f"message-{message_of[case.pk]}")
            for case in cases
            if case.report is not None and case.report.has_contact_email
        ],
    )
    now = timezone.now()
    for case in cases:
        case.outcome = outcome
        case.closed_at = now
    retention.rehome_many(list(cases))
    cases_moved(
        cases,
        "close",
        acting_user,
        lambda case: {"outcome": outcome, "message_id": message_of[case.pk]},
        fields=["outcome", "closed_at"],
    )
