"""A receipt is signed by the workers after the report commits, verifies, and fails when anything changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from audit.models import AuditEvent, Subject
from core import crypto, keystore, receipts
from core.receipts import generate_receipt_key
from lifecycle.shredding import shred_family
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports.models import Receipt
from reports.outbox_kinds import SIGN_RECEIPT
from reports.receipts import UnknownField, receipt_sign, submission_of, text_matches
from reports.services import Contact
from tests.factories import receipt_keys_configured, receipt_signed, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

DETAILS = "A girl keeps going missing and managers do nothing."


def test_a_receipt_made_by_the_worker_verifies() -> None:
    submitted = submit_report()
    assert Receipt.objects.get(report=submitted.report).issued_on is None, "control: signed after the commit"

    opened = receipt_signed(submitted.report)

    assert receipts.verify(receipts.parse_block(opened.block)).genuine
    assert opened.reference == submitted.report.reference
    assert opened.receipt["v"] == 1 and opened.receipt["disclosed"] == opened.receipt["issued"]
    assert set(opened.receipt["answers"]) == {"summary", "details", "internal_response"}


def test_the_block_holds_no_access_code_name_or_content() -> None:
    submitted = submit_report(
        anonymity="confidential",
        contact=Contact(name="Sam Taylor", email="s@x.test"),
    )
    block = receipt_signed(submitted.report).block

    for secret in (*submitted.access_code.split(), "Sam", "Taylor", "s@x.test", "Northside", "missing", "Told"):
        assert secret not in block, secret
    for short in ("childrens_social_care", "concern_not_acted_on", "E08000018", "confidential"):
        assert short not in block, short


def test_changing_any_one_character_fails_it() -> None:
    block = receipt_signed(submit_report().report).block

    for index, character in enumerate(block):
        changed = block[:index] + ("0" if character != "0" else "1") + block[index + 1 :]
        try:
            verdict = receipts.verify(receipts.parse_block(changed))
        except receipts.NotAReceipt:
            continue
        assert not verdict.genuine, (index, character)


def test_it_survives_line_breaks_spaces_curly_quotes_and_text_around_it() -> None:
    block = receipt_signed(submit_report().report).block
    printed = "\n".join(block[start : start + 37] for start in range(0, len(block), 37))
    retyped = "Receipt of a disclosure\n\n  " + printed.replace('"', "\u201c", 3).replace(":", " : ") + "\n\nEnd\n"

    assert receipts.verify(receipts.parse_block(retyped)).genuine


def test_a_receipt_signed_with_another_key_under_a_published_id_fails(settings: Any) -> None:
    published, forged = generate_receipt_key("prod1"), generate_receipt_key("prod1")
    receipt_keys_configured(settings, ("prod1", forged, "2020-01-01", None), signing=forged)
    block = receipt_signed(submit_report().report).block
    assert receipts.verify(receipts.parse_block(block)).genuine, "control: good with the key that made it"

    receipt_keys_configured(settings, ("prod1", published, "2020-01-01", None))

    verdict = receipts.verify(receipts.parse_block(block))
    assert not verdict.genuine and "signature does not match" in verdict.problem


def test_a_receipt_naming_an_unpublished_key_fails(settings: Any) -> None:
    block = receipt_signed(submit_report().report).block
    receipt_keys_configured(settings, ("other", generate_receipt_key("other"), "2020-01-01", None))

    verdict = receipts.verify(receipts.parse_block(block))

    assert not verdict.genuine and "never published" in verdict.problem


def test_a_receipt_from_a_rotated_key_still_verifies_and_the_new_key_signs_new_ones(settings: Any) -> None:
    old, new = generate_receipt_key("rcpt1"), generate_receipt_key("rcpt2")
    receipt_keys_configured(settings, ("rcpt1", old, "2020-01-01", None), signing=old)
    before = receipt_signed(submit_report().report).block

    receipt_keys_configured(
        settings, ("rcpt1", old, "2020-01-01", "2099-12-31"), ("rcpt2", new, "2020-01-01", None), signing=new
    )
    after = receipt_signed(submit_report().report).block

    assert receipts.verify(receipts.parse_block(before)).genuine
    assert receipts.parse_block(after)["key"] == "rcpt2" and receipts.verify(receipts.parse_block(after)).genuine


def test_a_receipt_issued_outside_its_keys_published_days_fails(settings: Any) -> None:
    key = generate_receipt_key("rcpt1")
    receipt_keys_configured(settings, ("rcpt1", key, "2020-01-01", None), signing=key)
    block = receipt_signed(submit_report().report).block

    receipt_keys_configured(settings, ("rcpt1", key, "2020-01-01", "2020-12-31"))

    verdict = receipts.verify(receipts.parse_block(block))
    assert not verdict.genuine and "not in use" in verdict.problem


def test_the_fingerprints_match_the_submitted_answers_and_no_others() -> None:
    submitted = submit_report()
    receipt = receipt_signed(submitted.report).receipt

    assert text_matches(receipt, field="details", text=DETAILS)
    assert text_matches(receipt, field="details", text=f"  {DETAILS}\r\n")  # outer space and CRLF do not count
    assert text_matches(receipt, field="summary", text="Missing episodes ignored")
    assert text_matches(receipt, field="internal_response", text="Told to drop it.")
    assert not text_matches(receipt, field="details", text=DETAILS.replace("girl", "boy"))
    assert not text_matches(receipt, field="summary", text=DETAILS)  # another answer's text
    assert not text_matches(receipt, field="details", text="Missing episodes ignored")
    with pytest.raises(UnknownField):
        text_matches(receipt, field="organisation_name", text="Northside Children's Home")
    submission = submission_of(submitted.report, keystore.data_key_of(submitted.report))
    assert text_matches(receipt, field="submission", text=json.dumps(submission, indent=2))
    assert not text_matches(receipt, field="submission", text=json.dumps({**submission, "summary": "Other"}))


def test_an_altered_fingerprint_of_any_characters_simply_does_not_match() -> None:
    """A receipt someone altered may hold any text where a digest was: no match, never an error (found by
    schemathesis as a 500: compare_digest refuses non-ASCII strings)."""
    salt = "00" * 16
    for digest in ("é" * 64, "\u2026", "", "0" * 63):
        assert not receipts.fingerprint_matches({"salt": salt, "sha256": digest}, b"Told to drop it.")


def test_decomposed_unicode_matches_the_composed_answer_it_was_sent_as() -> None:
    submitted = submit_report(details="Café staff were told")
    receipt = receipt_signed(submitted.report).receipt

    assert text_matches(receipt, field="details", text="Cafe\u0301 staff were told")


def test_an_answer_left_blank_gets_no_fingerprint() -> None:
    receipt = receipt_signed(submit_report(internal_response="").report).receipt

    assert set(receipt["answers"]) == {"summary", "details"}


def test_each_file_sent_with_the_report_is_named_by_its_original_hash() -> None:
    import hashlib

    from reports.attachments import Incoming, incoming_keep
    from reports.models import Attachment
    from reports.receipts import submitted_files

    submitted = submit_report()
    data_key = keystore.data_key_of(submitted.report)
    incoming = Incoming(name="rota.txt")
    incoming.write(b"The rota for March.\n")
    attachment = incoming_keep(incoming, content_type="text/plain", key=data_key, report_id=submitted.report.pk)
    assert submitted_files(submitted.report, data_key) == [], "control: a file added later is not the report's"
    Attachment.objects.filter(pk=attachment.pk).update(sent_with_report=True)

    receipt = receipt_signed(submitted.report).receipt

    assert receipt["files"] == [hashlib.sha256(b"The rota for March.\n").hexdigest()]


def test_the_public_tier_cannot_sign(settings: Any) -> None:
    settings.HELPLINE_ROLE = "public"
    receipts.receipt_keys.cache_clear()
    submitted = submit_report()

    assert not receipts.can_sign()
    with pytest.raises(crypto.KeyUnavailable):
        receipts.sign({"v": 1})
    receipt = Receipt.objects.get(report=submitted.report)
    outbox_process(outbox_id=OutboxMessage.objects.get(kind=SIGN_RECEIPT, target_id=receipt.pk).pk)
    row = OutboxMessage.objects.get(kind=SIGN_RECEIPT, target_id=receipt.pk)
    assert row.processed_at is None and row.last_error == "no receipt signing key", "it waits for a worker"
    assert Receipt.objects.get(pk=receipt.pk).issued_on is None


def test_a_worker_whose_key_is_not_published_refuses_to_sign(settings: Any) -> None:
    key = generate_receipt_key("rcpt9")
    receipt_keys_configured(settings, ("other", generate_receipt_key("other"), "2020-01-01", None), signing=key)

    with pytest.raises(ImproperlyConfigured):
        receipts.sign({"v": 1})


def test_signing_twice_changes_nothing_and_records_one_event() -> None:
    submitted = submit_report()
    opened = receipt_signed(submitted.report)
    receipt = Receipt.objects.get(report=submitted.report)
    body = bytes(receipt.body)

    assert receipt_sign(receipt.pk) is None
    outbox_process(outbox_id=OutboxMessage.objects.get(kind=SIGN_RECEIPT, target_id=receipt.pk).pk)

    assert bytes(Receipt.objects.get(pk=receipt.pk).body) == body
    events = AuditEvent.objects.filter(kind="receipt_signed")
    assert events.count() == 1
    event = events.get()
    assert (event.subject_kind, event.subject_id) == (Subject.REPORT, submitted.report.pk)
    assert event.detail["receipt_sha256"] == opened.digest and event.detail["key_id"] == receipt.signing_key_id
    assert event.created_at.hour == 0 and event.created_at.minute == 0, "kept to the day"


def test_the_stored_receipt_is_sealed() -> None:
    submitted = submit_report()
    opened = receipt_signed(submitted.report)

    stored = bytes(Receipt.objects.get(report=submitted.report).body)
    assert opened.reference.encode() not in stored and b'"sig"' not in stored


def test_shredding_leaves_the_receipt_unreadable() -> None:
    submitted = submit_report()
    opened = receipt_signed(submitted.report)
    receipt = Receipt.objects.get(report=submitted.report)
    key_wrap = bytes(receipt.key_wrap)

    shred_family(submitted.report, why="schedule")

    assert not Receipt.objects.filter(pk=receipt.pk).exists()
    report = type(submitted.report).objects.get(pk=submitted.report.pk)
    with pytest.raises(keystore.ContentDestroyed):
        keystore.data_key_of(report)
    assert bytes(report.reporter_wrapped_key) == b"", "the access code opens nothing either"
    assert key_wrap and AuditEvent.objects.filter(kind="receipt_signed", detail__receipt_sha256=opened.digest).exists()
