"""A third summary view for the duty to report: cases by whether the concern was already reported to the
police or the council (yes, no, not known), by month and authority, as the concern facts are. Codes and
counts only; the refresh function refreshes it with the other two."""

import django.db.models.deletion
from django.db import migrations, models

REPORTED_FACTS = """
CREATE MATERIALIZED VIEW oversight_reported_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 already_reported) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        c.authority_id,
        la.region,
        c.conflict_authority_id,
        r.already_reported,
        count(*)::integer AS cases
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN triage_localauthority la ON la.id = c.authority_id
    GROUP BY 1, 2, 3, 4, 5
) facts;
CREATE UNIQUE INDEX oversight_reported_facts_key ON oversight_reported_facts (key);
CREATE INDEX oversight_reported_facts_region ON oversight_reported_facts (region, month);
CREATE INDEX oversight_reported_facts_authority ON oversight_reported_facts (authority_id, month);
CREATE INDEX oversight_reported_facts_month ON oversight_reported_facts (month);
"""

REFRESH = """
CREATE OR REPLACE FUNCTION oversight_refresh_summaries() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_case_facts;
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_concern_facts;
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_reported_facts;
END;
$$;
REVOKE ALL ON FUNCTION oversight_refresh_summaries() FROM PUBLIC;
"""

REFRESH_BEFORE = """
CREATE OR REPLACE FUNCTION oversight_refresh_summaries() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_case_facts;
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_concern_facts;
END;
$$;
REVOKE ALL ON FUNCTION oversight_refresh_summaries() FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("oversight", "0008_picture_facts"),
        ("reports", "0008_duty_to_report"),
    ]

    operations = [
        migrations.RunSQL(
            REPORTED_FACTS + REFRESH,
            REFRESH_BEFORE + "DROP MATERIALIZED VIEW IF EXISTS oversight_reported_facts;",
        ),
        migrations.CreateModel(
            name="ReportedFact",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("month", models.DateField()),
                ("region", models.CharField(max_length=64, null=True)),
                ("already_reported", models.CharField(max_length=16)),
                ("cases", models.IntegerField()),
                (
                    "authority",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                ),
                (
                    "conflict_authority",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="directory.localauthority",
                    ),
                ),
            ],
            options={"db_table": "oversight_reported_facts", "managed": False},
        ),
    ]
