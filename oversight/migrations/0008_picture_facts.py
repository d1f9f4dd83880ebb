"""The national picture's summary view (issue 24, point 2): what the helpline recorded about each case
(triage.CaseFacts), as counts by month, the case's own authority, a dimension and a category. Codes and
counts only. A case with nothing recorded counts as not known in every dimension; a case is counted once in
each setting recorded for it; suspects' ethnicity and nationality are summed (``suspects``); the "known"
dimension counts, per field, the cases where it is known (the completeness figures), and "cases" every case.

Refreshed by a SECURITY DEFINER function of its own (like oversight_refresh_summaries, 0004), which the
runtime role may execute (core/roles.py)."""

from django.db import migrations, models

PICTURE_FACTS = """
CREATE MATERIALIZED VIEW oversight_picture_facts AS
SELECT concat_ws('|', month, coalesce(authority_id::text, '-'), coalesce(conflict_authority_id::text, '-'),
                 dimension, category) AS key, *
FROM (
    SELECT
        date_trunc('month', r.submitted_at AT TIME ZONE 'Europe/London')::date AS month,
        c.authority_id,
        la.region,
        c.conflict_authority_id,
        d.dimension,
        d.category,
        count(*)::integer AS cases,
        sum(d.suspects)::integer AS suspects
    FROM triage_case c
    JOIN reports_report r ON r.id = c.report_id
    LEFT JOIN triage_casefacts f ON f.case_id = c.id
    LEFT JOIN triage_localauthority la ON la.id = c.authority_id
    CROSS JOIN LATERAL (
        SELECT 'cases'::text, ''::text, 0
        UNION ALL SELECT 'ofsted_class', coalesce(nullif(f.ofsted_class, ''), 'not_known'), 0
        UNION ALL SELECT 'group_based', coalesce(f.group_based, 'not_known'), 0
        UNION ALL SELECT 'setting', s.code, 0 FROM unnest(f.settings) AS s(code)
        UNION ALL SELECT 'looked_after', coalesce(f.looked_after, 'not_known'), 0
        UNION ALL SELECT 'placed_out_of_area', coalesce(f.placed_out_of_area, 'not_known'), 0
        UNION ALL SELECT 'missing_episodes', coalesce(f.missing_episodes, 'not_known'), 0
        UNION ALL SELECT 'suspect_ethnicity', e.key, e.value::integer FROM jsonb_each_text(f.suspect_ethnicity) AS e
        UNION ALL SELECT 'suspect_nationality', n.key, n.value::integer
            FROM jsonb_each_text(f.suspect_nationality) AS n
        UNION ALL SELECT 'known', k.field, 0 FROM (VALUES
            ('ofsted_class', coalesce(f.ofsted_class, '') <> ''),
            ('group_based', coalesce(f.group_based, 'not_known') <> 'not_known'),
            ('settings', coalesce(cardinality(f.settings), 0) > 0),
            ('looked_after', coalesce(f.looked_after, 'not_known') <> 'not_known'),
            ('placed_out_of_area', coalesce(f.placed_out_of_area, 'not_known') <> 'not_known'),
            ('missing_episodes', coalesce(f.missing_episodes, 'not_known') <> 'not_known'),
            ('suspects', f.suspects IS NOT NULL),
            -- Known only when there are suspects and none of them is "not known" or "not recorded".
            ('suspect_ethnicity',
             coalesce(f.suspects > 0 AND NOT f.suspect_ethnicity ?| array['not_known', 'not_recorded'], false)),
            ('suspect_nationality',
             coalesce(f.suspects > 0 AND NOT f.suspect_nationality ?| array['not_known', 'not_recorded'], false))
        ) AS k(field, known) WHERE k.known
    ) AS d(dimension, category, suspects)
    GROUP BY 1, 2, 3, 4, 5, 6
) facts;
CREATE UNIQUE INDEX oversight_picture_facts_key ON oversight_picture_facts (key);
CREATE INDEX oversight_picture_facts_region ON oversight_picture_facts (region, month);
CREATE INDEX oversight_picture_facts_authority ON oversight_picture_facts (authority_id, month);
CREATE INDEX oversight_picture_facts_month ON oversight_picture_facts (month);

CREATE FUNCTION oversight_refresh_picture() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_picture_facts;
END;
$$;
REVOKE ALL ON FUNCTION oversight_refresh_picture() FROM PUBLIC;
"""

DROP = """
DROP FUNCTION IF EXISTS oversight_refresh_picture();
DROP MATERIALIZED VIEW IF EXISTS oversight_picture_facts;
"""


class Migration(migrations.Migration):
    dependencies = [("oversight", "0007_facts_by_authority"), ("triage", "0016_case_facts")]

    operations = [
        migrations.RunSQL(PICTURE_FACTS, DROP),
        migrations.CreateModel(
            name="PictureFact",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("month", models.DateField()),
                ("region", models.CharField(max_length=64, null=True)),
                ("cases", models.IntegerField()),
                ("dimension", models.CharField(max_length=24)),
                ("category", models.CharField(max_length=40)),
                ("suspects", models.IntegerField()),
            ],
            options={"db_table": "oversight_picture_facts", "managed": False},
        ),
    ]
