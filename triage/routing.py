"""Routing rules: pure functions from a report's metadata to where its case goes (its deadlines are
triage.deadlines').

Nothing here reads what the reporter wrote; the rules use only the structured answers.
"""

from dataclasses import dataclass

from reports.models import ConcernType


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
    # A supervisor must look at it (and is emailed): a report that someone was deterred from reporting.
    supervisor_flag: bool = False


def is_urgent(facts: RoutingFacts) -> bool:
    return facts.child_at_immediate_risk


def needs_supervisor(concern_types: tuple[str, ...] | list[str]) -> bool:
    """Whether a case is flagged for a supervisor: someone was stopped or discouraged from reporting abuse,
    an offence under the duty to report. Its triage clock is never longer than the 1-working-day one (every
    clock is at most that: urgent cases have an hour), and the conflict rule below still applies, so such a
    case is never routed to the council it is about."""
    return ConcernType.PREVENTED_FROM_REPORTING in concern_types


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
        supervisor_flag=needs_supervisor(facts.concern_types),
    )
