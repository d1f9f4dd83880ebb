"""Safeguarding partnerships read the facts of their authorities (one or more) rather than of a region: an
index by authority and month on both summary views, as the region one serves national oversight's."""

from django.db import migrations

FORWARD = """
CREATE INDEX IF NOT EXISTS oversight_case_facts_authority ON oversight_case_facts (authority_id, month);
CREATE INDEX IF NOT EXISTS oversight_concern_facts_authority ON oversight_concern_facts (authority_id, month);
"""
BACKWARD = """
DROP INDEX IF EXISTS oversight_case_facts_authority;
DROP INDEX IF EXISTS oversight_concern_facts_authority;
"""


class Migration(migrations.Migration):
    dependencies = [("oversight", "0006_case_facts_from_referrals")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
