"""The submission API's Idempotency-Key: a retried request never files a second report.

A retry with the same key and body answers 409 with the first report's reference (never its access code,
which is shown once); the same key with another body answers 422; the key and body are kept only as
keyed hashes, in a row whose expiry holds no trail of when the request came. Those answers go to whoever
sends the key, so the key must be one nobody else can guess: at least 128 random bits (a version 4 UUID,
or 22 to 128 base64url characters); anything else is a 400 naming the header. The key is never tied to
the client: its row holds nothing about who sent it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from core import crypto, throttle
from core.models import AccessThrottle
from reports import services
from reports.models import IdempotencyKey, Report
from tests.concurrency import at_once, hold_at_filing

pytestmark = pytest.mark.usefixtures("fast_kdf")


SUBMIT_API = "/api/v1/reports"
HEADER = "Idempotency-Key"
CANARY = "CANARY-idem-Qz4"


def valid_report(**overrides: Any) -> dict[str, Any]:
    """A complete anonymous report that names no council, so it needs no authority data."""
    body: dict[str, Any] = {
        "anonymity": "anonymous",
        "reporter_sector": "police",
        "concern_types": ["information_not_shared", "records_altered_or_suppressed"],
        "organisation_name": "Northside Academy",
        "summary": f"Records changed after a disclosure {CANARY}",
        "details": "A disclosure was recorded and later removed from the system.",
        "child_at_immediate_risk": False,
        "raised_internally": "yes",
        "internal_response": "Nothing happened.",
    }
    body.update(overrides)
    return body


def submit(client: Client, body: dict[str, Any], key: str | None) -> Any:
    headers = {HEADER: key} if key is not None else {}
    return client.post(SUBMIT_API, body, content_type="application/json", headers=headers)


def random_key(number: int) -> str:
    """A version 4 UUID, the same for the same number (a real client draws it at random)."""
    return str(uuid.UUID(int=number * 0x9E3779B97F4A7C15_F39CC0605CEDC834 % 2**128, version=4))


@pytest.mark.django_db
def test_the_same_key_and_body_again_answer_409_with_the_first_reference_only() -> None:
    client = Client(REMOTE_ADDR="127.0.0.61")
    first = submit(client, valid_report(), random_key(1))
    assert first.status_code == 201, first.json()
    again = submit(client, valid_report(), random_key(1))
    assert again.status_code == 409
    body = again.json()
    assert body["reference"] == first.json()["reference"]
    assert "access_code" not in body, "the access code is shown once only"
    assert first.json()["access_code"] not in again.content.decode()
    assert "Idempotency-Key" in body["detail"]
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_answers_422_and_files_nothing() -> None:
    client = Client(REMOTE_ADDR="127.0.0.62")
    assert submit(client, valid_report(), random_key(2)).status_code == 201
    other = submit(client, valid_report(details="Something else entirely."), random_key(2))
    assert other.status_code == 422
    assert "reference" not in other.json() and "access_code" not in other.json()
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_different_keys_file_different_reports_and_each_replays_its_own() -> None:
    client = Client(REMOTE_ADDR="127.0.0.63")
    first = submit(client, valid_report(), random_key(3))
    second = submit(client, valid_report(), random_key(4))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["reference"] != second.json()["reference"]
    assert submit(client, valid_report(), random_key(4)).json()["reference"] == second.json()["reference"]
    assert submit(client, valid_report(), random_key(3)).json()["reference"] == first.json()["reference"]
    # Without a key nothing is remembered: each request files a report.
    assert [submit(client, valid_report(), None).status_code for _ in range(2)] == [201, 201]
    assert Report.objects.count() == 4
    assert IdempotencyKey.objects.count() == 2


MALFORMED_KEYS = {
    "empty": "",
    "one character": "k",
    "guessable": "k1",
    "21 base64url characters": "A" * 21,
    "129 base64url characters": "A" * 129,
    "base64 with +": "abcdefghijklmnopqrstu+vw",
    "base64 with /": "abcdefghijklmnopqrstu/vw",
    "padded": "abcdefghijklmnopqrstuv==",
    "space": "abcdefghijk lmnopqrstuvw",
    "control": "abcdefghijk\tlmnopqrstuvw",
    "non-ascii": "abcdefghijklmnopqrstu\u00e9",
    "uuid version 1": "c232ab00-9414-11ec-b3c8-9e6bdeced846",
    "uuid version 7": "01890a5d-ac96-774b-bcce-b302099a8057",
    "uuid with braces": "{0b8f5cda-3c1e-4d7a-9f3e-5a1b2c3d4e5f}",
    "uuid as a urn": "urn:uuid:0b8f5cda-3c1e-4d7a-9f3e-5a1b2c3d4e5f",
}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(MALFORMED_KEYS.values()), ids=list(MALFORMED_KEYS))
def test_a_short_or_malformed_key_is_a_400_naming_the_header_before_anything_is_counted(key: str) -> None:
    response = submit(Client(REMOTE_ADDR="127.0.0.65"), valid_report(), key)
    assert response.status_code == 400
    assert list(response.json()) == [HEADER]
    assert "128 bits" in response.json()[HEADER][0]
    assert not Report.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert not AccessThrottle.objects.exists(), "a refused key takes nothing from the submission limit"


@pytest.mark.django_db
def test_a_malformed_key_and_a_malformed_body_are_refused_together() -> None:
    response = submit(Client(REMOTE_ADDR="127.0.0.65"), valid_report(summary=""), "k1")
    assert response.status_code == 400
    assert set(response.json()) == {HEADER, "summary"}


ACCEPTED_KEYS = {
    "uuid version 4": "0b8f5cda-3c1e-4d7a-9f3e-5a1b2c3d4e5f",
    "uuid version 4, capitals": "0B8F5CDA-3C1E-4D7A-9F3E-5A1B2C3D4E5F",
    "22 base64url characters": "Xq3_v-9LmP0aZ7bK2cR4dT",
    "128 base64url characters": "a-_Z" * 32,
    "43 base64url characters (256 bits)": "mK8Jx2Qv_7nL0pR4sT9uW3yZ6aC1eG5iH8kM2oQ-4rS",
}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(ACCEPTED_KEYS.values()), ids=list(ACCEPTED_KEYS))
def test_a_version_4_uuid_or_22_to_128_base64url_characters_are_accepted(key: str) -> None:
    client = Client(REMOTE_ADDR="127.0.0.66")
    assert submit(client, valid_report(), key).status_code == 201
    assert submit(client, valid_report(), key).status_code == 409, "the key was kept, not ignored"


@pytest.mark.django_db
def test_rows_from_two_addresses_differ_only_by_key_and_report(settings: Any) -> None:
    """Nothing about the client is kept with a key: two submissions of the same body, with different keys
    from different addresses, leave rows equal in every column but the key's hash and the report (read
    with SQL, so a column added later is compared too)."""
    settings.TIME_TRAIL_BUCKET_SECONDS = 15 * 60
    references = []
    with time_machine.travel(timezone.now(), tick=False):
        for address, key in (("127.0.0.71", random_key(9)), ("192.0.2.200", random_key(10))):
            response = submit(Client(REMOTE_ADDR=address), valid_report(), key)
            assert response.status_code == 201
            references.append(response.json()["reference"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {IdempotencyKey._meta.db_table}")  # noqa: S608 - our own table
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert set(columns) == {"key_hash", "request_hash", "report_id", "expires_at"}
    assert len(rows) == 2
    first, second = rows
    assert {name for name in columns if first[name] != second[name]} == {"key_hash", "report_id"}
    by_id = dict(Report.objects.filter(pk__in=[first["report_id"], second["report_id"]]).values_list("pk", "reference"))
    assert sorted(by_id.values()) == sorted(references)


@pytest.mark.django_db
def test_the_key_and_body_are_kept_only_as_keyed_hashes_with_a_bucketed_expiry(settings: Any) -> None:
    settings.TIME_TRAIL_BUCKET_SECONDS = 15 * 60
    key = "client-retry-5c2e9d-Qx7vL2mP"
    before = timezone.now()
    created = submit(Client(REMOTE_ADDR="127.0.0.67"), valid_report(), key)
    assert created.status_code == 201
    row = IdempotencyKey.objects.get()
    assert row.report.reference == created.json()["reference"]
    for kept in (row.key_hash, row.request_hash):
        assert kept != key and key not in kept and CANARY not in kept
    assert row.key_hash == services.Idempotency.of(key, valid_report()).key_hash, "a keyed hash of the key"
    expires = row.expires_at
    assert (expires.minute % 15, expires.second, expires.microsecond) == (0, 0, 0), "no trail of the request time"
    lifetime = timedelta(seconds=settings.IDEMPOTENCY_KEY_SECONDS)
    assert before + lifetime <= expires <= timezone.now() + lifetime + timedelta(minutes=15)


@pytest.mark.django_db
def test_a_replay_is_not_counted_against_the_submission_limit(settings: Any) -> None:
    settings.SUBMISSION_LIMIT = 1
    client = Client(REMOTE_ADDR="127.0.0.68")
    assert submit(client, valid_report(), random_key(5)).status_code == 201
    assert submit(client, valid_report(), random_key(5)).status_code == 409
    assert submit(client, valid_report(), random_key(5)).status_code == 409
    assert submit(client, valid_report(summary="Another"), random_key(5)).status_code == 422
    # The limit itself is in force: a new report is refused.
    assert submit(client, valid_report(), random_key(6)).status_code == 429
    assert Report.objects.count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_key_at_once_file_one_report(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SUBMISSION_LIMIT = 5
    address = "127.0.0.69"
    # Both requests are held where the report is about to be filed, so both have passed the check for an
    # earlier use of the key: the worst case of a client retrying before its first request has answered.
    hold_at_filing(monkeypatch)
    clients = [Client(REMOTE_ADDR=address) for _ in range(2)]
    responses = at_once(2, lambda index: submit(clients[index], valid_report(), random_key(7)))
    monkeypatch.undo()

    assert sorted(response.status_code for response in responses) == [201, 409]
    created = next(response for response in responses if response.status_code == 201).json()
    replay = next(response for response in responses if response.status_code == 409).json()
    assert replay["reference"] == created["reference"] and "access_code" not in replay
    assert Report.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    # The request that filed nothing gave its submission back.
    slot = throttle.throttle_key("report-submission", crypto.client_hash(address))
    assert AccessThrottle.objects.get(key=slot).failures == 1


@pytest.mark.django_db
def test_a_key_may_be_used_again_once_its_row_has_expired(settings: Any) -> None:
    client = Client(REMOTE_ADDR="127.0.0.70")
    first = submit(client, valid_report(), random_key(8))
    assert first.status_code == 201
    assert submit(client, valid_report(), random_key(8)).status_code == 409
    expired = IdempotencyKey.objects.get().expires_at + timedelta(seconds=1)
    with time_machine.travel(expired, tick=False):
        later = submit(client, valid_report(), random_key(8))
    assert later.status_code == 201, "an expired key that has not been purged yet files a new report"
    assert later.json()["reference"] != first.json()["reference"]
    assert Report.objects.count() == 2
    assert IdempotencyKey.objects.get().report.reference == later.json()["reference"]
