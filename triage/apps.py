from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        import triage.checks  # noqa: F401  (registers the check)
        from triage.handlers import register_handlers
        from triage.metrics import register_triage_gauges
        from triage.notifications import register_case_templates

        register_handlers()
        register_case_templates()
        register_triage_gauges()
