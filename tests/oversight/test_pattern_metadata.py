"""Each pattern alert links to its own page with the metadata behind it: the weeks compared and, for an
organisation, the reports it was raised on, as codes, dates and counts (case links for the helpline only)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import User
from oversight import detection
from oversight.models import PatternAlert
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import MANCHESTER, ORGANISATION, ROTHERHAM, SHEFFIELD, YORKSHIRE, new_case, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def organisation_alert() -> PatternAlert:
    detection.detect()
    [alert] = PatternAlert.objects.filter(kind="organisation")
    return alert


def test_an_organisation_alert_shows_its_weeks_and_the_reports_behind_it() -> None:
    cases = [new_case(code) for code in (ROTHERHAM, SHEFFIELD, MANCHESTER)]
    alert = organisation_alert()
    today = timezone.localdate()
    assert alert.period_start <= today <= alert.period_end  # the weeks the reports fall in
    assert alert.period_start.weekday() == 0
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    listing = text(analyst.get("/staff/patterns"))
    assert f'href="/staff/patterns/{alert.pk}"' in listing
    assert f"{alert.period_start:%-d %B %Y} to {alert.period_end:%-d %B %Y}" in listing

    page = text(analyst.get(f"/staff/patterns/{alert.pk}"))
    assert "The metadata behind this alert" in page
    for name in ("Manchester", "Rotherham", "Sheffield"):
        assert name in page
    assert f"{today:%-d %B %Y}" in page  # the day each report was submitted
    # Metadata only: no organisation name, and no case number for national oversight.
    assert ORGANISATION not in page
    for case in cases:
        assert case.case_number not in page
        assert case.report.reference not in page


def test_a_helpline_supervisor_can_open_the_cases_from_the_alert_page() -> None:
    cases = [new_case(code) for code in (ROTHERHAM, SHEFFIELD, MANCHESTER)]
    alert = organisation_alert()
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)
    page = text(supervisor.get(f"/staff/patterns/{alert.pk}"))
    for case in cases:
        assert f'href="/staff/cases/{case.case_number}"' in page


def test_an_alert_that_does_not_exist_is_not_found() -> None:
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    assert analyst.get("/staff/patterns/123456789").status_code == 404


@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER])
def test_other_roles_are_refused_the_metadata(role: str) -> None:
    for code in (ROTHERHAM, SHEFFIELD, MANCHESTER):
        new_case(code)
    alert = organisation_alert()
    client, _ = signed_in_as(
        role, partnership=partnership_of_region(YORKSHIRE) if role == User.Role.PARTNERSHIP else None
    )
    assert client.get(f"/staff/patterns/{alert.pk}").status_code == 403
