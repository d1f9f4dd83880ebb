"""Organisation hashes name the HMAC key that made them. Every hash made before had the one key there was,
configured without an id: core.crypto gives such a key the id "h0" (UNNAMED_HMAC_KEY_ID)."""

from django.db import migrations, models


def name_the_key(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    Report.objects.exclude(organisation_hash="").update(organisation_hash_key_id="h0")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0010_custody_and_destruction"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="organisation_hash_key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(name_the_key, migrations.RunPython.noop),
    ]
