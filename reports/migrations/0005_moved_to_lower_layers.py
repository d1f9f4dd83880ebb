"""Report's authorities are the directory's, and the throttle is core's: the same tables, state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("directory", "0001_initial"),
        ("reports", "0004_report_pattern_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="AccessThrottle",
                ),
                migrations.AlterField(
                    model_name="report",
                    name="about_authority",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                ),
                migrations.AlterField(
                    model_name="report",
                    name="local_authority",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                ),
            ],
        ),
    ]
