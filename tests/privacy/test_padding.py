"""Lengths give away nothing (issue 21, point 6): every sealed column is padded to a bucket before sealing.

A secretbox ciphertext is its plaintext plus 40 bytes, so unpadded, a concern or a message one character
longer was stored one byte longer. Now what is sealed is padded to 512 bytes, then each power of two
(core.padding), and:

- for every sealed column, two texts of different lengths within one bucket, written through the service
  that writes that column, are stored with the same length (read from the raw column with SQL);
- every BinaryField of every model is either such a column or a key or salt of fixed size, so a new
  sealed column fails here until it is covered;
- rows sealed before padding still open, and ``manage.py repad_sealed`` re-pads them in batches on the
  workers (ids only in the task messages), idempotently.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import nacl.exceptions
import pytest
import time_machine
from celery import signals
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.http import QueryDict
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st
from nacl.secret import SecretBox

from accounts.models import User
from core import crypto, form_retry
from directory.lookup import authority_by_code
from referrals import services as referral_services
from referrals.models import AuthorityAction, Referral
from reports import checkins
from reports.drafts import COOKIE_NAMES
from reports.models import Anonymity, Attachment, Draft, Message, Report
from reports.services import Contact, message_send_from_reporter, report_unlock
from tests import live
from tests.factories import client_with_a_draft, referral_of, staff_user, submit_report
from triage import case_actions
from triage.case_content import case_data_key
from triage.intake import report_route
from triage.models import Case, CaseNote

ROTHERHAM = "E08000018"
ROOT = Path(__file__).resolve().parents[2]
# Two pairs of texts, each pair within one bucket whatever else the row's plaintext holds (its JSON keys,
# the other answers): 512 bytes, and 2048 bytes.
PAIRS = [pytest.param(5, 150, id="512-byte bucket"), pytest.param(1100, 1500, id="2048-byte bucket")]
# A secretbox ciphertext is the plaintext plus its nonce (24 bytes) and authenticator (16).
OVERHEAD = 40


def stored_length(model: type[models.Model], field: str, pk: object) -> int:
    """The length of the column as the database holds it."""
    meta = model._meta
    quote = connection.ops.quote_name
    column, table, key = (quote(meta.get_field(field).column), quote(meta.db_table), quote(meta.pk.column))  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        # Names from the model's own metadata, quoted; the value is a parameter.
        cursor.execute(f"SELECT octet_length({column}) FROM {table} WHERE {key} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None and row[0] is not None, f"no {table}.{column} row {pk}"
    return int(row[0])


def is_bucket_length(length: int) -> bool:
    size = length - OVERHEAD
    return size >= 512 and size & (size - 1) == 0


def text_of(length: int) -> str:
    """Ordinary words, exactly ``length`` characters (ASCII: as many bytes)."""
    words = "the manager said to leave it and nobody wrote anything down again "
    return (words * (length // len(words) + 1))[:length]


# --- writing each sealed column through its own service ------------------------------------------------


@dataclass
class World:
    handler: User
    officer: User
    requests: RequestFactory

    def routed(self) -> Case:
        return report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)

    def referred(self) -> Case:
        case = self.routed()
        referral_services.case_refer(case=case, summary="Summary.", acting_user=self.handler)
        return Case.objects.get(pk=case.pk)

    def acknowledged(self) -> Case:
        case = self.referred()
        referral_services.referral_acknowledge(referral=referral_of(case), acting_user=self.officer)
        return case


def report_details(world: World, text: str) -> int:
    return stored_length(Report, "content", submit_report(details=text).report.pk)


def report_contact_details(world: World, text: str) -> int:
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name=text, email="sam@example.com", phone="07700 900 982")
    )
    return stored_length(Report, "content", submitted.report.pk)


def retaliation_details(world: World, text: str) -> int:
    submitted = submit_report()
    checkins.checkins_opt_in(report=submitted.report)
    _, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    with time_machine.travel(submitted.report.submitted_at + timedelta(days=32)):
        due = checkins.checkin_due(report=submitted.report)
        assert due is not None
        retaliation = checkins.checkin_answer(checkin=due, answer="yes", details=text, data_key=key)
    assert retaliation is not None
    return stored_length(Report, "content", retaliation.pk)


def message_from_reporter(world: World, text: str) -> int:
    submitted = submit_report()
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    message = message_send_from_reporter(report=report, data_key=key, body=text)
    return stored_length(Message, "body", message.pk)


def message_from_helpline(world: World, text: str) -> int:
    message = case_actions.case_ask_reporter(case=world.routed(), body=text, acting_user=world.handler)
    return stored_length(Message, "body", message.pk)


def case_note(world: World, text: str) -> int:
    note = case_actions.case_add_note(case=world.routed(), body=text, acting_user=world.handler)
    return stored_length(CaseNote, "body", note.pk)


def legal_hold_reason(world: World, text: str) -> int:
    from triage import retention
    from triage.models import LegalHold

    (hold,) = retention.hold_place(case=world.routed(), basis="court_order", reason=text, acting_user=world.handler)
    return stored_length(LegalHold, "reason", hold.pk)


def identity_legal_reference(world: World, text: str) -> int:
    from referrals import identity
    from referrals.models import IdentitySharing

    submitted = submit_report(
        local_authority=authority_by_code(ROTHERHAM),
        anonymity=Anonymity.NAMED,
        contact=Contact(name="Sam", email="sam@example.com"),
    )
    case = report_route(report_id=submitted.report.pk)
    referral = referral_services.case_refer(case=case, summary="Summary.", acting_user=world.handler)
    sharing = identity.identity_propose(
        case=case,
        referral_id=referral.pk,
        covers=["name"],
        basis="court_order",
        legal_reference=text,
        acting_user=staff_user("padding-supervisor", role=User.Role.SUPERVISOR),
    )
    return stored_length(IdentitySharing, "legal_reference", sharing.pk)


def late_contact_details(world: World, text: str) -> int:
    from reports.identity import report_add_contact

    submitted = submit_report()
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    report_add_contact(report=report, data_key=key, name=text, email="sam@example.com")
    return stored_length(Report, "content", report.pk)


def referral_summary(world: World, text: str) -> int:
    referral = referral_services.case_refer(case=world.routed(), summary=text, acting_user=world.handler)
    return stored_length(Referral, "summary", referral.pk)


def authority_note(world: World, text: str) -> int:
    action = referral_services.referral_record_action(
        referral=referral_of(world.acknowledged()),
        kind=AuthorityAction.Kind.OTHER,
        note=text,
        acting_user=world.officer,
    )
    return stored_length(AuthorityAction, "note", action.pk)


def authority_question(world: World, text: str) -> int:
    action = referral_services.referral_ask_helpline(
        referral=referral_of(world.referred()), question=text, acting_user=world.officer
    )
    return stored_length(AuthorityAction, "note", action.pk)


def helpline_reply(world: World, text: str) -> int:
    case = world.referred()
    question = referral_services.referral_ask_helpline(
        referral=referral_of(case), question="Which year?", acting_user=world.officer
    )
    reply = referral_services.case_reply_to_authority(
        case=case, question_id=question.pk, body=text, acting_user=world.handler
    )
    return stored_length(AuthorityAction, "note", reply.pk)


def helpline_update(world: World, text: str) -> int:
    update = referral_services.case_update_authority(case=world.referred(), summary=text, acting_user=world.handler)
    return stored_length(AuthorityAction, "note", update.pk)


def draft_answers(world: World, text: str) -> int:
    client = client_with_a_draft()
    response = client.post("/report/what-happened", {"summary": "Not passed on", "details": text})
    assert response.status_code == 302, response.content[:300]
    draft_id = client.cookies[COOKIE_NAMES[Draft.Purpose.DRAFT]].value.partition(".")[0]
    return stored_length(Draft, "ciphertext", draft_id)


def refused_staff_form(world: World, text: str) -> int:
    """A refused staff form kept for one redirect: in the session table, sealed with the cookie's key."""
    request = world.requests.post("/staff/cases/1/note")
    request.session = SessionStore()
    data = QueryDict(mutable=True)
    data["body"] = text
    form_retry.retry_redirect(request, "/staff/cases/1", slot="note", data=data)
    request.session.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session WHERE session_key = %s", [request.session.session_key])
        row = cursor.fetchone()
    assert row is not None
    # The session row itself is compressed JSON; what is sealed is the one value form_retry keeps in it.
    kept = SessionStore().decode(row[0])[form_retry.SESSION_KEY]
    return len(base64.b64decode(kept))


