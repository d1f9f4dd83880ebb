import pytest

import tests.fuzzing  # noqa: F401 - loads the Hypothesis profile before any test module is imported
from tests.audit.fixtures import audit_truncate_allowed  # noqa: F401 - the test database runs without the TRUNCATE guard
from tests.fixtures_authorities import local_authorities  # noqa: F401
from tests.live import authorities_committed, celery_worker, gunicorn_server, test_broker  # noqa: F401


@pytest.fixture(autouse=True)
def _email_in_memory(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Staff password hashing is not what these tests are about: a fast hasher keeps sign-ins quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fast_kdf(settings):  # type: ignore[no-untyped-def]
    """Cheap Argon2 parameters for tests that are not about the derivation itself."""
    settings.ACCESS_CODE_KDF_OPSLIMIT = 1
    settings.ACCESS_CODE_KDF_MEMLIMIT = 8 * 1024 * 1024
