"""The helpline workspace: queues, the case list, the case page and its actions, phone intake."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import policy
from accounts.decorators import staff_required, staff_user
from accounts.policy import Permission
from core.files import download_name, file_response
from core.form_retry import Retry, retry_redirect, retry_take
from directory.contacts import authority_contacts
from referrals.selectors import ReferralPanel, case_referral_panels, identity_sharings
from reports import forms as report_forms
from reports import journey, services
from reports.models import Anonymity, Channel
from reports.services import PriorReport
from reports.uploads import SealedUpload
from triage import forms as case_forms
from triage import paging, retention, selectors, workflow
from triage.case_actions import REVEAL_REASONS, report_file_by_phone, uploads_unkept_drop
from triage.case_content import (
    CaseFile,
    FileUnavailable,
    case_open,
    contact_words,
    file_download,
    file_for_preview,
)
from triage.deadlines import REPORTER_FEEDBACK, TRIAGE, Clock, case_deadlines, is_overdue
from triage.models import Case
from triage.notifications import case_emails
from triage.routing import needs_supervisor
from triage.staff_actions import (
    ACTION_FORMS,
    BULK_ACTIONS,
    action_form,
    action_labels,
    bulk_check,
    bulk_permitted,
    bulk_preview,
    case_act,
    page_actions,
    run_bulk,
)
from triage.staff_actions import action_forms as staff_action_forms


@staff_required()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not policy.may(user, Permission.HELPLINE_WORK):
        first_page = policy.home(user)
        if first_page == "triage:home":  # no role's page is open to them (a partnership member with no partnership)
            return render(request, "triage/not_yet.html", status=200)
        return redirect(first_page)
    now = timezone.now()
    questions = [
        {**row, "overdue": row["due"] is not None and row["due"] < now}
        for row in selectors.questions_waiting(user=user)
    ]
    return render(
        request,
        "triage/home.html",
        {
            "queues": selectors.queue_overview(user=user),
            "questions": questions,
            "work": selectors.helpline_work(user=user),
            "now": now,
        },
    )


@staff_required(Permission.HELPLINE_WORK)
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = case_forms.case_filter_form(request.GET)
    page = selectors.case_list(user=user, filters=form.filters())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "triage/case_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "rows": [_list_row(row, page.now) for row in page.rows],
            "count_cap": selectors.COUNT_CAP,
            # Bulk triage, for those who may: the buttons and what "select all" would select.
            "bulk_actions": [(name, BULK_WORDS[name][0]) for name in BULK_ACTIONS if bulk_permitted(user, name)],
            "filter_query": request.GET.urlencode(),
            "bulk_max": settings.BULK_MAX,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- bulk triage ------------------------------------------------------------------------------------------

# What each bulk action's button on the case list and its pages say.
BULK_WORDS: dict[str, tuple[str, str]] = {
    "assign": ("Assign", "Assign {n}"),
    "set_priority": ("Set priority", "Set the priority of {n}"),
    "link_duplicate": ("Link as duplicates", "Link {n} as duplicates of one case"),
    "close": ("Close", "Close {n}"),
}


def _cases_words(n: int) -> str:
    return f"{n} case{'' if n == 1 else 's'}"


@staff_required(Permission.BULK_TRIAGE)
@require_POST
@sensitive_post_parameters()
def case_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk triage from the case list, without JavaScript: the cases ticked (or all those matching the list's
    filter, counted), then the action's own form (the registry's, as for one case), a confirmation page with
    the count and what will be left alone, and the result. Nothing is changed before the confirmation."""
    user = staff_user(request)
    step = request.POST.get("step") or "choose"
    action = str(request.POST.get("action") or "")
    filter_query = str(request.POST.get("filter") or "")
    problem = case_forms.BulkProblemForm(data={})
    problem.is_valid()  # bound and clean, so that a problem found below can be added as its error
    context: dict[str, Any] = {
        "problem": problem,
        "action": action,
        "filter": filter_query,
        "back": reverse("triage:case_list") + (f"?{filter_query}" if filter_query else ""),
    }
    numbers = [str(number) for number in request.POST.getlist("cases")]
    matching = None
    if step == "choose" and request.POST.get("all"):
        # "Select all the cases matching this filter": the list's own filter, resolved to case numbers now, so the
        # pages that follow (and the count they confirm) name exactly these cases.
        filters = case_forms.case_filter_form(QueryDict(filter_query)).filters()
        cases = selectors.cases_filtered(user=user, filters=filters)
        numbers = list(
            cases.order_by(*selectors.SORTS.get(filters.sort, selectors.SORTS["deadline"])).values_list(
                "case_number", flat=True
            )[: settings.BULK_MAX + 1]
        )
        if len(numbers) > settings.BULK_MAX:
            matching = cases.order_by().values("pk")[: selectors.COUNT_CAP + 1].count()
    context["matching_all"] = bool(request.POST.get("all") or request.POST.get("all_confirmed"))
    try:
        if matching is not None:
            raise workflow.ActionNotAllowed(
                f"{'More than ' + str(selectors.COUNT_CAP) if matching > selectors.COUNT_CAP else matching} cases "
                f"match this filter. Bulk triage takes at most {settings.BULK_MAX} at a time: narrow the filter."
            )
        numbers = bulk_check(action=action, case_numbers=numbers, acting_user=user)
    except workflow.ActionNotAllowed as refused:
        problem.add_error(None, str(refused))
        status = 403 if isinstance(refused, workflow.ActionNotPermitted) else 400
        return render(request, "triage/case_bulk.html", {**context, "mode": "problem"}, status=status)
    button, heading = BULK_WORDS[action]
    context.update(
        cases=numbers,
        count=len(numbers),
        heading=heading.format(n=_cases_words(len(numbers))),
        button=button,
    )
    form = action_form(action, request.POST if step != "choose" else None, user=user)
    if form is None:  # every bulk action has a form (bulk_check refused any other)
        raise Http404
    _bulk_form_words(action, form)
    context["form"] = form
    if step == "choose" or not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "triage/case_bulk.html", {**context, "mode": "form"}, status=status)
    if step == "confirm":
        preview = bulk_preview(action=action, case_numbers=numbers, acting_user=user)
        hidden = [
            (form.add_prefix(name), value)
            for name in form.fields
            for value in request.POST.getlist(form.add_prefix(name))
        ]
        return render(
            request,
            "triage/case_bulk.html",
            {
                **context,
                "mode": "confirm",
                "preview": preview,
                "hidden": hidden,
                "chosen": _bulk_chosen(form),
                "apply_words": heading.format(n=_cases_words(len(preview.done))),
            },
        )
    try:
        result = run_bulk(action=action, case_numbers=numbers, data=form.cleaned_data, acting_user=user)
    except workflow.ActionNotAllowed as refused:
        form.add_error(None, str(refused))
        return render(request, "triage/case_bulk.html", {**context, "mode": "form"}, status=409)
    return render(
        request,
        "triage/case_bulk.html",
        {**context, "mode": "done", "result": result, "chosen": _bulk_chosen(form)},
    )


