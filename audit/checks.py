"""Start-up checks for the audit trail's keys, run by ``manage.py check`` (and so by the deploy's migrate step).

Production refuses a web or worker process that could not chain events: without AUDIT_MAC_KEY every audited
action would fail at its first event. Badly formed keys are refused everywhere, rather than at first use.
The signing key is not required here, because only the checkpoint job holds it.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from audit import keys

# The roles whose processes write events. The public service and beat write none.
WRITING_ROLES = {"staff", "worker", "combined"}


@register()
def audit_keys_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    mac = settings.AUDIT_MAC_KEY
    if not mac and settings.PRODUCTION and settings.HELPLINE_ROLE in WRITING_ROLES:
        errors.append(
            Error(
                "AUDIT_MAC_KEY is not set: this process could not record audit events",
                hint="Set AUDIT_MAC_KEY_FILE to the escrowed key (manage.py generate_audit_keys makes one).",
                id="audit.E001",
            )
        )
    for name, value in (("AUDIT_MAC_KEY", mac), ("AUDIT_SIGNING_KEY", settings.AUDIT_SIGNING_KEY)):
        if value:
            try:
                keys.decode_key(name, value)
            except ImproperlyConfigured as exc:
                errors.append(Error(str(exc), id="audit.E002"))
    if mac and mac == settings.HELPLINE_HMAC_KEY:
        errors.append(
            Error(
                "AUDIT_MAC_KEY is the same as HELPLINE_HMAC_KEY",
                hint="The audit MAC key is never rotated and must be its own key.",
                id="audit.E003",
            )
        )
    return errors
