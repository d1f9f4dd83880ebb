"""A reporter whose answers have expired is told so, instead of a new draft starting with one answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from reports.models import Draft
from tests.factories import QUESTION_PAGE_ANSWERS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]


def test_an_answer_sent_after_the_draft_expired_leads_to_a_clear_page_and_keeps_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPLINE_PHONE = "0808 157 0999"
    client = Client()
    assert client.post("/report/begin").status_code == 302
    assert client.post("/report/anonymity", QUESTION_PAGE_ANSWERS["anonymity"]).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = client.post("/report/what-happened", QUESTION_PAGE_ANSWERS["what-happened"])
        assert response.status_code == 302 and response["Location"] == "/report/session-ended"
        page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Your answers have been deleted" in text and "Start again" in text and "0808 157 0999" in text
    live = Draft.objects.filter(purpose=Draft.Purpose.DRAFT, expires_at__gt=timezone.now() + timedelta(hours=2))
    assert not live.exists(), "no new draft holding one answer"


def test_a_cookie_that_was_never_there_gets_the_same_page() -> None:
    response = Client().post("/report/concern", QUESTION_PAGE_ANSWERS["concern"])
    assert response.status_code == 302 and response["Location"] == "/report/session-ended"
    assert not Draft.objects.exists()
