"""The role the services run as can add to the audit trail and read it, and can never rewrite it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from audit.trail import event_record
from core.roles import runtime_grants
from oversight.selectors import stats_refresh
from tests.live import process_env

# Roles belong to the whole PostgreSQL cluster, not to one database: under pytest-xdist each worker has its own
# test database but would share one role, and a worker could not drop a role the other had just granted
# privileges to in its database. So each worker makes a role of its own ("master" when not distributed).
ROLE_PREFIX = "helpline_runtime_test"


@pytest.fixture
def runtime_role(settings, worker_id: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A login role like the deployment's runtime role, granted exactly what core/roles.py grants."""
    role = f"{ROLE_PREFIX}_{worker_id}"
    with connection.cursor() as cursor:
        if role_exists(role):  # left behind by an interrupted run
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")
        cursor.execute(f"CREATE ROLE {role} LOGIN")
    settings.DATABASE_RUNTIME_ROLE = role
    assert runtime_grants(connection)
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


def role_exists(role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def as_runtime_role(role: str) -> psycopg.Connection[tuple[object, ...]]:
    params = connection.settings_dict
    return psycopg.connect(host=params["HOST"], port=params["PORT"], dbname=params["NAME"], user=role, autocommit=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET kind = 'rewritten'", "DELETE FROM audit_event", "TRUNCATE audit_event"],
)
def test_the_runtime_role_cannot_rewrite_the_audit_trail(runtime_role: str, statement: str) -> None:
    event_record(kind="content_viewed", detail={"n": 1})
    with as_runtime_role(runtime_role) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_adds_events_works_on_cases_and_refreshes_statistics(runtime_role: str) -> None:
    event_record(kind="content_viewed", detail={"n": 1})
    with as_runtime_role(runtime_role) as conn:
        row = conn.execute("SELECT previous_hash, row_hash FROM audit_event").fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO audit_event (subject_kind, kind, detail, created_at, chain_version, previous_hash, row_hash)"
            " VALUES ('', 'probe', '{}', now(), 3, %s, %s)",
            [row[1], "f" * 64],
        )
        conn.execute("UPDATE triage_case SET escalated = escalated")  # the usual privileges elsewhere
        conn.execute("SELECT oversight_refresh_summaries()")  # the owner's refresh, through its function
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("REFRESH MATERIALIZED VIEW oversight_case_facts")  # but not directly


@pytest.mark.django_db(transaction=True)
def test_nobody_else_may_run_the_refresh_function(runtime_role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_function_privilege('public', 'oversight_refresh_summaries()', 'EXECUTE')")
        assert cursor.fetchone() == (False,)
    stats_refresh()  # the owner still can


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("DATABASE_RUNTIME_ROLE"), reason="make test names the runtime role")
def test_processes_the_tests_start_run_as_the_runtime_role() -> None:
    """Gunicorn and the Celery workers tests start connect as make's runtime role, as deployed services do."""
    code = (
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SELECT current_user, has_table_privilege(current_user, %s, %s)', ['audit_event', 'UPDATE'])\n"
        "print(*cursor.fetchone())\n"
    )
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1].split() == [os.environ["DATABASE_RUNTIME_ROLE"], "False"]
