from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import CheckpointReport, checkpoint_verify
from audit.models import AuditEvent
from audit.trail import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's chain, the sink's checkpoint lines of this trail, and the table against every "
        "signed checkpoint: reports any removed, inserted or altered event, a removed tail older than the latest "
        "checkpoint, and unkeyed events outside the carried-over legacy chain. After a restore epoch, checkpoints "
        "before it are checked up to its head, and the events the restore lost are printed. Exit 1 if broken."
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
        if breaks or report.problems:
            for line, broken in report.breaks:
                self.stderr.write(
                    f"checkpoint line {line}: the checkpointer refused to sign ({broken.created_at}): {broken.reason}"
                )
            for note in self.restore_notes(report):
                self.stderr.write(note)
            if report.problems and not report.epochs:
                self.stderr.write(
                    "If this database was restored from a backup, have the checkpointer record the restore: "
                    "manage.py audit_restore_epoch --manifest BACKUP/manifest.json (docs/backup.md)."
                )
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
        if report.epochs:
            # Never a bare "intact" after a restore: what was lost is always said with it.
            self.stdout.write(
                f"The audit trail holds since its restore, but events were lost with it: "
                f"{AuditEvent.objects.count()} events verified."
            )
        else:
            self.stdout.write(f"The audit trail is intact: {AuditEvent.objects.count()} events verified.")
        self.stdout.write(self.checkpoint_summary(report))
        for note in self.restore_notes(report):
            self.stdout.write(note)

    def checkpoint_summary(self, report: CheckpointReport) -> str:
        latest = report.latest
        if latest is None:
            seen = ""
            if report.first_seen_at is not None:
                seen = f" The checkpointer first saw events at {report.first_seen_at.isoformat()}, within one interval."
            summary = (
                f"No checkpoint yet in {report.sink}: the chain alone was checked, so removed newest events "
                f"cannot be detected until the first checkpoint (manage.py audit_checkpoint).{seen}"
            )
        elif latest.is_restore:
            summary = (
                f"The latest signed head is the restore epoch's (line {report.latest_line} of {report.sink}): event "
                f"{latest.last_event_id}, {latest.event_count} events. {report.events_since} event(s) written since "
                f"are covered by the chain alone. All {report.checked} signed head(s) of trail "
                f"{report.trail_id or '(none)'} still to be found hold."
            )
        else:
            summary = (
                f"The latest checkpoint holds: event {latest.last_event_id}, {latest.event_count} events, "
                f"at {latest.created_at}, signed by {latest.key_id} (line {report.latest_line} of {report.sink}). "
                f"{report.events_since} event(s) written since are covered by the chain alone. "
                f"All {report.checked} checkpoint(s) of trail {report.trail_id or '(none)'} hold."
            )
        return summary + "".join(self.notes(report))

    def restore_notes(self, report: CheckpointReport) -> list[str]:
        """Each restore epoch, with the range of events it lost."""
        notes = []
        for epoch in report.epochs:
            head = epoch.epoch
            restored = (
                f"Restore epoch at line {epoch.line} ({head.created_at}): the trail went back to event "
                f"{head.last_event_id} ({head.event_count} events), {head.reason}."
            )
            if epoch.lost_to is not None:
                lost = (
                    f" Lost: events {head.last_event_id + 1} to {epoch.lost_to.last_event_id} ({epoch.lost_events} "
                    f"events, as line {epoch.lost_to_line} recorded them), and any written after event "
                    f"{epoch.lost_to.last_event_id} before the restore."
                )
            else:
                lost = (
                    f" Lost: any events written after event {head.last_event_id} before the restore (no checkpoint "
                    "had recorded one)."
                )
            notes.append(restored + lost)
        if report.superseded:
            notes.append(
                f"{report.superseded} checkpoint(s) written before a restore name events it lost: they are not "
                "checked against the table."
            )
        return notes

    def notes(self, report: CheckpointReport) -> list[str]:
        notes = []
        if report.legacy:
            notes.append(
                f" {report.legacy} of them are legacy lines (format /1, written before checkpoints named their "
                "trail), matched by the database's name."
            )
        for line, broken in report.breaks:
            notes.append(
                f" The checkpointer recorded a break at line {line} ({broken.created_at}): {broken.reason}; "
                + (
                    "the table now matches every checkpoint still to be found."
                    if report.epochs
                    else "the table now matches every checkpoint."
                )
            )
        if report.other_databases:
            notes.append(f" ({report.other_databases} checkpoints of other databases ignored.)")
        return notes