def file_name(world: World, text: str) -> int:
    """A file's name, sealed beside it with its type, size and fingerprint (reports.attachments.FileMeta)."""
    from reports.attachments import Incoming, incoming_keep

    incoming = Incoming(name=f"{text}.txt")
    incoming.write(b"The rota for March.\n")
    kept = incoming_keep(
        incoming, content_type="text/plain", key=crypto.new_data_key(), report_id=submit_report().report.pk
    )
    return stored_length(Attachment, "meta", kept.pk)


SESSION_FORM_RETRY = "django_session.session_data[form_retry]"

# Every sealed column, and every service that writes it.
WRITERS: dict[str, dict[str, Callable[[World, str], int]]] = {
    "reports.Report.content": {
        "report details": report_details,
        "contact details": report_contact_details,
        "retaliation check-in": retaliation_details,
        "contact details given later on /check": late_contact_details,
    },
    "reports.Message.body": {"reporter's message": message_from_reporter, "helpline's message": message_from_helpline},
    "reports.Draft.ciphertext": {"answers between question pages": draft_answers},
    "reports.Attachment.meta": {"a file's name": file_name},
    "triage.CaseNote.body": {"internal note": case_note},
    "triage.LegalHold.reason": {"legal hold's reason": legal_hold_reason},
    "referrals.IdentitySharing.legal_reference": {"legal duty's reference": identity_legal_reference},
    "referrals.Referral.summary": {"referral summary": referral_summary},
    "referrals.AuthorityAction.note": {
        "authority's note": authority_note,
        "authority's question": authority_question,
        "helpline's reply": helpline_reply,
        "helpline's update": helpline_update,
    },
    SESSION_FORM_RETRY: {"refused staff form": refused_staff_form},
}

