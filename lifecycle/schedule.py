"""The retention schedule, applied once a night (lifecycle.tasks.apply_retention, celery beat).

One run a day, in steps, each safe to repeat:

1. **Due cases are destroyed** (lifecycle.shredding): a closed case whose day has come (``Case.destroy_on``),
   not on legal hold, whose content is still there. Cases are taken in batches of RETENTION_BATCH_SIZE, at
   most RETENTION_MAX_BATCHES a run, one transaction per batch: the batch's shred-log lines are written
   together (one fsync) before it commits, and the run's progress (``RetentionRun``) commits with it, so a
   run that is stopped resumes after the last batch it finished. Reports that share a data key (family_of) are
   destroyed together, and only once every one's case is due and none is held; a due case kept for a
   report that is not due has its data key moved under that report's custody key, so that its own epoch
   can still end.
2. **Epoch keys whose month has ended and that no report names any more are destroyed** (core.keystore),
   each an audit event: every backup's copy of those reports' data keys becomes undecryptable.
3. **Reports never routed are never destroyed**: one that has had no case for ROUTING_OVERDUE_HOURS raises
   one alert to the helpline's supervisors (an email each, with no content, and an audit event).
4. **Housekeeping**: processed outbox rows and sent email records older than OUTBOX_RETENTION_DAYS and
   EMAIL_RECORD_RETENTION_DAYS are deleted in batches.

A run that has finished is not repeated the same day. Days and counts only: nothing anyone wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from audit.models import Subject
from audit.trail import event_record
from core import keystore
from core.models import CustodyKey
from core.timetrail import day_start
from lifecycle import keys as keys_module
from lifecycle import shredlog
from lifecycle.keys import custody_key_destroy_unused
from lifecycle.models import RetentionRun, UnroutedAlert
from lifecycle.shredding import CaseHeld, family_of, shred_family, shred_review_case
from notify.registry import register_templates
from notify.services import notification_queue, sent_purge
from outbox.services import processed_purge
from reports.models import Report
from reports.notifications import REPORT
from triage import retention
from triage.events import case_event
from triage.models import Case, LegalHold
from triage.notifications import supervisors

log = logging.getLogger(__name__)

WHY = "schedule"
# One run at a time, across workers: a session-level advisory lock, released when the run ends or its
# connection goes (a killed worker holds nothing).
_RUN_LOCK = 0x5245_5445  # "RETE"
UNROUTED_TEMPLATE = "report_unrouted"
KEY_DESTROYED = keys_module.KEY_DESTROYED


# --- which cases ------------------------------------------------------------------------------------------


def _held() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(released_on__isnull=True)


def due_cases(today: date) -> QuerySet[Case]:
    """Closed cases whose day has come, whose content is still there: the held ones included."""
    # A review case has no report: its own key says whether its content is still there.
    kept = Q(report__isnull=False, report__content_destroyed_on__isnull=True) | Q(
        report__isnull=True, own_key__content_destroyed_on__isnull=True
    )
    return Case.objects.filter(kept, status=Case.Status.CLOSED, destroy_on__lte=today)


def destroyable_cases(today: date) -> QuerySet[Case]:
    """Due cases not on legal hold: what the schedule destroys (unless a report sharing its key waits)."""
    return due_cases(today).exclude(pk__in=_held().values("case_id"))


def _due(case: Case | None, today: date) -> bool:
    """Whether ``case`` may go today: closed, its day come, not held. A report with no case never may."""
    return (
        case is not None
        and case.status == Case.Status.CLOSED
        and case.destroy_on is not None
        and case.destroy_on <= today
        and not _held().filter(case=case).exists()
    )


# Which of several custody keys outlives the others: a held key outlives every epoch, and the open-cases key
# any epoch of a case still to be closed; of two epochs, the later month.
_KEY_RANK = {keystore.EPOCH: 0, keystore.OPEN: 1, keystore.HELD: 2}


def _longest_lived(key_ids: list[str]) -> str:
    return max(key_ids, key=lambda key_id: (_KEY_RANK[keystore.kind_of(key_id)], key_id))


@dataclass(frozen=True)
class Step:
    """What the schedule did with one case."""

    destroyed: int = 0
    waiting: int = 0
    rewrapped: int = 0
    # The shred log's lines for what was destroyed: the caller writes them before its transaction commits.
    logged: tuple[shredlog.ShredEntry, ...] = ()


def _case_apply(case_id: int, today: date) -> Step:
    """Destroy one due case with its family, or keep it for a member that is not due. In the caller's
    transaction, with the family's reports and cases locked (in shred_family's order), so that a case
    reopened, held or extended meanwhile is seen as it now is. The shred log is not written here: the
    caller writes ``Step.logged`` before its transaction commits (cases_apply)."""
    first = Case.objects.select_related("report").filter(pk=case_id).first()
    if first is None:
        return Step()
    if first.report is None:  # a review case: no family, its own key
        if not _due(first, today):
            return Step()
        try:
            shredded = shred_review_case(first, why=WHY, log=False)
        except CaseHeld:
            return Step()
        return Step(destroyed=len(shredded.case_numbers), logged=tuple(shredded.entries))
    members = [member.pk for member in family_of(first.report)]
    reports = list(Report.objects.select_for_update(of=("self",)).filter(pk__in=members).order_by("pk"))
    cases = {
        int(case.report_id or 0): case
        for case in Case.objects.select_for_update(of=("self",)).filter(report__in=reports).order_by("pk")
    }
    own = cases.get(first.report.pk)
    report = next(member for member in reports if member.pk == first.report_id)
    if report.content_destroyed_on is not None or not _due(own, today):
        return Step()
    blocking = [
        member for member in reports if member.content_destroyed_on is None and not _due(cases.get(member.pk), today)
    ]
    if blocking:
        return _wait_for(report, own, blocking, cases)
    try:
        destroyed = shred_family(report, why=WHY, log=False)
    except CaseHeld:
        return Step()
    return Step(destroyed=len(destroyed.case_numbers), logged=tuple(destroyed.entries))


def _wait_for(report: Report, case: Case | None, blocking: list[Report], cases: dict[int, Case]) -> Step:
    """Keep a due case for the members of its family that are not due: its data key (theirs too) goes under
    the custody key that outlives theirs, so its own epoch key can be destroyed when its month ends."""
    keys = [
        retention.custody_key_for(cases[member.pk]) if member.pk in cases else keystore.open_key_id()
        for member in blocking
    ]
    target = _longest_lived(keys)
    if report.custody_key_id == target:
        return Step(waiting=1)
    fields = keystore.place(report, target)
    Report.objects.filter(pk=report.pk).update(**{field: getattr(report, field) for field in fields})
    if case is not None:
        waiting_for = sorted(cases[member.pk].case_number for member in blocking if member.pk in cases)
        case_event(
            kind="destruction_deferred",
            case=case,
            detail={"waiting_for": waiting_for, "unrouted": len(blocking) - len(waiting_for)},
        )
    return Step(waiting=1, rewrapped=1)


def _run_update(run: RetentionRun, **counts: Any) -> None:
    """Add to the run's counts (and set its cursor), in the caller's transaction."""
    changes: dict[str, Any] = {name: F(name) + value for name, value in counts.items() if name != "last_case_id"}
    if "last_case_id" in counts:
        changes["last_case_id"] = counts["last_case_id"]
    RetentionRun.objects.filter(pk=run.pk).update(**changes)


def cases_apply(case_ids: list[int], today: date) -> Step:
    """Apply the schedule to a batch of due cases, in the caller's transaction, and write the shred-log lines
    of every case it destroyed together (written and fsynced once), before that transaction commits: a
    destroyed case is always in the log (a restore re-applies it), and a log that cannot be written leaves
    the batch undone. Returns the batch's counts."""
    steps = [_case_apply(case_id, today) for case_id in case_ids]
    logged = tuple(entry for step in steps for entry in step.logged)
    shredlog.append(list(logged))
    return Step(
        destroyed=sum(step.destroyed for step in steps),
        waiting=sum(step.waiting for step in steps),
        rewrapped=sum(step.rewrapped for step in steps),
        logged=logged,
    )


