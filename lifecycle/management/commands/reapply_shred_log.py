from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lifecycle import shredlog
from lifecycle.restore import held_failure, reapplied_lines, shred_log_reapply


class Command(BaseCommand):
    help = (
        "Destroy again every case of the shred log (SHRED_LOG_PATH) that this database still holds: what restore "
        "does after pg_restore, on its own, for a restored database whose re-apply was stopped (a case on legal "
        "hold in the backup, released since)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            entries = shredlog.entries()
        except shredlog.ShredLogDamaged as error:
            raise CommandError(f"The shred log cannot be trusted, so nothing was re-applied: {error}") from error
        done = shred_log_reapply(entries)
        for line in reapplied_lines(done):
            self.stdout.write(line)
        if done.held:
            raise CommandError(str(held_failure(done)))
