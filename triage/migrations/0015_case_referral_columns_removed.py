"""The referral's state left the case for the referral itself (referrals 0002-0004), and the statistics
read it there (oversight 0005, which must run first: its view used these columns)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0014_referrals_moved_out"),
        ("referrals", "0004_referral_state_required"),
        ("oversight", "0006_case_facts_from_referrals"),
    ]

    operations = [
        *[
            migrations.RemoveField(model_name="case", name=name)
            for name in (
                "referred_at",
                "authority_ack_due_at",
                "authority_outcome_due_at",
                "authority_ack_escalate_at",
                "authority_outcome_escalate_at",
                "authority_acknowledged_at",
                "authority_outcome",
                "authority_outcome_at",
            )
        ],
        migrations.AlterField(
            model_name="escalation",
            name="step",
            field=models.CharField(
                choices=[
                    ("triage_overdue", "Triage overdue: supervisors alerted"),
                    ("feedback_due_soon", "Reporter feedback due within 14 days: supervisors alerted"),
                    ("feedback_overdue", "Reporter feedback overdue: supervisors alerted"),
                ],
                max_length=32,
            ),
        ),
    ]
