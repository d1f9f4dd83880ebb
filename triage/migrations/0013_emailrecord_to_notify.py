"""Emails move to the notify app: each EmailRecord becomes a Notification with the same id (so the outbox rows
that send them still point at them), its case becoming the subject ("case", id); then the old table goes.
Self-contained: it touches no other triage model."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FIELDS = (
    "id",
    "recipient",
    "template",
    "occasion",
    "state",
    "attempts",
    "next_attempt_at",
    "provider_message_id",
    "created_at",
    "sent_at",
)


def _sequence_past(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"  # noqa: S608
        )


def emails_to_notifications(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    EmailRecord = apps.get_model("triage", "EmailRecord")
    Notification = apps.get_model("notify", "Notification")
    batch = [
        Notification(
            channel="email",
            subject_kind="case" if row["case_id"] else "",
            subject_id=row["case_id"],
            **{field: row[field] for field in FIELDS},
        )
        for row in EmailRecord.objects.order_by("id").values("case_id", *FIELDS).iterator()
    ]
    Notification.objects.bulk_create(batch, batch_size=1000)
    _sequence_past(schema_editor, Notification._meta.db_table)


def notifications_to_emails(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    EmailRecord = apps.get_model("triage", "EmailRecord")
    Notification = apps.get_model("notify", "Notification")
    # Only what an EmailRecord can hold: an email about a case, or about nothing. Notifications of kinds that
    # came later (invitations, reports' nudges) stay in notify's table.
    rows = Notification.objects.filter(channel="email", subject_kind__in=["case", ""])
    EmailRecord.objects.bulk_create(
        [
            EmailRecord(case_id=row["subject_id"], **{field: row[field] for field in FIELDS})
            for row in rows.order_by("id").values("subject_id", *FIELDS).iterator()
        ],
        batch_size=1000,
    )
    rows.delete()
    _sequence_past(schema_editor, EmailRecord._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0012_referral_particulars"),
        ("notify", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(emails_to_notifications, notifications_to_emails),
        migrations.DeleteModel(name="EmailRecord"),
    ]
