"""The authority directory moves from triage: the same tables (triage_localauthority, ...), state only."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("triage", "0008_case_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LocalAuthority",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("gss_code", models.CharField(max_length=9, unique=True)),
                        ("name", models.CharField(max_length=128)),
                        ("official_name", models.CharField(max_length=255)),
                        ("kind", models.CharField(max_length=64)),
                        ("region", models.CharField(db_index=True, max_length=64)),
                        ("mysociety_code", models.CharField(blank=True, max_length=8)),
                        ("gov_uk_slug", models.CharField(blank=True, max_length=128)),
                        (
                            "former_gss_codes",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=9), blank=True, default=list, size=None
                            ),
                        ),
                        (
                            "referral_email",
                            models.EmailField(blank=True, help_text="The authority's referral inbox.", max_length=254),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "local authorities",
                        "db_table": "triage_localauthority",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="PostcodeException",
                    fields=[
                        ("postcode", models.CharField(max_length=8, primary_key=True, serialize=False)),
                        ("authority_code", models.CharField(max_length=9)),
                    ],
                    options={
                        "db_table": "triage_postcodeexception",
                    },
                ),
                migrations.CreateModel(
                    name="PostcodeArea",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "level",
                            models.CharField(choices=[("district", "District"), ("sector", "Sector")], max_length=8),
                        ),
                        ("code", models.CharField(max_length=8)),
                        ("authority_code", models.CharField(max_length=9)),
                        ("candidates", models.JSONField(default=list)),
                    ],
                    options={
                        "db_table": "triage_postcodearea",
                        "constraints": [models.UniqueConstraint(fields=("level", "code"), name="postcode_area_unique")],
                    },
                ),
            ],
        ),
    ]
