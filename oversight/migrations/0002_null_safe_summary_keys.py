"""The summary views' keys were built with concat_ws, which skips NULLs: a case with no authority but a
conflict authority got the same key as an ordinary case, and the unique index refused the refresh.
The keys now spell NULL as "-"."""

from django.db import migrations

DROP = """
DROP MATERIALIZED VIEW IF EXISTS oversight_case_facts;
DROP MATERIALIZED VIEW IF EXISTS oversight_concern_facts;
"""

CASE_FACTS = """
CREATE MATERIALIZED VIEW oversight_case_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 status, outcome, authority_outcome, coalesce(ack, '-'), coalesce(outcome_timeliness, '-')) AS key, *
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
) facts;
CREATE UNIQUE INDEX oversight_case_facts_key ON oversight_case_facts (key);
CREATE INDEX oversight_case_facts_region ON oversight_case_facts (region, month);
"""

CONCERN_FACTS = """
CREATE MATERIALIZED VIEW oversight_concern_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 concern_type) AS key, *
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
) facts;
CREATE UNIQUE INDEX oversight_concern_facts_key ON oversight_concern_facts (key);
CREATE INDEX oversight_concern_facts_region ON oversight_concern_facts (region, month);
"""


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_summary_views"), ("reports", "0003_retaliation_checkins")]

    operations = [
        migrations.RunSQL(DROP + CASE_FACTS + CONCERN_FACTS, migrations.RunSQL.noop),
    ]
