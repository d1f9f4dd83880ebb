"""A referral: one case passed to one recipient (a local authority for now), with everything that belongs
to that referral alone: the summary written for it, its status and clocks, its escalation ladder and its
thread with the helpline. A case may have several (the placing and the host authority; again after a
reopen). The tables kept their triage names when the models moved here (docs/adr/0001-layers.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuthorityOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    CHILD_PROTECTION_PLAN = "child_protection_plan", "Child protection plan"
    CHILD_IN_NEED_SUPPORT = "child_in_need_support", "Child in need support"
    EARLY_HELP = "early_help", "Early help"
    POLICE_INVESTIGATION = "police_investigation", "Police investigation"
    DISCIPLINARY_OR_LADO = "disciplinary_or_lado", "Disciplinary or designated officer (LADO) action"
    PRACTICE_CHANGED = "practice_changed", "Practice or policy changed"
    CONCERN_NOT_UPHELD = "concern_not_upheld", "Concern not upheld"


class Referral(models.Model):
    """A case referred to a local authority, with the redacted summary written for it (sealed), and the
    authority's side of it: acknowledged by, outcome by, and what it recorded."""

    class Status(models.TextChoices):
        AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", "Waiting for acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        OUTCOME_RECORDED = "outcome_recorded", "Outcome recorded"
        # The helpline closed the case, or sent it to independent review, before the authority finished.
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN = frozenset({Status.AWAITING_ACKNOWLEDGEMENT, Status.ACKNOWLEDGED})

    case = models.ForeignKey("triage.Case", on_delete=models.PROTECT, related_name="referrals")
    authority = models.ForeignKey("directory.LocalAuthority", on_delete=models.PROTECT, related_name="referrals")
    summary = models.BinaryField()
    identity_shared = models.BooleanField(default=False)
    # What else the helpline chose to pass on (sealed JSON, referrals.services.REFERRAL_PARTICULARS): the
    # postcode district, whether the organisation is named, which of a named reporter's contact details
    # their consent covers. Empty for referrals made before it.
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
    outcome = models.CharField(max_length=32, blank=True, choices=AuthorityOutcome.choices)
    outcome_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # National oversight has been alerted about this referral.
    escalated = models.BooleanField(default=False)

    class Meta:
        db_table = "triage_referral"
        indexes = [
            models.Index(fields=["authority", "status", "ack_due_at"], name="referral_authority_open"),
            models.Index(fields=["referred_at"], name="referral_referred_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_at__isnull=True) | ~Q(outcome=""), name="referral_outcome_has_code"
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} of case {self.case_id} to {self.authority_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


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
