"""Authentication events in the audit trail: every sign-in, failure, enrolment and token, about the user.

Nothing a person typed is recorded: not a password, not a code, not a username that matches nobody.
"""

from __future__ import annotations

from accounts.models import User
from audit.models import Subject
from audit.trail import event_record

SIGNED_IN = "signed_in"
PASSWORD_FAILED = "password_failed"  # noqa: S105 - an event name, not a secret
SECOND_FACTOR_FAILED = "second_factor_failed"
MFA_ENROLLED = "mfa_enrolled"
TOKEN_ISSUED = "token_issued"  # noqa: S105 - an event name, not a secret
TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an event name, not a secret
SESSIONS_ENDED = "sessions_ended"
INVITATION_ISSUED = "invitation_issued"
INVITATION_USED = "invitation_used"
INVITATION_REVOKED = "invitation_revoked"
ACCESS_CHANGED = "staff_access_changed"
USER_DISABLED = "user_disabled"
MFA_RESET_REQUESTED = "mfa_reset_requested"
MFA_RESET_APPROVED = "mfa_reset_approved"
MFA_RESET_CANCELLED = "mfa_reset_cancelled"
USER_ENABLE_REQUESTED = "user_enable_requested"
USER_ENABLE_APPROVED = "user_enable_approved"
USER_ENABLE_CANCELLED = "user_enable_cancelled"
USER_ENABLED = "user_enabled"


def auth_event(
    *, kind: str, user: User | None, actor: User | None = None, detail: dict[str, object] | None = None
) -> None:
    """Record an authentication event about ``user`` (None: a username that matches no account)."""
    event_record(kind=kind, subject=(Subject.USER, user.pk) if user else None, actor=actor, detail=detail)
