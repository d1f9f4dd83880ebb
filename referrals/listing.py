"""The local authority officer's list of referrals: filters, search by case number, each referral's two
clocks, open questions and a total count, in two queries whatever the number of rows.

Which referrals an officer may see is decided by referrals.selectors (``referral_queryset_for``); this
module only narrows and pages that set. A row is a referral: a case referred to two of the officer's
authorities is two rows, each with its own clocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.forms import GovukForm
from directory.models import NationalBody
from referrals.deadlines import ACK, OUTCOME
from referrals.models import AuthorityAction, Referral
from referrals.selectors import referral_queryset_for, require_authority_officer
from triage.deadlines import deadline_state, overdue_q
from triage.models import Case

PAGE_SIZE = 50
MAX_PAGE = 10_000
SEARCH_MAX = 20
# Case numbers are like 2026-K7M3QX: letters, digits and a hyphen. Part of one is enough to search.
SEARCHABLE = re.compile(r"^[A-Za-z0-9-]*$")
AUTHORITY_CLOCKS = (ACK, OUTCOME)

# A row's columns: the referral's own, and the few of its case an officer sees.
FIELDS = (
    "id",
    "status",
    "referred_at",
    "authority__name",
    "authority__gss_code",
    "body__name",
    "body__code",
    "body__kind",
    "ack_due_at",
    "acknowledged_at",
    "outcome_due_at",
    "outcome",
    "outcome_at",
    "escalated",
)
CASE_FIELDS = {"case_number": F("case__case_number"), "priority": F("case__priority"), "case_status": F("case__status")}
UNANSWERED = Q(actions__kind=AuthorityAction.Kind.QUESTION, actions__answered_at__isnull=True)


class Status:
    """Where a referral stands for the authority, as the status filter names it."""

    OPEN = ""
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement"
    AWAITING_OUTCOME = "awaiting_outcome"
    OUTCOME_RECORDED = "outcome_recorded"
    ALL = "all"

    CHOICES = [
        (OPEN, "All open referrals"),
        (AWAITING_ACKNOWLEDGEMENT, "Waiting for your acknowledgement"),
        (AWAITING_OUTCOME, "Acknowledged, waiting for the outcome"),
        (OUTCOME_RECORDED, "Outcome recorded or closed"),
        (ALL, "All referrals, closed ones included"),
    ]


R = Referral.Status


def _narrowed(referrals: QuerySet[Referral], status: str) -> QuerySet[Referral]:
    """By the referral's own status; "open" is a referral waiting for the authority on a case still with its
    authorities (its outcome recorded, it stays open until the helpline closes the case, as before)."""
    referred = Q(case__status__in=Referral.CASE_WITH_RECIPIENTS) & ~Q(status=R.WITHDRAWN)
    if status == Status.AWAITING_ACKNOWLEDGEMENT:
        return referrals.filter(referred, status=R.AWAITING_ACKNOWLEDGEMENT)
    if status == Status.AWAITING_OUTCOME:
        return referrals.filter(referred, status=R.ACKNOWLEDGED)
    if status == Status.OUTCOME_RECORDED:
        return referrals.filter(Q(status=R.OUTCOME_RECORDED) | ~referred)
    if status == Status.ALL:
        return referrals
    return referrals.filter(referred)


def stage(row: dict[str, Any]) -> str:
    """The referral's stage in words, for the list's Status column."""
    if row["status"] == R.WITHDRAWN or row["case_status"] not in Referral.CASE_WITH_RECIPIENTS:
        # A review's findings end in the case's closing: its row says the case is closed.
        if row["case_status"] == Case.Status.CLOSED and row["body__kind"] == NationalBody.Kind.REVIEW_TEAM:
            return "Case closed"
        if row["status"] == R.OUTCOME_RECORDED:
            return "Outcome recorded"
        return "Closed" if row["case_status"] == Case.Status.CLOSED else Case.Status(row["case_status"]).label
    return str(R(row["status"]).label)


def _clock_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row as its clocks read it: an open referral of a case no longer with its authorities has
    stopped, like a withdrawn one (closing the case withdraws it; this also covers rows from before)."""
    if row["case_status"] not in Referral.CASE_WITH_RECIPIENTS and row["status"] in Referral.OPEN:
        return {**row, "status": R.WITHDRAWN}
    return row