# BinaryFields that hold no text anyone wrote: keys and salts of a fixed size, whatever was written.
NOT_WRITTEN_TEXT = {
    "reports.Report.helpline_sealed_key": "the 32-byte data key in a sealed box: always 80 bytes",
    "reports.Report.reporter_kdf_salt": "a 16-byte Argon2id salt",
    "reports.Report.reporter_wrapped_key": "the 32-byte data key in a secretbox: always 72 bytes",
    "reports.Report.custody_wrapped_key": "the 32-byte data key in a secretbox under a custody key: always 72 bytes",
    "triage.CaseKey.helpline_sealed_key": "a review case's 32-byte data key in a sealed box: always 80 bytes",
    "triage.CaseKey.custody_wrapped_key": "a review case's data key in a secretbox under custody: always 72 bytes",
    "reports.Attachment.key_wrap": "a file's 32-byte key in a secretbox: always 72 bytes",
    "reports.Attachment.header": "a secretstream header: always 24 bytes",
    # A file's content: secretstream chunks of 64 KiB each, the last padded up to the bucket (core.secretstream;
    # tests/core/test_secretstream.py covers its lengths).
    "reports.AttachmentChunk.data": "a file's sealed chunks, every one of the same length",
    "accounts.RecoveryCodes.salt": "the salt of a user's recovery-code hashes, of fixed size",
    # Padded by seal_text like every sealed column, and always within the first bucket: a postcode district,
    # whether the organisation is named and which contact details were shared (codes, never free text).
    "referrals.Referral.particulars": "the referral's particulars: codes and a district, always the 552-byte bucket",
    # A reference a national body gave (a crime reference), at most 64 characters: always the first bucket.
    "referrals.Referral.sent_reference": "a body's reference, at most 64 characters: always the 552-byte bucket",
    "reports.Receipt.key_wrap": "a receipt's 32-byte key in a secretbox: always 72 bytes",
    # The signed receipt: codes, days and hex digests, never text anyone wrote; padded by seal_text like every
    # sealed column (its length says how many answers and files it fingerprints, which the row counts say too).
    "reports.Receipt.body": "a signed receipt: digests and codes only, padded to its bucket",
    # Not sealed at all: the public key an evidence bundle is sealed to, as its recipient gave it.
    "lifecycle.EvidenceExport.recipient_key": "a recipient's 32-byte X25519 public key, in clear (it is public)",
}


