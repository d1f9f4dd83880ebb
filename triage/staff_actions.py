"""Each helpline action by name: the form that validates it, and running it with that form's cleaned
data. Shared by the workspace pages and the staff API, so both accept and refuse exactly the same."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from directory.lookup import authority_by_code, authority_choices, national_body_choices, police_force_choices
from directory.models import NationalBody
from reports.models import Anonymity
from triage import bulk_actions, case_actions, paging, retention, selectors, workflow
from triage import forms as case_forms
from triage.case_content import CONTACT_SHOWN_FOR, file_choices, file_senders
from triage.facts import Known
from triage.models import Case, CaseFacts, LegalHold
from triage.ports import SOME_AUTHORITY, referral_port


@dataclass(frozen=True)
class FormContext:
    """What an action's form may offer as choices: the case, the directory's authorities (read once for
    the whole page) and the authorities with an open referral (when the page already has them)."""

    case: Case | None
    authorities: Callable[[], list[tuple[str, str]]]
    recipients: list[tuple[str, str]] | None = None
    user: User | None = None  # who acts: a case named in the form is looked up among those they may open


def _no_options(context: FormContext) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class StaffAction:
    """One helpline action, declared once: the form that validates its input (the page's, and through
    triage/api.py's serializers the API's) with the choices it offers, its place on the case page, its
    service call and its banner. The statuses it is allowed from, where it leaves the case and who may take
    it are its workflow transitions' (``transitions``; workflow.py, enforced by the services below this
    module), read here through ``allowed_from`` and ``permission``."""

    form: type[forms.Form] | None
    # The disclosure on the case page ("" for an action that is only a button) and its button: what it does.
    # "{recipient}" in either is ``recipient``'s answer for the case (action_labels): "Reply to Rotherham".
    heading: str
    button: str
    # The service call, with the form's cleaned data; what it returns is handed to ``banner``.
    run: Callable[[Case, dict[str, Any], User], Any]
    # What happened, for the page's notification banner, said once the case is reloaded.
    banner: Callable[[Case, dict[str, Any], Any], str]
    # The workflow's entries this action stands for (escalate stands for both of its routes).
    transitions: tuple[str, ...] = ()
    # The choices its form offers (assignees, authorities, open questions, open referrals), by keyword.
    form_options: Callable[[FormContext], dict[str, Any]] = _no_options
    # Whom the action addresses on a case, as a sentence names them ("the independent review team",
    # "Rotherham"): its heading and button say it, and its form is given it as ``addressee``.
    recipient: Callable[[Case], str] | None = None
    # The same action over many cases at once (bulk triage, run_bulk), for the actions that have it: given the
    # cases run_bulk locked and the workflow allows, with the form's cleaned data; returns the cases it left
    # alone, by id, with why (triage/bulk_actions.py).
    bulk: Callable[[list[Case], dict[str, Any], User], dict[int, str]] | None = None


def _said(text: str) -> Callable[[Case, dict[str, Any], Any], str]:
    return lambda case, data, result: text


def _message_sent(case: Case, data: dict[str, Any], result: Any) -> str:
    upload = data.get("file")
    if upload is None:
        return "Message sent to the reporter"
    return (
        f"Message sent to the reporter with {upload.name}. They can download it once it has been checked for "
        "malware and cleaned of identifying metadata."
    )


def _authority(case: Case) -> str:
    return case.authority.name if case.authority else "the authority"


def _by_referrals(name: str) -> Callable[[Case, dict[str, Any], User], str]:
    """A referral action: the referrals app runs it and says what it did (triage/ports.py)."""
    return lambda case, data, user: referral_port().actions[name](case, data, user)


def _assign(case: Case, data: dict[str, Any], user: User) -> None:
    assignee = selectors.helpline_staff().filter(username=data["assignee"]).first()
    if assignee is None:
        raise workflow.ActionNotAllowed("There is no such member of staff.")
    case_actions.case_assign(case=case, assignee=assignee, acting_user=user)


def _set_concern_types(case: Case, data: dict[str, Any], user: User) -> None:
    codes = data["concern_types"]
    case_actions.case_set_concern_types(
        case=case, concern_types=list(codes) if isinstance(codes, list) else [], acting_user=user
    )


def _set_authority(case: Case, data: dict[str, Any], user: User) -> None:
    authority = authority_by_code(str(data["authority"]))
    if authority is None:
        raise workflow.ActionNotAllowed("Choose an English children's services authority.")
    case_actions.case_set_authority(case=case, authority=authority, acting_user=user)


def _link_duplicate(case: Case, data: dict[str, Any], user: User) -> Case:
    other = selectors.case_by_identifier(user=user, text=str(data["other"]))
    if other is None:
        raise workflow.ActionNotAllowed("There is no case with that number.")
    case_actions.case_link_duplicate(case=case, other=other, acting_user=user)
    return other


def _bulk_assign(cases: list[Case], data: dict[str, Any], user: User) -> dict[int, str]:
    assignee = selectors.helpline_staff().filter(username=data["assignee"]).first()
    if assignee is None:
        raise workflow.ActionNotAllowed("There is no such member of staff.")
    bulk_actions.cases_assign(cases=cases, assignee=assignee, acting_user=user)
    return {}


def _bulk_set_priority(cases: list[Case], data: dict[str, Any], user: User) -> dict[int, str]:
    bulk_actions.cases_set_priority(cases=cases, priority=str(data["priority"]), acting_user=user)
    return {}


def _bulk_link_duplicate(cases: list[Case], data: dict[str, Any], user: User) -> dict[int, str]:
    other = selectors.case_by_identifier(user=user, text=str(data["other"]))
    if other is None:
        raise workflow.ActionNotAllowed("There is no case with that number.")
    # The case the others are linked to may be among those selected: it is left as it is.
    left = {case.pk: "It is the case the others are linked to." for case in cases if case.pk == other.pk}
    bulk_actions.cases_link_duplicate(
        cases=[case for case in cases if case.pk != other.pk], other=other, acting_user=user
    )
    return left


def _bulk_close(cases: list[Case], data: dict[str, Any], user: User) -> dict[int, str]:
    bulk_actions.cases_close(
        cases=cases, outcome=str(data["outcome"]), feedback=str(data["feedback"]), acting_user=user
    )
    return {}


def _record_facts(case: Case, data: dict[str, Any], user: User) -> list[str]:
    code = str(data.get("placing_authority") or "")
    placing = authority_by_code(code) if code else None
    if code and placing is None:
        raise workflow.ActionNotAllowed("Choose an English children's services authority.")

    def counts(fields: dict[str, str]) -> dict[str, int]:
        return {category: int(data[name]) for name, category in fields.items() if data.get(name)}

    facts = case_actions.FactsRecorded(
        ofsted_class=str(data.get("ofsted_class") or ""),
        group_based=str(data.get("group_based") or Known.NOT_KNOWN),
        settings=tuple(data.get("settings") or ()),
        looked_after=str(data.get("looked_after") or Known.NOT_KNOWN),
        placed_out_of_area=str(data.get("placed_out_of_area") or Known.NOT_KNOWN),
        placing_authority=placing,
        missing_episodes=str(data.get("missing_episodes") or Known.NOT_KNOWN),
        suspects=data.get("suspects"),
        suspect_ethnicity=counts(case_forms.ETHNICITY_FIELDS),
        suspect_nationality=counts(case_forms.NATIONALITY_FIELDS),
    )
    return case_actions.case_record_facts(case=case, facts=facts, acting_user=user)


def _facts_recorded(case: Case, data: dict[str, Any], changed: Any) -> str:
    return "What is known is recorded" if changed else "Nothing changed: what is known was already recorded"


def _reported(case: Case, data: dict[str, Any], said: Any) -> str:
    return str(said)


def _assignees(context: FormContext) -> dict[str, Any]:
    return {"assignees": list(selectors.helpline_staff().values_list("username", flat=True))}


def _authorities(context: FormContext) -> dict[str, Any]:
    return {"authorities": context.authorities()}


def _refer_options(context: FormContext) -> dict[str, Any]:
    senders = file_senders(context.case) if context.case is not None and context.case.pk else {}
    return {
        "case": context.case,
        "authorities": context.authorities(),
        "case_files": _case_files(context),
        "file_senders": senders,
    }


def _case_files(context: FormContext) -> list[tuple[str, str, str]]:
    """The case's files, for a form that chooses among them (refer's to share, delete_attachment's)."""
    return file_choices(context.case) if context.case is not None and context.case.pk else []


