"""Every write to reports: submission, the reporter's follow-up, and the mailbox.

Key derivation (Argon2id, ~64 MiB) happens before a transaction opens, so no database connection is
held while it runs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import nacl.exceptions
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.models import Subject
from audit.trail import event_record
from core import crypto, throttle
from core.identifiers import ATTEMPTS, new_reference, normalise_reference
from core.timetrail import day_start, expiry_in
from directory.models import LocalAuthority
from outbox.services import outbox_add
from reports.attachments import (
    Incoming,
    attachment_meta,
    attachment_processing_start,
    draft_files,
    draft_files_adopt,
    files_left,
    incoming_keep,
    max_files,
)
from reports.models import (
    ENVELOPE_FIELDS,
    URGENT_TRIAGE,
    AlreadyReported,
    Anonymity,
    Attachment,
    Channel,
    Draft,
    IdempotencyKey,
    Message,
    PriorReportBy,
    PriorReportTo,
    Report,
)
from reports.outbox_kinds import REPORTER_ADDED_FILE, REPORTER_REPLIED, ROUTE_REPORT
from reports.receipts import receipt_start


class ReportNotFound(Exception):
    """No report opens with this reference and access code. Deliberately says nothing more."""


class ReportDestroyed(ReportNotFound):
    """The report's content was destroyed (the day is ``args[0]``; ``args[1]`` is True when it was destroyed
    early, with two supervisors' approval, rather than under the retention schedule)."""


class AccessThrottled(Exception):
    """Too many wrong attempts for this reference from this client: refused for a while."""


class DerivationsExhausted(Exception):
    """This client has opened (or tried to open) too many concerns in the window, whatever the references:
    each try costs a 64 MiB key derivation, so it is refused for a while."""


class SubmissionsExhausted(Exception):
    """This client has sent too many reports in the window: refused for a while."""


class AlreadySubmitted(Exception):
    """This draft was already sent as a report (a second press of Send, or two at once)."""


class IdempotentReplay(Exception):
    """An API submission repeated with the same Idempotency-Key and the same body: it was filed already."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key already used for a different request body."""


@dataclass(frozen=True)
class Idempotency:
    """An API client's Idempotency-Key and its request, as keyed hashes (never stored in clear): under the
    current HMAC key, and under every configured one (``key_hashes``, ``request_hashes``) so that a row
    stored before an HMAC key rotation is still found."""

    key_hash: str
    request_hash: str
    key_hashes: tuple[str, ...] = ()
    request_hashes: tuple[str, ...] = ()

    @classmethod
    def of(cls, key: str, body: object) -> Idempotency:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        key_hashes = tuple(throttle.throttle_keys_every("idempotency-key", key))
        request_hashes = tuple(throttle.throttle_keys_every("idempotency-request", canonical))
        return cls(
            key_hash=key_hashes[0],
            request_hash=request_hashes[0],
            key_hashes=key_hashes,
            request_hashes=request_hashes,
        )

    def stored_keys(self) -> tuple[str, ...]:
        return self.key_hashes or (self.key_hash,)


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


