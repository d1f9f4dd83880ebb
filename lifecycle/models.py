from django.conf import settings
from django.db import models
from django.db.models import F, Q


class EarlyDestruction(models.Model):
    """A supervisor's request to destroy a closed case's content before the retention schedule would: nothing
    happens until a second supervisor (never the one who asked) approves it, and then the case's family is
    crypto-shredded (lifecycle.shredding). Rows are kept after the decision, so who asked, why and who
    decided stays on record. The reason is a category only: no free text, so nothing here needs sealing."""

    class Reason(models.TextChoices):
        FILED_IN_ERROR = "filed_in_error", "Filed in error: it is not a concern for this service"
        CHILD_DETAILS = "child_details", "It holds a child's details that should not be here"
        DUPLICATE = "duplicate", "A duplicate made in error"
        OTHER_LEGAL = "other_legal", "Another legal reason"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second supervisor"
        APPROVED = "approved", "Approved: content destroyed"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    case = models.ForeignKey("triage.Case", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="early_destruction_one_pending_per_case"
            ),
            # The two-person rule, kept by the database too: approved or refused by another supervisor,
            # withdrawn only by the one who asked.
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "refused"]) | ~Q(decided_by=F("requested_by")),
                name="early_destruction_decided_by_another",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(decided_by=F("requested_by")),
                name="early_destruction_withdrawn_by_the_requester",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="early_destruction_decided_once",
            ),
        ]

    def __str__(self) -> str:
        return f"early destruction request {self.pk} for case {self.case_id}"
