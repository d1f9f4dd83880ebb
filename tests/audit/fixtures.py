"""The fixture tests/conftest.py imports: the test database runs without the audit trail's TRUNCATE guard."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from audit.testing import TRUNCATE_TRIGGER


@pytest.fixture(autouse=True, scope="session")
def audit_truncate_allowed(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """For the test database only, and said here so: migration 0002's guard is dropped once the test
    database is made. Django empties every table with one TRUNCATE after each transactional test (live
    servers, real workers), from whichever connection the test thread holds, which no narrower bypass can
    follow. tests/audit/test_truncate_guard.py puts the guard back inside its own transactions to test it,
    and tests/test_migrations_carry_over.py shows a database migrated the production way refuses TRUNCATE."""
    # Never on a real database: only on one pytest-django made for this run (its name starts with test_).
    if str(connection.settings_dict["NAME"]).startswith("test_"):
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON audit_event")
    yield
