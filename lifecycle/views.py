"""Evidence export pages (supervisors only): prepare an export, approve another supervisor's, download a bundle.

Every form follows post/redirect/get (core.form_retry): a refused form comes back on its page, bound to what was
typed, with a GOV.UK error summary and a 4xx status.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import staff_required, staff_user
from accounts.policy import Permission
from core import signing
from core.files import file_response
from core.form_retry import retry_redirect, retry_take, with_kept_errors
from lifecycle import evidence
from lifecycle.forms import ExportApproveForm, ExportPrepareForm
from lifecycle.models import EvidenceExport

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