def _file_options(context: FormContext) -> dict[str, Any]:
    return {"case_files": _case_files(context)}


def _delete_attachment(case: Case, data: dict[str, Any], user: User) -> None:
    case_actions.case_delete_attachment(
        case=case, attachment_id=str(data["attachment"]), reason=str(data["reason"]), acting_user=user
    )


def _facts_options(context: FormContext) -> dict[str, Any]:
    """The authorities a child may be placed by, and what is recorded, for the form to start from."""
    facts = CaseFacts.objects.filter(case=context.case).first() if context.case and context.case.pk else None
    return {"authorities": context.authorities(), "facts": facts}


def _close_options(context: FormContext) -> dict[str, Any]:
    """A national review case has no reporter to read the feedback (its closing words are kept as a note)."""
    case = context.case
    return {"no_reporter": bool(case is not None and case.pk and case.report_id is None)}


def _hold_place(case: Case, data: dict[str, Any], user: User) -> list[LegalHold]:
    return case_actions.case_hold_place(
        case=case, basis=str(data["basis"]), reason=str(data["reason"]), acting_user=user
    )


def _held(case: Case, data: dict[str, Any], holds: Any) -> str:
    linked = [hold.case.case_number for hold in holds[1:]]
    if not linked:
        return f"Case {case.case_number} is on legal hold. The retention schedule skips it until the hold is released."
    return (
        f"Case {case.case_number} is on legal hold, and so {'is' if len(linked) == 1 else 'are'} its linked "
        f"case{'' if len(linked) == 1 else 's'} {', '.join(linked)}. The retention schedule skips them until each "
        "hold is released."
    )


