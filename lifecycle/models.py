"""The retention schedule's own records: each night's run, and the alerts about reports never routed.

Days and counts only: nothing anyone wrote, and no time of day.
"""

from django.db import models


class RetentionRun(models.Model):
    """One night's run of the retention schedule (lifecycle.schedule). Its progress commits with each case it
    acts on, so a run that is stopped part-way resumes where it stopped: ``last_case_id`` is the last case
    done, and the counts are what the run has done so far."""

    day = models.DateField(unique=True)
    finished = models.BooleanField(default=False)
    # Stopped at RETENTION_MAX_BATCHES with due cases left: the next night's run goes on with them.
    capped = models.BooleanField(default=False)
    batches = models.PositiveIntegerField(default=0)
    last_case_id = models.BigIntegerField(default=0)
    # Cases whose content was destroyed (a family's members each count).
    destroyed = models.PositiveIntegerField(default=0)
    # Due cases kept because they are on legal hold, when the run finished.
    skipped_held = models.PositiveIntegerField(default=0)
    # Due cases kept because a report sharing their data key is not due yet (or is held, or was never routed).
    waiting = models.PositiveIntegerField(default=0)
    # Of those, how many had their data key moved under that report's key, so that their epoch can end.
    rewrapped = models.PositiveIntegerField(default=0)
    epochs_destroyed = models.PositiveIntegerField(default=0)
    unrouted_alerts = models.PositiveIntegerField(default=0)
    outbox_purged = models.PositiveIntegerField(default=0)
    emails_purged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Retention run of {self.day}"


class UnroutedAlert(models.Model):
    """The supervisors were told that a report has had no case for longer than ROUTING_OVERDUE_HOURS: once
    per report, however many nights it stays unrouted."""

    report = models.OneToOneField("reports.Report", on_delete=models.CASCADE, related_name="unrouted_alert")
    raised_on = models.DateField()
    emails = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Unrouted report alert ({self.raised_on})"
