import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import BackupHead, RestoreEpochRefused, checkpoint_sink, restore_epoch_write
from core import signing
from lifecycle.backup import FORMAT, canonical


class Command(BaseCommand):
    help = (
        "After a restore, have the checkpointer record it: append a signed restore epoch to the audit checkpoint "
        "sink naming the head of the backup's manifest (--manifest DIR/manifest.json). Accepted only if that head "
        "matches an earlier checkpoint or the manifest's signature holds, and this database continues from it. "
        "verify_audit then checks earlier checkpoints only up to it, and prints the events lost."
    )
    # Like audit_checkpoint: the checkpointer holds the audit signing key, and the other apps' checks are not
    # its business.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest", required=True, type=Path, help="The restored backup's manifest.json.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["manifest"]
        try:
            raw = path.read_bytes()
            manifest = json.loads(raw)
            head = BackupHead(**manifest["audit_head"]) if manifest.get("format") == FORMAT else None
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise CommandError(f"{path} is not a backup manifest: {error}") from error
        if head is None:
            raise CommandError(f"{path} is not a manifest of this service's backups (format {FORMAT}).")
        signed = manifest.get("signed") if isinstance(manifest.get("signed"), dict) else {}
        body = {key: value for key, value in manifest.items() if key != "signed"}
        signed_by = str(signed.get("key_id", "")) if signing.verify(canonical(body), signed) else ""
        if not signed_by:
            self.stderr.write(
                "The manifest's signature does not hold with the service keys this process knows "
                "(SERVICE_VERIFY_KEYS): its head is accepted only if a checkpoint recorded it."
            )
        source = f"backup manifest sha256:{hashlib.sha256(raw).hexdigest()[:16]} taken {manifest.get('taken_at')}"
        sink = checkpoint_sink()
        try:
            line = restore_epoch_write(head=head, source=source, manifest_signed_by=signed_by, sink=sink)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        except RestoreEpochRefused as refused:
            raise CommandError(f"No restore epoch written: {refused}") from refused
        self.stdout.write(
            f"Restore epoch written to {sink.describe()}: the trail continues from event {line.last_event_id} "
            f"({line.event_count} events), {line.reason}. verify_audit now prints the events lost with the restore."
        )