def cases_destroy(run: RetentionRun, today: date) -> None:
    """Step 1, in batches from the run's cursor, until none is left or the run's cap is reached. Each batch is
    one transaction, its progress committed with it."""
    size = max(1, int(settings.RETENTION_BATCH_SIZE))
    cap = max(1, int(settings.RETENTION_MAX_BATCHES))
    while True:
        run.refresh_from_db()
        remaining = destroyable_cases(today).filter(pk__gt=run.last_case_id).order_by("pk")
        if run.batches >= cap:
            RetentionRun.objects.filter(pk=run.pk).update(capped=remaining.exists())
            return
        batch = list(remaining.values_list("pk", flat=True)[:size])
        if not batch:
            return
        with transaction.atomic():
            step = cases_apply(batch, today)
            _run_update(
                run,
                last_case_id=batch[-1],
                batches=1,
                destroyed=step.destroyed,
                waiting=step.waiting,
                rewrapped=step.rewrapped,
            )


# --- epoch keys -------------------------------------------------------------------------------------------


def _epoch_key_ids() -> set[str]:
    """Every epoch key not recorded as destroyed: recorded ones, and any in the store without a record."""
    recorded = set(
        CustodyKey.objects.filter(kind=keystore.EPOCH, destroyed_on__isnull=True).values_list("key_id", flat=True)
    )
    destroyed = set(
        CustodyKey.objects.filter(kind=keystore.EPOCH, destroyed_on__isnull=False).values_list("key_id", flat=True)
    )
    stored = {key_id for key_id in keystore.store().key_ids() if keystore.kind_of(key_id) == keystore.EPOCH}
    return recorded | (stored - destroyed)


