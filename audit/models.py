"""The audit trail: one append-only stream of events about every kind of subject.

A database trigger refuses UPDATE and DELETE; rows are MAC-chained (audit.trail) as their transaction
commits (audit.staging). The subject is a kind and an id rather than a foreign key, so this app sits below
every app that writes to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models
from django.db.models import Q


class Subject(models.TextChoices):
    NONE = "", "Nothing in particular"
    CASE = "case", "A case"
    REPORT = "report", "A report"
    USER = "user", "A member of staff"


class AuditEventManager(models.Manager["AuditEvent"]):
    def get_queryset(self) -> models.QuerySet[AuditEvent]:
        """A transaction reads its own events: those it staged for its commit are chained first (audit.staging)."""
        from audit import staging

        connection = connections[self.db]
        if staging.staged_events(connection):
            staging.chain_staged(connection)
        return super().get_queryset()


class AuditEvent(models.Model):
    subject_kind = models.CharField(max_length=16, choices=Subject.choices, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=48)
    # Codes and ids only: never what anybody wrote.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # How the row's hash is computed (audit.trail): 1 for rows carried over from the case-only trail, 2 for the
    # plain SHA-256 chain after it, 3 (every row written now) for the same payload MACed with AUDIT_MAC_KEY.
    # The default is never used: audit.trail always sets the version.
    chain_version = models.PositiveSmallIntegerField(default=2)
    previous_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventManager()

    class Meta:
        db_table = "audit_event"
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_kind", "subject_id", "id"], name="audit_event_subject")]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_kind="", subject_id__isnull=True)
                | (~Q(subject_kind="") & Q(subject_id__isnull=False)),
                name="audit_event_subject_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class AuditAlert(models.Model):
    """A break the checkpointer found: the trail no longer extends its last signed checkpoint, or cannot be
    matched to it at all. The checkpointer then signs nothing, so the alert stays until a person acts: it is
    shown on /staff/health and emailed to the supervisors and administrators again every
    AUDIT_ALERT_REPEAT_SECONDS until one of them acknowledges it (manage.py audit_alert_acknowledge).

    A superuser who deletes the row gains nothing: the break is recorded in the checkpoint sink, which the
    database cannot reach, and the checkpointer raises the alert again at its next run."""

    # What was broken, so one break is one alert however many runs find it: the digest of the checkpoint
    # line the trail no longer extends, or a name for a trail that cannot be matched to the sink at all.
    fingerprint = models.CharField(max_length=100, unique=True)
    # Ids, counts and line numbers only.
    reason = models.TextField()
    raised_at = models.DateTimeField()
    last_found_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "audit_alert"
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"audit alert #{self.pk}"
