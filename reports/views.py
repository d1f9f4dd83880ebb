"""Public pages: start, question pages, check your answers, confirmation, and "check a concern"."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import client_of
from core.timetrail import duration_words
from directory.contacts import urgent_out_of_hours_context
from reports import checkins, journey, services
from reports.attachments import draft_files, files_left, incoming_discard, max_files
from reports.downloads import attachment_download
from reports.drafts import (
    DraftKey,
    draft_files_drop,
    draft_id,
    draft_key,
    draft_sent,
    reporter_forget,
    seconds_left,
    sent_code_saved,
    sent_confirmation,
    sent_note_seal,
    state_clear,
    state_expires_at,
    state_expiry,
    state_extend,
    state_forget_expired,
    state_load,
    state_save,
)
from reports.filetypes import ACCEPT_ATTRIBUTE
from reports.forms import (
    AccessForm,
    CheckinAnswerForm,
    CodeSavedForm,
    FileUploadForm,
    FollowUpFileForm,
    IdentityAnswerForm,
    LateContactForm,
    ReporterMessageForm,
    ReportInProgressForm,
    UploadRefused,
    files_hint,
    too_many_message,
    too_many_sent_message,
    upload_check,
)
from reports.identity import IdentityRefused, identity_port, report_add_contact, who_knows
from reports.models import Draft, Report
from reports.receipts import receipt_state
from reports.uploads import SealedUpload
from rota.selectors import rota_configured

# Rendering only: what the reporter may know of their case's progress is triage's to say (ADR 0001).
from triage.selectors import reporter_status

DRAFT = Draft.Purpose.DRAFT
# The reporter status of a closed case: nothing more can be sent on it.
CLOSED = "closed"
FOLLOW_UP = Draft.Purpose.FOLLOW_UP
# Where "Exit this page" goes once the reporter's session has ended: a page that says nothing about this one.
NEUTRAL_PAGE = "https://www.bbc.co.uk/weather"


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    # What is promised for an urgent concern follows the configuration: within the hour day and night only
    # while the on-call rota has a primary on call (rota.selectors); otherwise within the hour in office hours.
    context = {"signed_out": request.GET.get("signed-out") == "1", "round_the_clock": rota_configured()}
    return render(request, "reports/start.html", context)


@require_GET
def session_ended(request: HttpRequest) -> HttpResponse:
    """Where answers that have ended land: a page saved after they expired, and the timeout warning left to run
    out (static/js/timeout.mjs). What was lost and how to start again; the expired draft and its files go now.
    Answers still alive (kept in another tab) or already sent are never said to be deleted."""
    if draft_sent(request):
        return redirect("reports:confirmation")
    if state_load(request, purpose=DRAFT) is not None:
        return redirect("reports:in_progress")
    response = render(request, "reports/session_ended.html", _ended_context())
    state_forget_expired(request, response, purpose=DRAFT)
    return response


def _ended_context() -> dict[str, object]:
    return {"idle": duration_words(settings.DRAFT_IDLE_SECONDS)}


def timeout_context(purpose: str, expires_at: datetime | None) -> dict[str, object]:
    """The timeout warning of a page showing answers in progress or an unlocked concern
    (templates/reports/includes/timeout_warning.html): how long is left, as seconds from now for the script
    and as a duration in words for everyone. Never a clock time: the page says nothing of when the reporter
    was here."""
    if expires_at is None:
        return {}
    draft = purpose == DRAFT
    return {
        "timeout": {
            "draft": draft,
            "seconds_left": seconds_left(expires_at),
            "warning_seconds": max(1, settings.DRAFT_WARNING_SECONDS),
            "idle": duration_words(settings.DRAFT_IDLE_SECONDS),
            "warning": duration_words(settings.DRAFT_WARNING_SECONDS),
            "extend_url": reverse("reports:draft_extend" if draft else "reports:follow_up_extend"),
            "ended_url": reverse("reports:session_ended" if draft else "reports:follow_up_ended"),
        }
    }


def _same_site(target: str, *, fallback: str) -> str:
    """``target`` when it is an address on this site (a path), else ``fallback``: never a redirect elsewhere."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return fallback


