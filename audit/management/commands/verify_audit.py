from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import CheckpointReport, checkpoint_verify
from audit.models import AuditEvent
from audit.trail import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's chain, then the table against the latest signed checkpoint: reports any "
        "removed, inserted or altered event, and a removed tail older than that checkpoint. Exit 1 if broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--verify-key",
            default="",
            help="The checkpoints' verify key (base64), as an auditor holds it. Default: AUDIT_VERIFY_KEY, "
            "else derived from AUDIT_SIGNING_KEY.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            breaks = audit_verify()
            report = checkpoint_verify(verify_key=options["verify_key"])
        except ImproperlyConfigured as exc:
            raise CommandError(f"The audit trail cannot be checked: {exc}") from exc
        for item in breaks:
            self.stderr.write(f"event {item.event_id}: {item.reason}")
        for problem in report.problems:
            self.stderr.write(f"{problem.where}: {problem.reason}")
        if breaks and report.problems:
            raise CommandError(
                f"The audit trail is broken in {len(breaks)} place(s), and {len(report.problems)} checkpoint "
                f"problem(s) were found in {report.sink}."
            )
        if breaks:
            raise CommandError(f"The audit trail is broken in {len(breaks)} place(s).")
        if report.problems:
            raise CommandError(
                f"The audit trail is broken: its chain holds, but {len(report.problems)} checkpoint problem(s) "
                f"were found in {report.sink}."
            )
        self.stdout.write(f"The audit trail is intact: {AuditEvent.objects.count()} events verified.")
        self.stdout.write(self.checkpoint_summary(report))

    def checkpoint_summary(self, report: CheckpointReport) -> str:
        others = ""
        if report.other_databases:
            others = f" ({report.other_databases} checkpoints of other databases ignored.)"
        latest = report.latest
        if latest is None:
            return (
                f"No checkpoint yet in {report.sink}: the chain alone was checked, so removed newest events "
                f"cannot be detected until the first checkpoint (manage.py audit_checkpoint).{others}"
            )
        return (
            f"The latest checkpoint holds: event {latest.last_event_id}, {latest.event_count} events, "
            f"at {latest.created_at}, signed by {latest.key_id} (line {report.latest_line} of {report.sink}). "
            f"{report.events_since} event(s) written since are covered by the chain alone.{others}"
        )
