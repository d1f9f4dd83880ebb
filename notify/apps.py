from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """Telling someone something, by channel (email; SMS through GOV.UK Notify), once per occasion, through the
    outbox. It takes addresses, never users, so every app above it may use it; each registers its own templates."""

    name = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notify.metrics import register_notify_gauges
        from notify.services import register_outbox_handler
        from notify.sms import register_outbox_handlers

        register_outbox_handler()
        register_outbox_handlers()
        register_notify_gauges()
