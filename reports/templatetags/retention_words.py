"""{% retention_periods %}: how long what a reporter tells us is kept, in plain words (reports.retention)."""

from django import template

from reports import retention

register = template.Library()


@register.inclusion_tag("reports/includes/retention_periods.html")
def retention_periods() -> dict[str, object]:
    return {"periods": retention.retention_periods()}
