"""The lifecycle's own records: evidence exports (lifecycle.evidence), each night's retention run and the
alerts about reports never routed (lifecycle.schedule). Days and counts only where a time would say more."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class EvidenceExport(models.Model):
    """One evidence bundle: prepared by a supervisor, approved by another, then built on a worker.

    Everything that decides what goes, and to whom, is fixed when it is prepared: the exact list of case
    numbers (a filter is resolved then, never again), the recipient's public key and its fingerprint, the legal
    basis and whether the reporters are told. Those fields are signed with the service's key (core.signing) at
    preparation (``frozen_signature`` over the canonical record whose SHA-256 is ``frozen_digest``); approval
    and the build both check the signature, so a change to any of them in the database stops the export. The
    approving supervisor sends back the digest they were shown, so they approve exactly what they saw.

    What the recipient's reference and name say is the helpline's own writing about a legal request, not
    anything a reporter wrote, so it is kept in clear; audit events name codes and ids only."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for approval"
        APPROVED = "approved", "Approved: the bundle is being built"
        BUILT = "built", "Ready to download"
        CANCELLED = "cancelled", "Cancelled"
        STOPPED = "stopped", "Stopped: its details changed after it was prepared"

    class Scope(models.TextChoices):
        CASE = "case", "One case"
        FILTER = "filter", "Every case of a local authority in a period"

    class Period(models.TextChoices):
        SUBMITTED = "submitted", "Reported in the period"
        CLOSED = "closed", "Closed in the period"

    class Basis(models.TextChoices):
        INQUIRY_NOTICE = "inquiry_notice", "A notice under section 21 of the Inquiries Act 2005"
        COURT_ORDER = "court_order", "A court order"
        POLICE_REQUEST = "police_request", "A police request"

    class Withheld(models.TextChoices):
        RISK_TO_CHILD = "risk_to_child", "Telling them could put a child at risk"
        PREJUDICE_INVESTIGATION = "prejudice_investigation", "Telling them could prejudice an investigation"

    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    # How the cases were chosen (kept to say so; the list below is what goes).
    scope = models.CharField(max_length=8, choices=Scope.choices)
    authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(max_length=16, blank=True, choices=Period.choices)
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    # The cases that go, resolved at preparation, and those the filter matched whose content the retention
    # schedule had already destroyed (named in the bundle's manifest, with nothing of them in it).
    case_numbers = ArrayField(models.CharField(max_length=16))
    destroyed_case_numbers = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    # Who it is for, in the words the reporters are told; their X25519 public key and its fingerprint.
    recipient = models.CharField(max_length=200)
    recipient_key = models.BinaryField()
    recipient_key_format = models.CharField(max_length=8)
    recipient_fingerprint = models.CharField(max_length=80)
    basis = models.CharField(max_length=24, choices=Basis.choices)
    basis_reference = models.CharField(max_length=200)
    tell_reporters = models.BooleanField()
    withheld_because = models.CharField(max_length=32, blank=True, choices=Withheld.choices)
    frozen_digest = models.CharField(max_length=64)
    frozen_signature = models.JSONField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # The bundle, once built: its file (under EVIDENCE_EXPORT_DIR) is named after public_id.
    built_at = models.DateTimeField(null=True, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    bundle_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The two-person rule, kept by the database too.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("requested_by")),
                name="evidence_export_approved_by_another",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "cancelled"]) | Q(approved_by__isnull=False) | Q(status="stopped"),
                name="evidence_export_approved_before_built",
            ),
            models.CheckConstraint(
                condition=Q(tell_reporters=True, withheld_because="")
                | Q(tell_reporters=False, withheld_because__gt=""),
                name="evidence_export_reason_not_to_tell",
            ),
            models.CheckConstraint(condition=~Q(case_numbers=[]), name="evidence_export_has_cases"),
        ]

    def __str__(self) -> str:
        return f"evidence export {self.public_id}"

    @property
    def short_id(self) -> str:
        """The first 8 characters of its id, as pages and file names show it."""
        return str(self.public_id)[:8]


class RetentionRun(models.Model):
    """One night's run of the retention schedule (lifecycle.schedule). Its progress commits with each case it
    acts on, so a run that is stopped part-way resumes where it stopped: ``last_case_id`` is the last case
    done, and the counts are what the run has done so far."""

    day = models.DateField(unique=True)
    finished = models.BooleanField(default=False)
    # Stopped at RETENTION_MAX_BATCHES with due cases left: the next night's run goes on with them.
    capped = models.BooleanField(default=False)
    batches = models.PositiveIntegerField(default=0)
    last_case_id = models.BigIntegerField(default=0)
    # Cases whose content was destroyed (a family's members each count).
    destroyed = models.PositiveIntegerField(default=0)
    # Due cases kept because they are on legal hold, when the run finished.
    skipped_held = models.PositiveIntegerField(default=0)
    # Due cases kept because a report sharing their data key is not due yet (or is held, or was never routed).
    waiting = models.PositiveIntegerField(default=0)
    # Of those, how many had their data key moved under that report's key, so that their epoch can end.
    rewrapped = models.PositiveIntegerField(default=0)
    epochs_destroyed = models.PositiveIntegerField(default=0)
    unrouted_alerts = models.PositiveIntegerField(default=0)
    outbox_purged = models.PositiveIntegerField(default=0)
    emails_purged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Retention run of {self.day}"


class UnroutedAlert(models.Model):
    """The supervisors were told that a report has had no case for longer than ROUTING_OVERDUE_HOURS: once
    per report, however many nights it stays unrouted."""

    report = models.OneToOneField("reports.Report", on_delete=models.CASCADE, related_name="unrouted_alert")
    raised_on = models.DateField()
    emails = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Unrouted report alert ({self.raised_on})"


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
