"""docs/evidence.md's script, exactly as published, opens and checks a real bundle: with the recipient's key (or
their age identity) and the service's verify key, and refuses a wrong key, an altered bundle or a wrong verify key."""

from __future__ import annotations

import base64
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nacl.public import PrivateKey

from core import secretstream, signing
from lifecycle import bundle, evidence
from lifecycle.evidence import Resolved
from lifecycle.models import EvidenceExport
from lifecycle.recipient_keys import recipient_key_parse
from tests.factories import attachment_make, routed_case, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "evidence.md"
AGE_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
AGE_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"


@pytest.fixture(autouse=True)
def _own_folders(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    settings.EVIDENCE_EXPORT_DIR = str(tmp_path / "exports")


@pytest.fixture
def script(tmp_path: Path) -> ModuleType:
    """The one Python block of docs/evidence.md, loaded as the recipient would run it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text("utf-8"), re.S)
    assert len(blocks) == 1
    path = tmp_path / "open_bundle.py"
    path.write_text(blocks[0])
    spec = importlib.util.spec_from_file_location("open_bundle", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verify_key() -> str:
    keys = signing.service_keys()
    return f"{keys.key_id}:{signing.public_key()}"


def built_for(recipient_key: str) -> Path:
    first, second = staff_user("first"), staff_user("second")
    case = routed_case()
    attachment_make(case, b"Cleaned minutes\n", name="minutes.txt")
    export = evidence.export_prepare(
        resolved=Resolved(case_numbers=[case.case_number], destroyed=[]),
        scope=EvidenceExport.Scope.CASE,
        authority=None,
        period="",
        period_from=None,
        period_to=None,
        recipient="The Crown Court at Sheffield",
        key=recipient_key_parse(recipient_key),
        basis=EvidenceExport.Basis.COURT_ORDER,
        basis_reference="T20267001",
        tell_reporters=True,
        withheld_because="",
        acting_user=first,
    )
    evidence.export_approve(export=export, digest_seen=export.frozen_digest, acting_user=second)
    bundle.evidence_build(export.pk)
    return evidence.bundle_path(EvidenceExport.objects.get(pk=export.pk))


def test_keygen_writes_a_private_key_and_prints_the_fingerprint_the_page_shows(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "inquiry.key"
    assert script.main(["keygen", str(key_file)]) == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    out = capsys.readouterr().out
    public = re.search(r"Public key \(send it to the helpline\): (\S+)", out)
    assert public
    page = recipient_key_parse(public.group(1))
    assert page.raw == bytes(PrivateKey(base64.b64decode(key_file.read_text().strip())).public_key)
    assert f"Fingerprint (read it to them by telephone): {page.fingerprint}" in out
    assert script.main(["fingerprint", AGE_RECIPIENT]) == 0
    assert capsys.readouterr().out.strip() == recipient_key_parse(AGE_RECIPIENT).fingerprint


def test_the_script_opens_and_checks_a_bundle(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = PrivateKey(bytes([5]) * 32)
    key_file = tmp_path / "court.key"
    key_file.write_text(base64.b64encode(bytes(private)).decode() + "\n")
    path = built_for(base64.b64encode(bytes(private.public_key)).decode())
    out_dir = tmp_path / "opened"
    assert script.main(["open", str(path), str(key_file), str(out_dir), "--verify-key", verify_key()]) == 0
    said = capsys.readouterr().out
    assert "The manifest's signature verifies, and all" in said
    assert (out_dir / "manifest.json").is_file()
    files = list(out_dir.glob("cases/*/files/*.txt"))
    assert [file.read_bytes() for file in files] == [b"Cleaned minutes\n"]
    assert not (out_dir / "bundle.tar").exists()


def test_the_script_reads_an_age_identity(script: ModuleType, tmp_path: Path) -> None:
    identity = tmp_path / "age.txt"
    identity.write_text(f"# created: 2026-01-01\n# public key: {AGE_RECIPIENT}\n{AGE_IDENTITY}\n")
    path = built_for(AGE_RECIPIENT)
    assert script.main(["open", str(path), str(identity), str(tmp_path / "out"), "--verify-key", verify_key()]) == 0


def test_the_script_refuses_another_key_an_altered_bundle_and_a_wrong_verify_key(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = PrivateKey(bytes([7]) * 32)
    mine, theirs = tmp_path / "mine.key", tmp_path / "theirs.key"
    mine.write_text(base64.b64encode(bytes(private)).decode())
    theirs.write_text(base64.b64encode(bytes(PrivateKey(bytes([8]) * 32))).decode())
    path = built_for(base64.b64encode(bytes(private.public_key)).decode())

    assert script.main(["open", str(path), str(theirs), str(tmp_path / "a"), "--verify-key", verify_key()]) == 1
    assert "not yours" in capsys.readouterr().err

    other_signer = "dev9:" + base64.b64encode(bytes(PrivateKey(bytes([9]) * 32).public_key)).decode()
    assert script.main(["open", str(path), str(mine), str(tmp_path / "b"), "--verify-key", other_signer]) == 1
    assert "signature does not verify" in capsys.readouterr().err

    altered = tmp_path / "altered.bundle"
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 1
    altered.write_bytes(bytes(raw))
    assert script.main(["open", str(altered), str(mine), str(tmp_path / "c"), "--verify-key", verify_key()]) == 1
    assert "does not open" in capsys.readouterr().err

    cut = tmp_path / "cut.bundle"
    cut.write_bytes(path.read_bytes()[: -secretstream.SEALED_CHUNK])
    assert script.main(["open", str(cut), str(mine), str(tmp_path / "d"), "--verify-key", verify_key()]) == 1
    assert "cut short" in capsys.readouterr().err
