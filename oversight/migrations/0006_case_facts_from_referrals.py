"""The case facts read each referral's own clocks and outcome (referrals 0002-0004), since a case may be
referred to several authorities: a case with no referral is one row for its own authority, as before; a
referred case is one row per referral, for the authority referred to, so statistics count referrals per
authority. The case's own outcome is on its first referral's row only, so a case referred twice is still
one closed case. The concern facts are unchanged but are recreated with the case facts."""

from django.db import migrations

DROP = """
DROP MATERIALIZED VIEW IF EXISTS oversight_case_facts;
"""

CASE_FACTS = """
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
CREATE INDEX oversight_case_facts_month ON oversight_case_facts (month);
"""


class Migration(migrations.Migration):
    dependencies = [("oversight", "0005_stored_statistics"), ("referrals", "0004_referral_state_required")]

    operations = [migrations.RunSQL(DROP + CASE_FACTS, migrations.RunSQL.noop)]
