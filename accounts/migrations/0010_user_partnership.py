import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_invitation_enrolment_code_and_emailed_link"),
        ("directory", "0004_safeguarding_partnerships"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="directory.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                choices=[
                    ("call_handler", "Helpline call handler"),
                    ("supervisor", "Helpline supervisor"),
                    ("authority_officer", "Local authority officer"),
                    ("partnership", "Safeguarding partnership"),
                    ("oversight_analyst", "National oversight analyst"),
                    ("administrator", "Administrator"),
                ],
                default="call_handler",
                max_length=32,
            ),
        ),
    ]
