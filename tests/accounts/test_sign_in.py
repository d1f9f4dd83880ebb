import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from accounts import services
from accounts.models import SealedTOTPDevice, User
from audit import keys as audit_keys
from core import crypto
from tests.factories import PASSWORD, sign_in, staff_with_mfa

pytestmark = pytest.mark.django_db


def current_code(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=True)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def refused_shown(client: Client, response: Any, page: str) -> Any:
    """Post/redirect/get: a refused sign-in step redirects to its own page, whose GET shows why."""
    if response.status_code == 302 and response["Location"] == page:
        return client.get(page)
    return response


def password_step(client: Client, username: str, password: str = PASSWORD) -> Any:
    response = client.post("/staff/sign-in", {"username": username, "password": password})
    return refused_shown(client, response, "/staff/sign-in")


def code_step(client: Client, code: str) -> Any:
    return refused_shown(client, client.post("/staff/sign-in/code", {"code": code}), "/staff/sign-in/code")


def test_staff_need_a_password_and_a_code_to_reach_the_workspace() -> None:
    user, _ = staff_with_mfa("handler")
    client = Client()
    assert client.get("/staff/").status_code == 302
    response = password_step(client, "handler")
    assert response["Location"] == "/staff/sign-in/code"
    assert client.get("/staff/").status_code == 302, "a password alone must not open the workspace"
    assert code_step(client, current_code(user)).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_a_code_cannot_be_used_twice() -> None:
    user, _ = staff_with_mfa("handler")
    first, second = Client(), Client()
    password_step(first, "handler")
    code = current_code(user)
    assert code_step(first, code).status_code == 302
    password_step(second, "handler")
    replay = code_step(second, code)
    assert replay.status_code == 400
    assert "already been used" in replay.content.decode()


def test_a_recovery_code_works_once() -> None:
    user, _ = staff_with_mfa("handler")
    codes = services.recovery_codes_issue(user=user)
    first = Client()
    password_step(first, "handler")
    assert code_step(first, codes[0]).status_code == 302
    second = Client()
    password_step(second, "handler")
    assert code_step(second, codes[0]).status_code == 400


def test_a_password_alone_never_reaches_enrolment() -> None:
    """Anyone with the password of an account that never enrolled used to be able to enrol it."""
    User.objects.create_user("newbie", password=PASSWORD, role=User.Role.CALL_HANDLER)
    client = Client()
    response = password_step(client, "newbie")
    assert response.status_code == 403
    assert b"invitation link" in response.content
    assert b"totp-secret" not in response.content
    assert not SealedTOTPDevice.objects.exists()
    assert client.get("/staff/sign-in/code").status_code == 302  # no half-signed-in session either


def test_failed_sign_ins_are_throttled_per_username_and_address_only() -> None:
    staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(5):
        assert password_step(attacker, "supervisor", "wrong password!").status_code == 400
    assert password_step(attacker, "supervisor").status_code == 429
    assert password_step(Client(REMOTE_ADDR="10.1.1.1"), "supervisor")["Location"] == "/staff/sign-in/code"


def test_wrong_codes_count_towards_the_throttle() -> None:
    staff_with_mfa("handler")
    client = Client(REMOTE_ADDR="10.9.9.9")
    password_step(client, "handler")
    for _ in range(5):
        code_step(client, "000000")
    assert code_step(client, "000000").status_code == 429


def test_a_session_ends_after_30_idle_minutes() -> None:
    user, _ = staff_with_mfa("handler")
    client = Client()
    sign_in(client, user)
    assert client.get("/staff/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29), tick=False):
        assert client.get("/staff/").status_code == 200  # 29 idle minutes: still signed in
        idle_from = time.time()  # the middleware reads time.time(), which time-machine moves too
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31), tick=False):
        assert time.time() - idle_from > 30 * 60
        response = client.get("/staff/")
        assert response.status_code == 302
        assert response["Location"] == "/staff/sign-in"
    # Signed out for good, and told why on the sign-in page.
    assert client.get("/staff/").status_code == 302
    assert "signed out" in client.get("/staff/sign-in").content.decode().lower()


def test_a_session_ends_after_12_hours_even_when_active() -> None:
    user, _ = staff_with_mfa("handler")
    client = Client()
    sign_in(client, user)
    start = timezone.now()
    for minutes in range(25, 12 * 60, 25):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/staff/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        assert client.get("/staff/").status_code == 302


def test_disabling_a_user_ends_their_sessions_at_once() -> None:
    user, _ = staff_with_mfa("handler")
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    client = Client()
    sign_in(client, user)
    services.user_disable(user=user, acting_user=supervisor)
    assert client.get("/staff/").status_code == 302


def test_demo_users_cannot_sign_in_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    staff_with_mfa("demo", is_demo=True)
    crypto.keyring()  # the development keys, loaded before this process pretends to be production
    settings.AUDIT_MAC_KEY = audit_keys.b64(audit_keys.mac_key())
    settings.PRODUCTION = True
    assert password_step(Client(), "demo").status_code == 400


def test_a_refused_password_is_never_written_back_into_the_page() -> None:
    staff_with_mfa("handler")
    response = password_step(Client(), "handler", "my secret pass phrase")
    assert response.status_code == 400
    assert b"my secret pass phrase" not in response.content


def test_a_refused_sign_in_is_shown_after_a_redirect_so_back_never_resends_it() -> None:
    staff_with_mfa("handler")
    client = Client()
    response = client.post("/staff/sign-in", {"username": "handler", "password": "my secret pass phrase"})
    assert (response.status_code, response["Location"]) == (302, "/staff/sign-in")
    page = client.get("/staff/sign-in")
    assert page.status_code == 400
    body = page.content.decode()
    assert "Enter a correct username and password" in body
    assert 'value="handler"' in body, "the username is kept"
    assert "my secret pass phrase" not in body
    assert "Enter your password" not in body, "the password was given: it is not kept, but not missing either"
    assert client.get("/staff/sign-in").status_code == 200, "shown once"

    password_step(client, "handler")
    response = client.post("/staff/sign-in/code", {"code": "000000"})
    assert (response.status_code, response["Location"]) == (302, "/staff/sign-in/code")
    page = client.get("/staff/sign-in/code")
    assert page.status_code == 400
    assert "The security code is wrong" in page.content.decode()


@pytest.mark.parametrize("role", [User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER, User.Role.ADMINISTRATOR])
def test_signing_out_is_confirmed_on_a_page_of_its_own_once(role: str) -> None:
    user, _ = staff_with_mfa("leaving", role=role)
    client = Client()
    sign_in(client, user)
    response = client.post("/staff/sign-out", follow=True)
    assert response.redirect_chain == [("/staff/signed-out", 302)]
    assert response.status_code == 200
    page = response.content.decode()
    assert "You have signed out" in page and 'href="/staff/sign-in"' in page
    assert "Sign out leaving" not in page  # nobody is signed in any more
    assert client.get("/staff/").status_code == 302
    # Shown once: afterwards the address is the sign-in page, and it never says so to someone signed in.
    assert client.get("/staff/signed-out")["Location"] == "/staff/sign-in"
    assert Client().get("/staff/signed-out")["Location"] == "/staff/sign-in"
    sign_in(client, user)
    assert client.get("/staff/signed-out")["Location"] == "/staff/sign-in"
