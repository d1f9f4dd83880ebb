from pathlib import Path

import pytest
from _pytest.mark.expression import Expression

import tests.fuzzing  # noqa: F401 - loads the Hypothesis profile before any test module is imported
from tests.audit.fixtures import audit_truncate_allowed  # noqa: F401 - the test database runs without the TRUNCATE guard
from tests.clamav import clamd, scanner  # noqa: F401 - a real clamd (the project's own configuration), one per session
from tests.fixtures_authorities import local_authorities  # noqa: F401
from tests.live import authorities_committed, celery_worker, gunicorn_server, test_broker  # noqa: F401


@pytest.fixture(autouse=True)
def _email_in_memory(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Staff password hashing is not what these tests are about: a fast hasher keeps sign-ins quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No flood counter (core.flood) but in the tests of floods (tests/floods): tests running side by side would
    # add up to a flood in a shared Redis and hold each other's urgent alerts for a digest.
    settings.FLOOD_REDIS_URL = ""


@pytest.fixture
def fast_kdf(settings):  # type: ignore[no-untyped-def]
    """Cheap Argon2 parameters for tests that are not about the derivation itself."""
    settings.ACCESS_CODE_KDF_OPSLIMIT = 1
    settings.ACCESS_CODE_KDF_MEMLIMIT = 8 * 1024 * 1024


# The fast lane (`make test-fast`: -m "not e2e and not worker and not slow") starts no process, server or
# browser. A test that uses one of these fixtures must carry one of the markers that leave it out, or the
# run stops before any test does. Tests that start programs themselves (subprocess) are marked by hand.
OUT_OF_THE_FAST_LANE = frozenset({"e2e", "worker", "slow"})
# The test broker too: the fast tier runs on two xdist workers, which would empty each other's queue.
STARTS_SOMETHING = frozenset(
    {"playwright", "live_server", "celery_worker", "gunicorn_server", "front_door", "test_broker", "clamd"}
)


# Test modules that are costly to import: schemathesis works out its test cases (its coverage phase) as the module
# is collected, in every process that collects it. A run whose marker expression leaves out every test of such a
# module (make test's fast and serial passes; each xdist worker collects on its own) does not import it. The marks
# are the module's ``pytestmark``, read from its source by tests/test_test_kit.py, which fails when they differ.
TESTS = Path(__file__).resolve().parent
COSTLY_TO_COLLECT = {"reports/test_api_schemathesis.py": frozenset({"django_db", "slow", "isolated"})}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    try:
        marks = COSTLY_TO_COLLECT.get(collection_path.relative_to(TESTS).as_posix())
    except ValueError:
        return None
    if marks is None or not config.option.markexpr:
        return None
    selected = Expression.compile(config.option.markexpr).evaluate(lambda name, **kwargs: name in marks)
    return None if selected else True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if STARTS_SOMETHING & set(getattr(item, "fixturenames", ()))
        and not OUT_OF_THE_FAST_LANE & {marker.name for marker in item.iter_markers()}
    ]
    if unmarked:
        raise pytest.UsageError(
            "These tests start a browser, a server or a worker but are not marked e2e, worker or slow:\n"
            + "\n".join(unmarked)
        )
    # `isolated` slow tests run two at a time (make test): each xdist worker has its own test database, but
    # they share the broker, ports and clamd, so an isolated test may start nothing.
    shared = [
        item.nodeid
        for item in items
        if item.get_closest_marker("isolated") is not None
        and (STARTS_SOMETHING & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("worker"))
    ]
    if shared:
        raise pytest.UsageError("These tests are marked isolated but start something shared:\n" + "\n".join(shared))
