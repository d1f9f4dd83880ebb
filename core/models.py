from django.db import models


class AccessThrottle(models.Model):
    """Failed attempts per keyed hash (of a reference or username, and a client). Holds no address."""

    key = models.CharField(max_length=64, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        # Created by the reports app before the shared blocks had an app of their own: same table, same rows.
        db_table = "reports_accessthrottle"

    def __str__(self) -> str:
        return f"throttle {self.key[:8]}"


class CustodyKey(models.Model):
    """A custody key's id and dates (core.keystore): never its material, which lives in the key store."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open cases"
        EPOCH = "epoch", "Destruction month"
        HELD = "held", "Legal hold"

    key_id = models.CharField(max_length=32, primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_on = models.DateField()
    # An open-cases or held key replaced by a newer one: its data keys are re-wrapped, then it is destroyed
    # once no backup younger than this day is kept.
    retired_on = models.DateField(null=True, blank=True)
    destroyed_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key_id
