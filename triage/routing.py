"""Routing rules: pure functions from a report's metadata to where its case goes and when it is due.

Nothing here reads what the reporter wrote; the rules use only the structured answers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.calendar import add_months, working_days_after

URGENT_TRIAGE = timedelta(hours=1)
STANDARD_TRIAGE_WORKING_DAYS = 1
AUTHORITY_ACK_WORKING_DAYS = 1
AUTHORITY_OUTCOME_WORKING_DAYS = 45
# The ladder's second rung: national oversight and the partnership hear of it this much later.
AUTHORITY_ACK_ESCALATE_WORKING_DAYS = 3
AUTHORITY_OUTCOME_ESCALATE_WORKING_DAYS = 47
REPORTER_FEEDBACK_MONTHS = 3


@dataclass(frozen=True)
class RoutingFacts:
    child_at_immediate_risk: bool
    concern_types: tuple[str, ...]
    authority_code: str | None
    about_authority_code: str | None
    region: str | None


@dataclass(frozen=True)
class RoutingDecision:
    urgent: bool
    queue_slug: str
    independent_review: bool
    conflict_authority_code: str | None
    refer_to_authority_code: str | None


def is_urgent(facts: RoutingFacts) -> bool:
    return facts.child_at_immediate_risk


def conflict_authority(facts: RoutingFacts) -> str | None:
    """The council a concern is about, which must never receive it.

    The reporter's structured "is it about a council, and which" answer decides, whatever the concern
    types: a cover-up or retaliation concern is a conflict exactly when it names a council there."""
    return facts.about_authority_code


def queue_slug(*, urgent: bool, region: str | None, regional_queues: frozenset[str]) -> str:
    if urgent:
        return "urgent"
    if region and region in regional_queues:
        return f"region-{region.lower().replace(' ', '-')}"
    return "national"


def decide(facts: RoutingFacts, *, regional_queues: frozenset[str] = frozenset()) -> RoutingDecision:
    urgent = is_urgent(facts)
    conflict = conflict_authority(facts)
    refer_to = facts.authority_code if facts.authority_code != conflict else None
    return RoutingDecision(
        urgent=urgent,
        queue_slug=queue_slug(urgent=urgent, region=facts.region, regional_queues=regional_queues),
        independent_review=conflict is not None,
        conflict_authority_code=conflict,
        refer_to_authority_code=refer_to,
    )


def triage_due(submitted_at: datetime, *, urgent: bool) -> datetime:
    if urgent:
        return submitted_at + URGENT_TRIAGE
    return working_days_after(submitted_at, STANDARD_TRIAGE_WORKING_DAYS)


def reporter_feedback_due(acknowledged_at: datetime) -> datetime:
    return add_months(acknowledged_at, REPORTER_FEEDBACK_MONTHS)


def authority_ack_due(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_ACK_WORKING_DAYS)


def authority_outcome_due(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_OUTCOME_WORKING_DAYS)


def authority_ack_escalate(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_ACK_ESCALATE_WORKING_DAYS)


def authority_outcome_escalate(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_OUTCOME_ESCALATE_WORKING_DAYS)
