"""reports.drafts: a reporter's state between pages, sealed on the server with a key held only in their cookie."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core import crypto
from reports import drafts
from reports.models import Draft

pytestmark = pytest.mark.django_db

DRAFT = Draft.Purpose.DRAFT
FOLLOW_UP = Draft.Purpose.FOLLOW_UP
CANARY = "CANARY-draft-Vb8"
# 10:00 UTC on a winter day: a boundary of the 15-minute time-trail bucket.
BUCKET_BOUNDARY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
STATE: dict[str, object] = {"summary": f"{CANARY} summary", "concern_types": ["other"], "step": 3}


def request_with(cookies: dict[str, str] | None = None) -> HttpRequest:
    request = RequestFactory().get("/report/where")
    request.COOKIES.update(cookies or {})
    return request


def saved(state: dict[str, object], *, purpose: str = DRAFT, cookies: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse()
    drafts.state_save(request_with(cookies), response, purpose=purpose, state=state)
    return response


def cookies_of(response: HttpResponse) -> dict[str, str]:
    return {name: morsel.value for name, morsel in response.cookies.items()}


def loaded(cookies: dict[str, str], *, purpose: str = DRAFT) -> dict[str, object] | None:
    return drafts.state_load(request_with(cookies), purpose=purpose)


def split(cookie: str) -> tuple[str, bytes]:
    draft_id, _, key = cookie.partition(".")
    return draft_id, base64.urlsafe_b64decode(key)


def join(draft_id: str, key: bytes) -> str:
    return f"{draft_id}.{base64.urlsafe_b64encode(key).decode('ascii')}"


def test_a_saved_state_loads_back_from_the_cookie() -> None:
    response = saved(STATE)
    morsel = response.cookies["report_draft"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert not morsel["expires"] and not morsel["max-age"], "a browser-session cookie"
    assert loaded(cookies_of(response)) == STATE


def test_saving_again_with_the_cookie_replaces_the_same_row() -> None:
    first = cookies_of(saved(STATE))
    second = cookies_of(saved({"step": 4}, cookies=first))
    assert second == first
    assert Draft.objects.count() == 1
    assert loaded(second) == {"step": 4}


def test_each_purpose_has_its_own_cookie() -> None:
    response = saved({"unlocked": True}, purpose=FOLLOW_UP)
    cookies = cookies_of(response)
    assert set(cookies) == {"report_follow_up"}
    assert loaded(cookies, purpose=FOLLOW_UP) == {"unlocked": True}
    assert loaded(cookies, purpose=DRAFT) is None
    # The follow-up row, presented as a draft cookie, is not a draft either.
    assert loaded({"report_draft": cookies["report_follow_up"]}, purpose=DRAFT) is None


def test_no_cookie_loads_none() -> None:
    saved(STATE)
    assert loaded({}) is None


def test_a_wrong_key_loads_none() -> None:
    draft_id, key = split(cookies_of(saved(STATE))["report_draft"])
    flipped = bytes([key[0] ^ 1]) + key[1:]
    assert loaded({"report_draft": join(draft_id, flipped)}) is None
    assert loaded({"report_draft": join(draft_id, crypto.new_data_key())}) is None


def test_another_drafts_key_does_not_open_this_draft() -> None:
    mine_id, _ = split(cookies_of(saved(STATE))["report_draft"])
    _, their_key = split(cookies_of(saved({"step": 1}))["report_draft"])
    assert loaded({"report_draft": join(mine_id, their_key)}) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda draft_id, key: "",
        lambda draft_id, key: "garbage",
        lambda draft_id, key: f"{draft_id}.",
        lambda draft_id, key: f"{draft_id}.!!!not-base64!!!",
        lambda draft_id, key: join(draft_id, key[:-1]),
        lambda draft_id, key: join(draft_id, key + b"x"),
        lambda draft_id, key: join("not-a-uuid", key),
        lambda draft_id, key: join(uuid.uuid4().hex, key),
        lambda draft_id, key: f"{draft_id}.{base64.urlsafe_b64encode(key).decode()}é",
    ],
    ids=["empty", "garbage", "no key", "bad base64", "short key", "long key", "bad id", "unknown id", "non-ascii"],
)
def test_a_tampered_cookie_loads_none(tamper: Any) -> None:
    draft_id, key = split(cookies_of(saved(STATE))["report_draft"])
    assert loaded({"report_draft": tamper(draft_id, key)}) is None


def test_a_tampered_cookie_is_not_reused_to_save() -> None:
    cookies = cookies_of(saved(STATE))
    response = saved({"step": 1}, cookies={"report_draft": "garbage"})
    assert cookies_of(response)["report_draft"] != cookies["report_draft"]
    assert Draft.objects.count() == 2
    assert loaded(cookies) == STATE


def test_a_draft_expires_after_the_idle_time_and_saving_extends_it(settings: Any) -> None:
    settings.DRAFT_IDLE_SECONDS = 600
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    start = BUCKET_BOUNDARY  # expiries are rounded up to the next 15 minutes
    with time_machine.travel(start, tick=False) as traveller:
        cookies = cookies_of(saved(STATE))  # expires at 10:15
        traveller.move_to(start + timedelta(seconds=599))
        assert loaded(cookies) == STATE
        saved({"step": 5}, cookies=cookies)  # activity at 10:09:59: idle time starts again, to 10:30
        traveller.move_to(start + timedelta(minutes=30) - timedelta(microseconds=1))
        assert loaded(cookies) == {"step": 5}
        traveller.move_to(start + timedelta(minutes=30))
        assert loaded(cookies) is None


def test_a_draft_expiry_holds_no_trail_of_the_page_view(settings: Any) -> None:
    settings.DRAFT_IDLE_SECONDS = 600
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    with time_machine.travel(BUCKET_BOUNDARY + timedelta(minutes=3, seconds=42, microseconds=123456), tick=False):
        cookies = cookies_of(saved(STATE))
    row = Draft.objects.get(pk=split(cookies["report_draft"])[0])
    assert row.expires_at == BUCKET_BOUNDARY + timedelta(minutes=15)


def test_clearing_deletes_the_row_and_the_cookie() -> None:
    cookies = cookies_of(saved(STATE))
    other = cookies_of(saved({"step": 1}))
    response = HttpResponse()
    drafts.state_clear(request_with(cookies), response, purpose=DRAFT)
    draft_id, _ = split(cookies["report_draft"])
    assert not Draft.objects.filter(pk=draft_id).exists()
    assert Draft.objects.count() == 1, "only this reporter's draft is deleted"
    morsel = response.cookies["report_draft"]
    assert morsel.value == "" and morsel["max-age"] == 0
    assert loaded(cookies) is None
    assert loaded(other) == {"step": 1}


def test_clearing_without_a_cookie_still_deletes_the_cookie() -> None:
    saved(STATE)
    response = HttpResponse()
    drafts.state_clear(request_with(), response, purpose=DRAFT)
    assert response.cookies["report_draft"]["max-age"] == 0
    assert Draft.objects.count() == 1


def test_the_server_row_holds_only_ciphertext_and_never_the_key() -> None:
    cookies = cookies_of(saved(STATE))
    draft_id, key = split(cookies["report_draft"])
    row = Draft.objects.get(pk=draft_id)
    assert {field.name for field in Draft._meta.get_fields()} == {"id", "purpose", "ciphertext", "expires_at"}
    ciphertext = bytes(row.ciphertext)
    assert CANARY.encode() not in ciphertext and b"summary" not in ciphertext
    assert key not in ciphertext and base64.urlsafe_b64encode(key) not in ciphertext
    assert crypto.open_content(key, ciphertext) == STATE


def test_purge_drops_expired_rows_only(settings: Any) -> None:
    settings.DRAFT_IDLE_SECONDS = 600
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    start = BUCKET_BOUNDARY
    with time_machine.travel(start, tick=False) as traveller:
        old = cookies_of(saved(STATE))  # expires at 10:15
        traveller.move_to(start + timedelta(seconds=360))
        fresh = cookies_of(saved({"step": 1}))  # expires at 10:30
        traveller.move_to(start + timedelta(minutes=15))
        assert drafts.drafts_purge() == 1
        assert not Draft.objects.filter(pk=split(old["report_draft"])[0]).exists()
        assert loaded(fresh) == {"step": 1}
