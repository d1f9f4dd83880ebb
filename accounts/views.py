"""Staff sign-in: password, then a TOTP code or a recovery code. Enrolment, only through an invitation link, in
two steps: a password, then the authenticator app (its key and QR code) and its first code. Sign-out."""

from __future__ import annotations

import base64
import time

from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.forms import CodeForm, InvitationCodeForm, InvitationPasswordForm, SignInForm
from accounts.models import Invitation, SealedTOTPDevice, User
from accounts.otp_qr import otpauth_qr_svg
from core.form_retry import retry_redirect, retry_take, with_kept_errors
from core.http import client_of

PENDING = "pending_user_id"
# The invitation whose first step (the password) this browser completed: the second step opens only here.
ENROLLING = "enrolling_invitation_id"
SIGNED_OUT = "signed_out_reason"


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def _sign_in(request: HttpRequest, user: User, device: object) -> HttpResponse:
    auth_login(request, user, backend="accounts.auth.StaffBackend")
    otp_login(request, device)
    request.session["signed_in_at"] = time.time()
    request.session["last_seen_at"] = time.time()
    services.login_succeeded(user=user, client=client_of(request), via="web")
    return redirect("triage:home")


SIGN_IN_SLOT = "sign-in"
CODE_SLOT = "sign-in-code"
INVITATION_SLOT = "invitation"
AUTHENTICATOR_SLOT = "invitation-authenticator"
RECOVERY_CODES_SLOT = "recovery-codes"


def _refused(request: HttpRequest, *, to: str, slot: str, form: forms.Form, status: int) -> HttpResponse:
    """Post/redirect/get for the sign-in forms: the page shows the errors after a redirect, so Back and
    refresh never send a password or a code again. Passwords and codes are not kept, even sealed: the form
    comes back with its errors and what else was typed (core/form_retry.py)."""
    errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    return retry_redirect(request, to, slot=slot, data=request.POST, status=status, errors=errors)


def _page_instead(request: HttpRequest, *, to: str, slot: str, page: str, status: int) -> HttpResponse:
    """Redirect to ``to``, which then shows one of the sign-in's refusal pages (throttled, not set up)."""
    return retry_redirect(request, to, slot=slot, status=status, extra={"page": page})


REFUSAL_PAGES = {"throttled": "accounts/throttled.html", "not_set_up": "accounts/not_set_up.html"}


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    here = reverse("accounts:login")
    if request.method == "GET":
        timed_out = request.session.pop(SIGNED_OUT, None) == "timeout"
        retry = retry_take(request, slot=SIGN_IN_SLOT)
        if retry is not None and retry.extra.get("page") in REFUSAL_PAGES:
            return render(request, REFUSAL_PAGES[retry.extra["page"]], status=retry.status)
        form = with_kept_errors(SignInForm(retry.data), retry) if retry else SignInForm()
        context = {"form": form, "timed_out": timed_out}
        return render(request, "accounts/login.html", context, status=retry.status if retry else 200)
    form = SignInForm(request.POST)
    if form.is_valid():
        try:
            user = services.login_check_password(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client=client_of(request),
            )
        except services.LoginThrottled:
            return _page_instead(request, to=here, slot=SIGN_IN_SLOT, page="throttled", status=429)
        if user is not None:
            if services.confirmed_totp(user) is None:
                # Enrolment happens only through an invitation link, never after a password alone.
                return _page_instead(request, to=here, slot=SIGN_IN_SLOT, page="not_set_up", status=403)
            request.session.cycle_key()
            request.session[PENDING] = user.pk
            return redirect("accounts:code")
        form.add_error(None, "Enter a correct username and password")
    return _refused(request, to=here, slot=SIGN_IN_SLOT, form=form, status=400)


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    here = reverse("accounts:code")
    retry = retry_take(request, slot=CODE_SLOT) if request.method == "GET" else None
    if services.login_throttled(username=user.username, client=client_of(request)):
        if request.method == "POST":
            return _page_instead(request, to=here, slot=CODE_SLOT, page="throttled", status=429)
        return render(request, "accounts/throttled.html", status=429)
    wait = services.second_factor_wait(user=user)
    if request.method == "GET":
        form = with_kept_errors(CodeForm(retry.data), retry) if retry else CodeForm()
        return render(
            request, "accounts/code.html", {"form": form, "wait": wait}, status=retry.status if retry else 200
        )
    form = CodeForm(request.POST)
    if wait:
        # While the account waits no code is checked, right or wrong, and the page says only that.
        form.is_valid()
        form.errors.clear()
        form.add_error("code", services.wait_message(wait))
        return _refused(request, to=here, slot=CODE_SLOT, form=form, status=429)
    if form.is_valid():
        device = services.otp_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING, None)
            return _sign_in(request, user, device)
        delay = services.login_record_otp_failure(user=user, client=client_of(request))
        form.add_error(
            "code", services.wait_message(delay) if delay else "The security code is wrong or has already been used"
        )
    return _refused(request, to=here, slot=CODE_SLOT, form=form, status=400)


def _totp_context(device: SealedTOTPDevice) -> dict[str, str]:
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return {
        "totp_key": " ".join(secret[i : i + 4] for i in range(0, 32, 4)),
        "otpauth": device.config_url,
        "qr_code": otpauth_qr_svg(device.config_url, label="QR code of your authenticator app's key"),
    }


def _invitation_or_404(request: HttpRequest, secret: str) -> Invitation | HttpResponse:
    found = services.invitation_open(secret=secret)
    if found is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    return found


