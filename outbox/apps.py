from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The transactional outbox and the workers' heartbeat. It knows kinds of work, never who does it:
    each app registers the handler for its own kinds in its AppConfig.ready."""

    name = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from outbox.metrics import register_outbox_gauges

        register_outbox_gauges()
