"""Opening a national review case from a pattern alert: a case with no report (triage.review_cases), sent
to the independent national review team by a referral like any case escalated for review
(referrals.services.review_referral), so it is in the team's queue with its clocks and thread.

oversight.alerts calls it (oversight never seals anything itself): the summary is written there from the
alert's figures only, and sealed here with the case's own data key."""

from __future__ import annotations

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from referrals.services import review_referral
from triage.models import Case
from triage.review_cases import review_case_make


@sensitive_variables("summary")
def review_case_open(*, summary: str, acting_user: User, detail: dict[str, object]) -> Case:
    """Make the review case and refer it to the review team, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("review_case_open runs in the caller's transaction")
    case = review_case_make(summary=summary, acting_user=acting_user, detail=detail)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    review_referral(case=case, reason=summary, acting_user=acting_user)
    return case
