"""The retention schedule's nightly run: what it destroys, what it keeps, and that a run stopped part-way
resumes and a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from core import crypto, keystore
from core.timetrail import day_start
from lifecycle import schedule, shredlog
from lifecycle.models import RetentionRun, UnroutedAlert
from lifecycle.shredding import shred_family
from notify.models import Notification
from reports.models import Report
from reports.services import ReportDestroyed, report_unlock
from tests.factories import case_closed, routed_case, staff_user, submit_report
from triage import retention
from triage.case_content import case_open
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def _destroyed(case: Case) -> bool:
    return Report.objects.get(pk=case.report_id).content_destroyed_on is not None


def _hold(case: Case, by: Any) -> None:
    retention.hold_place(case=case, basis="inquiry_notice", reason="Inquiry notice 12", acting_user=by)


def test_a_due_case_is_destroyed_and_a_case_not_due_is_kept() -> None:
    supervisor = staff_user()
    due = case_closed(routed_case(), supervisor, Outcome.NO_FURTHER_ACTION)  # 24 months
    later = case_closed(routed_case(), supervisor, Outcome.NOT_SUBSTANTIATED)  # 36 months
    still_open = routed_case()
    assert due.destroy_on is not None and later.destroy_on is not None and due.destroy_on < later.destroy_on

    # The day before: nothing is due.
    before = schedule.retention_apply(today=due.destroy_on - timedelta(days=1))
    assert before is not None and before.destroyed == 0 and not _destroyed(due)

    run = schedule.retention_apply(today=due.destroy_on)

    assert run is not None and run.finished and run.destroyed == 1
    assert _destroyed(due)
    assert not _destroyed(later) and not _destroyed(still_open)
    assert case_open(case=later, acting_user=supervisor).content["summary"] == "Missing episodes ignored"
    assert [entry.case_number for entry in shredlog.entries()] == [due.case_number]
    event = AuditEvent.objects.filter(kind="content_destroyed").get()
    assert event.subject_id == due.pk and event.detail["why"] == "schedule"


def test_a_case_on_legal_hold_is_kept_and_counted() -> None:
    supervisor = staff_user()
    held = case_closed(routed_case(), supervisor)
    free = case_closed(routed_case(), supervisor)
    _hold(held, supervisor)

    run = schedule.retention_apply(today=free.destroy_on)

    assert run is not None and run.destroyed == 1 and run.skipped_held == 1
    assert _destroyed(free) and not _destroyed(held)
    assert case_open(case=held, acting_user=supervisor).content["summary"] == "Missing episodes ignored"


def test_a_case_released_from_hold_after_its_day_is_destroyed_at_the_next_run() -> None:
    supervisor = staff_user()
    case = case_closed(routed_case(), supervisor)
    own_epoch = keystore.epoch_key_id(case.destroy_on)
    _hold(case, supervisor)
    later = day_start(keystore.epoch_month_end(own_epoch) + timedelta(days=3))
    with time_machine.travel(later, tick=False):
        # Its month has ended and nothing is under its epoch key any more (the hold moved it): destroyed.
        held = schedule.retention_apply()
        assert held is not None and held.destroyed == 0 and held.skipped_held == 1 and held.epochs_destroyed == 1

        retention.hold_release(case=case, acting_user=supervisor)

        # Its data key waits under this month's epoch key, which outlives the next run.
        report = Report.objects.get(pk=case.report_id)
        assert report.custody_key_id == keystore.epoch_key_id(timezone.localdate()) != own_epoch
        reloaded = Case.objects.select_related("report").get(pk=case.pk)
        assert case_open(case=reloaded, acting_user=supervisor).content["summary"] == "Missing episodes ignored"
    with time_machine.travel(later + timedelta(days=1), tick=False):
        run = schedule.retention_apply()
    assert run is not None and run.destroyed == 1 and _destroyed(case)


def test_a_report_never_routed_is_never_destroyed_and_raises_one_alert() -> None:
    staff_user("supervisor-a", email="a@helpline.test")
    staff_user("supervisor-b", email="b@helpline.test")
    staff_user("handler", role="call_handler", email="handler@helpline.test")
    waiting = submit_report()
    fresh = submit_report()
    # Sent ten years ago, and never routed.
    long_ago = timezone.now() - timedelta(days=3650)
    Report.objects.filter(pk=waiting.report.pk).update(submitted_at=long_ago)
    far_future = timezone.localdate() + timedelta(days=4000)

    first = schedule.retention_apply(today=far_future)
    second = schedule.retention_apply(today=far_future + timedelta(days=1))

    assert first is not None and second is not None
    assert first.unrouted_alerts == 1 and second.unrouted_alerts == 0
    alerts = Notification.objects.filter(template=schedule.UNROUTED_TEMPLATE)
    assert sorted(alerts.values_list("recipient", flat=True)) == ["a@helpline.test", "b@helpline.test"]
    assert set(alerts.values_list("subject_id", flat=True)) == {waiting.report.pk}
    assert UnroutedAlert.objects.get().report_id == waiting.report.pk
    assert AuditEvent.objects.filter(kind="report_unrouted_alert", subject_id=waiting.report.pk).count() == 1
    # Kept whole: the reporter still opens it.
    report, key = report_unlock(reference=waiting.report.reference, access_code=waiting.access_code, client="c")
    assert report.content_destroyed_on is None
    assert crypto.open_content(key, bytes(report.content))["summary"] == "Missing episodes ignored"
    assert not UnroutedAlert.objects.filter(report_id=fresh.report.pk).exists()


def test_the_alert_email_names_the_reference_and_nothing_written() -> None:
    from notify.services import email_render

    staff_user()
    waiting = submit_report()
    Report.objects.filter(pk=waiting.report.pk).update(submitted_at=timezone.now() - timedelta(days=5))
    schedule.retention_apply()
    email = email_render(Notification.objects.get(template=schedule.UNROUTED_TEMPLATE))
    assert waiting.report.reference in email.body and "/staff/health" in email.body
    assert "Missing episodes" not in email.body and "Northside" not in email.body


class Stopped(Exception):
    """A worker killed part-way through the run."""


def test_a_run_stopped_after_one_batch_resumes_where_it_stopped_and_finishes(settings: Any, monkeypatch: Any) -> None:
    settings.RETENTION_BATCH_SIZE = 2
    supervisor = staff_user()
    cases = [case_closed(routed_case(), supervisor) for _ in range(5)]
    day = cases[0].destroy_on
    real = shred_family
    calls = []

    def killed_in_the_second_batch(report: Report, **kwargs: Any) -> Any:
        calls.append(report.pk)
        if len(calls) == 3:
            raise Stopped
        return real(report, **kwargs)

    monkeypatch.setattr(schedule, "shred_family", killed_in_the_second_batch)
    with pytest.raises(Stopped):
        schedule.retention_apply(today=day)

    stopped = RetentionRun.objects.get(day=day)
    assert (stopped.finished, stopped.batches, stopped.destroyed) == (False, 1, 2)
    assert stopped.last_case_id == cases[1].pk
    assert [_destroyed(case) for case in cases] == [True, True, False, False, False]

    monkeypatch.setattr(schedule, "shred_family", real)
    resumed = schedule.retention_apply(today=day)

    assert resumed is not None and resumed.pk == stopped.pk
    assert resumed.finished and resumed.destroyed == 5 and resumed.batches == 3
    assert all(_destroyed(case) for case in cases)
    # Each case once in the log and in the trail: nothing was done twice.
    assert sorted(entry.case_number for entry in shredlog.entries()) == sorted(case.case_number for case in cases)
    assert AuditEvent.objects.filter(kind="content_destroyed").count() == 5


def test_a_batchs_shred_log_lines_are_written_together_before_the_batch_commits(
    settings: Any, monkeypatch: Any
) -> None:
    settings.RETENTION_BATCH_SIZE = 3
    supervisor = staff_user()
    cases = [case_closed(routed_case(), supervisor) for _ in range(5)]
    real = shredlog.append
    writes: list[tuple[list[str], bool, int]] = []

    def append(entries: list[Any]) -> None:
        # Inside the batch's transaction: its cases are destroyed there, and its progress not yet counted.
        writes.append(
            (
                [entry.case_number for entry in entries],
                connection.in_atomic_block,
                RetentionRun.objects.get().destroyed,
            )
        )
        real(entries)

    monkeypatch.setattr(shredlog, "append", append)
    run = schedule.retention_apply(today=cases[0].destroy_on)

    assert run is not None and run.finished and (run.destroyed, run.batches) == (5, 2)
    numbers = [case.case_number for case in cases]
    assert writes == [(numbers[:3], True, 0), (numbers[3:], True, 3)]
    # One chain, in order, each line signed: shredlog.entries checks it.
    assert [entry.case_number for entry in shredlog.entries()] == numbers


def test_a_batch_whose_shred_log_cannot_be_written_is_left_undone(settings: Any, monkeypatch: Any) -> None:
    settings.RETENTION_BATCH_SIZE = 2
    supervisor = staff_user()
    cases = [case_closed(routed_case(), supervisor) for _ in range(3)]
    real = shredlog.append

    def disk_full_in_the_second_batch(entries: list[Any]) -> None:
        if entries and entries[0].case_number == cases[2].case_number:
            raise OSError("No space left on device")
        real(entries)

    monkeypatch.setattr(shredlog, "append", disk_full_in_the_second_batch)
    with pytest.raises(OSError, match="No space"):
        schedule.retention_apply(today=cases[0].destroy_on)

    stopped = RetentionRun.objects.get()
    assert (stopped.finished, stopped.batches, stopped.destroyed, stopped.last_case_id) == (False, 1, 2, cases[1].pk)
    assert [_destroyed(case) for case in cases] == [True, True, False]
    assert [entry.case_number for entry in shredlog.entries()] == [case.case_number for case in cases[:2]]
    assert AuditEvent.objects.filter(kind="content_destroyed").count() == 2

    monkeypatch.setattr(shredlog, "append", real)
    resumed = schedule.retention_apply(today=cases[0].destroy_on)
    assert resumed is not None and resumed.finished and resumed.destroyed == 3
    assert [entry.case_number for entry in shredlog.entries()] == [case.case_number for case in cases]


def test_a_second_run_changes_nothing() -> None:
    supervisor = staff_user()
    case = case_closed(routed_case(), supervisor)
    case_closed(routed_case(), supervisor, Outcome.SUBSTANTIATED)  # not due for years
    first = schedule.retention_apply(today=case.destroy_on)
    assert first is not None and first.destroyed == 1
    events, lines = AuditEvent.objects.count(), len(shredlog.entries())
    reports = list(Report.objects.order_by("pk").values())

    again = schedule.retention_apply(today=case.destroy_on)
    next_day = schedule.retention_apply(today=case.destroy_on + timedelta(days=1))

    assert again is not None and again.pk == first.pk and again.destroyed == 1
    assert next_day is not None and next_day.finished and next_day.destroyed == 0
    assert AuditEvent.objects.count() == events and len(shredlog.entries()) == lines
    assert list(Report.objects.order_by("pk").values()) == reports


def test_the_run_stops_at_its_cap_and_the_next_run_goes_on(settings: Any) -> None:
    settings.RETENTION_BATCH_SIZE = 1
    settings.RETENTION_MAX_BATCHES = 2
    supervisor = staff_user()
    cases = [case_closed(routed_case(), supervisor) for _ in range(3)]
    day = cases[0].destroy_on

    first = schedule.retention_apply(today=day)
    assert first is not None and (first.destroyed, first.capped, first.finished) == (2, True, True)
    assert [_destroyed(case) for case in cases] == [True, True, False]

    second = schedule.retention_apply(today=day + timedelta(days=1))
    assert second is not None and (second.destroyed, second.capped) == (1, False)
    assert all(_destroyed(case) for case in cases)


def test_verify_audit_passes_after_the_schedule_destroyed_cases(capsys: Any) -> None:
    supervisor = staff_user()
    cases = [case_closed(routed_case(), supervisor) for _ in range(2)]
    case_open(case=cases[0], acting_user=supervisor)
    run = schedule.retention_apply(today=cases[0].destroy_on)
    assert run is not None and run.destroyed == 2

    call_command("verify_audit")

    assert "The audit trail is intact" in capsys.readouterr().out


def test_reporter_activity_after_closure_puts_the_day_off() -> None:
    from reports.services import message_send_from_reporter
    from triage.intake import report_route, reporter_replied

    supervisor = staff_user()
    submitted = submit_report()
    case = case_closed(report_route(report_id=submitted.report.pk), supervisor)
    first_day = case.destroy_on
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
        message_send_from_reporter(report=report, data_key=key, body="One more thing.")
        reporter_replied(report.messages.latest("id").pk)
    case.refresh_from_db()
    assert case.destroy_on is not None and first_day is not None and case.destroy_on > first_day

    run = schedule.retention_apply(today=first_day)

    assert run is not None and run.destroyed == 0 and not _destroyed(case)


def test_the_beat_runs_the_schedule_every_night(settings: Any) -> None:
    from lifecycle.tasks import apply_retention

    entry = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert entry["task"] == apply_retention.name
    assert entry["schedule"].hour == {2}


def test_the_reporter_is_told_their_report_was_destroyed() -> None:
    supervisor = staff_user()
    submitted = submit_report()
    from triage.intake import report_route

    case = case_closed(report_route(report_id=submitted.report.pk), supervisor)
    schedule.retention_apply(today=case.destroy_on)
    with pytest.raises(ReportDestroyed) as destroyed:
        report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    assert destroyed.value.args[0] == timezone.localdate()


def test_the_command_runs_todays_schedule_once(capsys: Any) -> None:
    staff_user()
    waiting = submit_report()
    Report.objects.filter(pk=waiting.report.pk).update(submitted_at=timezone.now() - timedelta(days=5))

    call_command("apply_retention")
    call_command("apply_retention")

    out = capsys.readouterr().out.splitlines()
    today = timezone.localdate().isoformat()
    assert out[0].startswith(f"Retention run of {today}: 0 destroyed") and "1 unrouted report alerts" in out[0]
    assert out[1] == out[0]  # the finished run, not a second one
    assert RetentionRun.objects.filter(day=timezone.localdate()).count() == 1
    assert Notification.objects.filter(template=schedule.UNROUTED_TEMPLATE).count() == 1


def test_a_run_already_under_way_elsewhere_is_left_alone() -> None:
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [schedule._RUN_LOCK])
        assert schedule.retention_apply() is None
        assert not RetentionRun.objects.exists()
        # Let go before closing: a closed connection's backend ends, and frees the lock, a moment later (a
        # loaded machine once ran the next line before it had).
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [schedule._RUN_LOCK])
    finally:
        other.close()
    assert schedule.retention_apply() is not None
