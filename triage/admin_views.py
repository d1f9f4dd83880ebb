"""Administration for administrators: each authority's referral inbox. No case content here."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import staff_required, staff_user
from accounts.models import User
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
    authority = LocalAuthority.objects.filter(gss_code=gss_code).first()
    if authority is None:
        return render(request, "triage/admin/authority_list.html", {"authorities": [], "missing": True}, status=404)
    form = ReferralInboxForm(
        request.POST if request.method == "POST" else None, initial={"referral_email": authority.referral_email}
    )
    if request.method == "POST" and form.is_valid():
        authority_inbox_set(
            authority=authority, referral_email=form.cleaned_data["referral_email"], acting_user=staff_user(request)
        )
        return redirect("triage:admin_authorities")
    status = 400 if request.method == "POST" else 200
    return render(request, "triage/admin/authority_inbox.html", {"authority": authority, "form": form}, status=status)
