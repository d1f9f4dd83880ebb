"""An officer's authorities are the directory's: the same tables, state only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("directory", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="authorities",
                    field=models.ManyToManyField(blank=True, related_name="officers", to="directory.localauthority"),
                ),
            ],
        ),
    ]
