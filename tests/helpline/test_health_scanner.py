"""The staff health page names the malware scanner, says whether it answers and how old its signatures are.
/healthz does not depend on it: reports and their files are taken while it is down, and the files wait."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from core.clamd import Clamd, ScannerVersion
from helpline import health
from outbox.models import WorkerHeartbeat
from tests.factories import signed_in_as

pytestmark = [pytest.mark.django_db]

BROKER_UP = "redis://127.0.0.1:6379/15"


@pytest.mark.slow
def test_the_page_names_the_scanner_and_the_age_of_its_signatures(scanner, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now())
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    body = client.get("/staff/health", {"format": "json"}).json()
    found = body["scanner"]
    assert found["ok"] is True and found["name"].startswith("ClamAV 1.") and found["name"].endswith("(clamd)")
    # The test signatures were written when the session's clamd started: minutes old, not stale.
    assert 0 <= found["signatures_age_hours"] < 2 and found["signatures_stale"] is False
    assert body["status"] == "ok"
    text = client.get("/staff/health").content.decode()
    assert "Malware scanner" in text and f"{found['name']}: working" in text
    assert f"Its signatures are {found['signatures_age_hours']} hours old" in text


def test_a_scanner_that_does_not_answer_makes_the_page_degraded_but_not_healthz(
    client: Client,
    settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings.CELERY_BROKER_URL = BROKER_UP
    settings.CLAMD_SOCKET = str(tmp_path / "nobody.sock")
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now())
    assert client.get("/healthz").json() == {"status": "ok"}
    staff = signed_in_as(User.Role.SUPERVISOR)[0]
    body = staff.get("/staff/health", {"format": "json"}).json()
    assert body["status"] == "degraded" and body["scanner"]["ok"] is False
    text = staff.get("/staff/health").content.decode()
    assert "ClamAV (clamd): not answering. Files wait to be checked" in text


def test_clamavs_own_database_dates_the_signatures_and_old_ones_are_flagged(
    settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    now = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)
    built = now - timedelta(hours=72)
    monkeypatch.setattr(Clamd, "ping", lambda self: True)
    monkeypatch.setattr(Clamd, "version", lambda self: ScannerVersion("ClamAV 1.4.6", 27500, built))
    found = health.scanner_health(now)
    assert (found["name"], found["signatures_version"], found["signatures_age_hours"]) == (
        "ClamAV 1.4.6 (clamd)",
        27500,
        72.0,
    )
    assert found["signatures_stale"] is True  # over CLAMD_SIGNATURES_STALE_HOURS (48)


def test_without_clamavs_database_the_folder_dates_them_or_nobody_can(
    settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(Clamd, "ping", lambda self: True)
    monkeypatch.setattr(Clamd, "version", lambda self: ScannerVersion("ClamAV 1.4.6", None, None))
    settings.CLAMD_DATABASE_DIR = str(tmp_path / "unreadable")
    found = health.scanner_health()
    assert found["signatures_age_hours"] is None and found["signatures_stale"] is True
    signatures = tmp_path / "daily.cld"
    signatures.write_text("x")
    old = (timezone.now() - timedelta(hours=5)).timestamp()
    os.utime(signatures, (old, old))
    settings.CLAMD_DATABASE_DIR = str(tmp_path)
    assert health.scanner_health()["signatures_age_hours"] == pytest.approx(5.0, abs=0.1)
