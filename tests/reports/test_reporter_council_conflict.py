"""A postcode in one council and a different council chosen (issue 22, point 7): the reporter is asked which
is right, with GOV.UK radios, instead of one of them winning silently. And the council page says "choose the
council", not "choose another council", when it offered none (the minor point)."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from django.test import Client

from reports import journey
from reports.drafts import state_load

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

Answer = Callable[[Client, str, dict[str, str | list[str]]], str]
ROTHERHAM, SHEFFIELD, CAMDEN = "E08000018", "E08000039", "E09000007"


def at_where(answer: Answer) -> Client:
    reporter = Client()
    reporter.post("/report/begin")
    answer(reporter, "anonymity", {"anonymity": "anonymous"})
    answer(reporter, "about-you", {"reporter_sector": "education"})
    answer(reporter, "concern", {"concern_types": ["concern_not_acted_on"]})
    return reporter


def chosen_authority(reporter: Client) -> str | None:
    state = state_load(reporter.get("/").wsgi_request, purpose="draft") or {}
    answers = state["answers"]
    assert isinstance(answers, dict)
    return journey.chosen_authority_code(answers)


def test_a_postcode_in_another_council_asks_which_is_right(answer: Answer) -> None:
    reporter = at_where(answer)
    assert answer(reporter, "where", {"postcode": "S60 1AA", "council": SHEFFIELD}) == "/report/council"
    shown = reporter.get("/report/council")
    page = html.unescape(shown.content.decode())
    assert shown.status_code == 200
    assert (
        '<h1 class="govuk-fieldset__heading">Your postcode S60 1AA is in Rotherham, but you chose Sheffield. ' in page
    )
    assert "Which is right?</h1>" in page
    assert 'type="radio" value="E08000018"' in page and 'type="radio" value="E08000039"' in page
    assert "The council for S60 1AA" in page and "The council you chose" in page
    assert "Or choose another council" not in page
    assert chosen_authority(reporter) is None, "neither is taken until the reporter says"


@pytest.mark.parametrize("right", [ROTHERHAM, SHEFFIELD])
def test_the_council_the_reporter_says_is_right_is_the_one_used(answer: Answer, right: str) -> None:
    reporter = at_where(answer)
    answer(reporter, "where", {"postcode": "S60 1AA", "council": SHEFFIELD})
    assert answer(reporter, "council", {"council": right}) == "/report/about-council"
    assert chosen_authority(reporter) == right


def test_no_answer_to_which_is_right_is_a_govuk_error(answer: Answer) -> None:
    reporter = at_where(answer)
    answer(reporter, "where", {"postcode": "S60 1AA", "council": SHEFFIELD})
    assert answer(reporter, "council", {"council": CAMDEN}) == "/report/council"  # not one of the two
    shown = reporter.get("/report/council")
    page = html.unescape(shown.content.decode())
    assert shown.status_code == 400
    assert '<a href="#id_council">Select which council is right</a>' in page


def test_a_postcode_and_the_same_council_go_straight_on(answer: Answer) -> None:
    reporter = at_where(answer)
    assert answer(reporter, "where", {"postcode": "S60 1AA", "council": ROTHERHAM}) == "/report/about-council"
    assert chosen_authority(reporter) == ROTHERHAM


def test_a_part_postcode_and_a_council_outside_it_asks_too(answer: Answer) -> None:
    reporter = at_where(answer)
    assert answer(reporter, "where", {"postcode": "EC1A", "council": CAMDEN}) == "/report/council"
    page = html.unescape(reporter.get("/report/council").content.decode())
    assert "Your postcode EC1A is in City of London or Islington, but you chose Camden. Which is right?" in page
    assert page.count("Covers part of EC1A") == 2 and "The council you chose" in page


def test_i_do_not_know_and_a_postcode_uses_the_postcode(answer: Answer) -> None:
    reporter = at_where(answer)
    assert answer(reporter, "where", {"postcode": "S60 1AA", "council": "unknown"}) == "/report/about-council"
    assert chosen_authority(reporter) == ROTHERHAM


def test_changing_the_answer_to_where_clears_the_question(answer: Answer) -> None:
    reporter = at_where(answer)
    answer(reporter, "where", {"postcode": "S60 1AA", "council": SHEFFIELD})
    answer(reporter, "where", {"postcode": "", "council": SHEFFIELD})
    assert reporter.get("/report/council")["Location"] == "/report/about-council"
    assert chosen_authority(reporter) == SHEFFIELD


def test_a_postcode_we_cannot_find_asks_for_the_council_not_another_one(answer: Answer) -> None:
    reporter = at_where(answer)
    assert answer(reporter, "where", {"postcode": "BX1 1LT", "council": ""}) == "/report/council"
    page = html.unescape(reporter.get("/report/council").content.decode())
    assert "We could not find that postcode in our list." in page
    assert '<label class="govuk-label" for="id_other_council">Choose the council</label>' in page
    assert "another council" not in page
