"""The referral's clocks and its thread's referral are required now that 0003 filled them."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_referral_state_carried_over")]

    operations = [
        *[
            migrations.AlterField(model_name="referral", name=name, field=models.DateTimeField())
            for name in ("ack_due_at", "ack_escalate_at", "outcome_due_at", "outcome_escalate_at")
        ],
        migrations.AlterField(
            model_name="authorityaction",
            name="referral",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="actions", to="referrals.referral"
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["authority", "status", "ack_due_at"], name="referral_authority_open"),
        ),
        migrations.AddIndex(
            model_name="referral", index=models.Index(fields=["referred_at"], name="referral_referred_at")
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("outcome_at__isnull", True), models.Q(("outcome", ""), _negated=True), _connector="OR"
                ),
                name="referral_outcome_has_code",
            ),
        ),
    ]