class ReferralFilterForm(GovukForm):
    """The list's GET form. Every parameter it reads is checked; a bad one is a 400 with the error summary."""

    # Where the error summary points for the hidden page field: the filters.
    error_anchor = "referral-filters"

    case_number = forms.CharField(
        label="Case number",
        help_text="All or part of it, for example 2026-K7M3QX",
        required=False,
        max_length=SEARCH_MAX,
        error_messages={"max_length": f"Case number must be {SEARCH_MAX} characters or fewer"},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=Status.CHOICES,
        error_messages={"invalid_choice": "Select a status from the list"},
    )
    overdue = forms.BooleanField(label="Overdue only", required=False)
    # Older links ask for closed referrals this way: the same as the status "all".
    closed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "Page must be a whole number",
            "min_value": "Page must be 1 or more",
            "max_value": f"Page must be {MAX_PAGE:,} or less",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A NUL gets the same plain message as any other character a case number cannot hold.
        search = self.fields["case_number"]
        search.validators = [v for v in search.validators if not isinstance(v, ProhibitNullCharactersValidator)]

    def clean_case_number(self) -> str:
        term = str(self.cleaned_data.get("case_number") or "").strip()
        if not SEARCHABLE.match(term):
            raise forms.ValidationError("Case number must contain only letters, numbers and hyphens")
        return term.upper()

    def filters(self) -> ReferralFilters:
        """The filters to apply: none when the form was not filled in or is not valid."""
        if not (self.is_bound and self.is_valid()):
            return ReferralFilters()
        data = self.cleaned_data
        status = data["status"] or (Status.ALL if data["closed"] else Status.OPEN)
        return ReferralFilters(
            case_number=data["case_number"], status=status, overdue=bool(data["overdue"]), page=data["page"] or 1
        )


@dataclass(frozen=True)
class ReferralFilters:
    case_number: str = ""
    status: str = Status.OPEN
    overdue: bool = False
    page: int = 1

    @property
    def includes_closed(self) -> bool:
        """Whether the list already holds closed referrals (so "Include closed referrals" is not offered)."""
        return self.status in (Status.ALL, Status.OUTCOME_RECORDED)


@dataclass
class ReferralPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    filters: ReferralFilters
    now: datetime = field(default_factory=timezone.now)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


def referral_list(*, user: User, filters: ReferralFilters, page_size: int = PAGE_SIZE) -> ReferralPage:
    """One page of the officer's referrals, soonest acknowledgement first, and how many match in all: two
    queries (the count, and the page with its open questions counted in the same query)."""
    require_authority_officer(user)
    now = timezone.now()
    referrals = _narrowed(referral_queryset_for(user), filters.status)
    if filters.case_number:
        referrals = referrals.filter(case__case_number__contains=filters.case_number)
    if filters.overdue:
        # A referral's clocks run only while its case is with its authorities.
        referrals = referrals.filter(overdue_q(now, AUTHORITY_CLOCKS), case__status__in=Referral.CASE_WITH_RECIPIENTS)
    offset = (filters.page - 1) * page_size
    total = referrals.count()
    rows = list(
        referrals.order_by("ack_due_at", "id")
        .annotate(open_questions=Count("actions", filter=UNANSWERED))
        .values(*FIELDS, "open_questions", **CASE_FIELDS)[offset : offset + page_size]
    )
    for row in rows:
        row["recipient_name"] = row["authority__name"] or row["body__name"]
        row["stage"] = stage(row)
        clocks = _clock_row(row)
        row["ack_state"] = deadline_state(clocks, ACK, now)
        row["outcome_state"] = deadline_state(clocks, OUTCOME, now)
    return ReferralPage(rows=rows, total=total, page=filters.page, page_size=page_size, filters=filters, now=now)
