"""The test database as a whole, for tests that search everything it holds."""

from __future__ import annotations

import subprocess

from django.db import connection


def pg_dump_text(*, column_names: bool = False) -> str:
    """A full data-only dump of the test database, one INSERT per row (naming its columns when asked),
    with times printed in London time."""
    db = connection.settings_dict
    rows = "--column-inserts" if column_names else "--inserts"
    args = ["pg_dump", "-h", db["HOST"] or "127.0.0.1", "-U", db["USER"] or "postgres", "--data-only", rows]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    env = {"PGTZ": "Europe/London", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    result = subprocess.run([*args, db["NAME"]], capture_output=True, check=True, timeout=60, env=env)
    return result.stdout.decode("utf-8")