def _bulk_form_words(action: str, form: forms.Form) -> None:
    """The action's form, said of many cases."""
    if action == "link_duplicate":
        form.fields["other"].label = "Case number of the case they duplicate"
        form.fields["other"].help_text = "Each selected case is linked to it, both ways. Or its reporter's reference."
    if action == "close":
        form.fields["feedback"].help_text = "Each reporter reads this on their follow-up page."
        form.fields["confirm"].label = "Yes, close these cases. Each reporter will read the feedback."
        form.fields["confirm"].error_messages["required"] = "Confirm that you want to close these cases"


def _bulk_chosen(form: forms.Form) -> list[tuple[str, str]]:
    """What was chosen in the action's form, in words, for the confirmation page."""
    chosen = []
    for name, field in form.fields.items():
        if isinstance(field, forms.BooleanField):
            continue
        value = form.cleaned_data.get(name)
        if isinstance(field, forms.ChoiceField):
            value = dict(field.choices).get(value, value)  # type: ignore[arg-type]
        chosen.append((str(field.label), str(value)))
    return chosen


def _list_row(row: dict[str, object], now: datetime) -> dict[str, object]:
    """A case list row in words: its status's label, how old it is, and its next deadline (triage while in
    triage, then the reporter's feedback)."""
    status = Case.Status(str(row["status"]))
    created = row["created_at"]
    due = (
        row["triage_due_at"]
        if status in workflow.IN_TRIAGE
        else None
        if status == Case.Status.CLOSED
        else row["reporter_feedback_due_at"]
    )
    return {
        **row,
        "status_label": status.label,
        "age_days": (now - created).days if isinstance(created, datetime) else None,
        "due": due,
        "due_label": "Triage" if status in workflow.IN_TRIAGE else "Feedback",
        "overdue": is_overdue(row, now),
        "supervisor_flag": needs_supervisor(cast(list[str], row.get("report__concern_types") or [])),
    }


