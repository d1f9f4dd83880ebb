"""The administrator's landing page lists the requests waiting for their approval (MFA resets, accounts to
enable again). The landing page's view belongs to triage (the authority administration), so the list comes
from here, as a tag its template loads: ``{% approvals_waiting %}``."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import policy, selectors
from accounts.models import User
from accounts.policy import Permission

register = template.Library()


@register.inclusion_tag("accounts/admin/approvals_waiting.html", takes_context=True)
def approvals_waiting(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    waiting = (
        list(selectors.approvals_waiting_for(user=user))
        if isinstance(user, User) and policy.may(user, Permission.ADMINISTER)
        else []
    )
    return {"waiting": waiting, "user": user}
