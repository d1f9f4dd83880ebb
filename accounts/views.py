"""Staff sign-in: password, then a TOTP code or a recovery code; first sign-in sets up the app."""

from __future__ import annotations

import base64
import time

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.forms import CodeForm, InvitationForm, SignInForm
from accounts.models import SealedTOTPDevice, User
from core.http import client_of

PENDING = "pending_user_id"


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


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    timed_out = request.session.pop("signed_out_reason", None) == "timeout"
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check_password(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client=client_of(request),
            )
        except services.LoginThrottled:
            return render(request, "accounts/throttled.html", status=429)
        if user is not None:
            if services.confirmed_totp(user) is None:
                # Enrolment happens only through an invitation link, never after a password alone.
                return render(request, "accounts/not_set_up.html", status=403)
            request.session.cycle_key()
            request.session[PENDING] = user.pk
            return redirect("accounts:code")
        form.add_error(None, "Enter a correct username and password")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/login.html", {"form": form, "timed_out": timed_out}, status=status)


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if services.login_throttled(username=user.username, client=client_of(request)):
        return render(request, "accounts/throttled.html", status=429)
    form = CodeForm(request.POST if request.method == "POST" else None)
    wait = services.second_factor_wait(user=user)
    if wait:
        # While the account waits no code is checked, right or wrong, and the page says only that.
        if request.method == "POST":
            form.is_valid()
            form.errors.clear()
            form.add_error("code", services.wait_message(wait))
        status = 429 if request.method == "POST" else 200
        return render(request, "accounts/code.html", {"form": form, "wait": wait}, status=status)
    if request.method == "POST" and form.is_valid():
        device = services.otp_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING, None)
            return _sign_in(request, user, device)
        delay = services.login_record_otp_failure(user=user, client=client_of(request))
        form.add_error(
            "code", services.wait_message(delay) if delay else "The security code is wrong or has already been used"
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/code.html", {"form": form}, status=status)


def _totp_context(device: SealedTOTPDevice) -> dict[str, str]:
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return {"secret": " ".join(secret[i : i + 4] for i in range(0, 32, 4)), "otpauth": device.config_url}


@sensitive_post_parameters("password", "password_again", "code")
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, secret: str) -> HttpResponse:
    """The only way to enrol: an administrator's one-time link. Set a password, add the authenticator."""
    found = services.invitation_open(secret=secret)
    if found is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user = found.user
    device = services.mfa_enrolment_device(user=user)
    form = InvitationForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        enrolled = services.invitation_accept(
            invitation=found, password=form.cleaned_data["password"], device=device, token=form.cleaned_data["code"]
        )
        if enrolled is not None:
            user.refresh_from_db()  # its new password, so the session's auth hash matches
            _sign_in(request, user, enrolled.device)
            return render(request, "accounts/recovery_codes.html", {"codes": enrolled.recovery_codes})
        form.add_error("code", "The security code is wrong: check the time on your phone and try again")
    context = {"form": form, "invited": user, **_totp_context(device)}
    return render(request, "accounts/invitation.html", context, status=400 if request.method == "POST" else 200)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")
