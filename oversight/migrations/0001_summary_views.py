from django.db import migrations, models

CASE_FACTS = """
CREATE MATERIALIZED VIEW oversight_case_facts AS
SELECT concat_ws('|', month, authority_id, conflict_authority_id, status, outcome, authority_outcome, ack,
                 outcome_timeliness) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        c.authority_id,
        la.region,
        c.conflict_authority_id,
        c.status,
        c.outcome,
        c.authority_outcome,
        CASE
            WHEN c.referred_at IS NULL THEN NULL
            WHEN c.authority_acknowledged_at IS NOT NULL AND c.authority_acknowledged_at <= c.authority_ack_due_at
                THEN 'on_time'
            WHEN c.authority_acknowledged_at IS NOT NULL THEN 'late'
            WHEN c.authority_ack_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS ack,
        CASE
            WHEN c.referred_at IS NULL THEN NULL
            WHEN c.authority_outcome_at IS NOT NULL AND c.authority_outcome_at <= c.authority_outcome_due_at
                THEN 'on_time'
            WHEN c.authority_outcome_at IS NOT NULL THEN 'late'
            WHEN c.authority_outcome_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS outcome_timeliness,
        count(*)::integer AS cases
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN triage_localauthority la ON la.id = c.authority_id
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
) facts
WITH NO DATA;
CREATE UNIQUE INDEX oversight_case_facts_key ON oversight_case_facts (key);
CREATE INDEX oversight_case_facts_region ON oversight_case_facts (region, month);
"""

CONCERN_FACTS = """
CREATE MATERIALIZED VIEW oversight_concern_facts AS
SELECT concat_ws('|', month, authority_id, conflict_authority_id, concern_type) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        c.authority_id,
        la.region,
        c.conflict_authority_id,
        concern_type,
        count(*)::integer AS cases
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN triage_localauthority la ON la.id = c.authority_id
    CROSS JOIN LATERAL unnest(r.concern_types) AS concern_type
    GROUP BY 1, 2, 3, 4, 5
) facts
WITH NO DATA;
CREATE UNIQUE INDEX oversight_concern_facts_key ON oversight_concern_facts (key);
CREATE INDEX oversight_concern_facts_region ON oversight_concern_facts (region, month);
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = [("triage", "0005_authority_response_and_escalation_ladder"), ("reports", "0002_initial")]

    operations = [
        migrations.RunSQL(CASE_FACTS, "DROP MATERIALIZED VIEW IF EXISTS oversight_case_facts"),
        migrations.RunSQL(CONCERN_FACTS, "DROP MATERIALIZED VIEW IF EXISTS oversight_concern_facts"),
        migrations.CreateModel(
            name="CaseFact",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("month", models.DateField()),
                ("region", models.CharField(max_length=64, null=True)),
                ("status", models.CharField(max_length=24)),
                ("outcome", models.CharField(max_length=32)),
                ("authority_outcome", models.CharField(max_length=32)),
                ("ack", models.CharField(max_length=16, null=True)),
                ("outcome_timeliness", models.CharField(max_length=16, null=True)),
                ("cases", models.IntegerField()),
                (
                    "authority",
                    models.ForeignKey(
                        null=True, on_delete=models.deletion.DO_NOTHING, related_name="+", to="triage.localauthority"
                    ),
                ),
                (
                    "conflict_authority",
                    models.ForeignKey(
                        null=True, on_delete=models.deletion.DO_NOTHING, related_name="+", to="triage.localauthority"
                    ),
                ),
            ],
            options={"db_table": "oversight_case_facts", "managed": False},
        ),
        migrations.CreateModel(
            name="ConcernFact",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("month", models.DateField()),
                ("region", models.CharField(max_length=64, null=True)),
                ("concern_type", models.CharField(max_length=40)),
                ("cases", models.IntegerField()),
                (
                    "authority",
                    models.ForeignKey(
                        null=True, on_delete=models.deletion.DO_NOTHING, related_name="+", to="triage.localauthority"
                    ),
                ),
                (
                    "conflict_authority",
                    models.ForeignKey(
                        null=True, on_delete=models.deletion.DO_NOTHING, related_name="+", to="triage.localauthority"
                    ),
                ),
            ],
            options={"db_table": "oversight_concern_facts", "managed": False},
        ),
    ]
