"""Work committed with the change that causes it, and the heartbeat of the workers that do it.

The tables keep the names they were created with when these models lived in triage.
"""

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """Work that must happen after a commit. Committed with the change that caused it; claimed with
    a lease, so a worker that dies mid-task delays the work but never loses it."""

    # A kind that some app registered a handler for (outbox.registry); the outbox never lists them.
    kind = models.CharField(max_length=32)
    target_id = models.BigIntegerField()
    # The day only, like processed_at: most rows are a reporter's doing (core.timetrail). Rows are ordered
    # by id, and how long one has waited is counted in sweeps, not read from a clock.
    created_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # How many sweeps have found this row unclaimed and unprocessed: at the second it is re-sent.
    sweeps = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "triage_outboxmessage"
        constraints = [
            models.UniqueConstraint(fields=["kind", "target_id"], name="outbox_one_per_target"),
        ]
        indexes = [
            models.Index(fields=["id"], name="outbox_pending", condition=Q(processed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id}"


class WorkerHeartbeat(models.Model):
    """The last beat of each worker host: the health page and the watchdog read it."""

    name = models.CharField(max_length=128, primary_key=True)
    beat_at = models.DateTimeField()

    class Meta:
        db_table = "triage_workerheartbeat"

    def __str__(self) -> str:
        return self.name
