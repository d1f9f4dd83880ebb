"""The receipt on the reporter's pages, the published keys, and checking a receipt on the page and the API."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from core import receipts
from reports.models import Report
from tests.factories import receipt_signed, submit_report, web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_the_confirmation_page_says_the_receipt_is_not_ready_then_offers_it() -> None:
    client = Client()
    sent = web_report_sent(client)
    assert 'data-testid="receipt-waiting"' in _text(sent)
    assert 'data-testid="receipt-not-ready"' in _text(client.get("/report/confirmation/receipt"))

    receipt_signed(Report.objects.get())
    page = client.get("/report/confirmation")
    receipt_page = client.get("/report/confirmation/receipt")
    download = client.get("/report/confirmation/receipt.txt")

    assert 'data-testid="receipt-link"' in _text(page) and "shows that you used this service" in _text(page)
    assert receipt_page.status_code == 200 and 'data-testid="receipt-block"' in _text(receipt_page)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert receipts.verify(receipts.parse_block(download.content.decode())).genuine


def test_without_the_sent_note_the_confirmation_receipt_sends_the_reporter_to_check() -> None:
    response = Client().get("/report/confirmation/receipt")
    assert response.status_code == 302 and response["Location"] == "/check"


def test_check_offers_the_receipt_once_signed() -> None:
    submitted = submit_report()
    client = Client()
    client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert 'data-testid="receipt-waiting"' in _text(client.get("/check/concern"))

    receipt_signed(submitted.report)

    assert 'data-testid="receipt-link"' in _text(client.get("/check/concern"))
    download = client.get("/check/concern/receipt.txt")
    assert submitted.report.reference in download.content.decode()
    assert receipts.verify(receipts.parse_block(download.content.decode())).genuine
    assert Client().get("/check/concern/receipt.txt")["Location"] == "/check", "locked without the code"


def test_the_keys_are_published_with_their_days() -> None:
    page = Client().get("/receipts/keys")
    listed = Client().get("/receipts/keys.json").json()["keys"]

    assert page.status_code == 200 and "In use now" in _text(page)
    assert listed and listed[0]["algorithm"] == "Ed25519" and listed[0]["valid_from"] == "2020-01-01"
    assert listed[0]["valid_to"] is None and listed[0]["public_key"] in _text(page)


def test_the_verify_page_says_genuine_and_checks_an_answer() -> None:
    block = receipt_signed(submit_report().report).block
    client = Client()

    genuine = client.post(
        "/receipts/verify", {"receipt": block, "field": "summary", "text": "Missing episodes ignored"}
    )
    differs = client.post("/receipts/verify", {"receipt": block, "field": "summary", "text": "Something else"})
    changed = client.post("/receipts/verify", {"receipt": block.replace('"v":1', '"v":2')})

    assert genuine.status_code == 200 and 'data-testid="receipt-genuine"' in _text(genuine)
    assert 'data-testid="receipt-text-matches"' in _text(genuine)
    assert 'data-testid="receipt-text-differs"' in _text(differs)
    assert changed.status_code == 200 and 'data-testid="receipt-not-genuine"' in _text(changed)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Paste the receipt's text block"),
        ({"receipt": "hello"}, "This is not a receipt"),
        ({"receipt": "{not json}"}, "cannot be read"),
        ({"receipt": "x" * 20_001}, "too long to be a receipt"),
        ({"receipt": "{}", "field": "summary"}, "Paste the text to check"),
        ({"receipt": "{}", "field": "nonsense", "text": "a"}, "Choose an answer from the list"),
    ],
)
def test_bad_input_on_the_verify_page_gets_an_error_summary(data: dict[str, str], message: str) -> None:
    response = Client().post("/receipts/verify", data)

    assert response.status_code == 400
    assert "govuk-error-summary" in _text(response) and message in _text(response)


def test_a_field_the_receipt_has_no_fingerprint_of_is_a_field_error() -> None:
    block = receipt_signed(submit_report(internal_response="").report).block

    response = Client().post("/receipts/verify", {"receipt": block, "field": "internal_response", "text": "Told"})

    assert response.status_code == 400 and "no fingerprint of that answer" in _text(response)


def test_the_api_verifies_and_checks_a_field() -> None:
    block = receipt_signed(submit_report().report).block
    client = Client()

    good = client.post(
        "/api/v1/receipts/verify",
        {"receipt": block, "field": "details", "text": "A girl keeps going missing and managers do nothing."},
        content_type="application/json",
    )
    forged = client.post(
        "/api/v1/receipts/verify", {"receipt": block.replace("-", "+", 1)}, content_type="application/json"
    )

    assert good.status_code == 200
    assert good.json()["genuine"] is True and good.json()["matches"] is True and good.json()["field"] == "details"
    assert forged.status_code == 200 and forged.json()["genuine"] is False and forged.json()["problem"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "receipt"),
        ({"receipt": ""}, "receipt"),
        ({"receipt": 12}, "receipt"),
        ({"receipt": "no receipt here"}, "receipt"),
        ({"receipt": "{}", "field": "details"}, "text"),
        ({"receipt": "{}", "text": "words"}, "field"),
        ({"receipt": "{}", "field": "name", "text": "Sam"}, "field"),
        ({"receipt": "a\u0000b"}, "receipt"),
    ],
)
def test_bad_input_to_the_api_gets_field_errors(body: dict[str, Any], field: str) -> None:
    response = Client().post("/api/v1/receipts/verify", body, content_type="application/json")

    assert response.status_code == 400 and field in response.json(), response.content


def test_the_api_refuses_a_field_the_receipt_lacks_and_a_submission_that_is_not_json() -> None:
    block = receipt_signed(submit_report(internal_response="").report).block
    client = Client()

    lacking = client.post(
        "/api/v1/receipts/verify",
        {"receipt": block, "field": "internal_response", "text": "x"},
        content_type="application/json",
    )
    not_json = client.post(
        "/api/v1/receipts/verify",
        {"receipt": block, "field": "submission", "text": "{"},
        content_type="application/json",
    )

    assert lacking.status_code == 400 and "field" in lacking.json()
    assert not_json.status_code == 400 and "text" in not_json.json()


def test_checks_are_throttled_per_client(settings: Any) -> None:
    settings.RECEIPT_VERIFY_LIMIT = 2
    client = Client(REMOTE_ADDR="192.0.2.40")
    for _ in range(2):
        assert (
            client.post("/api/v1/receipts/verify", {"receipt": "x"}, content_type="application/json").status_code == 400
        )

    api = client.post("/api/v1/receipts/verify", {"receipt": "x"}, content_type="application/json")
    page = client.post("/receipts/verify", {"receipt": "x"})

    assert api.status_code == 429 and page.status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.41").post("/receipts/verify", {"receipt": "x"})
    assert other.status_code == 400, "another client is not held back"


def test_the_openapi_document_describes_receipt_verification() -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/receipts/verify"]["post"]
    assert operation["operationId"] == "receipt_verify"
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) == 2
