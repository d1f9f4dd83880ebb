import uuid
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class Anonymity(models.TextChoices):
    ANONYMOUS = "anonymous", "Anonymous"
    CONFIDENTIAL = "confidential", "Confidential"
    NAMED = "named", "Named"


class ReporterSector(models.TextChoices):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    EDUCATION = "education", "Education"
    POLICE = "police", "Police"
    HEALTH = "health", "Health"
    LOCAL_COUNCIL = "local_council", "Local council (other services)"
    ELECTED_MEMBER = "elected_member", "Elected member (councillor)"
    VOLUNTARY_SECTOR = "voluntary_sector", "Voluntary or community sector"
    OTHER = "other", "Other"


class ConcernType(models.TextChoices):
    CONCERN_NOT_ACTED_ON = "concern_not_acted_on", "A concern was raised but not acted on"
    VICTIM_DISBELIEVED_OR_BLAMED = "victim_disbelieved_or_blamed", "A victim was disbelieved or blamed"
    INFORMATION_NOT_SHARED = "information_not_shared", "Information was not shared with those who needed it"
    RECORDS_ALTERED_OR_SUPPRESSED = "records_altered_or_suppressed", "Records were altered or suppressed"
    COVER_UP_TO_PROTECT_REPUTATION = (
        "cover_up_to_protect_reputation",
        "A cover-up to protect an organisation's reputation",
    )
    RETALIATION_AGAINST_STAFF = "retaliation_against_staff", "Staff who spoke up were punished or threatened"
    UNSAFE_WORKLOAD_OR_RESOURCES = "unsafe_workload_or_resources", "Unsafe workloads or too few resources"
    KNOWN_RISK_PERSON_WITH_ACCESS = (
        "known_risk_person_with_access",
        "A person known to be a risk has access to children",
    )
    # Deterring a report of child sexual abuse is an offence (the duty to report): never routed only to
    # whoever did it, flagged for a supervisor, and offered to the police (triage.routing).
    PREVENTED_FROM_REPORTING = "prevented_from_reporting", "I was stopped or discouraged from reporting abuse"
    ACTION_AVOIDED_OVER_COMMUNITY_CONCERNS = (
        "action_avoided_over_community_concerns",
        "Action was avoided because of worries about ethnicity, religion or community relations",
    )
    OTHER = "other", "Something else"