@dataclass(frozen=True)
class PriorReport:
    """Whether the concern was already reported to the police or the council, and if so by whom, to whom,
    on which day (an ISO day, "2026-03-02": never a time) and under which reference. ``answer`` is kept in
    clear for the statistics (AlreadyReported); the rest is sealed with the report."""

    answer: str = AlreadyReported.NOT_KNOWN
    by: str = ""
    to: str = ""
    on: str = ""
    reference: str = ""

    def sealed(self) -> dict[str, str]:
        if self.answer != AlreadyReported.YES:
            return {"answer": self.answer}
        return {"answer": self.answer, "by": self.by, "to": self.to, "on": self.on, "reference": self.reference}

    @classmethod
    def from_sealed(cls, sealed: object, *, answer: str = AlreadyReported.NOT_KNOWN) -> PriorReport:
        """The answer as a report's opened content keeps it; ``answer`` (the report's clear one) for a
        report sealed before the question was asked."""
        if not isinstance(sealed, dict):
            return cls(answer=answer)
        return cls(**{key: str(sealed.get(key) or "") for key in ("answer", "by", "to", "on", "reference")})

    def where_and_when(self) -> str:
        """To whom, on which day and under which reference, in words ("" when none was given)."""
        parts = []
        if self.to in PriorReportTo.values:
            to = str(PriorReportTo(self.to).label)
            parts.append(f"to {to[0].lower()}{to[1:]}")
        if self.on:
            parts.append(f"on {day_words(self.on)}")
        if self.reference:
            parts.append(f"reference {self.reference}")
        return ", ".join(parts)

    def words(self) -> str:
        """For helpline staff: the answer, who made the report, and where and when."""
        if self.answer != AlreadyReported.YES:
            return str(AlreadyReported(self.answer).label) if self.answer in AlreadyReported.values else "Not known"
        who: dict[str, str] = {
            PriorReportBy.REPORTER: "Yes, by the reporter",
            PriorReportBy.SOMEONE_ELSE: "Yes, by someone else",
        }
        return ", ".join(part for part in (who.get(self.by, "Yes"), self.where_and_when()) if part)

    def referral_line(self) -> str:
        """What a referral's summary says of it by default: never who made the report, which could point to
        the reporter."""
        if self.answer != AlreadyReported.YES:
            return ""
        details = self.where_and_when()
        return f"Already reported to the police or the council{': ' + details if details else ''}."


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def day_words(iso_day: str) -> str:
    """An ISO day as GOV.UK writes dates: "2 March 2026" (as given when it is not one)."""
    try:
        year, month, day = (int(part) for part in iso_day.split("-"))
        return f"{day} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return iso_day


@dataclass(frozen=True)
class ReportInput:
    anonymity: str
    reporter_sector: str
    concern_types: tuple[str, ...]
    local_authority: LocalAuthority | None
    about_authority: LocalAuthority | None
    organisation_name: str
    summary: str
    details: str
    child_at_immediate_risk: bool
    raised_internally: str
    internal_response: str
    contact: Contact = field(default_factory=Contact)
    already_reported: PriorReport = field(default_factory=PriorReport)

    def sealed_content(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "details": self.details,
            "organisation_name": self.organisation_name,
            "internal_response": self.internal_response,
            "contact": {"name": self.contact.name, "email": self.contact.email, "phone": self.contact.phone},
            "already_reported": self.already_reported.sealed(),
        }


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    access_code: str
    # Opens the report's receipt once a worker has signed it (reports.receipts): for the confirmation page.
    receipt_key: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class OpenedMessage:
    direction: str
    direction_label: str
    kind: str
    sent_on: object
    body: str
    id: int = 0
    # The reporter's own message: the day the helpline read it (None while unread). Never a time.
    read_by_helpline_on: date | None = None
    # A helpline message the reporter had not seen before this view: marked "New" on it.
    new: bool = False


@dataclass(frozen=True)
class OpenedReport:
    report: Report
    data_key: bytes
    content: dict[str, object]
    messages: list[OpenedMessage]


def envelope(*, key_id: str, helpline_sealed: bytes, reporter_wrap: crypto.ReporterWrap) -> dict[str, object]:
    """A report's ENVELOPE_FIELDS, for a data key sealed to the helpline and wrapped for the reporter."""
    values = (
        key_id,
        helpline_sealed,
        "",
        b"",
        reporter_wrap.salt,
        reporter_wrap.params.opslimit,
        reporter_wrap.params.memlimit,
        reporter_wrap.wrapped_key,
    )
    return dict(zip(ENVELOPE_FIELDS, values, strict=True))


def _idempotent_check(idempotency: Idempotency) -> None:
    """Raise IdempotentReplay or IdempotencyKeyReused when the key has been used (and not expired)."""
    used = (
        IdempotencyKey.objects.filter(key_hash__in=idempotency.stored_keys(), expires_at__gt=timezone.now())
        .select_related("report")
        .first()
    )
    if used is None:
        return
    if used.request_hash not in (idempotency.request_hashes or (idempotency.request_hash,)):
        raise IdempotencyKeyReused
    raise IdempotentReplay(used.report.reference)


