"""The first data release put Derbyshire (E10000007) in the West Midlands and Lincolnshire (E10000019) in
Yorkshire and The Humber. Both county councils are in the East Midlands (ONS region E12000004), as the
corrected data says; databases loaded from the first release are corrected here, so boards' statistics and
regional queues are right without waiting for someone to rerun ``load_local_authorities``. A database with
no authorities yet is untouched. The statistics' summary views pick the regions up at their next refresh."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

EAST_MIDLANDS = "East Midlands"
CORRECTED = ("E10000007", "E10000019")  # Derbyshire, Lincolnshire


def regions_correct(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    authority = apps.get_model("directory", "LocalAuthority")
    authority.objects.filter(gss_code__in=CORRECTED).exclude(region=EAST_MIDLANDS).update(region=EAST_MIDLANDS)


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    # Going back leaves the correct regions in place: the wrong ones are not worth restoring.
    operations = [migrations.RunPython(regions_correct, migrations.RunPython.noop)]
