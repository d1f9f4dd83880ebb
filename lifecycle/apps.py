from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """A case's life after its work is done: the retention schedule, legal hold, shredding, key rotation,
    backups that restore and evidence export. Above referrals: it reaches every sealed column of a case."""

    name = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        from lifecycle.schedule import register_unrouted_template

        register_unrouted_template()
