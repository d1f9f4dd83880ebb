"""Start-up checks for the content keys: a lost key file must never silently make reports unreadable."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from core import crypto
from reports.models import Report


def missing_private_key_ids() -> set[str]:
    used = set(Report.objects.values_list("helpline_key_id", flat=True).distinct())
    return used - crypto.loaded_private_key_ids()


@register(Tags.database)
def reports_sealed_to_loaded_keys(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.HELPLINE_ROLE == "public" or not databases:
        return []
    try:
        missing = missing_private_key_ids()
    except DatabaseError:
        return []
    if missing:
        return [
            Error(
                f"Reports are sealed to key ids this process cannot load: {sorted(missing)}",
                hint="Restore the escrowed private key into HELPLINE_PRIVATE_KEYS; never start without it.",
                id="reports.E001",
            )
        ]
    return []


def refuse_to_start_without_keys() -> None:
    """Called as the staff web service and the workers start: stop rather than run unable to read reports."""
    if settings.HELPLINE_ROLE == "public":
        return
    try:
        missing = missing_private_key_ids()
    except DatabaseError:
        return  # the database is not reachable yet; /healthz will say so
    if missing:
        raise ImproperlyConfigured(
            f"Reports are sealed to key ids this process cannot load: {sorted(missing)}. "
            "Restore the escrowed private key into HELPLINE_PRIVATE_KEYS."
        )
