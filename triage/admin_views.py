"""Administration for administrators: each authority's referral inbox. No case content here. The staff
account pages are accounts.admin_views (beside these in triage/urls.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from core.form_retry import retry_redirect, retry_take
from directory.models import LocalAuthority
from directory.services import authority_inbox_set


class ReferralInboxForm(forms.Form):
    referral_email = forms.EmailField(
        label="Referral inbox",
        required=False,
        max_length=254,
        help_text="Where notifications of new referrals go. They never contain case details.",
        error_messages={"invalid": "Enter an email address in the correct format, like referrals@council.gov.uk"},
    )


@staff_required(User.Role.ADMINISTRATOR)
@require_http_methods(["GET"])
def authority_list(request: HttpRequest) -> HttpResponse:
    authorities = LocalAuthority.objects.order_by("name").values("gss_code", "name", "region", "referral_email")
    return render(request, "triage/admin/authority_list.html", {"authorities": authorities})


@staff_required(User.Role.ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def authority_inbox(request: HttpRequest, gss_code: str) -> HttpResponse:
    """Post/redirect/get: a refused address comes back to this page's GET with its error and a 400."""
    authority = LocalAuthority.objects.filter(gss_code=gss_code).first()
    if authority is None:
        return render(request, "triage/admin/authority_list.html", {"authorities": [], "missing": True}, status=404)
    slot = f"authority-inbox-{authority.gss_code}"
    if request.method == "POST":
        form = ReferralInboxForm(request.POST)
        if not form.is_valid():
            here = reverse("triage:admin_authority_inbox", kwargs={"gss_code": authority.gss_code})
            return retry_redirect(request, here, slot=slot, data=request.POST)
        email = form.cleaned_data["referral_email"]
        authority_inbox_set(authority=authority, referral_email=email, acting_user=staff_user(request))
        done = (
            f"Referral inbox for {authority.name} set to {email}"
            if email
            else f"Referral inbox for {authority.name} removed"
        )
        messages.success(request, done)
        return redirect("triage:admin_authorities")
    retry = retry_take(request, slot=slot)
    if retry is not None:
        form = ReferralInboxForm(retry.data)
        form.is_valid()
        status = retry.status
    else:
        form = ReferralInboxForm(initial={"referral_email": authority.referral_email})
        status = 200
    return render(request, "triage/admin/authority_inbox.html", {"authority": authority, "form": form}, status=status)