class RaisedInternally(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_SURE = "not_sure", "I'm not sure"


class AlreadyReported(models.TextChoices):
    """Whether the concern was already reported to the police or the council (the duty to report): kept in
    clear for the statistics; who reported it, to whom, the day and the reference are sealed."""

    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class PriorReportBy(models.TextChoices):
    """Who made the earlier report (sealed, with the report's content)."""

    REPORTER = "reporter", "The reporter"
    SOMEONE_ELSE = "someone_else", "Someone else"


class PriorReportTo(models.TextChoices):
    """Whom the earlier report went to (sealed, with the report's content)."""

    POLICE = "police", "The police"
    COUNCIL = "council", "The council's children's services"
    BOTH = "both", "The police and the council"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    API = "api", "API"


# The urgent triage clock: a report that says a child is at immediate risk must be triaged within this.
URGENT_TRIAGE = timedelta(hours=1)


class Report(models.Model):
    """One concern as the reporter gave it.

    Metadata needed for routing and statistics is in clear; everything a person wrote is in
    ``content`` (sealed with the report's data key). The data key is kept sealed to the helpline's
    public key and wrapped with a key derived from the reporter's access code.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ROUTED = "routed", "Routed"

    reference = models.CharField(max_length=16, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    anonymity = models.CharField(max_length=16, choices=Anonymity.choices)
    reporter_sector = models.CharField(max_length=32, choices=ReporterSector.choices)
    concern_types = ArrayField(models.CharField(max_length=40, choices=ConcernType.choices))
    local_authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    about_authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    child_at_immediate_risk = models.BooleanField()
    raised_internally = models.CharField(max_length=8, choices=RaisedInternally.choices)
    already_reported = models.CharField(
        max_length=16, choices=AlreadyReported.choices, default=AlreadyReported.NOT_KNOWN
    )
    organisation_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # The id of the HMAC key that made organisation_hash (core.crypto), so that a rotation can re-hash while
    # the service works; "" when there is no hash.
    organisation_hash_key_id = models.CharField(max_length=16, blank=True, default="")
    has_contact_email = models.BooleanField(default=False)
    # The day an anonymous reporter gave the helpline their name and contact details from /check (the day
    # only): from then on the report is confidential, and its sealed content holds them like intake's.
    contact_given_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    # The day only (local midnight, core.timetrail.day_start): never when in the day the reporter was here.
    submitted_at = models.DateTimeField()
    # The one precise time a report may carry: the urgent 1-hour triage deadline, from submission until
    # the report is routed (its case takes the clock over, and this is cleared).
    urgent_triage_due_at = models.DateTimeField(null=True, blank=True)
    # A report the reporter filed through a retaliation check-in on an earlier report of theirs.
    retaliation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retaliation_reports"
    )

    # Encryption envelope: the sealed content, and the data key sealed twice (ENVELOPE_FIELDS).
    content = models.BinaryField()
    helpline_key_id = models.CharField(max_length=32)
    helpline_sealed_key = models.BinaryField()
    reporter_kdf_salt = models.BinaryField()
    reporter_kdf_opslimit = models.PositiveIntegerField()
    reporter_kdf_memlimit = models.PositiveBigIntegerField()
    reporter_wrapped_key = models.BinaryField()
    # Once routed, the data key is wrapped under a custody key instead of the helpline's (core.keystore):
    # the open-cases key, its destruction month's epoch key, or the legal-hold key.
    custody_key_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    custody_wrapped_key = models.BinaryField(default=b"", blank=True)
    # The day the retention schedule (or an approved early destruction) destroyed what people wrote: the
    # row stays as a stub of metadata, and no key opens anything of it.
    content_destroyed_on = models.DateField(null=True, blank=True)
    # Destroyed before its time, with two supervisors' approval (lifecycle.early_destruction), not by the schedule.
    content_destroyed_early = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(concern_types=[]), name="report_has_a_concern_type"),
            models.CheckConstraint(
                condition=Q(anonymity__in=["confidential", "named"]) | Q(has_contact_email=False),
                name="report_anonymous_has_no_contact",
            ),
        ]
        indexes = [
            # Pattern detection: the same organisation within a window of days.
            models.Index(fields=["organisation_hash", "submitted_at"], name="report_org_recent"),
            models.Index(fields=["submitted_at"], name="report_submitted"),
        ]

    def __str__(self) -> str:
        return self.reference


# The fields that hold a report's data key: a report that shares them shares its key (and access code).
ENVELOPE_FIELDS = (
    "helpline_key_id",
    "helpline_sealed_key",
    "custody_key_id",
    "custody_wrapped_key",
    "reporter_kdf_salt",
    "reporter_kdf_opslimit",
    "reporter_kdf_memlimit",
    "reporter_wrapped_key",
)


class Message(models.Model):
    """A message in the anonymous mailbox between reporter and helpline; the body is sealed."""

    class Direction(models.TextChoices):
        FROM_REPORTER = "from_reporter", "You"
        # The reporter never learns which member of staff wrote: every helpline message is the adviser's.
        FROM_HELPLINE = "from_helpline", "Helpline adviser"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        MORE_INFORMATION = "more_information", "More information"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MESSAGE)
    author = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.BinaryField()
    # The day only: enough for the reporter and the helpline, no trail of the reporter's visits.
    sent_on = models.DateField()
    # The read state of the mailbox (triage.mailbox). A reporter's message: the day a member of the helpline
    # first opened the case showing it (the reporter sees "Read by the helpline" and this day, never a time);
    # None while unread.
    read_by_helpline_on = models.DateField(null=True, blank=True)
    # A helpline message: whether the reporter has seen it on /check or through the API. Yes or no, never
    # when: a read time would be a log of the reporter's visits.
    read_by_reporter = models.BooleanField(default=False)
    # A helpline message still unread 10 working days after the day it was sent: the case's nudge step (and
    # the reporter's content-free email) was taken for it. Once per message.
    reporter_nudged = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # "Who wrote last" per case (the case list's "New message", the helpline home's count): the newest
            # message of a report and its direction, read from the index alone.
            models.Index(fields=["report", "-id"], include=["direction"], name="reports_msg_last_direction"),
            # Unread reporter messages (counts per case and per queue): the few not yet read, by report.
            models.Index(
                fields=["report"],
                name="reports_msg_unread_helpline",
                condition=Q(direction="from_reporter", read_by_helpline_on__isnull=True),
            ),
            # The nudge's sweep: helpline messages the reporter has not read and not been nudged about, by day.
            models.Index(
                fields=["sent_on"],
                name="reports_msg_unread_reporter",
                condition=Q(direction="from_helpline", read_by_reporter=False, reporter_nudged=False),
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} on report {self.report_id}"


class Draft(models.Model):
    """State kept between a reporter's pages (their answers, or an unlocked follow-up), sealed with a
    key that lives only in the reporter's cookie. Expires after a short idle time."""

    class Purpose(models.TextChoices):
        DRAFT = "draft", "Answers to question pages"
        FOLLOW_UP = "follow_up", "An unlocked follow-up page"
        # A draft that became a report: emptied, kept until it expires so that a second press of "Send"
        # is told the report was already sent instead of sending it twice.
        SENT = "sent", "Answers already sent"

    id = models.UUIDField(primary_key=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    ciphertext = models.BinaryField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.purpose} {self.pk}"


class RetaliationCheckin(models.Model):
    """A check-in the reporter opted into: at 1, 3 and 6 months the follow-up page asks whether anything
    has happened to them since reporting."""

    class Answer(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="checkins")
    months = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    answer = models.CharField(max_length=4, choices=Answer.choices, blank=True)
    answered_on = models.DateField(null=True, blank=True)
    nudged = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["report", "months"], name="checkin_once_per_step")]

    def __str__(self) -> str:
        return f"{self.months}-month check-in for report {self.report_id}"


