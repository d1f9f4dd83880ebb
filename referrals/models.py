"""A referral: one case passed to one recipient (a local authority or a national body), with everything that belongs
to that referral alone: the summary written for it, its status and clocks, its escalation ladder and its
thread with the helpline. A case may have several (the placing and the host authority; again after a
reopen). The tables kept their triage names when the models moved here (docs/adr/0001-layers.md)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from directory.models import LocalAuthority, NationalBody
from triage.models import Case

# A referral's recipient kind when it is a local authority (a national body's is its own kind).
LOCAL_AUTHORITY = "local_authority"
# Every kind of recipient, as the statistics and the annual report count referrals by it.
RECIPIENT_KINDS: list[tuple[str, str]] = [
    (LOCAL_AUTHORITY, "Local authority"),
    (NationalBody.Kind.REVIEW_TEAM.value, "Independent national review"),
    (NationalBody.Kind.OFSTED.value, "Ofsted"),
    (NationalBody.Kind.CQC.value, "Care Quality Commission"),
    (NationalBody.Kind.POLICE_FORCE.value, "Police"),
    (NationalBody.Kind.CSPR_PANEL.value, "Child Safeguarding Practice Review Panel"),
]


# The independent national review team in a sentence (Referral.recipient_called).
REVIEW_TEAM_CALLED = "the independent review team"


class AuthorityOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    CHILD_PROTECTION_PLAN = "child_protection_plan", "Child protection plan"
    CHILD_IN_NEED_SUPPORT = "child_in_need_support", "Child in need support"
    EARLY_HELP = "early_help", "Early help"
    POLICE_INVESTIGATION = "police_investigation", "Police investigation"
    DISCIPLINARY_OR_LADO = "disciplinary_or_lado", "Disciplinary or designated officer (LADO) action"
    PRACTICE_CHANGED = "practice_changed", "Practice or policy changed"
    CONCERN_NOT_UPHELD = "concern_not_upheld", "Concern not upheld"


class ReviewOutcome(models.TextChoices):
    """What the independent national review team found (its findings are the outcome's sealed note)."""

    UPHELD = "review_upheld", "Concern upheld"
    PARTLY_UPHELD = "review_partly_upheld", "Concern partly upheld"
    NOT_UPHELD = "review_not_upheld", "Concern not upheld"
    NO_FINDING = "review_no_finding", "No finding possible"


# Every outcome a referral may record: an authority's or the review's.
REFERRAL_OUTCOMES = [*AuthorityOutcome.choices, *ReviewOutcome.choices]


class HowSent(models.TextChoices):
    """How the helpline or the review team passed a referral to a body with no accounts here: never by an
    email with case content in it."""

    TELEPHONE = "telephone", "By telephone"
    SECURE_CHANNEL = "secure_channel", "Through the body's own secure channel"


class Referral(models.Model):
    """A case referred to a local authority or a national body (exactly one of the two), with the redacted
    summary written for it (sealed), and the recipient's side of it: acknowledged by, outcome by, and what
    it recorded. A body with no accounts here (Ofsted, a police force …) is sent nothing by the service:
    the referral is recorded as passed on (``SENT``), with how and the reference the body gave."""

    class Status(models.TextChoices):
        AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", "Waiting for acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        OUTCOME_RECORDED = "outcome_recorded", "Outcome recorded"
        # The helpline closed the case, or sent it to independent review, before the authority finished.
        WITHDRAWN = "withdrawn", "Withdrawn"
        # Passed to a body that works outside this service (by telephone, its own secure channel): no clocks
        # and no thread here; the body's reference is kept.
        SENT = "sent", "Passed on outside this service"

    OPEN = frozenset({Status.AWAITING_ACKNOWLEDGEMENT, Status.ACKNOWLEDGED})
    # The case statuses in which a recipient works its referral: with its authorities, or under review.
    CASE_WITH_RECIPIENTS = frozenset({Case.Status.REFERRED, Case.Status.NATIONAL_REVIEW})

    case = models.ForeignKey("triage.Case", on_delete=models.PROTECT, related_name="referrals")
    authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    body = models.ForeignKey(
        "directory.NationalBody", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    # A referral the independent review made of a case under review (to Ofsted, the police, the panel).
    referred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referred_on"
    )
    # A referral passed on outside the service: how, and the reference the body gave (sealed: a crime
    # reference names a police record). Blank for every other referral.
    how_sent = models.CharField(max_length=16, blank=True, choices=HowSent.choices)
    sent_reference = models.BinaryField(default=b"", blank=True)
    summary = models.BinaryField()
    # The old rule's record that a named reporter agreed to be named to the recipient, ticked by the helpline.
    # Replaced by IdentitySharing (migration 0008 recorded each as the reporter's consent, ``carried_over``):
    # nothing reads or sets it since. The column stays: the statistics' materialized view selects every column.
    identity_shared = models.BooleanField(default=False)
    # What else the helpline chose to pass on (sealed JSON, referrals.services.REFERRAL_PARTICULARS): the
    # postcode district and whether the organisation is named (and, for referrals made before identity
    # sharing was recorded on its own (IdentitySharing), which contact details the reporter's consent
    # covered). Empty for referrals made before it.
    particulars = models.BinaryField(default=b"")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referred_at = models.DateTimeField()
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.AWAITING_ACKNOWLEDGEMENT)
    # The clocks, set when the referral is made (referrals.deadlines); the second rung of each ladder is when
    # national oversight and the partnership hear of it.
    ack_due_at = models.DateTimeField()
    ack_escalate_at = models.DateTimeField()
    outcome_due_at = models.DateTimeField()
    outcome_escalate_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True, choices=[*AuthorityOutcome.choices, *ReviewOutcome.choices])
    outcome_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # National oversight has been alerted about this referral.
    escalated = models.BooleanField(default=False)
    # The case's files the helpline chose to share with this recipient (cleaned ones only: services.py):
    # the recipient opens these and no other.
    attachments = models.ManyToManyField("reports.Attachment", blank=True, related_name="referrals")

    class Meta:
        db_table = "triage_referral"
        indexes = [
            models.Index(fields=["authority", "status", "ack_due_at"], name="referral_authority_open"),
            models.Index(fields=["body", "status", "ack_due_at"], name="referral_body_open"),
            models.Index(fields=["referred_at"], name="referral_referred_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_at__isnull=True) | ~Q(outcome=""), name="referral_outcome_has_code"
            ),
            models.CheckConstraint(
                condition=Q(authority__isnull=False, body__isnull=True) | Q(authority__isnull=True, body__isnull=False),
                name="referral_one_recipient",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", body__isnull=False, how_sent__gt="") | ~Q(status="sent"),
                name="referral_sent_says_how",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} of case {self.case_id} to {self.recipient_code}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    # The recipient, whichever it is: pages, emails, events and the API name it through these.
    @property
    def recipient(self) -> LocalAuthority | NationalBody:
        recipient = self.authority if self.authority_id else self.body
        assert recipient is not None  # noqa: S101 - the referral_one_recipient constraint
        return recipient

    @property
    def recipient_kind(self) -> str:
        """ "local_authority", or the body's kind (directory.NationalBody.Kind)."""
        return LOCAL_AUTHORITY if self.authority_id else self.recipient.kind

    @property
    def recipient_code(self) -> str:
        """The authority's GSS code or the body's code."""
        recipient = self.recipient
        return recipient.gss_code if isinstance(recipient, LocalAuthority) else recipient.code

    @property
    def recipient_name(self) -> str:
        return self.recipient.name

    @property
    def to_review(self) -> bool:
        """A referral to the independent national review team."""
        return self.body_id is not None and self.recipient.kind == NationalBody.Kind.REVIEW_TEAM

    @property
    def recipient_called(self) -> str:
        """The recipient as the helpline's pages name it in a sentence ("Reply to …", "… asked a question"):
        the review team as "the independent review team", any other by its name ("Rotherham", "Ofsted")."""
        return REVIEW_TEAM_CALLED if self.to_review else self.recipient_name

    @property
    def how_sent_label(self) -> str:
        """How it was passed on, in the recipient's words: a police force's own secure channel is "the
        force's", any other body's "the body's" (the stored code is the same; "" when not passed on)."""
        if self.how_sent == HowSent.SECURE_CHANNEL and self.recipient_kind == NationalBody.Kind.POLICE_FORCE:
            return "Through the force's own secure channel"
        return self.get_how_sent_display()


class ReferralEscalation(models.Model):
    """One step of a referral's ladder, taken once: its acknowledgement or outcome missed, to the
    supervisors first and then to national oversight and the partnership."""

    class Step(models.TextChoices):
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

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="escalations")
    step = models.CharField(max_length=32, choices=Step.choices)
    deadline = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "step"], name="referral_escalation_once_per_step")]

    def __str__(self) -> str:
        return f"{self.step} for referral {self.referral_id}"


