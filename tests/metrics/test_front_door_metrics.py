"""The metrics are for the internal network only: gunicorn serves /internal/metrics with the token, and the front
door (deploy/nginx, as `make run` and docker-compose start it) answers 404 for /internal/ however it is spelled,
token or not, without passing the request on."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import live

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# tests/conftest.py does not load tests/live.py's front-door fixtures.
proxy_pages = live.proxy_pages

TOKEN = "front-door-metrics-token-0123456789"  # noqa: S105
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stack(tmp_path: Path, proxy_pages: Path, local_authorities: None) -> Iterator[tuple[str, live.FrontDoor]]:
    base_url, server = live.start_gunicorn(tmp_path / "gunicorn.log", METRICS_TOKEN=TOKEN)
    try:
        nginx = live.start_nginx(tmp_path, base_url.removeprefix("http://"), proxy_pages)
        try:
            yield base_url, nginx
        finally:
            nginx.stop()
    finally:
        server.stop()


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}", **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_gunicorn_serves_the_metrics_and_the_front_door_refuses_them(stack: tuple[str, live.FrontDoor]) -> None:
    base_url, nginx = stack
    gunicorn_port = int(base_url.rsplit(":", 1)[1])
    status, body = get(gunicorn_port, "/internal/metrics", AUTH)
    assert status == 200 and b"# TYPE helpline_cases gauge" in body, body[:300]
    assert get(gunicorn_port, "/internal/metrics", {})[0] == 404

    for path in ("/internal/metrics", "//internal/metrics", "/%69nternal/metrics", "/internal/./metrics", "/internal/"):
        status, body = get(nginx.port, path, AUTH)
        assert status == 404 and b"helpline_" not in body, (path, status, body[:200])
    # The rest of the site still passes through.
    assert get(nginx.port, "/healthz", {})[0] == 200