def epochs_destroy(run: RetentionRun, today: date) -> list[str]:
    """Step 2: destroy every epoch key whose month has ended and that no report names any more. A key still
    named by a row is never destroyed (the schedule's next run shreds its cases first)."""
    done = []
    for key_id in sorted(_epoch_key_ids()):
        if keystore.epoch_month_end(key_id) >= today:
            continue
        if not custody_key_destroy_unused(key_id, why=WHY):
            continue
        with transaction.atomic():
            _run_update(run, epochs_destroyed=1)
        done.append(key_id)
    return done


# --- reports never routed ---------------------------------------------------------------------------------


def unrouted_reports(now: datetime | None = None) -> QuerySet[Report]:
    """Reports still without a case ROUTING_OVERDUE_HOURS after the day they were sent. A report keeps its
    day only (core.timetrail), so it counts as sent at the end of that day: none is called late early."""
    now = now or timezone.now()
    limit = now - timedelta(hours=int(settings.ROUTING_OVERDUE_HOURS)) - timedelta(days=1)
    return Report.objects.filter(case__isnull=True, content_destroyed_on__isnull=True, submitted_at__lt=limit)


def unrouted_alert(run: RetentionRun, today: date, now: datetime | None = None) -> int:
    """Step 3: one alert per unrouted report, ever: an email to each supervisor and an audit event."""
    raised = 0
    for report_id in (
        unrouted_reports(now).filter(unrouted_alert__isnull=True).order_by("pk").values_list("pk", flat=True)
    ):
        with transaction.atomic():
            alert, created = UnroutedAlert.objects.get_or_create(report_id=report_id, defaults={"raised_on": today})
            if not created:
                continue
            recipients = supervisors().exclude(email="").distinct().order_by("pk")
            emails = [
                notification_queue(
                    recipient=user.email, template=UNROUTED_TEMPLATE, subject_kind=REPORT, subject_id=report_id
                )
                for user in recipients
            ]
            alert.emails = len(emails)
            alert.save(update_fields=["emails"])
            event_record(
                kind="report_unrouted_alert",
                subject=(Subject.REPORT, report_id),
                detail={"emails": len(emails), "hours": int(settings.ROUTING_OVERDUE_HOURS)},
            )
            _run_update(run, unrouted_alerts=1)
        raised += 1
    return raised


def unrouted_email_context(notification: Any) -> dict[str, object]:
    """What the alert may name: the report's reference (helpline-internal, as the case emails do), how long
    the limit is, and the staff health page, where the reports waiting are listed. Never content."""
    report = Report.objects.filter(pk=notification.subject_id).only("reference").first()
    return {
        "reference": report.reference if report is not None else "",
        "hours": int(settings.ROUTING_OVERDUE_HOURS),
        # helpline/urls.py's staff_health: written out, since the worker that sends email serves no pages.
        "health_url": f"{settings.STAFF_SITE_URL.rstrip('/')}/staff/health",
    }


