"""The local authority workspace: referrals to the officer's own authorities, by case number."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from triage import referrals, selectors
from triage.deadlines import AUTHORITY_ACK, AUTHORITY_OUTCOME, deadline_state
from triage.forms import OutcomeForm, QuestionForm, RecordActionForm
from triage.models import Case
from triage.workflow import ActionNotAllowed

OFFICER = (User.Role.AUTHORITY_OFFICER,)


FORMS: dict[str, type[forms.Form] | None] = {
    "acknowledge": None,
    "record_action": RecordActionForm,
    "record_outcome": OutcomeForm,
    "ask_helpline": QuestionForm,
}


@staff_required(*OFFICER)
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    rows = selectors.referral_list_for(user=user, include_closed=request.GET.get("closed") == "1")
    now = timezone.now()
    for row in rows:
        row["ack_state"] = deadline_state(row, AUTHORITY_ACK, now)
        row["outcome_state"] = deadline_state(row, AUTHORITY_OUTCOME, now)
    return render(request, "triage/authority/referral_list.html", {"rows": rows})


def _page(
    request: HttpRequest, case: Case, *, error: str = "", bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    try:
        opened = referrals.referral_open(case=case, acting_user=staff_user(request))
    except ActionNotAllowed as missing:  # no referral record: nothing an officer may open
        raise Http404 from missing
    thread = selectors.thread_numbered([action for action, _ in opened.actions])
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
            "open_questions": thread.unanswered,
        },
        status=status,
    )


@staff_required(*OFFICER)
@require_GET
def referral_detail(request: HttpRequest, case_number: str) -> HttpResponse:
    return _page(request, selectors.referral_get_for(user=staff_user(request), case_number=case_number))


@sensitive_post_parameters()
@staff_required(*OFFICER)
@require_POST
def referral_action(request: HttpRequest, case_number: str, action: str) -> HttpResponse:
    user = staff_user(request)
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
            referrals.referral_acknowledge(case=case, acting_user=user)
        elif action == "record_action":
            referrals.referral_record_action(case=case, kind=data["kind"], note=data["note"], acting_user=user)
        elif action == "record_outcome":
            referrals.referral_record_outcome(case=case, outcome=data["outcome"], note=data["note"], acting_user=user)
        else:
            referrals.referral_ask_helpline(case=case, question=data["note"], acting_user=user)
    except ActionNotAllowed as refused:
        case.refresh_from_db()
        return _page(request, case, error=str(refused), status=409)
    return redirect(reverse("triage:referral_detail", kwargs={"case_number": case.case_number}))
