"""Administrators' staff pages: who has which access, invitations (revoked or re-issued by one administrator),
role and scope (confirmed on a page of its own), disabling, and the requests a second administrator approves:
MFA resets and enabling a disabled account again. Every form is post/redirect/get (core.form_retry): a refused
POST redirects to its page, which shows the form again with its errors and a 400; a done one redirects with a
notification banner. The URLs are accounts/urls.py's, under admin/staff/ (the `accounts:` namespace), with the
safeguarding partnerships and the national bodies of the directory."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TypeVar
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import administration, policy, selectors, services
from accounts.decorators import staff_required, staff_user
from accounts.forms import (
    ConfirmForm,
    MfaResetDecisionForm,
    MfaResetRequestForm,
    NationalBodyForm,
    PartnershipForm,
    StaffAccessConfirmForm,
    StaffAccessForm,
    StaffFilterForm,
    StaffInviteForm,
    UserEnableRequestForm,
)
from accounts.models import Invitation, MfaResetRequest, User
from accounts.policy import Permission
from core.form_retry import retry_redirect, retry_take
from directory import lookup
from directory.models import NationalBody, Partnership
from directory.services import (
    NationalBodyRefused,
    PartnershipRefused,
    national_body_delete,
    national_body_delete_problem,
    national_body_save,
    partnership_save,
)

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
    """Redirect to the page that shows the new code and link once: they are carried there sealed (core.form_retry),
    never rendered at the POST address nor kept readable on the server."""
    user_id = issued.invitation.user_id
    expires = timezone.localtime(issued.invitation.expires_at).strftime("%-d %B %Y at %H:%M")
    return retry_redirect(
        request,
        reverse("accounts:admin_staff_invitation", kwargs={"user_id": user_id}),
        slot=INVITATION_SLOT.format(user_id=user_id),
        status=200,
        extra={"link": issued.link, "code": issued.enrolment_code, "expires": expires},
    )


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    filters = StaffFilterForm(request.GET or None)
    role = filters.cleaned_data["role"] if filters.is_valid() else ""
    members = list(selectors.staff_list(role=role))
    me = staff_user(request)
    pending = list(selectors.mfa_resets_pending())
    mine = [waiting for waiting in pending if waiting.requested_by_id != me.pk and waiting.user_id != me.pk]
    context = {
        "form": filters,
        "members": members,
        "role_label": User.Role(role).label if role else "",
        "waiting_for_you": mine,
        "pending": [waiting for waiting in pending if waiting not in mine],
    }
    return render(request, "accounts/admin/staff_list.html", context, status=400 if filters.errors else 200)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_invite(request: HttpRequest) -> HttpResponse:
    here = reverse("accounts:admin_staff_invite")
    partnerships = selectors.partnerships()
    if request.method == "POST":
        form = StaffInviteForm(request.POST, partnerships=partnerships)
        if not form.is_valid():
            return retry_redirect(request, here, slot="staff-invite", data=request.POST)
        data = form.cleaned_data
        try:
            issued = services.staff_invite(
                username=data["username"],
                email=data["email"],
                role=data["role"],
                authority_codes=data["authority_codes"],
                partnership=data["partnership"] if policy.scoped_by_partnership(data["role"]) else None,
                acting_user=staff_user(request),
            )
        except services.InvitationRefused as refused:
            return retry_redirect(request, here, slot="staff-invite", data=request.POST, error=str(refused))
        messages.success(request, f"Invitation created for {issued.invitation.user.username}")
        return _invitation_shown_once(request, issued)
    form, status = _retried(
        request, slot="staff-invite", make=lambda data: StaffInviteForm(data, partnerships=partnerships)
    )
    context = {"form": form, "invitation_hours": settings.INVITATION_TTL_HOURS}
    return render(request, "accounts/admin/staff_invite.html", context, status=status)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def staff_invitation(request: HttpRequest, user_id: int) -> HttpResponse:
    """The new invitation's enrolment code (and its link, also emailed), shown once: a refresh shows only that
    it was. (Every page is sent with
    Cache-Control: no-store, helpline/headers.py, so the browser keeps no copy of it either.)"""
    member = _member(user_id)
    retry = retry_take(request, slot=INVITATION_SLOT.format(user_id=member.pk))
    link = retry.extra.get("link", "") if retry else ""
    context = {
        "member": member,
        "link": link,
        "code": retry.extra.get("code", "") if retry else "",
        "expires": retry.extra.get("expires", "") if retry else "",
    }
    return render(request, "accounts/admin/staff_invitation.html", context)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _member(user_id)
    slot = f"staff-{member.pk}"
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    invitation = selectors.invitation_latest(user=member)
    context = {
        "member": member,
        "form": form,
        "pending": selectors.mfa_reset_pending_for(user=member),
        "invitation": invitation,
        "invitation_state": invitation.state(timezone.now()) if invitation else "",
        "reissue_problem": administration.reissue_problem(
            user=member, latest=invitation, enrolled=bool(getattr(member, "mfa_enrolled", False))
        ),
    }
    return render(request, "accounts/admin/staff_detail.html", context, status=status)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_access(request: HttpRequest, user_id: int) -> HttpResponse:
    """Choose a role and scope; the change is made only on the confirmation page that follows."""
    member = _member(user_id)
    here = reverse("accounts:admin_staff_access", kwargs={"user_id": member.pk})
    slot = f"staff-access-{member.pk}"
    partnerships = selectors.partnerships()
    if request.method == "POST":
        form = StaffAccessForm(request.POST, partnerships=partnerships)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        role = form.cleaned_data["role"]
        codes = form.cleaned_data["authority_codes"] if policy.scoped_by_authorities(role) else []
        partnership = form.cleaned_data["partnership"] if policy.scoped_by_partnership(role) else None
        try:
            changes = administration.staff_access_check(
                user=member, role=role, authority_codes=codes, partnership=partnership, acting_user=staff_user(request)
            )
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        if not changes:
            messages.success(request, f"Nothing changed: {member.username} already has this role and scope")
            return redirect("accounts:admin_staff_detail", user_id=member.pk)
        query = {
            "role": role,
            "authorities": ",".join(codes),
            "partnership": partnership.pk if partnership is not None else "",
            "version": administration.access_version(member),
        }
        confirm = reverse("accounts:admin_staff_access_confirm", kwargs={"user_id": member.pk})
        return redirect(f"{confirm}?{urlencode(query)}")
    initial = {
        "role": member.role,
        "authorities": "\n".join(authority.name for authority in member.authorities.all()),
        "partnership": str(member.partnership_id or ""),
    }
    form, status = _retried(
        request, slot=slot, make=lambda data: StaffAccessForm(data, partnerships=partnerships, initial=initial)
    )
    return render(request, "accounts/admin/staff_access.html", {"member": member, "form": form}, status=status)


def _access_after(role: str, codes: list[str], partnership: Partnership | None) -> SimpleNamespace:
    """The account's access once changed, shaped like the account for accounts/admin/staff_scope.html."""
    authorities = sorted(
        (found for code in codes if (found := lookup.authority_by_code(code)) is not None), key=lambda a: a.name
    )
    return SimpleNamespace(role=role, partnership=partnership, authorities=SimpleNamespace(all=authorities))


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_access_confirm(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm a role and scope change: the page shows the account's access now and after, and the change is
    made only from here. Chosen on the role and scope page, it arrives in the address (GSS codes, so a refresh
    or Back shows the same page) and is posted back as hidden fields; anything else goes back to that page."""
    member = _member(user_id)
    access = reverse("accounts:admin_staff_access", kwargs={"user_id": member.pk})
    slot = f"staff-access-{member.pk}"
    form = StaffAccessConfirmForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        error = "Choose the role and scope again: the change to confirm was incomplete"
        return retry_redirect(request, access, slot=slot, error=error)
    data = form.cleaned_data
    if request.method == "POST":
        try:
            administration.staff_access_change(
                user=member,
                role=data["role"],
                authority_codes=data["authorities"],
                partnership=data["partnership"],
                acting_user=staff_user(request),
                version=data["version"],
            )
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, access, slot=slot, error=str(refused))
        messages.success(request, f"Role and scope changed for {member.username}")
        return redirect("accounts:admin_staff_detail", user_id=member.pk)
    if data["version"] != administration.access_version(member):
        error = f"{member.username}'s role or scope changed while you were choosing: check it and choose again."
        return retry_redirect(request, access, slot=slot, error=error)
    context = {
        "member": member,
        "form": form,
        "role_after": User.Role(data["role"]).label,
        "after": _access_after(data["role"], data["authorities"], data["partnership"]),
    }
    return render(request, "accounts/admin/staff_access_confirm.html", context)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    """Asks first; disabling ends every session and API token of the account at once."""
    member = _member(user_id)
    return _confirmed_change(
        request,
        member,
        here=reverse("accounts:admin_staff_disable", kwargs={"user_id": member.pk}),
        slot=f"staff-disable-{member.pk}",
        act=services.user_disable,
        done=f"{member.username} is disabled: their sessions and API tokens have ended",
        template="accounts/admin/staff_disable.html",
        context={"is_self": member.pk == staff_user(request).pk},
    )


def _confirmed_change(
    request: HttpRequest,
    member: User,
    *,
    here: str,
    slot: str,
    act: Callable[..., object],
    done: str,
    template: str,
    context: dict[str, object],
) -> HttpResponse:
    """A change one administrator makes after a confirmation page: on POST it is made (a refusal comes back
    through post/redirect/get) and the account page says so; on GET the confirmation is shown."""
    if request.method == "POST":
        try:
            act(user=member, acting_user=staff_user(request))
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, error=str(refused))
        messages.success(request, done)
        return redirect("accounts:admin_staff_detail", user_id=member.pk)
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    return render(request, template, {"member": member, "form": form, **context}, status=status)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_mfa_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """The first administrator's request for an MFA reset, with a reason; nothing is reset yet."""
    member = _member(user_id)
    return _two_person_request(
        request,
        member,
        here=reverse("accounts:admin_staff_mfa_reset", kwargs={"user_id": member.pk}),
        slot=f"staff-mfa-reset-{member.pk}",
        form_class=MfaResetRequestForm,
        ask=administration.mfa_reset_request,
        asked=f"MFA reset for {member.username} requested: another administrator must approve it",
        template="accounts/admin/staff_mfa_reset.html",
    )


def _two_person_request(
    request: HttpRequest,
    member: User,
    *,
    here: str,
    slot: str,
    form_class: type[forms.Form],
    ask: Callable[..., object],
    asked: str,
    template: str,
) -> HttpResponse:
    """The first administrator's half of a two-person change (an MFA reset, re-enabling an account): a reason,
    then the request, which another administrator must approve. Refusals follow post/redirect/get."""
    if request.method == "POST":
        form = form_class(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        try:
            ask(user=member, reason=form.cleaned_data["reason"], acting_user=staff_user(request))
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        messages.success(request, asked)
        return redirect("accounts:admin_staff_detail", user_id=member.pk)
    form, status = _retried(request, slot=slot, make=lambda data: form_class(data))
    context = {"member": member, "form": form, "pending": selectors.mfa_reset_pending_for(user=member)}
    return render(request, template, context, status=status)


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
    detail = reverse("accounts:admin_staff_detail", kwargs={"user_id": member.pk})
    reset_request = _decided_request(request, member)
    if reset_request is None:
        return member, detail, retry_redirect(request, detail, slot=f"staff-{member.pk}", error=NOT_WAITING)
    try:
        return member, detail, decide(reset_request)
    except services.StaffChangeRefused as refused:
        return member, detail, retry_redirect(request, detail, slot=f"staff-{member.pk}", error=str(refused))


@staff_required(Permission.ADMINISTER)
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
    if issued.invitation.origin == Invitation.Origin.RE_ENABLE:
        messages.success(request, f"{member.username}'s account is enabled again: they must enrol with this invitation")
    else:
        messages.success(
            request, f"MFA reset for {member.username} approved: their sessions have ended and they must enrol again"
        )
    return _invitation_shown_once(request, issued)


@staff_required(Permission.ADMINISTER)
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
    what = "Request to enable" if not member.is_active else "MFA reset request for"
    messages.success(request, f"{what} {member.username} cancelled")
    return redirect(detail)


# --- invitations: revoked or re-issued by one administrator -------------------------------------------------


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_invitation_revoke(request: HttpRequest, user_id: int) -> HttpResponse:
    """Asks first; revoking stops the invitation link at once."""
    member = _member(user_id)
    return _confirmed_change(
        request,
        member,
        here=reverse("accounts:admin_staff_invitation_revoke", kwargs={"user_id": member.pk}),
        slot=f"staff-invitation-revoke-{member.pk}",
        act=administration.invitation_revoke,
        done=f"{member.username}'s invitation is revoked: its link no longer works",
        template="accounts/admin/staff_invitation_revoke.html",
        context={"invitation": selectors.invitation_waiting(user=member)},
    )


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_invitation_reissue(request: HttpRequest, user_id: int) -> HttpResponse:
    """Asks first; a new link is then shown once and the old one stops working. Only for an invitation to a
    new account that was never used: one from an MFA reset or from enabling an account again is replaced
    only by a new request that a second administrator approves."""
    member = _member(user_id)
    here = reverse("accounts:admin_staff_invitation_reissue", kwargs={"user_id": member.pk})
    slot = f"staff-invitation-reissue-{member.pk}"
    if request.method == "POST":
        try:
            issued = administration.invitation_reissue(user=member, acting_user=staff_user(request))
        except services.StaffChangeRefused as refused:
            return retry_redirect(request, here, slot=slot, error=str(refused))
        messages.success(request, f"New invitation created for {member.username}: the old link no longer works")
        return _invitation_shown_once(request, issued)
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    latest = selectors.invitation_latest(user=member)
    problem = administration.reissue_problem(
        user=member, latest=latest, enrolled=bool(getattr(member, "mfa_enrolled", False))
    )
    if member.pk == staff_user(request).pk:
        problem = "You cannot re-issue your own invitation: ask another administrator."
    context = {"member": member, "form": form, "problem": problem, "invitation_hours": settings.INVITATION_TTL_HOURS}
    return render(request, "accounts/admin/staff_invitation_reissue.html", context, status=status)


# --- enabling a disabled account again: a request a second administrator approves ---------------------------


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def staff_enable(request: HttpRequest, user_id: int) -> HttpResponse:
    """The first administrator's request, with a reason; once another approves, the account is active again
    with a new invitation (its old password and authenticator never come back)."""
    member = _member(user_id)
    return _two_person_request(
        request,
        member,
        here=reverse("accounts:admin_staff_enable", kwargs={"user_id": member.pk}),
        slot=f"staff-enable-{member.pk}",
        form_class=UserEnableRequestForm,
        ask=administration.user_enable_request,
        asked=f"Request to enable {member.username} sent: another administrator must approve it",
        template="accounts/admin/staff_enable.html",
    )


# --- safeguarding partnerships ------------------------------------------------------------------------------


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def partnership_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/admin/partnership_list.html", {"partnerships": selectors.partnership_list()})


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def partnership_edit(request: HttpRequest, partnership_id: int | None = None) -> HttpResponse:
    """Set up a safeguarding partnership, or change its name and authorities (post/redirect/get)."""
    partnership = None
    if partnership_id is not None:
        partnership = Partnership.objects.filter(pk=partnership_id).first()
        if partnership is None:
            raise Http404("There is no safeguarding partnership with that number.")
        here = reverse("accounts:admin_partnership", kwargs={"partnership_id": partnership.pk})
    else:
        here = reverse("accounts:admin_partnership_new")
    slot = f"partnership-{partnership_id or 'new'}"
    if request.method == "POST":
        form = PartnershipForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        try:
            saved = partnership_save(
                partnership=partnership,
                name=form.cleaned_data["name"],
                authorities=form.cleaned_data["authorities"],
                acting_user=staff_user(request),
            )
        except PartnershipRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        messages.success(request, f"{saved.name} saved")
        return redirect("accounts:admin_partnerships")
    initial = (
        {
            "name": partnership.name,
            "authorities": "\n".join(authority.name for authority in partnership.authorities.order_by("name")),
        }
        if partnership is not None
        else {}
    )
    form, status = _retried(request, slot=slot, make=lambda data: PartnershipForm(data, initial=initial))
    context = {"partnership": partnership, "form": form}
    return render(request, "accounts/admin/partnership_edit.html", context, status=status)


# --- national bodies ----------------------------------------------------------------------------------------


def _national_body(body_id: int) -> NationalBody:
    body = NationalBody.objects.filter(pk=body_id).first()
    if body is None:
        raise Http404("There is no national body with that number.")
    return body


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def national_body_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/admin/national_body_list.html", {"bodies": selectors.national_body_list()})


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def national_body_edit(request: HttpRequest, body_id: int | None = None) -> HttpResponse:
    """Add a national body, or change its name, kind, code and contact address (post/redirect/get)."""
    body = _national_body(body_id) if body_id is not None else None
    if body is not None:
        here = reverse("accounts:admin_national_body", kwargs={"body_id": body.pk})
    else:
        here = reverse("accounts:admin_national_body_new")
    slot = f"national-body-{body_id or 'new'}"
    if request.method == "POST":
        form = NationalBodyForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST)
        data = form.cleaned_data
        try:
            saved, changed = national_body_save(
                body=body,
                code=data["body_code"],
                name=data["name"],
                kind=data["kind"],
                contact_email=data["contact_email"],
                acting_user=staff_user(request),
            )
        except NationalBodyRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused))
        messages.success(request, f"{saved.name} saved" if changed else f"Nothing changed for {saved.name}")
        return redirect("accounts:admin_national_bodies")
    initial = (
        {"name": body.name, "kind": body.kind, "body_code": body.code, "contact_email": body.contact_email}
        if body is not None
        else {}
    )
    form, status = _retried(request, slot=slot, make=lambda data: NationalBodyForm(data, initial=initial))
    context = {
        "body": body,
        "form": form,
        "referrals": body.referrals.count() if body is not None else 0,
        "delete_problem": national_body_delete_problem(body) if body is not None else "",
    }
    return render(request, "accounts/admin/national_body_edit.html", context, status=status)


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET", "POST"])
def national_body_remove(request: HttpRequest, body_id: int) -> HttpResponse:
    """Asks first. A body with referrals, and the review team, are never deleted: the page says why, and a
    POST is refused with that reason (409) on this page again."""
    body = _national_body(body_id)
    here = reverse("accounts:admin_national_body_delete", kwargs={"body_id": body.pk})
    slot = f"national-body-delete-{body.pk}"
    if request.method == "POST":
        try:
            national_body_delete(body=body, acting_user=staff_user(request))
        except NationalBodyRefused as refused:
            return retry_redirect(request, here, slot=slot, error=str(refused), status=409)
        messages.success(request, f"{body.name} deleted")
        return redirect("accounts:admin_national_bodies")
    form, status = _retried(request, slot=slot, make=lambda data: ConfirmForm(data))
    context = {"body": body, "form": form, "problem": national_body_delete_problem(body)}
    return render(request, "accounts/admin/national_body_delete.html", context, status=status)
