"""Re-seal every helpline-sealed data key to a new helpline key pair (docs/deploy.md, "Rotating keys").

    manage.py rotate_helpline_key --to prod2
    manage.py rotate_helpline_key --to prod2 --batch-size 200 --max-batches 50   # a bounded run; run again to go on

HELPLINE_PUBLIC_KEY must already be the new key (on every service, so that new reports are sealed to it) and
HELPLINE_PRIVATE_KEYS must hold the new private key and the old ones. Only reports not yet routed have a
helpline-sealed copy: a routed report's data key is under a custody key (rewrap_custody_key rotates those).
Safe while the service runs, resumable after a kill, and a second run does nothing. Afterwards
``manage.py key_usage --kind helpline --key-id OLD`` says whether the old private key may be removed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.trail import event_record
from lifecycle.management.batched import BatchedCommand
from lifecycle.rotation import HelplineRotation, RotationRefused


class Command(BatchedCommand):
    help = "Re-seal every report's helpline-sealed data key to the new helpline key pair, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", required=True, dest="to_key_id", help="The new key pair's id (HELPLINE_PUBLIC_KEY's)."
        )
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        rotation = HelplineRotation(options["to_key_id"])
        try:
            rotation.check()
        except RotationRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"{rotation.pending()} reports have their data key sealed to an older helpline key.")
        run = self.batches_run(rotation, options)
        event_record(
            kind="helpline_key_rotation_run",
            detail={"to": rotation.to_key_id, "resealed": run.done, "remaining": run.remaining},
        )
        self.stdout.write(f"Re-sealed {run.done} data keys to helpline key {rotation.to_key_id}.")
        if self.stopped_early(run):
            return
        if run.remaining:
            raise CommandError(
                f"{run.remaining} reports still need an older key"
                + (f" (cannot be opened here: ids {run.unreadable})" if run.unreadable else " (they were busy)")
                + ". Run the command again.",
                returncode=1,
            )
        self.stdout.write(
            "No report is sealed to an older helpline key. Check with manage.py key_usage --kind helpline "
            "--key-id OLD before removing an old private key from HELPLINE_PRIVATE_KEYS."
        )
