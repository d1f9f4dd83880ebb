"""Configuring the content keys as a deployment would, for the rotation tests: key pairs and HMAC keys by id,
set through Django's settings and loaded afresh (core.crypto caches its keyring per process)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.utils

from core import crypto


class Keys:
    """Helpline key pairs and HMAC keys by id, made once each, configured on ``settings`` (the pytest-django
    fixture) as HELPLINE_PUBLIC_KEY, HELPLINE_PRIVATE_KEYS and HELPLINE_HMAC_KEYS."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.pairs: dict[str, dict[str, str]] = {}
        self.hmac_secrets: dict[str, str] = {}

    def pair(self, key_id: str) -> dict[str, str]:
        if key_id not in self.pairs:
            self.pairs[key_id] = crypto.generate_key_material(key_id)
        return self.pairs[key_id]

    def helpline(self, public: str, *private: str) -> None:
        """Seal new reports to ``public``; open with the private keys ``private``."""
        self.settings.HELPLINE_PUBLIC_KEY = self.pair(public)["public"]
        self.settings.HELPLINE_PRIVATE_KEYS = ",".join(self.pair(key_id)["private"] for key_id in private)
        crypto.keyring.cache_clear()

    def hmac(self, *key_ids: str) -> None:
        """HELPLINE_HMAC_KEYS with these ids, the first the one new hashes are made with."""
        for key_id in key_ids:
            self.hmac_secrets.setdefault(key_id, base64.b64encode(nacl.utils.random(32)).decode())
        self.settings.HELPLINE_HMAC_KEYS = ",".join(f"{key_id}:{self.hmac_secrets[key_id]}" for key_id in key_ids)
        self.settings.HELPLINE_HMAC_KEY = ""
        crypto.keyring.cache_clear()

    def unnamed_hmac(self, key_id: str) -> None:
        """The single HMAC key as HELPLINE_HMAC_KEY in bare base64, the form before ids (its id is h0)."""
        self.hmac_secrets.setdefault(key_id, base64.b64encode(nacl.utils.random(32)).decode())
        self.settings.HELPLINE_HMAC_KEYS = ""
        self.settings.HELPLINE_HMAC_KEY = self.hmac_secrets[key_id]
        crypto.keyring.cache_clear()


def configured_keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    """For a module's ``keys`` fixture: helpline key pair ``old1`` and HMAC key ``h0`` configured, custody keys
    and the shred log in tmp_path; the keyring loaded afresh afterwards."""
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    made = Keys(settings)
    made.helpline("old1", "old1")
    made.hmac("h0")
    yield made
    crypto.keyring.cache_clear()
