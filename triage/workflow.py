"""Which action is allowed in which case status, who may take it, and where it leaves the case: defined here
only, so that what a page or the staff API offers is what it accepts."""

from __future__ import annotations

from dataclasses import dataclass

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from reports.models import Report
from triage.models import Case
from triage.retention import content_destroyed_on, destroyed_words

S = Case.Status
OPEN = frozenset({S.NEW, S.IN_TRIAGE, S.AWAITING_REPORTER, S.REFERRED, S.NATIONAL_REVIEW})
IN_TRIAGE = frozenset({S.NEW, S.IN_TRIAGE, S.AWAITING_REPORTER})


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to: str | None  # None: the status does not change
    label: str
    # Who may take it (accounts.policy): every action is the helpline's; some only a supervisor's.
    permission: Permission = Permission.HELPLINE_WORK


TRANSITIONS: dict[str, Transition] = {
    "claim": Transition(IN_TRIAGE, S.IN_TRIAGE, "Claim"),
    "assign": Transition(OPEN, None, "Assign"),
    "set_priority": Transition(OPEN, None, "Set priority"),
    "set_concern_types": Transition(OPEN, None, "Set concern types"),
    "set_authority": Transition(IN_TRIAGE, None, "Confirm or change the authority"),
    "ask_reporter": Transition(OPEN, None, "Message the reporter"),
    "add_note": Transition(OPEN | {S.CLOSED}, None, "Add an internal note"),
    # Again while referred: to another authority too (a child placed out of area), each its own referral.
    "refer": Transition(IN_TRIAGE | {S.REFERRED}, S.REFERRED, "Refer to the local authority"),
    "escalate_national_review": Transition(
        OPEN - {S.NATIONAL_REVIEW}, S.NATIONAL_REVIEW, "Send to independent national review"
    ),
    "escalate_police": Transition(OPEN, None, "Refer to the police"),
    # Ofsted, the Care Quality Commission or the review panel: passed on outside the service, recorded here.
    "refer_national_body": Transition(OPEN, None, "Refer to a national body"),
    "link_duplicate": Transition(OPEN | {S.CLOSED}, None, "Link a duplicate"),
    "close": Transition(OPEN, S.CLOSED, "Close with an outcome"),
    # Undoing a closure: a supervisor's, with a reason (case_actions.case_reopen); back to the helpline's triage.
    "reopen": Transition(frozenset({S.CLOSED}), S.IN_TRIAGE, "Reopen", Permission.REOPEN_CASE),
    # The thread with the authority: a question may be answered even after the case is closed.
    "reply_to_authority": Transition(OPEN | {S.CLOSED}, None, "Reply to the authority"),
    "relay_to_reporter": Transition(OPEN, None, "Ask the reporter for the authority"),
    "update_authority": Transition(frozenset({S.REFERRED}), None, "Send an update to the authority"),
    # What is known for the national picture: learnt at any time, so recorded after closure too.
    "record_facts": Transition(OPEN | {S.CLOSED}, None, "Record what is known"),
    # A file of the case deleted for good: a supervisor's, with a reason (case_actions.case_delete_attachment).
    "delete_attachment": Transition(OPEN | {S.CLOSED}, None, "Delete a file", Permission.DELETE_CASE_FILE),
    # Legal hold (triage.retention): a supervisor's, with the legal basis and a reference; the retention schedule
    # skips a held case until the hold is released. Its status does not change, open or closed.
    "place_hold": Transition(OPEN | {S.CLOSED}, None, "Put on legal hold", Permission.LEGAL_HOLD),
    "release_hold": Transition(OPEN | {S.CLOSED}, None, "Release the legal hold", Permission.LEGAL_HOLD),
    # The reporter's identity. Contact details are hidden on the case page: showing them takes a reason (an audit
    # event). A referral's recipient learns who the reporter is only through a sharing for that referral: the
    # reporter's consent, asked through the mailbox, or a legal duty two supervisors approve.
    "reveal_contact": Transition(OPEN | {S.CLOSED}, None, "Show contact details", Permission.REVEAL_CONTACT),
    "ask_identity_consent": Transition(OPEN, None, "Ask the reporter whether their identity may be shared"),
    "propose_identity_disclosure": Transition(
        OPEN | {S.CLOSED}, None, "Propose sharing identity under a legal duty", Permission.IDENTITY_LEGAL_DUTY
    ),
    "decide_identity_disclosure": Transition(
        OPEN | {S.CLOSED}, None, "Approve or refuse sharing identity under a legal duty", Permission.IDENTITY_LEGAL_DUTY
    ),
    # "I'm dealing with it": answers the urgent pages (triage.paging) while the urgent clock runs, and claims
    # the case if nobody has it.
    "acknowledge_page": Transition(IN_TRIAGE, None, "Reply to an urgent page"),
    # Not a staff action: the reporter's reply hands a waiting case back to the helpline.
    "reporter_replied": Transition(frozenset({S.AWAITING_REPORTER}), S.IN_TRIAGE, "Take the reporter's reply"),
}


