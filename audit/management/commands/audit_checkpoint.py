from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import TrailBroken, checkpoint_sink, checkpoint_write


class Command(BaseCommand):
    help = (
        "Sign the audit chain's head with AUDIT_SIGNING_KEY and append it to AUDIT_CHECKPOINT_PATH, as beat "
        "does every AUDIT_CHECKPOINT_SECONDS, if the trail extends the previous checkpoint; otherwise record the "
        "break, alert the supervisors and administrators, and exit 1. verify_audit checks the table against them."
    )
    # The checkpoint job holds the signing key and nothing else; the other apps' checks are not its business.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        sink = checkpoint_sink()
        try:
            written = checkpoint_write(sink=sink)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except TrailBroken as broken:
            raise CommandError(f"No checkpoint signed, the audit trail is broken: {broken}") from broken
        if written is None:
            self.stdout.write("No audit events yet: nothing to checkpoint.")
            return
        self.stdout.write(
            f"Checkpoint written to {sink.describe()}: event {written.last_event_id}, "
            f"{written.event_count} events, signed by {written.key_id}."
        )
