from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared building blocks that import no other app of the project: the working-day calendar,
    content crypto, keyed-hash throttling, clean text fields and identifier alphabets."""

    name = "core"
    verbose_name = "Shared building blocks"
