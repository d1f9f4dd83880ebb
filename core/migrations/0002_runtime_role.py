"""The runtime role (DATABASE_RUNTIME_ROLE, DATABASE_URL's by default) gets its privileges: INSERT and SELECT
only on the audit trail, the refresh function, the usual privileges elsewhere (core/roles.py). Later
migrations' tables get the same after every migrate."""

from django.db import migrations

from core.roles import runtime_grants


def grant(apps, schema_editor):
    runtime_grants(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("audit", "0002_refuse_truncate"),
        ("oversight", "0004_refresh_function"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
