"""Every write to reports: submission, the reporter's follow-up, and the mailbox.

Key derivation (Argon2id, ~64 MiB) happens before a transaction opens, so no database connection is
held while it runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from reports import crypto, throttle
from reports.models import Anonymity, Channel, Message, Report
from triage.audit import event_record
from triage.models import LocalAuthority, OutboxMessage
from triage.outbox import outbox_add
from triage.workflow import TRANSITIONS

# Letters and digits that cannot be confused when read aloud or written down (no 0/O, 1/I/L, 5/S, 8/B).
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"


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


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str | None:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(cleaned) != 8 or any(ch not in REFERENCE_ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:]}"


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
    for _ in range(5):
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


@transaction.atomic
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
        helpline_key_id=key_id,
        helpline_sealed_key=helpline_sealed,
        reporter_kdf_salt=reporter_wrap.salt,
        reporter_kdf_opslimit=reporter_wrap.params.opslimit,
        reporter_kdf_memlimit=reporter_wrap.params.memlimit,
        reporter_wrapped_key=reporter_wrap.wrapped_key,
    )
    if acting_user is not None:
        event_record(kind="report_taken_by_phone", actor=acting_user, detail={"report_id": report.pk})
    outbox_add(kind=OutboxMessage.Kind.ROUTE_REPORT, target_id=report.pk)
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
@transaction.atomic
def message_send_from_reporter(
    *, report: Report, data_key: bytes, body: str, kind: str = Message.Kind.MESSAGE
) -> Message:
    message = Message.objects.create(
        report=report,
        direction=Message.Direction.FROM_REPORTER,
        kind=kind,
        body=crypto.seal_text(data_key, body),
        sent_on=timezone.localdate(),
    )
    case = getattr(report, "case", None)
    if case is not None:
        if case.status in TRANSITIONS["reporter_replied"].allowed_from:
            case.status = TRANSITIONS["reporter_replied"].to
            case.save(update_fields=["status"])
        event_record(kind="reporter_message_received", case=case, detail={"message_id": message.pk, "kind": kind})
    return message


def access_throttles_purge() -> int:
    return throttle.throttles_purge()
