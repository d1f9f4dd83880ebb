"""Starting a report never silently wipes one in progress (issue 22, point 5), and a question page opened
directly starts a new visitor at the beginning (point 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from reports.drafts import state_load
from tests.factories import web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

Answer = Callable[[Client, str, dict[str, str | list[str]]], str]


def answers_of(client: Client) -> dict[str, object]:
    request = client.get("/").wsgi_request
    state = state_load(request, purpose="draft") or {}
    answers = state.get("answers")
    return answers if isinstance(answers, dict) else {}


def part_way(answer: Answer) -> Client:
    reporter = Client()
    assert reporter.post("/report/begin")["Location"] == "/report/anonymity"
    answer(reporter, "anonymity", {"anonymity": "anonymous"})
    answer(reporter, "about-you", {"reporter_sector": "education"})
    return reporter


def test_start_now_with_a_report_in_progress_asks_first(answer: Answer) -> None:
    reporter = part_way(answer)
    asked = reporter.post("/report/begin")
    assert (asked.status_code, asked["Location"]) == (302, "/report/in-progress")
    page = reporter.get("/report/in-progress").content.decode()
    assert "You have already started a report. Do you want to continue it?" in page
    assert "Yes, continue my report" in page and "No, delete my answers and start again" in page
    assert set(answers_of(reporter)) == {"anonymity", "about-you"}, "asking wiped nothing"


def test_continuing_goes_to_the_first_question_not_answered(answer: Answer) -> None:
    reporter = part_way(answer)
    reporter.post("/report/begin")
    went = reporter.post("/report/in-progress", {"next": "continue"})
    assert went["Location"] == "/report/concern"
    assert set(answers_of(reporter)) == {"anonymity", "about-you"}


def test_starting_again_deletes_the_answers(answer: Answer) -> None:
    reporter = part_way(answer)
    reporter.post("/report/begin")
    went = reporter.post("/report/in-progress", {"next": "restart"})
    assert went["Location"] == "/report/anonymity"
    assert answers_of(reporter) == {}


def test_no_choice_is_a_govuk_error_at_the_pages_own_address(answer: Answer) -> None:
    reporter = part_way(answer)
    reporter.post("/report/begin")
    refused = reporter.post("/report/in-progress", {"next": "sideways"})
    assert refused["Location"] == "/report/in-progress"
    shown = reporter.get("/report/in-progress")
    page = shown.content.decode()
    assert shown.status_code == 400 and "There is a problem" in page
    assert '<a href="#id_next">' in page
    assert set(answers_of(reporter)) == {"anonymity", "about-you"}


def test_start_now_with_nothing_in_progress_starts_straight_away() -> None:
    reporter = Client()
    assert reporter.post("/report/begin")["Location"] == "/report/anonymity"
    assert reporter.post("/report/begin")["Location"] == "/report/anonymity", "no answers yet: nothing to lose"
    assert Client().get("/report/in-progress")["Location"] == "/"


def test_start_now_after_sending_starts_a_new_report() -> None:
    reporter = Client()
    web_report_sent(reporter)
    assert reporter.post("/report/begin")["Location"] == "/report/anonymity"


@pytest.mark.parametrize("slug", ["anonymity", "what-happened", "contact"])
def test_a_question_page_opened_by_a_new_visitor_starts_at_the_beginning(slug: str) -> None:
    response = Client().get(f"/report/{slug}")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert Client().get("/report/check-your-answers", follow=True).redirect_chain[-1] == ("/", 302)


def test_a_question_page_after_the_answers_expired_says_they_were_deleted(answer: Answer) -> None:
    reporter = part_way(answer)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = reporter.get("/report/concern")
    assert response["Location"] == "/report/session-ended"


def test_a_question_page_after_sending_shows_the_report_was_sent() -> None:
    reporter = Client()
    web_report_sent(reporter)
    assert reporter.get("/report/what-happened")["Location"] == "/report/confirmation"
