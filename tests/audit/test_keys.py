"""The audit keys: generated once in development, required in production, checked at start-up."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from nacl.signing import SigningKey

from audit import keys
from audit.checks import audit_keys_configured
from audit.models import AuditEvent
from audit.trail import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def development_without_keys(settings: Any) -> Path:
    settings.PRODUCTION = False
    settings.AUDIT_MAC_KEY = ""
    settings.AUDIT_SIGNING_KEY = ""
    return Path(settings.AUDIT_DEV_KEY_FILE)


def test_development_generates_both_keys_once_into_a_private_file(development_without_keys: Path) -> None:
    path = development_without_keys
    assert not path.exists()
    mac = keys.mac_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    material = json.loads(path.read_text())
    assert base64.b64decode(material["mac"]) == mac and len(mac) == 32
    assert bytes(keys.signing_key()) == base64.b64decode(material["signing"])
    assert bytes(keys.verify_key()) == base64.b64decode(material["verify"])
    assert keys.mac_key() == mac and json.loads(path.read_text()) == material
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_development_key_file_is_never_replaced(development_without_keys: Path) -> None:
    path = development_without_keys
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys.generate_key_material()))
    before = path.read_text()
    assert keys.ensure_dev_keys() == path
    assert path.read_text() == before
    assert keys.mac_key() == base64.b64decode(json.loads(before)["mac"])


def test_production_never_generates_audit_keys(settings: Any, development_without_keys: Path) -> None:
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="AUDIT_MAC_KEY"):
        keys.mac_key()
    with pytest.raises(ImproperlyConfigured, match="AUDIT_SIGNING_KEY"):
        keys.signing_key()
    with pytest.raises(ImproperlyConfigured, match="never generates"):
        keys.ensure_dev_keys()
    assert not development_without_keys.exists()


def test_an_event_is_not_recorded_in_production_without_the_mac_key(
    settings: Any, development_without_keys: Path
) -> None:
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="AUDIT_MAC_KEY"):
        event_record(kind="content_viewed")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_is_refused(settings: Any, value: str) -> None:
    settings.AUDIT_MAC_KEY = value
    with pytest.raises(ImproperlyConfigured, match="AUDIT_MAC_KEY must be 32 random bytes in base64"):
        keys.mac_key()
    assert [e.id for e in audit_keys_configured(None)] == ["audit.E002"]


@pytest.mark.parametrize(("role", "expected"), [("staff", ["audit.E001"]), ("worker", ["audit.E001"]), ("public", [])])
def test_production_checks_that_the_processes_writing_events_hold_the_mac_key(
    settings: Any, role: str, expected: list[str]
) -> None:
    settings.PRODUCTION = True
    settings.HELPLINE_ROLE = role
    settings.AUDIT_MAC_KEY = ""
    assert [e.id for e in audit_keys_configured(None)] == expected


def test_the_mac_key_must_not_be_the_organisation_hmac_key(settings: Any) -> None:
    settings.HELPLINE_HMAC_KEY = settings.AUDIT_MAC_KEY
    assert [e.id for e in audit_keys_configured(None)] == ["audit.E003"]


def test_generate_audit_keys_prints_a_matching_set(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("generate_audit_keys")
    out = capsys.readouterr().out
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("#"))
    assert set(values) == {"AUDIT_MAC_KEY", "AUDIT_SIGNING_KEY", "AUDIT_VERIFY_KEY"}
    assert len(keys.decode_key("mac", values["AUDIT_MAC_KEY"])) == 32
    signing = SigningKey(keys.decode_key("signing", values["AUDIT_SIGNING_KEY"]))
    assert bytes(signing.verify_key) == keys.decode_key("verify", values["AUDIT_VERIFY_KEY"])
    assert f"# verify key id: {keys.key_id(signing.verify_key)}" in out


def test_check_deploy_warns_when_the_services_run_as_a_superuser() -> None:
    """The test database is reached as PostgreSQL's superuser, exactly what a deployment must not do."""
    from django.core.checks import run_checks

    messages = run_checks(include_deployment_checks=True, databases=["default"])
    assert "audit.W001" in {message.id for message in messages}
    assert "audit.W001" not in {message.id for message in run_checks(databases=["default"])}  # deploy only