def _submission_key(client: str) -> str:
    return throttle.throttle_key("report-submission", client)


@sensitive_variables("data", "access_code", "data_key", "content")
def report_submit(
    *,
    data: ReportInput,
    channel: str = Channel.WEB,
    acting_user: User | None = None,
    client: str | None = None,
    draft_id: uuid.UUID | None = None,
    draft_key: bytes | None = None,
    idempotency: Idempotency | None = None,
) -> SubmittedReport:
    """File a concern. The report and its routing outbox row commit together; publishing the routing
    task happens after commit and never fails the submission.

    ``client`` (a keyed hash of the address) counts the submission against SUBMISSION_LIMIT; phone reports
    taken by staff pass none. ``draft_id`` is consumed in the same transaction, so one draft files one
    report however often Send is pressed; with ``draft_key`` the files chosen for the draft become the
    report's in that transaction too (re-wrapped with its data key), each with its processing outbox row.
    ``idempotency`` does the same for an API client's key."""
    if data.anonymity == Anonymity.ANONYMOUS and not data.contact.is_empty():
        raise ValueError("An anonymous report carries no contact details")
    if data.already_reported.answer not in AlreadyReported.values:
        raise ValueError("Whether the concern was already reported is yes, no or not known")
    if idempotency is not None:
        _idempotent_check(idempotency)
    slot = _submission_key(client) if client is not None else None
    if slot is not None and not throttle.throttle_take(
        key=slot, limit=settings.SUBMISSION_LIMIT, window_seconds=settings.SUBMISSION_WINDOW_SECONDS
    ):
        raise SubmissionsExhausted
    try:
        return _report_file(
            data=data,
            channel=channel,
            acting_user=acting_user,
            draft_id=draft_id,
            draft_key=draft_key,
            idempotency=idempotency,
        )
    except (AlreadySubmitted, IdempotentReplay, IdempotencyKeyReused):
        if slot is not None:
            throttle.throttle_refund(key=slot)  # nothing new was filed
        raise


@sensitive_variables("data", "access_code", "data_key", "content", "draft_key")
def _report_file(
    *,
    data: ReportInput,
    channel: str,
    acting_user: User | None,
    draft_id: uuid.UUID | None,
    draft_key: bytes | None,
    idempotency: Idempotency | None,
) -> SubmittedReport:
    access_code = crypto.generate_access_code()
    data_key = crypto.new_data_key()
    reporter_wrap = crypto.wrap_key_for_reporter(data_key, access_code)
    key_id, helpline_sealed = crypto.seal_key_for_helpline(data_key)
    content = crypto.seal_content(data_key, data.sealed_content())
    # Made with the current HMAC key, and kept beside its id (a rotation re-hashes by it).
    hmac_key_id = crypto.hmac_key_id() if data.organisation_name.strip() else ""
    organisation_hash = crypto.organisation_hash(data.organisation_name, hmac_key_id) if hmac_key_id else ""
    for _ in range(ATTEMPTS):
        try:
            report, receipt_key = _report_insert(
                data=data,
                channel=channel,
                acting_user=acting_user,
                content=content,
                key_id=key_id,
                helpline_sealed=helpline_sealed,
                reporter_wrap=reporter_wrap,
                organisation_hash=organisation_hash,
                organisation_hash_key_id=hmac_key_id,
                draft_id=draft_id,
                idempotency=idempotency,
                files=DraftFiles(draft_id, draft_key, data_key) if draft_id and draft_key else None,
                data_key=data_key,
            )
            return SubmittedReport(report=report, access_code=access_code, receipt_key=receipt_key)
        except IntegrityError as error:
            if idempotency is not None and IdempotencyKey._meta.db_table in str(error):
                # The same key, sent twice at once: the other request filed it first.
                _idempotent_check(idempotency)
            if "reference" not in str(error):
                raise
    raise RuntimeError("Could not allocate a unique reference")


