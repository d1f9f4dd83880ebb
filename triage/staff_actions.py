"""Each helpline action by name: the form that validates it, and running it with that form's cleaned
data. Shared by the workspace pages and the staff API, so both accept and refuse exactly the same."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from directory.lookup import authority_by_code, authority_choices
from triage import case_actions, selectors, workflow
from triage import forms as case_forms
from triage.models import Case

ACTION_FORMS: dict[str, type[forms.Form] | None] = {
    "claim": None,
    "assign": case_forms.AssignForm,
    "set_priority": case_forms.PriorityForm,
    "set_concern_types": case_forms.ConcernTypesForm,
    "set_authority": case_forms.AuthorityForm,
    "ask_reporter": case_forms.TextForm,
    "add_note": case_forms.TextForm,
    "refer": case_forms.ReferForm,
    "escalate": case_forms.EscalateForm,
    "link_duplicate": case_forms.LinkForm,
    "close": case_forms.CloseForm,
    "reply_to_authority": case_forms.AuthorityReplyForm,
    "relay_to_reporter": case_forms.RelayToReporterForm,
    "update_authority": case_forms.AuthorityUpdateForm,
}
# Offered only while the authority has a question waiting for an answer.
QUESTION_ACTIONS = frozenset({"reply_to_authority", "relay_to_reporter"})


def action_form(action: str, data: Any = None, case: Case | None = None) -> forms.Form | None:
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        return None
    kwargs: dict[str, Any] = {"prefix": action}
    if form_class is case_forms.AssignForm:
        kwargs["assignees"] = list(selectors.helpline_staff().values_list("username", flat=True))
    if form_class is case_forms.AuthorityForm:
        kwargs["authorities"] = authority_choices()
    if issubclass(form_class, case_forms.QuestionChoiceForm):
        kwargs["questions"] = selectors.unanswered_question_choices(case) if case else []
    return form_class(data, **kwargs)


def page_actions(case: Case) -> list[str]:
    """The actions a case page offers in the case's status: escalate stands for both its routes, and the
    question actions only while the authority has a question waiting."""
    allowed = workflow.allowed_actions(case)
    if selectors.unanswered_questions(case).exists():
        # The authority is waiting: answering comes first.
        allowed = [name for name in allowed if name in QUESTION_ACTIONS] + [
            name for name in allowed if name not in QUESTION_ACTIONS
        ]
    else:
        allowed = [name for name in allowed if name not in QUESTION_ACTIONS]
    offered = [name for name in allowed if name in ACTION_FORMS]
    if {"escalate_national_review", "escalate_police"} & set(allowed):
        offered.append("escalate")
    return offered


def case_act(*, case: Case, action: str, data: dict[str, Any], acting_user: User) -> None:
    """Run one named action with its form's cleaned data. Every case or person named in the data is
    looked up through the selectors, so an action can only reach what the acting user may see."""
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
    elif action == "refer":
        case_actions.case_refer(
            case=case,
            summary=str(data["summary"]),
            share_identity=bool(data.get("share_identity")),
            acting_user=acting_user,
        )
    elif action == "escalate":
        case_actions.case_escalate(case=case, route=str(data["route"]), acting_user=acting_user)
    elif action == "link_duplicate":
        number = str(data["other"]).strip().upper()
        other = selectors.case_queryset_for(acting_user).filter(case_number=number).first()
        if other is None:
            raise workflow.ActionNotAllowed("There is no case with that number.")
        case_actions.case_link_duplicate(case=case, other=other, acting_user=acting_user)
    elif action == "close":
        case_actions.case_close(
            case=case, outcome=str(data["outcome"]), feedback=str(data["feedback"]), acting_user=acting_user
        )
    elif action == "reply_to_authority":
        case_actions.case_reply_to_authority(
            case=case, question_id=int(data["question"]), body=str(data["body"]), acting_user=acting_user
        )
    elif action == "relay_to_reporter":
        case_actions.case_relay_to_reporter(
            case=case, question_id=int(data["question"]), body=str(data["body"]), acting_user=acting_user
        )
    elif action == "update_authority":
        case_actions.case_update_authority(case=case, summary=str(data["summary"]), acting_user=acting_user)
    else:
        raise workflow.ActionNotAllowed(f"There is no action called {action!r}.")