def _extend(request: HttpRequest, *, purpose: str) -> HttpResponse:
    """The timeout warning's "Continue": keep the reporter's answers, or their unlocked concern, for another
    idle period. The script asks for JSON (how many seconds are left now) and stays on the page, so what the
    reporter has typed there is kept; a form sent without it comes back to the page it was sent from. When
    there is nothing to keep, a 410: the script then goes to the page that says so, and a form gets it."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    draft = purpose == DRAFT
    alive = draft or _unlocked(request) is not None
    expires_at = state_extend(request, purpose=purpose) if alive else None
    if expires_at is None:
        ended = reverse("reports:session_ended" if draft else "reports:follow_up_ended")
        if wants_json:
            return JsonResponse({"ended": ended}, status=410)
        if draft and draft_sent(request):
            return redirect("reports:confirmation")
        template = "reports/session_ended.html" if draft else "reports/follow_up_ended.html"
        return render(request, template, _ended_context(), status=410)
    if wants_json:
        return JsonResponse({"seconds_left": seconds_left(expires_at)})
    fallback = reverse("reports:in_progress" if draft else "reports:follow_up")
    return HttpResponseRedirect(_same_site(str(request.POST.get("next", "")), fallback=fallback))


@require_POST
def draft_extend(request: HttpRequest) -> HttpResponse:
    return _extend(request, purpose=DRAFT)


@require_POST
def follow_up_extend(request: HttpRequest) -> HttpResponse:
    return _extend(request, purpose=FOLLOW_UP)


@require_GET
def follow_up_ended(request: HttpRequest) -> HttpResponse:
    """Where an unlocked concern that has ended lands: the timeout warning left to run out, or a form sent
    after it ended. What was not sent, and how to open the concern again. A concern still open (kept in another
    tab) goes back to its page."""
    if _unlocked(request) is not None:
        return redirect("reports:follow_up")
    response = render(request, "reports/follow_up_ended.html", _ended_context())
    state_forget_expired(request, response, purpose=FOLLOW_UP)
    return response


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/privacy.html")


# A beacon carries no form token. Nothing to protect: this only ends the session of the browser that asks, and
# its cookies are SameSite=Strict, so another site cannot make it send them here.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def exit_page(request: HttpRequest) -> HttpResponse:
    """Exit this page: the reporter's answers, unlocked concern and confirmation end on the server and the
    cookies go, so Back and a new tab show nothing. JavaScript posts here before the page goes (js/exit.mjs),
    then replaces the page with the neutral page; without it the button is a link here."""
    response = HttpResponse(status=204) if request.method == "POST" else HttpResponseRedirect(NEUTRAL_PAGE)
    reporter_forget(request, response)
    return response


def _answers(request: HttpRequest) -> journey.Answers:
    return _answers_of(state_load(request, purpose=DRAFT) or {})


def _answers_of(state: dict[str, object]) -> journey.Answers:
    answers = state.get("answers", {})
    return answers if isinstance(answers, dict) else {}


# What a form that failed validation sent, kept (sealed) for the GET that shows its errors.
PENDING = "pending"


def _pending(step: str, request: HttpRequest) -> dict[str, object]:
    data = {key: request.POST.getlist(key) for key in request.POST if key != "csrfmiddlewaretoken"}
    return {"step": step, "data": data}


def _rebound(data: dict[str, Any]) -> MultiValueDict[str, str]:
    return MultiValueDict({str(key): [str(v) for v in value] for key, value in data.items() if isinstance(value, list)})


@require_POST
def begin(request: HttpRequest) -> HttpResponse:
    if _answers(request):
        # "Start now" in a second tab, or after going back to the start page: never wipe a report in progress
        # without asking.
        return redirect("reports:in_progress")
    return _start_answers(request)


def _start_answers(request: HttpRequest) -> HttpResponse:
    started = draft_id(request, purpose=DRAFT)
    if started is not None:
        draft_files_drop(started)  # "delete my answers and start again": the files chosen go too
    response = redirect("reports:question", step=journey.STEPS[0].slug)
    state_save(request, response, purpose=DRAFT, state={"answers": {}})
    return response


IN_PROGRESS = "in-progress"


@sensitive_variables("answers")
@require_http_methods(["GET", "POST"])
def in_progress(request: HttpRequest) -> HttpResponse:
    """Continue the report in progress in this browser, or delete its answers and start again."""
    state = state_load(request, purpose=DRAFT) or {}
    answers = _answers_of(state)
    if not answers:
        return redirect("reports:start")  # nothing in progress any more: sent, expired, or exited
    if request.method == "POST":
        form = ReportInProgressForm(request.POST)
        if not form.is_valid():
            response: HttpResponse = HttpResponseRedirect(request.path)
            state_save(
                request, response, purpose=DRAFT, state={"answers": answers, PENDING: _pending(IN_PROGRESS, request)}
            )
            return response
        if form.cleaned_data["next"] == "restart":
            return _start_answers(request)
        missing = journey.first_missing(answers)
        response = redirect("reports:question", step=missing) if missing else _after_questions(answers)
        state_save(request, response, purpose=DRAFT, state={"answers": answers})
        return response
    pending = state.get(PENDING)
    if isinstance(pending, dict) and pending.get("step") == IN_PROGRESS and isinstance(pending.get("data"), dict):
        form = ReportInProgressForm(_rebound(pending["data"]))
        status = 200 if form.is_valid() else 400
    else:
        form = ReportInProgressForm()
        status = 200
    context = {"form": form, **timeout_context(DRAFT, state_expires_at(request, purpose=DRAFT))}
    return render(request, "reports/in_progress.html", context, status=status)


def _without_answers(request: HttpRequest) -> HttpResponse:
    """A question page with no answers in progress behind it."""
    if draft_sent(request):
        return redirect("reports:confirmation")
    if request.method == "GET" and draft_id(request, purpose=DRAFT) is None:
        # A bookmark or a shared link: a new visitor starts at the beginning, not with "answers deleted".
        return redirect("reports:start")
    # The answers before this one have gone (30 idle minutes, or the browser was closed): say so, and never
    # start a new draft holding this answer alone as if nothing had happened.
    return redirect("reports:session_ended")


@sensitive_post_parameters()
@sensitive_variables("answers", "form")
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, step: str) -> HttpResponse:
    page = journey.STEP_BY_SLUG.get(step)
    if page is None:
        raise Http404
    state = state_load(request, purpose=DRAFT)
    if state is None:
        return _without_answers(request)
    answers = _answers_of(state)
    if not page.applies(answers):
        return (
            redirect("reports:question", step=journey.next_step(answers, after=step))
            if journey.first_missing(answers)
            else redirect("reports:check")
        )
    changing = request.GET.get("change") == "1"
    kwargs = journey.form_kwargs(step, answers)
    if request.method == "POST":
        _uploads_discard(request)  # no question takes a file: one sent anyway is not kept
        form = page.form_class(request.POST, **kwargs)
        if form.is_valid():
            answers = journey.answers_from_form(step, form, answers)
            following = "check" if changing else journey.next_step(answers, after=step)
            if changing and journey.first_missing(answers):
                following = journey.first_missing(answers) or "check"
            if following == "check" and not changing:
                following = journey.after_questions(answers)
            if following == journey.DOCUMENTS:
                target = reverse("reports:documents")
            elif following == "check":
                target = reverse("reports:check")
            else:
                target = reverse("reports:question", kwargs={"step": following})
            response: HttpResponse = HttpResponseRedirect(target)
            state_save(request, response, purpose=DRAFT, state={"answers": answers})
            return response
        # Post/redirect/get: what was sent is kept in the sealed draft and shown with its errors at the
        # page's own address, so Back and refresh never ask to send the form again.
        response = HttpResponseRedirect(request.get_full_path())
        state_save(request, response, purpose=DRAFT, state={"answers": answers, PENDING: _pending(step, request)})
        return response
    pending = state.get(PENDING)
    if isinstance(pending, dict) and pending.get("step") == step and isinstance(pending.get("data"), dict):
        form = page.form_class(_rebound(pending["data"]), **kwargs)
        status = 200 if form.is_valid() else 400
    else:
        form = page.form_class(initial=answers.get(step) or None, **kwargs)
        status = 200
    back = journey.previous_step(answers, step)
    return render(
        request,
        "reports/question.html",
        {
            "form": form,
            "step": page,
            "changing": changing,
            "back_url": reverse("reports:check")
            if changing
            else (reverse("reports:question", kwargs={"step": back}) if back else reverse("reports:start")),
            "answers": answers,
            # "Has anyone reported this": where to make a mandatory report, with the council's own number.
            "duty_contacts": journey.duty_contacts(answers) if step == "reported" else None,
            **timeout_context(DRAFT, state_expires_at(request, purpose=DRAFT)),
        },
        status=status,
    )


@sensitive_post_parameters()
@sensitive_variables("answers", "submitted")
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    if draft_sent(request):
        # Send pressed again, Back to this page, or a second tab: the report was sent once, and its reference
        # is shown again.
        if request.method == "POST":
            return redirect("reports:confirmation")
        sent = sent_confirmation(request, may_show_code=False)
        return render(request, "reports/already_sent.html", {"sent": sent, "sent_again": True})
    answers = _answers(request)
    missing = journey.first_missing(answers)
    if missing:
        return redirect("reports:question", step=missing)
    draft = draft_key(request)
    if request.method == "POST":
        try:
            submitted = services.report_submit(
                data=journey.report_input(answers),
                client=client_of(request),
                draft_id=draft_id(request, purpose=DRAFT),
                # The files chosen become the report's in its transaction.
                draft_key=draft.key if draft is not None else None,
            )
        except services.AlreadySubmitted:
            # Two presses of Send at once: this one filed nothing; the browser shows whichever it followed.
            return redirect("reports:confirmation")
        except services.SubmissionsExhausted:
            return render(request, "reports/submissions_limited.html", status=429)
        about = submitted.report.about_authority
        sent_note_seal(
            request,
            note={
                "reference": submitted.report.reference,
                "access_code": submitted.access_code,
                "urgent": submitted.report.child_at_immediate_risk,
                "about_council": about.name if about else "",
                # Opens the receipt once signed (and nothing else): the page offers it then.
                "receipt_key": base64.b64encode(submitted.receipt_key).decode("ascii"),
            },
        )
        return redirect("reports:confirmation")
    files = services.draft_files_read(draft_id=draft.id, draft_key=draft.key) if draft is not None else []
    return render(
        request,
        "reports/check.html",
        {
            "rows": journey.summary_rows(answers),
            "files": files,
            "documents_seen": journey.documents_seen(answers),
            **timeout_context(DRAFT, draft.expires_at if draft is not None else None),
        },
    )


def _after_questions(answers: journey.Answers) -> HttpResponse:
    return (
        redirect("reports:documents")
        if journey.after_questions(answers) == journey.DOCUMENTS
        else redirect("reports:check")
    )


# --- documents, photos and recordings -----------------------------------------------------------------
# One file per request, so that the front door holds at most one file's size of a body in memory
# (deploy/nginx: these addresses only). Every uploaded file arrives sealed (reports.uploads): what a page does
# not keep, it discards before it answers.


def _uploads(request: HttpRequest) -> list[SealedUpload]:
    return [
        upload for name in request.FILES for upload in request.FILES.getlist(name) if isinstance(upload, SealedUpload)
    ]


def _uploads_discard(request: HttpRequest, *, kept: SealedUpload | None = None) -> None:
    """Every upload of the request but ``kept``: a second file, a file sent with a refused form, a file of a
    request that turned out wrong. Their sealed chunks go now, not at expiry."""
    for upload in _uploads(request):
        if upload is not kept:
            incoming_discard(upload.incoming)


def _documents_url(*, changing: bool, **flags: str) -> str:
    params = {**({"change": "1"} if changing else {}), **flags}
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return reverse("reports:documents") + (f"?{query}" if query else "")


@sensitive_variables("draft")
def _draft_file_take(request: HttpRequest, draft: DraftKey) -> tuple[str, str]:
    """Keep the one file sent for the draft; the refusal to show when it is not kept ("" when it is), and the
    kept file's name ("" when none)."""
    upload = request.FILES.get("file")
    kept: SealedUpload | None = None
    try:
        checked, kind = upload_check(upload, room=max_files() - draft_files(draft.id).count())
        services.draft_file_add(
            incoming=checked.incoming,
            content_type=kind.content_type,
            draft_id=draft.id,
            draft_key=draft.key,
            expires_at=draft.expires_at,
        )
        kept = checked
        return "", checked.incoming.name
    except UploadRefused as refused:
        return str(refused), ""
    except services.TooManyFiles:
        return too_many_message(), ""
    finally:
        _uploads_discard(request, kept=kept)


