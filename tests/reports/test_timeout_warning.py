"""Don't lose a frightened reporter's words (issue 27, point 4): every page of answers in progress and the
unlocked concern says how long it lasts without JavaScript, and carries the timeout warning's dialog; its
"Continue" keeps the answers for another idle period without storing anything new; what has ended says what
was lost and how to start again, never a 500. The dialog itself is walked in Chromium
(tests/e2e/test_reporter_timeout.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.timetrail import duration_words
from reports.models import Draft, Message
from reports.services import SubmittedReport
from tests.factories import QUESTION_PAGE_ANSWERS, submit_report, web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

JSON = "application/json"
# A clock time as a page would write one ("14:05", "2:05pm"): the pages give durations only.
CLOCK_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\s*(am|pm)?\b|\b\d{1,2}\s*(am|pm)\b", re.IGNORECASE)


def started(*answered: str) -> Client:
    """A browser part-way through a report: the given question pages answered."""
    client = Client()
    assert client.post("/report/begin").status_code == 302
    for slug in answered:
        response = client.post(f"/report/{slug}", QUESTION_PAGE_ANSWERS[slug])
        assert response.status_code == 302, (slug, response.content[:300])
    return client


def draft_of(client: Client, purpose: str = Draft.Purpose.DRAFT) -> Draft:
    cookie = "report_draft" if purpose == Draft.Purpose.DRAFT else "report_follow_up"
    return Draft.objects.get(pk=client.cookies[cookie].value.partition(".")[0])


def notice(text: str) -> str:
    match = re.search(r'data-testid="timeout-notice">([^<]*)<', text)
    assert match, "the page says how long answers last"
    return match.group(1)


def dialog(text: str) -> dict[str, str]:
    match = re.search(r"<dialog ([^>]*)>", text)
    assert match, "the page carries the timeout warning"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


# --- what each page says, with and without JavaScript ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "answered"),
    [
        ("/report/about-you", ("anonymity",)),
        ("/report/in-progress", ("anonymity",)),
    ],
)
def test_a_question_page_says_when_answers_are_deleted_and_carries_the_warning(
    path: str, answered: tuple[str, ...]
) -> None:
    response = started(*answered).get(path)
    text = response.content.decode()
    assert response.status_code == 200
    said = notice(text)
    assert "we delete your answers if you do not save a page for 30 minutes" in said
    assert not CLOCK_TIME.search(said), said
    attributes = dialog(text)
    assert attributes["role"] == "alertdialog" and attributes["aria-modal"] == "true"
    assert attributes["aria-labelledby"] == "timeout-dialog-title"
    assert 'id="timeout-dialog-title">Your answers will be deleted soon<' in text
    assert attributes["data-warning-seconds"] == "120"
    assert attributes["data-ended-url"] == "/report/session-ended"
    # How long is left, in seconds from now (never a clock time): the idle period, rounded up to the bucket.
    assert 29 * 60 <= int(attributes["data-seconds-left"]) <= 30 * 60 + 15 * 60
    assert 'action="/report/more-time"' in text and "Continue with your report" in text
    assert 'href="/exit"' in text and "Delete your answers and leave" in text
    # Only scripts from this site (the CSP allows no other): the warning is an ES module.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == []
    assert '<script type="module" src="/static/js/timeout.mjs">' in text


def test_check_your_answers_and_the_documents_page_carry_it_too() -> None:
    client = started(*QUESTION_PAGE_ANSWERS)
    for path in ("/report/documents", "/report/check-your-answers"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "30 minutes" in notice(response.content.decode()), path
        assert dialog(response.content.decode())["data-ended-url"] == "/report/session-ended"


def test_the_words_follow_the_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DRAFT_IDLE_SECONDS = 45
    settings.DRAFT_WARNING_SECONDS = 20
    settings.TIME_TRAIL_BUCKET_SECONDS = 1
    text = started("anonymity").get("/report/about-you").content.decode()
    assert "if you do not save a page for 45 seconds" in notice(text)
    attributes = dialog(text)
    assert attributes["data-warning-seconds"] == "20"
    assert 40 <= int(attributes["data-seconds-left"]) <= 46
    assert "in <strong data-countdown>20 seconds</strong>" in text


def test_the_unlocked_concern_says_when_it_closes_and_carries_the_warning(
    open_concern: Callable[[SubmittedReport], Client], fast_kdf: None
) -> None:
    reporter = open_concern(submit_report())
    text = reporter.get("/check/concern").content.decode()
    said = notice(text)
    assert "we sign you out of this concern after 30 minutes without activity" in said
    assert "not be kept" in said and not CLOCK_TIME.search(said)
    attributes = dialog(text)
    assert attributes["data-ended-url"] == "/check/concern/signed-out"
    assert 'action="/check/concern/more-time"' in text and "Stay signed in" in text
    # The page tells how long is left from the expiry it saves, not the one before it.
    assert (
        abs(
            int(attributes["data-seconds-left"])
            - (draft_of(reporter, Draft.Purpose.FOLLOW_UP).expires_at - timezone.now()).total_seconds()
        )
        <= 2
    )


def test_pages_without_answers_in_progress_have_no_warning() -> None:
    for path in ("/", "/check", "/privacy"):
        text = Client().get(path).content.decode()
        assert "<dialog" not in text and "timeout-notice" not in text, path


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1800, "30 minutes"),
        (60, "1 minute"),
        (3600, "1 hour"),
        (7200, "2 hours"),
        (90, "1 minute"),
        (1, "1 second"),
        (45, "45 seconds"),
        (5400, "90 minutes"),
    ],
)
def test_durations_in_words_never_promise_more_time_than_there_is(seconds: int, words: str) -> None:
    assert duration_words(seconds) == words


# --- "Continue": more time, nothing new ------------------------------------------------------------------


def test_continue_keeps_the_answers_past_their_first_expiry_and_stores_nothing_new(settings) -> None:  # type: ignore[no-untyped-def]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = started("anonymity", "about-you")
    before = draft_of(client)
    with time_machine.travel(before.expires_at - timedelta(minutes=1), tick=False):
        response = client.post("/report/more-time", HTTP_ACCEPT=JSON)
        assert response.status_code == 200
        assert response.json()["seconds_left"] >= settings.DRAFT_IDLE_SECONDS
        assert response.headers["Cache-Control"] == "no-store"
    after = draft_of(client)
    assert after.expires_at > before.expires_at
    assert after.expires_at.timestamp() % settings.TIME_TRAIL_BUCKET_SECONDS == 0, "rounded to the bucket"
    assert bytes(after.ciphertext) == bytes(before.ciphertext), "the answers are not touched"
    assert Draft.objects.count() == 1
    with time_machine.travel(before.expires_at + timedelta(minutes=5), tick=False):
        page = client.get("/report/about-you")
        assert page.status_code == 200, "still there after the first expiry"
        assert re.search(r'value="education"[^>]*checked', page.content.decode()), "with the answer given"


def test_continue_without_javascript_comes_back_to_the_page_it_was_sent_from() -> None:
    client = started("anonymity")
    response = client.post("/report/more-time", {"next": "/report/about-you?change=1"})
    assert (response.status_code, response["Location"]) == (302, "/report/about-you?change=1")
    for elsewhere in ("https://elsewhere.example/", "//elsewhere.example/x", "/\\elsewhere.example", ""):
        response = client.post("/report/more-time", {"next": elsewhere})
        assert (response.status_code, response["Location"]) == (302, "/report/in-progress"), elsewhere


@pytest.mark.parametrize("cookie", [None, "not-a-draft", "0" * 32 + ".AAAA", "wrong-key"])
def test_continue_with_nothing_to_keep_is_a_clear_410(cookie: str | None) -> None:
    client = Client()
    if cookie == "wrong-key":
        other = started("anonymity")
        draft = draft_of(other)
        client.cookies["report_draft"] = f"{draft.pk.hex}.{'A' * 43}="
    elif cookie is not None:
        client.cookies["report_draft"] = cookie
    page = client.post("/report/more-time")
    assert page.status_code == 410
    assert "Your answers have been deleted" in page.content.decode() and "Start again" in page.content.decode()
    answer = client.post("/report/more-time", HTTP_ACCEPT=JSON)
    assert answer.status_code == 410 and answer.json() == {"ended": "/report/session-ended"}
    if cookie == "wrong-key":
        assert draft_of(other).expires_at == draft.expires_at, "a cookie that does not open it keeps nothing"


def test_continue_after_the_answers_expired_is_a_410_and_keeps_nothing() -> None:
    client = started("anonymity")
    expired_at = draft_of(client).expires_at
    with time_machine.travel(expired_at + timedelta(seconds=1), tick=False):
        assert client.post("/report/more-time", HTTP_ACCEPT=JSON).status_code == 410
        page = client.post("/report/more-time", {"next": "/report/about-you"})
        assert page.status_code == 410 and "Your report has not been sent" in page.content.decode()
    assert draft_of(client).expires_at == expired_at


def test_continue_needs_the_form_token_and_a_post() -> None:
    client = started("anonymity")
    expires_at = draft_of(client).expires_at
    client.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    refused = client.post("/report/more-time", HTTP_ACCEPT=JSON)
    assert refused.status_code == 403
    assert client.get("/report/more-time").status_code == 405
    assert draft_of(client).expires_at == expires_at


def test_continue_after_the_report_was_sent_goes_to_its_confirmation(fast_kdf: None) -> None:
    client = Client()
    web_report_sent(client)
    assert client.post("/report/more-time").headers["Location"] == "/report/confirmation"
    assert client.post("/report/more-time", HTTP_ACCEPT=JSON).status_code == 410


def test_continue_on_the_unlocked_concern(open_concern: Callable[[SubmittedReport], Client], fast_kdf: None) -> None:
    reporter = open_concern(submit_report())
    before = draft_of(reporter, Draft.Purpose.FOLLOW_UP)
    with time_machine.travel(before.expires_at - timedelta(minutes=1), tick=False):
        assert reporter.post("/check/concern/more-time", HTTP_ACCEPT=JSON).status_code == 200
    assert draft_of(reporter, Draft.Purpose.FOLLOW_UP).expires_at > before.expires_at
    with time_machine.travel(before.expires_at + timedelta(minutes=1), tick=False):
        assert reporter.get("/check/concern").status_code == 200, "still open after the first expiry"
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        assert reporter.post("/check/concern/more-time", HTTP_ACCEPT=JSON).json() == {
            "ended": "/check/concern/signed-out"
        }
        page = reporter.post("/check/concern/more-time")
        assert page.status_code == 410 and "You have been signed out of your concern" in page.content.decode()
    assert Client().post("/check/concern/more-time").status_code == 410


# --- where ended answers land ----------------------------------------------------------------------------


def test_the_expiry_page_says_what_was_lost_and_how_to_start_again() -> None:
    client = started("anonymity", "about-you")
    draft = draft_of(client)
    with time_machine.travel(draft.expires_at + timedelta(seconds=1), tick=False):
        response = client.get("/report/session-ended")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Your answers have been deleted" in text
    assert "Your report has not been sent" in text and "any files you added" in text
    assert "if you do not save a page for 30 minutes" in text
    assert 'action="/report/begin"' in text and "Start again" in text
    assert not Draft.objects.filter(pk=draft.pk).exists(), "the expired answers go now, not at the next purge"
    assert response.cookies["report_draft"].value == ""


def test_the_expiry_page_never_deletes_answers_still_alive() -> None:
    # The warning ran out in one tab while the reporter carried on in another.
    client = started("anonymity")
    response = client.get("/report/session-ended")
    assert (response.status_code, response["Location"]) == (302, "/report/in-progress")
    assert Draft.objects.filter(purpose=Draft.Purpose.DRAFT).exists()


def test_the_concern_signed_out_page(open_concern: Callable[[SubmittedReport], Client], fast_kdf: None) -> None:
    reporter = open_concern(submit_report())
    reporter.get("/check/concern")
    assert reporter.get("/check/concern/signed-out")["Location"] == "/check/concern", "still open: back to it"
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        response = reporter.get("/check/concern/signed-out")
    text = response.content.decode()
    assert response.status_code == 200
    assert "You have been signed out of your concern" in text
    assert "did not reach the helpline and was not kept" in text
    assert 'href="/check"' in text
    assert not Draft.objects.filter(purpose=Draft.Purpose.FOLLOW_UP).exists()
    assert response.cookies["report_follow_up"].value == ""


def test_a_message_sent_after_the_concern_closed_is_told_it_was_not_sent(
    open_concern: Callable[[SubmittedReport], Client], fast_kdf: None
) -> None:
    submitted = submit_report()
    reporter = open_concern(submitted)
    messages = Message.objects.count()
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        response = reporter.post("/check/concern/message", {"kind": "message", "body": "One more thing."})
        assert (response.status_code, response["Location"]) == (302, "/check/concern/signed-out")
        assert "was not kept" in reporter.get(response["Location"]).content.decode()
    assert Message.objects.count() == messages
    # Without the concern's cookie at all, as before: the reference and access code page.
    assert Client().post("/check/concern/message", {"kind": "message", "body": "x"})["Location"] == "/check"
