"""The audit trail: one append-only stream of events about every kind of subject.

A database trigger refuses UPDATE and DELETE; rows are hash-chained (audit.trail). The subject is a kind
and an id rather than a foreign key, so this app sits below every app that writes to it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Subject(models.TextChoices):
    NONE = "", "Nothing in particular"
    CASE = "case", "A case"
    REPORT = "report", "A report"
    USER = "user", "A member of staff"


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
    # How the row's hash is computed: 1 for rows carried over from the case-only trail, 2 since.
    chain_version = models.PositiveSmallIntegerField(default=2)
    previous_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

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