DOCUMENTS_FLASH = {"added": "Your file has been added.", "removed": "The file has been removed."}
# The banner naming the file just added or removed ("photo.jpg has been added."); the name is kept in the
# sealed draft (DOCUMENTS_DONE), never in the address.
DOCUMENTS_FLASH_NAMED = {"added": "{name} has been added.", "removed": "{name} has been removed."}
DOCUMENTS_DONE = "documents_done"


def _documents_flash(done: str, state: dict[str, object]) -> str:
    """The success banner for ``done`` ("added", "removed"), naming the file when the draft holds its name."""
    kept = state.get(DOCUMENTS_DONE)
    name = str(kept.get("name") or "") if isinstance(kept, dict) and kept.get("done") == done else ""
    if name and done in DOCUMENTS_FLASH_NAMED:
        return DOCUMENTS_FLASH_NAMED[done].format(name=name)
    return DOCUMENTS_FLASH.get(done, "")


@sensitive_post_parameters()
@sensitive_variables("answers", "draft", "state")
@require_http_methods(["GET", "POST"])
def documents(request: HttpRequest) -> HttpResponse:
    """Do you have documents, photos or recordings? One file at a time ("Add file"), the files added listed
    with a way to remove each, then Continue. Files are sealed with the draft's key and expire with it; on
    Send they become the report's (services.report_submit). Works without JavaScript: a plain multipart form."""
    state = state_load(request, purpose=DRAFT)
    draft = draft_key(request) if state is not None else None
    if state is None or draft is None:
        _uploads_discard(request)
        return _without_answers(request)
    answers = _answers_of(state)
    changing = request.GET.get("change") == "1"
    if request.method == "POST":
        adding = request.POST.get("action") == "add"
        refusal = added_name = ""
        try:
            if adding or _uploads(request):
                # A file chosen and Continue pressed without "Add file": added all the same.
                refusal, added_name = _draft_file_take(request, draft)
        except services.DraftGone:
            return _without_answers(request)
        if refusal:
            response: HttpResponse = HttpResponseRedirect(_documents_url(changing=changing))
            refused = {"step": journey.DOCUMENTS, "refusal": refusal}
            state_save(request, response, purpose=DRAFT, state={"answers": answers, PENDING: refused})
            return response
        saved: dict[str, object] = {}
        if adding:
            response = HttpResponseRedirect(_documents_url(changing=changing, done="added"))
            saved[DOCUMENTS_DONE] = {"done": "added", "name": added_name}
        else:
            answers = {**answers, journey.DOCUMENTS: {"seen": True}}
            missing = journey.first_missing(answers)
            response = (
                redirect("reports:question", step=missing) if missing and not changing else redirect("reports:check")
            )
        state_save(request, response, purpose=DRAFT, state={"answers": answers, **saved})
        return response
    pending = state.get(PENDING)
    refusal = ""
    if isinstance(pending, dict) and pending.get("step") == journey.DOCUMENTS:
        refusal = str(pending.get("refusal") or "")
    form = FileUploadForm(data={}, refusal=refusal)
    files = services.draft_files_read(draft_id=draft.id, draft_key=draft.key)
    return render(
        request,
        "reports/documents.html",
        {
            "form": form,
            "files": files,
            "room": max(0, max_files() - len(files)),
            "accept": ACCEPT_ATTRIBUTE,
            "changing": changing,
            "flash": _documents_flash(request.GET.get("done", ""), state) if not refusal else "",
            "back_url": reverse("reports:check")
            if changing
            else reverse("reports:question", kwargs={"step": journey.last_step(answers)}),
            **timeout_context(DRAFT, draft.expires_at),
        },
        status=400 if refusal else 200,
    )


