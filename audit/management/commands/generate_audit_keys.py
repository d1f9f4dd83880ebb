from typing import Any

from django.core.management.base import BaseCommand
from nacl.signing import VerifyKey

from audit import keys


class Command(BaseCommand):
    help = (
        "Print a new AUDIT_MAC_KEY, AUDIT_SIGNING_KEY and the signing key's verify key (AUDIT_VERIFY_KEY) for a "
        "deployment. Nothing is written to disk: store them as secrets, escrow the MAC and signing keys, and "
        "give the verify key to the auditors."
    )
    # Runs on a trusted machine that may have no configuration at all.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        material = keys.generate_key_material()
        verify = VerifyKey(keys.decode_key("verify", material["verify"]))
        self.stdout.write(f"AUDIT_MAC_KEY={material['mac']}")
        self.stdout.write(f"AUDIT_SIGNING_KEY={material['signing']}")
        self.stdout.write(f"AUDIT_VERIFY_KEY={material['verify']}")
        self.stdout.write(f"# verify key id: {keys.key_id(verify)}")
