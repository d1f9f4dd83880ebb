from django.apps import AppConfig


class AuditConfig(AppConfig):
    """One append-only, MAC-chained stream of every event, written by every app."""

    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from audit import checks  # noqa: F401 - registers the key checks
        from audit.staging import install

        # Events written inside a transaction are chained just before it commits.
        connection_created.connect(install, dispatch_uid="audit-chain-at-commit")
