"""Administrators' staff pages: who has which access, invitations, role and scope, disabling, and MFA resets
that a second administrator approves. Every form is post/redirect/get (core.form_retry): a refused POST
redirects to its page, which shows the form again with its errors and a 400; a done one redirects with a
notification banner. The URLs are in triage/urls.py, beside the authority administration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import administration, selectors, services
from accounts.decorators import staff_required, staff_user
from accounts.forms import (
    ConfirmForm,
    MfaResetDecisionForm,
    MfaResetRequestForm,
    StaffAccessForm,
    StaffFilterForm,
    StaffInviteForm,
)
from accounts.models import MfaResetRequest, User
from core.form_retry import retry_redirect, retry_take

ADMINISTRATOR = User.Role.ADMINISTRATOR
INVITATION_SLOT = "staff-invitation-{user_id}"
FormT = TypeVar("FormT", bound=forms.Form)


def _retried(request: HttpRequest, *, slot: str, make: Callable[[QueryDict | None], FormT]) -> tuple[FormT, int]:
    """The page's form: as the POST that failed left it (bound, with its errors and status), or fresh."""
    retry = retry_take(request, slot=slot)
    if retry is None:
        return make(None), 200
    form = make(retry.data)
    form.is_valid()
    if retry.error:
        form.add_error(None, retry.error)
    return form, retry.status


def _member(user_id: int) -> User:
    member = selectors.staff_member(user_id=user_id)
    if member is None:
        raise Http404("There is no staff account with that number.")
    return member


def _invitation_shown_once(request: HttpRequest, issued: services.IssuedInvitation) -> HttpResponse:
    """Redirect to the page that shows the new link once: the link is carried there sealed (core.form_retry),
    never rendered at the POST address nor kept readable on the server."""
    user_id = issued.invitation.user_id
    expires = timezone.localtime(issued.invitation.expires_at).strftime("%-d %B %Y at %H:%M")
    return retry_redirect(
        request,
        reverse("triage:admin_staff_invitation", kwargs={"user_id": user_id}),
        slot=INVITATION_SLOT.format(user_id=user_id),
        status=200,
        extra={"link": issued.link, "expires": expires},
    )


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    filters = StaffFilterForm(request.GET or None)
    role = filters.cleaned_data["role"] if filters.is_valid() else ""
    members = list(selectors.staff_list(role=role))
    context = {
        "form": filters,
        "members": members,
        "role_label": User.Role(role).label if role else "",
        "pending": list(selectors.mfa_resets_pending()),
    }
    return render(request, "triage/admin/staff_list.html", context, status=400 if filters.errors else 200)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def staff_invite(request: HttpRequest) -> HttpResponse:
    here = reverse("triage:admin_staff_invite")
    regions = selectors.regions()
    if request.method == "POST":
        form = StaffInviteForm(request.POST, regions=regions)
        if not form.is_valid():
            return retry_redirect(request, here, slot="staff-invite", data=request.POST)
        data = form.cleaned_data
        try:
            issued = services.staff_invite(
                username=data["username"],
                email=data["email"],
                role=data["role"],
                authority_codes=data["authority_codes"],
                area=data["area"] if data["role"] == User.Role.BOARD_REVIEWER else "",
                acting_user=staff_user(request),
            )
        except services.InvitationRefused as refused:
            return retry_redirect(request, here, slot="staff-invite", data=request.POST, error=str(refused))
        messages.success(request, f"Invitation created for {issued.invitation.user.username}")
        return _invitation_shown_once(request, issued)
    form, status = _retried(request, slot="staff-invite", make=lambda data: StaffInviteForm(data, regions=regions))
    context = {"form": form, "invitation_hours": settings.INVITATION_TTL_HOURS}
    return render(request, "triage/admin/staff_invite.html", context, status=status)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET"])
