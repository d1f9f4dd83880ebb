"""Opening what people wrote about a case, for staff allowed to see it: every opening is audited.

The caller has already found the case through triage.selectors, which decides who may see what.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.models import AuditEvent, Subject
from core import crypto, keystore
from reports.attachments import FileMeta, attachment_meta, attachment_open
from reports.filetypes import BY_CONTENT_TYPE, JPEG, PNG
from reports.models import Attachment, Message, Report
from reports.services import helpline_messages_read
from triage.events import case_event
from triage.models import Case, CaseNote
from triage.retention import case_key, content_destroyed_on, destroyed_words


@sensitive_variables("report")
def report_data_key(report: Report) -> bytes:
    """A report's data key, opened with the helpline's private key (staff service and workers only)."""
    return keystore.data_key_of(report)


def case_data_key(case: Case) -> bytes:
    """The case's data key, opened with the helpline's private key (staff service and workers only): its
    report's, or a review case's own (triage.models.CaseKey)."""
    if case.report is None:
        return case_key(case)
    return report_data_key(case.report)


def content_viewed(*, case: Case, acting_user: User, what: str = "case") -> None:
    """Every view of decrypted content is an audit event."""
    case_event(kind="content_viewed", case=case, actor=acting_user, detail={"view": what})


# A reporter's contact details, once a member of staff has shown them with a reason (case_reveal_contact),
# stay shown to that member of staff on the case's page and in the staff API for this long; then hidden again.
CONTACT_SHOWN_FOR = timedelta(minutes=15)
CONTACT_REVEALED = "contact_revealed"
CONTACT_FIELDS = ("name", "email", "phone")
CONTACT_WORDS = {"name": "name", "phone": "telephone number", "email": "email address"}


def contact_words(fields: list[str]) -> str:
    """``["name", "phone"]`` as "name and telephone number"."""
    words = [CONTACT_WORDS[name] for name in ("name", "phone", "email") if name in fields]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def contact_of(content: dict[str, object]) -> dict[str, str]:
    """The reporter's name and contact details from a report's opened content: those they gave, non-empty."""
    contact = content.get("contact")
    if not isinstance(contact, dict):
        return {}
    return {name: str(contact[name]) for name in CONTACT_FIELDS if contact.get(name)}


def contact_revealed_to(case: Case, user: User) -> bool:
    """Whether ``user`` showed the case's contact details (with a reason) in the last CONTACT_SHOWN_FOR."""
    return AuditEvent.objects.filter(
        subject_kind=Subject.CASE,
        subject_id=case.pk,
        kind=CONTACT_REVEALED,
        actor=user,
        created_at__gte=timezone.now() - CONTACT_SHOWN_FOR,
    ).exists()


@dataclass(frozen=True)
class OpenedCase:
    # What the reporter wrote, without their name and contact details (see ``contact``).
    content: dict[str, object]
    messages: list[tuple[Message, str]]
    notes: list[tuple[CaseNote, str]]
    # The case's referrals and their threads (referrals.models, a layer above: read through the case).
    referrals: list[tuple[Any, str]]
    authority_actions: list[tuple[Any, str]]
    # The reference a body gave for a referral passed on outside the service, by referral id.
    referral_references: dict[int, str] = field(default_factory=dict)
    # The case's files (evidence the reporter sent, files the helpline added), oldest first.
    files: list[CaseFile] = field(default_factory=list)
    # The day the case's content was destroyed (lifecycle.shredding): then nothing above was opened, and the
    # page shows the case's stub. How many files it had, for the stub to say.
    destroyed_on: date | None = None
    destroyed_files: int = 0
    # The reporter's name and contact details: hidden by default, even from the helpline; filled only for a
    # member of staff who showed them with a reason (contact_revealed_to). ``contact_given``: which they gave.
    contact: dict[str, str] = field(default_factory=dict)
    contact_given: tuple[str, ...] = ()

    @property
    def unread_messages(self) -> int:
        """How many of the reporter's messages nobody at the helpline had read before this view (each is
        marked "New" on the page, and read from now on)."""
        return sum(
            1
            for message, _ in self.messages
            if message.direction == Message.Direction.FROM_REPORTER and message.read_by_helpline_on is None
        )

    @property
    def reporter_read_last(self) -> bool | None:
        """Whether the reporter has read the helpline's last message: yes or no, never when. None when the
        helpline has not written to them."""
        sent = [message for message, _ in self.messages if message.direction == Message.Direction.FROM_HELPLINE]
        return sent[-1].read_by_reporter if sent else None


