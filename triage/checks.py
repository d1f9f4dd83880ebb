"""Start-up check: every outcome a case can close with has a retention period."""

from typing import Any

from django.core.checks import CheckMessage, Error, register

from triage.retention import missing_periods


@register()
def every_outcome_has_a_retention_period(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    missing = missing_periods()
    if not missing:
        return []
    return [
        Error(
            f"Outcomes without a retention period: {', '.join(missing)}",
            hint="Add each to RETENTION_MONTHS (helpline/settings.py) before a case can close with it.",
            id="triage.E001",
        )
    ]