@sensitive_variables("draft", "names", "kept")
@require_POST
def documents_remove(request: HttpRequest) -> HttpResponse:
    """Remove a file chosen for the report in progress (from the documents page, or check your answers)."""
    state = state_load(request, purpose=DRAFT)
    draft = draft_key(request) if state is not None else None
    _uploads_discard(request)
    if state is None or draft is None:
        return _without_answers(request)
    try:
        public_id = uuid.UUID(str(request.POST.get("file", "")))
    except ValueError:
        public_id = None
    names = {file.public_id: file.name for file in services.draft_files_read(draft_id=draft.id, draft_key=draft.key)}
    removed = public_id is not None and services.draft_file_remove(draft_id=draft.id, public_id=public_id)
    kept: dict[str, object] = {"answers": _answers_of(state)}
    if removed and public_id is not None:
        kept[DOCUMENTS_DONE] = {"done": "removed", "name": names.get(public_id, "")}
    if request.POST.get("next") == "check":
        target = reverse("reports:check")
    else:
        flags = {"done": "removed"} if removed else {}
        target = _documents_url(changing=request.POST.get("change") == "1", **flags)
    response = HttpResponseRedirect(target)
    state_save(request, response, purpose=DRAFT, state=kept)
    return response


@sensitive_variables("sent")
@require_http_methods(["GET", "POST"])
def confirmation(request: HttpRequest) -> HttpResponse:
    """The reference, and the access code once, with a way to copy or print it and a confirmation that it was
    saved before going on. A refresh, Back or a second tab still shows the reference and what happens next;
    the access code only ever on one view (reports.drafts.sent_confirmation)."""
    if not draft_sent(request):
        return redirect("reports:start")  # nothing was sent from this browser (or it has exited since)
    if request.method == "POST":
        sent_code_saved(request, saved=CodeSavedForm(request.POST).is_valid())
        return redirect("reports:confirmation")
    sent = sent_confirmation(request, may_show_code=True)
    urgent = _urgent_promise(sent.reference) if sent is not None and sent.urgent else {}
    receipt = {"receipt_state": receipt_state(reference=sent.reference)} if sent and sent.receipt_key else {}
    if sent is not None and sent.access_code:
        form = CodeSavedForm(data={}) if sent.not_confirmed else CodeSavedForm()
        return render(
            request,
            "reports/confirmation.html",
            {"sent": sent, "form": form, **urgent, **receipt},
            status=400 if sent.not_confirmed else 200,
        )
    return render(request, "reports/already_sent.html", {"sent": sent, **urgent, **receipt})


