from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """A case's life after its work is done: the retention schedule, legal hold, shredding, key rotation,
    backups that restore and evidence export. Above referrals: it reaches every sealed column of a case."""

    name = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        # The open-cases key's daily replacement is a task outside a tasks module: registered here.
        from lifecycle import keys  # noqa: F401
        from lifecycle.bundle import register_handlers
        from lifecycle.schedule import register_unrouted_template

        register_handlers()
        register_unrouted_template()
