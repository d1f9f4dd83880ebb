"""Each of an authority officer's actions on a referral, declared once: the form that validates it (the
page's, and through referrals/api.py's typed inputs the API's), its disclosure and button on the referral
page, whether the page offers it, its service call and its banner. The pages, the API and the tests read it.
Who may take them is accounts.policy's REFERRAL_WORK (the views and the API's permission) with the scope of
referral_scope (an officer's authorities, the review team's referrals for a national reviewer); which
referral states allow each is the service's (referrals/services.py refuses, and the page and API answer 409)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from accounts.models import User
from directory.lookup import national_body_by_code
from referrals import services
from referrals.forms import FindingsForm, OutcomeForm, QuestionForm, RecordActionForm, ReferOnForm
from referrals.models import Referral
from triage.retention import content_destroyed_on, destroyed_words
from triage.workflow import ActionNotAllowed


@dataclass(frozen=True)
class OfficerAction:
    form: type[forms.Form] | None
    heading: str  # the disclosure on the referral page ("" for a button on its own)
    button: str
    # What the page says once it is done: said as is, or made from what ``run`` returned.
    banner: str | Callable[[Any], str]
    run: Callable[[Referral, dict[str, Any], User], object]
    # Whether the referral page offers it (the service refuses it either way when the state does not allow it).
    offered: Callable[[Referral], bool] = lambda referral: True


ACTIONS: dict[str, OfficerAction] = {
    "acknowledge": OfficerAction(
        None,
        "",
        "Acknowledge referral",
        "Referral acknowledged",
        run=lambda referral, data, user: services.referral_acknowledge(referral=referral, acting_user=user),
    ),
    "record_action": OfficerAction(
        RecordActionForm,
        "Record what was done",
        "Record action",
        "Action recorded",
        run=lambda referral, data, user: services.referral_record_action(
            referral=referral, kind=data["kind"], note=data["note"], acting_user=user
        ),
        offered=lambda referral: not referral.to_review,
    ),
    "record_outcome": OfficerAction(
        OutcomeForm,
        "Record the outcome",
        "Record outcome",
        "Outcome recorded",
        run=lambda referral, data, user: services.referral_record_outcome(
            referral=referral, outcome=data["outcome"], note=data["note"], acting_user=user
        ),
        offered=lambda referral: referral.outcome_at is None and not referral.to_review,
    ),
    "ask_helpline": OfficerAction(
        QuestionForm,
        "Ask the helpline a question",
        "Send question to the helpline",
        "Question sent to the helpline",
        run=lambda referral, data, user: services.referral_ask_helpline(
            referral=referral, question=data["note"], acting_user=user
        ),
    ),
    # The independent review's own: its findings and outcome, and referring the case on.
    "record_findings": OfficerAction(
        FindingsForm,
        "Record the findings and outcome",
        "Record findings",
        "Findings recorded. The helpline has been told.",
        run=lambda referral, data, user: services.referral_record_outcome(
            referral=referral, outcome=data["outcome"], note=data["note"], acting_user=user
        ),
        offered=lambda referral: referral.outcome_at is None and referral.to_review,
    ),
    "refer_on": OfficerAction(
        ReferOnForm,
        "Refer on to Ofsted, the police or the review panel",
        "Record referral",
        lambda passed_on: (
            f"Referral to {passed_on.recipient_name} recorded. The helpline has been told. No email with case "
            "details was sent."
        ),
        run=lambda referral, data, user: services.referral_refer_on(
            referral=referral,
            body=national_body_by_code(data["body"]),
            how_sent=data["how_sent"],
            reference=data["reference"],
            acting_user=user,
        ),
        offered=lambda referral: referral.to_review,
    ),
}


# What a recipient may still do on a referral whose case's content was destroyed: acknowledging seals nothing.
CONTENT_FREE = frozenset({"acknowledge"})


def content_kept_check(referral: Referral, action: str) -> None:
    """Refuse, with ActionNotAllowed, an action that would seal something on a referral whose case's content
    was destroyed (its data key is gone)."""
    destroyed_on = content_destroyed_on(referral.case)
    if destroyed_on is not None and action not in CONTENT_FREE:
        raise ActionNotAllowed(f"{destroyed_words(referral.case)}: nothing more can be recorded on this referral.")


def offered(referral: Referral, action: str) -> bool:
    """Whether the referral page offers ``action`` on ``referral``."""
    if action not in CONTENT_FREE and content_destroyed_on(referral.case) is not None:
        return False
    return ACTIONS[action].offered(referral)


def referral_act(*, referral: Referral, action: str, data: dict[str, Any], acting_user: User) -> str:
    """Run one of the officer's actions with its form's cleaned data (the pages and the API alike), and say
    what happened."""
    declared = ACTIONS.get(action)
    if declared is None:
        raise ActionNotAllowed(f"There is no action called {action!r}.")
    content_kept_check(referral, action)
    done = declared.run(referral, data, acting_user)
    return declared.banner(done) if callable(declared.banner) else declared.banner
