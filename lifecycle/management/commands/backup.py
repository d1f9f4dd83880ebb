from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.crypto import KeyUnavailable
from lifecycle.backup import BackupRefused, backup_write


class Command(BaseCommand):
    help = (
        "Back up the database into the new directory DIR: pg_dump --format=custom and a manifest signed with the "
        "service signing key (row counts, the audit chain's head, each attachment's SHA-256, the key ids in use, "
        "the migrations, each file's SHA-256), all read in one snapshot. Never any key. The directory appears "
        "only once complete. See docs/backup.md."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="A new (or empty) directory for the backup.")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        try:
            manifest = backup_write(out)
        except (BackupRefused, KeyUnavailable) as error:
            raise CommandError(f"No backup was written: {error}") from error
        head = manifest["audit_head"]
        dump = manifest["files"]["database.dump"]
        self.stdout.write(
            f"Backup written to {out.absolute()}: database.dump ({dump['bytes']} bytes), "
            f"{sum(manifest['row_counts'].values())} rows in {len(manifest['row_counts'])} tables, "
            f"{len(manifest['attachments'])} attachments, audit chain head event {head['last_event_id']} "
            f"({head['event_count']} events), signed by service key {manifest['signed']['key_id']}. "
            f"Keep it until {manifest['keep_until']} (BACKUP_RETENTION_DAYS), then delete it."
        )
