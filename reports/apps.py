from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from reports import checks  # noqa: F401
        from reports.attachment_pipeline import register_handlers
        from reports.notifications import register_reporter_notifications
        from reports.receipts import register_handlers as register_receipt_handlers

        register_reporter_notifications()
        register_handlers()
        register_receipt_handlers()
