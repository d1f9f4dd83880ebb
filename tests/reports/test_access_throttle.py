from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core import crypto
from core.models import AccessThrottle
from core.throttle import throttles_purge
from reports import services
from tests.factories import submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def wrong_attempts(reference: str, client: str, count: int) -> None:
    for _ in range(count):
        with pytest.raises(services.ReportNotFound):
            services.report_unlock(reference=reference, access_code=crypto.generate_access_code(), client=client)


def test_five_wrong_attempts_from_one_address_refuse_that_pair_for_an_hour() -> None:
    submitted = submit_report()
    wrong_attempts(submitted.report.reference, "attacker", 5)
    with pytest.raises(services.AccessThrottled):
        services.report_unlock(
            reference=submitted.report.reference, access_code=submitted.access_code, client="attacker"
        )
    # The window's end is rounded up to the time-trail bucket (core.timetrail), so up to 15 minutes more.
    with time_machine.travel(timezone.now() + timedelta(minutes=76)):
        report, _ = services.report_unlock(
            reference=submitted.report.reference, access_code=submitted.access_code, client="attacker"
        )
    assert report.pk == submitted.report.pk


def test_the_real_reporter_elsewhere_is_not_locked_out() -> None:
    submitted = submit_report()
    wrong_attempts(submitted.report.reference, "attacker", 5)
    report, _ = services.report_unlock(
        reference=submitted.report.reference, access_code=submitted.access_code, client="reporter"
    )
    assert report.pk == submitted.report.pk


def test_unknown_references_are_throttled_too() -> None:
    wrong_attempts("AAAA-AAAA", "attacker", 5)
    with pytest.raises(services.AccessThrottled):
        services.report_unlock(reference="AAAA-AAAA", access_code=crypto.generate_access_code(), client="attacker")


def test_throttle_counters_hold_no_address_and_expire() -> None:
    wrong_attempts("AAAA-AAAA", crypto.client_hash("127.0.0.77"), 2)
    rows = list(AccessThrottle.objects.all())
    assert len(rows) == 2, "the pair's attempts and the client's key derivations"
    for row in rows:
        assert "127.0.0.77" not in f"{row.key}"
        assert row.failures == 2
        assert timezone.now() + timedelta(minutes=59) < row.expires_at <= timezone.now() + timedelta(minutes=76)
        assert row.expires_at.second == 0 and row.expires_at.minute % 15 == 0  # no trail of the attempt's time
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert throttles_purge() == 2


def test_the_web_page_answers_429_and_the_api_429_once_throttled() -> None:
    client = Client(REMOTE_ADDR="127.0.0.77")
    submitted = submit_report()
    for _ in range(5):
        response = client.post("/check", {"reference": submitted.report.reference, "access_code": "wrong"})
        assert response.status_code == 404
    page = client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert page.status_code == 429
    assert "Too many attempts" in page.content.decode()
    api = client.post(
        "/api/v1/reports/access",
        {"reference": submitted.report.reference, "access_code": submitted.access_code},
        content_type="application/json",
    )
    assert api.status_code == 429
    elsewhere = Client(REMOTE_ADDR="127.0.0.78").post(
        "/api/v1/reports/access",
        {"reference": submitted.report.reference, "access_code": submitted.access_code},
        content_type="application/json",
    )
    assert elsewhere.status_code == 200


def test_throttling_keeps_working_when_redis_is_down(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    wrong_attempts("AAAA-AAAA", "attacker", 5)
    with pytest.raises(services.AccessThrottled):
        services.report_unlock(reference="AAAA-AAAA", access_code="x", client="attacker")
