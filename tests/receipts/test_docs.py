"""The offline check in docs/receipts.md works: the script, taken from the page, verifies a receipt the service
made, refuses it once changed, and checks an answer's text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import receipt_signed, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

DOC = Path(__file__).resolve().parents[2] / "docs" / "receipts.md"


def the_script() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    return str(blocks[0])


def run(tmp_path: Path, receipt_text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "check_receipt.py"
    script.write_text(the_script())
    (tmp_path / "receipt.txt").write_text(receipt_text)
    (tmp_path / "keys.json").write_text(json.dumps(Client().get("/receipts/keys.json").json()))
    return subprocess.run(  # noqa: S603 - our own script, with the running interpreter
        [sys.executable, "-I", str(script), str(tmp_path / "receipt.txt"), str(tmp_path / "keys.json"), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_documented_script_verifies_a_printed_receipt_and_checks_an_answer(tmp_path: Path) -> None:
    block = receipt_signed(submit_report().report).block
    printed = "A receipt\n\n" + "\n".join(block[start : start + 60] for start in range(0, len(block), 60))

    good = run(tmp_path, printed, "summary", "Missing episodes ignored")
    wrong = run(tmp_path, printed, "summary", "Something else")

    assert good.returncode == 0, good.stderr
    assert "Genuine" in good.stdout and "The text matches" in good.stdout
    assert "does not match" in wrong.stdout


def test_the_documented_script_refuses_a_changed_receipt(tmp_path: Path) -> None:
    block = receipt_signed(submit_report().report).block

    changed = run(tmp_path, block.replace('"v":1', '"v":2'))

    assert changed.returncode != 0 and "BadSignatureError" in changed.stderr
