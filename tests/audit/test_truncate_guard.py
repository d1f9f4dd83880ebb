"""The TRUNCATE guard (migration 0002) and the test-only way round it that Django's test flush needs."""

from __future__ import annotations

import runpy
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.testing import TRUNCATE_TRIGGER
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db

MIGRATION = Path(__file__).resolve().parents[2] / "audit" / "migrations" / "0002_refuse_truncate.py"


@pytest.fixture(autouse=True)
def truncate_guard() -> None:
    """The guard as migration 0002 creates it. The test database runs without it (tests/audit/fixtures.py),
    so its own SQL is run here, inside this test's transaction, which is rolled back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", [TRUNCATE_TRIGGER])
        if cursor.fetchone() is None:
            cursor.execute("DROP FUNCTION IF EXISTS audit_event_refuse_truncate()")
            cursor.execute(runpy.run_path(str(MIGRATION))["REFUSE_TRUNCATE"])


def truncate_bypassing_django() -> None:
    """TRUNCATE on the raw cursor, as a DBA would run it."""
    with connection.cursor() as cursor:
        cursor.cursor.execute("TRUNCATE audit_event")


def committed_as_in_a_real_flush() -> None:
    """The events were inserted in this test's own transaction, so their deferred foreign-key checks are
    still pending, and PostgreSQL refuses TRUNCATE and ALTER TABLE on a table with pending trigger events.
    Run them now, as a commit would; Django's real flush comes after the test's data is committed."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_truncate_is_refused() -> None:
    record(3)
    committed_as_in_a_real_flush()
    with pytest.raises(psycopg.errors.RaiseException, match="append-only: TRUNCATE refused"), transaction.atomic():
        truncate_bypassing_django()
    assert AuditEvent.objects.count() == 3
