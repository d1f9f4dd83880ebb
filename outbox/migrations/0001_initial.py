"""The outbox and the worker heartbeat move from triage: the same tables, state only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("triage", "0008_case_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        ("name", models.CharField(max_length=128, primary_key=True, serialize=False)),
                        ("beat_at", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "triage_workerheartbeat",
                    },
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(max_length=32)),
                        ("target_id", models.BigIntegerField()),
                        ("created_at", models.DateTimeField()),
                        ("claimed_until", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.CharField(blank=True, max_length=255)),
                    ],
                    options={
                        "db_table": "triage_outboxmessage",
                        "indexes": [
                            models.Index(
                                condition=models.Q(("processed_at__isnull", True)),
                                fields=["created_at"],
                                name="outbox_pending",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("kind", "target_id"), name="outbox_one_per_target")
                        ],
                    },
                ),
            ],
        ),
    ]
