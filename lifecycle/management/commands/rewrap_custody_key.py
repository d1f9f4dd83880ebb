"""Replace a custody key suspected of compromise (docs/deploy.md, "A key may have leaked").

    manage.py rewrap_custody_key --from open-20261207
    manage.py rewrap_custody_key --from epoch-2031-04 --max-batches 20    # a bounded run; run again to go on

Makes the key that replaces it (a new open-cases or legal-hold key, or another key for the same month:
``epoch-2031-04-2``), retires the old one so that nothing is wrapped under it again, re-wraps every data key
under it in batches, and destroys it as soon as no row names it. Safe while the service runs, resumable after
a kill (run it again with the same --from), and a second run does nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core import crypto
from lifecycle.keys import COMPROMISE, KeyNotFound, custody_key_destroy_unused, custody_key_replace
from lifecycle.management.batched import BatchedCommand
from lifecycle.rotation import CustodyRewrap


class Command(BatchedCommand):
    help = "Re-wrap one custody key's data keys under a fresh key after a suspected compromise, then destroy it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", required=True, dest="from_key_id", help="The custody key's id.")
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        old = options["from_key_id"]
        try:
            new = custody_key_replace(old, why=COMPROMISE)
        except (KeyNotFound, crypto.KeyUnavailable, ValueError) as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Custody key {old} is retired; {new} takes its place.")
        run = self.batches_run(CustodyRewrap(old), options)
        self.stdout.write(f"Re-wrapped {run.done} data keys under {new}.")
        if self.stopped_early(run):
            return
        if run.remaining or not custody_key_destroy_unused(old, why=COMPROMISE):
            raise CommandError(
                f"Reports still have their data key under {old}"
                + (f" (cannot be opened: ids {run.unreadable})" if run.unreadable else " (they were busy)")
                + ". Run the command again; the key is destroyed once none does.",
                returncode=1,
            )
        self.stdout.write(f"Custody key {old} is destroyed. Destroy its escrowed copies too (docs/deploy.md).")