ENROLMENT_CODE_REFUSED = {
    services.PasswordStep.WRONG_CODE: "The enrolment code is wrong. Check it with the administrator who gave it to you",
    services.PasswordStep.TOO_MANY_TRIES: (
        "You have entered a wrong enrolment code too many times. Ask your administrator for a new invitation"
    ),
}


@sensitive_post_parameters("password", "password_again", "enrolment_code")
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, secret: str) -> HttpResponse:
    """The only way to enrol: an administrator's one-time link, emailed, and the enrolment code the administrator
    gave by phone or in person. Step 1 of 2: the code, and create a password. The password is kept only as a
    hash, on the invitation, until step 2 confirms the authenticator. Post/redirect/get: a refused password
    or code comes back with its errors, never with what was typed."""
    found = _invitation_or_404(request, secret)
    if isinstance(found, HttpResponse):
        return found
    user = found.user
    here = reverse("accounts:invitation", kwargs={"secret": secret})
    if request.method == "GET":
        retry = retry_take(request, slot=INVITATION_SLOT)
        if retry:
            form = with_kept_errors(InvitationPasswordForm(retry.data, user=user), retry)
        else:
            form = InvitationPasswordForm(user=user)
        chosen = request.session.get(ENROLLING) == found.pk and bool(found.password_hash)
        context = {"form": form, "invited": user, "chosen": chosen, "secret": secret}
        return render(request, "accounts/invitation.html", context, status=retry.status if retry else 200)
    form = InvitationPasswordForm(request.POST, user=user)
    status = 400
    if form.is_valid():
        step = services.invitation_password_set(
            invitation=found, password=form.cleaned_data["password"], enrolment_code=form.cleaned_data["enrolment_code"]
        )
        if step == services.PasswordStep.GONE:
            return render(request, "accounts/invitation_invalid.html", status=404)
        if step == services.PasswordStep.DONE:
            request.session[ENROLLING] = found.pk
            return redirect("accounts:invitation_authenticator", secret=secret)
        status = 429 if step == services.PasswordStep.TOO_MANY_TRIES else 400
        form.add_error("enrolment_code", ENROLMENT_CODE_REFUSED[step])
    # The code is not kept for the page that shows the errors, like the passwords.
    kept = request.POST.copy()
    kept.pop("enrolment_code", None)
    errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    return retry_redirect(request, here, slot=INVITATION_SLOT, data=kept, status=status, errors=errors)


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def invitation_authenticator(request: HttpRequest, secret: str) -> HttpResponse:
    """Step 2 of 2: the authenticator app's key and its QR code, and its first code. A wrong code keeps the
    password chosen at step 1; the recovery codes are then shown once at their own address."""
    found = _invitation_or_404(request, secret)
    if isinstance(found, HttpResponse):
        return found
    if request.session.get(ENROLLING) != found.pk or not found.password_hash:
        return redirect("accounts:invitation", secret=secret)  # step 1 first, in this browser
    user = found.user
    device = services.mfa_enrolment_device(user=user)
    here = reverse("accounts:invitation_authenticator", kwargs={"secret": secret})
    if request.method == "GET":
        retry = retry_take(request, slot=AUTHENTICATOR_SLOT)
        form = with_kept_errors(InvitationCodeForm(retry.data), retry) if retry else InvitationCodeForm()
        context = {"form": form, "invited": user, "secret": secret, **_totp_context(device)}
        return render(request, "accounts/invitation_authenticator.html", context, status=retry.status if retry else 200)
    form = InvitationCodeForm(request.POST)
    if form.is_valid() and not device.verify_is_allowed()[0]:
        # django-otp waits a little longer after each wrong code (OTP_TOTP_THROTTLE_FACTOR); meanwhile even
        # the right code is refused, so say that rather than "wrong".
        form.add_error("code", "Wait a few seconds, then enter the code your app shows at that moment")
    elif form.is_valid():
        enrolled = services.invitation_accept(invitation=found, device=device, token=form.cleaned_data["code"])
        if enrolled is not None:
            user.refresh_from_db()  # its new password, so the session's auth hash matches
            request.session.pop(ENROLLING, None)
            _sign_in(request, user, enrolled.device)
            return retry_redirect(
                request,
                reverse("accounts:recovery_codes"),
                slot=RECOVERY_CODES_SLOT,
                status=200,
                extra={"codes": "\n".join(enrolled.recovery_codes)},
            )
        form.add_error("code", "The security code is wrong: check the time on your phone and try again")
    return _refused(request, to=here, slot=AUTHENTICATOR_SLOT, form=form, status=400)


@require_GET
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The new recovery codes, once: a refresh or Back says they were shown and cannot be shown again."""
    shown = retry_take(request, slot=RECOVERY_CODES_SLOT)
    codes = shown.extra.get("codes", "").split("\n") if shown else []
    return render(request, "accounts/recovery_codes.html", {"codes": [c for c in codes if c], "shown": not codes})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    request.session[SIGNED_OUT] = "signed_out"  # the new, empty session's: for the next page only
    return redirect("accounts:signed_out")


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    """Confirms a sign-out, once: afterwards (a refresh, a bookmark) this address is the sign-in page."""
    if request.user.is_authenticated or request.session.get(SIGNED_OUT) != "signed_out":
        return redirect("accounts:login")
    request.session.pop(SIGNED_OUT, None)
    return render(request, "accounts/signed_out.html")
