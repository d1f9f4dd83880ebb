"""The referral and the authority's thread move from triage to their own app: state only, the tables keep
their names (triage_referral, triage_authorityaction) and every row stays where it is."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

KINDS = [
    ("acknowledged", "Acknowledged the referral"),
    ("strategy_discussion", "Strategy discussion"),
    ("section_47", "Section 47 enquiry"),
    ("police_referral", "Referral to the police"),
    ("lado", "Designated officer (LADO) process"),
    ("practice_review", "Practice review"),
    ("other", "Other action"),
    ("outcome", "Outcome recorded"),
    ("question", "Question for the helpline"),
    ("helpline_reply", "Reply from the helpline"),
    ("helpline_update", "Update from the helpline"),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("triage", "0012_referral_particulars"),
        ("directory", "0003_authority_phones"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Referral",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("summary", models.BinaryField()),
                        ("identity_shared", models.BooleanField(default=False)),
                        ("particulars", models.BinaryField(default=b"")),
                        ("referred_at", models.DateTimeField()),
                        (
                            "authority",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="referrals",
                                to="directory.localauthority",
                            ),
                        ),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="referrals", to="triage.case"
                            ),
                        ),
                        (
                            "referred_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "triage_referral"},
                ),
                migrations.CreateModel(
                    name="AuthorityAction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(choices=KINDS, max_length=32)),
                        ("note", models.BinaryField(blank=True)),
                        ("created_at", models.DateTimeField()),
                        ("answer_due_at", models.DateTimeField(blank=True, null=True)),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("overdue_alerted", models.BooleanField(default=False)),
                        ("relayed_to_reporter", models.BooleanField(default=False)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="authority_actions",
                                to="triage.case",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "reply_to",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="replies",
                                to="referrals.authorityaction",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "triage_authorityaction",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("answered_at__isnull", True), ("kind", "question")),
                                fields=["answer_due_at"],
                                name="question_unanswered",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