class IdempotencyKey(models.Model):
    """An API client's Idempotency-Key for a submission, so a retried request never files a second report.
    The key and the request body are kept as keyed hashes only; the row expires."""

    key_hash = models.CharField(max_length=64, primary_key=True)
    request_hash = models.CharField(max_length=64)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"idempotency key {self.key_hash[:8]}"


class Attachment(models.Model):
    """A file the reporter (or the helpline, on their behalf or to them) added to a report.

    Stored as a sealed stream (core.secretstream) in AttachmentChunk rows, never on disk, with a random key
    of its own wrapped with the report's data key (``key_wrap``): before the report exists, with the draft's
    key (``draft_id``), and re-wrapped on submit. Its name, type, size and the original's SHA-256 are sealed
    too (``meta``), so the database knows only a padded size and a status. The workers scan it (clamd),
    strip its metadata (mat2) and replace the original's chunks with the cleaned file's (``generation``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being checked"
        CLEAN = "clean", "Checked and cleaned"
        BLOCKED = "blocked", "Blocked by the malware scan"
        NOT_CLEANED = "not_cleaned", "Could not be cleaned: may contain identifying metadata"
        REMOVED = "removed", "Removed"

    class Stage(models.TextChoices):
        # Where the workers are with it: each step an outbox kind, each idempotent.
        RECEIVED = "received", "Received"
        SCANNED = "scanned", "Scanned"
        DONE = "done", "Done"

    class Source(models.TextChoices):
        REPORTER = "reporter", "The reporter"
        HELPLINE = "helpline", "The helpline"

    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    # A file chosen on a question page before the report was sent: wrapped with the draft's key, dropped
    # with the draft when it expires (expires_at), moved to the report on submit.
    draft_id = models.UUIDField(null=True, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A file sent with a message in the mailbox (either way), if it came with one.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.REPORTER)
    added_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.RECEIVED)
    # The sealed stream: its key (wrapped), header and number of chunks, of the current generation (0 the
    # original as received, 1 the cleaned file).
    key_wrap = models.BinaryField(default=b"")
    header = models.BinaryField(default=b"")
    chunk_count = models.PositiveIntegerField(default=0)
    generation = models.PositiveSmallIntegerField(default=0)
    # Sealed JSON: name, type, size, sha256 (the original's), and after processing the cleaned size and
    # what mat2 said. Never in clear.
    meta = models.BinaryField(default=b"")
    # The malware scanner's signature name for a blocked file (clamd's words, not the reporter's).
    scan_signature = models.CharField(max_length=128, blank=True)
    # The day only, as for messages.
    added_on = models.DateField()
    # Sent with the report itself (chosen on the question pages), not added later: the files its receipt names.
    sent_with_report = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(report__isnull=False) | Q(expires_at__isnull=False) | Q(status="removed"),
                name="attachment_has_an_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"attachment {self.pk}"


class AttachmentChunk(models.Model):
    """One sealed chunk (64 KiB of plaintext) of an attachment's stream. No times, no names."""

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="chunks")
    generation = models.PositiveSmallIntegerField()
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["attachment", "generation", "index"]
        constraints = [
            models.UniqueConstraint(fields=["attachment", "generation", "index"], name="attachment_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of attachment {self.attachment_id}"


class Receipt(models.Model):
    """The reporter's signed proof of disclosure (reports.receipts, docs/receipts.md).

    Made with the report, in its transaction, holding only a random receipt key wrapped with the report's data
    key (``key_wrap``): the workers then sign the receipt and seal its text block with that key (``body``), and
    set ``issued_on``. The reporter opens it from /check (access code → data key → receipt key), and the
    confirmation page with the receipt key alone, kept sealed in the browser's sent note: never the data key.
    Destroyed with the report's content (lifecycle.shredding), as the data key is."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="receipt")
    key_wrap = models.BinaryField()
    body = models.BinaryField(default=b"", blank=True)
    # The receipt signing key's id (core.receipts), once signed.
    signing_key_id = models.CharField(max_length=32, blank=True, default="")
    # The day only, once signed: as for every time a reporter's action causes.
    issued_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"receipt of report {self.report_id}"
