"""The reporter's signed receipt (reports.receipts), and which files were sent with a report (the ones it names)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0012_content_destroyed_early"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="sent_with_report",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="Receipt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key_wrap", models.BinaryField()),
                ("body", models.BinaryField(blank=True, default=b"")),
                ("signing_key_id", models.CharField(blank=True, default="", max_length=32)),
                ("issued_on", models.DateField(blank=True, null=True)),
                (
                    "report",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="receipt", to="reports.report"
                    ),
                ),
            ],
        ),
    ]
