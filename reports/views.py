"""Public pages: start, question pages, check your answers, confirmation, and "check a concern"."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import client_of
from directory.contacts import urgent_out_of_hours_context
from reports import checkins, journey, services
from reports.drafts import (
    draft_id,
    draft_sent,
    reporter_forget,
    sent_code_saved,
    sent_confirmation,
    sent_note_seal,
    state_clear,
    state_load,
    state_save,
)
from reports.forms import AccessForm, CheckinAnswerForm, CodeSavedForm, ReporterMessageForm, ReportInProgressForm
from reports.models import Draft, Report

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
    return render(request, "reports/start.html", {"signed_out": request.GET.get("signed-out") == "1"})


@require_GET
def session_ended(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/session_ended.html")


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
        response = redirect("reports:question", step=missing) if missing else redirect("reports:check")
        state_save(request, response, purpose=DRAFT, state={"answers": answers})
        return response
    pending = state.get(PENDING)
    if isinstance(pending, dict) and pending.get("step") == IN_PROGRESS and isinstance(pending.get("data"), dict):
        form = ReportInProgressForm(_rebound(pending["data"]))
        status = 200 if form.is_valid() else 400
    else:
        form = ReportInProgressForm()
        status = 200
    return render(request, "reports/in_progress.html", {"form": form}, status=status)


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
        form = page.form_class(request.POST, **kwargs)
        if form.is_valid():
            answers = journey.answers_from_form(step, form, answers)
            following = "check" if changing else journey.next_step(answers, after=step)
            if changing and journey.first_missing(answers):
                following = journey.first_missing(answers) or "check"
            target = (
                reverse("reports:check")
                if following == "check"
                else reverse("reports:question", kwargs={"step": following})
            )
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
    if request.method == "POST":
        try:
            submitted = services.report_submit(
                data=journey.report_input(answers),
                client=client_of(request),
                draft_id=draft_id(request, purpose=DRAFT),
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
            },
        )
        return redirect("reports:confirmation")
    return render(request, "reports/check.html", {"rows": journey.summary_rows(answers)})


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
    if sent is not None and sent.access_code:
        form = CodeSavedForm(data={}) if sent.not_confirmed else CodeSavedForm()
        return render(
            request,
            "reports/confirmation.html",
            {"sent": sent, "form": form, **urgent},
            status=400 if sent.not_confirmed else 200,
        )
    return render(request, "reports/already_sent.html", {"sent": sent, **urgent})


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


UnlockedView = Callable[[HttpRequest, Report, bytes], HttpResponse]


def reporter_unlocked(view: UnlockedView) -> Callable[[HttpRequest], HttpResponse]:
    """A follow-up page: the report and its data key from the sealed follow-up state, or back to the
    reference and access code page when there is none (expired, signed out, never opened)."""

    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        unlocked = _unlocked(request)
        if unlocked is None:
            return redirect("reports:check_start")
        return view(request, *unlocked)

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
        if form_class is not None:
            bound[f"{pending['step']}_form"] = form_class(_rebound(pending["data"]))
    invalid = any(not form.is_valid() for form in bound.values())
    response = render(
        request,
        "reports/follow_up.html",
        _follow_up_context(report, data_key, request, **bound),
        status=400 if invalid else 200,
    )
    state_save(request, response, purpose=FOLLOW_UP, state=state)
    return response


def _follow_up_again(request: HttpRequest, form_name: str) -> HttpResponse:
    """Post/redirect/get for a follow-up form that failed: what was sent is kept in the sealed follow-up state
    and shown with its errors on the follow-up page."""
    response = HttpResponseRedirect(reverse("reports:follow_up") + f"#{form_name}")
    state = state_load(request, purpose=FOLLOW_UP) or {}
    state_save(request, response, purpose=FOLLOW_UP, state={**state, PENDING: _pending(form_name, request)})
    return response


def _follow_up_done(request: HttpRequest, target: str) -> HttpResponse:
    """A follow-up form that worked: forget any earlier failed attempt, then go to ``target``."""
    response = HttpResponseRedirect(target)
    state = state_load(request, purpose=FOLLOW_UP) or {}
    state.pop(PENDING, None)
    state_save(request, response, purpose=FOLLOW_UP, state=state)
    return response


def _follow_up_context(report: Report, data_key: bytes, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    opened = services.report_read(report=report, data_key=data_key)
    return {
        "opened": opened,
        "status": reporter_status(report),
        "message_form": extra.pop("message_form", ReporterMessageForm(initial={"kind": "message"})),
        "sent": request.GET.get("sent"),
        "checkins_chosen": report.checkins.exists(),
        "checkins_remaining": checkins.checkins_remaining(report=report),
        "checkin": checkins.checkin_due(report=report),
        "checkin_form": extra.pop("checkin_form", CheckinAnswerForm()),
        "checkin_done": request.GET.get("checkin"),
        "today": timezone.localdate(),
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
