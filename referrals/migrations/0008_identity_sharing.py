"""Identity sharing recorded per referral (consent or a two-supervisor legal duty), replacing the referral's
identity_shared flag: a referral that had it keeps it, recorded as the reporter's consent. The flag's column
stays (the statistics' materialized view selects every column of the table, and would be dropped with it)."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils.timezone import localdate


def identity_shared_as_consent(apps, schema_editor):
    """A referral made under the old rule with the reporter's identity shared (the helpline recorded that a
    named reporter agreed) keeps it: recorded as the reporter's consent for that referral, already seen,
    covering their name and the contact details its particulars name (``carried_over``)."""
    Referral = apps.get_model("referrals", "Referral")
    IdentitySharing = apps.get_model("referrals", "IdentitySharing")
    IdentitySharing.objects.bulk_create(
        IdentitySharing(
            referral_id=referral.pk,
            route="consent",
            status="agreed",
            covers=["name"],
            asked_by_id=referral.referred_by_id,
            asked_at=referral.referred_at,
            answered_on=localdate(referral.referred_at),
            seen_on=localdate(referral.referred_at),
            carried_over=True,
        )
        for referral in Referral.objects.filter(identity_shared=True).only("pk", "referred_by_id", "referred_at")
    )


def identity_sharing_back(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    IdentitySharing = apps.get_model("referrals", "IdentitySharing")
    shared = IdentitySharing.objects.filter(status__in=["agreed", "approved"]).values("referral_id")
    Referral.objects.filter(pk__in=shared).update(identity_shared=True)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0007_referral_shared_attachments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentitySharing",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "route",
                    models.CharField(
                        choices=[("consent", "With the reporter's consent"), ("legal_duty", "Under a legal duty")],
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("asked", "Waiting for the reporter's answer"),
                            ("agreed", "The reporter agreed"),
                            ("declined", "The reporter said no"),
                            ("withdrawn", "The reporter withdrew their consent"),
                            ("proposed", "Waiting for a second supervisor"),
                            ("approved", "Approved by two supervisors"),
                            ("refused", "Refused by a second supervisor"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "covers",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[("name", "name"), ("phone", "telephone number"), ("email", "email address")],
                            max_length=8,
                        ),
                        size=None,
                    ),
                ),
                ("asked_at", models.DateTimeField()),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "basis",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("immediate_risk", "A child is at immediate risk of harm"),
                            ("court_order", "A court ordered it"),
                        ],
                        max_length=16,
                    ),
                ),
                ("legal_reference", models.BinaryField(blank=True, default=b"")),
                ("answered_on", models.DateField(blank=True, null=True)),
                ("withdrawn_on", models.DateField(blank=True, null=True)),
                ("seen_on", models.DateField(blank=True, null=True)),
                ("carried_over", models.BooleanField(default=False)),
                (
                    "asked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="identity_sharings",
                        to="referrals.referral",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ["asked", "agreed", "proposed", "approved"])),
                        fields=("referral",),
                        name="identity_sharing_one_active_per_referral",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decided_by__isnull", True),
                            models.Q(("decided_by", models.F("asked_by")), _negated=True),
                            _connector="OR",
                        ),
                        name="identity_sharing_two_people",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("route", "consent"), ("status__in", ["asked", "agreed", "declined", "withdrawn"])
                            ),
                            models.Q(
                                ("basis__gt", ""),
                                ("route", "legal_duty"),
                                ("status__in", ["proposed", "approved", "refused"]),
                            ),
                            _connector="OR",
                        ),
                        name="identity_sharing_status_of_its_route",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status__in", ["approved", "refused"]), _negated=True),
                            models.Q(("decided_at__isnull", False), ("decided_by__isnull", False)),
                            _connector="OR",
                        ),
                        name="identity_sharing_decided_says_by_whom",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("covers", []), _negated=True), name="identity_sharing_covers_something"
                    ),
                ],
            },
        ),
        migrations.RunPython(identity_shared_as_consent, identity_sharing_back),
    ]
