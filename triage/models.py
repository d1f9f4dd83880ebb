from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from triage.facts import SUSPECTS_MAX, Known, OfstedClass, Setting


class Queue(models.Model):
    class Kind(models.TextChoices):
        URGENT = "urgent", "Urgent"
        NATIONAL = "national", "National triage"
        REGIONAL = "regional", "Regional triage"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    region = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    REFERRED_AND_ACTED_ON = "referred_and_acted_on", "Referred; the authority acted"
    SUBSTANTIATED = "substantiated", "Concern substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated", "Concern partly substantiated"
    NOT_SUBSTANTIATED = "not_substantiated", "Concern not substantiated"
    DUPLICATE = "duplicate", "Duplicate of another case"
    NO_FURTHER_ACTION = "no_further_action", "No further action possible"
    WITHDRAWN = "withdrawn", "Withdrawn by the reporter"


class Case(models.Model):
    """The helpline's working record of one report. Its number is what authorities see.

    A national review case (``Kind.PATTERN_REVIEW``) has no report behind it: it is opened from a pattern
    alert (oversight.alerts) for the independent national review team, and its notes, summaries and threads
    are sealed with a data key of its own (``CaseKey``), under the same custody and retention rules as a
    routed report's. Nothing reporter-facing ever reaches one (no reporter, no mailbox)."""

    class Kind(models.TextChoices):
        REPORT = "report", "A report"
        PATTERN_REVIEW = "pattern_review", "National review of a pattern"

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        STANDARD = "standard", "Standard"

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_TRIAGE = "in_triage", "In triage"
        AWAITING_REPORTER = "awaiting_reporter", "Waiting for the reporter"
        # With its authorities: at least one referral is made (referrals.models.Referral has its own state).
        REFERRED = "referred", "Referred to the local authority"
        NATIONAL_REVIEW = "national_review", "Independent national review"
        CLOSED = "closed", "Closed"

    case_number = models.CharField(max_length=16, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REPORT)
    # Every report case has its report; a pattern review case never has one (case_kind_matches_report).
    report = models.OneToOneField(
        "reports.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    authority = models.ForeignKey("directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT)
    # The council the concern is about, when it is about one: never referred to or shown to it.
    conflict_authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    independent_review = models.BooleanField(default=False)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    triage_due_at = models.DateTimeField()
    reporter_feedback_due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True, choices=Outcome.choices)
    escalated_to_police = models.BooleanField(default=False)
    # National oversight has been alerted about one of the case's referrals (referrals.escalations).
    escalated = models.BooleanField(default=False)
    # The retention schedule (triage.retention): the day a closed case's content is due to be destroyed,
    # from its outcome's period after closure or the reporter's last message or file. None while it is open.
    destroy_on = models.DateField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["queue", "status", "triage_due_at"], name="case_queue_due"),
            models.Index(
                fields=["triage_due_at", "id"],
                include=["queue", "status", "reporter_feedback_due_at"],
                name="case_open_due",
                condition=~Q(status="closed"),
            ),
            models.Index(fields=["status", "triage_due_at", "id"], name="case_status_due"),
            models.Index(fields=["created_at", "id"], name="case_open_created", condition=~Q(status="closed")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(conflict_authority__isnull=True) | Q(independent_review=True),
                name="case_conflict_needs_independent_review",
            ),
            models.CheckConstraint(
                condition=(Q(kind="report") & Q(report__isnull=False))
                | (Q(kind="pattern_review") & Q(report__isnull=True)),
                name="case_kind_matches_report",
            ),
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def authority_unknown(self) -> bool:
        return self.authority_id is None

    @property
    def is_review(self) -> bool:
        """A national review case opened from a pattern alert: no report, no reporter."""
        return self.kind == Case.Kind.PATTERN_REVIEW


class CaseKey(models.Model):
    """The data key of a case with no report (a pattern review case): the same envelope as a report's
    (core.keystore.Envelope), sealed to the helpline's public key when made and then kept under a custody
    key (the open-cases key, its destruction month's epoch key, the held key) by triage.retention, exactly as
    a routed report's is. Emptied by crypto-shredding (lifecycle.shredding), with ``content_destroyed_on``."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="own_key")
    helpline_key_id = models.CharField(max_length=32, blank=True, default="")
    helpline_sealed_key = models.BinaryField(default=b"", blank=True)
    custody_key_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    custody_wrapped_key = models.BinaryField(default=b"", blank=True)
    content_destroyed_on = models.DateField(null=True, blank=True)
    content_destroyed_early = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"data key of case {self.case_id}"


class Escalation(models.Model):
    """One step of the helpline's escalation ladder taken for a case: taken once, recorded with the deadline
    missed. A referral's own ladder is referrals.models.ReferralEscalation."""

    class Step(models.TextChoices):
        TRIAGE_OVERDUE = "triage_overdue", "Triage overdue: supervisors alerted"
        FEEDBACK_DUE_SOON = "feedback_due_soon", "Reporter feedback due within 14 days: supervisors alerted"
        FEEDBACK_OVERDUE = "feedback_overdue", "Reporter feedback overdue: supervisors alerted"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations")
    step = models.CharField(max_length=32, choices=Step.choices)
    deadline = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="escalation_once_per_step")]

    def __str__(self) -> str:
        return f"{self.step} for case {self.case_id}"


