"""A fake GOV.UK Notify of the project's own, for the tests and `make run`: loopback only, stdlib http.server.

It checks what Notify checks of every call: a bearer JWT signed HS256 with the secret part of the API key,
whose ``iss`` is the service id and whose ``iat`` is within 30 seconds of now. It implements
``POST /v2/notifications/sms`` and ``GET /v2/notifications/{id}``, and records every request so tests assert
on the real HTTP calls:

- ``GET /_fake/requests``: what was asked, in order (method, path, JSON body, whether the token was good);
- ``POST /_fake/mode`` with ``{"mode": "ok" | "fail" | "permanent-failure"}``: answer sends with a 500, or
  report every text as "permanent-failure" when asked its status; ``{"mode": "reset"}`` forgets everything.

    python -m notify.fakenotify --port 8025 --key <the NOTIFY_API_KEY the service uses>
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

# The page's template text (notify.sms.PAGE_TEXT), for whichever template id is asked for.
DEFAULT_BODY = "Urgent concern waiting — sign in to the helpline workspace"
TOKEN_BOUND_SECONDS = 30
_STATUS_PATH = re.compile(r"^/v2/notifications/([0-9a-f-]{36})$")


def key_parts(api_key: str) -> tuple[str, str]:
    """(service id, secret) of a Notify API key "name-{service id}-{secret}" (each a 36-character UUID)."""
    if len(api_key) < 74:
        raise ValueError("not a Notify API key")
    return api_key[-73:-37], api_key[-36:]


@dataclass
class FakeState:
    service_id: str
    secret: str
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def token_error(state: FakeState, header: str) -> str:
    """Why the Authorization header is refused, or "" when it is good."""
    if not header.startswith("Bearer "):
        return "missing bearer token"
    try:
        claims = jwt.decode(
            header[len("Bearer ") :],
            key=state.secret,
            algorithms=["HS256"],
            options={"require": ["iss", "iat"], "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        return f"invalid token: {type(error).__name__}"
    if claims.get("iss") != state.service_id:
        return "invalid token: unknown issuer"
    if abs(time.time() - float(claims["iat"])) > TOKEN_BOUND_SECONDS:
        return "invalid token: iat is not recent"
    return ""


def handler_for(state: FakeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass  # quiet: requests are recorded, not logged

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _error(self, status: int, kind: str, message: str) -> None:
            self._answer(status, {"status_code": status, "errors": [{"error": kind, "message": message}]})

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/_fake/requests":
                with state.lock:
                    self._answer(200, {"requests": list(state.requests), "mode": state.mode})
                return
            self._api("GET", None)

        def do_POST(self) -> None:  # noqa: N802
            body = self._body()
            if self.path == "/_fake/mode":
                mode = body.get("mode") if isinstance(body, dict) else None
                if mode not in {"ok", "fail", "permanent-failure", "reset"}:
                    self._error(400, "BadRequestError", "mode is one of ok, fail, permanent-failure, reset")
                    return
                with state.lock:
                    if mode == "reset":
                        state.requests.clear()
                        state.texts.clear()
                        state.mode = "ok"
                    else:
                        state.mode = mode
                self._answer(200, {"mode": state.mode})
                return
            self._api("POST", body)

        def _api(self, method: str, body: Any) -> None:
            refused = token_error(state, self.headers.get("Authorization", ""))
            with state.lock:
                state.requests.append({"method": method, "path": self.path, "json": body, "authorised": not refused})
                mode = state.mode
            if refused:
                self._error(403, "AuthError", refused)
                return
            if method == "POST" and self.path == "/v2/notifications/sms":
                self._send_sms(body, mode)
                return
            match = _STATUS_PATH.match(self.path) if method == "GET" else None
            if match is None:
                self._error(404, "NotFound", "no such endpoint in the fake")
                return
            with state.lock:
                text = state.texts.get(match[1])
                if text is not None and mode == "permanent-failure":
                    text["status"] = "permanent-failure"
                elif text is not None and text["status"] == "sending":
                    text["status"] = "delivered"
            if text is None:
                self._error(404, "NoResultFound", "No result found")
                return
            self._answer(200, text)

        def _send_sms(self, body: Any, mode: str) -> None:
            if mode == "fail":
                self._error(500, "Exception", "Internal server error")
                return
            if not isinstance(body, dict) or not body.get("phone_number") or not body.get("template_id"):
                self._error(400, "ValidationError", "phone_number and template_id are required")
                return
            text_id = str(uuid.uuid4())
            text = {
                "id": text_id,
                "reference": body.get("reference"),
                "phone_number": body["phone_number"],
                "type": "sms",
                "status": "permanent-failure" if mode == "permanent-failure" else "sending",
                "template": {"id": body["template_id"], "version": 1},
                "body": DEFAULT_BODY,
            }
            with state.lock:
                state.texts[text_id] = text
            self._answer(
                201,
                {
                    "id": text_id,
                    "reference": body.get("reference"),
                    "content": {"body": DEFAULT_BODY, "from_number": "HELPLINE"},
                    "uri": f"/v2/notifications/{text_id}",
                    "template": {"id": body["template_id"], "version": 1, "uri": ""},
                },
            )

    return Handler


def fake_server(api_key: str, port: int = 0) -> tuple[ThreadingHTTPServer, FakeState]:
    """A fake Notify on 127.0.0.1:``port`` (0: a free port) accepting tokens of ``api_key``; not yet serving."""
    service_id, secret = key_parts(api_key)
    state = FakeState(service_id=service_id, secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(state))
    server.daemon_threads = True
    return server, state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake GOV.UK Notify on loopback (SMS only)")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--key", required=True, help="the API key the service signs its tokens with")
    args = parser.parse_args(argv)
    server, _ = fake_server(args.key, args.port)
    print(f"fake Notify on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
