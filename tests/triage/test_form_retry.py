"""A failed staff form survives one redirect (core/form_retry.py) as ciphertext only: what staff typed can
be case content, and the session table must never hold it in clear."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from core.form_retry import COOKIE_NAME
from tests.factories import routed_case
from tests.triage.page_text import error_summary

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def test_a_failed_note_is_kept_sealed_and_shown_once(handler: User, handler_client: Client) -> None:
    case = routed_case()
    canary = "CANARY-RETRY " + "x" * 30_000  # too long: refused, and kept for the page to show again
    response = handler_client.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": canary})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/cases/{case.case_number}#action-add_note"

    # Between the POST and the GET: the session rows hold the form, but not the text in clear.
    sessions = [str(s.session_data) + str(s.get_decoded()) for s in Session.objects.all()]
    assert any("form_retry" in s for s in sessions)
    assert all("CANARY-RETRY" not in s for s in sessions)

    page = handler_client.get(response["Location"])
    assert page.status_code == 400
    assert "Internal note must be" in error_summary(page)
    assert "CANARY-RETRY" in page.content.decode(), "what was typed is shown again, to be shortened"
    assert handler_client.get(f"/staff/cases/{case.case_number}").status_code == 200, "shown once"


def test_without_its_key_a_kept_form_is_not_shown(handler: User, handler_client: Client) -> None:
    case = routed_case()
    handler_client.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": ""})
    handler_client.cookies[COOKIE_NAME] = "AAAA" + handler_client.cookies[COOKIE_NAME].value[4:]
    page = handler_client.get(f"/staff/cases/{case.case_number}")
    assert page.status_code == 200
    assert "govuk-error-summary" not in page.content.decode()