class CaseNote(models.Model):
    """An internal helpline note; sealed with the report's data key like everything people write."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"note {self.pk} on case {self.case_id}"


class CaseLink(models.Model):
    """Two cases about the same thing. Each reporter still sees only their own thread."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    other = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    # Nobody when the system linked them (a retaliation check-in).
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "other"], name="case_link_once"),
            models.CheckConstraint(condition=~Q(case=models.F("other")), name="case_link_not_itself"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} linked to {self.other_id}"


class CaseFacts(models.Model):
    """What the helpline has learnt about a case for the national picture (triage/facts.py): codes and
    counts only, each "not known" until recorded. Staff record and change it on the case page or the staff
    API (case_actions.case_record_facts, audited); partnerships and oversight see it only in aggregate,
    suppressed. Suspects are counts per category (``{code: count}``), never a row per person."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="facts")
    ofsted_class = models.CharField(max_length=24, blank=True, choices=OfstedClass.choices)
    group_based = models.CharField(max_length=16, choices=Known.choices, default=Known.NOT_KNOWN)
    settings = ArrayField(models.CharField(max_length=24, choices=Setting.choices), default=list, blank=True)
    looked_after = models.CharField(max_length=16, choices=Known.choices, default=Known.NOT_KNOWN)
    placed_out_of_area = models.CharField(max_length=16, choices=Known.choices, default=Known.NOT_KNOWN)
    # The authority that placed the child (the case may be referred to it as well as to the host).
    placing_authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    missing_episodes = models.CharField(max_length=16, choices=Known.choices, default=Known.NOT_KNOWN)
    suspects = models.PositiveSmallIntegerField(null=True, blank=True)  # None: not known
    # {category code: count}; the counts add up to ``suspects`` ("not_known" holds those not accounted for).
    suspect_ethnicity = models.JSONField(default=dict, blank=True)
    suspect_nationality = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "case facts"
        constraints = [
            models.CheckConstraint(
                condition=Q(placing_authority__isnull=True) | Q(placed_out_of_area="yes"),
                name="case_facts_placing_authority_only_out_of_area",
            ),
            models.CheckConstraint(
                condition=Q(suspects__isnull=True) | Q(suspects__lte=SUSPECTS_MAX),
                name="case_facts_suspects_at_most_max",
            ),
        ]

    def __str__(self) -> str:
        return f"facts of case {self.case_id}"


class LegalHold(models.Model):
    """A case kept beyond its retention period (an inquiry's notice, a court order, a police request): the
    schedule skips it until the hold is released. Its data key sits under the held key meanwhile
    (core.keystore). The reason is sealed with the case's data key; the basis is in clear."""

    class Basis(models.TextChoices):
        INQUIRY_NOTICE = "inquiry_notice", "A notice from a statutory inquiry (Inquiries Act 2005)"
        COURT_ORDER = "court_order", "A court order"
        POLICE_REQUEST = "police_request", "A police request"
        LITIGATION = "litigation", "Legal proceedings, actual or expected"
        EVIDENCE_EXPORT = "evidence_export", "Shared as evidence"
        OTHER = "other", "Another legal reason"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_holds")
    basis = models.CharField(max_length=24, choices=Basis.choices)
    reason = models.BinaryField(default=b"")
    # A hold placed on a linked case because of a hold on this one.
    linked_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="linked")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_on = models.DateField()
    # Held cases are reviewed every year.
    review_due_on = models.DateField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(released_on__isnull=True), name="legal_hold_one_active_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"legal hold {self.pk} on case {self.case_id}"


class Page(models.Model):
    """One urgent page by SMS (triage.paging): a person on call, or the duty manager, paged about a case,
    with the deadline by which somebody must say they are dealing with it before the next person is paged.
    Its times are exact while the urgent clock runs and kept to the day once it is met or the page is
    acknowledged (``day_only``): an out-of-hours page's time is the time the reporter pressed Send."""

    class Level(models.TextChoices):
        PRIMARY = "primary", "Primary on call"
        SECONDARY = "secondary", "Secondary on call"
        DUTY_MANAGER = "duty_manager", "Duty manager"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pages")
    level = models.CharField(max_length=16, choices=Level.choices)
    # Who was paged: a member of staff on the rota (None for the duty manager, who is a setting, or when the
    # rota had nobody at this level, ``phone`` then empty and nothing sent).
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    phone = models.CharField(max_length=32, blank=True)
    # The SMS (notify), whose delivery status Notify reports; gone once notify purges sent texts.
    notification = models.ForeignKey(
        "notify.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField()
    deadline = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # True once the times above keep the day only (the clock met, or somebody dealing with it).
    day_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="page_once_per_level")]
        indexes = [models.Index(fields=["day_only", "acknowledged_at"], name="page_waiting")]

    def __str__(self) -> str:
        return f"{self.level} page for case {self.case_id}"
