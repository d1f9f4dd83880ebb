"""How much work detection takes, counted rather than timed: each family of weekly series is one aggregate
query, whatever the number of reports and referrals behind it (issue 22.20 found the old alerts turning
150,000 referral times into days one by one in Python); the metadata behind an alert is read only on its
own page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from oversight import detection, series
from oversight.models import PatternAlert
from tests.factories import signed_in_as
from tests.oversight.helpers import MANCHESTER, ROTHERHAM, SHEFFIELD, new_case, referred_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def queries(action: object) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()  # type: ignore[operator]
    return len(captured.captured_queries)


def weeks() -> series.Weeks:
    start = series.period_start(timezone.localdate())
    return series.Weeks(first=start - timedelta(weeks=10), last=start)


def test_each_family_of_series_is_one_query_however_many_rows() -> None:
    referred_case(ROTHERHAM)
    families = (series.concern_series, series.facts_series, series.lateness_series)
    few = [queries(lambda family=family: family(weeks())) for family in families]
    for _ in range(3):
        referred_case(SHEFFIELD)
        referred_case(MANCHESTER)
    many = [queries(lambda family=family: family(weeks())) for family in families]
    assert few == many == [1, 1, 1]


def test_a_detection_run_does_not_grow_with_the_cases() -> None:
    for code in (ROTHERHAM, SHEFFIELD):
        new_case(code)
    detection.detect()  # the first run stores what it finds
    first = queries(detection.detect)
    for code in (ROTHERHAM, SHEFFIELD, MANCHESTER) * 2:
        new_case(code, organisation_name="")
    assert queries(detection.detect) == first


def test_the_list_of_alerts_reads_no_metadata_behind_them() -> None:
    for code in (ROTHERHAM, SHEFFIELD, MANCHESTER):
        new_case(code)
    detection.detect()
    assert PatternAlert.objects.filter(kind="organisation").count() == 1
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    with CaptureQueriesContext(connection) as shown:
        assert analyst.get("/staff/patterns").status_code == 200
    assert not any("reports_report" in query["sql"] for query in shown.captured_queries)