@pytest.fixture
def world(db: None, local_authorities: None, fast_kdf: None) -> World:
    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER, email="officer@rotherham.gov.test")
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer.authorities.add(rotherham)
    return World(handler=handler, officer=officer, requests=RequestFactory())


WRITER_PARAMS = [
    pytest.param(column, writer, id=f"{column}: {label}")
    for column, writers in WRITERS.items()
    for label, writer in writers.items()
]


@pytest.mark.parametrize(("short", "long"), PAIRS)
@pytest.mark.parametrize(("column", "writer"), WRITER_PARAMS)
def test_two_texts_of_different_lengths_within_a_bucket_are_stored_with_the_same_length(
    world: World, column: str, writer: Callable[[World, str], int], short: int, long: int
) -> None:
    lengths = {writer(world, text_of(short)), writer(world, text_of(long))}

    assert len(lengths) == 1, f"{column}: {short} and {long} characters stored as {sorted(lengths)} bytes"
    (length,) = lengths
    assert is_bucket_length(length), f"{column}: {length} bytes is not a bucket (512, then powers of two) + 40"


def binary_fields() -> set[str]:
    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.BinaryField)
    }


def test_every_binary_column_is_covered_or_holds_no_written_text() -> None:
    found = binary_fields()
    covered = {column for column in WRITERS if column != SESSION_FORM_RETRY}

    uncovered = found - covered - set(NOT_WRITTEN_TEXT)
    assert not uncovered, f"sealed columns with no padding test: add them to WRITERS: {sorted(uncovered)}"
    assert not (covered | set(NOT_WRITTEN_TEXT)) - found, "a column listed here no longer exists"


def test_the_re_pad_command_covers_every_column_the_workers_can_open() -> None:
    from core.tasks import REPADDED_COLUMNS

    # The draft and the refused form are sealed with a key only the browser holds: padded when they are
    # sealed again, and gone within half an hour.
    browser_keyed = {"reports.Draft.ciphertext", SESSION_FORM_RETRY}
    # A file's details, and a legal duty's reference (issue 27), were padded from the first row ever written:
    # there are no old rows to re-pad.
    born_padded = {"reports.Attachment.meta", "referrals.IdentitySharing.legal_reference"}
    assert set(REPADDED_COLUMNS) == set(WRITERS) - browser_keyed - born_padded
    for name, column in REPADDED_COLUMNS.items():
        model = column.model()
        assert isinstance(model._meta.get_field(column.field), models.BinaryField), name


def test_nothing_outside_core_crypto_seals_with_pynacl_itself() -> None:
    """Sealing goes through core.crypto's padded functions only: nothing else may encrypt on its own."""
    sealing = re.compile(
        r"\b(SecretBox|SealedBox|Box|Aead|crypto_secretbox|crypto_box|crypto_aead|crypto_secretstream\w*)\b"
        r"|nacl\.(secret|public)"
    )
    # core.secretstream seals files, padded to buckets of whole chunks.
    own = {ROOT / "core" / "crypto.py", ROOT / "core" / "secretstream.py"}
    packages = [
        "helpline",
        "lifecycle",
        "oversight",
        "triage",
        "reports",
        "outbox",
        "accounts",
        "directory",
        "audit",
        "core",
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in own and "migrations" not in path.parts
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if sealing.search(line)
    ]
    assert not found, f"sealing outside core.crypto (so unpadded): {found}"


# --- the format --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("characters", "stored"),
    [(0, 552), (1, 552), (161, 552), (162, 552), (510, 552), (511, 1064), (1022, 1064), (1023, 2088), (5000, 8232)],
)
def test_buckets_are_512_bytes_then_powers_of_two(characters: int, stored: int) -> None:
    assert len(crypto.seal_text(crypto.new_data_key(), "x" * characters)) == stored


