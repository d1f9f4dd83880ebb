"""`make run` pages through the real Notify client to the project's fake Notify, which supervisord starts as a
process of its own (deploy/supervisord.dev.conf): the Makefile's key, address and template reach the portal,
the same key reaches the fake, and a text sent with them is taken. The demo has a rota to page."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from notifications_python_client.notifications import NotificationsAPIClient

from rota.models import Shift
from rota.selectors import on_call_at
from tests.live import free_port, process_env

ROOT = Path(__file__).resolve().parents[2]


def make_run_exports() -> dict[str, str]:
    """What `make run` exports to supervisord, as make itself expands it (`make -n -p run`)."""
    database = subprocess.run(
        ["make", "-n", "-p", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    ).stdout
    makefile = (ROOT / "Makefile").read_text()
    exports = {}
    for name in ("FAKE_NOTIFY_PORT", "NOTIFY_API_KEY", "NOTIFY_BASE_URL", "NOTIFY_PAGE_TEMPLATE_ID"):
        assert f"run: export {name} " in makefile, f"make run does not export {name}"
        match = re.search(rf"^run: {name} := (.+)$", database, re.MULTILINE)
        assert match, f"make run gives {name} no value"
        exports[name] = match.group(1).strip()
    return exports


@pytest.mark.slow
def test_make_run_points_the_notify_client_at_the_fake_that_supervisord_starts_with_the_same_key() -> None:
    exports = make_run_exports()
    assert exports["NOTIFY_BASE_URL"] == f"http://127.0.0.1:{exports['FAKE_NOTIFY_PORT']}"
    config = configparser.RawConfigParser()
    config.read(ROOT / "deploy" / "supervisord.dev.conf")
    command = config.get("program:fakenotify", "command")
    assert "-m notify.fakenotify" in command
    assert '--port "${FAKE_NOTIFY_PORT' in command and '--key "${NOTIFY_API_KEY' in command

    # The fake as supervisord runs it, a process of its own, on a free port with make run's key.
    port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "notify.fakenotify", "--port", str(port), "--key", exports["NOTIFY_API_KEY"]],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base_url + "/_fake/requests", timeout=1).read()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        client = NotificationsAPIClient(exports["NOTIFY_API_KEY"], base_url=base_url)
        sent = client.send_sms_notification(
            phone_number="07700 900101", template_id=exports["NOTIFY_PAGE_TEMPLATE_ID"], reference="make-run"
        )
        assert client.get_notification_by_id(sent["id"])["status"] in {"created", "sending", "delivered"}
        # A key of another service is refused: the fake checks the token the client signs.
        other = "helplineother-" + exports["NOTIFY_API_KEY"].split("-", 1)[1][::-1]
        with pytest.raises(Exception, match="403|401|Invalid|token"):
            NotificationsAPIClient(other, base_url=base_url).send_sms_notification(
                phone_number="07700 900101", template_id=exports["NOTIFY_PAGE_TEMPLATE_ID"]
            )
    finally:
        fake.terminate()
        fake.wait(timeout=10)


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities", "fast_kdf")
def test_the_demo_has_a_week_of_cover_with_its_last_day_left_as_a_gap() -> None:
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # a second make run adds nothing
    assert Shift.objects.count() == 2
    on_call = on_call_at()
    assert on_call.primary is not None and on_call.primary.person.username == "handler"
    assert on_call.secondary is not None and on_call.secondary.person.username == "supervisor"
