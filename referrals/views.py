"""The local authority workspace: referrals to the officer's own authorities, each at its own address
(the case number and the referral's id; the case number alone leads to the officer's latest).

Post/redirect/get: an action, done or refused, always redirects to the referral page, so Back and refresh
never send it again. A refused form is kept sealed for that page (core/form_retry.py) and shown there once,
bound to what was typed, with the status it was refused with; a done action says so in a banner
(django.contrib.messages)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import staff_required, staff_user
from accounts.policy import Permission
from core.files import download_name, file_response
from core.form_retry import retry_redirect, retry_take
from referrals import listing, selectors, services
from referrals.models import Referral
from referrals.officer_actions import ACTIONS, content_kept_check, offered, referral_act
from triage.case_content import FileUnavailable
from triage.selectors import thread_numbered
from triage.workflow import ActionNotAllowed


@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    form = listing.ReferralFilterForm(request.GET or None)
    page = listing.referral_list(user=staff_user(request), filters=form.filters())
    query = request.GET.copy()
    query.pop("page", None)
    refused = form.is_bound and not form.is_valid()
    return render(
        request,
        "referrals/referral_list.html",
        {"form": form, "page": page, "rows": page.rows, "query": query.urlencode(), "has_error": refused},
        status=400 if refused else 200,
    )


def _slot(referral: Referral) -> str:
    return f"referral:{referral.pk}"


def referral_url(referral: Referral) -> str:
    return reverse(
        "referrals:referral_detail", kwargs={"case_number": referral.case.case_number, "referral_id": referral.pk}
    )


def _referral_for(request: HttpRequest, case_number: str, referral_id: int) -> Referral:
    """The officer's referral by id, at its case's address only (another case's number is a 404)."""
    referral = selectors.referral_by_id_for(user=staff_user(request), referral_id=referral_id)
    if referral.case.case_number != case_number:
        raise Http404
    return referral


@sensitive_variables("opened")
def _page(
    request: HttpRequest,
    referral: Referral,
    *,
    error: str = "",
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    retried: str = "",
) -> HttpResponse:
    case = referral.case
    opened = services.referral_open(referral=referral, acting_user=staff_user(request))
    thread = thread_numbered([action for action, _ in opened.actions])
    action_forms = {name: (action.form(prefix=name) if action.form else None) for name, action in ACTIONS.items()}
    action_forms.update(bound or {})
    return render(
        request,
        "referrals/referral.html",
        {
            "case": case,
            "referral": referral,
            "opened": opened,
            "action_rows": [
                {
                    "name": name,
                    "form": form,
                    "heading": ACTIONS[name].heading,
                    "button": ACTIONS[name].button,
                    "open": name == retried,
                }
                for name, form in action_forms.items()
                if form is not None and offered(referral, name)
            ],
            "acknowledge_button": ACTIONS["acknowledge"].button,
            "bound": [form for form in action_forms.values() if form is not None and form.errors],
            "error": error,
            "has_error": bool(error) or any(form is not None and form.errors for form in action_forms.values()),
            "open": case.status in Referral.CASE_WITH_RECIPIENTS
            and referral.status in Referral.OPEN | {Referral.Status.OUTCOME_RECORDED},
            # A case whose content was destroyed takes no answer: its questions wait for nothing.
            "open_questions": 0 if opened.destroyed_on else thread.unanswered,
            "withdrawn": referral.status == Referral.Status.WITHDRAWN,
            # The files the helpline shared with this referral (their names opened under the page's view).
            "files": services.referral_files_open(referral=referral, acting_user=staff_user(request)),
        },
        status=status,
    )


@sensitive_variables("retry")
@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_detail(request: HttpRequest, case_number: str, referral_id: int) -> HttpResponse:
    referral = _referral_for(request, case_number, referral_id)
    retry = retry_take(request, slot=_slot(referral))
    if retry is None:
        return _page(request, referral)
    # An action that was refused: its form again, bound to what was typed, with its errors and its status.
    action = retry.extra.get("action", "")
    declared = ACTIONS.get(action)
    form_class = declared.form if declared else None
    bound: dict[str, forms.Form] = {}
    if form_class is not None:
        bound[action] = form_class(retry.data, prefix=action)
        bound[action].is_valid()
    return _page(request, referral, error=retry.error, bound=bound, status=retry.status, retried=action)


@sensitive_post_parameters()
@staff_required(Permission.REFERRAL_WORK)
@require_POST
def referral_action(request: HttpRequest, case_number: str, referral_id: int, action: str) -> HttpResponse:
    return _act(request, _referral_for(request, case_number, referral_id), action)


@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_latest(request: HttpRequest, case_number: str) -> HttpResponse:
    referral = selectors.referral_get_for(user=staff_user(request), case_number=case_number)
    return redirect(referral_url(referral))


@sensitive_post_parameters()
@staff_required(Permission.REFERRAL_WORK)
@require_POST
def referral_latest_action(request: HttpRequest, case_number: str, action: str) -> HttpResponse:
    """A form posted to the case-number address (a page opened before referrals had their own): the
    officer's latest referral of the case."""
    return _act(request, selectors.referral_get_for(user=staff_user(request), case_number=case_number), action)


def _act(request: HttpRequest, referral: Referral, action: str) -> HttpResponse:
    user = staff_user(request)
    page, slot = referral_url(referral), _slot(referral)
    if action not in ACTIONS:
        return retry_redirect(request, f"{page}#actions", slot=slot, error="That action does not exist.", status=404)
    try:
        content_kept_check(referral, action)
    except ActionNotAllowed as refused:
        return retry_redirect(request, f"{page}#actions", slot=slot, error=str(refused), status=409)
    form_class = ACTIONS[action].form
    form = form_class(request.POST, prefix=action) if form_class else None
    if form is not None and not form.is_valid():
        return retry_redirect(
            request, f"{page}#action-{action}", slot=slot, data=request.POST, status=400, extra={"action": action}
        )
    data = form.cleaned_data if form else {}
    try:
        done = referral_act(referral=referral, action=action, data=data, acting_user=user)
    except ActionNotAllowed as refused:
        return retry_redirect(
            request,
            f"{page}#actions",
            slot=slot,
            data=request.POST,
            error=str(refused),
            status=409,
            extra={"action": action},
        )
    messages.success(request, done)
    return redirect(page)


def _file_served(
    request: HttpRequest, case_number: str, referral_id: int, file_id: uuid.UUID, *, inline: bool
) -> HttpResponseBase:
    referral = _referral_for(request, case_number, referral_id)
    try:
        file, chunks = services.referral_file_download(
            referral=referral, public_id=file_id, acting_user=staff_user(request), inline=inline
        )
    except FileUnavailable as refused:
        return render(
            request,
            "staff/file_unavailable.html",
            {
                "reason": str(refused),
                "back": referral_url(referral),
                "back_what": "referral",
                "base_template": "referrals/base.html",
            },
            status=refused.status,
        )
    return file_response(
        chunks,
        name=download_name(file.name, extension=file.extension, extensions=file.extensions),
        content_type=file.content_type,
        size=file.size,
        inline=inline,
    )


@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_file(request: HttpRequest, case_number: str, referral_id: int, file_id: uuid.UUID) -> HttpResponseBase:
    """A file the helpline shared with this referral, as a download (each one an audit event)."""
    return _file_served(request, case_number, referral_id, file_id, inline=False)


@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_file_view(request: HttpRequest, case_number: str, referral_id: int, file_id: uuid.UUID) -> HttpResponse:
    """The preview page of a cleaned image the helpline shared: in the workspace, with its name, the way back
    to the referral and a download link, the image shown by referral_file_preview (which records the view)."""
    referral = _referral_for(request, case_number, referral_id)
    back = referral_url(referral)
    try:
        file = services.referral_file_for_preview(referral=referral, public_id=file_id, acting_user=staff_user(request))
    except FileUnavailable as refused:
        return render(
            request,
            "staff/file_unavailable.html",
            {"reason": str(refused), "back": back, "back_what": "referral", "base_template": "referrals/base.html"},
            status=refused.status,
        )
    urls = {"case_number": referral.case.case_number, "referral_id": referral.pk, "file_id": file.public_id}
    return render(
        request,
        "staff/file_preview.html",
        {
            "file": file,
            "case_number": referral.case.case_number,
            "image": reverse("referrals:referral_file_preview", kwargs=urls),
            "download": reverse("referrals:referral_file", kwargs=urls),
            "back": f"{back}#files",
            "back_what": "referral",
            "base_template": "referrals/base.html",
        },
    )


@staff_required(Permission.REFERRAL_WORK)
@require_GET
def referral_file_preview(
    request: HttpRequest, case_number: str, referral_id: int, file_id: uuid.UUID
) -> HttpResponseBase:
    """A cleaned image the helpline shared with this referral, shown in the browser (an audit event)."""
    return _file_served(request, case_number, referral_id, file_id, inline=True)
