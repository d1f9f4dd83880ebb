"""The case facts count the files received with each case's report (issue 25): those the reporter sent (on the
question pages, on /check or through the API) and those a caller emailed in, which the helpline added to their
phone report; never the files the helpline sent the reporter. Counts only: no name, no type, nothing sealed is
read. A case's files are counted once, on its first referral's row (as its outcome is), so a case referred to
several authorities is not counted again for each. Partnership reviewers and oversight never see a file; this
count in the statistics is all they get of them."""

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
        count(*)::integer AS cases,
        -- Each case's files once, on its first referral's row (or its only row): a count, never a name or type.
        coalesce(sum(CASE WHEN rf.id IS NULL OR rf.first THEN att.from_reporter END), 0)::integer
            AS files_from_reporter,
        coalesce(sum(CASE WHEN rf.id IS NULL OR rf.first THEN att.from_caller END), 0)::integer AS files_from_caller
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN (
        SELECT report_id,
               count(*) FILTER (WHERE source = 'reporter') AS from_reporter,
               count(*) FILTER (WHERE source <> 'reporter' AND message_id IS NULL) AS from_caller
        FROM reports_attachment
        WHERE report_id IS NOT NULL
        GROUP BY report_id
    ) att ON att.report_id = r.id
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

# The view as oversight 0010 made it.
CASE_FACTS_BEFORE = """
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


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0010_case_facts_by_recipient"),
        ("reports", "0009_attachments"),
    ]

    operations = [
        migrations.RunSQL(CASE_FACTS, CASE_FACTS_BEFORE),
        # The model is not managed (a view): these change the migration state only.
        migrations.AddField(
            model_name="casefact",
            name="files_from_reporter",
            field=models.IntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="casefact",
            name="files_from_caller",
            field=models.IntegerField(default=0),
            preserve_default=False,
        ),
    ]
