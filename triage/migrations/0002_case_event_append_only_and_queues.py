from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION triage_caseevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'triage_caseevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER triage_caseevent_append_only
    BEFORE UPDATE OR DELETE ON triage_caseevent
    FOR EACH ROW EXECUTE FUNCTION triage_caseevent_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS triage_caseevent_append_only ON triage_caseevent;
DROP FUNCTION IF EXISTS triage_caseevent_refuse_change();
"""


def create_queues(apps, schema_editor):
    Queue = apps.get_model("triage", "Queue")
    Queue.objects.update_or_create(slug="urgent", defaults={"name": "Urgent", "kind": "urgent"})
    Queue.objects.update_or_create(slug="national", defaults={"name": "National triage", "kind": "national"})


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP),
        migrations.RunPython(create_queues, migrations.RunPython.noop),
    ]
