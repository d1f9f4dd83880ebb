from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0014_message_read_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="contact_given_on",
            field=models.DateField(blank=True, null=True),
        ),
    ]
