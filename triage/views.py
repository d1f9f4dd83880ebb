"""The helpline workspace: queues, the case list, the case page and its actions, phone intake."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import HELPLINE, staff_required
from accounts.models import User
from reports import journey, services
from reports.models import Channel
from triage import actions, authorities, selectors, workflow
from triage import forms as case_forms
from triage.models import Case, Queue

ACTION_FORMS: dict[str, type[forms.Form] | None] = {
    "claim": None,
    "assign": case_forms.AssignForm,
    "set_priority": case_forms.PriorityForm,
    "set_concern_types": case_forms.ConcernTypesForm,
    "set_authority": case_forms.AuthorityForm,
    "ask_reporter": case_forms.TextForm,
    "add_note": case_forms.TextForm,
    "refer": case_forms.ReferForm,
    "escalate": case_forms.EscalateForm,
    "link_duplicate": case_forms.LinkForm,
    "close": case_forms.CloseForm,
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - staff_required ran
    return request.user


def action_form(action: str, data: Any = None) -> forms.Form | None:
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        return None
    kwargs: dict[str, Any] = {"prefix": action}
    if form_class is case_forms.AssignForm:
        kwargs["assignees"] = list(selectors.helpline_staff().values_list("username", flat=True))
    if form_class is case_forms.AuthorityForm:
        kwargs["authorities"] = authorities.authority_choices()
    return form_class(data, **kwargs)


@staff_required()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == User.Role.AUTHORITY_OFFICER:
        return redirect("triage:referral_list")
    if user.role == User.Role.ADMINISTRATOR:
        return redirect("triage:admin_authorities")
    if user.role in (User.Role.BOARD_REVIEWER, User.Role.OVERSIGHT_ANALYST):
        return redirect("oversight:statistics")
    if not user.is_helpline:
        return render(request, "triage/not_yet.html", status=200)
    return render(request, "triage/home.html", {"queues": selectors.queue_overview(user=user)})


@staff_required(*HELPLINE)
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = case_forms.CaseFilterForm(
        request.GET or None,
        queues=list(Queue.objects.order_by("name").values_list("slug", "name")),
        authorities=authorities.authority_choices(),
        assignees=list(selectors.helpline_staff().values_list("username", flat=True)),
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.CaseFilters(**{k: v for k, v in data.items() if v not in (None, "")})
    page = selectors.case_list(user=user, filters=filters)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "triage/case_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "rows": [
                {
                    **row,
                    "overdue": selectors.deadline_state(row["triage_due_at"], page.now) == "overdue"
                    and row["status"] in workflow.IN_TRIAGE,
                }
                for row in page.rows
            ],
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@sensitive_variables("opened")
def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    error: str = "",
    forms_bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    opened = actions.case_open(case=case, acting_user=user)
    now = timezone.now()
    action_forms = {name: action_form(name) for name in workflow.allowed_actions(case) if name in ACTION_FORMS}
    if "escalate_national_review" in workflow.allowed_actions(case) or "escalate_police" in workflow.allowed_actions(
        case
    ):
        action_forms["escalate"] = action_form("escalate")
    action_forms.update(forms_bound or {})
    deadlines = [
        ("Triage", case.triage_due_at),
        ("Authority acknowledgement", case.authority_ack_due_at),
        ("Authority outcome", case.authority_outcome_due_at),
        ("Feedback to the reporter", case.reporter_feedback_due_at),
    ]
    return render(
        request,
        "triage/case_detail.html",
        {
            "case": case,
            "report": case.report,
            "opened": opened,
            "error": error,
            "action_forms": action_forms,
            "allowed": workflow.allowed_actions(case),
            "deadlines": [(label, due, selectors.deadline_state(due, now)) for label, due in deadlines if due],
            "timeline": selectors.case_timeline(case=case),
            "access_history": selectors.case_access_history(user=user, case=case),
            "emails": case.emails.order_by("id"),
            "links": case.links.select_related("other"),
        },
        status=status,
    )


@staff_required(*HELPLINE)
@require_GET
def case_detail(request: HttpRequest, case_number: str) -> HttpResponse:
    case = selectors.case_get_for(user=_user(request), case_number=case_number)
    return _case_page(request, case)


@sensitive_post_parameters()
@staff_required(*HELPLINE)
@require_POST
def case_action(request: HttpRequest, case_number: str, action: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for(user=user, case_number=case_number)
    if action not in ACTION_FORMS:
        return _case_page(request, case, error="That action does not exist.", status=404)
    form = action_form(action, request.POST)
    if form is not None and not form.is_valid():
        return _case_page(request, case, forms_bound={action: form}, status=400)
    try:
        actions.case_act(case=case, action=action, data=form.cleaned_data if form else {}, acting_user=user)
    except workflow.ActionNotAllowed as refused:
        case.refresh_from_db()
        return _case_page(request, case, error=str(refused), status=409)
    return redirect(reverse("triage:case_detail", kwargs={"case_number": case.case_number}) + "#timeline")


PHONE_STEPS = [step for step in journey.STEPS if step.slug != "council"]


@sensitive_post_parameters()
@sensitive_variables("answers", "submitted", "step_forms")
@staff_required(*HELPLINE)
@require_http_methods(["GET", "POST"])
def phone_report(request: HttpRequest) -> HttpResponse:
    """A call handler records a concern for a caller, through the same service as web intake."""
    data = request.POST if request.method == "POST" else None
    step_forms = {step.slug: step.form_class(data, prefix=step.slug) for step in PHONE_STEPS}
    anonymous = data is not None and data.get("anonymity-anonymity") == "anonymous"
    # An anonymous caller is never asked for contact details.
    required = [slug for slug in step_forms if not (anonymous and slug == "contact")]
    if anonymous:
        step_forms["contact"] = journey.STEP_BY_SLUG["contact"].form_class(prefix="contact")
    if data is not None and all([step_forms[slug].is_valid() for slug in required]):  # noqa: C419 - validate all
        answers: journey.Answers = {}
        for slug in required:
            answers = journey.answers_from_form(slug, step_forms[slug], answers)
        if answers.get("where", {}).get("candidates") is not None:
            step_forms["where"].add_error(
                "postcode",
                "That postcode covers more than one council: ask for the full postcode or choose the council",
            )
        else:
            submitted = services.report_submit(
                data=journey.report_input(answers), channel=Channel.PHONE, acting_user=_user(request)
            )
            return render(
                request,
                "triage/phone_confirmation.html",
                {
                    "reference": submitted.report.reference,
                    "access_code": submitted.access_code,
                },
            )
    errors = [(slug, step_forms[slug]) for slug in required if step_forms[slug].errors]
    return render(
        request, "triage/phone_report.html", {"step_forms": step_forms, "errors": errors}, status=400 if errors else 200
    )