def case_stub(case: Case, destroyed_on: date) -> OpenedCase:
    """A case whose content was destroyed, as its page shows it: its rows (messages, notes, referrals and the
    authorities' records, each with its day and who) with nothing opened, since nothing is left to open. Not
    an audit event: no content is viewed."""
    referrals = list(case.referrals.select_related("authority", "body").order_by("id"))
    return OpenedCase(
        content={},
        messages=[(m, "") for m in case.report.messages.select_related("author")] if case.report else [],
        notes=[(n, "") for n in case.notes.select_related("author")],
        referrals=[(r, "") for r in referrals],
        authority_actions=[(a, "") for a in case.authority_actions.select_related("recorded_by")],
        destroyed_on=destroyed_on,
        destroyed_files=Attachment.objects.filter(report_id=case.report_id).count() if case.report_id else 0,
    )


@sensitive_variables("key")
def case_open(*, case: Case, acting_user: User) -> OpenedCase:
    """Decrypt a case for a member of staff, and record that they did (a case whose content was destroyed:
    its stub)."""
    destroyed_on = content_destroyed_on(case)
    if destroyed_on is not None:
        return case_stub(case, destroyed_on)
    key = case_data_key(case)
    referrals = list(case.referrals.select_related("authority", "body").order_by("id"))
    # A review case has no report: no reporter's content, contact, messages or files.
    report = case.report
    content = crypto.open_content(key, bytes(report.content)) if report is not None else {}
    contact = contact_of(content)
    content.pop("contact", None)
    opened = OpenedCase(
        content=content,
        contact=contact if contact and contact_revealed_to(case, acting_user) else {},
        contact_given=tuple(contact),
        messages=[(m, crypto.open_text(key, bytes(m.body))) for m in report.messages.select_related("author")]
        if report is not None
        else [],
        notes=[(n, crypto.open_text(key, bytes(n.body))) for n in case.notes.select_related("author")],
        # A referral carried over without a summary (referrals migrations 0003 and 0006) has none to open.
        referrals=[(r, crypto.open_text(key, bytes(r.summary)) if r.summary else "") for r in referrals],
        authority_actions=[
            (a, crypto.open_text(key, bytes(a.note)) if a.note else "")
            for a in case.authority_actions.select_related("recorded_by")
        ],
        referral_references={
            r.pk: crypto.open_text(key, bytes(r.sent_reference)) for r in referrals if r.sent_reference
        },
        files=files_of(report_files(case.report_id), key) if case.report_id is not None else [],
    )
    content_viewed(case=case, acting_user=acting_user)
    if case.report_id is None:
        return opened
    # The reporter's messages this view shows are read by the helpline today (the day, which the reporter
    # sees); the opened rows keep what they were, so the page marks those that were new.
    helpline_messages_read(
        report_id=case.report_id,
        message_ids=[m.pk for m, _ in opened.messages if m.direction == Message.Direction.FROM_REPORTER],
    )
    return opened


# --- the case's files -----------------------------------------------------------------------------------

S = Attachment.Status
# What staff may download (the helpline: a file that could not be cleaned too, with its warning), and what
# may be shown inline: a cleaned JPEG or PNG, which every browser displays.
DOWNLOADABLE = frozenset({S.CLEAN, S.NOT_CLEANED})
PREVIEWABLE_TYPES = frozenset({JPEG.content_type, PNG.content_type})
DOWNLOADED = "attachment_downloaded"


