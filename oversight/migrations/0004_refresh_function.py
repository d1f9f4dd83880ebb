"""The workers refresh the summary views, which on PostgreSQL 15 only the views' owner may do. They run as
the runtime role, so the refresh is a SECURITY DEFINER function of the owner's that the runtime role may
execute (granted by core/roles.py), and that nobody else may."""

from django.db import migrations

CREATE = """
CREATE FUNCTION oversight_refresh_summaries() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_case_facts;
    REFRESH MATERIALIZED VIEW CONCURRENTLY oversight_concern_facts;
END;
$$;
REVOKE ALL ON FUNCTION oversight_refresh_summaries() FROM PUBLIC;
"""

DROP = "DROP FUNCTION IF EXISTS oversight_refresh_summaries();"


class Migration(migrations.Migration):
    dependencies = [("oversight", "0003_authorities_from_the_directory")]

    operations = [migrations.RunSQL(CREATE, DROP)]
