import hashlib
import hmac
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import crypto


class User(AbstractUser):
    """A member of staff. Reporters never have accounts."""

    class Role(models.TextChoices):
        CALL_HANDLER = "call_handler", "Helpline call handler"
        SUPERVISOR = "supervisor", "Helpline supervisor"
        AUTHORITY_OFFICER = "authority_officer", "Local authority officer"
        PARTNERSHIP = "partnership", "Safeguarding partnership"
        OVERSIGHT_ANALYST = "oversight_analyst", "National oversight analyst"
        ADMINISTRATOR = "administrator", "Administrator"
        # Staff of the independent national review team (not of any council): they work the referrals of
        # cases sent for independent review (accounts.policy.referral_scope).
        NATIONAL_REVIEWER = "national_reviewer", "National reviewer"

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CALL_HANDLER)
    # Local authority officers: the authorities whose referrals they handle.
    authorities = models.ManyToManyField("directory.LocalAuthority", blank=True, related_name="officers")
    # Safeguarding partnership members: the partnership whose authorities they see.
    partnership = models.ForeignKey(
        "directory.Partnership", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    is_demo = models.BooleanField(default=False, help_text="Created by make run; refused in production.")

    def is_verified(self) -> bool:
        """Whether this session passed the second factor. django-otp's middleware replaces this on each
        request's user; a user it never saw (an API token, a script) is not verified."""
        return False


# Role values that were renamed, and what each is called now: still accepted where an API client, a script
# (manage.py invite_staff --role) or a saved address may send one (``role_current``). "board_reviewer":
# Local Safeguarding Children Boards became safeguarding partnerships (Children and Social Work Act 2017).
FORMER_ROLES: dict[str, str] = {"board_reviewer": User.Role.PARTNERSHIP}


def role_current(value: str) -> str:
    """The role a value names today: a former name becomes the current one; anything else is unchanged."""
    return FORMER_ROLES.get(value, value)


class SealedTOTPDevice(TOTPDevice):
    """A staff authenticator whose secret is sealed at rest with OTP_KEY: ``key`` holds the sealed form
    (base64), never the secret. Create one with accounts.services.totp_device_create."""

    class Meta:
        proxy = True

    @property
    def bin_key(self) -> bytes:
        return crypto.open_otp_secret(self.key)


def recovery_code_normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_digest(salt: bytes, code: str) -> str:
    """A keyed hash of a recovery code. Codes are 80 random bits, so a fast hash is enough."""
    return hmac.new(salt, recovery_code_normalised(code).encode("utf-8"), hashlib.sha256).hexdigest()


class RecoveryCodes(models.Model):
    """A user's single-use recovery codes, kept only as keyed hashes (RecoveryCode). A code stands in for
    the authenticator app: the session it opens is verified as the user's authenticator would verify it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"recovery codes of user {self.user_id}"

    def verify_token(self, token: str) -> bool:
        """True once per code: the code is marked used in the same statement that finds it."""
        digest = recovery_code_digest(bytes(self.salt), token)
        return self.codes.filter(digest=digest, used_at__isnull=True).update(used_at=timezone.now()) == 1


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_once")]

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class Invitation(models.Model):
    """A one-time link with which a member of staff sets their password and enrols their authenticator, in
    two steps. Only a hash of the link's secret is kept; it expires, works once, and an administrator can
    revoke it. The link is emailed, so it also needs an enrolment code the administrator was shown once and
    passes on by phone or in person: a mailbox alone never takes an account."""

    class Origin(models.TextChoices):
        """Why it was made. One administrator may re-issue an unused invitation to a new account; one that came
        from a decision of two administrators (an MFA reset, enabling a disabled account) is replaced only by
        a new such decision."""

        INVITE = "invite", "Invited"
        MFA_RESET = "mfa_reset", "MFA reset"
        RE_ENABLE = "re_enable", "Account enabled again"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    digest = models.CharField(max_length=64, unique=True)
    # A keyed hash of the enrolment code (accounts.services.enrolment_code_digest), never the code.
    code_digest = models.CharField(max_length=64, blank=True)
    # The link's secret sealed with OTP_KEY, only until its email is sent (or given up): the worker needs it
    # to write the email. Emptied then, and when the invitation is revoked.
    secret_sealed = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.INVITE)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # The password chosen at the first step, as Django's password hash (never the password), until the
    # authenticator is confirmed at the second: only then does it become the account's password.
    password_hash = models.CharField(max_length=128, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"invitation {self.pk} for user {self.user_id}"

    @property
    def from_two_administrators(self) -> bool:
        return self.origin != self.Origin.INVITE

    def state(self, now: datetime) -> str:
        """One of used, revoked, expired or waiting (its link still works while the account is active)."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "waiting"


class MfaResetRequest(models.Model):
    """An administrator's request to reset a member of staff's second factor, or to enable a disabled account
    again (``action``): either gives the account a new invitation to enrol with, so nothing happens until a
    second administrator (never the one who asked) approves it; either may cancel it while it waits. Rows are
    kept after the decision, so who asked, why and who decided stays on record."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    class Action(models.TextChoices):
        MFA_RESET = "mfa_reset", "MFA reset"
        RE_ENABLE = "re_enable", "Enable the account again"

    action = models.CharField(max_length=16, choices=Action.choices, default=Action.MFA_RESET)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mfa_reset_requests")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    # Why the administrator asked (a lost or replaced phone): about the account, never case content.
    reason = models.TextField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="one_pending_mfa_reset_per_user"
            ),
            # The two-person rule, kept by the database too.
            models.CheckConstraint(
                condition=~models.Q(status="approved") | ~models.Q(decided_by=models.F("requested_by")),
                name="mfa_reset_approved_by_another_administrator",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="mfa_reset_decided_once",
            ),
        ]

    def __str__(self) -> str:
        return f"MFA reset request {self.pk} for user {self.user_id}"
