"""triage.workflow on its own: which action is allowed in which status, the refusal messages, the actions
offered for a case, and the status an action leaves a case in. Pure: unsaved cases, no database."""

from __future__ import annotations

import pytest

from triage import workflow
from triage.models import Case
from triage.workflow import ActionNotAllowed, allowed_actions, check_allowed, status_after

S = Case.Status
ALL = frozenset(S.values)
OPEN = ALL - {S.CLOSED}
TRIAGE = frozenset({S.NEW, S.IN_TRIAGE, S.AWAITING_REPORTER})

# Written out independently of the module: the statuses each action is allowed from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "claim": TRIAGE,
    "assign": OPEN,
    "set_priority": OPEN,
    "set_concern_types": OPEN,
    "set_authority": TRIAGE,
    "ask_reporter": OPEN,
    "add_note": ALL,
    "refer": TRIAGE,
    "escalate_national_review": OPEN - {S.NATIONAL_REVIEW},
    "escalate_police": OPEN,
    "link_duplicate": ALL,
    "close": OPEN,
    "reopen": frozenset({S.CLOSED}),
    "reply_to_authority": ALL,
    "relay_to_reporter": OPEN,
    "update_authority": frozenset({S.REFERRED}),
    "reporter_replied": frozenset({S.AWAITING_REPORTER}),
}
STAFF = [name for name in ALLOWED_FROM if name != "reporter_replied"]


def case_in(status: str) -> Case:
    return Case(status=status)


def test_the_workflow_defines_exactly_the_actions_of_this_table() -> None:
    assert set(workflow.TRANSITIONS) == set(ALLOWED_FROM)
    assert workflow.STAFF_ACTIONS == STAFF


def test_the_status_groups() -> None:
    assert workflow.OPEN == OPEN
    assert workflow.IN_TRIAGE == TRIAGE


@pytest.mark.parametrize("status", sorted(ALL))
@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_check_allowed_allows_or_refuses_each_action_in_each_status(action: str, status: str) -> None:
    case = case_in(status)
    if status in ALLOWED_FROM[action]:
        assert check_allowed(case, action) is workflow.TRANSITIONS[action]
    else:
        with pytest.raises(ActionNotAllowed):
            check_allowed(case, action)


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("claim", S.REFERRED, "You cannot claim while the case is referred to the local authority."),
        ("refer", S.CLOSED, "You cannot refer to the local authority while the case is closed."),
        ("close", S.CLOSED, "You cannot close with an outcome while the case is closed."),
        ("ask_reporter", S.CLOSED, "You cannot message the reporter while the case is closed."),
        (
            "set_authority",
            S.REFERRED,
            "You cannot confirm or change the authority while the case is referred to the local authority.",
        ),
    ],
)
def test_a_refusal_names_the_action_and_the_status(action: str, status: str, message: str) -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        check_allowed(case_in(status), action)
    assert str(refused.value) == message


def test_an_unknown_action_is_refused_by_name() -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        check_allowed(case_in(S.NEW), "shred")
    assert str(refused.value) == "There is no action called 'shred'."


@pytest.mark.parametrize("status", sorted(ALL))
def test_allowed_actions_lists_the_staff_actions_allowed_now_in_workflow_order(status: str) -> None:
    expected = [name for name in STAFF if status in ALLOWED_FROM[name]]
    assert allowed_actions(case_in(status)) == expected
    assert "reporter_replied" not in allowed_actions(case_in(status))


def test_a_closed_case_offers_only_a_note_a_duplicate_link_reopening_or_an_answer_to_the_authority() -> None:
    assert allowed_actions(case_in(S.CLOSED)) == ["add_note", "link_duplicate", "reopen", "reply_to_authority"]


@pytest.mark.parametrize(
    ("action", "status", "after"),
    [
        ("claim", S.NEW, S.IN_TRIAGE),
        ("claim", S.AWAITING_REPORTER, S.IN_TRIAGE),
        ("ask_reporter", S.NEW, S.AWAITING_REPORTER),
        ("ask_reporter", S.IN_TRIAGE, S.AWAITING_REPORTER),
        ("ask_reporter", S.AWAITING_REPORTER, S.AWAITING_REPORTER),
        ("ask_reporter", S.REFERRED, S.REFERRED),
        ("ask_reporter", S.NATIONAL_REVIEW, S.NATIONAL_REVIEW),
        ("refer", S.IN_TRIAGE, S.REFERRED),
        ("escalate_national_review", S.REFERRED, S.NATIONAL_REVIEW),
        ("close", S.NATIONAL_REVIEW, S.CLOSED),
        ("reopen", S.CLOSED, S.IN_TRIAGE),
        ("reporter_replied", S.AWAITING_REPORTER, S.IN_TRIAGE),
        ("assign", S.REFERRED, S.REFERRED),
        ("set_priority", S.NEW, S.NEW),
        ("set_concern_types", S.AWAITING_REPORTER, S.AWAITING_REPORTER),
        ("set_authority", S.IN_TRIAGE, S.IN_TRIAGE),
        ("escalate_police", S.NATIONAL_REVIEW, S.NATIONAL_REVIEW),
        ("add_note", S.CLOSED, S.CLOSED),
        ("link_duplicate", S.CLOSED, S.CLOSED),
    ],
)
def test_status_after_an_action(action: str, status: str, after: str) -> None:
    assert status_after(case_in(status), action) == after


@pytest.mark.parametrize(("action", "status"), [("close", S.CLOSED), ("claim", S.REFERRED), ("nope", S.NEW)])
def test_status_after_refuses_what_check_allowed_refuses(action: str, status: str) -> None:
    with pytest.raises(ActionNotAllowed):
        status_after(case_in(status), action)
