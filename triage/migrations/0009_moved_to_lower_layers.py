"""Models that moved to the lower layers (directory, outbox, audit) leave triage's state; their tables
stay, renamed only for the audit trail (audit/migrations/0001_initial.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_authorities_from_the_directory"),
        ("audit", "0001_initial"),
        ("oversight", "0003_authorities_from_the_directory"),
        ("outbox", "0001_initial"),
        ("reports", "0005_moved_to_lower_layers"),
        ("directory", "0001_initial"),
        ("triage", "0008_case_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="caseevent",
                    name="actor",
                ),
                migrations.RemoveField(
                    model_name="caseevent",
                    name="case",
                ),
                migrations.AlterField(
                    model_name="case",
                    name="conflict_authority",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                ),
                migrations.AlterField(
                    model_name="referral",
                    name="authority",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="referrals",
                        to="directory.localauthority",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="authority",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="directory.localauthority",
                    ),
                ),
                migrations.DeleteModel(
                    name="OutboxMessage",
                ),
                migrations.DeleteModel(
                    name="PostcodeArea",
                ),
                migrations.DeleteModel(
                    name="PostcodeException",
                ),
                migrations.DeleteModel(
                    name="WorkerHeartbeat",
                ),
                migrations.DeleteModel(
                    name="CaseEvent",
                ),
                migrations.DeleteModel(
                    name="LocalAuthority",
                ),
            ],
        ),
    ]
