"""What the rotation commands share: their batch options, the progress bar around the batches, and the
message when a bounded run stops with work left (rotate_helpline_key, rotate_hmac_key, rewrap_custody_key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import crypto
from lifecycle.progress import progress_bar
from lifecycle.rotation import BATCH_SIZE, Rotation, RotationRefused, Run, run_batches


class BatchedCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Reports per transaction (500).")
        parser.add_argument("--max-batches", type=int, help="Stop after this many batches (run again to go on).")
        parser.add_argument("--no-progress", action="store_true", help="Print no progress bar.")

    def batches_run(self, rotation: Rotation, options: dict[str, Any]) -> Run:
        """Run ``rotation`` in batches with a progress bar on stderr; a refusal is a CommandError."""
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        with progress_bar(
            description=rotation.description,
            total=rotation.pending(),
            stream=self.stderr,
            enabled=not options["no_progress"],
        ) as advance:
            try:
                return run_batches(
                    rotation, batch_size=options["batch_size"], max_batches=options["max_batches"], on_batch=advance
                )
            except (RotationRefused, crypto.KeyUnavailable) as refused:
                raise CommandError(str(refused)) from None

    def stopped_early(self, run: Run) -> bool:
        """A bounded run (--max-batches) that stopped with work left says so: run the command again."""
        if run.stopped and run.remaining:
            self.stdout.write(f"Stopped after {run.batches} batches: {run.remaining} left. Run the command again.")
            return True
        return False