@dataclass(frozen=True)
class DraftFiles:
    """The files of a draft being sent: its id and key, and the new report's data key to re-wrap them with."""

    draft_id: uuid.UUID
    draft_key: bytes
    data_key: bytes = field(repr=False)


@sensitive_variables("files", "data_key")
@transaction.atomic(durable=True)
def _report_insert(
    *,
    data: ReportInput,
    channel: str,
    acting_user: User | None,
    content: bytes,
    key_id: str,
    helpline_sealed: bytes,
    reporter_wrap: crypto.ReporterWrap,
    organisation_hash: str,
    organisation_hash_key_id: str,
    draft_id: uuid.UUID | None,
    idempotency: Idempotency | None,
    files: DraftFiles | None = None,
    data_key: bytes,
) -> tuple[Report, bytes]:
    if draft_id is not None:
        # Consumed under the row lock: of two presses of Send at once, the second finds it sent.
        consumed = Draft.objects.filter(pk=draft_id, purpose=Draft.Purpose.DRAFT).update(
            purpose=Draft.Purpose.SENT, ciphertext=b""
        )
        if consumed != 1:
            raise AlreadySubmitted
    if idempotency is not None:
        # A key whose row has expired but not been purged yet may be used again.
        IdempotencyKey.objects.filter(key_hash__in=idempotency.stored_keys(), expires_at__lte=timezone.now()).delete()
    now = timezone.now()
    report = Report.objects.create(
        reference=new_reference(),
        channel=channel,
        anonymity=data.anonymity,
        reporter_sector=data.reporter_sector,
        concern_types=sorted(set(data.concern_types)),
        local_authority=data.local_authority,
        about_authority=data.about_authority,
        child_at_immediate_risk=data.child_at_immediate_risk,
        raised_internally=data.raised_internally,
        already_reported=data.already_reported.answer,
        organisation_hash=organisation_hash,
        organisation_hash_key_id=organisation_hash_key_id,
        has_contact_email=bool(data.contact.email) and data.anonymity != Anonymity.ANONYMOUS,
        submitted_at=day_start(now),
        urgent_triage_due_at=now + URGENT_TRIAGE if data.child_at_immediate_risk else None,
        content=content,
        **envelope(key_id=key_id, helpline_sealed=helpline_sealed, reporter_wrap=reporter_wrap),
    )
    if acting_user is not None:
        # On the report: its case does not exist yet, and the case timeline shows its report's events too.
        event_record(
            kind="report_taken_by_phone",
            subject=(Subject.REPORT, report.pk),
            actor=acting_user,
            detail={"report_id": report.pk},
        )
    if idempotency is not None:
        IdempotencyKey.objects.create(
            key_hash=idempotency.key_hash,
            request_hash=idempotency.request_hash,
            report=report,
            expires_at=expiry_in(settings.IDEMPOTENCY_KEY_SECONDS),
        )
    outbox_add(kind=ROUTE_REPORT, target_id=report.pk)
    if files is not None:
        # The report, its outbox rows and its files commit together: a file is never left behind a report.
        for attachment in draft_files_adopt(
            draft_id=files.draft_id, draft_key=files.draft_key, report_id=report.pk, data_key=files.data_key
        ):
            attachment_processing_start(attachment)
    # Signed by a worker once this commits (the public tier holds no signing key): its files are the ones above.
    return report, receipt_start(report=report, data_key=data_key)


# --- the reporter's follow-up ---------------------------------------------------------------------


def _throttle_key(reference_text: str, client: str) -> str:
    reference = normalise_reference(reference_text) or reference_text.strip().upper()[:32]
    return throttle.throttle_key("report-access", reference, client)


def access_throttled(*, reference: str, client: str) -> bool:
    return throttle.throttle_blocked(key=_throttle_key(reference, client), limit=settings.ACCESS_THROTTLE_LIMIT)


def access_tries_left(*, reference: str, client: str) -> int:
    """How many more wrong tries at this reference this client has before the hour's wait (for /check)."""
    return throttle.throttle_remaining(key=_throttle_key(reference, client), limit=settings.ACCESS_THROTTLE_LIMIT)


