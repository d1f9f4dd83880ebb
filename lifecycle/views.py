"""Evidence export pages (supervisors only): prepare an export, approve another supervisor's, download a bundle.

Every form follows post/redirect/get (core.form_retry): a refused form comes back on its page, bound to what was
typed, with a GOV.UK error summary and a 4xx status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import policy
from accounts.decorators import staff_required, staff_user
from accounts.policy import Permission
from core import signing
from core.files import file_response
from core.form_retry import retry_redirect, retry_take, with_kept_errors
from lifecycle import early_destruction, evidence, holds, selectors
from lifecycle.forms import EarlyDestructionApproveForm, EarlyDestructionForm, ExportApproveForm, ExportPrepareForm
from lifecycle.models import EarlyDestruction, EvidenceExport
from triage import retention, workflow
from triage import selectors as case_selectors
from triage.forms import HoldReleaseForm
from triage.models import Case
from triage.staff_actions import action_form, case_act

E = EvidenceExport
NEW_SLOT = "evidence-export-new"
READ_BYTES = 256 * 1024


def _errors(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def _slot(export: EvidenceExport) -> str:
    return f"evidence-export:{export.public_id}"


@staff_required(Permission.EVIDENCE_EXPORT)
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    exports = list(evidence.exports_for(staff_user(request))[:200])
    return render(request, "lifecycle/export_list.html", {"exports": exports})


@sensitive_post_parameters()
@staff_required(Permission.EVIDENCE_EXPORT)
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest) -> HttpResponse:
    here = reverse("lifecycle:export_new")
    user = staff_user(request)
    if request.method == "POST":
        form = ExportPrepareForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=NEW_SLOT, data=request.POST, errors=_errors(form))
        data = form.cleaned_data
        try:
            resolved = evidence.cases_resolve(
                scope=data["scope"],
                case_number=str(data.get("case_number") or ""),
                authority=form.chosen_authority(),
                period=str(data.get("period") or ""),
                period_from=form.day("period_from"),
                period_to=form.day("period_to"),
            )
            export = evidence.export_prepare(
                resolved=resolved,
                scope=data["scope"],
                authority=form.chosen_authority(),
                period=str(data.get("period") or ""),
                period_from=form.day("period_from"),
                period_to=form.day("period_to"),
                recipient=data["recipient"],
                key=data["recipient_key"],
                basis=data["basis"],
                basis_reference=data["basis_reference"],
                tell_reporters=data["tell_reporters"] == "yes",
                withheld_because=str(data.get("withheld_because") or ""),
                acting_user=user,
            )
        except evidence.ExportRefused as refused:
            field = refused.field or "__all__"
            return retry_redirect(request, here, slot=NEW_SLOT, data=request.POST, errors={field: [str(refused)]})
        count = len(export.case_numbers)
        messages.success(
            request,
            f"Export prepared: {count} case{'s' if count != 1 else ''}. Check the list and the key fingerprint below, "
            "then ask another supervisor to approve it",
        )
        return redirect("lifecycle:export_detail", export_id=export.public_id)
    retry = retry_take(request, slot=NEW_SLOT)
    if retry is None:
        return render(request, "lifecycle/export_new.html", {"form": ExportPrepareForm()})
    form = with_kept_errors(ExportPrepareForm(retry.data), retry)
    return render(request, "lifecycle/export_new.html", {"form": form}, status=retry.status)


@staff_required(Permission.EVIDENCE_EXPORT)
@require_GET
def export_detail(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    export = evidence.export_get(user=user, public_id=export_id)
    retry = retry_take(request, slot=_slot(export))
    form = ExportApproveForm(initial={"digest": export.frozen_digest})
    status = 200
    if retry is not None:
        form = with_kept_errors(ExportApproveForm(retry.data), retry)
        if retry.error:
            form.add_error(None, retry.error)
        status = retry.status
    context = {
        "export": export,
        "form": form,
        "may_approve": export.status == E.Status.WAITING and export.requested_by_id != user.pk,
        "prepared_by_me": export.requested_by_id == user.pk,
        "may_download": evidence.may_download(user, export) and export.status == E.Status.BUILT,
        "reporter_text": evidence.reporter_told_text(export),
    }
    return render(request, "lifecycle/export_detail.html", context, status=status)


@staff_required(Permission.EVIDENCE_EXPORT)
@require_POST
def export_approve(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    export = evidence.export_get(user=user, public_id=export_id)
    page = reverse("lifecycle:export_detail", kwargs={"export_id": export.public_id})
    form = ExportApproveForm(request.POST)
    if not form.is_valid():
        return retry_redirect(request, page, slot=_slot(export), data=request.POST, errors=_errors(form))
    try:
        evidence.export_approve(export=export, digest_seen=form.cleaned_data["digest"], acting_user=user)
    except evidence.ExportRefused as refused:
        return retry_redirect(request, page, slot=_slot(export), error=str(refused), status=409)
    messages.success(request, "Export approved: the cases are on legal hold, and the bundle is being built")
    return redirect(page)


@staff_required(Permission.EVIDENCE_EXPORT)
@require_POST
def export_cancel(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    export = evidence.export_get(user=user, public_id=export_id)
    page = reverse("lifecycle:export_detail", kwargs={"export_id": export.public_id})
    try:
        evidence.export_cancel(export=export, acting_user=user)
    except evidence.ExportRefused as refused:
        return retry_redirect(request, page, slot=_slot(export), error=str(refused), status=409)
    messages.success(request, "Export cancelled: nothing was shared")
    return redirect(page)


@staff_required(Permission.EVIDENCE_EXPORT)
@require_GET
def export_download(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    """The page before the download: what the bundle is, and the fingerprints to check."""
    user = staff_user(request)
    export = evidence.export_get(user=user, public_id=export_id)
    if not evidence.may_download(user, export):
        return render(request, "lifecycle/export_not_yours.html", {"export": export}, status=403)
    keys = signing.service_keys()
    context = {
        "export": export,
        "ready": export.status == E.Status.BUILT,
        "verify_key_id": keys.key_id,
        "verify_key": signing.public_key() if keys.key_id else "",
        "file_name": evidence.download_name(export),
    }
    return render(request, "lifecycle/export_download.html", context)


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            yield chunk


@staff_required(Permission.EVIDENCE_EXPORT)
@require_GET
def export_bundle(request: HttpRequest, export_id: uuid.UUID) -> HttpResponseBase:
    """The sealed bundle itself, for one of its two supervisors: an audit event, then the file."""
    user = staff_user(request)
    export = evidence.export_get(user=user, public_id=export_id)
    if not evidence.may_download(user, export):
        return render(request, "lifecycle/export_not_yours.html", {"export": export}, status=403)
    path = evidence.export_download(export=export, acting_user=user)
    return file_response(
        _read(path),
        name=evidence.download_name(export),
        content_type="application/octet-stream",
        size=path.stat().st_size,
    )


FormT = TypeVar("FormT", bound=forms.Form)


def _retried(request: HttpRequest, *, slot: str, make: Callable[[QueryDict | None], FormT]) -> tuple[FormT, int]:
    """The page's form: as the POST that failed left it (bound, with its errors, a refusal as the form's own
    error, and its status), or fresh."""
    retry = retry_take(request, slot=slot)
    if retry is None:
        return make(None), 200
    form = make(retry.data)
    form.is_valid()
    if retry.error:
        form.add_error(None, retry.error)
    return form, retry.status


def _refusal(request: HttpRequest, *, slot: str) -> tuple[str, int]:
    """A refusal kept for a list page ("" and 200 when there is none)."""
    retry = retry_take(request, slot=slot)
    return (retry.error, retry.status) if retry is not None else ("", 200)


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


# --- due for destruction --------------------------------------------------------------------------------

DUE_SLOT = "lifecycle-due"


@staff_required(Permission.DESTRUCTION_DUE)
@require_GET
def due_list(request: HttpRequest) -> HttpResponse:
    """The cases the retention schedule destroys in the next 30 days (and any it should have), not held."""
    user = staff_user(request)
    error, status = _refusal(request, slot=DUE_SLOT)
    page = selectors.destruction_due(user=user, page=_page_number(request))
    return render(request, "lifecycle/due.html", {"due": page, "error": error, "has_error": bool(error)}, status=status)


def _hold_slot(case: Case) -> str:
    return f"lifecycle-hold:{case.case_number}"


@sensitive_post_parameters()
@staff_required(Permission.DESTRUCTION_DUE)
@require_http_methods(["GET", "POST"])
def due_hold(request: HttpRequest, case_number: str) -> HttpResponse:
    """Put a case due for destruction on legal hold, without opening its content: the case page's own action
    (triage.staff_actions "place_hold"), so the same form, rule and audit event."""
    user = staff_user(request)
    case = case_selectors.case_get_for(user=user, case_number=case_number)
    here = reverse("lifecycle:due_hold", kwargs={"case_number": case.case_number})
    slot = _hold_slot(case)
    if request.method == "POST":
        form = action_form("place_hold", request.POST, case=case, user=user)
        if form is None or not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST, status=400)
        try:
            done = case_act(case=case, action="place_hold", data=form.cleaned_data, acting_user=user)
        except workflow.ActionNotAllowed as refused:
            status = 403 if isinstance(refused, workflow.ActionNotPermitted) else 409
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused), status=status)
        messages.success(request, done)
        return redirect("lifecycle:due")
    bound, status = _retried(
        request, slot=slot, make=lambda data: action_form("place_hold", data, case=case, user=user) or forms.Form()
    )
    held = retention.on_hold(case)
    return render(
        request,
        "lifecycle/hold_case.html",
        {
            "case": case,
            "form": bound,
            "held": held,
            "destroyed": retention.content_destroyed_on(case),
            "linked": [linked.case_number for linked in retention.linked_cases(case)],
        },
        status=409 if status == 200 and held else status,
    )


# --- legal holds and their yearly review ------------------------------------------------------------------

HOLDS_SLOT = "lifecycle-holds"


@staff_required(Permission.LEGAL_HOLD)
@require_GET
def hold_list(request: HttpRequest) -> HttpResponse:
    """Every case on legal hold, for the yearly review: overdue reviews first, marked."""
    error, status = _refusal(request, slot=HOLDS_SLOT)
    held = selectors.holds_active(user=staff_user(request))
    context = {"held": held, "error": error, "has_error": bool(error)}
    return render(request, "lifecycle/holds.html", context, status=status)


@staff_required(Permission.LEGAL_HOLD)
@require_POST
def hold_keep(request: HttpRequest, hold_id: int) -> HttpResponse:
    """The yearly review keeps the hold: the next review is due in a year."""
    try:
        hold = holds.legal_hold_keep(hold_id=hold_id, acting_user=staff_user(request))
    except (holds.HoldRefused, ValueError) as refused:
        return retry_redirect(request, reverse("lifecycle:holds"), slot=HOLDS_SLOT, error=str(refused), status=409)
    messages.success(
        request,
        f"Case {hold.case.case_number} stays on legal hold. Its next review is due on "
        f"{hold.review_due_on.day} {hold.review_due_on:%B %Y}.",
    )
    return redirect("lifecycle:holds")


@staff_required(Permission.LEGAL_HOLD)
@require_http_methods(["GET", "POST"])
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    """Release a hold, after a confirmation that says what happens to the case then."""
    user = staff_user(request)
    hold = selectors.hold_get(user=user, hold_id=hold_id)
    if hold is None:
        raise Http404("There is no such hold, or it has been released already.")
    here = reverse("lifecycle:hold_release", kwargs={"hold_id": hold.pk})
    slot = f"lifecycle-release:{hold.pk}"
    if request.method == "POST":
        form = HoldReleaseForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST, status=400)
        try:
            holds.legal_hold_release(hold_id=hold.pk, acting_user=user)
        except holds.HoldRefused as refused:
            return retry_redirect(request, here, slot=slot, error=str(refused), status=409)
        # Its day as the release left it (the schedule's clock is read again).
        messages.success(request, _released_words(Case.objects.get(pk=hold.case_id)))
        return redirect("lifecycle:holds")
    form, status = _retried(request, slot=slot, make=lambda data: HoldReleaseForm(data))
    return render(
        request,
        "lifecycle/hold_release.html",
        {
            "hold": hold,
            "form": form,
            "held_with": selectors.holds_held_with(hold),
            "due_passed": _due_passed(hold.case),
            "case_pages": policy.may(user, Permission.HELPLINE_WORK),
        },
        status=status,
    )


def _due_passed(case: Case) -> bool:
    return case.destroy_on is not None and case.destroy_on <= timezone.localdate()


def _released_words(case: Case) -> str:
    said = f"Legal hold on case {case.case_number} released. The retention schedule applies to it again."
    if _due_passed(case):
        said += " Its day to be destroyed has passed, so its content is destroyed at the schedule's next daily run."
    return said


# --- early destruction, by two supervisors ----------------------------------------------------------------

REQUESTS_SLOT = "lifecycle-destruction"


@staff_required(Permission.DESTROY_EARLY)
@require_GET
def destruction_list(request: HttpRequest) -> HttpResponse:
    """The requests to destroy a case early waiting for a second supervisor, and the latest decided."""
    error, status = _refusal(request, slot=REQUESTS_SLOT)
    pending, decided = selectors.early_destruction_requests(user=staff_user(request))
    return render(
        request,
        "lifecycle/destruction_list.html",
        {"pending": pending, "decided": decided, "error": error, "has_error": bool(error)},
        status=status,
    )


@staff_required(Permission.DESTROY_EARLY)
@require_http_methods(["GET", "POST"])
def destruction_ask(request: HttpRequest, case_number: str) -> HttpResponse:
    """The first supervisor asks for a closed case to be destroyed early: why, from a short list."""
    user = staff_user(request)
    case = case_selectors.case_get_for(user=user, case_number=case_number)
    here = reverse("lifecycle:destruction_ask", kwargs={"case_number": case.case_number})
    slot = f"lifecycle-ask:{case.case_number}"
    if request.method == "POST":
        form = EarlyDestructionForm(request.POST)
        if not form.is_valid():
            return retry_redirect(request, here, slot=slot, data=request.POST, status=400)
        try:
            asked = early_destruction.early_destruction_request(
                case=case, reason=form.cleaned_data["reason"], acting_user=user
            )
        except early_destruction.DestructionRefused as refused:
            return retry_redirect(request, here, slot=slot, data=request.POST, error=str(refused), status=409)
        messages.success(
            request,
            f"You asked for case {case.case_number} to be destroyed early. Nothing is destroyed until another "
            "supervisor approves it.",
        )
        return redirect("lifecycle:destruction_detail", request_id=asked.pk)
    form, status = _retried(request, slot=slot, make=lambda data: EarlyDestructionForm(data))
    pending = selectors.early_destruction_pending_for(case=case)
    problem = early_destruction.destroyable_problem(case)
    if status == 200 and (pending or problem):
        status = 409
    return render(
        request,
        "lifecycle/destruction_ask.html",
        {
            "case": case,
            "form": form,
            "pending": pending,
            "problem": problem,
            "family": _family_others(case),
        },
        status=status,
    )


def _family_others(case: Case) -> list[str]:
    return [member.case_number for member in early_destruction.family_cases(case) if member.pk != case.pk]


def _decision_slot(asked: EarlyDestruction) -> str:
    return f"lifecycle-decide:{asked.pk}"


@staff_required(Permission.DESTROY_EARLY)
@require_GET
def destruction_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request: what it asks and why, and the second supervisor's approval or refusal (or, for the one who
    asked, the way to withdraw it)."""
    user = staff_user(request)
    asked = _request_or_404(user, request_id)
    form, status = _retried(request, slot=_decision_slot(asked), make=lambda data: EarlyDestructionApproveForm(data))
    pending = asked.status == EarlyDestruction.Status.PENDING
    problem = early_destruction.destroyable_problem(asked.case) if pending else ""
    return render(
        request,
        "lifecycle/destruction_detail.html",
        {
            "asked": asked,
            "form": form,
            "mine": asked.requested_by_id == user.pk,
            "problem": problem,
            "family": _family_others(asked.case),
        },
        status=status,
    )


