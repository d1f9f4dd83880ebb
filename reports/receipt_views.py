"""Receipts on the public side: the reporter's receipt (from the confirmation page and from /check), the
published keys, and the page where anyone checks a receipt (docs/receipts.md)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from core import receipts
from core.http import client_of
from reports.drafts import sent_receipt_key
from reports.forms import ReceiptVerifyForm
from reports.models import Report
from reports.receipts import (
    FIELD_CHOICES,
    OpenedReceipt,
    UnknownField,
    receipt_check,
    receipt_for_reporter,
    receipt_verify_take,
    receipt_with_key,
)
from reports.views import reporter_unlocked

# What the receipt pages and the download say it reveals, and what it does not (docs/receipts.md).
TEXT_FILE_HEADER = """\
Receipt of a disclosure to the {service_name}

Reference: {reference}
Day of the disclosure: {disclosed}
Issued: {issued}
Fingerprints of: {answers}
Files: {files}

This file shows that you used the service: keep it off any work computer, phone or email account.
It does not hold your access code, your name or contact details, or anything you wrote.
Check it at {verify_url}, or offline as {docs_url} explains.

The text block below is what gets checked. Keep it exactly as it is.

"""


def _day_words(opened: OpenedReceipt, which: str) -> str:
    day = opened.disclosed if which == "disclosed" else opened.issued
    return f"{day.day} {day:%B %Y}"


def _receipt_page(
    request: HttpRequest, opened: OpenedReceipt | None, *, download_url: str, back_url: str
) -> HttpResponse:
    if opened is None:
        return render(request, "reports/receipt_not_ready.html", {"back_url": back_url})
    return render(
        request,
        "reports/receipt.html",
        {"opened": opened, "download_url": download_url, "back_url": back_url},
    )


def _receipt_file(request: HttpRequest, opened: OpenedReceipt | None, *, back_url: str) -> HttpResponse:
    if opened is None:
        return render(request, "reports/receipt_not_ready.html", {"back_url": back_url})
    header = TEXT_FILE_HEADER.format(
        service_name="CSE whistleblowing helpline",
        reference=opened.reference,
        disclosed=_day_words(opened, "disclosed"),
        issued=_day_words(opened, "issued"),
        answers="; ".join(opened.answers) + "; the whole submission",
        files=opened.file_count,
        verify_url=request.build_absolute_uri("/receipts/verify"),
        docs_url=request.build_absolute_uri("/receipts/keys"),
    )
    response = HttpResponse(header + opened.block + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="receipt-{opened.reference}.txt"'
    return response


def _just_sent(request: HttpRequest) -> tuple[bool, OpenedReceipt | None]:
    """Whether this browser still holds the note of a report it sent, and that report's receipt (None while
    it is not signed yet)."""
    found = sent_receipt_key(request)
    if found is None:
        return False, None
    reference, receipt_key = found
    return True, receipt_with_key(reference=reference, receipt_key=receipt_key)


@require_GET
def confirmation_receipt(request: HttpRequest) -> HttpResponse:
    held, opened = _just_sent(request)
    if not held:
        return redirect("reports:check_start")  # the sent note is gone: the receipt is on /check
    return _receipt_page(
        request, opened, download_url="/report/confirmation/receipt.txt", back_url="/report/confirmation"
    )


@require_GET
def confirmation_receipt_file(request: HttpRequest) -> HttpResponse:
    held, opened = _just_sent(request)
    if not held:
        return redirect("reports:check_start")
    return _receipt_file(request, opened, back_url="/report/confirmation")


@sensitive_variables("data_key")
@require_GET
@reporter_unlocked
def follow_up_receipt(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    opened = receipt_for_reporter(report=report, data_key=data_key)
    return _receipt_page(request, opened, download_url="/check/concern/receipt.txt", back_url="/check/concern")


@sensitive_variables("data_key")
@require_GET
@reporter_unlocked
def follow_up_receipt_file(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    opened = receipt_for_reporter(report=report, data_key=data_key)
    return _receipt_file(request, opened, back_url="/check/concern")


# --- anyone: the keys, and checking a receipt ------------------------------------------------------------------


@require_GET
def keys_page(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/receipt_keys.html", {"keys": receipts.published_keys()})


@require_GET
def keys_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"keys": [key.as_dict() for key in receipts.published_keys()]})


@sensitive_post_parameters("text")
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "reports/receipt_verify.html", {"form": ReceiptVerifyForm()})
    if not receipt_verify_take(client=client_of(request)):
        return render(request, "reports/receipt_verify_limited.html", status=429)
    form = ReceiptVerifyForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/receipt_verify.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        checked = receipt_check(block=data["receipt"], field=data["field"], text=data["text"])
    except receipts.NotAReceipt as problem:
        form.add_error("receipt", str(problem))
    except UnknownField:
        form.add_error("field", "This receipt has no fingerprint of that answer. Choose another")
    except ValueError:
        form.add_error("text", "Paste the whole submission as JSON, as the helpline gave it")
    else:
        try:
            disclosed: date | None = date.fromisoformat(str(checked.receipt.get("disclosed", "")))
        except ValueError:
            disclosed = None
        context = {"form": form, "checked": checked, "fields": FIELD_CHOICES, "disclosed": disclosed}
        return render(request, "reports/receipt_verify.html", context)
    return render(request, "reports/receipt_verify.html", {"form": form}, status=400)
