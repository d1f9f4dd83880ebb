"""Members of staff for the page benchmarks: an account with a password and a fresh authenticator (made with
Django in the benchmark's own process), and a browser that signs in with both and then requests pages."""

from __future__ import annotations

import http.client
import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from directory.models import Partnership

PASSWORD = "bench-staff-password-not-secret"  # noqa: S105 - bench-only users in bench-only databases
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def region_partnership(region: str) -> Partnership:
    """A safeguarding partnership covering every authority of ``region`` (the benchmarks' stand-in for the
    region-wide board they measured before partnerships), made once."""
    from directory.models import LocalAuthority, Partnership

    partnership, _ = Partnership.objects.get_or_create(name=f"{region} (benchmark)")
    partnership.authorities.set(LocalAuthority.objects.filter(region=region))
    return partnership


def staff_account(username: str, role: str, *, partnership_region: str = "", password: str = PASSWORD) -> bytes:
    """A member of staff with this password and a brand-new confirmed authenticator; its key. Django must
    be set up in this process, on the benchmark's database. ``partnership_region``: a partnership member's
    partnership covers that region's authorities."""
    from accounts.models import SealedTOTPDevice, User
    from accounts.services import totp_device_create

    partnership = region_partnership(partnership_region) if partnership_region else None
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "email": ""})
    user.role = role
    user.partnership = partnership
    user.is_active = True
    user.set_password(password)
    user.save()
    # A fresh device each run: TOTP refuses a code from a time step it has already accepted.
    SealedTOTPDevice.objects.filter(user=user).delete()
    device = totp_device_create(user=user, name="bench", confirmed=True)
    return bytes(device.bin_key)


def totp_code(key: bytes) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(key).token():06d}"


class Browser:
    """One signed-in client: cookies, the CSRF token, one http.client connection (reopened as needed)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, url, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, response.headers.get("Location", "")

    def sign_in(self, username: str, key: bytes, *, landing: str, password: str = PASSWORD) -> None:
        """Password, then the authenticator's code; then ``landing`` must answer 200."""
        self.request("GET", "/staff/sign-in")
        status, body, location = self.request("POST", "/staff/sign-in", {"username": username, "password": password})
        if status != 302:
            raise RuntimeError(f"{username}: the password step answered {status}: {body[:300]!r}")
        self.request("GET", location)
        status, body, location = self.request("POST", "/staff/sign-in/code", {"code": totp_code(key)})
        if status != 302:
            raise RuntimeError(f"{username}: the code step answered {status}: {body[:300]!r}")
        status, body, _ = self.request("GET", landing)
        if status != 200:
            raise RuntimeError(f"{username}: {landing} answered {status} after signing in")
