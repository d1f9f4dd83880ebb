"""rotate_helpline_key: every helpline-sealed data key re-sealed to the new key pair, in batches that resume."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from core import crypto, keystore
from lifecycle.rotation import helpline_rotate_batch
from reports.models import Report
from reports.services import report_unlock
from tests.factories import submit_report
from tests.lifecycle.keyrings import Keys, configured_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def rotate(*args: str) -> None:
    call_command("rotate_helpline_key", "--to", "new2", "--no-progress", *args)


def sealed_to() -> dict[int, str]:
    return dict(Report.objects.order_by("pk").values_list("pk", "helpline_key_id"))


def test_every_unrouted_report_is_resealed_to_the_new_key_and_opens_without_the_old_one(keys: Keys) -> None:
    sent = [submit_report(summary=f"Concern {n}") for n in range(3)]
    wraps = {r.pk: bytes(r.reporter_wrapped_key) for r in Report.objects.all()}
    keys.helpline("new2", "new2", "old1")

    rotate("--batch-size", "2")

    assert set(sealed_to().values()) == {"new2"}
    # The old private key goes; staff and each reporter still open every report, the reporter's wrap untouched.
    keys.helpline("new2", "new2")
    for n, submitted in enumerate(sent):
        report = Report.objects.get(pk=submitted.report.pk)
        assert bytes(report.reporter_wrapped_key) == wraps[report.pk]
        assert crypto.open_content(keystore.data_key_of(report), bytes(report.content))["summary"] == f"Concern {n}"
        _, key = report_unlock(reference=report.reference, access_code=submitted.access_code, client="c")
        assert key == keystore.data_key_of(report)


def test_a_run_stopped_after_one_batch_goes_on_where_it_stopped_and_a_further_run_changes_nothing(
    keys: Keys,
) -> None:
    ids = [submit_report().report.pk for _ in range(5)]
    keys.helpline("new2", "new2", "old1")

    rotate("--batch-size", "2", "--max-batches", "1")
    assert sealed_to() == {pk: "new2" if pk in ids[:2] else "old1" for pk in ids}

    shown = io.StringIO()
    call_command("rotate_helpline_key", "--to", "new2", "--batch-size", "2", stderr=shown, stdout=io.StringIO())
    assert set(sealed_to().values()) == {"new2"}
    # The progress bar counted the three left (on a terminal it redraws; here it prints its last state).
    assert "Re-sealing to helpline key new2" in shown.getvalue() and "3/3" in shown.getvalue()
    before = {r.pk: bytes(r.helpline_sealed_key) for r in Report.objects.all()}
    rotate()
    assert {r.pk: bytes(r.helpline_sealed_key) for r in Report.objects.all()} == before


def test_a_batch_killed_part_way_leaves_every_row_of_it_as_it_was(keys: Keys, monkeypatch: Any) -> None:
    for _ in range(3):
        submit_report()
    keys.helpline("new2", "new2", "old1")
    before = {r.pk: bytes(r.helpline_sealed_key) for r in Report.objects.all()}
    seal = crypto.seal_key_for_helpline
    calls = []

    def killed_at_the_second(data_key: bytes) -> tuple[str, bytes]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return seal(data_key)

    monkeypatch.setattr(crypto, "seal_key_for_helpline", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        helpline_rotate_batch(to_key_id="new2", after=0, size=10)
    assert set(sealed_to().values()) == {"old1"}
    assert {r.pk: bytes(r.helpline_sealed_key) for r in Report.objects.all()} == before


def test_routed_reports_have_no_helpline_copy_to_reseal(keys: Keys) -> None:
    from triage.intake import report_route

    report_route(report_id=submit_report().report.pk)
    keys.helpline("new2", "new2", "old1")
    rotate()
    assert sealed_to() == {Report.objects.get().pk: ""}


def test_the_rotation_refuses_until_new_reports_go_to_the_new_key(keys: Keys) -> None:
    submit_report()
    keys.helpline("old1", "old1", "new2")
    with pytest.raises(CommandError, match="HELPLINE_PUBLIC_KEY is key 'old1'"):
        rotate()
    # A public key whose private half is another key's: sealing to it would lock staff out.
    keys.settings.HELPLINE_PUBLIC_KEY = keys.pair("new2")["public"]
    keys.settings.HELPLINE_PRIVATE_KEYS = "new2:" + keys.pair("old1")["private"].split(":", 1)[1]
    crypto.keyring.cache_clear()
    with pytest.raises(CommandError, match="not a pair"):
        rotate()
    assert set(sealed_to().values()) == {"old1"}


@pytest.mark.django_db(transaction=True)
def test_a_row_routing_holds_is_skipped_without_waiting_and_taken_by_the_next_batch(keys: Keys) -> None:
    first, second = (submit_report().report.pk for _ in range(2))
    keys.helpline("new2", "new2", "old1")
    locked, release = threading.Event(), threading.Event()

    def routing_holds_the_row() -> None:
        try:
            with transaction.atomic():
                Report.objects.select_for_update().get(pk=first)
                locked.set()
                release.wait()
        finally:
            connections.close_all()

    holder = threading.Thread(target=routing_holds_the_row)
    holder.start()
    with connection.cursor() as cursor:
        # Were the batch to wait for the row instead of skipping it, the test fails rather than hangs.
        cursor.execute("SET lock_timeout = '10s'")
    try:
        assert locked.wait(30)
        batch = helpline_rotate_batch(to_key_id="new2", after=0, size=10)
    finally:
        release.set()
        holder.join()
    assert batch.done == 1 and sealed_to() == {first: "old1", second: "new2"}
    helpline_rotate_batch(to_key_id="new2", after=0, size=10)
    assert sealed_to() == {first: "new2", second: "new2"}
