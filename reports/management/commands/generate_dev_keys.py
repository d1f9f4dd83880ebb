from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import crypto


class Command(BaseCommand):
    help = "Create the git-ignored development keypair (var/dev-keys.json) if it is missing. Never in production."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Production never generates keys. Use generate_keys and escrow the private key.")
        path = crypto.ensure_dev_keys()
        self.stdout.write(f"Development keys: {path}")