@given(st.text(max_size=3000))
def test_any_text_opens_as_it_was_written_and_stored_at_a_bucket_length(text: str) -> None:
    key = crypto.new_data_key()
    sealed = crypto.seal_text(key, text)
    assert crypto.open_text(key, sealed) == text
    assert is_bucket_length(len(sealed))
    content = {"details": text, "contact": {"name": text[:5]}}
    assert crypto.open_content(key, crypto.seal_content(key, content)) == content


def sealed_before_padding(key: bytes, plaintext: bytes) -> bytes:
    """What seal_text and seal_content wrote before padding: the UTF-8 bytes, sealed as they were."""
    return bytes(SecretBox(key).encrypt(plaintext))


def test_rows_sealed_before_padding_still_open() -> None:
    key = crypto.new_data_key()
    assert crypto.open_text(key, sealed_before_padding(key, "Nobody listened. é ✓".encode())) == "Nobody listened. é ✓"
    old_content = sealed_before_padding(key, b'{"details":"what happened","contact":{"name":""}}')
    assert crypto.open_content(key, old_content) == {"details": "what happened", "contact": {"name": ""}}
    assert crypto.open_text(key, sealed_before_padding(key, b"")) == ""


def test_reseal_pads_an_old_row_once_and_leaves_a_padded_one() -> None:
    key = crypto.new_data_key()
    old = sealed_before_padding(key, b"short")
    resealed = crypto.reseal_padded(key, old)
    assert resealed is not None and len(resealed) == 552
    assert crypto.open_text(key, resealed) == "short"
    assert crypto.reseal_padded(key, resealed) is None
    with pytest.raises(nacl.exceptions.CryptoError):
        crypto.reseal_padded(crypto.new_data_key(), old)


# --- re-padding rows sealed before padding -----------------------------------------------------------


@dataclass(frozen=True)
class OldRow:
    model: type[models.Model]
    field: str
    pk: int
    text: str
    key: bytes


CANARY = "CANARY-padding-"


def unpad_in_place(model: type[models.Model], field: str, pk: int, key: bytes) -> OldRow:
    """Turn a row written today back into what the code before padding stored: the same text, unpadded."""
    row = model.objects.get(pk=pk)
    text = crypto.open_text(key, bytes(getattr(row, field)))
    model.objects.filter(pk=pk).update(**{field: sealed_before_padding(key, text.encode("utf-8"))})
    assert not is_bucket_length(stored_length(model, field, pk)), "pick texts that do not fill a bucket exactly"
    return OldRow(model=model, field=field, pk=pk, text=text, key=key)


def old_rows_in_every_column(handler: User, officer: User) -> list[OldRow]:
    """Two rows sealed before padding in each column the workers re-pad, and an authority action without a note."""
    rows: list[OldRow] = []
    for n in (1, 2):
        submitted = submit_report(local_authority=authority_by_code(ROTHERHAM), details=f"{CANARY}details {n}" * n)
        case = report_route(report_id=submitted.report.pk)
        key = case_data_key(case)
        rows.append(unpad_in_place(Report, "content", submitted.report.pk, key))
        message = case_actions.case_ask_reporter(case=case, body=f"{CANARY}message {n}", acting_user=handler)
        rows.append(unpad_in_place(Message, "body", message.pk, key))
        note = case_actions.case_add_note(case=case, body=f"{CANARY}note {n}", acting_user=handler)
        rows.append(unpad_in_place(CaseNote, "body", note.pk, key))
        referral = referral_services.case_refer(case=case, summary=f"{CANARY}summary {n}", acting_user=handler)
        rows.append(unpad_in_place(Referral, "summary", referral.pk, key))
        case = Case.objects.get(pk=case.pk)
        referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)
        question = referral_services.referral_ask_helpline(
            referral=referral_of(case), question=f"{CANARY}question {n}", acting_user=officer
        )
        rows.append(unpad_in_place(AuthorityAction, "note", question.pk, key))
    return rows


