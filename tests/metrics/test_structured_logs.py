"""Logs are one JSON object a line (helpline/logging.py JsonFormatter, LOGGING in helpline/settings.py) and keep
today's scrubbing: what a reporter wrote, their address and their user agent never reach a line.

The lines are read from the handler LOGGING configures (its stream swapped for a buffer), so they pass the same
filter and formatter as in production. A report is sent with a distinctive text while the mail provider is down
(the retries log), the concern is opened at /check and once with a wrong code, a form arrives in a charset Django
refuses, and sending fails with a 500: each from a client with an address in every header and a user agent.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.test import Client

from reports import services as report_services
from reports.models import Report
from tests.factories import staff_user, web_report_sent
from tests.metrics.scraping import drain_outbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

TEXT = "Quillfeather-Marrowgate-8841"
ADDRESSES = ("203.0.113.77", "198.51.100.23", "2001:db8::7711")
AGENT = "CanaryBrowser/9.9 (Distinct-UA-5521)"
CLIENT_HEADERS = {
    "REMOTE_ADDR": ADDRESSES[1],
    "HTTP_X_FORWARDED_FOR": f"{ADDRESSES[0]}, {ADDRESSES[2]}",
    "HTTP_X_REAL_IP": ADDRESSES[0],
    "HTTP_USER_AGENT": AGENT,
}
SECRETS = (TEXT, *ADDRESSES, AGENT, "CanaryBrowser", "Distinct-UA")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the console handler LOGGING configures writes, for the length of the test."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)  # type: ignore[type-var]


def reporter() -> Client:
    return Client(raise_request_exception=False, **CLIENT_HEADERS)


def test_log_lines_are_json_and_carry_no_reporter_data(log_lines: io.StringIO, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.failing_mail.FailingBackend"
    staff_user("on-duty", email="on-duty@helpline.test")
    words = {"summary": f"{TEXT} summary", "details": f"{TEXT} details"}

    # An urgent report with the text: routed, and its alert email fails (a logged warning).
    sent = web_report_sent(reporter(), what_happened=words, immediate_risk={"child_at_immediate_risk": "yes"})
    access_code = str(sent.context["sent"].access_code)
    drain_outbox()
    report = Report.objects.get()

    # The concern opened at /check, the follow-up page, and a wrong code.
    visitor = reporter()
    opened = visitor.post("/check", {"reference": report.reference, "access_code": access_code})
    assert opened.status_code == 302 and visitor.get("/check/concern").status_code == 200
    wrong = reporter().post("/check", {"reference": report.reference, "access_code": TEXT})
    assert wrong.status_code in {400, 404}

    # A form in a charset Django refuses, holding the text: one 400 page and one log line.
    refused = reporter().generic(
        "POST",
        "/report/what-happened",
        f"csrfmiddlewaretoken=x&summary={TEXT}".encode(),
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert refused.status_code == 400

    # Sending fails inside the service: a 500 and Django's error line with its traceback.
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(report_services, "report_submit", broken)
    with pytest.raises(AssertionError, match="there is a problem with the service"):
        web_report_sent(reporter(), what_happened=words)  # the last page is a 500, not the confirmation
    assert Report.objects.count() == 1

    lines = log_lines.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) and {"level", "logger", "message"} <= record.keys() for record in records)
    loggers = {record["logger"] for record in records}
    assert "notify.services" in loggers, loggers  # the failed alert email
    assert any(record["level"] == "ERROR" and "traceback" in record for record in records), loggers
    assert len(records) >= 3
    for line, record in zip(lines, records, strict=True):
        decoded = json.dumps(record, ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in line and secret not in decoded, (secret, record)