def _derivation_key(client: str) -> str:
    return throttle.throttle_key("report-derivation", client)


def _access_take(*, reference: str, client: str) -> str:
    """Take an attempt at this reference and a key derivation for this client, before deriving, so that
    concurrent requests cannot all pass a check made before any of them counted. Returns the attempt's
    key, to refund when the pair turns out right."""
    attempt = _throttle_key(reference, client)
    if not throttle.throttle_take(
        key=attempt, limit=settings.ACCESS_THROTTLE_LIMIT, window_seconds=settings.ACCESS_THROTTLE_WINDOW_SECONDS
    ):
        raise AccessThrottled
    if not throttle.throttle_take(
        key=_derivation_key(client),
        limit=settings.ACCESS_DERIVATION_LIMIT,
        window_seconds=settings.ACCESS_DERIVATION_WINDOW_SECONDS,
    ):
        throttle.throttle_refund(key=attempt)
        raise DerivationsExhausted
    return attempt


def _reporter_wrap(report: Report) -> crypto.ReporterWrap:
    return crypto.ReporterWrap(
        salt=bytes(report.reporter_kdf_salt),
        params=crypto.KdfParams(report.reporter_kdf_opslimit, report.reporter_kdf_memlimit),
        wrapped_key=bytes(report.reporter_wrapped_key),
    )


@sensitive_variables("access_code", "code", "data_key")
def report_unlock(*, reference: str, access_code: str, client: str) -> tuple[Report, bytes]:
    """The report and its data key, for a correct reference and access code.

    Unknown, malformed and wrong pairs all raise ReportNotFound after one key derivation's time.
    ``client`` is a keyed hash of the client address (never the address itself). Every try counts against
    the pair's ACCESS_THROTTLE_LIMIT (a right one is given back) and the client's ACCESS_DERIVATION_LIMIT.
    """
    attempt = _access_take(reference=reference, client=client)
    normalised = normalise_reference(reference)
    code = crypto.normalise_access_code(access_code)
    report = Report.objects.filter(reference=normalised).first() if normalised else None
    if report is None or code is None:
        crypto.dummy_derivation()
        raise ReportNotFound
    if report.content_destroyed_on is not None:
        # Nothing is left to open: the reporter is told so, whatever the code, after the same wait.
        crypto.dummy_derivation()
        raise ReportDestroyed(report.content_destroyed_on, report.content_destroyed_early)
    data_key = crypto.unwrap_key_for_reporter(_reporter_wrap(report), code)
    if data_key is None:
        raise ReportNotFound
    throttle.throttle_refund(key=attempt)
    return report, data_key


def report_read(*, report: Report, data_key: bytes) -> OpenedReport:
    """Decrypt a report and its mailbox for the reporter, who holds the data key. Each helpline message says
    whether it is new to them (``new``), each of theirs the day the helpline read it; nothing is marked read
    here (reporter_messages_seen does, for the views that show the reporter their messages)."""
    messages = [
        OpenedMessage(
            direction=message.direction,
            # Never who wrote: every helpline message is "Helpline adviser" (Message.Direction).
            direction_label=message.get_direction_display(),
            kind=message.kind,
            sent_on=message.sent_on,
            body=crypto.open_text(data_key, bytes(message.body)),
            id=message.pk,
            read_by_helpline_on=message.read_by_helpline_on
            if message.direction == Message.Direction.FROM_REPORTER
            else None,
            new=message.direction == Message.Direction.FROM_HELPLINE and not message.read_by_reporter,
        )
        for message in report.messages.all()
    ]
    content = crypto.open_content(data_key, bytes(report.content))
    return OpenedReport(report=report, data_key=data_key, content=content, messages=messages)


