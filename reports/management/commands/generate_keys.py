from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import crypto


class Command(BaseCommand):
    help = (
        "Print a new helpline keypair, HMAC key and authenticator sealing key for a deployment, as the values "
        "of HELPLINE_PUBLIC_KEY, HELPLINE_PRIVATE_KEYS, HELPLINE_HMAC_KEY and OTP_KEY. Nothing is written to "
        "disk: store them as secrets and escrow the private key and OTP_KEY with split custody."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-id", default="k1", help="A short id naming this keypair, e.g. prod1.")

    def handle(self, *args: Any, **options: Any) -> None:
        material = crypto.generate_key_material(options["key_id"])
        self.stdout.write(f"HELPLINE_PUBLIC_KEY={material['public']}")
        self.stdout.write(f"HELPLINE_PRIVATE_KEYS={material['private']}")
        self.stdout.write(f"HELPLINE_HMAC_KEY={material['hmac']}")
        self.stdout.write(f"OTP_KEY={material['otp']}")
