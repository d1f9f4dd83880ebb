"""Two cases about the same thing, linked both ways. Each reporter still sees only their own thread."""

from __future__ import annotations

from accounts.models import User
from core.timetrail import recorded_now
from triage.models import Case, CaseLink


def cases_link(*, case: Case, other: Case, linked_by: User | None) -> CaseLink:
    """Link two cases in both directions, once (``linked_by`` is None when the system linked them).
    Returns the link from ``case`` to ``other``."""
    now = recorded_now()
    link, _ = CaseLink.objects.get_or_create(
        case=case, other=other, defaults={"linked_by": linked_by, "created_at": now}
    )
    CaseLink.objects.get_or_create(case=other, other=case, defaults={"linked_by": linked_by, "created_at": now})
    return link