def reporter_messages_seen(*, opened: OpenedReport) -> int:
    """The reporter has been shown the helpline's messages of ``opened`` (their /check page, or the API that
    opens the report): each is marked read. A yes or no only, never when, and no audit event: a time would
    be a log of the reporter's visits (docs/privacy.md). How many were newly marked."""
    new = [message.id for message in opened.messages if message.new]
    if not new:
        return 0
    return Message.objects.filter(
        pk__in=new, report=opened.report, direction=Message.Direction.FROM_HELPLINE, read_by_reporter=False
    ).update(read_by_reporter=True)


def helpline_messages_read(*, report_id: int, message_ids: list[int]) -> int:
    """A member of the helpline has opened the case showing these messages (an audit event of its own,
    triage.case_content.content_viewed): each of the reporter's not read before is read today. The day only,
    which the reporter sees. How many were newly marked."""
    if not message_ids:
        return 0
    return Message.objects.filter(
        pk__in=message_ids,
        report_id=report_id,
        direction=Message.Direction.FROM_REPORTER,
        read_by_helpline_on__isnull=True,
    ).update(read_by_helpline_on=timezone.localdate())


@sensitive_variables("body", "data_key")
@transaction.atomic(durable=True)
def message_send_from_reporter(
    *, report: Report, data_key: bytes, body: str, kind: str = Message.Kind.MESSAGE
) -> Message:
    """Seal the reporter's message into their mailbox; the helpline's side hears of it through the outbox."""
    message = Message.objects.create(
        report=report,
        direction=Message.Direction.FROM_REPORTER,
        kind=kind,
        body=crypto.seal_text(data_key, body),
        sent_on=timezone.localdate(),
    )
    outbox_add(kind=REPORTER_REPLIED, target_id=message.pk)
    return message


# --- files the reporter adds, and files the helpline sends them --------------------------------------------


class TooManyFiles(Exception):
    """The draft or the report already holds ATTACHMENT_MAX_FILES files: this one was not kept."""


class DraftGone(Exception):
    """The answers the file was chosen for have expired or been sent meanwhile: the file was not kept."""


@sensitive_variables("draft_key")
@transaction.atomic(durable=True)
def draft_file_add(
    *, incoming: Incoming, content_type: str, draft_id: uuid.UUID, draft_key: bytes, expires_at: datetime
) -> Attachment:
    """Keep a file chosen on the question pages, sealed with the draft's key, to expire with the draft (its
    expiry moves with each page saved, reports.drafts). The draft's row is locked, so two files sent at once
    cannot both take its last place."""
    if not Draft.objects.select_for_update().filter(pk=draft_id, purpose=Draft.Purpose.DRAFT).exists():
        raise DraftGone
    if draft_files(draft_id).count() >= max_files():
        raise TooManyFiles
    return incoming_keep(
        incoming, content_type=content_type, key=draft_key, draft_id=draft_id, draft_expires_at=expires_at
    )


def draft_file_remove(*, draft_id: uuid.UUID, public_id: uuid.UUID) -> bool:
    """Remove a file chosen for a draft, before it was sent: its sealed chunks and row go at once."""
    deleted, _ = draft_files(draft_id).filter(public_id=public_id).delete()
    return deleted > 0


@sensitive_variables("body", "data_key")
@transaction.atomic(durable=True)
def reporter_file_add(
    *, report: Report, data_key: bytes, incoming: Incoming, content_type: str, body: str = ""
) -> Attachment:
    """A file the reporter adds to their report later (follow-up page or API), with a message about it or
    without: kept with the report's data key, and its processing outbox row, in one transaction. The case hears
    of it through the outbox (REPORTER_REPLIED for the message, else REPORTER_ADDED_FILE). The report's row is
    locked, so two files sent at once cannot both take its last place."""
    Report.objects.select_for_update().filter(pk=report.pk).exists()
    if files_left(report.pk) <= 0:
        raise TooManyFiles
    message = None
    if body:
        message = Message.objects.create(
            report=report,
            direction=Message.Direction.FROM_REPORTER,
            kind=Message.Kind.MORE_INFORMATION,
            body=crypto.seal_text(data_key, body),
            sent_on=timezone.localdate(),
        )
        outbox_add(kind=REPORTER_REPLIED, target_id=message.pk)
    attachment = incoming_keep(
        incoming,
        content_type=content_type,
        key=data_key,
        report_id=report.pk,
        message_id=message.pk if message is not None else None,
    )
    attachment_processing_start(attachment)
    if message is None:
        outbox_add(kind=REPORTER_ADDED_FILE, target_id=attachment.pk)
    return attachment