def register_unrouted_template() -> None:
    register_templates([UNROUTED_TEMPLATE], context=unrouted_email_context)


# --- housekeeping -----------------------------------------------------------------------------------------


def housekeeping(run: RetentionRun, today: date) -> None:
    """Step 4: old processed outbox rows and old sent email records, in batches (at most the run's cap of
    each). Work still waiting and email not sent yet are never deleted."""
    size = max(1, int(settings.PURGE_BATCH_SIZE))
    cap = max(1, int(settings.RETENTION_MAX_BATCHES))
    purges = (
        ("outbox_purged", processed_purge, day_start(today - timedelta(days=int(settings.OUTBOX_RETENTION_DAYS)))),
        ("emails_purged", sent_purge, day_start(today - timedelta(days=int(settings.EMAIL_RECORD_RETENTION_DAYS)))),
    )
    for counter, purge, before in purges:
        for _ in range(cap):
            with transaction.atomic():
                deleted = purge(before=before, limit=size)
                _run_update(run, **{counter: deleted})
            if deleted < size:
                break


# --- the run ---------------------------------------------------------------------------------------------


@contextmanager
def _run_lock() -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_RUN_LOCK])
        row = cursor.fetchone()
    got = bool(row and row[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_RUN_LOCK])


def retention_apply(*, today: date | None = None) -> RetentionRun | None:
    """Run the day's schedule, or resume it where it stopped. None when another worker is running it."""
    today = today or timezone.localdate()
    with _run_lock() as got:
        if not got:
            log.info("the retention schedule is running elsewhere")
            return None
        run, _ = RetentionRun.objects.get_or_create(day=today)
        if run.finished:
            return run
        cases_destroy(run, today)
        epochs_destroy(run, today)
        unrouted_alert(run, today)
        housekeeping(run, today)
        RetentionRun.objects.filter(pk=run.pk).update(
            finished=True, skipped_held=due_cases(today).filter(pk__in=_held().values("case_id")).count()
        )
        run.refresh_from_db()
    # Days and counts only.
    log.info(
        "retention run of %s: %d destroyed, %d held, %d waiting, %d epoch keys destroyed, %d unrouted alerts",
        run.day,
        run.destroyed,
        run.skipped_held,
        run.waiting,
        run.epochs_destroyed,
        run.unrouted_alerts,
    )
    return run


# --- for the staff health page ------------------------------------------------------------------------------


UNROUTED_LISTED = 20


def schedule_health() -> dict[str, Any]:
    """The last run's figures, and the reports waiting for routing past the limit (JSON-ready)."""
    run = RetentionRun.objects.order_by("-day").first()
    last: dict[str, Any] | None = None
    if run is not None:
        last = {
            "day": run.day.isoformat(),
            "finished": run.finished,
            "capped": run.capped,
            "destroyed": run.destroyed,
            "skipped_held": run.skipped_held,
            "waiting": run.waiting,
            "epochs_destroyed": run.epochs_destroyed,
            "unrouted_alerts": run.unrouted_alerts,
            "outbox_purged": run.outbox_purged,
            "emails_purged": run.emails_purged,
        }
    unrouted = unrouted_reports().order_by("pk")
    listed = list(unrouted.values("reference", "submitted_at", "unrouted_alert__raised_on")[:UNROUTED_LISTED])
    today = timezone.localdate()
    # Last night's run has finished (or tonight's is under way), and no report waits to be routed.
    ran = run is not None and (run.day == today or (run.day == today - timedelta(days=1) and run.finished))
    return {
        "ok": ran and not listed,
        "last_run": last,
        "unrouted": {
            "count": unrouted.count() if len(listed) == UNROUTED_LISTED else len(listed),
            "hours": int(settings.ROUTING_OVERDUE_HOURS),
            "reports": [
                {
                    "reference": row["reference"],
                    "sent_on": timezone.localdate(row["submitted_at"]).isoformat(),
                    "alerted_on": row["unrouted_alert__raised_on"].isoformat()
                    if row["unrouted_alert__raised_on"]
                    else None,
                }
                for row in listed
            ],
        },
    }
