"""The national bodies a case may be referred to: the independent national review team, Ofsted, the Care
Quality Commission, the Child Safeguarding Practice Review Panel and England's 39 territorial police forces.
Contact addresses are left blank: administrators set them (never invented). Rerunning adds only what is
missing, so an administrator's changes are kept."""

import re

from django.db import migrations
from django.utils.text import slugify

POLICE_FORCES = [
    "Avon and Somerset Constabulary",
    "Bedfordshire Police",
    "Cambridgeshire Constabulary",
    "Cheshire Constabulary",
    "City of London Police",
    "Cleveland Police",
    "Cumbria Constabulary",
    "Derbyshire Constabulary",
    "Devon and Cornwall Police",
    "Dorset Police",
    "Durham Constabulary",
    "Essex Police",
    "Gloucestershire Constabulary",
    "Greater Manchester Police",
    "Hampshire and Isle of Wight Constabulary",
    "Hertfordshire Constabulary",
    "Humberside Police",
    "Kent Police",
    "Lancashire Constabulary",
    "Leicestershire Police",
    "Lincolnshire Police",
    "Merseyside Police",
    "Metropolitan Police Service",
    "Norfolk Constabulary",
    "North Yorkshire Police",
    "Northamptonshire Police",
    "Northumbria Police",
    "Nottinghamshire Police",
    "South Yorkshire Police",
    "Staffordshire Police",
    "Suffolk Constabulary",
    "Surrey Police",
    "Sussex Police",
    "Thames Valley Police",
    "Warwickshire Police",
    "West Mercia Police",
    "West Midlands Police",
    "West Yorkshire Police",
    "Wiltshire Police",
]

BODIES = [
    ("review-team", "Independent national review team", "review_team"),
    ("ofsted", "Ofsted", "ofsted"),
    ("cqc", "Care Quality Commission", "cqc"),
    ("cspr-panel", "Child Safeguarding Practice Review Panel", "cspr_panel"),
    *(
        (f"police-{slugify(re.sub(r' (Police Service|Police|Constabulary)$', '', name))}", name, "police_force")
        for name in POLICE_FORCES
    ),
]


def load(apps, schema_editor):
    NationalBody = apps.get_model("directory", "NationalBody")
    for code, name, kind in BODIES:
        NationalBody.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_national_bodies")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