def _urgent_promise(reference: str) -> dict[str, object]:
    """What an urgent report is promised, by the helpline's hours: inside them a look within the hour; outside
    them 999, the council's emergency duty team and 101 first, and when the helpline next opens. The council's
    numbers are never offered for a concern about that council itself."""
    report = Report.objects.filter(reference=reference).only("local_authority", "about_authority").first()
    authority = None
    if report is not None and report.about_authority_id != report.local_authority_id:
        authority = report.local_authority
    return urgent_out_of_hours_context(authority=authority)


# --- check a concern --------------------------------------------------------------------------------


@sensitive_post_parameters("access_code")
@sensitive_variables("form", "data_key")
@require_http_methods(["GET", "POST"])
def check_start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "reports/check_start.html", {"form": AccessForm()})
    form = AccessForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/check_start.html", {"form": form}, status=400)
    reference = form.cleaned_data["reference"]
    client = client_of(request)
    try:
        report, data_key = services.report_unlock(
            reference=reference, access_code=form.cleaned_data["access_code"], client=client
        )
    except services.AccessThrottled:
        return render(request, "reports/check_throttled.html", status=429)
    except services.DerivationsExhausted:
        return render(request, "reports/check_limited.html", status=429)
    except services.ReportDestroyed as destroyed:
        early = len(destroyed.args) > 1 and bool(destroyed.args[1])
        context = {"destroyed_on": destroyed.args[0], "early": early}
        return render(request, "reports/check_destroyed.html", context, status=410)
    except services.ReportNotFound:
        context = {
            "form": AccessForm(initial={"reference": reference}),
            "not_found": True,
            "has_error": True,
            # How many more wrong tries at this reference before the hour's wait.
            "tries_left": services.access_tries_left(reference=reference, client=client),
        }
        return render(request, "reports/check_start.html", context, status=404)
    response = redirect("reports:follow_up")
    state_save(
        request,
        response,
        purpose=FOLLOW_UP,
        state={"report_id": report.pk, "data_key": base64.b64encode(data_key).decode("ascii")},
    )
    return response


