"""The summary views' authority columns point at the directory's authorities: state only (same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("oversight", "0002_null_safe_summary_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name=name,
                    field=models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                )
                for model in ("casefact", "concernfact")
                for name in ("authority", "conflict_authority")
            ],
        ),
    ]
