"""Routing rules: pure functions from a report's metadata to where its case goes (its deadlines are
triage.deadlines').

Nothing here reads what the reporter wrote; the rules use only the structured answers.
"""

from dataclasses import dataclass


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