@sensitive_variables("opened")
def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    error: str = "",
    forms_bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    opened = case_open(case=case, acting_user=user)
    now = timezone.now()
    # Each referral with its own clocks and thread (rendering only: referrals is the layer above).
    referrals = case_referral_panels(opened.referrals, opened.authority_actions, now, opened.referral_references)
    # The authorities an update may go to: the open referrals case_open has already read.
    recipients = [
        (r.recipient_code, r.recipient_name) for r, _ in opened.referrals if r.status in selectors.REFERRAL_OPEN
    ]
    action_forms = staff_action_forms(page_actions(case, user), case, recipients, user=user)
    action_forms.update(forms_bound or {})
    report = case.report  # None for a national review case opened from a pattern alert
    prior = (
        PriorReport.from_sealed(opened.content.get("already_reported"), answer=report.already_reported)
        if report is not None
        else PriorReport.from_sealed(None)
    )
    refer = action_forms.get("refer")
    if refer is not None and not refer.is_bound and prior.referral_line():
        # The referral summary starts with what the authority should know first: it was reported already.
        refer.initial.setdefault("summary", prior.referral_line())
    flagged = needs_supervisor(report.concern_types) if report is not None else False
    labels = action_labels(case, action_forms)
    hold = retention.hold_shown(case)
    names = _referral_names(referrals)
    timeline_filter = case_forms.TimelineFilterForm(
        request.GET or None,
        kinds=selectors.case_timeline_kinds(case=case),
        who=next(iter(names.values())) if len(set(names.values())) == 1 else "",
    )
    if timeline_filter.is_bound and not timeline_filter.is_valid() and status == 200:
        status = 400
    return render(
        request,
        "triage/case_detail.html",
        {
            "case": case,
            "report": report,
            "opened": opened,
            "destroyed_early": bool(retention.envelope_of(case).content_destroyed_early)
            if opened.destroyed_on
            else False,
            "error": error,
            "action_forms": action_forms,
            "action_rows": [
                {"name": name, "form": form, "heading": labels[name][0], "button": labels[name][1]}
                for name, form in action_forms.items()
                if form is not None and name in labels
            ],
            "facts": selectors.case_facts_shown(case=case),
            "allowed": workflow.allowed_actions(case, user),
            # Urgent pages nobody has answered yet (triage.paging), with how each text went.
            "pages": [(page, paging.delivery_words(page)) for page in paging.pages_waiting(case)],
            "prior_report": prior.words(),
            "supervisor_flag": flagged,
            # Reports about the same organisation, authority and concerns within a few days (never their words),
            # each linkable in one step where the user may link duplicates.
            "possible_duplicates": selectors.possible_duplicates(user=user, case=case),
            "may_link": "link_duplicate" in action_forms,
            "duplicate_window_days": settings.DUPLICATE_WINDOW_DAYS,
            # Deterring a report is an offence: the page offers the police route of "escalate" at the top.
            "police_offer": flagged and not case.escalated_to_police and "escalate" in action_forms,
            "deadlines": [
                (d.clock.label, d.due, d.state, _done_at(case, d.clock, referrals)) for d in case_deadlines(case, now)
            ]
            + _referral_deadlines(referrals),
            "referrals": referrals,
            "refer_reach": getattr(action_forms.get("refer"), "reach", None),
            "authority_contacts": _refer_contacts(action_forms.get("refer"), case),
            "timeline": selectors.case_timeline(case=case, kind=timeline_filter.chosen),
            "timeline_filter": timeline_filter,
            "access_history": selectors.case_access_history(user=user, case=case),
            "contact_reveals": _contact_reveals(selectors.case_contact_reveals(user=user, case=case)),
            "identity_sharings": identity_sharings(case),
            "files": opened.files,
            "downloads": _downloads(selectors.case_file_downloads(user=user, case=case), opened.files, referrals),
            "emails": case_emails(case).order_by("id"),
            "links": case.links.select_related("other"),
            "unanswered_count": sum(panel.thread.unanswered for panel in referrals if panel.thread),
            # With several referrals, who is waiting, and which referral each timeline event is about.
            "waiting_authorities": [
                panel.referral.recipient_called for panel in referrals if panel.thread and panel.thread.unanswered
            ],
            "referral_names": names,
            # What closing would withdraw (referrals.services.referrals_withdraw_open), said on the close form.
            "closing_withdraws": [
                (panel.referral.recipient_name, panel.thread.unanswered if panel.thread else 0)
                for panel in referrals
                if panel.referral.status in selectors.REFERRAL_OPEN
            ],
            # Legal hold: the active hold, and the linked cases a hold would be placed on too.
            "hold": hold,
            "hold_linked": [linked.case_number for linked in retention.linked_cases(case)]
            if "place_hold" in action_forms
            else [],
            "hold_due_passed": case.destroy_on is not None and case.destroy_on <= timezone.localdate(),
        },
        status=status,
    )