def _released(case: Case, data: dict[str, Any], hold: Any) -> str:
    said = "Legal hold released. The retention schedule applies to this case again."
    if case.destroy_on is not None and case.destroy_on <= timezone.localdate():
        said += " Its day to be destroyed has passed, so its content is destroyed at the schedule's next daily run."
    return said


# Escalate's routes by the workflow entry each stands for.
ESCALATION_TRANSITIONS = {"national_review": "escalate_national_review", "police": "escalate_police"}


def _escalation_options(context: FormContext) -> dict[str, Any]:
    """The police forces, and the routes the case may take in its status (workflow.TRANSITIONS): not
    independent review once the case is under it. In a status that allows neither, both: the service then
    refuses with the reason."""
    case = context.case
    routes = [
        route
        for route, entry in ESCALATION_TRANSITIONS.items()
        if case is None or case.status in workflow.TRANSITIONS[entry].allowed_from
    ]
    return {"forces": police_force_choices(), "routes": routes or list(ESCALATION_TRANSITIONS)}


def _national_bodies(context: FormContext) -> dict[str, Any]:
    """The bodies the helpline refers a case to directly, from the directory (administrators keep it)."""
    return {"bodies": national_body_choices(NationalBody.REFERRED_DIRECTLY)}


def _questions(context: FormContext) -> dict[str, Any]:
    return {"questions": referral_port().question_choices(context.case) if context.case else []}


def _asking(case: Case) -> str:
    """The recipient whose question waits (a reply to it, or the reporter asked for it)."""
    return referral_port().addressee(case)


def _updated(case: Case) -> str:
    """The one authority the case is open with (with several, the update form asks which)."""
    recipients = referral_port().open_recipients(case)
    return recipients[0][1] if len(recipients) == 1 else SOME_AUTHORITY


