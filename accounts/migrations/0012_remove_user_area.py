from django.db import migrations


class Migration(migrations.Migration):
    """A region no longer scopes anybody: partnership members are scoped by their partnership (0011)."""

    dependencies = [("accounts", "0011_board_reviewers_become_partnership_members")]

    operations = [migrations.RemoveField(model_name="user", name="area")]
