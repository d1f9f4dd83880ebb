"""The runtime role's privileges: what web, worker and beat may do in the database, granted by the owner.

Everything an application needs on every table, except that the audit trail takes INSERT and SELECT only,
so that even a process taken over cannot rewrite history; and EXECUTE on the one function that refreshes
the statistics views, which only their owner could otherwise do. Applied by core's migration 0002 and again
after every ``migrate`` (core/apps.py), so tables added later get the same grants. Nothing happens when the
runtime role is the owner itself (development on one role) or does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY_TABLES = ("audit_event",)
RUNTIME_FUNCTIONS = ("oversight_refresh_summaries()", "oversight_refresh_picture()")


def runtime_grants(connection: BaseDatabaseWrapper) -> bool:
    """Grant the runtime role its privileges; False when there is no separate runtime role to grant to."""
    role = settings.DATABASE_RUNTIME_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", [role])
        current, exists = cursor.fetchone() or ("", False)
        if not role or role == current or not exists:
            return False
        grantee = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {grantee}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {grantee}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {grantee}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if (cursor.fetchone() or (False,))[0]:
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {grantee}")
        for function in RUNTIME_FUNCTIONS:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
            if (cursor.fetchone() or (False,))[0]:
                cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {grantee}")
    return True
