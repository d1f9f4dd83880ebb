from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.trail import audit_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain: reports any removed, inserted or altered event. Exit 1 if broken."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = audit_verify()
        if breaks:
            for item in breaks:
                self.stderr.write(f"event {item.event_id}: {item.reason}")
            raise CommandError(f"The audit trail is broken in {len(breaks)} place(s).")
        self.stdout.write(f"The audit trail is intact: {AuditEvent.objects.count()} events verified.")
