"""What the helpline's pages say of a case's life after its work: on the staff home page, what waits for a
supervisor (cases due for destruction, holds to review, early destruction requests); on a closed case's
page, its early destruction request or the way to ask for one. Counts, dates and case numbers only."""

from typing import Any

from django import template

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from lifecycle import selectors
from triage.models import Case

register = template.Library()


@register.inclusion_tag("lifecycle/includes/retention_work.html", takes_context=True)
def retention_work(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    if not isinstance(user, User) or not policy.may(user, Permission.DESTRUCTION_DUE):
        return {"work": None}
    return {"work": selectors.retention_work(user=user), "can": context.get("can")}


@register.inclusion_tag("lifecycle/includes/early_destruction_for.html")
def early_destruction_for(case: Case) -> dict[str, Any]:
    return {"case": case, "pending": selectors.early_destruction_pending_for(case=case)}