def _contact_reveals(events: list[Any]) -> list[dict[str, Any]]:
    """Who showed the reporter's contact details, why, which and when (for supervisors: the events are theirs)."""
    return [
        {
            "who": event.actor.username if event.actor else "",
            "reason": REVEAL_REASONS.get(str(event.detail.get("reason")), "No reason recorded"),
            "shown": capfirst(contact_words(list(event.detail.get("shown") or []))) or "Nothing",
            "at": event.created_at,
        }
        for event in events
    ]


def _downloads(events: list[Any], files: list[CaseFile], referrals: list[ReferralPanel]) -> list[dict[str, Any]]:
    """Who downloaded or previewed which file, and when (for supervisors: the events are theirs only)."""
    names = {file.attachment.pk: file.name for file in files}
    recipients = {panel.referral.pk: panel.referral.recipient_name for panel in referrals}
    return [
        {
            "who": event.actor.username if event.actor else "",
            "file": names.get(event.detail.get("attachment_id"), "A file"),
            "how": "Previewed" if event.detail.get("inline") else "Downloaded",
            "referral": recipients.get(event.detail.get("referral_id"), ""),
            "at": event.created_at,
        }
        for event in events
    ]


def _referral_deadlines(referrals: list[ReferralPanel]) -> list[tuple[str, datetime, str, datetime | None]]:
    """Each referral's clocks and its questions', named for its authority when several referrals have clocks
    (the review team's are named for it already)."""
    rows = []
    several = sum(1 for panel in referrals if panel.deadlines) > 1
    for panel in referrals:
        referral = panel.referral
        whose = f" ({referral.recipient_name})" if several and not referral.to_review else ""
        rows += [
            (f"{d.clock.label}{whose}", d.due, d.state, getattr(referral, d.clock.met_field or "", None))
            for d in panel.deadlines
        ]
        questions = panel.thread.questions if panel.thread else []
        rows += [
            (f"{d.clock.label} {number}{whose}", d.due, d.state, question.answered_at)
            for number, (question, d) in enumerate(zip(questions, panel.question_deadlines, strict=True), start=1)
        ]
    return rows


def _done_at(case: Case, clock: Clock, referrals: list[ReferralPanel]) -> datetime | None:
    """When a clock was met, when the case records it: the closure for the reporter's feedback, and the
    first referral or the closure for triage (an escalation keeps no time of its own: None, and the page
    says only "done")."""
    if clock is TRIAGE:
        if case.independent_review or case.escalated_to_police:
            return None  # it may have left triage by the escalation, whose time the case does not keep
        referred = min((panel.referral.referred_at for panel in referrals), default=None)
        times = [t for t in (referred, case.closed_at) if t is not None]
        return min(times) if times else None
    if clock is REPORTER_FEEDBACK:
        return case.closed_at
    return None


def _case_slot(case_number: str) -> str:
    return f"case:{case_number}"


@staff_required(Permission.HELPLINE_WORK)
@require_GET
def case_detail(request: HttpRequest, case_number: str) -> HttpResponse:
    case = selectors.case_get_for(user=staff_user(request), case_number=case_number)
    retry = retry_take(request, slot=_case_slot(case.case_number))
    if retry is None:
        return _case_page(request, case)
    # An action that failed: its form again, bound to what was typed, with its errors and its status.
    action = retry.extra.get("action", "")
    bound = action_form(action, retry.data, case=case, user=staff_user(request)) if action in ACTION_FORMS else None
    if bound is not None:
        bound.is_valid()
        _file_errors_restore(bound, retry)
    return _case_page(
        request, case, error=retry.error, forms_bound={action: bound} if bound else None, status=retry.status
    )