@dataclass(frozen=True)
class CaseFile:
    """A file of a case as staff see it: its sealed name, type and size opened, with what may be done."""

    attachment: Attachment
    name: str
    content_type: str
    size: int  # of the file served: the cleaned one once it has been cleaned

    @property
    def public_id(self) -> str:
        return str(self.attachment.public_id)

    @property
    def status(self) -> str:
        return self.attachment.status

    @property
    def status_label(self) -> str:
        return str(S(self.attachment.status).label)

    @property
    def type_label(self) -> str:
        kind = BY_CONTENT_TYPE.get(self.content_type)
        return kind.label if kind else self.content_type

    @property
    def extension(self) -> str:
        kind = BY_CONTENT_TYPE.get(self.content_type)
        return kind.extension if kind else ""

    @property
    def extensions(self) -> tuple[str, ...]:
        kind = BY_CONTENT_TYPE.get(self.content_type)
        return kind.extensions if kind else ()

    @property
    def cleaned(self) -> bool:
        """Checked and stripped of identifying metadata."""
        return self.attachment.status == S.CLEAN

    @property
    def downloadable(self) -> bool:
        return self.attachment.status in DOWNLOADABLE

    @property
    def previewable(self) -> bool:
        return self.cleaned and self.content_type in PREVIEWABLE_TYPES

    @property
    def shareable(self) -> bool:
        """Only a cleaned file may be shared with an authority."""
        return self.cleaned

    @property
    def warning(self) -> str:
        """What staff must know before they open it (or why they cannot)."""
        status = self.attachment.status
        if status == S.NOT_CLEANED:
            return "Could not be cleaned: it may contain identifying metadata. Open it with care and never pass it on."
        if status == S.BLOCKED:
            signature = self.attachment.scan_signature
            return f"Blocked by the malware scan{f' ({signature})' if signature else ''}. It cannot be opened."
        if status == S.PENDING:
            return "Being checked for malware and cleaned of identifying metadata. It can be opened once checked."
        if status == S.REMOVED:
            return "Deleted by a supervisor: nobody can open it again. The reason is in the internal notes."
        return ""

    @property
    def label(self) -> str:
        """The file as a form names it: its name, type and size."""
        return f"{self.name} ({self.type_label}, {filesizeformat(self.size)})".replace("\xa0", " ")

    @property
    def added_on(self) -> date:
        return self.attachment.added_on

    @property
    def from_helpline(self) -> bool:
        return self.attachment.source == Attachment.Source.HELPLINE


def served_size(attachment: Attachment, meta: FileMeta) -> int:
    """The size of the file a download streams: the cleaned file's once there is one."""
    if attachment.generation > 0 and meta.cleaned_size is not None:
        return meta.cleaned_size
    return meta.size


def file_opened(attachment: Attachment, key: bytes) -> CaseFile:
    meta = attachment_meta(attachment, key)
    return CaseFile(
        attachment=attachment, name=meta.name, content_type=meta.content_type, size=served_size(attachment, meta)
    )


def report_files(report_id: int) -> list[Attachment]:
    """A report's files (not those of an upload nobody kept), oldest first."""
    return list(Attachment.objects.filter(report_id=report_id).select_related("added_by").order_by("id"))


@sensitive_variables("key")
def files_of(attachments: list[Attachment], key: bytes) -> list[CaseFile]:
    return [file_opened(attachment, key) for attachment in attachments]


@sensitive_variables("key")
def case_files_open(*, case: Case, acting_user: User) -> list[CaseFile]:
    """The case's files with their names, for a member of the helpline, and record that they were opened."""
    if content_destroyed_on(case) is not None or case.report_id is None:
        return []  # their names were destroyed with them; a review case has no report, so no files
    attachments = report_files(case.report_id)
    files = files_of(attachments, case_data_key(case)) if attachments else []
    content_viewed(case=case, acting_user=acting_user, what="files")
    return files


