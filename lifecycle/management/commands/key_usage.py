"""Say whether anything still needs a key, and exit 1 if something does (docs/deploy.md, "Rotating keys").

    manage.py key_usage --key-id prod1                     # every kind of key with that id
    manage.py key_usage --kind helpline --key-id prod1     # before removing prod1 from HELPLINE_PRIVATE_KEYS
    manage.py key_usage --kind hmac --key-id h0            # before removing h0 from HELPLINE_HMAC_KEYS
    manage.py key_usage --kind custody --key-id open-20261207

Exit status 0: nothing needs it (it may be removed). 1: something does; each use is printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifecycle.usage import KINDS, key_uses


class Command(BaseCommand):
    help = "Check that no row still needs a key (helpline, custody or HMAC key id); exit 1 if one does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-id", action="append", required=True, help="A key id (repeatable).")
        parser.add_argument(
            "--kind", action="append", choices=KINDS, help="Only this kind of key (repeatable); every kind by default."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = tuple(options["kind"] or KINDS)
        needed = []
        for key_id in options["key_id"]:
            uses = key_uses(key_id, kinds)
            for use in uses:
                count = f"{use.count} " if use.count else ""
                self.stdout.write(f"{use.kind} key {key_id}: {count}{use.what}")
            needed += [key_id for use in uses if use.needed]
            if not any(use.needed for use in uses):
                self.stdout.write(f"{key_id}: nothing needs this key ({', '.join(kinds)}).")
        if needed:
            raise CommandError(f"Still needed: {', '.join(sorted(set(needed)))}", returncode=1)
