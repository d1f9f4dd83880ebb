from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.crypto import KeyUnavailable
from lifecycle.backup import BackupRefused
from lifecycle.restore import RestoreFailed, restore


class Command(BaseCommand):
    help = (
        "Restore the backup in DIR into the new, empty database at --database-url (the owner's URL): check the "
        "manifest's signature and every file's SHA-256 first, pg_restore in one transaction, verify the row "
        "counts, the audit chain's head, the attachments, the migrations and a sample of reports against the "
        "manifest, then re-apply the shred log, before the service starts. See docs/backup.md."
    )
    # It works on the target database, not the one this process is configured for: the checks that read the
    # database would read the wrong one.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="folder", required=True, type=Path, help="The backup's directory.")
        parser.add_argument(
            "--database-url", required=True, help="postgres://OWNER[:PASSWORD]@HOST:PORT/NAME of an empty database."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restore(options["folder"], options["database_url"], self.stdout.write)
        except BackupRefused as error:
            raise CommandError(f"The backup was refused, and nothing was restored: {error}") from error
        except (RestoreFailed, KeyUnavailable) as error:
            raise CommandError(f"The restore did not complete: {error}") from error
        self.stdout.write("Restore complete: the service may start on the restored database.")