def _case_finder(context: FormContext) -> dict[str, Any]:
    user = context.user
    if user is None:
        return {}
    return {"find": lambda text: selectors.case_by_identifier(user=user, text=text)}


def _open_referrals(context: FormContext) -> dict[str, Any]:
    recipients = context.recipients
    if recipients is None:
        recipients = referral_port().open_recipients(context.case) if context.case else []
    return {"recipients": recipients}


def _identity_referrals(context: FormContext) -> dict[str, Any]:
    return {"referrals": referral_port().identity_referrals(context.case) if context.case and context.case.pk else []}


def _identity_proposals(context: FormContext) -> dict[str, Any]:
    return {"proposals": referral_port().identity_proposals(context.case) if context.case and context.case.pk else []}


def _contact_shown(case: Case, data: dict[str, Any], shown: Any) -> str:
    minutes = int(CONTACT_SHOWN_FOR.total_seconds() // 60)
    return (
        f'The reporter\'s contact details are shown under "Reporter" for {minutes} minutes, to you only. That you '
        "saw them, and why, is recorded."
    )


# Every helpline action, in the order the case page offers them.
ACTIONS: dict[str, StaffAction] = {
    "claim": StaffAction(
        None,
        "",
        "",
        run=lambda case, data, user: case_actions.case_claim(case=case, acting_user=user),
        banner=_said("You have claimed this case"),
    ),
    "assign": StaffAction(
        case_forms.AssignForm,
        "Assign",
        "Assign case",
        run=_assign,
        form_options=_assignees,
        banner=lambda case, data, _: f"Case assigned to {data['assignee']}",
        bulk=_bulk_assign,
    ),
    "set_priority": StaffAction(
        case_forms.PriorityForm,
        "Set priority",
        "Set priority",
        run=lambda case, data, user: case_actions.case_set_priority(
            case=case, priority=str(data["priority"]), acting_user=user
        ),
        banner=lambda case, data, _: f"Priority set to {case.get_priority_display().lower()}",
        bulk=_bulk_set_priority,
    ),
    "set_concern_types": StaffAction(
        case_forms.ConcernTypesForm,
        "Set concern types",
        "Save concern types",
        run=_set_concern_types,
        banner=_said("Concern types updated"),
    ),
    "set_authority": StaffAction(
        case_forms.AuthorityForm,
        "Confirm or change the authority",
        "Confirm authority",
        run=_set_authority,
        form_options=_authorities,
        banner=lambda case, data, _: f"Authority set to {_authority(case)}",
    ),
    "ask_reporter": StaffAction(
        case_forms.ReporterMessageForm,
        "Message the reporter",
        "Send message",
        run=lambda case, data, user: case_actions.case_ask_reporter(
            case=case, body=str(data["body"]), acting_user=user, upload=data.get("file")
        ),
        banner=_message_sent,
    ),
    "add_note": StaffAction(
        case_forms.NoteForm,
        "Add an internal note",
        "Add internal note",
        run=lambda case, data, user: case_actions.case_add_note(case=case, body=str(data["body"]), acting_user=user),
        banner=_said("Internal note added. Only helpline staff can see it."),
    ),
    "refer": StaffAction(
        case_forms.ReferForm,
        "Refer to the local authority",
        "Refer the case",
        run=_by_referrals("refer"),
        banner=_reported,
        form_options=_refer_options,
    ),
    "escalate": StaffAction(
        case_forms.EscalateForm,
        "Escalate",
        "Escalate case",
        run=_by_referrals("escalate"),
        banner=_reported,
        transitions=tuple(ESCALATION_TRANSITIONS.values()),
        form_options=_escalation_options,
    ),
    "refer_national_body": StaffAction(
        case_forms.ReferNationalBodyForm,
        "Refer to a national body",
        "Record the referral",
        run=_by_referrals("refer_national_body"),
        banner=_reported,
        form_options=_national_bodies,
    ),
    "link_duplicate": StaffAction(
        case_forms.LinkForm,
        "Link a duplicate",
        "Link case",
        run=_link_duplicate,
        form_options=_case_finder,
        banner=lambda case, data, other: f"Case linked to {other.case_number}",
        bulk=_bulk_link_duplicate,
    ),
    "close": StaffAction(
        case_forms.CloseForm,
        "Close with an outcome",
        "Close case",
        run=lambda case, data, user: case_actions.case_close(
            case=case, outcome=str(data["outcome"]), feedback=str(data["feedback"]), acting_user=user
        ),
        banner=lambda case, data, _: f"Case closed with the outcome: {case.get_outcome_display().lower()}",
        form_options=_close_options,
        bulk=_bulk_close,
    ),
    "reopen": StaffAction(
        case_forms.ReopenForm,
        "Reopen the case",
        "Reopen case",
        run=lambda case, data, user: case_actions.case_reopen(case=case, reason=str(data["reason"]), acting_user=user),
        banner=_said("Case reopened. It is back in triage, and the reason is kept as an internal note."),
    ),
    "reply_to_authority": StaffAction(
        case_forms.AuthorityReplyForm,
        "Reply to {recipient}",
        "Send reply",
        run=_by_referrals("reply_to_authority"),
        banner=_reported,
        form_options=_questions,
        recipient=_asking,
    ),
    "relay_to_reporter": StaffAction(
        case_forms.RelayToReporterForm,
        "Ask the reporter for {recipient}",
        "Send message to the reporter",
        run=_by_referrals("relay_to_reporter"),
        banner=_reported,
        form_options=_questions,
        recipient=_asking,
    ),
    "update_authority": StaffAction(
        case_forms.AuthorityUpdateForm,
        "Send an update to {recipient}",
        "Send update",
        run=_by_referrals("update_authority"),
        banner=_reported,
        form_options=_open_referrals,
        recipient=_updated,
    ),
    "record_facts": StaffAction(
        case_forms.RecordFactsForm,
        "Record what is known",
        "Save what is known",
        run=_record_facts,
        banner=_facts_recorded,
        form_options=_facts_options,
    ),
    "delete_attachment": StaffAction(
        case_forms.DeleteAttachmentForm,
        "Delete a file",
        "Delete the file",
        run=_delete_attachment,
        banner=_said("File deleted. Nobody can open it again; the reason is kept as an internal note."),
        form_options=_file_options,
    ),
    "reveal_contact": StaffAction(
        case_forms.RevealContactForm,
        "Show contact details",
        "Show contact details",
        run=lambda case, data, user: case_actions.case_reveal_contact(
            case=case, reason=str(data["reason"]), acting_user=user
        ),
        banner=_contact_shown,
    ),
    "ask_identity_consent": StaffAction(
        case_forms.IdentityConsentForm,
        "Ask the reporter whether their identity may be shared",
        "Ask the reporter",
        run=_by_referrals("ask_identity_consent"),
        banner=_reported,
        form_options=_identity_referrals,
    ),
    "propose_identity_disclosure": StaffAction(
        case_forms.IdentityDisclosureForm,
        "Share identity under a legal duty (a second supervisor approves)",
        "Propose sharing",
        run=_by_referrals("propose_identity_disclosure"),
        banner=_reported,
        form_options=_identity_referrals,
    ),
    "decide_identity_disclosure": StaffAction(
        case_forms.IdentityDecisionForm,
        "Approve or refuse sharing identity under a legal duty",
        "Record the decision",
        run=_by_referrals("decide_identity_disclosure"),
        banner=_reported,
        form_options=_identity_proposals,
    ),
    "place_hold": StaffAction(
        case_forms.LegalHoldForm,
        "Put on legal hold",
        "Put on legal hold",
        run=_hold_place,
        banner=_held,
    ),
    "release_hold": StaffAction(
        case_forms.HoldReleaseForm,
        "Release the legal hold",
        "Release the hold",
        run=lambda case, data, user: case_actions.case_hold_release(case=case, acting_user=user),
        banner=_released,
    ),
    "acknowledge_page": StaffAction(
        None,
        "",
        "",
        run=lambda case, data, user: case_actions.case_acknowledge_page(case=case, acting_user=user),
        banner=_said("You are dealing with it: nobody else will be paged about this case"),
    ),
}


def transitions_of(action: str) -> tuple[str, ...]:
    """The workflow entries ``action`` stands for: its own name unless it declares them."""
    return ACTIONS[action].transitions or (action,)


def allowed_from(action: str) -> frozenset[str]:
    """The case statuses ``action`` may be taken in (any of its transitions')."""
    return frozenset().union(*(workflow.TRANSITIONS[entry].allowed_from for entry in transitions_of(action)))


def permission_of(action: str) -> Permission:
    """Who may take ``action`` (accounts.policy), as its transitions say (all of them alike)."""
    return workflow.TRANSITIONS[transitions_of(action)[0]].permission


# Drawn from ACTIONS, for what reads only the forms (the API's schema, the tests).
ACTION_FORMS: dict[str, type[forms.Form] | None] = {name: action.form for name, action in ACTIONS.items()}


def addressee(action: str, case: Case | None) -> str:
    """Whom ``action`` addresses on ``case``, as a sentence names them ("" for an action that addresses
    nobody; the authority in general for a case not yet saved)."""
    declared = ACTIONS[action]
    if declared.recipient is None:
        return ""
    return declared.recipient(case) if case is not None and case.pk else SOME_AUTHORITY


def action_labels(case: Case, offered: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """Each action's disclosure and button on ``case``'s page (of those ``offered``, else all), naming whom
    it addresses: "Reply to the independent review team", "Reply to Rotherham"."""
    names = ACTIONS if offered is None else [name for name in ACTIONS if name in set(offered)]
    labels = {}
    for name in names:
        action = ACTIONS[name]
        if action.heading:
            recipient = addressee(name, case)
            labels[name] = (action.heading.format(recipient=recipient), action.button.format(recipient=recipient))
    return labels


# Offered only for a reporter the helpline knows (the sharing ones, only with a referral to share with).
IDENTITY_ACTIONS = frozenset(
    {"reveal_contact", "ask_identity_consent", "propose_identity_disclosure", "decide_identity_disclosure"}
)

# Offered only while the authority has a question waiting for an answer.
QUESTION_ACTIONS = frozenset({"reply_to_authority", "relay_to_reporter"})
# What a case with no report (a national review case opened from a pattern alert) never offers: there is no
# reporter to write to or reveal, no reporter's files or concern, and it stays out of the national picture.
REPORTER_ACTIONS = frozenset(
    {
        "set_concern_types",
        "set_authority",
        "ask_reporter",
        "relay_to_reporter",
        "record_facts",
        "delete_attachment",
        "link_duplicate",
        *IDENTITY_ACTIONS,
        "reveal_contact",
    }
)


def action_form(
    action: str,
    data: Any = None,
    case: Case | None = None,
    authorities: Callable[[], list[tuple[str, str]]] = authority_choices,
    recipients: list[tuple[str, str]] | None = None,
    user: User | None = None,
    files: Any = None,
) -> forms.Form | None:
    """The action's form, bound to ``data`` (and the page's uploaded ``files``, for a form that takes one)."""
    declared = ACTIONS.get(action)
    if declared is None or declared.form is None:
        return None
    options = declared.form_options(FormContext(case=case, authorities=authorities, recipients=recipients, user=user))
    if declared.recipient is not None:
        options["addressee"] = addressee(action, case)
    return declared.form(data, files, prefix=action, **options)


def action_forms(
    names: list[str], case: Case, recipients: list[tuple[str, str]] | None = None, user: User | None = None
) -> dict[str, forms.Form | None]:
    """The forms of a page's actions: the directory's list of authorities (set_authority's, refer's) is read
    once for all of them; ``recipients``, the authorities with an open referral, when the page has them."""
    read: list[list[tuple[str, str]]] = []

    def authorities() -> list[tuple[str, str]]:
        if not read:
            read.append(authority_choices())
        return read[0]

    return {
        name: action_form(name, case=case, authorities=authorities, recipients=recipients, user=user) for name in names
    }


def referable(case: Case) -> bool:
    """Whether "refer" can succeed: an authority confirmed, and the case not sent to independent national
    review. Otherwise the page does not offer it. (Referring to the council the concern is about is refused
    by the service, whichever authority is chosen.)"""
    return bool(case.authority_id and not case.independent_review)


def authority_settable(case: Case) -> bool:
    """Whether the case's authority is the helpline's to confirm or change: not when the concern is about a
    council, which goes to no council (the service refuses that council in any case)."""
    return case.conflict_authority_id is None


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
    held = bool({"place_hold", "release_hold"} & set(allowed)) and retention.on_hold(case)
    if case.report is None:
        allowed = [name for name in allowed if name not in REPORTER_ACTIONS]
    identity = IDENTITY_ACTIONS & set(allowed)
    known = identity and case.report is not None and case.report.anonymity != Anonymity.ANONYMOUS
    shareable = bool(known and {"ask_identity_consent", "propose_identity_disclosure"} & identity) and bool(
        referral_port().identity_referrals(case)
    )
    proposals = bool(known and "decide_identity_disclosure" in identity) and bool(
        referral_port().identity_proposals(case)
    )
    offered = [
        name
        for name in allowed
        if name in ACTION_FORMS
        and (name != "refer" or referable(case))
        and (name != "set_authority" or authority_settable(case))
        and (name != "delete_attachment" or case_actions.deletable_files(case))
        and (name != "place_hold" or not (held or retention.content_destroyed_on(case)))
        and (name != "release_hold" or held)
        and (name != "reveal_contact" or known)
        and (name not in ("ask_identity_consent", "propose_identity_disclosure") or shareable)
        and (name != "decide_identity_disclosure" or proposals)
        and (name != "acknowledge_page" or bool(paging.pages_waiting(case)))
    ]
    if {"escalate_national_review", "escalate_police"} & set(allowed):
        offered.append("escalate")
    return offered


def case_act(*, case: Case, action: str, data: dict[str, Any], acting_user: User) -> str:
    """Run one named action with its form's cleaned data, and say what happened (the page's notification
    banner). Every case or person named in the data is looked up through the selectors, so an action can
    only reach what the acting user may see."""
    declared = ACTIONS.get(action)
    if declared is None:
        raise workflow.ActionNotAllowed(f"There is no action called {action!r}.")
    if case.report_id is None and action in REPORTER_ACTIONS:
        raise workflow.ActionNotAllowed(workflow.NO_REPORTER)
    result = declared.run(case, data, acting_user)
    case.refresh_from_db()
    return declared.banner(case, data, result)


# --- bulk triage --------------------------------------------------------------------------------------------

# What a case number may look like when it is sent to bulk triage (its year, a hyphen, six characters; anything
# else, such as a NUL the database would refuse, is refused before any query).
CASE_NUMBER_SHAPE = re.compile(r"[0-9A-Za-z-]{1,16}")

# The actions that can be taken over many cases at once, in the case page's order.
BULK_ACTIONS = [name for name, declared in ACTIONS.items() if declared.bulk is not None]


@dataclass(frozen=True)
class BulkResult:
    """What a bulk run did: the cases that took the action, and those that did not, with why (by case number,
    in the order they were named)."""

    action: str
    done: list[str]
    refused: list[tuple[str, str]]


def bulk_permitted(user: User, action: str = "") -> bool:
    """Whether ``user`` may take ``action`` (any bulk action, without one) over many cases at once: bulk triage
    (accounts.policy) and the action's own permission (workflow.permitted)."""
    if not policy.may(user, Permission.BULK_TRIAGE):
        return False
    return workflow.permitted(user, action) if action else policy.may(user, Permission.HELPLINE_WORK)


def bulk_check(*, action: str, case_numbers: Iterable[str], acting_user: User) -> list[str]:
    """Refuse, with ActionNotAllowed (ActionNotPermitted for the user's role), what no bulk run could take:
    an action without a bulk form, no case, more than BULK_MAX. The case numbers, each once, in order."""
    declared = ACTIONS.get(action)
    if declared is None or declared.bulk is None:
        raise workflow.ActionNotAllowed("Choose what to do with the cases.")
    if not bulk_permitted(acting_user, action):
        raise workflow.ActionNotPermitted(policy.refusal(acting_user, Permission.BULK_TRIAGE))
    numbers = list(dict.fromkeys(str(number).strip() for number in case_numbers if str(number).strip()))
    if not numbers:
        raise workflow.ActionNotAllowed("Select at least one case.")
    if any(not CASE_NUMBER_SHAPE.fullmatch(number) for number in numbers):
        raise workflow.ActionNotAllowed("Select the cases by their case numbers, from the list of cases.")
    if len(numbers) > settings.BULK_MAX:
        raise workflow.ActionNotAllowed(
            f"{len(numbers)} cases are selected. Bulk triage takes at most {settings.BULK_MAX} at a time: "
            "narrow the filter."
        )
    return numbers


def _bulk_sorted(action: str, numbers: list[str], cases: dict[str, Case]) -> tuple[list[Case], dict[str, str]]:
    """The cases that may take ``action``, and why each of the others may not (by case number), checked as
    for one case (workflow.check_allowed) and as a bulk run (bulk_actions.bulk_refusal)."""
    refused: dict[str, str] = {}
    allowed: list[Case] = []
    for number in numbers:
        case = cases.get(number)
        if case is None:
            refused[number] = "There is no case with that number."
            continue
        try:
            workflow.check_allowed(case, action)
        except workflow.ActionNotAllowed as reason:
            refused[number] = str(reason)
            continue
        why = bulk_actions.bulk_refusal(action, case)
        if why:
            refused[number] = why
        else:
            allowed.append(case)
    return allowed, refused


def bulk_preview(*, action: str, case_numbers: Iterable[str], acting_user: User) -> BulkResult:
    """What run_bulk would do now (for the confirmation page; one query): which cases would take the action
    and which would not, with why. Nothing is locked: run_bulk checks again."""
    numbers = bulk_check(action=action, case_numbers=case_numbers, acting_user=acting_user)
    cases = {
        case.case_number: case
        for case in selectors.case_queryset_for(acting_user).select_related("report").filter(case_number__in=numbers)
    }
    allowed, refused = _bulk_sorted(action, numbers, cases)
    return BulkResult(
        action=action,
        done=[case.case_number for case in allowed],
        refused=[(number, refused[number]) for number in numbers if number in refused],
    )


def run_bulk(*, action: str, case_numbers: Iterable[str], data: dict[str, Any], acting_user: User) -> BulkResult:
    """Run one named action (its form's cleaned data, validated by the same form as for one case) over many
    cases in one transaction: the cases locked in one query, each checked against the workflow as one case is
    (a case that may not take it, such as one already closed, is reported back, not an error), then the action
    applied to those that may in a fixed number of queries, with one audit event per case chained at commit in
    one batch (audit.staging). Bad input for the action as a whole (no such assignee) refuses the whole run
    with ActionNotAllowed."""
    numbers = bulk_check(action=action, case_numbers=case_numbers, acting_user=acting_user)
    bulk = ACTIONS[action].bulk
    if bulk is None:  # bulk_check refused it already
        raise workflow.ActionNotAllowed("Choose what to do with the cases.")
    with transaction.atomic(durable=True):
        cases = {
            case.case_number: case
            for case in selectors.case_queryset_for(acting_user)
            .select_for_update(of=("self",))
            .select_related("report")
            .filter(case_number__in=numbers)
            .order_by("pk")
        }
        allowed, refused = _bulk_sorted(action, numbers, cases)
        left = bulk(allowed, data, acting_user) if allowed else {}
        for case in allowed:
            if case.pk in left:
                refused[case.case_number] = left[case.pk]
    return BulkResult(
        action=action,
        done=[case.case_number for case in allowed if case.pk not in left],
        refused=[(number, refused[number]) for number in numbers if number in refused],
    )