# What a case whose content was destroyed (lifecycle.shredding) may still take: actions on its metadata only.
# Every other action seals something new with the case's data key, which is gone.
CONTENT_FREE = frozenset(
    {
        "claim",
        "assign",
        "set_priority",
        "set_concern_types",
        "set_authority",
        "link_duplicate",
        "record_facts",
        "acknowledge_page",
    }
)


NO_REPORTER = "This is a national review case opened from a pattern alert: it has no report and no reporter."


def report_of(case: Case) -> Report:
    """The case's report, for an action that needs one: a national review case (no report) is refused with
    ActionNotAllowed, which every page and the API show as a 409, never a 500."""
    if case.report is None:
        raise ActionNotAllowed(NO_REPORTER)
    return case.report


class ActionNotAllowed(Exception):
    """The action cannot be taken in the case's current state. The message says why, for the user."""


class ActionNotPermitted(ActionNotAllowed):
    """The user's role may not take the action, whatever the case's state (the staff API answers 403)."""


def permitted(user: User, action: str) -> bool:
    """Whether ``user`` may take ``action`` at all (the case's status aside): helpline staff, and only those
    the transition's permission allows (accounts.policy). The rule the actions and the lists of what is
    offered both ask."""
    transition = TRANSITIONS.get(action)
    permission = transition.permission if transition else Permission.HELPLINE_WORK
    return policy.may(user, Permission.HELPLINE_WORK) and policy.may(user, permission)


def check_permitted(user: User, action: str) -> None:
    """Refuse, with ActionNotPermitted, an action ``user`` may not take (see permitted)."""
    if not permitted(user, action):
        transition = TRANSITIONS.get(action)
        raise ActionNotPermitted(
            policy.refusal(user, transition.permission if transition else Permission.HELPLINE_WORK)
        )


def check_content_kept(case: Case, action: str) -> None:
    """Refuse, with ActionNotAllowed, an action that would seal something new on a case whose content was
    destroyed."""
    destroyed = content_destroyed_on(case)
    if destroyed is not None and action not in CONTENT_FREE:
        raise ActionNotAllowed(f"{destroyed_words(case)}: nothing can be added to this case.")


def check_allowed(case: Case, action: str) -> Transition:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ActionNotAllowed(f"There is no action called {action!r}.")
    check_content_kept(case, action)
    if case.status not in transition.allowed_from:
        raise ActionNotAllowed(
            f"You cannot {transition.label.lower()} while the case is {case.get_status_display().lower()}."
        )
    return transition


STAFF_ACTIONS = [name for name in TRANSITIONS if name != "reporter_replied"]


def allowed_actions(case: Case, user: User | None = None) -> list[str]:
    """The staff actions allowed in the case's status, in workflow order; given ``user``, only those the
    user may take (permitted), so that nothing offered is then refused for the user's role."""
    destroyed = content_destroyed_on(case) is not None
    return [
        name
        for name in STAFF_ACTIONS
        if case.status in TRANSITIONS[name].allowed_from
        and (user is None or permitted(user, name))
        and not (destroyed and name not in CONTENT_FREE)
    ]


def status_after(case: Case, action: str) -> str:
    transition = check_allowed(case, action)
    if action == "ask_reporter" and case.status in IN_TRIAGE:
        return S.AWAITING_REPORTER
    return transition.to or case.status
