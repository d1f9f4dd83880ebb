"""key_usage: whether anything still needs a key, with exit status 1 when something does."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core import crypto, throttle
from core.models import AccessThrottle
from reports.models import Report
from tests.factories import routed_case, submit_report
from tests.lifecycle.keyrings import Keys, configured_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def usage(*args: str) -> tuple[int, str]:
    """The command's exit status (what Django exits with for a CommandError) and what it printed."""
    out = io.StringIO()
    try:
        call_command("key_usage", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_an_old_helpline_key_is_needed_until_no_report_is_sealed_to_it(keys: Keys) -> None:
    submit_report()
    keys.helpline("new2", "new2", "old1")
    status, said = usage("--kind", "helpline", "--key-id", "old1")
    assert status == 1 and "helpline key old1: 1 reports not yet routed" in said
    call_command("rotate_helpline_key", "--to", "new2", "--no-progress", stdout=io.StringIO())
    assert usage("--kind", "helpline", "--key-id", "old1")[0] == 0
    # The key new reports are sealed to is always needed.
    status, said = usage("--kind", "helpline", "--key-id", "new2")
    assert status == 1 and "configured public key" in said


def test_a_custody_key_is_needed_until_it_is_retired_and_nothing_is_under_it(keys: Keys) -> None:
    old = Report.objects.get(pk=routed_case().report_id).custody_key_id
    status, said = usage("--kind", "custody", "--key-id", old)
    assert status == 1 and f"custody key {old}: 1 reports have their data key wrapped under it" in said
    call_command("rewrap_custody_key", "--from", old, "--no-progress", stdout=io.StringIO())
    status, said = usage("--kind", "custody", "--key-id", old)
    assert status == 0 and f"destroyed on {timezone.localdate():%-d %B %Y}" in said


def test_an_hmac_key_is_needed_for_hashes_made_with_it_but_not_for_throttle_counters(keys: Keys) -> None:
    submit_report(organisation_name="Oakwood Academy")
    throttle.throttle_failure(key=throttle.throttle_key("report-access", "R1", "c"), window_seconds=3600)
    keys.hmac("h1", "h0")
    status, said = usage("--kind", "hmac", "--key-id", "h0")
    assert status == 1 and "1 reports have an organisation hash made with it" in said
    call_command("rotate_hmac_key", "--to", "h1", "--no-progress", stdout=io.StringIO())
    status, said = usage("--kind", "hmac", "--key-id", "h0")
    assert status == 0 and "1 throttle counters were made with it: they simply expire" in said
    assert AccessThrottle.objects.get().key.startswith("h0:")


def test_every_key_asked_about_is_checked_and_any_one_needed_fails_the_check(keys: Keys) -> None:
    submit_report()
    keys.helpline("new2", "new2", "old1")
    status, said = usage("--key-id", "unknown9", "--key-id", "old1")
    assert status == 1 and "unknown9: nothing needs this key" in said and "Still needed: old1" in said


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_command_exits_with_status_1_while_a_key_is_needed_and_0_once_it_is_not() -> None:
    report = submit_report().report
    key_id = crypto.keyring().public_key_id
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "key_usage", "--kind", "helpline", "--key-id", key_id],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    needed = run()
    assert needed.returncode == 1, needed.stderr
    assert "reports not yet routed have their data key sealed to it" in needed.stdout
    Report.objects.filter(pk=report.pk).update(helpline_key_id="")
    # Still the public key new reports are sealed to: needed all the same.
    assert run().returncode == 1
    env["HELPLINE_PUBLIC_KEY"] = crypto.generate_key_material("other3")["public"]
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
