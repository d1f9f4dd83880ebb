"""``{{ member|scope_of }}``: what a staff account sees, as accounts.policy describes its role and scope."""

from typing import Any

from django import template

from accounts import policy

register = template.Library()


@register.filter
def scope_of(member: Any) -> str:
    """``member`` is an account, or the account as a pending change would leave it (same attributes)."""
    authorities = member.authorities.all
    found = authorities() if callable(authorities) else authorities
    partnership = member.partnership
    return policy.scope_label(
        str(member.role), [authority.name for authority in found], partnership.name if partnership else ""
    )
