"""Shared by the backup and restore tests: their own key folder, shred log and audit keys, and throwaway
databases to restore into (named helpline_backup_*)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from audit import keys


@pytest.fixture
def lifecycle_paths(settings: Any, tmp_path: Path) -> Path:
    """Custody keys, the shred log and the audit trail's keys and sink of this test alone."""
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    material = keys.generate_key_material()
    settings.AUDIT_MAC_KEY = material["mac"]
    settings.AUDIT_SIGNING_KEY = material["signing"]
    settings.AUDIT_DEV_KEY_FILE = str(tmp_path / "dev-audit-keys.json")
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "checkpoints.jsonl")
    return tmp_path


def server_conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host=str(db["HOST"]), port=str(db["PORT"]), user=str(db["USER"]), dbname=dbname
    )


def new_database() -> str:
    """A new, empty database on the test server (named helpline_backup_*); returns its URL."""
    name = f"helpline_backup_{secrets.token_hex(6)}"
    with psycopg.connect(server_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{dbname}"
