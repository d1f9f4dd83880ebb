"""The referral and the authority's thread now belong to the referrals app (its migration 0001 takes them
over): state only, no table changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0013_emailrecord_to_notify"),
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuthorityAction"),
                migrations.DeleteModel(name="Referral"),
            ],
        ),
    ]