# What the reporter is told of each of their files, by status.
REPORTER_FILE_STATUS: dict[str, str] = {
    Attachment.Status.PENDING: "Being checked",
    Attachment.Status.CLEAN: "Received",
    Attachment.Status.BLOCKED: "Could not be accepted",
    Attachment.Status.NOT_CLEANED: "Received, with hidden details",
    Attachment.Status.REMOVED: "Removed",
}
REPORTER_FILE_EXPLANATION: dict[str, str] = {
    Attachment.Status.PENDING: "We are checking it for viruses and removing hidden details, such as who made it or "
    "where a photo was taken. The helpline can open it once that is done.",
    Attachment.Status.CLEAN: "It has been checked and its hidden details removed. The helpline can open it.",
    Attachment.Status.BLOCKED: "Our checks found a problem with this file, so nobody can open it. If you still "
    "want the helpline to see it, call them.",
    Attachment.Status.NOT_CLEANED: "We could not remove its hidden details, such as who made it or where a photo "
    "was taken, so the helpline can see them. It has been told to take care with it.",
    Attachment.Status.REMOVED: "The helpline has removed this file.",
}


@dataclass(frozen=True)
class OpenedFile:
    """A file of a report as its reporter may know it: never its content, only its name and where it is."""

    public_id: uuid.UUID
    name: str
    status: str
    added_on: date
    message_id: int | None

    @property
    def status_words(self) -> str:
        return REPORTER_FILE_STATUS.get(self.status, "")

    @property
    def explanation(self) -> str:
        return REPORTER_FILE_EXPLANATION.get(self.status, "")


def _opened_file(attachment: Attachment, key: bytes) -> OpenedFile:
    try:
        name = attachment_meta(attachment, key).name
    except (nacl.exceptions.CryptoError, ValueError, KeyError):
        name = "File"  # never a page that fails for one file whose details do not open
    return OpenedFile(
        public_id=attachment.public_id,
        name=name,
        status=attachment.status,
        added_on=attachment.added_on,
        message_id=attachment.message_id,
    )


@sensitive_variables("draft_key")
def draft_files_read(*, draft_id: uuid.UUID, draft_key: bytes) -> list[OpenedFile]:
    """The files chosen so far for a draft, oldest first, with their names (sealed with the draft's key)."""
    return [_opened_file(attachment, draft_key) for attachment in draft_files(draft_id)]


@sensitive_variables("data_key")
def reporter_files_read(*, report: Report, data_key: bytes) -> list[OpenedFile]:
    """The files the reporter added to their report (on the question pages, later, or through the API), oldest
    first, in every status."""
    files = Attachment.objects.filter(report=report, source=Attachment.Source.REPORTER)
    return [_opened_file(attachment, data_key) for attachment in files]


def helpline_files_for_reporter(*, report: Report) -> QuerySet[Attachment]:
    """Files the helpline attached to its messages to the reporter that may be given to them: clean ones only
    (scanned and stripped of their metadata), never one still being checked, blocked or not cleaned."""
    return Attachment.objects.filter(
        report=report,
        source=Attachment.Source.HELPLINE,
        message__direction=Message.Direction.FROM_HELPLINE,
        status=Attachment.Status.CLEAN,
    )


@sensitive_variables("data_key")
def helpline_files_read(*, report: Report, data_key: bytes) -> dict[int, list[OpenedFile]]:
    """The files the reporter may download, by the helpline message they came with."""
    by_message: dict[int, list[OpenedFile]] = {}
    for attachment in helpline_files_for_reporter(report=report):
        opened = _opened_file(attachment, data_key)
        by_message.setdefault(int(attachment.message_id or 0), []).append(opened)
    return by_message