class AuthorityAction(models.Model):
    """A referral's thread: what the authority did, the questions it asked the helpline, and the
    helpline's replies and updates to it. Every note is sealed like all free text. ``case`` repeats the
    referral's case, so the helpline's lists and the case's audit read the thread without a join."""

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
        # Written by the review team: the case referred on to another body (the new referral is named).
        REFERRED_ON = "referred_on", "Referred on"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="actions")
    case = models.ForeignKey("triage.Case", on_delete=models.PROTECT, related_name="authority_actions")
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
        db_table = "triage_authorityaction"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["answer_due_at"],
                name="question_unanswered",
                condition=Q(kind="question", answered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on referral {self.referral_id}"

    @property
    def from_helpline(self) -> bool:
        return self.kind in (self.Kind.HELPLINE_REPLY, self.Kind.HELPLINE_UPDATE)

    @property
    def unanswered(self) -> bool:
        return self.kind == self.Kind.QUESTION and self.answered_at is None


# What of a reporter's identity a sharing may cover, in the order a sentence names them.
IDENTITY_ITEMS: list[tuple[str, str]] = [("name", "name"), ("phone", "telephone number"), ("email", "email address")]
IDENTITY_ITEM_CODES = [code for code, _ in IDENTITY_ITEMS]


class IdentitySharing(models.Model):
    """One decision to let one referral's recipient know who the reporter is, and what of it (their name,
    telephone number, email address): the reporter's consent, asked through their mailbox and answered on
    /check, or a legal duty (a child at immediate risk, a court order) that two different supervisors
    approved. Per referral: consent for Rotherham says nothing about Sheffield. The recipient sees the
    reporter's details only through a sharing in effect (``in_effect``) for its own referral.

    The days the reporter acted (answered, withdrew) are kept to the day only, like every time they cause."""

    class Route(models.TextChoices):
        CONSENT = "consent", "With the reporter's consent"
        LEGAL_DUTY = "legal_duty", "Under a legal duty"

    class Status(models.TextChoices):
        ASKED = "asked", "Waiting for the reporter's answer"
        AGREED = "agreed", "The reporter agreed"
        DECLINED = "declined", "The reporter said no"
        WITHDRAWN = "withdrawn", "The reporter withdrew their consent"
        PROPOSED = "proposed", "Waiting for a second supervisor"
        APPROVED = "approved", "Approved by two supervisors"
        REFUSED = "refused", "Refused by a second supervisor"

    class Basis(models.TextChoices):
        IMMEDIATE_RISK = "immediate_risk", "A child is at immediate risk of harm"
        COURT_ORDER = "court_order", "A court ordered it"

    # The statuses in which the recipient sees what it covers, and those that hold the referral's one place.
    IN_EFFECT = frozenset({Status.AGREED, Status.APPROVED})
    ACTIVE = frozenset({Status.ASKED, Status.AGREED, Status.PROPOSED, Status.APPROVED})

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="identity_sharings")
    route = models.CharField(max_length=16, choices=Route.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    covers = ArrayField(models.CharField(max_length=8, choices=IDENTITY_ITEMS))
    # Who asked the reporter, or proposed the legal-duty sharing, and the second supervisor who approved or
    # refused it (never the same person).
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A legal duty's basis, and its reference (the court order's, the safeguarding decision's), sealed.
    basis = models.CharField(max_length=16, blank=True, choices=Basis.choices)
    legal_reference = models.BinaryField(default=b"", blank=True)
    # The day only: when the reporter answered, and when they withdrew their consent.
    answered_on = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    # The day the recipient first opened what it covers: from then on the sharing is made, and consent can
    # no longer be withdrawn from it.
    seen_on = models.DateField(null=True, blank=True)
    # Recorded from a referral made before this table (Referral.identity_shared): what it covers beyond the
    # name is in the referral's particulars.
    carried_over = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status__in=["asked", "agreed", "proposed", "approved"]),
                name="identity_sharing_one_active_per_referral",
            ),
            # The two-person rule: the supervisor who approves a legal-duty sharing is not the one who proposed it.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("asked_by")),
                name="identity_sharing_two_people",
            ),
            models.CheckConstraint(
                condition=Q(route="consent", status__in=["asked", "agreed", "declined", "withdrawn"])
                | Q(route="legal_duty", status__in=["proposed", "approved", "refused"], basis__gt=""),
                name="identity_sharing_status_of_its_route",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "refused"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="identity_sharing_decided_says_by_whom",
            ),
            models.CheckConstraint(condition=~Q(covers=[]), name="identity_sharing_covers_something"),
        ]

    def __str__(self) -> str:
        return f"identity sharing {self.pk} ({self.route}, {self.status}) on referral {self.referral_id}"

    @property
    def in_effect(self) -> bool:
        return self.status in self.IN_EFFECT

    @property
    def covers_words(self) -> str:
        """What it covers, as a sentence says it: "your name and telephone number"."""
        return items_words(self.covers)

    @property
    def shared_on(self) -> object:
        """The day the sharing took effect (the reporter's yes, or the second approval), or None."""
        if self.status == self.Status.APPROVED and self.decided_at is not None:
            return timezone.localdate(self.decided_at)
        if self.route == self.Route.CONSENT and self.answered_on is not None and self.status != self.Status.DECLINED:
            return self.answered_on
        return None


def items_words(items: list[str] | tuple[str, ...]) -> str:
    """``["name", "phone"]`` as "name and telephone number" (in IDENTITY_ITEMS' order)."""
    words = [label for code, label in IDENTITY_ITEMS if code in set(items)]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
