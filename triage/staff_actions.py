"""Each helpline action by name: the form that validates it, and running it with that form's cleaned
data. Shared by the workspace pages and the staff API, so both accept and refuse exactly the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from accounts.models import User
from directory.lookup import authority_by_code, authority_choices
from triage import case_actions, selectors, workflow
from triage import forms as case_forms
from triage.models import Case
from triage.ports import referral_port

ACTION_FORMS: dict[str, type[forms.Form] | None] = {
    "claim": None,
    "assign": case_forms.AssignForm,
    "set_priority": case_forms.PriorityForm,
    "set_concern_types": case_forms.ConcernTypesForm,
    "set_authority": case_forms.AuthorityForm,
    "ask_reporter": case_forms.ReporterMessageForm,
    "add_note": case_forms.NoteForm,
    "refer": case_forms.ReferForm,
    "escalate": case_forms.EscalateForm,
    "link_duplicate": case_forms.LinkForm,
    "close": case_forms.CloseForm,
    "reopen": case_forms.ReopenForm,
    "reply_to_authority": case_forms.AuthorityReplyForm,
    "relay_to_reporter": case_forms.RelayToReporterForm,
    "update_authority": case_forms.AuthorityUpdateForm,
}
# Each action's place on the case page: (what the disclosure says, what its button says). Buttons name what
# they do.
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "assign": ("Assign", "Assign case"),
    "set_priority": ("Set priority", "Set priority"),
    "set_concern_types": ("Set concern types", "Save concern types"),
    "set_authority": ("Confirm or change the authority", "Confirm authority"),
    "ask_reporter": ("Message the reporter", "Send message"),
    "add_note": ("Add an internal note", "Add internal note"),
    "refer": ("Refer to the local authority", "Refer the case"),
    "escalate": ("Escalate", "Escalate case"),
    "link_duplicate": ("Link a duplicate", "Link case"),
    "close": ("Close with an outcome", "Close case"),
    "reopen": ("Reopen the case", "Reopen case"),
    "reply_to_authority": ("Reply to the authority", "Send reply"),
    "relay_to_reporter": ("Ask the reporter for the authority", "Send message to the reporter"),
    "update_authority": ("Send an update to the authority", "Send update"),
}


def action_labels(case: Case) -> dict[str, tuple[str, str]]:
    authority = case.authority.name if case.authority_id and case.authority else "the authority"
    return {name: (heading, button.format(authority=authority)) for name, (heading, button) in ACTION_LABELS.items()}


# Offered only while the authority has a question waiting for an answer.
QUESTION_ACTIONS = frozenset({"reply_to_authority", "relay_to_reporter"})


def action_form(
    action: str,
    data: Any = None,
    case: Case | None = None,
    authorities: Callable[[], list[tuple[str, str]]] = authority_choices,
    recipients: list[tuple[str, str]] | None = None,
) -> forms.Form | None:
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        return None
    kwargs: dict[str, Any] = {"prefix": action}
    if form_class is case_forms.AssignForm:
        kwargs["assignees"] = list(selectors.helpline_staff().values_list("username", flat=True))
    if form_class is case_forms.AuthorityForm:
        kwargs["authorities"] = authorities()
    if issubclass(form_class, case_forms.QuestionChoiceForm):
        kwargs["questions"] = referral_port().question_choices(case) if case else []
    if form_class is case_forms.ReferForm:
        kwargs["case"] = case
        kwargs["authorities"] = authorities()
    if form_class is case_forms.AuthorityUpdateForm:
        if recipients is None:
            recipients = referral_port().open_recipients(case) if case else []
        kwargs["recipients"] = recipients
    return form_class(data, **kwargs)


def action_forms(
    names: list[str], case: Case, recipients: list[tuple[str, str]] | None = None
) -> dict[str, forms.Form | None]:
    """The forms of a page's actions: the directory's list of authorities (set_authority's, refer's) is read
    once for all of them; ``recipients``, the authorities with an open referral, when the page has them."""
    read: list[list[tuple[str, str]]] = []

    def authorities() -> list[tuple[str, str]]:
        if not read:
            read.append(authority_choices())
        return read[0]

    return {name: action_form(name, case=case, authorities=authorities, recipients=recipients) for name in names}


def referable(case: Case) -> bool:
    """Whether "refer" can succeed: an authority confirmed, and the case not sent to independent national
    review. Otherwise the page does not offer it. (Referring to the council the concern is about is refused
    by the service, whichever authority is chosen.)"""
    return bool(case.authority_id and not case.independent_review)


def page_actions(case: Case, user: User) -> list[str]:
    """The actions a case page offers ``user`` in the case's status: only those the user's role may take
    (workflow.permitted, the rule that refuses the rest), escalate standing for both its routes, and the
    question actions only while the authority has a question waiting."""
    allowed = workflow.allowed_actions(case, user)
    if referral_port().has_unanswered_question(case):
        # The authority is waiting: answering comes first.
        allowed = [name for name in allowed if name in QUESTION_ACTIONS] + [
            name for name in allowed if name not in QUESTION_ACTIONS
        ]
    else:
        allowed = [name for name in allowed if name not in QUESTION_ACTIONS]
    offered = [name for name in allowed if name in ACTION_FORMS and (name != "refer" or referable(case))]
    if {"escalate_national_review", "escalate_police"} & set(allowed):
        offered.append("escalate")
    return offered


def case_act(*, case: Case, action: str, data: dict[str, Any], acting_user: User) -> str:
    """Run one named action with its form's cleaned data, and say what happened (the page's notification
    banner). Every case or person named in the data is looked up through the selectors, so an action can
    only reach what the acting user may see."""
    referral_actions = referral_port().actions
    if action in referral_actions:
        done = referral_actions[action](case, data, acting_user)
        case.refresh_from_db()
        return done
    linked = _case_act(case=case, action=action, data=data, acting_user=acting_user)
    case.refresh_from_db()
    return f"Case linked to {linked.case_number}" if linked else _done(case=case, action=action, data=data)


def _done(*, case: Case, action: str, data: dict[str, Any]) -> str:
    authority = case.authority.name if case.authority else "the authority"
    if action == "assign":
        return f"Case assigned to {data['assignee']}"
    if action == "set_priority":
        return f"Priority set to {case.get_priority_display().lower()}"
    if action == "set_authority":
        return f"Authority set to {authority}"
    if action == "escalate":
        return f"Case escalated: {case.get_status_display().lower()}"
    if action == "close":
        return f"Case closed with the outcome: {case.get_outcome_display().lower()}"
    return DONE.get(action, "Done")


DONE = {
    "claim": "You have claimed this case",
    "set_concern_types": "Concern types updated",
    "ask_reporter": "Message sent to the reporter",
    "add_note": "Internal note added. Only helpline staff can see it.",
    "reopen": "Case reopened. It is back in triage, and the reason is kept as an internal note.",
}


def _case_act(*, case: Case, action: str, data: dict[str, Any], acting_user: User) -> Case | None:
    """Run the action; for "link_duplicate", the case it linked to (named by case number or reference)."""
    if action == "claim":
        case_actions.case_claim(case=case, acting_user=acting_user)
    elif action == "assign":
        assignee = selectors.helpline_staff().filter(username=data["assignee"]).first()
        if assignee is None:
            raise workflow.ActionNotAllowed("There is no such member of staff.")
        case_actions.case_assign(case=case, assignee=assignee, acting_user=acting_user)
    elif action == "set_priority":
        case_actions.case_set_priority(case=case, priority=str(data["priority"]), acting_user=acting_user)
    elif action == "set_concern_types":
        codes = data["concern_types"]
        case_actions.case_set_concern_types(
            case=case, concern_types=list(codes) if isinstance(codes, list) else [], acting_user=acting_user
        )
    elif action == "set_authority":
        authority = authority_by_code(str(data["authority"]))
        if authority is None:
            raise workflow.ActionNotAllowed("Choose an English children's services authority.")
        case_actions.case_set_authority(case=case, authority=authority, acting_user=acting_user)
    elif action == "ask_reporter":
        case_actions.case_ask_reporter(case=case, body=str(data["body"]), acting_user=acting_user)
    elif action == "add_note":
        case_actions.case_add_note(case=case, body=str(data["body"]), acting_user=acting_user)
    elif action == "escalate":
        case_actions.case_escalate(case=case, route=str(data["route"]), acting_user=acting_user)
    elif action == "link_duplicate":
        other = selectors.case_by_identifier(user=acting_user, text=str(data["other"]))
        if other is None:
            raise workflow.ActionNotAllowed("There is no case with that number.")
        case_actions.case_link_duplicate(case=case, other=other, acting_user=acting_user)
        return other
    elif action == "close":
        case_actions.case_close(
            case=case, outcome=str(data["outcome"]), feedback=str(data["feedback"]), acting_user=acting_user
        )
    elif action == "reopen":
        case_actions.case_reopen(case=case, reason=str(data["reason"]), acting_user=acting_user)
    else:
        raise workflow.ActionNotAllowed(f"There is no action called {action!r}.")
    return None
