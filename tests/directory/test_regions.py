"""Every authority sits in its ONS region, loaded from the real (corrected) data folder, and reloading
or migrating a database loaded from the first, wrong release puts Derbyshire and Lincolnshire back in the
East Midlands."""

from __future__ import annotations

import importlib
import io
from collections import Counter
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from directory.models import LocalAuthority

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

# ONS regions (E12) and the children's-services authorities in each.
ONS_AUTHORITIES_PER_REGION = {
    "East Midlands": 10,
    "East of England": 11,
    "London": 33,
    "North East": 12,
    "North West": 24,
    "South East": 19,
    "South West": 15,
    "West Midlands": 14,
    "Yorkshire and The Humber": 15,
}
DERBYSHIRE = "E10000007"
LINCOLNSHIRE = "E10000019"
FIRST_RELEASE = {DERBYSHIRE: "West Midlands", LINCOLNSHIRE: "Yorkshire and The Humber"}


def per_region() -> dict[str, int]:
    return dict(Counter(LocalAuthority.objects.values_list("region", flat=True)))


def first_release_regions() -> None:
    for code, region in FIRST_RELEASE.items():
        LocalAuthority.objects.filter(gss_code=code).update(region=region)


@pytest.mark.slow
@pytest.mark.isolated
def test_the_authorities_are_loaded_from_the_shared_data_folder() -> None:
    out = io.StringIO()
    call_command("load_local_authorities", stdout=out)
    assert "Loaded 153 local authorities (0 new)" in out.getvalue()
    assert f"from {Path(settings.LOAD_LA_DEFAULT_DIR)}" in out.getvalue()


def test_each_region_holds_as_many_authorities_as_the_ons_counts() -> None:
    assert per_region() == ONS_AUTHORITIES_PER_REGION
    assert sum(ONS_AUTHORITIES_PER_REGION.values()) == LocalAuthority.objects.count() == 153


def test_derbyshire_and_lincolnshire_are_in_the_east_midlands() -> None:
    for code in (DERBYSHIRE, LINCOLNSHIRE):
        assert LocalAuthority.objects.get(gss_code=code).region == "East Midlands"


@pytest.mark.slow
@pytest.mark.isolated
def test_reloading_a_database_from_the_first_release_corrects_its_regions_in_place() -> None:
    first_release_regions()
    before = dict(LocalAuthority.objects.values_list("gss_code", "pk"))
    assert per_region()["East Midlands"] == 8

    call_command("load_local_authorities", stdout=io.StringIO())

    assert per_region() == ONS_AUTHORITIES_PER_REGION
    assert dict(LocalAuthority.objects.values_list("gss_code", "pk")) == before
    # Reloading again changes nothing.
    call_command("load_local_authorities", stdout=io.StringIO())
    assert per_region() == ONS_AUTHORITIES_PER_REGION


def test_the_data_migration_corrects_a_database_from_the_first_release() -> None:
    migration = importlib.import_module("directory.migrations.0002_derbyshire_and_lincolnshire_in_the_east_midlands")
    first_release_regions()
    with connection.schema_editor(atomic=False) as editor:
        migration.regions_correct(apps, editor)

        assert per_region() == ONS_AUTHORITIES_PER_REGION
        # Run twice, it finds nothing more to do.
        migration.regions_correct(apps, editor)
    assert per_region() == ONS_AUTHORITIES_PER_REGION
