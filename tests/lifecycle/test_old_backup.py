"""Shredding that reaches old backups (issue 26): a backup taken before the schedule destroyed a case, restored
without re-applying the shred log, still opens nothing of that case once its epoch key is destroyed, while a
case on legal hold in it still opens.

It fails if the epoch key is not destroyed (its wrap in the backup would open) or if a routed report kept its
copy of the data key sealed to the long-lived helpline key (that copy would open with the escrowed key).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import nacl.exceptions
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from nacl.public import SealedBox

from core import crypto, keystore
from lifecycle import shredlog
from lifecycle.restore import _pg_restore, keys_reapply, target_database, target_from_url
from lifecycle.schedule import retention_apply
from reports.checks import missing_private_key_ids
from reports.models import Report
from tests.factories import staff_user, submit_report
from tests.lifecycle.backup_kit import drop_database, lifecycle_paths, new_database  # noqa: F401 - a fixture
from tests.live import authorities_committed, test_broker  # noqa: F401 - fixtures
from triage import retention
from triage.case_actions import case_close
from triage.case_content import case_open
from triage.intake import report_route
from triage.models import Case, Outcome

pytestmark = [
    pytest.mark.slow,  # pg_dump, pg_restore and a database made and dropped
    pytest.mark.django_db(transaction=True),  # pg_dump reads what is committed
    pytest.mark.usefixtures("fast_kdf", "authorities_committed", "lifecycle_paths", "test_broker"),
]


@pytest.fixture
def restore_target() -> Iterator[str]:
    url = new_database()
    try:
        yield url
    finally:
        drop_database(url)


def closed_long_ago(summary: str, supervisor: Any) -> Case:
    """A case closed with "no further action" so long ago that it was due for destruction yesterday: its data
    key is under this month's epoch key."""
    case = report_route(report_id=submit_report(summary=summary).report.pk)
    case_close(case=case, outcome=Outcome.NO_FURTHER_ACTION, feedback="Thank you.", acting_user=supervisor)
    months = retention.period_months(Outcome.NO_FURTHER_ACTION)
    first_of_this_month = timezone.localdate().replace(day=1)
    closed_on = retention.add_months(first_of_this_month - timedelta(days=1), -months).replace(day=1)
    Case.objects.filter(pk=case.pk).update(
        closed_at=timezone.make_aware(timezone.datetime.combine(closed_on, timezone.datetime.min.time()))
    )
    case = Case.objects.get(pk=case.pk)
    with transaction.atomic():
        retention.rehome(case)
    return Case.objects.get(pk=case.pk)


def every_key(settings: Any) -> list[bytes]:
    folder = keystore.key_folder()
    stored = keystore.FolderKeyStore(folder)
    return [stored.load(path.stem) or b"" for path in Path(folder).glob("*.key")]


def test_an_old_backup_opens_nothing_of_a_destroyed_case_but_still_opens_a_held_one(
    tmp_path: Path, restore_target: str, settings: Any
) -> None:
    supervisor = staff_user()
    gone = closed_long_ago("The rota was changed after the visit", supervisor)
    kept = closed_long_ago("Records of the strategy meeting went missing", supervisor)
    epoch = Report.objects.get(pk=gone.report_id).custody_key_id
    assert epoch == keystore.epoch_key_id(timezone.localdate())
    assert Report.objects.get(pk=kept.report_id).custody_key_id == epoch  # the same month
    with transaction.atomic():
        retention.hold_place(
            case=kept, basis="inquiry_notice", reason="Notice under section 21", acting_user=supervisor
        )
    assert Report.objects.get(pk=kept.report_id).custody_key_id == keystore.held_key_id()

    call_command("backup", out=tmp_path / "backup")
    gone_reference = Report.objects.get(pk=gone.report_id).reference
    kept_reference = Report.objects.get(pk=kept.report_id).reference

    # The schedule destroys the other case, then, once the month is over, its month's epoch key.
    next_month = keystore.epoch_month_end(epoch) + timedelta(days=1)
    run = retention_apply(today=next_month)
    assert run is not None and run.destroyed == 1 and run.epochs_destroyed == 1
    with pytest.raises(keystore.KeyDestroyed):
        keystore.load(epoch)

    # The old backup, restored into a fresh database with pg_restore alone: the shred log is NOT re-applied.
    target = target_from_url(restore_target)
    _pg_restore(tmp_path / "backup", target)
    with target_database(target):
        old = Report.objects.get(reference=gone_reference)
        assert old.content_destroyed_on is None and bytes(old.content)  # the backup still holds it...
        assert old.custody_key_id == epoch and not old.helpline_key_id and not bytes(old.helpline_sealed_key)
        with pytest.raises(crypto.KeyUnavailable):
            keystore.data_key_of(old)
        # ...and no key the service still holds opens its wraps: not a custody key, not a helpline private key.
        for key in every_key(settings):
            with pytest.raises((nacl.exceptions.CryptoError, ValueError, TypeError)):
                crypto.open_key_with(key, bytes(old.custody_wrapped_key))
        for private in crypto.keyring().private_keys.values():
            with pytest.raises((nacl.exceptions.CryptoError, ValueError, TypeError)):
                SealedBox(private).decrypt(bytes(old.helpline_sealed_key))
        # The service would refuse to start on it until the key's destruction is recorded again from the
        # shred log (what restore does): then it starts, and the case still opens for no one.
        assert epoch in missing_private_key_ids()
        assert keys_reapply(shredlog.keys_destroyed()) == [epoch]
        assert epoch not in missing_private_key_ids()
        with pytest.raises(keystore.KeyDestroyed):
            keystore.data_key_of(old)
        # The held case still opens for staff.
        held = Case.objects.get(report__reference=kept_reference)
        assert case_open(case=held, acting_user=supervisor).content["summary"] == (
            "Records of the strategy meeting went missing"
        )
