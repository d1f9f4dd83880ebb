"""Who knows who the reporter is, as /check shows it, and what they may change about it.

- An anonymous reporter may give the helpline their name and contact details later (``report_add_contact``):
  sealed with the report's data key like intake's, the report becomes confidential, and the day (only) is kept.
- Sharing their identity with a referral's recipient (with their consent, or under a legal duty two
  supervisors approved) is the referrals app's, a layer above: it plugs in here (referrals/hooks.py) what
  /check lists and the reporter's answers to its questions (``identity_port``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.models import Subject
from audit.trail import event_record
from core import crypto
from core.timetrail import day_start
from reports.models import Anonymity, Report


class IdentityRefused(Exception):
    """What the reporter asked cannot be done (already answered, already seen): the message says why."""


@dataclass(frozen=True)
class Sharing:
    """One referral's recipient that knows, may know, or was asked about the reporter's identity."""

    id: int
    recipient: str  # as a sentence names it: "Rotherham", "the independent review team"
    covers: str  # "name and telephone number"
    route: str  # "consent" or "legal_duty"
    status: str  # referrals.models.IdentitySharing.Status
    shared_on: date | None = None
    basis: str = ""  # a legal duty's, in words
    can_withdraw: bool = False
    withdrawn_on: date | None = None


@dataclass(frozen=True)
class IdentityPort:
    # Every sharing of the report's identity, or question about one, oldest first.
    sharings: Callable[[Report], list[Sharing]]
    # The reporter answers a question (yes: True), or withdraws a consent not yet acted on.
    answer: Callable[[Report, int, bool], None]
    withdraw: Callable[[Report, int], None]


_registered: list[IdentityPort] = []


def register(port: IdentityPort) -> None:
    _registered[:] = [port]


def identity_port() -> IdentityPort | None:
    return _registered[0] if _registered else None


@dataclass(frozen=True)
class WhoKnows:
    """The "Who knows who you are" panel."""

    helpline_since: date | None  # None: nobody knows, not even the helpline
    sharings: list[Sharing] = field(default_factory=list)

    @property
    def questions(self) -> list[Sharing]:
        return [sharing for sharing in self.sharings if sharing.status == "asked"]

    @property
    def known(self) -> list[Sharing]:
        """Who has been given the reporter's details, or was and the reporter withdrew before it was used."""
        return [s for s in self.sharings if s.status in ("agreed", "approved", "withdrawn")]


def who_knows(report: Report) -> WhoKnows:
    """Who knows who the reporter is: the helpline (since they told it), and each sharing."""
    if report.anonymity == Anonymity.ANONYMOUS:
        return WhoKnows(helpline_since=None)
    since = report.contact_given_on or timezone.localdate(report.submitted_at)
    port = identity_port()
    return WhoKnows(helpline_since=since, sharings=port.sharings(report) if port else [])


@sensitive_variables("data_key", "name", "email", "phone", "content")
@transaction.atomic(durable=True)
def report_add_contact(*, report: Report, data_key: bytes, name: str, email: str = "", phone: str = "") -> Report:
    """An anonymous reporter gives the helpline their name and contact details from /check: sealed into the
    report's content with its data key, like intake's; the report becomes confidential (only the helpline
    knows who they are), the day is kept (not the time), and the case's timeline says so. Refused once the
    report already holds a name."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.anonymity != Anonymity.ANONYMOUS or report.content_destroyed_on is not None:
        raise IdentityRefused("The helpline already has your name and contact details.")
    if not name.strip() or not (email.strip() or phone.strip()):
        raise IdentityRefused("Enter your name, and an email address or a phone number.")
    content = crypto.open_content(data_key, bytes(report.content))
    content["contact"] = {"name": name.strip(), "email": email.strip(), "phone": phone.strip()}
    report.content = crypto.seal_content(data_key, content)
    report.anonymity = Anonymity.CONFIDENTIAL
    report.has_contact_email = bool(email.strip())
    report.contact_given_on = timezone.localdate()
    report.save(update_fields=["content", "anonymity", "has_contact_email", "contact_given_on"])
    # On the report (its case's timeline shows its report's events), the day only: the reporter did this.
    event_record(
        kind="reporter_gave_contact",
        subject=(Subject.REPORT, report.pk),
        detail={"report_id": report.pk, "given": sorted(k for k, v in (("email", email), ("phone", phone)) if v)},
        at=day_start(),
    )
    return report
