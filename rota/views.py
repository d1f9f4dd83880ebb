"""The on-call rota page (supervisors, MANAGE_ROTA): the next 14 days of shifts, the gaps of the next 7 in red,
and adding, changing or removing a shift. Works without JavaScript. Every form follows post/redirect/get
(core.form_retry): a refused form comes back on its page, bound to what was typed, with a GOV.UK error summary
and a 400."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from accounts.policy import Permission
from core.form_retry import retry_redirect, retry_take, with_kept_errors
from core.office_hours import helpline_hours
from rota import selectors, services
from rota.forms import RemoveShiftForm, ShiftForm
from rota.models import Shift


def _errors(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(message) for message in said] for name, said in form.errors.items()}


@staff_required(Permission.MANAGE_ROTA)
@require_GET
def rota(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        "shifts": list(selectors.shifts_between(now, now + timedelta(days=selectors.LIST_DAYS))),
        "gaps": selectors.rota_gaps(now),
        "on_call": selectors.on_call_at(now),
        "hours": helpline_hours(now),
        "list_days": selectors.LIST_DAYS,
        "gap_days": selectors.GAP_DAYS,
    }
    return render(request, "rota/rota.html", context)


def _shift(shift_id: int) -> Shift:
    shift = Shift.objects.select_related("person").filter(pk=shift_id).first()
    if shift is None:
        raise Http404
    return shift


def _shift_page(request: HttpRequest, shift: Shift | None) -> HttpResponse:
    """Add a shift (``shift`` None) or change one: the same form and rules."""
    shift_id = shift.pk if shift else None
    here = reverse("rota:shift_edit", kwargs={"shift_id": shift.pk}) if shift else reverse("rota:shift_add")
    slot = f"rota-shift:{shift_id or 'new'}"
    if request.method == "POST":
        form = ShiftForm(request.POST, shift_id=shift_id)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST, errors=_errors(form))
        data = form.cleaned_data
        try:
            services.shift_save(
                shift=shift,
                person=User.objects.get(username=data["person"]),
                role=data["role"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                phone=data["phone"],
                handover_note=data["handover_note"],
                acting_user=staff_user(request),
            )
        except services.RotaRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, errors={"__all__": [str(refused)]})
        messages.success(request, "Shift changed" if shift else "Shift added to the rota")
        return redirect("rota:rota")
    retry = retry_take(request, slot=slot)
    if retry is None:
        initial = ShiftForm.initial_of(shift) if shift else None
        return render(
            request, "rota/shift_form.html", {"form": ShiftForm(initial=initial, shift_id=shift_id), "shift": shift}
        )
    form = with_kept_errors(ShiftForm(retry.data, shift_id=shift_id), retry)
    return render(request, "rota/shift_form.html", {"form": form, "shift": shift}, status=retry.status)


@staff_required(Permission.MANAGE_ROTA)
@require_http_methods(["GET", "POST"])
def shift_add(request: HttpRequest) -> HttpResponse:
    return _shift_page(request, None)


@staff_required(Permission.MANAGE_ROTA)
@require_http_methods(["GET", "POST"])
def shift_edit(request: HttpRequest, shift_id: int) -> HttpResponse:
    return _shift_page(request, _shift(shift_id))


@staff_required(Permission.MANAGE_ROTA)
@require_http_methods(["GET", "POST"])
def shift_remove(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = _shift(shift_id)
    here = reverse("rota:shift_remove", kwargs={"shift_id": shift.pk})
    slot = f"rota-remove:{shift.pk}"
    if request.method == "POST":
        form = RemoveShiftForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST, errors=_errors(form))
        services.shift_remove(shift=shift, acting_user=staff_user(request))
        messages.success(request, "Shift removed from the rota")
        return redirect("rota:rota")
    retry = retry_take(request, slot=slot)
    form = RemoveShiftForm() if retry is None else with_kept_errors(RemoveShiftForm(retry.data), retry)
    status = 200 if retry is None else retry.status
    return render(request, "rota/shift_remove.html", {"form": form, "shift": shift}, status=status)
