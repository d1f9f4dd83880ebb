from django.apps import AppConfig


class AuditConfig(AppConfig):
    """One append-only, MAC-chained stream of every event, written by every app."""

    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from audit import checks  # noqa: F401 - registers the key checks
