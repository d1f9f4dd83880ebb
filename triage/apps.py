from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from accounts import notices
        from triage.handlers import register_handlers
        from triage.notifications import approval_waiting_tell

        register_handlers()
        # Administrators hear that a request waits for their approval (accounts cannot import the mail queue).
        notices.register(approval_waiting_tell)
