"""Re-hash every organisation under a new HMAC key (docs/deploy.md, "Rotating keys").

    manage.py rotate_hmac_key --to hmac2
    manage.py rotate_hmac_key --to hmac2 --max-batches 20      # a bounded run; run again to go on

The new key must already come first in HELPLINE_HMAC_KEYS on every service, with the old one after it. Each
organisation name is opened from the report's sealed content (staff service or a worker: it needs the keys)
and hashed again, a whole organisation per transaction, so pattern detection keeps matching across the change.
Resumable after a kill, and a second run does nothing. Throttle counters made with the old key are not
re-made: they simply expire. Afterwards ``manage.py key_usage --kind hmac --key-id OLD`` says whether the old
key may be removed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.trail import event_record
from lifecycle.management.batched import BatchedCommand
from lifecycle.rotation import HmacRotation, RotationRefused


class Command(BatchedCommand):
    help = "Re-hash every organisation name under the new HMAC key, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, dest="to_key_id", help="The new HMAC key's id.")
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        rotation = HmacRotation(options["to_key_id"])
        try:
            rotation.check()
        except RotationRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"{rotation.pending()} reports have an organisation hash made with an older HMAC key.")
        run = self.batches_run(rotation, options)
        event_record(
            kind="hmac_key_rotation_run",
            detail={"to": rotation.to_key_id, "rehashed": run.done, "remaining": run.remaining},
        )
        self.stdout.write(f"Re-hashed {run.done} organisation hashes under HMAC key {rotation.to_key_id}.")
        if self.stopped_early(run):
            return
        if run.remaining:
            raise CommandError(
                f"{run.remaining} reports could not be re-hashed here (their content cannot be opened: ids "
                f"{run.unreadable}). Restore the key they need and run the command again.",
                returncode=1,
            )
        self.stdout.write(
            "Every organisation hash is made with the new key. Check with manage.py key_usage --kind hmac "
            "--key-id OLD before removing the old key from HELPLINE_HMAC_KEYS."
        )
