"""Print the current authenticator code of a demo user (development only), so testers can sign in."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP

from accounts.models import SealedTOTPDevice


class Command(BaseCommand):
    help = "Print the current security code for a demo staff user. Refused in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo users are refused in production.")
        device = SealedTOTPDevice.objects.filter(user__username=options["username"], user__is_demo=True).first()
        if device is None:
            raise CommandError(f"{options['username']} is not a demo user with an authenticator.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():06d}")