def assert_padded_and_unchanged(rows: list[OldRow]) -> None:
    from core import padding  # here, not at the top: on the code before padding, each test fails on its own

    for row in rows:
        length = stored_length(row.model, row.field, row.pk)
        assert is_bucket_length(length), f"{row.model._meta.label}.{row.field} {row.pk}: {length} bytes"
        sealed = bytes(getattr(row.model.objects.get(pk=row.pk), row.field))
        assert crypto.open_text(row.key, sealed) == row.text
        assert padding.is_padded(SecretBox(row.key).decrypt(sealed)), "padded, not an old row of a bucket's length"


def acknowledgements_have_no_note() -> None:
    acknowledged = AuthorityAction.objects.filter(kind=AuthorityAction.Kind.ACKNOWLEDGED)
    assert acknowledged.exists() and all(bytes(a.note) == b"" for a in acknowledged)


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    """Every task message this process publishes: its name and arguments."""
    messages: list[dict[str, Any]] = []

    def record(sender: str | None = None, body: Any = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
        messages.append({"task": sender, "args": body[0] if isinstance(body, tuple) else body, "headers": headers})

    signals.before_task_publish.connect(record, weak=False)
    yield messages
    signals.before_task_publish.disconnect(record)


def assert_ids_only(messages: list[dict[str, Any]], rows: list[OldRow]) -> None:
    from core.tasks import REPAD_TASK, REPADDED_COLUMNS

    assert all(CANARY not in repr(message) for message in messages)
    messages = [message for message in messages if message["task"] == REPAD_TASK]
    assert messages
    for message in messages:
        column, ids = message["args"]
        assert column in REPADDED_COLUMNS and all(isinstance(pk, int) for pk in ids)
        assert CANARY not in repr(message)
    queued = {(column, pk) for m in messages for column, ids in [m["args"]] for pk in ids}
    assert queued == {(f"{r.model._meta.label}.{r.field}", r.pk) for r in rows}


@pytest.mark.django_db
def test_the_command_re_pads_old_rows_in_batches_and_a_second_run_changes_nothing(
    local_authorities: None, fast_kdf: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import tasks
    from helpline.celery import app

    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    rows = old_rows_in_every_column(handler, officer)
    already = submit_report(details="padded when it was written").report
    already_sealed = bytes(already.content)
    ran: list[tuple[str, list[int]]] = []
    real_batch = tasks.repad_batch

    def counted(*, column: str, ids: list[int]) -> tasks.RepadOutcome:
        ran.append((column, list(ids)))
        return real_batch(column=column, ids=ids)

    # The tasks run here, as the worker would run them (the worker itself: the test below).
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    monkeypatch.setattr(tasks, "repad_batch", counted)
    out = call_output("repad_sealed", "--batch-size", "1")

    assert_padded_and_unchanged(rows)
    acknowledgements_have_no_note()
    assert bytes(Report.objects.get(pk=already.pk).content) == already_sealed
    # One task per batch of one id; neither the report padded when it was written nor an empty note was queued.
    assert sorted((column, ids[0]) for column, ids in ran) == sorted(
        (f"{r.model._meta.label}.{r.field}", r.pk) for r in rows
    )
    assert all(len(ids) == 1 for _, ids in ran)
    assert "reports.Report.content: 2 rows to re-pad, 2 batches queued" in out
    assert CANARY not in out

    monkeypatch.undo()
    stored = {(r.model, r.pk): bytes(getattr(r.model.objects.get(pk=r.pk), r.field)) for r in rows}
    again = call_output("repad_sealed", "--dry-run")
    assert all(f"{name}: 0 rows to re-pad (0 batches)" in again for name in tasks.REPADDED_COLUMNS)
    assert call_output("repad_sealed", "--here").count("0 of 0 rows re-padded") == len(tasks.REPADDED_COLUMNS)
    assert {(r.model, r.pk): bytes(getattr(r.model.objects.get(pk=r.pk), r.field)) for r in rows} == stored


def call_output(*args: str) -> str:
    import io

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_batch_is_idempotent_and_leaves_rows_it_cannot_open(local_authorities: None, fast_kdf: None) -> None:
    from core.tasks import repad_batch

    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    key = case_data_key(case)
    notes = [case_actions.case_add_note(case=case, body=f"note {n}", acting_user=handler) for n in range(3)]
    old = [unpad_in_place(CaseNote, "body", note.pk, key) for note in notes]
    other = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    lost = unpad_in_place(
        CaseNote, "body", case_actions.case_add_note(case=other, body="x", acting_user=handler).pk, case_data_key(other)
    )
    Report.objects.filter(pk=other.report_id).update(custody_key_id="open-19990101")  # a key nobody holds
    ids = [row.pk for row in [*old, lost]] + [10**9]  # and a row purged since it was queued

    first = repad_batch(column="triage.CaseNote.body", ids=ids)
    assert (first.resealed, first.already_padded, first.unreadable) == (3, 0, [lost.pk])
    assert_padded_and_unchanged(old)
    assert not is_bucket_length(stored_length(CaseNote, "body", lost.pk))

    second = repad_batch(column="triage.CaseNote.body", ids=ids)
    assert (second.resealed, second.already_padded, second.unreadable) == (0, 3, [lost.pk])
    with pytest.raises(ValueError, match="Not a column"):
        repad_batch(column="reports.Draft.ciphertext", ids=[1])


@pytest.mark.django_db
def test_batches_go_to_the_queue_named_and_never_run_where_there_is_no_private_key(
    local_authorities: None, fast_kdf: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import tasks

    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    note = case_actions.case_add_note(case=case, body=f"{CANARY}note", acting_user=handler)
    unpad_in_place(CaseNote, "body", note.pk, case_data_key(case))
    sent: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(tasks.repad_sealed, "apply_async", lambda args, **options: sent.append((args, options)))

    call_output("repad_sealed", "--column", "triage.CaseNote.body", "--queue", "repad")

    assert sent == [(("triage.CaseNote.body", [note.pk]), {"retry": False, "queue": "repad"})]
    monkeypatch.setattr(crypto, "can_decrypt", lambda: False)
    with pytest.raises(crypto.KeyUnavailable):
        tasks.repad_batch(column="triage.CaseNote.body", ids=[note.pk])
    with pytest.raises(CommandError, match="private key"):
        call_output("repad_sealed", "--here")


@pytest.mark.worker
@pytest.mark.usefixtures("fast_kdf", "authorities_committed")
def test_the_workers_re_pad_what_the_command_queues_with_ids_only(
    celery_worker: live.Process, published: list[dict[str, Any]]
) -> None:
    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    rows = old_rows_in_every_column(handler, officer)

    out = call_output("repad_sealed", "--batch-size", "2")

    assert "reports.Message.body: 2 rows to re-pad, 1 batches queued" in out
    assert_ids_only(published, rows)
    live.wait_for(
        lambda: all(is_bucket_length(stored_length(r.model, r.field, r.pk)) for r in rows),
        timeout=60,
        what="every old row re-padded by the worker",
    )
    assert_padded_and_unchanged(rows)
    log = celery_worker.log()
    assert "re-padded reports.Report.content: 2 re-sealed" in log
    assert CANARY not in log


@pytest.mark.django_db
def test_a_batch_queued_before_referrals_moved_out_of_triage_still_re_pads_its_rows(
    local_authorities: None, fast_kdf: None
) -> None:
    """Batches queued by the code before the move name the columns triage.Referral.summary and
    triage.AuthorityAction.note: the same tables and ids, now the referrals app's."""
    from core.tasks import repad_batch

    supervisor = staff_user("repad-supervisor", role=User.Role.SUPERVISOR)
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    referral_services.case_refer(case=case, summary="Please look.", acting_user=supervisor)
    referral = referral_of(case)
    old = unpad_in_place(Referral, "summary", referral.pk, case_data_key(case))

    outcome = repad_batch(column="triage.Referral.summary", ids=[old.pk])

    assert (outcome.resealed, outcome.unreadable) == (1, [])
    assert_padded_and_unchanged([old])
