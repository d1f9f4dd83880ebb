"""Production refuses unsafe configurations at start-up."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit import keys as audit_keys
from core import crypto

pytestmark = [pytest.mark.slow, pytest.mark.isolated]

ROOT = Path(__file__).resolve().parents[2]


def start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "SECRET_KEY", "DEBUG"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *(args or ("check",))],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def production_keys() -> dict[str, str]:
    material = crypto.generate_key_material("prod1")
    return {
        "HELPLINE_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "helpline.example",
        "HELPLINE_PUBLIC_KEY": material["public"],
        "HELPLINE_PRIVATE_KEYS": material["private"],
        "HELPLINE_HMAC_KEY": material["hmac"],
        "OTP_KEY": material["otp"],
        "AUDIT_MAC_KEY": audit_keys.generate_key_material()["mac"],
    }


def test_production_refuses_to_start_without_its_secrets() -> None:
    result = start({"HELPLINE_ENV": "production", "HELPLINE_ROLE": "staff"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_staff_service_refuses_to_start_without_the_otp_key(production_keys: dict[str, str]) -> None:
    env = {**production_keys, "HELPLINE_ROLE": "staff"}
    del env["OTP_KEY"]
    result = start(env)
    assert result.returncode != 0
    assert "OTP_KEY" in result.stderr


def test_the_staff_service_and_workers_refuse_to_start_without_the_audit_mac_key(
    production_keys: dict[str, str],
) -> None:
    env = {**production_keys}
    del env["AUDIT_MAC_KEY"]
    for role in ("staff", "worker"):
        result = start({**env, "HELPLINE_ROLE": role})
        assert result.returncode != 0
        assert "audit.E001" in result.stderr


def test_generate_audit_keys_runs_where_the_audit_keys_are_still_missing(production_keys: dict[str, str]) -> None:
    env = {**production_keys, "HELPLINE_ROLE": "staff"}
    del env["AUDIT_MAC_KEY"]
    result = start(env, "generate_audit_keys")
    assert result.returncode == 0, result.stderr
    assert "AUDIT_SIGNING_KEY=" in result.stdout


def test_the_public_service_refuses_to_start_with_a_private_key(production_keys: dict[str, str]) -> None:
    result = start({**production_keys, "HELPLINE_ROLE": "public"})
    assert result.returncode != 0
    assert "must not hold a private key" in result.stderr


def test_the_public_service_starts_with_the_public_key_only(production_keys: dict[str, str]) -> None:
    env = {**production_keys, "HELPLINE_ROLE": "public"}
    del env["HELPLINE_PRIVATE_KEYS"]
    assert start(env).returncode == 0


def test_production_refuses_the_combined_development_role(production_keys: dict[str, str]) -> None:
    result = start({**production_keys, "HELPLINE_ROLE": "combined"})
    assert result.returncode != 0
    assert "not in production" in result.stderr


def test_production_never_generates_keys(production_keys: dict[str, str]) -> None:
    result = start({**production_keys, "HELPLINE_ROLE": "staff"}, "generate_dev_keys")
    assert result.returncode != 0
    assert "never generates keys" in result.stderr


def test_production_has_no_demo_or_seeding_commands(production_keys: dict[str, str]) -> None:
    """devdata is installed only outside production: its commands do not exist there at all."""
    for command in ("seed_demo", "demo_totp", "seed_cases"):
        result = start({**production_keys, "HELPLINE_ROLE": "staff"}, command)
        assert result.returncode != 0
        assert f"Unknown command: '{command}'" in result.stderr


def test_development_settings_start_without_devdata_as_the_image_build_does(tmp_path: Path) -> None:
    """The image leaves devdata/ out but collects its static files with the development settings."""
    folders = {path.parent for path in ROOT.glob("*/apps.py")} - {ROOT / "devdata"} | {ROOT / "helpline"}
    for folder in folders:
        shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "PYTHONPATH"))}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=tmp_path,
        env={**base, "HELPLINE_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "devdata").exists()


def _production_setting(env: dict[str, str], *names: str) -> list[str]:
    code = f"from django.conf import settings; print(*[repr(getattr(settings, n)) for n in {names!r}], sep='|')"
    result = start({**env, "HELPLINE_ROLE": "staff"}, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split("|")


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload_only_when_asked(
    production_keys: dict[str, str],
) -> None:
    names = ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
    assert _production_setting(production_keys, *names) == ["31536000", "True", "False"]
    assert _production_setting({**production_keys, "SECURE_HSTS_PRELOAD": "true"}, *names) == [
        "31536000",
        "True",
        "True",
    ]


def test_production_staff_cookies_are_secure_and_strict(production_keys: dict[str, str]) -> None:
    names = ("SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "SESSION_COOKIE_HTTPONLY")
    assert _production_setting(production_keys, *names) == ["'Strict'", "True", "'Strict'", "True"]