def staff_invitation(request: HttpRequest, user_id: int) -> HttpResponse:
    """The new invitation link, shown once: a refresh shows only that it was. (Every page is sent with
    Cache-Control: no-store, helpline/headers.py, so the browser keeps no copy of it either.)"""
    member = _member(user_id)
    retry = retry_take(request, slot=INVITATION_SLOT.format(user_id=member.pk))
    link = retry.extra.get("link", "") if retry else ""
    context = {"member": member, "link": link, "expires": retry.extra.get("expires", "") if retry else ""}
    return render(request, "triage/admin/staff_invitation.html", context)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET"])
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _member(user_id)
    slot = f"staff-{member.pk}"
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    context = {"member": member, "form": form, "pending": selectors.mfa_reset_pending_for(user=member)}
    return render(request, "triage/admin/staff_detail.html", context, status=status)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def staff_access(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _member(user_id)
    here = reverse("triage:admin_staff_access", kwargs={"user_id": member.pk})
    slot = f"staff-access-{member.pk}"
    regions = selectors.regions()
    if request.method == "POST":
        form = StaffAccessForm(request.POST, regions=regions)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        try:
            administration.staff_access_change(
                user=member,
                role=form.cleaned_data["role"],
                authority_codes=form.cleaned_data["authority_codes"],
                area=form.cleaned_data["area"],
                acting_user=staff_user(request),
            )
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        messages.success(request, f"Role and scope changed for {member.username}")
        return redirect("triage:admin_staff_detail", user_id=member.pk)
    initial = {
        "role": member.role,
        "authorities": "\n".join(authority.name for authority in member.authorities.all()),
        "area": member.area,
    }
    form, status = _retried(
        request, slot=slot, make=lambda data: StaffAccessForm(data, regions=regions, initial=initial)
    )
    return render(request, "triage/admin/staff_access.html", {"member": member, "form": form}, status=status)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def staff_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    """Asks first; disabling ends every session and API token of the account at once."""
    member = _member(user_id)
    here = reverse("triage:admin_staff_disable", kwargs={"user_id": member.pk})
    slot = f"staff-disable-{member.pk}"
    if request.method == "POST":
        try:
            services.user_disable(user=member, acting_user=staff_user(request))
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, error=str(refused))
        messages.success(request, f"{member.username} is disabled: their sessions and API tokens have ended")
        return redirect("triage:admin_staff_detail", user_id=member.pk)
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    context = {"member": member, "form": form, "is_self": member.pk == staff_user(request).pk}
    return render(request, "triage/admin/staff_disable.html", context, status=status)


@staff_required(ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def staff_mfa_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """The first administrator's request for an MFA reset, with a reason; nothing is reset yet."""
    member = _member(user_id)
    here = reverse("triage:admin_staff_mfa_reset", kwargs={"user_id": member.pk})
    slot = f"staff-mfa-reset-{member.pk}"
    if request.method == "POST":
        form = MfaResetRequestForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        try:
            administration.mfa_reset_request(
                user=member, reason=form.cleaned_data["reason"], acting_user=staff_user(request)
            )
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        messages.success(request, f"MFA reset for {member.username} requested: another administrator must approve it")
        return redirect("triage:admin_staff_detail", user_id=member.pk)
    form, status = _retried(request, slot=slot, make=lambda data: MfaResetRequestForm(data))
    context = {"member": member, "form": form, "pending": selectors.mfa_reset_pending_for(user=member)}
    return render(request, "triage/admin/staff_mfa_reset.html", context, status=status)


def _decided_request(request: HttpRequest, member: User) -> MfaResetRequest | None:
    form = MfaResetDecisionForm(request.POST)
    if not form.is_valid():
        return None
    found: MfaResetRequest | None = MfaResetRequest.objects.filter(pk=form.cleaned_data["request"], user=member).first()
    return found


NOT_WAITING = "This reset request is no longer waiting: it has been approved or cancelled, or never existed"


def _decide(
    request: HttpRequest, user_id: int, decide: Callable[[MfaResetRequest], object]
) -> tuple[User, str, HttpResponse | object]:
    """Run an administrator's decision on a waiting reset request: (the member, their page, what the decision
    returned, or the redirect that shows why it was refused)."""
    member = _member(user_id)
    detail = reverse("triage:admin_staff_detail", kwargs={"user_id": member.pk})
    reset_request = _decided_request(request, member)
    if reset_request is None:
        return member, detail, retry_redirect(request, detail, slot=f"staff-{member.pk}", error=NOT_WAITING)
    try:
        return member, detail, decide(reset_request)
    except services.StaffChangeRefused as refused:
        return member, detail, retry_redirect(request, detail, slot=f"staff-{member.pk}", error=str(refused))


@staff_required(ADMINISTRATOR)
@require_POST
def staff_mfa_reset_approve(request: HttpRequest, user_id: int) -> HttpResponse:
    """The second administrator approves: the reset runs and the new invitation link is shown once."""
    member, _, issued = _decide(
        request,
        user_id,
        lambda reset_request: administration.mfa_reset_approve(
            reset_request=reset_request, acting_user=staff_user(request)
        ),
    )
    if isinstance(issued, HttpResponse):
        return issued
    assert isinstance(issued, services.IssuedInvitation)  # noqa: S101 - what mfa_reset_approve returns
    messages.success(
        request, f"MFA reset for {member.username} approved: their sessions have ended and they must enrol again"
    )
    return _invitation_shown_once(request, issued)


@staff_required(ADMINISTRATOR)
@require_POST
def staff_mfa_reset_cancel(request: HttpRequest, user_id: int) -> HttpResponse:
    member, detail, refused = _decide(
        request,
        user_id,
        lambda reset_request: administration.mfa_reset_cancel(
            reset_request=reset_request, acting_user=staff_user(request)
        ),
    )
    if isinstance(refused, HttpResponse):
        return refused
    messages.success(request, f"MFA reset request for {member.username} cancelled")
    return redirect(detail)
