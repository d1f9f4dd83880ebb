"""The real local authority and postcode data, loaded once per test session.

Import ``local_authorities`` into a conftest (or a test module) and request it from tests that need
authorities or postcode routing. Tests marked ``django_db`` run inside a rolled-back transaction, so the
loaded rows stay put for the whole session. A ``transaction=True`` test flushes the database when it
ends, which empties these tables too: such tests should load what they need themselves.
"""

import io

import pytest
from django.core.management import call_command
from pytest_django import DjangoDbBlocker


@pytest.fixture(scope="session")
def local_authorities(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    """Load the 153 English authorities and the postcode tables into the test database."""
    with django_db_blocker.unblock():
        call_command("load_local_authorities", stdout=io.StringIO())