def _unlocked(request: HttpRequest) -> tuple[Report, bytes] | None:
    state = state_load(request, purpose=FOLLOW_UP)
    if not state:
        return None
    report_id = state.get("report_id")
    report = Report.objects.filter(pk=report_id).first() if isinstance(report_id, int) else None
    if report is None:
        return None
    return report, base64.b64decode(str(state["data_key"]))


UnlockedView = Callable[..., HttpResponseBase]


def reporter_unlocked(view: UnlockedView) -> Callable[..., HttpResponseBase]:
    """A follow-up page: the report and its data key from the sealed follow-up state, or back to the
    reference and access code page when there is none (expired, signed out, never opened). A file uploaded to
    a page that is not unlocked is discarded."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        unlocked = _unlocked(request)
        if unlocked is None:
            _uploads_discard(request)
            if request.method == "POST" and draft_id(request, purpose=FOLLOW_UP) is not None:
                # Something sent after the concern closed on this device (idle, exited, another tab signed
                # out): say that it was not sent, rather than ask for the code as if nothing had happened.
                return redirect("reports:follow_up_ended")
            return redirect("reports:check_start")
        return view(request, *unlocked, *args, **kwargs)

    return wrapped


@sensitive_variables("data_key", "opened")
@require_GET
@reporter_unlocked
def follow_up(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    state = state_load(request, purpose=FOLLOW_UP) or {}
    bound: dict[str, Any] = {}
    pending = state.pop(PENDING, None)  # shown once: the page saves the state without it
    if isinstance(pending, dict) and isinstance(pending.get("data"), dict):
        form_class = {"message": ReporterMessageForm, "checkin": CheckinAnswerForm}.get(str(pending.get("step")))
        refusal = str(pending.get("refusal") or "")
        if form_class is not None:
            bound[f"{pending['step']}_form"] = form_class(_rebound(pending["data"]))
        elif pending.get("step") == IDENTITY:
            bound["identity_form"] = IdentityAnswerForm(_rebound(pending["data"]), refusal=refusal)
        elif pending.get("step") == CONTACT:
            bound["contact_form"] = LateContactForm(_rebound(pending["data"]), refusal=refusal)
        elif pending.get("step") == FILE:
            bound["file_form"] = FollowUpFileForm(_rebound(pending["data"]), refusal=str(pending.get("refusal") or ""))
    invalid = any(not form.is_valid() for form in bound.values())
    # Saved after the page is made, to end when the page says it will.
    expires_at = state_expiry()
    context = _follow_up_context(report, data_key, request, expires_at=expires_at, **bound)
    response = render(request, "reports/follow_up.html", context, status=400 if invalid else 200)
    # Shown now, marked "New" on this view only: the helpline's messages are read (yes or no, never when).
    services.reporter_messages_seen(opened=context["opened"])
    state_save(request, response, purpose=FOLLOW_UP, state=state, expires_at=expires_at)
    return response


def _follow_up_again(request: HttpRequest, form_name: str, **extra: str) -> HttpResponse:
    """Post/redirect/get for a follow-up form that failed: what was sent is kept in the sealed follow-up state
    and shown with its errors on the follow-up page."""
    response = HttpResponseRedirect(reverse("reports:follow_up") + f"#{form_name}")
    state = state_load(request, purpose=FOLLOW_UP) or {}
    state_save(
        request, response, purpose=FOLLOW_UP, state={**state, PENDING: {**_pending(form_name, request), **extra}}
    )
    return response


def _follow_up_done(request: HttpRequest, target: str) -> HttpResponse:
    """A follow-up form that worked: forget any earlier failed attempt, then go to ``target``."""
    response = HttpResponseRedirect(target)
    state = state_load(request, purpose=FOLLOW_UP) or {}
    state.pop(PENDING, None)
    state_save(request, response, purpose=FOLLOW_UP, state=state)
    return response


def _follow_up_context(
    report: Report, data_key: bytes, request: HttpRequest, *, expires_at: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    opened = services.report_read(report=report, data_key=data_key)
    left = files_left(report.pk)
    file_form = extra.pop("file_form", FollowUpFileForm())
    file_form.fields["file"].help_text = files_hint(left=left)
    return {
        "opened": opened,
        "new_messages": sum(1 for message in opened.messages if message.new),
        "status": reporter_status(report),
        "message_form": extra.pop("message_form", ReporterMessageForm(initial={"kind": "message"})),
        "sent": request.GET.get("sent"),
        "checkins_chosen": report.checkins.exists(),
        "checkins_remaining": checkins.checkins_remaining(report=report),
        "checkin": checkins.checkin_due(report=report),
        "checkin_form": extra.pop("checkin_form", CheckinAnswerForm()),
        "checkin_done": request.GET.get("checkin"),
        "today": timezone.localdate(),
        "file_form": file_form,
        "file_sent": request.GET.get("file") == "sent",
        "files": services.reporter_files_read(report=report, data_key=data_key),
        "helpline_files": services.helpline_files_read(report=report, data_key=data_key),
        "files_left": left,
        "accept": ACCEPT_ATTRIBUTE,
        "receipt_state": receipt_state(reference=report.reference),
        **timeout_context(FOLLOW_UP, expires_at or state_expires_at(request, purpose=FOLLOW_UP)),
        # Who knows who the reporter is (reports/identity.py), its questions and what they may change.
        "who_knows": who_knows(report),
        "identity_form": extra.pop("identity_form", None),
        "contact_form": extra.pop("contact_form", LateContactForm()),
        "identity_done": request.GET.get("identity"),
        **extra,
    }


@sensitive_post_parameters()
@sensitive_variables("data_key", "form")
@require_POST
@reporter_unlocked
def follow_up_message(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    if reporter_status(report).code == CLOSED:
        # The page shows guidance instead of the form; a stale form sent anyway is not "sent to the helpline".
        return render(request, "reports/follow_up.html", _follow_up_context(report, data_key, request), status=409)
    form = ReporterMessageForm(request.POST)
    if not form.is_valid():
        return _follow_up_again(request, "message")
    services.message_send_from_reporter(
        report=report, data_key=data_key, body=form.cleaned_data["body"], kind=form.cleaned_data["kind"]
    )
    return _follow_up_done(request, reverse("reports:follow_up") + "?sent=1")


@require_POST
def follow_up_close(request: HttpRequest) -> HttpResponse:
    """Sign out of the concern on this device: the report itself is untouched."""
    response = HttpResponseRedirect(reverse("reports:start") + "?signed-out=1")
    state_clear(request, response, purpose=FOLLOW_UP)
    return response


@require_POST
@reporter_unlocked
def follow_up_checkins(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """The reporter opts in to retaliation check-ins at 1, 3 and 6 months."""
    checkins.checkins_opt_in(report=report)
    return HttpResponseRedirect(reverse("reports:follow_up") + "?checkin=chosen")


@require_POST
@reporter_unlocked
def follow_up_checkins_stop(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """The reporter stops the check-ins still to come."""
    checkins.checkins_opt_out(report=report)
    return HttpResponseRedirect(reverse("reports:follow_up") + "?checkin=stopped")


@sensitive_post_parameters()
@sensitive_variables("data_key", "form")
@require_POST
@reporter_unlocked
def follow_up_checkin_answer(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    due = checkins.checkin_due(report=report)
    if due is None:
        return redirect("reports:follow_up")
    form = CheckinAnswerForm(request.POST)
    if not form.is_valid():
        return _follow_up_again(request, "checkin")
    checkins.checkin_answer(
        checkin=due, answer=form.cleaned_data["answer"], details=form.cleaned_data["details"], data_key=data_key
    )
    return _follow_up_done(request, reverse("reports:follow_up") + "?checkin=answered")


FILE = "file"
IDENTITY = "identity"
CONTACT = "contact"


@sensitive_post_parameters()
@sensitive_variables("data_key", "form")
@require_POST
@reporter_unlocked
def follow_up_identity_answer(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """The reporter answers the helpline's question: may a referral's recipient have some of their details?"""
    port = identity_port()
    form = IdentityAnswerForm(request.POST)
    if port is None or not form.is_valid():
        return _follow_up_again(request, IDENTITY)
    agree = form.cleaned_data["answer"] == "yes"
    try:
        port.answer(report, form.cleaned_data["sharing"], agree)
    except IdentityRefused as refused:
        return _follow_up_again(request, IDENTITY, refusal=str(refused))
    return _follow_up_done(request, reverse("reports:follow_up") + f"?identity={'agreed' if agree else 'declined'}")


@require_POST
@reporter_unlocked
def follow_up_identity_withdraw(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """The reporter withdraws a consent whose recipient has not yet opened what it covers."""
    port = identity_port()
    sharing = str(request.POST.get("sharing") or "")
    if port is None or not sharing.isdigit() or len(sharing) > 18:
        return _follow_up_again(request, IDENTITY, refusal="There is no consent of yours to withdraw here.")
    try:
        port.withdraw(report, int(sharing))
    except IdentityRefused as refused:
        return _follow_up_again(request, IDENTITY, refusal=str(refused))
    return _follow_up_done(request, reverse("reports:follow_up") + "?identity=withdrawn")


@sensitive_post_parameters()
@sensitive_variables("data_key", "form")
@require_POST
@reporter_unlocked
def follow_up_contact(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """An anonymous reporter gives the helpline their name and contact details (sealed like intake's)."""
    form = LateContactForm(request.POST)
    if not form.is_valid():
        return _follow_up_again(request, CONTACT)
    try:
        report_add_contact(
            report=report,
            data_key=data_key,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
        )
    except IdentityRefused as refused:
        return _follow_up_again(request, CONTACT, refusal=str(refused))
    return _follow_up_done(request, reverse("reports:follow_up") + "?identity=given")


@sensitive_post_parameters()
@sensitive_variables("data_key", "form")
@require_POST
@reporter_unlocked
def follow_up_files(request: HttpRequest, report: Report, data_key: bytes) -> HttpResponse:
    """Add a file to a sent report, with a message about it or without: sealed with the report's data key,
    which the unlocked follow-up holds, and checked by the workers like every file."""
    kept: SealedUpload | None = None
    try:
        if reporter_status(report).code == CLOSED:
            return render(request, "reports/follow_up.html", _follow_up_context(report, data_key, request), status=409)
        form = FollowUpFileForm(request.POST)
        try:
            upload, kind = upload_check(request.FILES.get(FILE), room=files_left(report.pk))
        except UploadRefused as refused:
            # Shown with the message's own errors, if it has any: the form is bound again from what was sent.
            refusal = str(refused) if str(refused) != too_many_message() else too_many_sent_message()
            return _follow_up_again(request, FILE, refusal=refusal)
        if not form.is_valid():
            return _follow_up_again(request, FILE)
        try:
            services.reporter_file_add(
                report=report,
                data_key=data_key,
                incoming=upload.incoming,
                content_type=kind.content_type,
                body=form.cleaned_data["body"],
            )
        except services.TooManyFiles:
            return _follow_up_again(request, FILE, refusal=too_many_sent_message())
        kept = upload
        return _follow_up_done(request, reverse("reports:follow_up") + "?file=sent#files")
    finally:
        _uploads_discard(request, kept=kept)


@sensitive_variables("data_key")
@require_GET
@reporter_unlocked
def follow_up_file_download(
    request: HttpRequest, report: Report, data_key: bytes, file_id: uuid.UUID
) -> HttpResponseBase:
    """A file the helpline sent the reporter with a message, once it is clean: streamed as it is opened."""
    attachment = services.helpline_files_for_reporter(report=report).filter(public_id=file_id).first()
    if attachment is None:
        raise Http404
    return attachment_download(attachment, data_key)
