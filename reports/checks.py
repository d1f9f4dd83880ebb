"""Start-up checks for the content keys: a lost key file must never silently make reports unreadable."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from core import crypto, keystore
from reports.models import Report


def missing_private_key_ids() -> set[str]:
    """Key ids rows name that this process cannot load: helpline private keys, and custody keys that are
    neither in the key store nor recorded as destroyed (core.keystore)."""
    used = set(Report.objects.exclude(helpline_key_id="").values_list("helpline_key_id", flat=True).distinct())
    custody = set(Report.objects.exclude(custody_key_id="").values_list("custody_key_id", flat=True).distinct())
    return (used - crypto.loaded_private_key_ids()) | keystore.unloadable(custody)


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
                hint=(
                    "Restore the escrowed key (HELPLINE_PRIVATE_KEYS, or the custody key into CUSTODY_KEY_DIR); "
                    "never start without it."
                ),
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
            "Restore the escrowed private key into HELPLINE_PRIVATE_KEYS, or the custody key into CUSTODY_KEY_DIR."
        )
