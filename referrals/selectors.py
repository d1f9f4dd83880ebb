"""Who may see which referrals, decided here: helpline staff see every referral; an authority officer sees
only referrals to their own authorities (never a case about their own council, never one in independent
review), so an officer of Sheffield sees nothing of Rotherham's referral on the same case: its summary,
thread and outcome are on Rotherham's referral row alone. And the reads the case page makes of a case's
referrals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateformat import format as date_format

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from referrals.deadlines import referral_deadlines, referral_question_deadline
from referrals.models import AuthorityAction, IdentitySharing, Referral
from triage.deadlines import Deadline
from triage.models import Case
from triage.ports import SOME_AUTHORITY
from triage.selectors import Thread, thread_numbered


def require_authority_officer(user: User) -> None:
    """An authority officer or a national reviewer: whoever works referrals sent to them."""
    policy.require(user, Permission.REFERRAL_WORK)


def referral_queryset_for(user: User) -> QuerySet[Referral]:
    """Every referral this user may open (accounts.policy.referral_scope)."""
    scope = policy.referral_scope(user)
    return Referral.objects.all() if scope is None else Referral.objects.filter(scope)


def _with_case(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.select_related("case__report", "case__assignee", "authority", "body")


def referral_get_for(*, user: User, case_number: str) -> Referral:
    """The officer's referral of the case: their latest, if the case was referred to them more than once."""
    require_authority_officer(user)
    referral = _with_case(referral_queryset_for(user)).filter(case__case_number=case_number).order_by("-id").first()
    if referral is None:
        raise Http404
    return referral


def referral_by_id_for(*, user: User, referral_id: int) -> Referral:
    require_authority_officer(user)
    referral = _with_case(referral_queryset_for(user)).filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    return referral


def case_done_with_authorities(case: Case) -> bool:
    """The case is done with its authorities when it was referred and every referral has an outcome (or
    was withdrawn)."""
    statuses = set(Referral.objects.filter(case=case).values_list("status", flat=True))
    return bool(statuses) and not statuses & set(Referral.OPEN)


# --- the thread, as the helpline answers it ------------------------------------------------------------


def unanswered_questions(case: Case) -> QuerySet[AuthorityAction]:
    return AuthorityAction.objects.filter(case=case, kind=AuthorityAction.Kind.QUESTION, answered_at__isnull=True)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def question_numbers(case: Case) -> dict[int, int]:
    """Each question by id, numbered 1, 2, … within its referral's thread in the order the authority asked:
    the name both sides use for a question (its words are sealed)."""
    numbers: dict[int, int] = {}
    counts: dict[int, int] = {}
    questions = AuthorityAction.objects.filter(case=case, kind=AuthorityAction.Kind.QUESTION).order_by("id")
    for pk, referral_id in questions.values_list("pk", "referral_id"):
        counts[referral_id] = counts.get(referral_id, 0) + 1
        numbers[pk] = counts[referral_id]
    return numbers


def unanswered_question_choices(case: Case) -> list[tuple[str, str]]:
    """The case's unanswered questions as form choices, by number and when they were asked, and by which
    authority when more than one is waiting (the page shows their words above the form)."""
    numbers = question_numbers(case)
    questions = list(unanswered_questions(case).select_related("referral__authority", "referral__body").order_by("id"))
    several = len({question.referral_id for question in questions}) > 1
    return [
        (
            str(question.pk),
            f"Question {numbers[question.pk]}, asked {_when(question.created_at)}"
            + (f", from {question.referral.recipient_name}" if several else ""),
        )
        for question in questions
    ]


def open_recipients(case: Case) -> list[tuple[str, str]]:
    """The authorities the case has an open referral to, as (GSS code, name)."""
    rows = (
        Referral.objects.filter(case=case, status__in=Referral.OPEN)
        .order_by("id")
        .values_list("authority__gss_code", "authority__name", "body__code", "body__name")
    )
    return [(str(code or body_code), str(name or body_name)) for code, name, body_code, body_name in rows]


def thread_addressee(case: Case) -> str:
    """Who the helpline's reply, relay or update on ``case`` goes to, as a sentence names it: the recipient
    whose question waits, else the one the case is open with; "the authority" when there are several (the
    form then asks which) or none."""
    waiting = Referral.objects.filter(
        case=case, actions__kind=AuthorityAction.Kind.QUESTION, actions__answered_at__isnull=True
    )
    referrals = waiting if waiting.exists() else Referral.objects.filter(case=case, status__in=Referral.OPEN)
    called = {referral.recipient_called for referral in referrals.select_related("authority", "body").distinct()}
    return called.pop() if len(called) == 1 else SOME_AUTHORITY


# --- the case page's referrals ---------------------------------------------------------------------------


@dataclass
class ReferralPanel:
    """One referral as the case page shows it: its summary, its own clocks and its own thread."""

    referral: Referral
    summary: str
    deadlines: list[Deadline]
    actions: list[tuple[AuthorityAction, str]] = field(default_factory=list)
    thread: Thread | None = None
    question_deadlines: list[Deadline] = field(default_factory=list)
    # Passed on outside the service: the reference the body gave ("" for none).
    reference: str = ""


def case_referral_panels(
    referrals: list[tuple[Any, str]],
    actions: list[tuple[Any, str]],
    now: datetime,
    references: dict[int, str] | None = None,
) -> list[ReferralPanel]:
    """Each referral of a case opened by triage.case_content.case_open, with its thread: no query."""
    panels = []
    for referral, summary in referrals:
        own = [(action, note) for action, note in actions if action.referral_id == referral.pk]
        thread = thread_numbered([action for action, _ in own])
        panels.append(
            ReferralPanel(
                referral=referral,
                summary=summary,
                deadlines=referral_deadlines(referral, now),
                actions=own,
                thread=thread,
                question_deadlines=[
                    referral_question_deadline(referral, question, now) for question in thread.questions
                ],
                reference=(references or {}).get(referral.pk, ""),
            )
        )
    return panels


def identity_sharings(case: Case) -> list[IdentitySharing]:
    """Every decision about sharing the case's reporter's identity, oldest first (the case page's panel)."""
    return list(
        IdentitySharing.objects.filter(referral__case=case)
        .select_related("referral__authority", "referral__body", "asked_by", "decided_by")
        .order_by("id")
    )