@sensitive_post_parameters()
@staff_required(Permission.HELPLINE_WORK)
@require_POST
def case_action(request: HttpRequest, case_number: str, action: str) -> HttpResponse:
    """Post/redirect/get: success and failure both redirect to the case page, so Back and refresh never
    send an action again. A failed form is kept sealed for that page (core/form_retry.py)."""
    user = staff_user(request)
    case = selectors.case_get_for(user=user, case_number=case_number)
    page = reverse("triage:case_detail", kwargs={"case_number": case.case_number})
    slot = _case_slot(case.case_number)
    if action not in ACTION_FORMS:
        _uploads_drop(request)
        return retry_redirect(request, page + "#actions", slot=slot, error="That action does not exist.", status=404)
    try:
        # Before its form: a case whose content was destroyed offers no form that would seal anything.
        workflow.check_content_kept(case, action)
    except workflow.ActionNotAllowed as refused:
        _uploads_drop(request)
        return retry_redirect(request, page + "#actions", slot=slot, error=str(refused), status=409)
    form = action_form(action, request.POST, case=case, user=user, files=request.FILES)
    if form is not None and not form.is_valid():
        _uploads_drop(request)
        return retry_redirect(
            request,
            page + f"#action-{action}",
            slot=slot,
            data=request.POST,
            status=400,
            extra={"action": action},
            errors=_file_errors(form),
        )
    try:
        done = case_act(case=case, action=action, data=form.cleaned_data if form else {}, acting_user=user)
    except workflow.ActionNotAllowed as refused:
        _uploads_drop(request)
        return retry_redirect(
            request,
            page + "#actions",
            slot=slot,
            data=request.POST,
            error=str(refused),
            status=409,
            extra={"action": action},
        )
    _uploads_drop(request)  # a file sent with an action that takes none
    messages.success(request, done)
    return redirect(page)


def _uploads(request: HttpRequest) -> list[SealedUpload]:
    return [upload for _, uploads in request.FILES.lists() for upload in uploads if isinstance(upload, SealedUpload)]


def _uploads_drop(request: HttpRequest) -> None:
    """A file is never kept across a refused form (the form asks for it again): what nobody kept goes now."""
    uploads = _uploads(request)
    if uploads:
        uploads_unkept_drop(uploads)


def _file_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors about its file fields: a file is not kept for the page the refusal redirects to, so
    its errors are kept instead (the retry's form is bound to the typed fields only)."""
    errors = {
        name: [str(message) for message in said]
        for name, said in form.errors.items()
        if isinstance(form.fields.get(name), forms.FileField)
    }
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField) and name not in errors and form.files.get(form.add_prefix(name)):
            errors[name] = [CHOOSE_AGAIN]
    return errors


CHOOSE_AGAIN = "Choose the file again: it was not kept because of the other problem on this form"


def _file_errors_restore(form: forms.Form, retry: Retry) -> None:
    for name, said in retry.errors.items():
        if isinstance(form.fields.get(name), forms.FileField) and name not in form.errors:
            for message in said:
                form.add_error(name, message)


def _file_served(request: HttpRequest, case: Case, file_id: uuid.UUID, *, inline: bool) -> HttpResponseBase:
    user = staff_user(request)
    attachment = selectors.case_file_get(user=user, case=case, public_id=file_id)
    try:
        file, chunks = file_download(case=case, attachment=attachment, acting_user=user, inline=inline)
    except FileUnavailable as refused:
        return render(
            request,
            "staff/file_unavailable.html",
            {"reason": str(refused), "back": reverse("triage:case_detail", kwargs={"case_number": case.case_number})},
            status=refused.status,
        )
    return file_response(
        chunks,
        name=download_name(file.name, extension=file.extension, extensions=file.extensions),
        content_type=file.content_type,
        size=file.size,
        inline=inline,
    )


@staff_required(Permission.HELPLINE_WORK)
@require_GET
def case_file(request: HttpRequest, case_number: str, file_id: uuid.UUID) -> HttpResponseBase:
    """A file of the case, decrypted as it is streamed, as a download (each one an audit event)."""
    case = selectors.case_get_for(user=staff_user(request), case_number=case_number)
    return _file_served(request, case, file_id, inline=False)


