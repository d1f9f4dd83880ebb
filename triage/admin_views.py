"""Administration for administrators: each authority's referral inbox. No case content here. The staff
account pages are accounts.admin_views (accounts/urls.py, under the same admin/ addresses)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.decorators import staff_required, staff_user
from accounts.policy import Permission
from core.form_retry import retry_redirect, retry_take
from directory.models import LocalAuthority
from directory.phones import PhoneInvalid, phone_normalise
from directory.services import authority_contacts_set
from triage.selectors import authorities_unreached


class ReferralInboxForm(forms.Form):
    """An authority's referral inbox and telephone numbers, as the council publishes them."""

    referral_email = forms.EmailField(
        label="Referral inbox",
        required=False,
        max_length=254,
        help_text="Where notifications of new referrals go. They never contain case details.",
        error_messages={"invalid": "Enter an email address in the correct format, like referrals@council.gov.uk"},
    )
    childrens_services_contact = forms.CharField(
        label="Children's services telephone number (optional)",
        required=False,
        max_length=32,
        help_text="The council's front door for children's social care in office hours. Only a number the "
        "council publishes: never a guess.",
    )
    emergency_duty_phone = forms.CharField(
        label="Emergency duty team telephone number (optional)",
        required=False,
        max_length=32,
        help_text="Out-of-hours children's social care. Reporters of urgent concerns are given it when the "
        "helpline is closed.",
    )

    def _phone(self, name: str) -> str:
        try:
            return phone_normalise(self.cleaned_data.get(name) or "")
        except PhoneInvalid as invalid:
            raise forms.ValidationError(str(invalid)) from invalid

    def clean_childrens_services_contact(self) -> str:
        return self._phone("childrens_services_contact")

    def clean_emergency_duty_phone(self) -> str:
        return self._phone("emergency_duty_phone")


@staff_required(Permission.ADMINISTER)
@require_http_methods(["GET"])
def authority_list(request: HttpRequest) -> HttpResponse:
    authorities = LocalAuthority.objects.order_by("name").values(
        "gss_code", "name", "region", "referral_email", "emergency_duty_phone", "childrens_services_contact"
    )
    return render(
        request,
        "triage/admin/authority_list.html",
        {"authorities": authorities, "unreached": authorities_unreached()},
    )


@staff_required(Permission.ADMINISTER)
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
        changed = authority_contacts_set(
            authority=authority,
            referral_email=email,
            emergency_duty_phone=form.cleaned_data["emergency_duty_phone"],
            childrens_services_contact=form.cleaned_data["childrens_services_contact"],
            acting_user=staff_user(request),
        )
        if "referral_email" in changed:
            done = (
                f"Referral inbox for {authority.name} set to {email}"
                if email
                else f"Referral inbox for {authority.name} removed"
            )
        else:
            done = f"Contact details for {authority.name} saved" if changed else f"Nothing changed for {authority.name}"
        messages.success(request, done)
        return redirect("triage:admin_authorities")
    retry = retry_take(request, slot=slot)
    if retry is not None:
        form = ReferralInboxForm(retry.data)
        form.is_valid()
        status = retry.status
    else:
        form = ReferralInboxForm(
            initial={
                "referral_email": authority.referral_email,
                "emergency_duty_phone": authority.emergency_duty_phone,
                "childrens_services_contact": authority.childrens_services_contact,
            }
        )
        status = 200
    return render(request, "triage/admin/authority_inbox.html", {"authority": authority, "form": form}, status=status)