def _request_or_404(user: Any, request_id: int) -> EarlyDestruction:
    asked = selectors.early_destruction_get(user=user, request_id=request_id)
    if asked is None:
        raise Http404("There is no such request.")
    return asked


DECISIONS: dict[str, Callable[..., Any]] = {
    "approve": early_destruction.early_destruction_approve,
    "refuse": early_destruction.early_destruction_refuse,
    "withdraw": early_destruction.early_destruction_withdraw,
}


@staff_required(Permission.DESTROY_EARLY)
@require_POST
def destruction_decide(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    """Approve (with a confirmation), refuse or withdraw a request."""
    user = staff_user(request)
    asked = _request_or_404(user, request_id)
    decide = DECISIONS.get(decision)
    if decide is None:
        raise Http404("There is no such decision.")
    here = reverse("lifecycle:destruction_detail", kwargs={"request_id": asked.pk})
    slot = _decision_slot(asked)
    if decision == "approve" and not EarlyDestructionApproveForm(request.POST).is_valid():
        return retry_redirect(request, here, slot=slot, data=request.POST, status=400)
    try:
        done = decide(request=asked, acting_user=user)
    except early_destruction.DestructionRefused as refused:
        return retry_redirect(request, here, slot=slot, error=str(refused), status=409)
    number = asked.case.case_number
    if decision == "approve":
        others = [other for other in done.case_numbers if other != number]
        messages.success(
            request,
            f"Case {number}'s content is destroyed"
            + (f", with case {', '.join(others)}, which shared it" if others else "")
            + ". Nobody can open it again; its case number, dates and outcome stay for the statistics.",
        )
    elif decision == "refuse":
        messages.success(request, f"Request refused. Case {number} stays, on its retention schedule.")
    else:
        messages.success(request, f"Request withdrawn. Case {number} stays, on its retention schedule.")
    return redirect("lifecycle:destruction_detail", request_id=asked.pk)
