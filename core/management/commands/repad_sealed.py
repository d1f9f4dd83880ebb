"""Re-pad rows sealed before padding existed: ``manage.py repad_sealed`` queues the batches for the workers.

    manage.py repad_sealed                         every re-padded column, batches of 500 ids
    manage.py repad_sealed --column reports.Message.body --batch-size 200
    manage.py repad_sealed --dry-run               count the rows to re-pad, queue nothing
    manage.py repad_sealed --queue repad           to a queue of its own, for a worker started with -Q repad
    manage.py repad_sealed --here                  re-pad in this process (it must hold the private key)

It reads ids and stored lengths only, never content, so it runs in any role; the workers open and seal
again. Running it again is harmless: rows already padded are not queued, and a task skips them too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import crypto
from core.tasks import BATCH_SIZE, REPADDED_COLUMNS, column_named, repad_batch, repad_candidates, repad_queue


class Command(BaseCommand):
    help = "Queue the re-padding of sealed rows written before padding, in batches, for the workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--column",
            action="append",
            choices=sorted(REPADDED_COLUMNS),
            help="Only this column (repeatable); every re-padded column by default.",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Ids per task (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Count the rows to re-pad; queue nothing.")
        parser.add_argument(
            "--queue",
            help="Queue the batches here instead of the default queue, so that they never hold up routing "
            "(start a worker with -Q NAME, or add NAME to a worker's -Q).",
        )
        parser.add_argument(
            "--here", action="store_true", help="Re-pad in this process instead of queueing (needs the private key)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["here"] and not crypto.can_decrypt():
            raise CommandError("--here needs the helpline's private key: run it where the workers run, or queue")
        for name in options["column"] or sorted(REPADDED_COLUMNS):
            column = column_named(name)
            rows = batches = resealed = 0
            unreadable: list[int] = []
            for ids in repad_candidates(column, batch_size=batch_size):
                rows += len(ids)
                batches += 1
                if options["dry_run"]:
                    continue
                if options["here"]:
                    outcome = repad_batch(column=column.name, ids=ids)
                    resealed += outcome.resealed
                    unreadable += outcome.unreadable
                    continue
                try:
                    repad_queue(column, ids, queue=options["queue"])
                except Exception as error:  # noqa: BLE001 - any broker failure: say how far it got
                    raise CommandError(
                        f"{column.name}: the broker refused batch {batches} ({type(error).__name__}); "
                        f"{batches - 1} batches were queued. Run the command again once the broker is back."
                    ) from None
            if options["dry_run"]:
                self.stdout.write(f"{column.name}: {rows} rows to re-pad ({batches} batches)")
            elif options["here"]:
                self.stdout.write(f"{column.name}: {resealed} of {rows} rows re-padded")
                if unreadable:
                    self.stderr.write(f"{column.name}: left unpadded (no key or damaged): ids {unreadable}")
            else:
                self.stdout.write(f"{column.name}: {rows} rows to re-pad, {batches} batches queued")
