from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0012_content_destroyed_early"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="contact_given_on",
            field=models.DateField(blank=True, null=True),
        ),
    ]
