from django.apps import AppConfig


class AuditConfig(AppConfig):
    """One append-only, hash-chained stream of every event, written by every app."""

    name = "audit"
    verbose_name = "Audit trail"
