"""The local authority workspace: referrals to the officer's own authorities, by case number."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import staff_required
from accounts.models import User
from reports.forms import MESSAGE_MAX, clean_text
from triage import authority, selectors
from triage.models import AuthorityAction, AuthorityOutcome, Case
from triage.workflow import ActionNotAllowed

OFFICER = (User.Role.AUTHORITY_OFFICER,)


class NoteField(forms.CharField):
    def clean(self, value: object) -> str:
        return clean_text(str(super().clean(value) or ""))


class RecordActionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What was done",
        widget=forms.RadioSelect,
        choices=[(k, AuthorityAction.Kind(k).label) for k in authority.RECORDABLE],
        error_messages={"required": "Choose what was done"},
    )
    note = NoteField(
        label="Details (optional)", required=False, max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose an outcome"), *AuthorityOutcome.choices],
        error_messages={"required": "Choose an outcome"},
    )
    note = NoteField(
        label="What happened (optional)",
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuestionForm(forms.Form):
    note = NoteField(
        label="Your question for the helpline",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter your question"},
    )


FORMS: dict[str, type[forms.Form] | None] = {
    "acknowledge": None,
    "record_action": RecordActionForm,
    "record_outcome": OutcomeForm,
    "ask_helpline": QuestionForm,
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - staff_required ran
    return request.user


@staff_required(*OFFICER)
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = selectors.referral_list_for(user=user, include_closed=request.GET.get("closed") == "1")
    now = timezone.now()
    for row in rows:
        row["ack_state"] = (
            "done" if row["authority_acknowledged_at"] else selectors.deadline_state(row["authority_ack_due_at"], now)
        )
        row["outcome_state"] = (
            "done" if row["authority_outcome_at"] else selectors.deadline_state(row["authority_outcome_due_at"], now)
        )
    return render(request, "triage/authority/referral_list.html", {"rows": rows})


def _page(
    request: HttpRequest, case: Case, *, error: str = "", bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    opened = authority.referral_open(case=case, acting_user=_user(request))
    action_forms = {name: (form_class(prefix=name) if form_class else None) for name, form_class in FORMS.items()}
    action_forms.update(bound or {})
    return render(
        request,
        "triage/authority/referral.html",
        {
            "case": case,
            "opened": opened,
            "forms": action_forms,
            "error": error,
            "open": case.status == Case.Status.REFERRED,
        },
        status=status,
    )


@staff_required(*OFFICER)
@require_GET
def referral_detail(request: HttpRequest, case_number: str) -> HttpResponse:
    return _page(request, selectors.referral_get_for(user=_user(request), case_number=case_number))


@sensitive_post_parameters()
@staff_required(*OFFICER)
@require_POST
def referral_action(request: HttpRequest, case_number: str, action: str) -> HttpResponse:
    user = _user(request)
    case = selectors.referral_get_for(user=user, case_number=case_number)
    if action not in FORMS:
        return _page(request, case, error="That action does not exist.", status=404)
    form_class = FORMS[action]
    form = form_class(request.POST, prefix=action) if form_class else None
    if form is not None and not form.is_valid():
        return _page(request, case, bound={action: form}, status=400)
    data = form.cleaned_data if form else {}
    try:
        if action == "acknowledge":
            authority.referral_acknowledge(case=case, acting_user=user)
        elif action == "record_action":
            authority.referral_record_action(case=case, kind=data["kind"], note=data["note"], acting_user=user)
        elif action == "record_outcome":
            authority.referral_record_outcome(case=case, outcome=data["outcome"], note=data["note"], acting_user=user)
        else:
            authority.referral_ask_helpline(case=case, question=data["note"], acting_user=user)
    except ActionNotAllowed as refused:
        case.refresh_from_db()
        return _page(request, case, error=str(refused), status=409)
    return redirect(reverse("triage:referral_detail", kwargs={"case_number": case.case_number}))
