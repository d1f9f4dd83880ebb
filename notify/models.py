"""One notification: who is told (an address, or a placeholder resolved when it is sent), about what, on which
occasion, with which template and by which channel, and how delivery went. Never content."""

from django.db import models


class Notification(models.Model):
    # An audience resolved at send time by the resolver an upper app registered (notify.registry): the
    # reporter's address is never stored outside the sealed report.
    REPORTER = "reporter"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Notification failed"
        CANCELLED = "cancelled", "Not sent: no longer needed"
        # Collected for a digest (notify.services.digests_send), not sent on its own.
        HELD = "held", "Waiting for the next digest"
        DIGESTED = "digested", "Sent in a digest"

    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    # What it is about, as a kind and an id ("case", 12; "invitation", 3), like the audit stream's subject:
    # notify sits below the apps that own those rows. Empty for a notification about nothing in particular.
    subject_kind = models.CharField(max_length=32, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    recipient = models.CharField(max_length=254)
    template = models.CharField(max_length=64)
    # Tells apart notifications of one template to one recipient about one subject (each helpline message).
    occasion = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    # Marked for a digest: the digest's key (notify.registry.register_digest). Such a notification is held,
    # not sent, and goes out counted in one digest email to its recipient (``in_digest``), which names how many
    # and nothing else.
    digest = models.CharField(max_length=64, blank=True)
    in_digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="collected", db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # What the provider last said of delivery (Notify's status for an SMS: "delivered", "permanent-failure"…).
    delivery_status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Exactly once per occasion, also for notifications about no subject (NULLs count as equal).
            models.UniqueConstraint(
                fields=["channel", "subject_kind", "subject_id", "recipient", "template", "occasion"],
                name="notification_once_per_occasion",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            models.Index(fields=["subject_kind", "subject_id"], name="notification_subject"),
            # The digest task finds what is held, by key.
            models.Index(
                fields=["digest", "recipient"],
                name="notification_held",
                condition=models.Q(state="held"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.state})"
