"""A wrong access code says how many tries are left before the hour's wait (issue 22, minor point)."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.test import Client

from core import crypto
from tests.factories import submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def tries_left(response: object) -> str:
    text = html.unescape(response.content.decode())  # type: ignore[attr-defined]
    return text.split('data-testid="tries-left">', 1)[1].split("</p>", 1)[0]


def test_each_wrong_code_says_how_many_tries_are_left() -> None:
    assert settings.ACCESS_THROTTLE_LIMIT == 5
    reference = submit_report().report.reference
    reporter = Client()
    told = []
    for _ in range(5):
        response = reporter.post("/check", {"reference": reference, "access_code": crypto.generate_access_code()})
        assert response.status_code == 404
        told.append(tries_left(response))
    assert told == [
        "You have 4 more tries before you must wait an hour.",
        "You have 3 more tries before you must wait an hour.",
        "You have 2 more tries before you must wait an hour.",
        "You have 1 more try before you must wait an hour.",
        "You must now wait an hour before you try this reference again.",
    ]
    assert reporter.post("/check", {"reference": reference, "access_code": "x " * 7}).status_code == 429


def test_the_count_is_per_reference_and_a_right_code_costs_no_try() -> None:
    first, second = submit_report(), submit_report()
    reporter = Client()
    wrong = reporter.post("/check", {"reference": first.report.reference, "access_code": crypto.generate_access_code()})
    assert tries_left(wrong) == "You have 4 more tries before you must wait an hour."
    right = {"reference": first.report.reference, "access_code": first.access_code}
    assert reporter.post("/check", right).status_code == 302
    other = reporter.post(
        "/check", {"reference": second.report.reference, "access_code": crypto.generate_access_code()}
    )
    assert tries_left(other) == "You have 4 more tries before you must wait an hour."
    again = reporter.post("/check", {"reference": first.report.reference, "access_code": crypto.generate_access_code()})
    assert tries_left(again) == "You have 3 more tries before you must wait an hour."


def test_a_reference_that_does_not_exist_counts_down_the_same() -> None:
    response = Client().post("/check", {"reference": "HX7K-29QM", "access_code": crypto.generate_access_code()})
    assert response.status_code == 404
    assert tries_left(response) == "You have 4 more tries before you must wait an hour."
