"""The case events of triage become the audit trail: the same rows and chain, in the table audit_event.

The subject becomes a kind and an id instead of a foreign key to a case. Rows written before keep their
hashes (chain_version 1); the report-taken-by-phone rows, which had no case, get their report as subject.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CARRY_OVER = """
ALTER TABLE triage_caseevent RENAME TO audit_event;
DROP TRIGGER triage_caseevent_append_only ON audit_event;
DROP FUNCTION triage_caseevent_refuse_change();

ALTER TABLE audit_event ADD COLUMN subject_kind varchar(16) NOT NULL DEFAULT '';
ALTER TABLE audit_event ADD COLUMN subject_id bigint NULL;
ALTER TABLE audit_event ADD COLUMN chain_version smallint NOT NULL DEFAULT 1 CHECK (chain_version >= 0);
UPDATE audit_event SET subject_kind = 'case', subject_id = case_id WHERE case_id IS NOT NULL;
UPDATE audit_event SET subject_kind = 'report', subject_id = (detail->>'report_id')::bigint
    WHERE case_id IS NULL AND kind = 'report_taken_by_phone' AND detail ? 'report_id';
ALTER TABLE audit_event DROP COLUMN case_id;
ALTER TABLE audit_event ALTER COLUMN subject_kind DROP DEFAULT;
ALTER TABLE audit_event ALTER COLUMN chain_version DROP DEFAULT;
CREATE INDEX audit_event_subject ON audit_event (subject_kind, subject_id, id);
ALTER TABLE audit_event ADD CONSTRAINT audit_event_subject_complete
    CHECK ((subject_id IS NULL AND subject_kind = '') OR (subject_kind <> '' AND subject_id IS NOT NULL));

CREATE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("triage", "0008_case_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(CARRY_OVER)],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "subject_kind",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "Nothing in particular"),
                                    ("case", "A case"),
                                    ("report", "A report"),
                                    ("user", "A member of staff"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("subject_id", models.BigIntegerField(blank=True, null=True)),
                        ("kind", models.CharField(max_length=48)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField()),
                        ("chain_version", models.PositiveSmallIntegerField(default=2)),
                        ("previous_hash", models.CharField(max_length=64)),
                        ("row_hash", models.CharField(max_length=64, unique=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "audit_event",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(fields=["subject_kind", "subject_id", "id"], name="audit_event_subject")
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("subject_id__isnull", True), ("subject_kind", "")),
                                    models.Q(
                                        models.Q(("subject_kind", ""), _negated=True), ("subject_id__isnull", False)
                                    ),
                                    _connector="OR",
                                ),
                                name="audit_event_subject_complete",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
