"""``manage.py migrate`` connects as the schema's owner (MIGRATION_DATABASE_URL), whatever role the
services run as (DATABASE_URL); the database name is kept, so a test database is migrated in place."""

from typing import Any

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as the owner: MIGRATION_DATABASE_URL."

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        runtime = {key: connection.settings_dict[key] for key in CREDENTIALS}
        owner = {key: settings.DATABASE_OWNER[key] for key in CREDENTIALS}
        if options["database"] != "default" or owner == runtime:
            super().handle(*args, **options)
            return
        connection.close()
        connection.settings_dict.update(owner)
        try:
            super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(runtime)
