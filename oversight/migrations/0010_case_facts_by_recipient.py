"""The case facts know each referral's kind of recipient (issue 24): a local authority, or a national body's
kind (the independent national review team, Ofsted, the Care Quality Commission, a police force, the Child
Safeguarding Practice Review Panel), so the statistics count referrals by kind of body. A referral to a body
has no authority of its own: its row stays under the case's own authority (so that a safeguarding
partnership's scope and the regions read it as before), but only a referral to a local authority has an
acknowledgement, an outcome timeliness and an authority's outcome, so a body's referral is never counted
as an authority's (its missed acknowledgement above all). A case with no referral has no recipient."""

from django.db import migrations, models

CASE_FACTS = """
DROP MATERIALIZED VIEW IF EXISTS oversight_case_facts;
CREATE MATERIALIZED VIEW oversight_case_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 status, outcome, authority_outcome, coalesce(recipient, '-'), coalesce(ack, '-'),
                 coalesce(outcome_timeliness, '-')) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        coalesce(rf.authority_id, c.authority_id) AS authority_id,
        la.region,
        c.conflict_authority_id,
        c.status,
        CASE WHEN rf.id IS NULL OR rf.first THEN c.outcome ELSE '' END AS outcome,
        CASE WHEN rf.authority_id IS NOT NULL THEN rf.outcome ELSE '' END AS authority_outcome,
        CASE
            WHEN rf.id IS NULL THEN NULL
            WHEN rf.authority_id IS NOT NULL THEN 'local_authority'
            ELSE nb.kind
        END AS recipient,
        CASE
            WHEN rf.authority_id IS NULL THEN NULL
            WHEN rf.acknowledged_at IS NOT NULL AND rf.acknowledged_at <= rf.ack_due_at THEN 'on_time'
            WHEN rf.acknowledged_at IS NOT NULL THEN 'late'
            WHEN rf.ack_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS ack,
        CASE
            WHEN rf.authority_id IS NULL THEN NULL
            WHEN rf.outcome_at IS NOT NULL AND rf.outcome_at <= rf.outcome_due_at THEN 'on_time'
            WHEN rf.outcome_at IS NOT NULL THEN 'late'
            WHEN rf.outcome_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS outcome_timeliness,
        count(*)::integer AS cases
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN (
        SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY referred_at, id) = 1 AS first
        FROM triage_referral
    ) rf ON rf.case_id = c.id
    LEFT JOIN directory_nationalbody nb ON nb.id = rf.body_id
    LEFT JOIN triage_localauthority la ON la.id = coalesce(rf.authority_id, c.authority_id)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
) facts;
CREATE UNIQUE INDEX oversight_case_facts_key ON oversight_case_facts (key);
CREATE INDEX oversight_case_facts_region ON oversight_case_facts (region, month);
CREATE INDEX oversight_case_facts_authority ON oversight_case_facts (authority_id, month);
CREATE INDEX oversight_case_facts_month ON oversight_case_facts (month);
"""

# The view as oversight 0006 made it (with 0007's index): a body's referral counted under the case's authority.
CASE_FACTS_BEFORE = """
DROP MATERIALIZED VIEW IF EXISTS oversight_case_facts;
CREATE MATERIALIZED VIEW oversight_case_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 status, outcome, authority_outcome, coalesce(ack, '-'), coalesce(outcome_timeliness, '-')) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        coalesce(rf.authority_id, c.authority_id) AS authority_id,
        la.region,
        c.conflict_authority_id,
        c.status,
        CASE WHEN rf.id IS NULL OR rf.first THEN c.outcome ELSE '' END AS outcome,
        coalesce(rf.outcome, '') AS authority_outcome,
        CASE
            WHEN rf.id IS NULL THEN NULL
            WHEN rf.acknowledged_at IS NOT NULL AND rf.acknowledged_at <= rf.ack_due_at THEN 'on_time'
            WHEN rf.acknowledged_at IS NOT NULL THEN 'late'
            WHEN rf.ack_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS ack,
        CASE
            WHEN rf.id IS NULL THEN NULL
            WHEN rf.outcome_at IS NOT NULL AND rf.outcome_at <= rf.outcome_due_at THEN 'on_time'
            WHEN rf.outcome_at IS NOT NULL THEN 'late'
            WHEN rf.outcome_due_at < now() THEN 'missed'
            ELSE 'pending'
        END AS outcome_timeliness,
        count(*)::integer AS cases
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN (
        SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY referred_at, id) = 1 AS first
        FROM triage_referral
    ) rf ON rf.case_id = c.id
    LEFT JOIN triage_localauthority la ON la.id = coalesce(rf.authority_id, c.authority_id)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
) facts;
CREATE UNIQUE INDEX oversight_case_facts_key ON oversight_case_facts (key);
CREATE INDEX oversight_case_facts_region ON oversight_case_facts (region, month);
CREATE INDEX oversight_case_facts_authority ON oversight_case_facts (authority_id, month);
CREATE INDEX oversight_case_facts_month ON oversight_case_facts (month);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_national_bodies_loaded"),
        ("oversight", "0009_reported_facts"),
        ("referrals", "0005_national_bodies_and_review"),
    ]

    operations = [
        migrations.RunSQL(CASE_FACTS, CASE_FACTS_BEFORE),
        # The model is not managed (a view): this changes the migration state only.
        migrations.AddField(
            model_name="casefact",
            name="recipient",
            field=models.CharField(max_length=16, null=True),
        ),
    ]
