"""Write the project's own clamd configuration, and locally the signature database clamd starts with.

    manage.py clamav_setup                      var/clamav/clamd.conf from deploy/clamav/clamd.conf.in
    manage.py clamav_setup --test-signatures    and the EICAR test signature (make run, make test)
    manage.py clamav_setup --config F --socket S --database-dir D --temporary-dir T   (the test fixture)

clamd then runs as ``clamd -c var/clamav/clamd.conf``: its own socket, database folder and memory-backed spool
folder, never the packaged service's. There is no internet here, so development and tests use one .hdb line
that matches the EICAR test file, written by core.clamd (ClamAV's sigtool is not installed). In production
freshclam fills the database folder instead: never write test signatures there.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.clamd import TEST_SIGNATURE_FILE, development_signatures

TEMPLATE = Path(settings.BASE_DIR) / "deploy" / "clamav" / "clamd.conf.in"
MIB = 1024 * 1024


def stream_limit_mib(max_bytes: int) -> int:
    """StreamMaxLength in MiB: the file limit rounded up, plus one MiB to spare."""
    return math.ceil(max_bytes / MIB) + 1


def render(template: str, *, socket: str, database_dir: str, temporary_dir: str, max_bytes: int) -> str:
    stream = stream_limit_mib(max_bytes)
    values = {
        "@SOCKET@": socket,
        "@DATABASE_DIR@": database_dir,
        "@TEMPORARY_DIR@": temporary_dir,
        "@STREAM_MAX@": f"{stream}M",
        "@SCAN_MAX@": f"{max(400, 4 * stream)}M",
    }
    for marker, value in values.items():
        if any(character.isspace() for character in value):
            raise CommandError(f"clamd.conf cannot take a path with spaces: {value!r}")
        template = template.replace(marker, value)
    left = re.findall(r"@[A-Z_]+@", template)
    if left:
        raise CommandError(f"clamd.conf.in has markers this command does not fill: {sorted(set(left))}")
    return template


def private_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


class Command(BaseCommand):
    help = "Write clamd's configuration (and, locally, the EICAR test signature database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", default=settings.CLAMD_CONFIG, help="Where to write clamd.conf.")
        parser.add_argument("--socket", default=settings.CLAMD_SOCKET, help="clamd's Unix socket (CLAMD_SOCKET).")
        parser.add_argument("--database-dir", default=settings.CLAMD_DATABASE_DIR, help="Its signature folder.")
        parser.add_argument(
            "--temporary-dir", default=settings.CLAMD_TEMPORARY_DIR, help="Its spool folder: memory-backed."
        )
        parser.add_argument(
            "--test-signatures",
            action="store_true",
            help="Write the EICAR test signature into the database folder (development and tests only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = Path(options["config"])
        database_dir = Path(options["database_dir"])
        temporary_dir = Path(options["temporary_dir"])
        socket = Path(options["socket"])
        if options["test_signatures"] and settings.PRODUCTION:
            raise CommandError("Production's signatures come from freshclam, never from --test-signatures")
        text = render(
            TEMPLATE.read_text(),
            socket=str(socket.absolute()),
            database_dir=str(database_dir.absolute()),
            temporary_dir=str(temporary_dir.absolute()),
            max_bytes=int(settings.ATTACHMENT_MAX_BYTES),
        )
        config.parent.mkdir(parents=True, exist_ok=True)
        socket.parent.mkdir(parents=True, exist_ok=True)
        private_folder(database_dir)
        private_folder(temporary_dir)
        config.write_text(text)
        if options["test_signatures"]:
            signatures = database_dir / TEST_SIGNATURE_FILE
            if not signatures.exists() or signatures.read_text() != development_signatures():
                signatures.write_text(development_signatures())
        if int(options.get("verbosity", 1)) > 1:
            self.stdout.write(f"clamd configuration written to {config}")
