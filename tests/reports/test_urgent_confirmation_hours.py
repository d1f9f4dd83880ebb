"""An urgent report's confirmation promises what the helpline's hours allow (issue 22, point 4): an hour while
it is open; outside its hours, 999, the council's emergency duty team and 101 first, and when it next opens."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from directory.models import LocalAuthority
from tests.factories import web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")


def urgent_confirmation(at: datetime) -> str:
    with time_machine.travel(at, tick=False):
        page = web_report_sent(Client(), immediate_risk={"child_at_immediate_risk": "yes"})
    return html.unescape(page.content.decode())


def test_on_a_sunday_evening_the_confirmation_sends_the_reporter_to_999_the_duty_team_and_101_first() -> None:
    LocalAuthority.objects.filter(gss_code="E08000018").update(emergency_duty_phone="01632 960001")
    page = urgent_confirmation(datetime(2026, 12, 6, 20, 30, tzinfo=LONDON))
    assert "within 1 hour" not in page
    assert "The helpline is closed now. Do not wait for us" in page
    assert 'href="tel:999"' in page and 'href="tel:101"' in page
    assert "01632 960001" in page  # Rotherham's emergency duty team: the council where the children live
    assert (
        "The helpline will see your report when it next opens, at <strong>8am on Monday 7 December 2026</strong>"
        in page
    )
    assert "when it next opens, at 8am on Monday 7 December 2026" in page.split("What happens next")[-1]


def test_without_a_number_the_confirmation_points_to_the_councils_gov_uk_page_and_invents_none() -> None:
    LocalAuthority.objects.filter(gss_code="E08000018").update(emergency_duty_phone="")
    page = urgent_confirmation(datetime(2026, 12, 6, 20, 30, tzinfo=LONDON))
    assert "https://www.gov.uk/find-local-council" in page
    assert "01632" not in page


def test_inside_the_hours_the_urgent_promise_is_an_hour() -> None:
    page = urgent_confirmation(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))
    assert "will look at your report within 1 hour" in page
    assert "The helpline is closed now" not in page
