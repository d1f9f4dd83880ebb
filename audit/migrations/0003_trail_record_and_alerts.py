"""The trail's own record, and the alerts the checkpointer raises.

``audit_trail`` holds one row, written here and never changed (but for the one time its first_seen_at is set):

* ``trail_id``, a random id the checkpoints carry, so that a sink is only ever matched against this trail. It
  lives in its own table, so a TRUNCATE of audit_event does not reset it, and it has no Django model, so
  Django's test flush (which empties every model's table) leaves it alone too.
* the carry-over point: the last unkeyed (version 1 or 2) event before the keyed chain began, i.e. the head
  of the legacy chain, as it is now; NULL for a trail that never had unkeyed events. Any unkeyed event after
  it is a forgery (audit.trail). The first checkpoint signs it into the sink, where the database cannot
  change it.
* ``first_seen_at``: when the checkpointer first saw events, so verify_audit can tell "no checkpoint yet"
  from checkpoints that should exist and do not.

Triggers refuse every other UPDATE, DELETE and TRUNCATE, as on audit_event.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The head of the unkeyed chain: the last version 1 or 2 event below the first version 3 one (or below
# everything when no keyed event exists yet). tests/audit reuse it to stand in for this migration.
LEGACY_HEAD = """
SELECT id, row_hash FROM audit_event
WHERE chain_version IN (1, 2)
  AND id < COALESCE((SELECT min(id) FROM audit_event WHERE chain_version = 3), 9223372036854775807)
ORDER BY id DESC LIMIT 1
"""

TRAIL_RECORD = f"""
CREATE TABLE audit_trail (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    trail_id uuid NOT NULL UNIQUE,
    carry_over_event_id bigint NULL,
    carry_over_hash varchar(64) NULL,
    recorded_at timestamptz NOT NULL,
    first_seen_at timestamptz NULL,
    CHECK ((carry_over_event_id IS NULL) = (carry_over_hash IS NULL))
);
INSERT INTO audit_trail (trail_id, carry_over_event_id, carry_over_hash, recorded_at)
    SELECT gen_random_uuid(), legacy.id, legacy.row_hash, now()
    FROM (SELECT 1) AS one LEFT JOIN LATERAL ({LEGACY_HEAD}) AS legacy ON true;

CREATE FUNCTION audit_trail_refuse_change() RETURNS trigger AS $$
BEGIN
    -- Only the checkpointer's mark, once: first_seen_at from NULL to a time, nothing else changed.
    IF TG_OP = 'UPDATE' THEN
        IF OLD.first_seen_at IS NULL AND NEW.first_seen_at IS NOT NULL
            AND (NEW.singleton, NEW.trail_id, NEW.carry_over_event_id, NEW.carry_over_hash, NEW.recorded_at)
                IS NOT DISTINCT FROM
                (OLD.singleton, OLD.trail_id, OLD.carry_over_event_id, OLD.carry_over_hash, OLD.recorded_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_trail is fixed: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_trail_fixed
    BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_refuse_change();
CREATE TRIGGER audit_trail_refuse_truncate
    BEFORE TRUNCATE ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_refuse_change();
"""  # noqa: S608 - only the constant above is interpolated

DROP_TRAIL_RECORD = """
DROP TABLE audit_trail;
DROP FUNCTION audit_trail_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_refuse_truncate"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(TRAIL_RECORD, reverse_sql=DROP_TRAIL_RECORD),
        migrations.CreateModel(
            name="AuditAlert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("fingerprint", models.CharField(max_length=100, unique=True)),
                ("reason", models.TextField()),
                ("raised_at", models.DateTimeField()),
                ("last_found_at", models.DateTimeField()),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "audit_alert",
                "ordering": ["-raised_at", "-id"],
            },
        ),
    ]
