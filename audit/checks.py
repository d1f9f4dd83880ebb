"""Start-up checks for the audit trail's keys, run by ``manage.py check`` (and so by the deploy's migrate step).

Production refuses a web or worker process that could not chain events: without AUDIT_MAC_KEY every audited
action would fail at its first event. Badly formed keys are refused everywhere, rather than at first use.
The signing key is not required here, because only the checkpoint job holds it.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections

from audit import keys

# The roles whose processes write events. The public service and beat write none.
WRITING_ROLES = {"staff", "worker", "combined"}


def _hmac_secrets() -> set[str]:
    """The base64 secrets of the keyed-hash keys, ``id:`` prefixes dropped (core.crypto parses them fully)."""
    entries = f"{settings.HELPLINE_HMAC_KEYS},{settings.HELPLINE_HMAC_KEY}".split(",")
    return {entry.strip().rpartition(":")[2] for entry in entries if entry.strip()}


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
    if mac and mac.strip() in _hmac_secrets():
        errors.append(
            Error(
                "AUDIT_MAC_KEY is the same as an HMAC key (HELPLINE_HMAC_KEYS or HELPLINE_HMAC_KEY)",
                hint="The audit MAC key is never rotated and must be its own key.",
                id="audit.E003",
            )
        )
    return errors


@register(Tags.database, deploy=True)
def runtime_role_cannot_rewrite_the_trail(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy --database default``: the role the services run as should be able to add events and
    read them, nothing more. A superuser, or the owner of audit_event, can switch the triggers off."""
    if not databases or "default" not in databases:
        return []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT r.rolsuper, t.tableowner = current_user FROM pg_roles r "
                "LEFT JOIN pg_tables t ON t.tablename = 'audit_event' WHERE r.rolname = current_user"
            )
            row = cursor.fetchone()
    except DatabaseError:
        return []
    superuser, owner = (bool(row[0]), bool(row[1])) if row else (False, False)
    warnings: list[CheckMessage] = []
    if superuser:
        warnings.append(
            Warning(
                "The services connect to PostgreSQL as a superuser, which can rewrite the audit trail",
                hint="Run them as a role with INSERT and SELECT only on audit_event (docs/deploy.md).",
                id="audit.W001",
            )
        )
    elif owner:
        warnings.append(
            Warning(
                "The services connect to PostgreSQL as the owner of audit_event, which can drop its triggers",
                hint="Migrate as the owner and run the services as another role (docs/deploy.md).",
                id="audit.W002",
            )
        )
    return warnings
