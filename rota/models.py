"""One on-call shift: a member of the helpline staff, primary or secondary, from when to when, with the phone
number pages go to and an optional handover note. Staff times, kept exactly: nothing here is a reporter's."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Shift(models.Model):
    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    role = models.CharField(max_length=16, choices=Role.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Where pages go by SMS while the shift runs (a work phone; on the shift, so each shift may differ).
    phone = models.CharField(max_length=32)
    handover_note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at", "role", "id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start")]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="shift_span")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.person_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"
