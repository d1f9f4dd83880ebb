"""Each pattern alert carries its date and links to the metadata behind it: the reports, referrals or
counts it was raised on, as codes, dates and counts (case links for the helpline only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from oversight import selectors
from oversight.patterns import Alert, pattern_alerts
from referrals.models import Referral
from reports.models import ConcernType
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import (
    MANCHESTER,
    ORGANISATION,
    ROTHERHAM,
    SHEFFIELD,
    YORKSHIRE,
    new_case,
    referred_case,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def only(kind: str, alerts: list[Alert]) -> Alert:
    found = [alert for alert in alerts if alert.kind == kind]
    assert len(found) == 1, found
    return found[0]


def test_an_organisation_alert_shows_its_date_and_links_to_the_reports_behind_it() -> None:
    cases = [new_case(code) for code in (ROTHERHAM, SHEFFIELD, MANCHESTER)]
    latest = max(case.report.submitted_at for case in cases)
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    listing = analyst.get("/staff/patterns")

    alert = only("same_organisation", listing.context["alerts"])
    assert alert.date == timezone.localdate(latest)
    body = text(listing)
    assert f'<time datetime="{alert.date:%Y-%m-%d}">{alert.date:%-d %B %Y}</time>' in body
    assert f'href="/staff/patterns/{alert.key}"' in body

    detail = analyst.get(f"/staff/patterns/{alert.key}")

    assert detail.status_code == 200
    page = text(detail)
    assert alert.title in page
    assert len(alert.evidence) == 3
    assert sorted(row[1] for row in alert.evidence) == ["Manchester", "Rotherham", "Sheffield"]
    for row in alert.evidence:
        assert row[1] in page
    assert alert.evidence_columns == ["Submitted", "Authority", "Concern types", "Status"]
    # Metadata only: no organisation name, and no case number for national oversight.
    assert ORGANISATION not in page
    for case in cases:
        assert case.case_number not in page
        assert case.report.reference not in page


def test_a_helpline_supervisor_can_open_the_cases_from_the_metadata_page() -> None:
    cases = [new_case(code) for code in (ROTHERHAM, SHEFFIELD, MANCHESTER)]
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)
    alert = only("same_organisation", pattern_alerts())

    page = text(supervisor.get(f"/staff/patterns/{alert.key}"))

    for case in cases:
        assert f'href="/staff/cases/{case.case_number}"' in page


def test_a_missed_acknowledgements_alert_is_dated_by_its_latest_missed_deadline() -> None:
    cases = [referred_case(ROTHERHAM) for _ in range(3)]
    later = timezone.now() + timedelta(days=7)

    alert = only("missed_acknowledgements", pattern_alerts(later))

    due = max(Referral.objects.filter(case__in=[c.pk for c in cases]).values_list("ack_due_at", flat=True))
    assert alert.date == timezone.localdate(due)
    assert alert.key == f"missed-{ROTHERHAM}"
    assert alert.evidence_columns == ["Referred", "Acknowledgement due", "Acknowledged"]
    assert [row[2] for row in alert.evidence] == ["Not acknowledged"] * 3


def test_a_rising_concern_alert_shows_the_counts_it_compares() -> None:
    for _ in range(5):
        new_case(ROTHERHAM, concern_types=(ConcernType.RETALIATION_AGAINST_STAFF,))
    selectors.stats_refresh()

    alert = only("rising_concern", pattern_alerts())

    assert alert.date == timezone.localdate()
    assert alert.key == "rising-yorkshire-and-the-humber-retaliation_against_staff"
    assert alert.evidence[0][1] == "5"
    assert alert.evidence[-1] == ["Baseline per 90 days", "0.0"]
    assert YORKSHIRE in alert.title


def test_an_alert_that_no_longer_stands_is_not_found() -> None:
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    assert analyst.get("/staff/patterns/organisation-0123456789abcdef").status_code == 404


@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER])
def test_other_roles_are_refused_the_metadata(role: str) -> None:
    for code in (ROTHERHAM, SHEFFIELD, MANCHESTER):
        new_case(code)
    alert = only("same_organisation", pattern_alerts())
    client, _ = signed_in_as(
        role, partnership=partnership_of_region(YORKSHIRE) if role == User.Role.PARTNERSHIP else None
    )
    assert client.get(f"/staff/patterns/{alert.key}").status_code == 403
