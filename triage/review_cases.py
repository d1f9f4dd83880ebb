"""National review cases: a case with no report behind it, opened from a pattern alert (oversight.alerts,
through referrals.review_cases) for the independent national review team.

It has a data key of its own (triage.models.CaseKey): made here, sealed to the helpline's public key, then
moved under the open-cases key at once (triage.retention.rehome), as a routed report's is, and under its
destruction month's epoch key once closed. Its first note is the summary of the alert's figures, sealed
with that key; nobody reported anything, so it holds no reporter text.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from core import crypto
from core.identifiers import first_free, new_case_number
from triage import deadlines, retention
from triage.events import case_event
from triage.intake import queue_for
from triage.models import Case, CaseKey, CaseNote

# The national queue: a review case is nobody's region's.
REVIEW_QUEUE = "national"


@sensitive_variables("data_key", "summary")
def review_case_make(*, summary: str, acting_user: User, detail: dict[str, object]) -> Case:
    """Make a national review case with ``summary`` as its first note (sealed with its own data key). Runs in
    the caller's transaction. ``detail``: codes and ids for the audit event (never the summary)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("review_case_make runs in the caller's transaction")
    now = timezone.now()
    case = Case.objects.create(
        case_number=first_free(
            lambda: new_case_number(now.year),
            lambda number: Case.objects.filter(case_number=number).exists(),
        ),
        kind=Case.Kind.PATTERN_REVIEW,
        report=None,
        independent_review=True,
        priority=Case.Priority.STANDARD,
        queue=queue_for(REVIEW_QUEUE),
        created_at=now,
        triage_due_at=deadlines.triage_due(now, urgent=False),
        # Nobody waits for feedback on a review case; the field is required, and escalations skip the kind.
        reporter_feedback_due_at=deadlines.reporter_feedback_due(now),
    )
    data_key = crypto.new_data_key()
    key_id, sealed = crypto.seal_key_for_helpline(data_key)
    CaseKey.objects.create(case=case, helpline_key_id=key_id, helpline_sealed_key=sealed)
    CaseNote.objects.create(case=case, author=acting_user, body=crypto.seal_text(data_key, summary), created_at=now)
    # The helpline-sealed copy goes: the key sits under the open-cases key, like a routed report's.
    retention.rehome(case)
    case_event(kind="review_case_opened", case=case, actor=acting_user, detail={"queue": REVIEW_QUEUE, **detail})
    return case
