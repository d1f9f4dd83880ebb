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
