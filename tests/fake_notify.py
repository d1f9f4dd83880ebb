"""The project's fake GOV.UK Notify (notify/fakenotify.py) on a free loopback port, in a thread of the test
process, with the settings pointed at it. Tests read what it was asked (real HTTP calls) and set its mode."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from notify.fakenotify import fake_server

API_KEY = "helplinetest-26ca1d2c-5b1e-4b8e-9a3e-0f7f4a3c2d11-8d0b0c3e-6f0e-4d35-9b44-7b1f8a6e2c90"
PAGE_TEMPLATE_ID = "4f2a6c1e-0b7d-4d8e-9a21-53c0e2b1a7f4"


@dataclass
class FakeNotify:
    base_url: str

    def _call(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback server
            return json.loads(response.read())

    def requests(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_fake/requests")["requests"])

    def sent(self) -> list[dict[str, Any]]:
        """The texts asked for, as their JSON bodies (accepted or not)."""
        return [r["json"] for r in self.requests() if r["method"] == "POST" and r["path"] == "/v2/notifications/sms"]

    def mode(self, mode: str) -> None:
        self._call("POST", "/_fake/mode", {"mode": mode})


@pytest.fixture
def fake_notify(settings: Any) -> Iterator[FakeNotify]:
    server, _ = fake_server(API_KEY)
    thread = threading.Thread(target=server.serve_forever, name="fake-notify", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_BASE_URL = base_url
    settings.NOTIFY_PAGE_TEMPLATE_ID = PAGE_TEMPLATE_ID
    try:
        yield FakeNotify(base_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
