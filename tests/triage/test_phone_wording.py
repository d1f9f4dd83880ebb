"""Issue 22, minor points on the phone form: worded for the handler throughout, a name typed for an
anonymous caller is refused (never dropped silently), and the result page names only real queues."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from reports.models import Report
from tests.factories import phone_report_answers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def text(response: Any) -> str:
    return response.content.decode()


def test_the_phone_form_never_speaks_to_the_handler_as_the_caller(handler_client: Client) -> None:
    page = text(handler_client.get("/staff/phone-report"))
    assert "Nobody, not even the helpline, will know who the caller is" in page
    visible = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])
    for phrase in ("who you are", "contact you", "your employer", "You are happy", "your reference"):
        assert phrase not in visible, phrase


def test_a_name_typed_for_an_anonymous_caller_is_refused_not_dropped(handler_client: Client) -> None:
    response = handler_client.post(
        "/staff/phone-report", phone_report_answers(**{"anonymity-anonymity": "anonymous"}), follow=True
    )
    assert response.status_code == 400
    assert "The caller chose to be anonymous, so their name and contact details are not kept" in text(response)
    assert "Caller Name" in text(response)  # still there, for the handler to clear
    assert Report.objects.count() == 0


def test_the_result_page_names_only_queues_that_exist(handler_client: Client) -> None:
    response = handler_client.post("/staff/phone-report", phone_report_answers(), follow=True)
    page = text(response)
    assert "local authority&#x27;s queue" not in page and "local authority's queue" not in page
    assert "Urgent queue" in page and "National triage" in page
