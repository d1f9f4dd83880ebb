"""Words that promised or asked the wrong thing (issue 22, point 8 and a minor point): the phase banner says
only what is true for every reporter, and the reporter's emails do not ask them to "sign in"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notify import services as notify_services
from notify.models import Notification
from reports.models import Anonymity
from reports.notifications import REPORT_TEMPLATES
from reports.services import Contact
from tests.factories import submit_report
from triage import notifications
from triage.intake import report_route

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.mark.parametrize("path", ["/", "/check", "/privacy"])
def test_the_phase_banner_promises_only_what_is_true_for_a_named_reporter_too(path: str) -> None:
    page = Client().get(path).content.decode()
    banner = page.split('data-testid="phase-banner">', 1)[1].split("</span>", 1)[0]
    assert "Nothing you write here is shared with your employer" not in page
    assert (
        "does not tell your employer or the local authority who you are unless you agree or the law requires it"
        in banner
    )
    assert 'href="/privacy">How we protect your identity</a>' in banner


@pytest.mark.parametrize("template", sorted(notifications.REPORTER_TEMPLATES | REPORT_TEMPLATES))
def test_a_reporter_email_says_to_enter_the_reference_and_code_not_to_sign_in(template: str, settings: Any) -> None:
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name="Sam", email="sam@private.test", phone="")
    )
    case = report_route(report_id=submitted.report.pk)
    # A check-in or unread-message nudge is about the report (reports sends it); a reply's email about the case.
    subject = ("report", case.report_id) if template in REPORT_TEMPLATES else ("case", case.pk)
    record = Notification.objects.create(
        subject_kind=subject[0],
        subject_id=subject[1],
        recipient=Notification.REPORTER,
        template=template,
        created_at=case.created_at,
    )
    message = notify_services.email_render(record)
    for body in (message.body, *(content for content, _ in message.alternatives)):
        assert "sign in" not in str(body).lower()
        assert "enter your reference and access code" in str(body)
