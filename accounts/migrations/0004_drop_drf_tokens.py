"""DRF's authtoken tokens were bearer credentials stored in clear that bypassed the second factor. The app
is gone (knox tokens replace it, issued only after the second factor); its table and every token in it
go too."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_authorities_from_the_directory")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token CASCADE", migrations.RunSQL.noop),
    ]
