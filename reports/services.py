"""Every write to reports: submission, the reporter's follow-up, and the mailbox.

Key derivation (Argon2id, ~64 MiB) happens before a transaction opens, so no database connection is
held while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.models import Subject
from audit.trail import event_record
from core import crypto, throttle
from core.identifiers import ATTEMPTS, new_reference, normalise_reference
from directory.models import LocalAuthority
from outbox.services import outbox_add
from reports.models import ENVELOPE_FIELDS, Anonymity, Channel, Message, Report
from reports.outbox_kinds import REPORTER_REPLIED, ROUTE_REPORT


class ReportNotFound(Exception):
    """No report opens with this reference and access code. Deliberately says nothing more."""


class AccessThrottled(Exception):
    """Too many wrong attempts for this reference from this client: refused for a while."""


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


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

    def sealed_content(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "details": self.details,
            "organisation_name": self.organisation_name,
            "internal_response": self.internal_response,
            "contact": {"name": self.contact.name, "email": self.contact.email, "phone": self.contact.phone},
        }


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    access_code: str


@dataclass(frozen=True)
class OpenedMessage:
    direction: str
    direction_label: str
    kind: str
    sent_on: object
    body: str


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
        reporter_wrap.salt,
        reporter_wrap.params.opslimit,
        reporter_wrap.params.memlimit,
        reporter_wrap.wrapped_key,
    )
    return dict(zip(ENVELOPE_FIELDS, values, strict=True))


@sensitive_variables("data", "access_code", "data_key", "content")
def report_submit(*, data: ReportInput, channel: str = Channel.WEB, acting_user: User | None = None) -> SubmittedReport:
    """File a concern. The report and its routing outbox row commit together; publishing the routing
    task happens after commit and never fails the submission."""
    if data.anonymity == Anonymity.ANONYMOUS and not data.contact.is_empty():
        raise ValueError("An anonymous report carries no contact details")
    access_code = crypto.generate_access_code()
    data_key = crypto.new_data_key()
    reporter_wrap = crypto.wrap_key_for_reporter(data_key, access_code)
    key_id, helpline_sealed = crypto.seal_key_for_helpline(data_key)
    content = crypto.seal_content(data_key, data.sealed_content())
    organisation_hash = crypto.organisation_hash(data.organisation_name) if data.organisation_name.strip() else ""
    for _ in range(ATTEMPTS):
        try:
            report = _report_insert(
                data=data,
                channel=channel,
                acting_user=acting_user,
                content=content,
                key_id=key_id,
                helpline_sealed=helpline_sealed,
                reporter_wrap=reporter_wrap,
                organisation_hash=organisation_hash,
            )
            return SubmittedReport(report=report, access_code=access_code)
        except IntegrityError as error:
            if "reference" not in str(error):
                raise
    raise RuntimeError("Could not allocate a unique reference")


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
) -> Report:
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
        organisation_hash=organisation_hash,
        has_contact_email=bool(data.contact.email) and data.anonymity != Anonymity.ANONYMOUS,
        submitted_at=timezone.now(),
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
    outbox_add(kind=ROUTE_REPORT, target_id=report.pk)
    return report


# --- the reporter's follow-up ---------------------------------------------------------------------


def _throttle_key(reference_text: str, client: str) -> str:
    reference = normalise_reference(reference_text) or reference_text.strip().upper()[:32]
    return throttle.throttle_key("report-access", reference, client)


def access_throttled(*, reference: str, client: str) -> bool:
    return throttle.throttle_blocked(key=_throttle_key(reference, client), limit=settings.ACCESS_THROTTLE_LIMIT)


def _access_failure_record(*, reference: str, client: str) -> None:
    throttle.throttle_failure(
        key=_throttle_key(reference, client), window_seconds=settings.ACCESS_THROTTLE_WINDOW_SECONDS
    )


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
    ``client`` is a keyed hash of the client address (never the address itself).
    """
    if access_throttled(reference=reference, client=client):
        raise AccessThrottled
    normalised = normalise_reference(reference)
    code = crypto.normalise_access_code(access_code)
    report = Report.objects.filter(reference=normalised).first() if normalised else None
    if report is None or code is None:
        crypto.dummy_derivation()
        _access_failure_record(reference=reference, client=client)
        raise ReportNotFound
    data_key = crypto.unwrap_key_for_reporter(_reporter_wrap(report), code)
    if data_key is None:
        _access_failure_record(reference=reference, client=client)
        raise ReportNotFound
    return report, data_key


def report_read(*, report: Report, data_key: bytes) -> OpenedReport:
    """Decrypt a report and its mailbox for the reporter, who holds the data key."""
    messages = [
        OpenedMessage(
            direction=message.direction,
            direction_label=message.get_direction_display(),
            kind=message.kind,
            sent_on=message.sent_on,
            body=crypto.open_text(data_key, bytes(message.body)),
        )
        for message in report.messages.all()
    ]
    content = crypto.open_content(data_key, bytes(report.content))
    return OpenedReport(report=report, data_key=data_key, content=content, messages=messages)


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
