from typing import Any

from django.core.management.base import BaseCommand

from lifecycle.schedule import retention_apply


class Command(BaseCommand):
    help = (
        "Run today's retention schedule now, as the nightly beat job does, or go on with a run that was stopped "
        "part-way. A run that has finished today is not repeated. Prints days and counts only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = retention_apply()
        if run is None:
            self.stdout.write("The retention schedule is running in another process: nothing was done.")
            return
        self.stdout.write(
            f"Retention run of {run.day.isoformat()}{'' if run.finished else ' (not finished)'}: "
            f"{run.destroyed} destroyed, {run.skipped_held} kept on legal hold, {run.waiting} waiting for a linked "
            f"report, {run.epochs_destroyed} epoch keys destroyed, {run.unrouted_alerts} unrouted report alerts, "
            f"{run.outbox_purged} outbox rows and {run.emails_purged} email records deleted"
            f"{'; capped: more are due, and the next run goes on with them' if run.capped else ''}."
        )