def file_destroyed_check(case: Case) -> None:
    """Refuse, with FileUnavailable (410), a file of a case whose content was destroyed."""
    destroyed_on = content_destroyed_on(case)
    if destroyed_on is not None:
        raise FileUnavailable(f"{destroyed_words(case)}: its files are gone for good.", 410)


class FileUnavailable(Exception):
    """A file that is not served: still being checked (404), blocked or removed (410), or not there (404)."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


def file_servable(file: CaseFile, *, inline: bool, allowed: frozenset[str] = DOWNLOADABLE) -> None:
    """Refuse, with FileUnavailable, a file that may not be served in this way (``allowed``: the statuses
    the caller may download; a preview needs a cleaned image)."""
    status = file.attachment.status
    if status == S.PENDING:
        raise FileUnavailable("This file is still being checked. It can be opened once the checks are done.", 404)
    if status == S.BLOCKED:
        raise FileUnavailable("This file was blocked by the malware scan. It is never opened.", 410)
    if status == S.REMOVED:
        raise FileUnavailable("This file has been removed.", 410)
    if status not in allowed:
        raise FileUnavailable("This file cannot be opened here.", 404)
    if inline and not file.previewable:
        raise FileUnavailable("Only a cleaned JPEG or PNG image can be previewed. Download the file instead.", 404)


@sensitive_variables("key")
def file_for_preview(*, case: Case, attachment: Attachment, allowed: frozenset[str] = DOWNLOADABLE) -> CaseFile:
    """A cleaned image of ``case`` as its preview page names it, for a member of staff who may open it (the
    caller has checked). Not an audit event: the image itself is, when the page's browser loads it
    (file_download). FileUnavailable for a file that cannot be previewed."""
    file_destroyed_check(case)
    file = file_opened(attachment, case_data_key(case))
    file_servable(file, inline=True, allowed=allowed)
    return file


@sensitive_variables("key")
def file_download(
    *,
    case: Case,
    attachment: Attachment,
    acting_user: User,
    inline: bool = False,
    allowed: frozenset[str] = DOWNLOADABLE,
    detail: dict[str, object] | None = None,
) -> tuple[CaseFile, Iterator[bytes]]:
    """A file of ``case`` for a member of staff who may open it (the caller has checked): the file as staff
    see it and its plaintext as a stream of chunks. Every download and preview is an audit event, recorded
    before the first byte is sent. FileUnavailable for a file that is not served."""
    file_destroyed_check(case)
    key = case_data_key(case)
    file = file_opened(attachment, key)
    file_servable(file, inline=inline, allowed=allowed)
    case_event(
        kind=DOWNLOADED,
        case=case,
        actor=acting_user,
        detail={"attachment_id": attachment.pk, "inline": inline, **(detail or {})},
    )
    return file, attachment_open(attachment, key)


# Who sent a case's file, as the refer form's choices say it beside its name.
FILE_SENT_BY: dict[str, str] = {
    Attachment.Source.REPORTER: "sent by the reporter",
    Attachment.Source.HELPLINE: "sent by the helpline",
}


def file_senders(case: Case) -> dict[str, str]:
    """Who sent each of the case's files, by its id ("sent by the reporter"): metadata only, nothing opened."""
    if case.report_id is None:
        return {}
    sources = Attachment.objects.filter(report_id=case.report_id).values_list("public_id", "source")
    return {str(public_id): FILE_SENT_BY[source] for public_id, source in sources if source in FILE_SENT_BY}


@sensitive_variables("key")
def file_choices(case: Case) -> list[tuple[str, str, str]]:
    """The case's files as a form offers them: id, name with type and size, and status (for the forms
    that choose among them: what may be shared, what may be deleted)."""
    if case.report_id is None:
        return []
    attachments = report_files(case.report_id)
    if not attachments or content_destroyed_on(case) is not None:
        return []
    return [(file.public_id, file.label, file.status) for file in files_of(attachments, case_data_key(case))]