@staff_required(Permission.HELPLINE_WORK)
@require_GET
def case_file_preview(request: HttpRequest, case_number: str, file_id: uuid.UUID) -> HttpResponseBase:
    """A cleaned image of the case shown in the browser (each view an audit event): the image alone, which
    its preview page (case_file_view) shows."""
    case = selectors.case_get_for(user=staff_user(request), case_number=case_number)
    return _file_served(request, case, file_id, inline=True)


@staff_required(Permission.HELPLINE_WORK)
@require_GET
def case_file_view(request: HttpRequest, case_number: str, file_id: uuid.UUID) -> HttpResponse:
    """The preview page of a cleaned image: in the workspace, with its name, the way back to the case and a
    download link, the image shown by case_file_preview (which records the view)."""
    user = staff_user(request)
    case = selectors.case_get_for(user=user, case_number=case_number)
    back = reverse("triage:case_detail", kwargs={"case_number": case.case_number})
    attachment = selectors.case_file_get(user=user, case=case, public_id=file_id)
    try:
        file = file_for_preview(case=case, attachment=attachment)
    except FileUnavailable as refused:
        return render(
            request, "staff/file_unavailable.html", {"reason": str(refused), "back": back}, status=refused.status
        )
    urls = {"case_number": case.case_number, "file_id": file.public_id}
    return render(
        request,
        "staff/file_preview.html",
        {
            "file": file,
            "case_number": case.case_number,
            "image": reverse("triage:case_file_preview", kwargs=urls),
            "download": reverse("triage:case_file", kwargs=urls),
            "back": f"{back}#files",
        },
    )


def _refer_contacts(form: Any, case: Case) -> Any:
    """The numbers of the authority the refer form is about (the one chosen, else the case's own)."""
    chosen = getattr(form, "chosen", None) or case.authority
    return authority_contacts(chosen) if chosen else None


def _referral_names(referrals: list[Any]) -> dict[str, str]:
    """Each referral's recipient as a sentence names it ("Rotherham", "the independent review team"), by the
    keys timeline events name it with: referral id, authority id, GSS code."""
    names: dict[str, str] = {}
    for panel in referrals:
        referral = panel.referral
        names[f"referral:{referral.pk}"] = referral.recipient_called
        names[f"gss:{referral.recipient_code}"] = referral.recipient_called
        if referral.authority_id:
            names[f"authority:{referral.authority_id}"] = referral.recipient_called
    return names


PHONE_STEPS = [step for step in journey.STEPS if step.slug != "council"]

# The reporter's questions, worded for the call handler who asks them: (step, field) -> label, hint, and the
# error when it is left out. The answers and their validation are the reporter's own.
PHONE_WORDING: dict[tuple[str, str], tuple[str, str | None, str | None]] = {
    ("anonymity", "anonymity"): (
        "How does the caller want to report?",
        None,
        "Select how the caller wants to report",
    ),
    ("about-you", "reporter_sector"): (
        "Where does the caller work?",
        "Ask which sector, not which employer. It is not used to identify them.",
        "Select where the caller works",
    ),
    ("concern", "concern_types"): (
        "What is the caller's concern about?",
        "Select all that apply.",
        "Select what the caller's concern is about",
    ),
    ("where", "postcode"): (
        "Postcode",
        "The postcode of the place or organisation the concern is about, for example S60 1AA.",
        None,
    ),
    ("about-council", "about_council"): (
        "Is the concern about a council or its children's services?",
        "For example, a council hiding what happened, or punishing staff who spoke up. If it is, it is never "
        "referred to that council: it goes to an independent national review.",
        "Select yes if the concern is about a council",
    ),
    ("organisation", "organisation_name"): (
        "Which organisation is the concern about? (optional)",
        None,
        None,
    ),
    ("what-happened", "summary"): (
        "Summarise the concern in a sentence",
        None,
        "Enter a short summary of the concern",
    ),
    ("what-happened", "details"): (
        "What happened?",
        "What the caller saw or was told, when, and who was involved. If they want to stay anonymous, do not "
        "write their name.",
        None,
    ),
    ("raised-internally", "raised_internally"): (
        "Did the caller or anyone else raise this concern inside the organisation?",
        None,
        None,
    ),
    ("reported", "already_reported"): (
        "Has anyone reported this to the police or the council's children's services? (optional)",
        "For example, a report the caller made because they suspected a child was being abused. If a child is "
        "being abused and nobody has told the police or the council, tell the caller how to.",
        None,
    ),
    ("contact", "name"): ("The caller's name", None, "Enter the caller's name"),
    ("contact", "email"): ("The caller's email address (optional)", "A personal address, not a work one.", None),
    ("contact", "phone"): ("The caller's phone number (optional)", None, None),
}


