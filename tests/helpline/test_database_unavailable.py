"""A database that cannot be reached is a 503 with Retry-After, never a 500.

Every query fails here as it does while PostgreSQL restarts: ``database_away`` makes each statement raise
Django's ``OperationalError`` (savepoint statements still run, so the test's own transaction survives).
The real thing, a throwaway cluster restarted under load, is ``tests/faults/test_postgres_restart.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client

from accounts.models import User
from helpline.errors import LastResortErrorPage
from helpline.headers import PAGE_HEADERS
from tests.factories import sign_in, staff_with_mfa, valid_api_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

CANARY = "CANARY-sent-by-the-client"
# What psycopg says when the server is gone: it names the host, so it is never logged either.
REFUSED = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused CANARY-host'
UNAVAILABLE = "Sorry, the service is unavailable"
LOGGED = "Database unavailable (OperationalError): answered 503"


@pytest.fixture
def database_away(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Call it to make every query from then on raise ``error`` (OperationalError by default)."""

    def away(error: type[Exception] = OperationalError) -> None:
        real = CursorWrapper.execute

        def execute(self: CursorWrapper, sql: str, params: Any = None) -> Any:
            if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                return real(self, sql, params)
            raise error(REFUSED)

        monkeypatch.setattr(CursorWrapper, "execute", execute)

    return away


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record, Django's request logger included (it does not propagate to the root)."""
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        request_logger.removeHandler(caplog.handler)


def client() -> Client:
    # Django's test client re-raises an exception a view raised even when it was answered; a real server
    # sends the answer. This client sends the answer too.
    return Client(raise_request_exception=False)


def assert_one_clean_log_line(logged: pytest.LogCaptureFixture) -> None:
    messages = [record.getMessage() for record in logged.records]
    assert messages.count(LOGGED) == 1, messages
    assert not [record for record in logged.records if record.exc_info or record.exc_text], "no traceback"
    everything = "\n".join(messages)
    assert "CANARY" not in everything and "5432" not in everything
    assert not [record for record in logged.records if record.name == "django.request"], messages


def assert_unavailable_page(response: Any, *, retry_after: str = "30") -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == retry_after
    assert response["Content-Type"].startswith("text/html")
    for name, value in PAGE_HEADERS.items():
        assert response[name] == value, name
    page = response.content.decode()
    assert f'<h1 class="govuk-heading-l">{UNAVAILABLE}</h1>' in page
    assert "Try again in a few minutes" in page
    assert "If a child is in immediate danger, call 999." in page
    assert "Traceback" not in page and "CANARY" not in page and "OperationalError" not in page
    return page


def test_an_api_submission_gets_a_503_in_json_with_retry_after(database_away: Callable[..., None], logged) -> None:  # type: ignore[no-untyped-def]
    database_away()
    response = client().post(
        f"/api/v1/reports?q={CANARY}", valid_api_report(details=CANARY), content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": "The service is unavailable. Try again in a few minutes."}
    assert_one_clean_log_line(logged)


def test_an_api_read_gets_the_same_503(database_away: Callable[..., None], logged) -> None:  # type: ignore[no-untyped-def]
    database_away()
    response = client().get("/api/v1/local-authorities", {"postcode": "S60 2TH"})
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert response.json()["detail"].startswith("The service is unavailable.")
    assert_one_clean_log_line(logged)


def test_a_public_page_gets_the_service_unavailable_page(database_away: Callable[..., None], logged) -> None:  # type: ignore[no-untyped-def]
    database_away()
    response = client().post(
        f"/check?q={CANARY}", {"reference": "HX7K-29QM", "access_code": f"{CANARY} two three four five six seven"}
    )
    page = assert_unavailable_page(response)
    assert "send it again in a few minutes" in page
    assert '<a class="govuk-link" href="/">Go to the start page</a>' in page
    assert "/staff/" not in page
    assert_one_clean_log_line(logged)


def test_a_staff_page_whose_session_cannot_be_loaded_gets_the_staff_variant(
    database_away: Callable[..., None], logged
) -> None:  # type: ignore[no-untyped-def]
    # The session is loaded by a middleware, before any view: Django's 500 handler answers, not the view's.
    user, _ = staff_with_mfa("unavailable-supervisor", role=User.Role.SUPERVISOR)
    staff = client()
    sign_in(staff, user)
    database_away()
    response = staff.get("/staff/cases", {"q": CANARY})
    page = assert_unavailable_page(response)
    assert '<a class="govuk-link" href="/staff/">Go to your workspace</a>' in page
    assert "send it again" not in page
    assert_one_clean_log_line(logged)


def test_retry_after_is_configurable(database_away: Callable[..., None], settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATABASE_UNAVAILABLE_RETRY_AFTER = 120
    database_away()
    assert client().post("/check", {"reference": "HX7K-29QM", "access_code": "a b c d e f g"})["Retry-After"] == "120"
    assert client().get("/api/v1/local-authorities", {"postcode": "S60"})["Retry-After"] == "120"


def test_an_interface_error_is_the_same_503(database_away: Callable[..., None]) -> None:
    from django.db import InterfaceError

    database_away(InterfaceError)
    response = client().get("/api/v1/local-authorities", {"postcode": "S60 2TH"})
    assert (response.status_code, response["Retry-After"]) == (503, "30")


def test_a_broken_connection_is_closed_so_the_next_request_connects_afresh(
    database_away: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    connection.ensure_connection()
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    monkeypatch.setattr(connection, "close", lambda: closed.append(True))
    database_away()
    assert client().get("/api/v1/local-authorities", {"postcode": "S60 2TH"}).status_code == 503
    assert closed == [True]


def test_a_connection_that_still_works_is_kept(database_away: Callable[..., None], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    closed: list[bool] = []
    connection.ensure_connection()
    monkeypatch.setattr(connection, "close", lambda: closed.append(True))
    database_away()
    assert client().get("/api/v1/local-authorities", {"postcode": "S60 2TH"}).status_code == 503
    assert closed == []


def test_other_database_errors_are_still_a_500(database_away: Callable[..., None]) -> None:
    database_away(IntegrityError)
    response = client().get("/api/v1/local-authorities", {"postcode": "S60 2TH"})
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_healthz_keeps_its_own_answer(database_away: Callable[..., None]) -> None:
    database_away()
    response = client().get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "down"})
    assert "Retry-After" not in response


def test_an_unreachable_database_outside_django_is_the_static_503_page(settings, logged) -> None:  # type: ignore[no-untyped-def]
    settings.DATABASE_UNAVAILABLE_RETRY_AFTER = 45

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise OperationalError(REFUSED)

    sent: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        sent.update(status=status, headers=dict(headers))

    body = b"".join(LastResortErrorPage(broken)({"PATH_INFO": "/x", "QUERY_STRING": CANARY}, start_response))
    assert sent["status"] == "503 Service Unavailable"
    assert sent["headers"]["Retry-After"] == "45"
    assert int(sent["headers"]["Content-Length"]) == len(body)
    for name, value in PAGE_HEADERS.items():
        assert sent["headers"][name] == value, name
    assert UNAVAILABLE.encode() in body and b"999" in body and b"CANARY" not in body
    assert_one_clean_log_line(logged)
