from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from core.roles import runtime_grants


class CoreConfig(AppConfig):
    """Shared building blocks that import no other app of the project: the working-day calendar,
    content crypto, keyed-hash throttling, clean text fields, identifier alphabets and the runtime
    database role's privileges."""

    name = "core"
    verbose_name = "Shared building blocks"

    def ready(self) -> None:
        post_migrate.connect(_grant_after_migrate, sender=self)


def _grant_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every migrate, the runtime role gets its privileges on tables that migrate just created."""
    runtime_grants(connections[using])