# The hints under the reporter's choices, worded for the handler (the reporter's speak to "you").
PHONE_CHOICE_HINTS: dict[tuple[str, str], dict[str, str]] = {
    ("anonymity", "anonymity"): {
        Anonymity.ANONYMOUS: "Nobody, not even the helpline, will know who the caller is. The helpline cannot "
        "contact them: they check for replies with their reference and access code. Do not write their name.",
        Anonymity.CONFIDENTIAL: "Only the helpline will know who the caller is. It does not tell their employer or "
        "the local authority without their agreement, unless the law requires it.",
        Anonymity.NAMED: "The helpline may ask the caller whether it can give their name to the local authority or "
        "the police: each sharing still needs their yes, asked in their messages.",
    },
}
# The reporter's choices in the caller's words, where the reporter's say "I".
PHONE_CHOICE_LABELS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("reported", "already_reported"): [
        (report_forms.PRIOR_BY_ME, "Yes, the caller reported it"),
        (report_forms.PRIOR_BY_SOMEONE_ELSE, "Yes, someone else reported it"),
        (report_forms.PRIOR_NO, "No"),
        (report_forms.PRIOR_NOT_KNOWN, "The caller does not know"),
    ],
}
PHONE_HINTS_EXTRA: dict[tuple[str, str], str] = {
    (
        "immediate-risk",
        "child_at_immediate_risk",
    ): "If a child is in immediate danger, tell the caller to call 999 now.",
}
# Errors the reporter's forms word for the reporter, as the handler reads them.
PHONE_ERRORS: dict[str, str] = {
    "Enter an email address or a phone number so the helpline can contact you": (
        "Enter the caller's email address or phone number, so the helpline can contact them"
    ),
}
ANONYMOUS_WITH_CONTACT = (
    "The caller chose to be anonymous, so their name and contact details are not kept: clear them, or "
    "choose confidential or named"
)


def _worded_for_the_handler(slug: str, form: forms.Form) -> forms.Form:
    for (step, name), (label, hint, required) in PHONE_WORDING.items():
        if step == slug and name in form.fields:
            field = form.fields[name]
            field.label = label
            if hint is not None:
                field.help_text = hint
            if required is not None:
                field.error_messages = {**field.error_messages, "required": required}
    for (step, name), hints in PHONE_CHOICE_HINTS.items():
        if step == slug and name in form.fields and hasattr(form.fields[name], "item_hints"):
            form.fields[name].item_hints = {**form.fields[name].item_hints, **hints}  # type: ignore[attr-defined]
    for (step, name), choices in PHONE_CHOICE_LABELS.items():
        choice_field = form.fields.get(name)
        if step == slug and isinstance(choice_field, forms.ChoiceField):
            choice_field.choices = choices
    for (step, name), hint in PHONE_HINTS_EXTRA.items():
        if step == slug and name in form.fields:
            form.fields[name].help_text = hint
    return form


def _errors_worded_for_the_handler(form: forms.Form) -> None:
    for errors in form.errors.values():
        errors[:] = [PHONE_ERRORS.get(str(error), error) for error in errors]


def _contact_typed(data: Any) -> bool:
    """Whether any contact detail was typed (``data``: the POST or the kept answers, or None)."""
    if data is None:
        return False
    return any(str(data.get(f"contact-{name}") or "").strip() for name in ("name", "email", "phone"))


PHONE_SLOT = "phone-report"
PHONE_SENT_SLOT = "phone-report-sent"


