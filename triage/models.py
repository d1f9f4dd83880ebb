from django.conf import settings
from django.db import models
from django.db.models import Q


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


class AuthorityOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    CHILD_PROTECTION_PLAN = "child_protection_plan", "Child protection plan"
    CHILD_IN_NEED_SUPPORT = "child_in_need_support", "Child in need support"
    EARLY_HELP = "early_help", "Early help"
    POLICE_INVESTIGATION = "police_investigation", "Police investigation"
    DISCIPLINARY_OR_LADO = "disciplinary_or_lado", "Disciplinary or designated officer (LADO) action"
    PRACTICE_CHANGED = "practice_changed", "Practice or policy changed"
    CONCERN_NOT_UPHELD = "concern_not_upheld", "Concern not upheld"


class Case(models.Model):
    """The helpline's working record of one report. Its number is what authorities see."""

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        STANDARD = "standard", "Standard"

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_TRIAGE = "in_triage", "In triage"
        AWAITING_REPORTER = "awaiting_reporter", "Waiting for the reporter"
        REFERRED = "referred", "Referred to the local authority"
        NATIONAL_REVIEW = "national_review", "Independent national review"
        CLOSED = "closed", "Closed"

    case_number = models.CharField(max_length=16, unique=True)
    report = models.OneToOneField("reports.Report", on_delete=models.PROTECT, related_name="case")
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
    referred_at = models.DateTimeField(null=True, blank=True)
    authority_ack_due_at = models.DateTimeField(null=True, blank=True)
    authority_outcome_due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True, choices=Outcome.choices)
    escalated_to_police = models.BooleanField(default=False)
    # The authority's side: when the second rung of the ladder (national oversight) is due, and what
    # the authority has recorded.
    authority_ack_escalate_at = models.DateTimeField(null=True, blank=True)
    authority_outcome_escalate_at = models.DateTimeField(null=True, blank=True)
    authority_acknowledged_at = models.DateTimeField(null=True, blank=True)
    authority_outcome = models.CharField(max_length=32, blank=True, choices=AuthorityOutcome.choices)
    authority_outcome_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)

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
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def authority_unknown(self) -> bool:
        return self.authority_id is None


class Escalation(models.Model):
    """One step of the escalation ladder taken for a case: taken once, recorded with the deadline missed."""

    class Step(models.TextChoices):
        TRIAGE_OVERDUE = "triage_overdue", "Triage overdue: supervisors alerted"
        ACK_OVERDUE = "ack_overdue", "No acknowledgement in 1 working day: supervisors alerted"
        ACK_OVERDUE_NATIONAL = (
            "ack_overdue_national",
            "No acknowledgement in 3 working days: national oversight and the partnership alerted",
        )
        OUTCOME_OVERDUE = "outcome_overdue", "No outcome in 45 working days: supervisors alerted"
        OUTCOME_OVERDUE_NATIONAL = (
            "outcome_overdue_national",
            "No outcome in 47 working days: national oversight and the partnership alerted",
        )
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


class Referral(models.Model):
    """A case referred to a local authority, with the redacted summary written for it (sealed)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    authority = models.ForeignKey("directory.LocalAuthority", on_delete=models.PROTECT, related_name="referrals")
    summary = models.BinaryField()
    identity_shared = models.BooleanField(default=False)
    # What else the helpline chose to pass on (sealed JSON, triage.case_actions.REFERRAL_PARTICULARS): the
    # postcode district, whether the organisation is named, which of a named reporter's contact details
    # their consent covers. Empty for referrals made before it.
    particulars = models.BinaryField(default=b"")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referred_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"referral of case {self.case_id} to {self.authority_id}"


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


class AuthorityAction(models.Model):
    """The referral's thread: what the authority did, the questions it asked the helpline, and the
    helpline's replies and updates to it. Every note is sealed like all free text."""

    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged the referral"
        STRATEGY_DISCUSSION = "strategy_discussion", "Strategy discussion"
        SECTION_47 = "section_47", "Section 47 enquiry"
        POLICE_REFERRAL = "police_referral", "Referral to the police"
        LADO = "lado", "Designated officer (LADO) process"
        PRACTICE_REVIEW = "practice_review", "Practice review"
        OTHER = "other", "Other action"
        OUTCOME = "outcome", "Outcome recorded"
        QUESTION = "question", "Question for the helpline"
        # Written by the helpline, read by the authority.
        HELPLINE_REPLY = "helpline_reply", "Reply from the helpline"
        HELPLINE_UPDATE = "helpline_update", "Update from the helpline"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="authority_actions")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    note = models.BinaryField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    # A question's clock: answered by this (2 working days), when it was answered, whether supervisors
    # were alerted that it was not, and whether the helpline passed it on to the reporter.
    answer_due_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    overdue_alerted = models.BooleanField(default=False)
    relayed_to_reporter = models.BooleanField(default=False)
    # A reply names the question it answers.
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["answer_due_at"],
                name="question_unanswered",
                condition=Q(kind="question", answered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"

    @property
    def from_helpline(self) -> bool:
        return self.kind in (self.Kind.HELPLINE_REPLY, self.Kind.HELPLINE_UPDATE)

    @property
    def unanswered(self) -> bool:
        return self.kind == self.Kind.QUESTION and self.answered_at is None
