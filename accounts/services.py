"""Staff sign-in with MFA, login throttling and account changes."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from accounts import events, policy
from accounts.models import (
    Invitation,
    RecoveryCode,
    RecoveryCodes,
    SealedTOTPDevice,
    User,
    recovery_code_digest,
    role_current,
)
from accounts.notifications import invitation_email_queue, invitation_link
from core import crypto, identifiers, throttle
from directory import lookup
from directory.models import LocalAuthority, Partnership

RECOVERY_CODES = 10


class LoginThrottled(Exception):
    """Too many failed sign-ins for this username from this client."""


def _login_key(username: str, client: str) -> str:
    # Per username *and* client: a stranger's failures elsewhere never lock a supervisor out.
    return throttle.throttle_key("staff-login", username.strip().casefold(), client)


def login_check_password(*, request: HttpRequest, username: str, password: str, client: str) -> User | None:
    key = _login_key(username, client)
    # The attempt is counted before the password is checked, so concurrent guesses cannot all slip in
    # under the limit; a right password gives its attempt back.
    if not throttle.throttle_take(
        key=key, limit=settings.LOGIN_THROTTLE_LIMIT, window_seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS
    ):
        raise LoginThrottled
    user = authenticate(request, username=username, password=password)
    if user is None:
        events.auth_event(kind=events.PASSWORD_FAILED, user=User.objects.filter(username=username).first())
        return None
    throttle.throttle_refund(key=key)
    assert isinstance(user, User)  # noqa: S101 - AUTH_USER_MODEL
    return user


def _account_keys(user: User) -> tuple[str, str]:
    """(the account's second-factor failure count, its hold), whatever the client."""
    return (
        throttle.throttle_key("staff-second-factor", str(user.pk)),
        throttle.throttle_key("staff-second-factor-hold", str(user.pk)),
    )


def second_factor_delay(failures: int) -> int:
    """Seconds to wait after ``failures`` wrong codes in the window: none for the first few, then doubling
    from SECOND_FACTOR_FIRST_DELAY_SECONDS up to SECOND_FACTOR_MAX_DELAY_SECONDS."""
    over = failures - settings.SECOND_FACTOR_FREE_FAILURES
    if over < 0:
        return 0
    return int(min(settings.SECOND_FACTOR_FIRST_DELAY_SECONDS * 2**over, settings.SECOND_FACTOR_MAX_DELAY_SECONDS))


def second_factor_wait(*, user: User) -> int:
    """Seconds before this account may try another second-factor code (0: now)."""
    return throttle.throttle_wait(key=_account_keys(user)[1])


def login_record_otp_failure(*, user: User, client: str) -> int:
    """A wrong second factor after a correct password: counted towards the (username, client) throttle
    and the account's growing delay, and audited. Returns the seconds to wait before the next try."""
    throttle.throttle_failure(
        key=_login_key(user.username, client), window_seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS
    )
    count_key, hold_key = _account_keys(user)
    failures = throttle.throttle_failure(key=count_key, window_seconds=settings.SECOND_FACTOR_WINDOW_SECONDS)
    delay = second_factor_delay(failures)
    if delay:
        throttle.throttle_hold(key=hold_key, seconds=delay)
    events.auth_event(kind=events.SECOND_FACTOR_FAILED, user=user, detail={"wait_seconds": delay})
    return delay


def wait_message(seconds: int) -> str:
    return f"Wait {seconds} second{'s' if seconds != 1 else ''} before you try another security code"


def login_succeeded(*, user: User, client: str, via: str) -> None:
    """Both factors passed (``via`` "web" or "api"): the failures are forgotten, the sign-in audited."""
    login_clear_failures(username=user.username, client=client)
    for key in _account_keys(user):
        throttle.throttle_clear(key=key)
    events.auth_event(kind=events.SIGNED_IN, user=user, actor=user, detail={"via": via})


def login_throttled(*, username: str, client: str) -> bool:
    return throttle.throttle_blocked(key=_login_key(username, client), limit=settings.LOGIN_THROTTLE_LIMIT)


def login_clear_failures(*, username: str, client: str) -> None:
    throttle.throttle_clear(key=_login_key(username, client))


def confirmed_totp(user: User) -> SealedTOTPDevice | None:
    device: SealedTOTPDevice | None = SealedTOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device


def totp_device_create(*, user: User, name: str, confirmed: bool, secret: bytes | None = None) -> SealedTOTPDevice:
    """An authenticator with a new (or the given) 20-byte secret, sealed with OTP_KEY before it is stored."""
    sealed = crypto.seal_otp_secret(secret if secret is not None else secrets.token_bytes(20))
    device: SealedTOTPDevice = SealedTOTPDevice.objects.create(user=user, name=name, confirmed=confirmed, key=sealed)
    return device


def otp_verify(*, user: User, token: str) -> SealedTOTPDevice | None:
    """The user's authenticator, when ``token`` is its current code (never accepted twice) or an unused
    recovery code (each works once); the session is then verified through that authenticator."""
    token = "".join(token.split())
    device = confirmed_totp(user)
    if device is None:
        return None
    if token.isdigit() and device.verify_is_allowed()[0] and device.verify_token(token):
        return device
    codes = RecoveryCodes.objects.filter(user=user).first()
    if codes is not None and codes.verify_token(token):
        return device
    return None


def mfa_enrolment_device(*, user: User) -> SealedTOTPDevice:
    """The unconfirmed authenticator being set up (one at a time)."""
    device = SealedTOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or totp_device_create(user=user, name="Authenticator app", confirmed=False)


@dataclass(frozen=True)
class Enrolled:
    device: SealedTOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """New single-use recovery codes, shown once and kept only as keyed hashes; earlier ones stop working."""
    RecoveryCodes.objects.filter(user=user).delete()
    salt = secrets.token_bytes(16)
    device = RecoveryCodes.objects.create(user=user, salt=salt)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(10)  # 80 bits
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
    RecoveryCode.objects.bulk_create([RecoveryCode(device=device, digest=recovery_code_digest(salt, c)) for c in codes])
    return codes


class StaffChangeRefused(Exception):
    """A change to a staff account that cannot be made; the message says why, for the administrator."""


@transaction.atomic(durable=True)
def user_disable(*, user: User, acting_user: User) -> None:
    """Disable an account and end its sessions and API tokens at once. Nobody disables their own account:
    an administrator could otherwise lock the last administrator out by a slip."""
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("You cannot disable your own account.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise StaffChangeRefused(f"The account {user.username} is already disabled.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    events.auth_event(kind=events.USER_DISABLED, user=user, actor=acting_user)
    user_sessions_end(user=user, acting_user=acting_user, reason="disabled")
    invitations_revoke(user=user, acting_user=acting_user, reason="disabled")


def user_sessions_end(*, user: User, acting_user: User | None, reason: str) -> None:
    """End every session and API token of a user, in the caller's transaction; audited."""
    sessions = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            sessions += 1
    tokens, _ = AuthToken.objects.filter(user=user).delete()
    events.auth_event(
        kind=events.SESSIONS_ENDED,
        user=user,
        actor=acting_user,
        detail={"reason": reason, "sessions": sessions, "tokens": tokens},
    )


# --- invitations: the only way to enrol ---------------------------------------------------------------


class InvitationRefused(Exception):
    """The invitation cannot be issued; the message says why, for the administrator."""


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str  # emailed to the invitee, and shown once to whoever issued it; only its hash is kept
    # Shown once to whoever issued it, who passes it on by phone or in person; only a keyed hash is kept.
    enrolment_code: str


def _invitation_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- enrolment codes: what a mailbox alone does not have ---------------------------------------------------

# 8 characters of an alphabet of 26 (about 37 bits), read out over the phone; guessed at most
# ENROLMENT_CODE_TRIES times per invitation.
ENROLMENT_CODE_LENGTH = 8
ENROLMENT_CODE_TRIES = 5


def enrolment_code_new() -> str:
    """``HX7K-29QM``: letters and digits that cannot be confused when read aloud."""
    chars = identifiers.random_characters(ENROLMENT_CODE_LENGTH)
    return f"{chars[:4]}-{chars[4:]}"


def enrolment_code_normalised(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def enrolment_code_digest(*, invitation_digest: str, code: str) -> str:
    """A keyed hash (the server's HMAC key, so the database alone cannot test guesses), bound to the link."""
    return throttle.throttle_key("enrolment-code", invitation_digest, enrolment_code_normalised(code))


def enrolment_code_matches(stored: str, *, invitation_digest: str, code: str) -> bool:
    return throttle.throttle_key_matches(stored, "enrolment-code", invitation_digest, enrolment_code_normalised(code))


def _enrolment_tries_key(invitation: Invitation) -> str:
    return throttle.throttle_key("enrolment-code-tries", str(invitation.pk))


@transaction.atomic(durable=True)
def staff_invite(
    *,
    username: str,
    email: str,
    role: str,
    authority_codes: Sequence[str] = (),
    partnership: Partnership | None = None,
    acting_user: User | None,
) -> IssuedInvitation:
    """A new account with no password and no authenticator, and a one-time link to set both up.
    ``acting_user`` is the administrator (None when issued with manage.py invite_staff)."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvitationRefused(f"There is already an account called {username}.")
    authorities = [lookup.authority_by_code(code) for code in authority_codes]
    role = role_current(role)  # "board_reviewer" (a script's or an old client's) is a partnership member
    partnership = partnership if policy.scoped_by_partnership(role) else None
    problem = scope_problem(role=role, authorities=authorities, partnership=partnership)
    if problem:
        raise InvitationRefused(problem)
    user = User.objects.create_user(username=username, email=email, role=role, partnership=partnership)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.authorities.set([a for a in authorities if a is not None])
    events.auth_event(kind=events.ACCESS_CHANGED, user=user, actor=acting_user, detail=access_detail(user))
    return invitation_issue(user=user, acting_user=acting_user, origin=Invitation.Origin.INVITE)


def access_detail(user: User) -> dict[str, object]:
    """What an account may reach, for the audit trail: codes only."""
    return {
        "role": user.role,
        "authorities": sorted(user.authorities.values_list("gss_code", flat=True)),
        "partnership": user.partnership_id,
    }


def scope_problem(
    *, role: str, authorities: Sequence[LocalAuthority | None], partnership: Partnership | None
) -> str | None:
    """Why a role cannot have this scope (an authority officer's authorities, a partnership member's
    safeguarding partnership), or None when it can. ``authorities`` holds None for a code that matched no authority."""
    if role not in User.Role.values:
        return f"There is no role called {role!r}."
    if policy.scoped_by_authorities(role) and (not authorities or None in authorities):
        return "An authority officer needs the GSS code of at least one authority."
    if policy.scoped_by_partnership(role) and partnership is None:
        return "A safeguarding partnership member needs the partnership they belong to."
    return None


def invitation_issue(*, user: User, acting_user: User | None, origin: str) -> IssuedInvitation:
    """A new one-time link for ``user``, in the caller's transaction (``origin``: why, Invitation.Origin)."""
    secret = secrets.token_urlsafe(32)
    code = enrolment_code_new()
    digest = _invitation_digest(secret)
    invitation = Invitation.objects.create(
        user=user,
        digest=digest,
        code_digest=enrolment_code_digest(invitation_digest=digest, code=code),
        # Sealed only until the worker has emailed the link (accounts.notifications).
        secret_sealed=crypto.seal_otp_secret(secret.encode("ascii")),
        origin=origin,
        created_by=acting_user,
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    expires = invitation.expires_at.isoformat()
    events.auth_event(
        kind=events.INVITATION_ISSUED, user=user, actor=acting_user, detail={"expires": expires, "origin": origin}
    )
    invitation_email_queue(invitation=invitation)
    return IssuedInvitation(invitation=invitation, link=invitation_link(secret), enrolment_code=code)


def invitations_revoke(*, user: User, acting_user: User | None, reason: str) -> int:
    """Stop every link of ``user``'s that has not been used (in the caller's transaction); audited when there
    was one. ``reason``: "revoked" by an administrator, "reissued", "disabled", "mfa_reset", "re_enable"."""
    revoked = Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=acting_user, password_hash="", secret_sealed=""
    )
    if revoked:
        events.auth_event(
            kind=events.INVITATION_REVOKED,
            user=user,
            actor=acting_user,
            detail={"reason": reason, "invitations": revoked},
        )
    return revoked


def invitation_open(*, secret: str) -> Invitation | None:
    """The unused, unrevoked, unexpired invitation this link's secret opens, or None (the same for every
    reason)."""
    invitation: Invitation | None = (
        Invitation.objects.select_related("user")
        .filter(
            digest=_invitation_digest(secret),
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .filter(user__is_active=True)
        .first()
    )
    return invitation


def _locked_open(invitation: Invitation) -> Invitation | None:
    """The invitation, locked, while it still works (it may have been used or revoked since it was opened)."""
    locked = Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
    if locked.used_at is not None or locked.revoked_at is not None or locked.expires_at <= timezone.now():
        return None
    if not locked.user.is_active:
        return None
    return locked


class PasswordStep(enum.Enum):
    DONE = "done"
    GONE = "gone"  # the invitation no longer works
    WRONG_CODE = "wrong_code"
    TOO_MANY_TRIES = "too_many_tries"


@transaction.atomic(durable=True)
def invitation_password_set(*, invitation: Invitation, password: str, enrolment_code: str) -> PasswordStep:
    """The first step of enrolment: the enrolment code, then the password, already validated, kept as Django's
    password hash on the invitation (never in clear, never in the session) until the authenticator is
    confirmed; the second step opens only once this is done. Choosing again replaces it, with the code again.
    Wrong codes are counted per invitation: after ENROLMENT_CODE_TRIES no code opens it, and the
    administrator must issue a new one."""
    locked = _locked_open(invitation)
    if locked is None:
        return PasswordStep.GONE
    key = _enrolment_tries_key(locked)
    # Counted before checking, so concurrent guesses cannot pass the limit; a right code gives its try back.
    if not throttle.throttle_take(
        key=key, limit=ENROLMENT_CODE_TRIES, window_seconds=settings.INVITATION_TTL_HOURS * 3600
    ):
        return PasswordStep.TOO_MANY_TRIES
    # Checked under the HMAC key that made the digest, so an invitation issued before a rotation still opens.
    expected = locked.code_digest
    if not expected or not enrolment_code_matches(expected, invitation_digest=locked.digest, code=enrolment_code):
        return PasswordStep.WRONG_CODE
    throttle.throttle_refund(key=key)
    locked.password_hash = make_password(password)
    locked.save(update_fields=["password_hash"])
    return PasswordStep.DONE


@transaction.atomic(durable=True)
def invitation_accept(*, invitation: Invitation, device: SealedTOTPDevice, token: str) -> Enrolled | None:
    """The second step: confirm the authenticator with its first code, and only then give the account the
    password chosen at the first step; once. None if the code is wrong or no password was chosen yet."""
    locked = _locked_open(invitation)
    if locked is None or not locked.password_hash:
        return None
    user = locked.user
    if device.user_id != user.pk or not device.verify_token("".join(token.split())):
        return None
    user.password = locked.password_hash
    user.save(update_fields=["password"])
    device.confirmed = True
    device.save(update_fields=["confirmed", "last_t"])
    locked.used_at = timezone.now()
    locked.password_hash = ""  # the account holds it now
    locked.save(update_fields=["used_at", "password_hash"])
    events.auth_event(kind=events.INVITATION_USED, user=user, actor=user)
    events.auth_event(kind=events.MFA_ENROLLED, user=user, actor=user)
    return Enrolled(device=device, recovery_codes=recovery_codes_issue(user=user))


@transaction.atomic(durable=True)
def mfa_reset(*, user: User, acting_user: User) -> IssuedInvitation:
    """A lost authenticator: its secret and the recovery codes go, every session and token ends, and the
    user gets a new invitation to enrol again (with a new password). The administration pages reach this
    only through a second administrator's approval (accounts.administration.mfa_reset_approve)."""
    return mfa_reset_in_transaction(user=user, acting_user=acting_user)


def mfa_reset_in_transaction(
    *, user: User, acting_user: User, origin: str = Invitation.Origin.MFA_RESET
) -> IssuedInvitation:
    """mfa_reset, in the caller's transaction; ``origin`` says which two-person decision it carries out."""
    SealedTOTPDevice.objects.filter(user=user).delete()
    RecoveryCodes.objects.filter(user=user).delete()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user_sessions_end(user=user, acting_user=acting_user, reason=origin)
    invitations_revoke(user=user, acting_user=acting_user, reason=origin)
    return invitation_issue(user=user, acting_user=acting_user, origin=origin)
