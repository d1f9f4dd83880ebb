"""Who may see which cases is decided here and only here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.dateformat import format as date_format

from accounts.models import User
from audit.models import AuditEvent
from core.crypto import organisation_hash
from reports.models import Message, Report
from triage import workflow
from triage.deadlines import overdue_q
from triage.events import case_events, case_timeline_events
from triage.models import AuthorityAction, Case, Queue

PAGE_SIZES = (25, 50, 100)
SORTS = {
    "deadline": ("triage_due_at", "id"),
    "-deadline": ("-triage_due_at", "-id"),
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
}
LIST_FIELDS = (
    "case_number",
    "priority",
    "status",
    "created_at",
    "triage_due_at",
    "reporter_feedback_due_at",
    "independent_review",
    "queue__name",
    "queue__slug",
    "authority__name",
    "assignee__username",
    "report__reference",
    "report__concern_types",
)
# More than this many cases in a list is shown as "more than": counting a million rows on every page view
# would cost more than the page.
COUNT_CAP = 10_000


def case_queryset_for(user: User) -> QuerySet[Case]:
    """Every case this user may open. Helpline staff see all; an authority officer sees referrals to
    their own authorities, never a case about their own council; nobody else sees cases."""
    if user.is_helpline:
        return Case.objects.all()
    if user.role == User.Role.AUTHORITY_OFFICER:
        mine = user.authorities.values_list("pk", flat=True)
        return Case.objects.filter(authority__in=mine, referred_at__isnull=False, independent_review=False).exclude(
            conflict_authority__in=mine
        )
    return Case.objects.none()


def require_helpline(user: User) -> None:
    if not user.is_helpline:
        raise PermissionDenied


@dataclass(frozen=True)
class QueueSummary:
    queue: Queue
    open: int
    overdue: int
    due_today: int


def queue_overview(*, user: User) -> list[QueueSummary]:
    require_helpline(user)
    now = timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    counts = (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .values("queue")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=overdue_q(now)),
            due_today=Count(
                "id", filter=Q(status__in=workflow.IN_TRIAGE, triage_due_at__gte=now, triage_due_at__lte=end_of_day)
            ),
        )
    )
    by_queue = {
        row["queue"]: {"open": row["open"], "overdue": row["overdue"], "due_today": row["due_today"]} for row in counts
    }
    empty = {"open": 0, "overdue": 0, "due_today": 0}
    return [
        QueueSummary(
            queue=queue,
            open=by_queue.get(queue.pk, empty)["open"],
            overdue=by_queue.get(queue.pk, empty)["overdue"],
            due_today=by_queue.get(queue.pk, empty)["due_today"],
        )
        for queue in Queue.objects.order_by("kind", "name")
    ]


@dataclass(frozen=True)
class CaseFilters:
    queue: str = ""
    status: str = ""
    priority: str = ""
    authority: str = ""
    assignee: str = ""
    overdue: bool = False
    search: str = ""
    sort: str = "deadline"
    page: int = 1
    page_size: int = 50
    include_closed: bool = False


@dataclass
class CasePage:
    rows: list[dict[str, object]]
    page: int
    page_size: int
    has_next: bool
    filters: CaseFilters
    total: int = 0  # capped at COUNT_CAP + 1
    now: datetime = field(default_factory=timezone.now)


def case_list(*, user: User, filters: CaseFilters) -> CasePage:
    """One page of cases, and how many cases match (up to COUNT_CAP): two queries whatever the page, page
    size or filter."""
    require_helpline(user)
    now = timezone.now()
    cases = case_queryset_for(user)
    if filters.search:
        term = filters.search.strip().upper()
        # The reports first (by reference, or by organisation through its keyed hash: no name is stored in
        # clear to search), then the cases by their own indexes: an IN (subquery) here made PostgreSQL scan a
        # million cases.
        reports = Report.objects.filter(
            Q(reference=term) | Q(organisation_hash=organisation_hash(filters.search))
        ).values_list("pk", flat=True)[:COUNT_CAP]
        cases = cases.filter(Q(case_number=term) | Q(report_id__in=list(reports)))
    else:
        if not filters.include_closed and not filters.status:
            cases = cases.exclude(status=Case.Status.CLOSED)
        if filters.queue:
            cases = cases.filter(queue__slug=filters.queue)
        if filters.status:
            cases = cases.filter(status=filters.status)
        if filters.priority:
            cases = cases.filter(priority=filters.priority)
        if filters.authority == "unknown":
            cases = cases.filter(authority__isnull=True)
        elif filters.authority:
            cases = cases.filter(authority__gss_code=filters.authority)
        if filters.assignee == "none":
            cases = cases.filter(assignee__isnull=True)
        elif filters.assignee == "me":
            cases = cases.filter(assignee=user)
        elif filters.assignee:
            cases = cases.filter(assignee__username=filters.assignee)
        if filters.overdue:
            cases = cases.filter(overdue_q(now))
    page_size = filters.page_size if filters.page_size in PAGE_SIZES else 50
    page = max(1, min(filters.page, 10_000))
    offset = (page - 1) * page_size
    order = SORTS.get(filters.sort, SORTS["deadline"])
    # Pick the page's ids on the case table alone, then join only those rows (still one query).
    ids = cases.order_by(*order).values("pk")[offset : offset + page_size + 1]
    # Whether the reporter wrote last: a message the helpline has not answered yet.
    last_from = Message.objects.filter(report_id=OuterRef("report_id")).order_by("-id").values("direction")[:1]
    rows = list(
        Case.objects.filter(pk__in=ids)
        .order_by(*order)
        .annotate(last_message_from=Subquery(last_from))
        .values(*LIST_FIELDS, "last_message_from")
    )
    for row in rows:
        row["unread"] = row.pop("last_message_from") == Message.Direction.FROM_REPORTER
    total = cases.order_by().values("pk")[: COUNT_CAP + 1].count()
    return CasePage(
        rows=rows[:page_size],
        page=page,
        page_size=page_size,
        has_next=len(rows) > page_size,
        filters=filters,
        now=now,
        total=total,
    )


def case_get_for(*, user: User, case_number: str) -> Case:
    case = (
        case_queryset_for(user)
        .select_related(
            "report",
            "queue",
            "authority",
            "conflict_authority",
            "assignee",
            "report__local_authority",
            "report__about_authority",
        )
        .filter(case_number=case_number)
        .first()
    )
    if case is None:
        raise Http404
    return case


# Each view of a case's content is an audit event; the timeline leaves them out and the "Who has opened this
# case" panel counts them per person.
VIEWED = "content_viewed"


def case_timeline(*, case: Case, kind: str = "") -> list[AuditEvent]:
    """The case's events, and its report's (the phone call that brought the report in came before the case),
    but its views; only those of one kind when asked."""
    events = case_timeline_events(case).exclude(kind=VIEWED)
    if kind:
        events = events.filter(kind=kind)
    return list(events.select_related("actor").order_by("id"))


def case_timeline_kinds(*, case: Case) -> list[str]:
    """The kinds of event the case's timeline holds, in the order they first happened: the filter's choices."""
    kinds = case_timeline_events(case).exclude(kind=VIEWED).values_list("kind", flat=True).order_by("id")
    return list(dict.fromkeys(kinds))


def case_access_history(*, user: User, case: Case) -> list[dict[str, object]]:
    """Who opened the case's content, how often and when last, for supervisors only."""
    if not user.is_supervisor:
        return []
    rows = (
        case_events(case)
        .filter(kind=VIEWED)
        .values("actor__username")
        .annotate(views=Count("id"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-last")
    )
    return [dict(row) for row in rows]


def helpline_staff() -> QuerySet[User]:
    return User.objects.filter(role__in=[User.Role.CALL_HANDLER, User.Role.SUPERVISOR], is_active=True).order_by(
        "username"
    )


def require_authority_officer(user: User) -> None:
    if user.role != User.Role.AUTHORITY_OFFICER:
        raise PermissionDenied


REFERRAL_FIELDS = (
    "case_number",
    "status",
    "referred_at",
    "authority__name",
    "authority_ack_due_at",
    "authority_acknowledged_at",
    "authority_outcome_due_at",
    "authority_outcome_at",
    "escalated",
    "priority",
)


UNANSWERED = Q(authority_actions__kind=AuthorityAction.Kind.QUESTION, authority_actions__answered_at__isnull=True)


# --- the thread with the authority ---------------------------------------------------------------------


def unanswered_questions(case: Case) -> QuerySet[AuthorityAction]:
    return AuthorityAction.objects.filter(case=case, kind=AuthorityAction.Kind.QUESTION, answered_at__isnull=True)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def question_numbers(case: Case) -> dict[int, int]:
    """Each of the case's questions by id, numbered 1, 2, … in the order the authority asked them: the
    name both sides use for a question (its words are sealed)."""
    ids = AuthorityAction.objects.filter(case=case, kind=AuthorityAction.Kind.QUESTION).order_by("id")
    return {pk: number for number, pk in enumerate(ids.values_list("pk", flat=True), start=1)}


@dataclass(frozen=True)
class Thread:
    """A referral's thread as a page shows it: its questions in the order asked, and how many wait."""

    questions: list[AuthorityAction]
    unanswered: int


def thread_numbered(actions: list[AuthorityAction]) -> Thread:
    """Name the questions of a whole thread (every action of one case, already loaded) and the question
    each reply answers (``number``, ``answers``), numbered as ``question_numbers`` does, without a query."""
    questions = [action for action in actions if action.kind == AuthorityAction.Kind.QUESTION]
    numbers = {question.pk: number for number, question in enumerate(questions, start=1)}
    for action in actions:
        action.number = numbers.get(action.pk)  # type: ignore[attr-defined]
        action.answers = numbers.get(action.reply_to_id) if action.reply_to_id else None  # type: ignore[attr-defined]
    return Thread(questions=questions, unanswered=sum(1 for question in questions if question.answered_at is None))


def unanswered_question_choices(case: Case) -> list[tuple[str, str]]:
    """The case's unanswered questions as form choices, by number and when they were asked (the page
    shows their words above the form)."""
    numbers = question_numbers(case)
    return [
        (str(question.pk), f"Question {numbers[question.pk]}, asked {_when(question.created_at)}")
        for question in unanswered_questions(case).order_by("id")
    ]


def questions_waiting(*, user: User) -> list[dict[str, Any]]:
    """Helpline side: cases whose authority is waiting for an answer, oldest question first."""
    require_helpline(user)
    rows = (
        Case.objects.filter(UNANSWERED)
        .values("case_number", "authority__name")
        .annotate(questions=Count("authority_actions"), due=Min("authority_actions__answer_due_at"))
        .order_by("due", "case_number")[:200]
    )
    return [dict(row) for row in rows]


def referral_get_for(*, user: User, case_number: str) -> Case:
    require_authority_officer(user)
    return case_get_for(user=user, case_number=case_number)


# --- what a reporter may know ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReporterStatus:
    code: str
    label: str
    explanation: str


_REPORTER_STATUS: dict[str | None, tuple[str, str, str]] = {
    None: ("received", "Received", "We have your concern. It is being passed to the helpline team."),
    Case.Status.NEW: ("with_helpline", "With the helpline", "Your concern is in the helpline's queue."),
    Case.Status.IN_TRIAGE: ("with_helpline", "With the helpline", "A member of the helpline team is looking at it."),
    Case.Status.AWAITING_REPORTER: (
        "question_for_you",
        "The helpline has a question for you",
        "Please read the messages below and reply.",
    ),
    Case.Status.REFERRED: (
        "referred",
        "Passed to the local authority",
        "The helpline has referred your concern. It will tell you what the local authority does.",
    ),
    Case.Status.NATIONAL_REVIEW: (
        "national_review",
        "Under independent national review",
        "Your concern is being looked at independently of the council it is about.",
    ),
    Case.Status.CLOSED: ("closed", "Closed", "The helpline's feedback is in the messages below."),
}


def reporter_status(report: Report) -> ReporterStatus:
    """Where the reporter's concern is, in their words: never who holds it or what was decided."""
    status = Case.objects.filter(report=report).values_list("status", flat=True).first()
    code, label, explanation = _REPORTER_STATUS.get(status, _REPORTER_STATUS[None])
    return ReporterStatus(code=code, label=label, explanation=explanation)
