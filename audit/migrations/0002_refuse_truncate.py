"""TRUNCATE empties a table without firing its row triggers, so the append-only trigger never sees it.

A statement-level trigger refuses it. Django's test flush and the benchmark empty every table with
TRUNCATE: they let it through for test databases only (audit/testing.py), never in production.
"""

from django.db import migrations

REFUSE_TRUNCATE = """
CREATE FUNCTION audit_event_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_refuse_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_truncate();
"""

ALLOW_TRUNCATE = """
DROP TRIGGER audit_event_refuse_truncate ON audit_event;
DROP FUNCTION audit_event_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(REFUSE_TRUNCATE, reverse_sql=ALLOW_TRUNCATE)]