@sensitive_post_parameters()
@sensitive_variables("answers", "submitted", "step_forms", "retry")
@staff_required(Permission.HELPLINE_WORK)
@require_http_methods(["GET", "POST"])
def phone_report(request: HttpRequest) -> HttpResponse:
    """A call handler records a concern for a caller, through the same service as web intake. Post/redirect/
    get: answers with errors are kept sealed for the form page (core/form_retry.py), and the confirmation is
    shown once at its own address, so neither Back nor refresh can send the report twice."""
    retry = retry_take(request, slot=PHONE_SLOT) if request.method == "GET" else None
    data = request.POST if request.method == "POST" else (retry.data if retry else None)
    step_forms = {
        step.slug: _worded_for_the_handler(step.slug, step.form_class(data, prefix=step.slug)) for step in PHONE_STEPS
    }
    anonymity = step_forms["anonymity"]
    anonymous = anonymity.is_valid() and anonymity.cleaned_data["anonymity"] == Anonymity.ANONYMOUS
    # An anonymous caller is never asked for contact details; a name typed for one is refused, not dropped.
    required = [slug for slug in step_forms if not (anonymous and slug == "contact")]
    contact_typed = anonymous and _contact_typed(data)
    if contact_typed:
        anonymity.add_error("anonymity", ANONYMOUS_WITH_CONTACT)
    elif anonymous:
        step_forms["contact"] = _worded_for_the_handler(
            "contact", journey.STEP_BY_SLUG["contact"].form_class(prefix="contact")
        )
    # A file the caller emailed in: on its own form, after the reporter's questions.
    file_form = case_forms.PhoneFileForm(data, request.FILES if request.method == "POST" else None, prefix="file")
    step_forms["file"] = file_form
    required.append("file")
    if retry is not None:
        _file_errors_restore(file_form, retry)
    if data is not None and all([step_forms[slug].is_valid() for slug in required]):  # noqa: C419 - validate all
        answers: journey.Answers = {}
        for slug in required:
            answers = journey.answers_from_form(slug, step_forms[slug], answers)
        if answers.get("where", {}).get("candidates") is not None:
            step_forms["where"].add_error(
                "postcode",
                "That postcode covers more than one council: ask for the full postcode or choose the council",
            )
        elif request.method == "POST":
            user = staff_user(request)
            submitted = services.report_submit(
                data=journey.report_input(answers), channel=Channel.PHONE, acting_user=user
            )
            file_note = _phone_file_keep(submitted.report, file_form.cleaned_data.get("file"), user)
            _uploads_drop(request)
            return retry_redirect(
                request,
                reverse("triage:phone_report_sent"),
                slot=PHONE_SENT_SLOT,
                status=200,
                extra={
                    "reference": submitted.report.reference,
                    "access_code": submitted.access_code,
                    "file_note": file_note,
                },
            )
    errors = [(slug, step_forms[slug]) for slug in required if step_forms[slug].errors]
    for _, form in errors:
        _errors_worded_for_the_handler(form)
    if request.method == "POST" and errors:
        _uploads_drop(request)
        return retry_redirect(
            request,
            reverse("triage:phone_report"),
            slot=PHONE_SLOT,
            data=request.POST,
            errors=_file_errors(file_form) if file_form.is_bound else None,
        )
    return render(
        request, "triage/phone_report.html", {"step_forms": step_forms, "errors": errors}, status=400 if errors else 200
    )


def _phone_file_keep(report: Any, upload: SealedUpload | None, user: Any) -> str:
    """Keep the caller's emailed file with the report just recorded (its form has checked it), in a
    transaction of its own, and say what became of it on the confirmation page."""
    if upload is None:
        return ""
    try:
        report_file_by_phone(report=report, upload=upload, acting_user=user)
    except workflow.ActionNotAllowed as refused:
        return f"The report was recorded, but the caller's file was not kept: {refused}"
    return (
        "The caller's file is kept with the report. It is checked for viruses and cleaned of hidden details "
        "before anyone can open it."
    )


@sensitive_variables("sent")
@staff_required(Permission.HELPLINE_WORK)
@require_GET
def phone_report_sent(request: HttpRequest) -> HttpResponse:
    """The reference and access code of the report just recorded, once: a refresh or Back cannot show the
    code again, and says so."""
    sent = retry_take(request, slot=PHONE_SENT_SLOT)
    if sent is None or "reference" not in sent.extra:
        return render(request, "triage/phone_confirmation.html", {"shown": True}, status=200)
    reference = sent.extra["reference"]
    return render(
        request,
        "triage/phone_confirmation.html",
        {
            "reference": reference,
            "access_code": sent.extra.get("access_code", ""),
            "file_note": sent.extra.get("file_note", ""),
            "case_search": reverse("triage:case_list") + "?" + urlencode({"search": reference, "status": ""}),
        },
    )
