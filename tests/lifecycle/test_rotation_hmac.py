"""HMAC keys have ids: what a keyed hash made names its key, rotate_hmac_key re-hashes organisations from the
sealed content, and what was hashed before a rotation is still recognised while the old key is kept."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts import services as accounts
from accounts.models import User
from core import crypto, throttle
from lifecycle.rotation import hmac_rotate_batch
from lifecycle.shredding import shred_family
from reports.models import Report
from reports.services import Idempotency, IdempotentReplay, report_submit
from tests.factories import report_input, routed_case, staff_user, staff_with_mfa, submit_report
from tests.lifecycle.keyrings import Keys, configured_keys
from triage.selectors import CaseFilters, case_list

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def hashes() -> dict[int, tuple[str, str]]:
    return {
        pk: (key_id, digest)
        for pk, key_id, digest in Report.objects.order_by("pk").values_list(
            "pk", "organisation_hash_key_id", "organisation_hash"
        )
    }


def rotate(*args: str) -> None:
    call_command("rotate_hmac_key", "--to", "h1", "--no-progress", *args)


def test_a_report_records_the_hmac_key_its_organisation_hash_was_made_with(keys: Keys) -> None:
    named = submit_report(organisation_name="Oakwood Academy").report
    unnamed = submit_report(organisation_name="").report
    assert hashes() == {named.pk: ("h0", crypto.organisation_hash("Oakwood Academy", "h0")), unnamed.pk: ("", "")}
    keys.hmac("h1", "h0")
    newer = submit_report(organisation_name="Oakwood Academy").report
    assert hashes()[newer.pk] == ("h1", crypto.organisation_hash("Oakwood Academy", "h1"))
    assert hashes()[newer.pk][1] != hashes()[named.pk][1]


def test_a_bare_key_is_the_unnamed_key_and_hashes_as_it_always_did(keys: Keys) -> None:
    keys.unnamed_hmac("legacy")
    secret = crypto.keyring().hmac_keys[crypto.UNNAMED_HMAC_KEY_ID]
    assert crypto.hmac_key_ids() == ["h0"]
    # The organisation hash as it was made before ids: the same value, so existing hashes still match.
    person = hashlib.blake2b(secret, digest_size=32, person=b"organisation").digest()
    before = hmac.new(person, b"oakwood academy", hashlib.sha256).hexdigest()
    assert crypto.organisation_hash("The Oakwood Academy") == before


def test_rotating_rehashes_every_organisation_from_its_sealed_content(keys: Keys) -> None:
    names = ["Oakwood Academy", "Oakwood Academy", "Northside Children's Home", "", "The Oakwood Academy Ltd"]
    cases = [routed_case(organisation_name=name) for name in names]
    unrouted = submit_report(organisation_name="Northside Children's Home").report
    # A destroyed report keeps its hash, for pattern history: it follows its organisation's other reports.
    destroyed = cases[1].report
    shred_family(Report.objects.get(pk=destroyed.pk), why="schedule")
    keys.hmac("h1", "h0")

    rotate("--batch-size", "1")

    expected = {case.report_id: name for case, name in zip(cases, names, strict=True)} | {
        unrouted.pk: "Northside Children's Home"
    }
    assert hashes() == {
        pk: ("h1", crypto.organisation_hash(name, "h1")) if name else ("", "") for pk, name in expected.items()
    }
    # The old key can go: nothing needs it, and search and grouping work with the new key alone.
    call_command("key_usage", "--kind", "hmac", "--key-id", "h0", stdout=None)
    keys.hmac("h1")
    page = case_list(user=staff_user(), filters=CaseFilters(search="oakwood academy", include_closed=True))
    assert page.total == 3


def test_a_run_stopped_after_one_batch_goes_on_and_a_batch_takes_whole_organisations(keys: Keys) -> None:
    for name in ["Oakwood Academy", "Oakwood Academy", "Oakwood Academy", "Elm House"]:
        submit_report(organisation_name=name)
    keys.hmac("h1", "h0")
    rotate("--batch-size", "1", "--max-batches", "1")
    # One organisation per batch however small the batch: all three Oakwood reports, or Elm House alone.
    moved = [pk for pk, (key_id, _) in hashes().items() if key_id == "h1"]
    assert len(moved) in {1, 3}
    groups = {digest for key_id, digest in hashes().values() if key_id == "h0"}
    assert len(groups) == 1
    rotate("--batch-size", "1")
    assert {key_id for key_id, _ in hashes().values()} == {"h1"}
    assert len({digest for _, digest in hashes().values()}) == 2
    before = hashes()
    rotate()
    assert hashes() == before


def test_a_batch_stopped_part_way_leaves_its_organisations_as_they_were(keys: Keys, monkeypatch: Any) -> None:
    for name in ["Oakwood Academy", "Elm House"]:
        submit_report(organisation_name=name)
    keys.hmac("h1", "h0")
    before = hashes()
    hash_of = crypto.organisation_hash
    calls = []

    def killed_at_the_second(name: str, key_id: str | None = None) -> str:
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return hash_of(name, key_id)

    monkeypatch.setattr(crypto, "organisation_hash", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        hmac_rotate_batch(to_key_id="h1", after=None, size=10)
    assert hashes() == before


def test_the_rotation_refuses_until_the_new_key_makes_new_hashes(keys: Keys) -> None:
    keys.hmac("h0", "h1")
    with pytest.raises(CommandError, match="New hashes are made with HMAC key 'h0'"):
        rotate()


def test_a_search_by_name_finds_reports_not_yet_rehashed(keys: Keys) -> None:
    old = routed_case(organisation_name="Oakwood Academy")
    keys.hmac("h1", "h0")
    new = routed_case(organisation_name="Oakwood Academy")
    page = case_list(user=staff_user(), filters=CaseFilters(search="Oakwood Academy"))
    assert {row["case_number"] for row in page.rows} == {old.case_number, new.case_number}


def test_throttle_keys_name_their_key_and_fit_the_column(keys: Keys) -> None:
    keys.hmac("hmac-2026-b", "h0")
    made = throttle.throttle_key("report-access", "R1", "client")
    assert made.startswith("hmac-2026-b:") and len(made) == 64
    assert throttle.throttle_key_matches(made, "report-access", "R1", "client")
    assert not throttle.throttle_key_matches(made, "report-access", "R2", "client")
    # Made under the old key, it is still recognised while that key is configured, and no longer once it is not.
    keys.hmac("h0")
    under_old = throttle.throttle_key("report-access", "R1", "client")
    keys.hmac("hmac-2026-b", "h0")
    assert under_old != made and throttle.throttle_key_matches(under_old, "report-access", "R1", "client")
    keys.hmac("hmac-2026-b")
    assert not throttle.throttle_key_matches(under_old, "report-access", "R1", "client")


def test_a_digest_stored_before_key_ids_is_recognised_as_the_unnamed_keys(keys: Keys) -> None:
    keys.unnamed_hmac("legacy")
    secret = crypto.keyring().hmac_keys["h0"]
    person = hashlib.blake2b(secret, digest_size=32, person=b"throttle").digest()
    stored = hmac.new(person, b"enrolment-code\x1fabc\x1fCODE", hashlib.sha256).hexdigest()
    assert len(stored) == 64 and ":" not in stored
    assert crypto.hmac_key_id_of(stored) == "h0"
    assert throttle.throttle_key_matches(stored, "enrolment-code", "abc", "CODE")


def test_an_invitation_issued_before_the_rotation_still_takes_its_enrolment_code(keys: Keys) -> None:
    admin = staff_with_mfa("admin-a", role=User.Role.ADMINISTRATOR)[0]
    issued = accounts.staff_invite(
        username="newbie", email="newbie@helpline.test", role=User.Role.CALL_HANDLER, acting_user=admin
    )
    assert issued.invitation.code_digest.startswith("h0:")
    keys.hmac("h1", "h0")
    with pytest.raises(CommandError) as still:
        call_command("key_usage", "--kind", "hmac", "--key-id", "h0", stdout=None)
    assert still.value.returncode == 1
    step = accounts.invitation_password_set(
        invitation=issued.invitation, password="A long enough passphrase 42", enrolment_code=issued.enrolment_code
    )
    assert step == accounts.PasswordStep.DONE


def test_an_api_retry_across_the_rotation_is_still_recognised_as_the_same_submission(keys: Keys) -> None:
    body = {"summary": "Missing episodes ignored"}
    filed = report_submit(data=report_input(), idempotency=Idempotency.of("retry-7f3c", body))
    keys.hmac("h1", "h0")
    with pytest.raises(IdempotentReplay) as replay:
        report_submit(data=report_input(), idempotency=Idempotency.of("retry-7f3c", body))
    assert replay.value.reference == filed.report.reference
    assert Report.objects.count() == 1
