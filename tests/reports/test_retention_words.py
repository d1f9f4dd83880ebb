"""The public start page tells reporters, in plain words, how long what they tell us is kept: from the
retention periods the schedule applies (settings.RETENTION_MONTHS)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from reports import retention
from triage.models import Outcome


def _text(response: Any) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def test_every_outcome_has_its_words() -> None:
    assert set(retention.OUTCOME_WORDS) == set(Outcome.values)


@pytest.mark.parametrize(
    ("months", "words"),
    [(72, "6 years"), (12, "1 year"), (18, "1 year and 6 months"), (1, "1 month"), (9, "9 months")],
)
def test_a_period_is_said_as_people_say_it(months: int, words: str) -> None:
    assert retention.period_words(months) == words


@pytest.mark.django_db  # the start page asks the rota whether somebody is on call
def test_the_start_page_states_the_default_periods(client: Client) -> None:
    text = _text(client.get("/"))
    assert (
        "If your concern was found to be true, was found to be partly true or led the local authority to act, we "
        "keep what you told us for 6 years after the helpline closes it." in text
    )
    assert "If your concern was looked into and not found to be true, we keep what you told us for 3 years" in text
    assert (
        "If your concern could not be taken any further, repeated a concern already reported or was withdrawn by "
        "you, we keep what you told us for 2 years" in text
    )
    assert "the time starts again from the day you send it" in text


@pytest.mark.django_db
def test_the_start_page_follows_the_settings(client: Client, settings: Any) -> None:
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "withdrawn": 6, "substantiated": 96}
    text = _text(client.get("/"))
    assert "If your concern was found to be true, we keep what you told us for 8 years" in text
    assert "If your concern was withdrawn by you, we keep what you told us for 6 months" in text
    assert "or was withdrawn by you, we keep" not in text


def test_the_privacy_page_states_them_too(client: Client) -> None:
    text = _text(client.get("/privacy"))
    assert "How long we keep what you tell us" in text and "for 6 years after the helpline closes it" in text
