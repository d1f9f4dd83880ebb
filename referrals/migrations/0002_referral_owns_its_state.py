"""Each referral carries its own state: status, clocks, outcome, escalation ladder, and its thread (the
columns, nullable until 0003 fills them from the case and 0004 makes them required)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("triage", "0014_referrals_moved_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="status",
            field=models.CharField(
                choices=[
                    ("awaiting_acknowledgement", "Waiting for acknowledgement"),
                    ("acknowledged", "Acknowledged"),
                    ("outcome_recorded", "Outcome recorded"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="awaiting_acknowledgement",
                max_length=32,
            ),
        ),
        *[
            migrations.AddField(model_name="referral", name=name, field=models.DateTimeField(null=True))
            for name in ("ack_due_at", "ack_escalate_at", "outcome_due_at", "outcome_escalate_at")
        ],
        migrations.AddField(
            model_name="referral", name="acknowledged_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="referral",
            name="outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_further_action", "No further action"),
                    ("child_protection_plan", "Child protection plan"),
                    ("child_in_need_support", "Child in need support"),
                    ("early_help", "Early help"),
                    ("police_investigation", "Police investigation"),
                    ("disciplinary_or_lado", "Disciplinary or designated officer (LADO) action"),
                    ("practice_changed", "Practice or policy changed"),
                    ("concern_not_upheld", "Concern not upheld"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="referral", name="outcome_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="referral", name="withdrawn_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(model_name="referral", name="escalated", field=models.BooleanField(default=False)),
        migrations.AddField(
            model_name="authorityaction",
            name="referral",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="actions",
                to="referrals.referral",
            ),
        ),
        migrations.CreateModel(
            name="ReferralEscalation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "step",
                    models.CharField(
                        choices=[
                            ("ack_overdue", "No acknowledgement in 1 working day: supervisors alerted"),
                            (
                                "ack_overdue_national",
                                "No acknowledgement in 3 working days: national oversight and the partnership alerted",
                            ),
                            ("outcome_overdue", "No outcome in 45 working days: supervisors alerted"),
                            (
                                "outcome_overdue_national",
                                "No outcome in 47 working days: national oversight and the partnership alerted",
                            ),
                        ],
                        max_length=32,
                    ),
                ),
                ("deadline", models.DateTimeField()),
                ("created_at", models.DateTimeField()),
                (
                    "referral",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="escalations",
                        to="referrals.referral",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("referral", "step"), name="referral_escalation_once_per_step")
                ]
            },
        ),
    ]
