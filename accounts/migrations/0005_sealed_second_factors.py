"""Second-factor secrets leave the database in clear: authenticator secrets are sealed with OTP_KEY, and
recovery codes are kept only as keyed hashes (the clear django-otp static tokens are deleted)."""

import binascii
import hashlib
import hmac
import secrets

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core import crypto


def seal_and_hash(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all():
        key = device.key
        if len(key) == 40 and all(ch in "0123456789abcdefABCDEF" for ch in key):
            device.key = crypto.seal_otp_secret(binascii.unhexlify(key))
            device.save(update_fields=["key"])
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    RecoveryCodes = apps.get_model("accounts", "RecoveryCodes")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    for static in StaticDevice.objects.all():
        tokens = list(StaticToken.objects.filter(device=static).values_list("token", flat=True))
        if tokens and not RecoveryCodes.objects.filter(user_id=static.user_id).exists():
            salt = secrets.token_bytes(16)
            codes = RecoveryCodes.objects.create(user_id=static.user_id, salt=salt)
            for token in set(tokens):
                normalised = "".join(token.split()).replace("-", "").lower().encode("utf-8")
                RecoveryCode.objects.create(device=codes, digest=hmac.new(salt, normalised, hashlib.sha256).hexdigest())
    StaticToken.objects.all().delete()
    StaticDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("otp_static", "0003_add_timestamps"),
        ("accounts", "0004_drop_drf_tokens"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.CreateModel(
            name="SealedTOTPDevice",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("otp_totp.totpdevice",),
        ),
        migrations.CreateModel(
            name="RecoveryCodes",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("salt", models.BinaryField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recovery_codes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RecoveryCode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="codes", to="accounts.recoverycodes"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("device", "digest"), name="recovery_code_once")],
            },
        ),
        migrations.RunPython(seal_and_hash, migrations.RunPython.noop),
    ]
