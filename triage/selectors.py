"""Who may see which cases is decided here and only here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg, StringAgg
from django.db import models
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import AuditEvent
from core.crypto import organisation_hashes
from core.identifiers import ALPHABET, normalise_reference
from core.timetrail import day_end
from directory.models import LocalAuthority
from reports.models import Attachment, Message, Report
from triage import workflow
from triage.case_content import CONTACT_REVEALED, DOWNLOADED
from triage.deadlines import overdue_q
from triage.events import case_events, case_timeline_events
from triage.facts import ETHNICITY_ANSWERS, NATIONALITY_ANSWERS, Setting
from triage.models import Case, CaseFacts, CaseLink, Queue

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
    scope = policy.case_scope(user)
    if scope is None:
        return Case.objects.all()
    # An officer's: the cases referred to them; what of each they may read is their referral's.
    return Case.objects.filter(scope).distinct()


def require_helpline(user: User) -> None:
    policy.require(user, Permission.HELPLINE_WORK)


@dataclass(frozen=True)
class QueueSummary:
    queue: Queue
    open: int
    overdue: int
    due_today: int
    # The soonest triage clock still running in the queue (overdue or not): the urgent queue shows the time
    # left on it, since "due today" says nothing about a 1-hour clock.
    next_due: datetime | None = None
    # Messages from reporters on the queue's open cases that nobody at the helpline has read yet.
    unread_messages: int = 0


def queue_overview(*, user: User) -> list[QueueSummary]:
    require_helpline(user)
    now = timezone.now()
    counts = (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .values("queue")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=overdue_q(now)),
            due_today=Count(
                "id", filter=Q(status__in=workflow.IN_TRIAGE, triage_due_at__gte=now, triage_due_at__lte=day_end(now))
            ),
            next_due=Min("triage_due_at", filter=Q(status__in=workflow.IN_TRIAGE)),
        )
    )
    by_queue: dict[int, dict[str, Any]] = {row["queue"]: dict(row) for row in counts}
    unread = dict(
        unread_reporter_messages()
        .filter(report__case__status__in=OPEN_STATUSES)
        .values("report__case__queue")
        .annotate(unread=Count("id"))
        .values_list("report__case__queue", "unread")
    )
    return [
        QueueSummary(
            queue=queue,
            open=row.get("open", 0),
            overdue=row.get("overdue", 0),
            due_today=row.get("due_today", 0),
            next_due=row.get("next_due"),
            unread_messages=unread.get(queue.pk, 0),
        )
        for queue in Queue.objects.order_by("kind", "name")
        for row in [by_queue.get(queue.pk, {})]
    ]


OPEN_STATUSES = [status for status in Case.Status.values if status != Case.Status.CLOSED]


def unread_reporter_messages() -> QuerySet[Message]:
    """Reporters' messages nobody at the helpline has read yet (the few in reports_msg_unread_helpline)."""
    return Message.objects.filter(direction=Message.Direction.FROM_REPORTER, read_by_helpline_on__isnull=True)


def _unread_count() -> Coalesce:
    """How many of the case's reporter messages nobody at the helpline has read yet."""
    per_report = (
        unread_reporter_messages()
        .filter(report_id=OuterRef("report_id"))
        .order_by()
        .values("report_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(per_report), 0)


def _reporter_read_last() -> Subquery:
    """Whether the reporter has read the helpline's last message on the case (yes or no, never when); null
    when the helpline has not written to them."""
    sent = Message.objects.filter(report_id=OuterRef("report_id"), direction=Message.Direction.FROM_HELPLINE)
    return Subquery(sent.order_by("-id").values("read_by_reporter")[:1])


def _last_message_from() -> Subquery:
    """Who wrote the case's last message with the reporter (for "New message": the reporter wrote last,
    the helpline has not answered yet)."""
    return Subquery(Message.objects.filter(report_id=OuterRef("report_id")).order_by("-id").values("direction")[:1])


# How many cases each list on the helpline's home page shows (the counts are whole).
HOME_LIST_SIZE = 20


@dataclass(frozen=True)
class HelplineWork:
    """The helpline's home page beside its queues: the user's own open cases, the open cases whose reporter
    wrote last, and those whose authority has recorded its outcome, so the reporter's feedback (given by
    closing the case) is what is left to do."""

    assigned_to_me: int
    new_messages: int
    feedback_due: int
    new_message_cases: list[dict[str, Any]]
    feedback_due_cases: list[dict[str, Any]]


def _unanswered_reporter_messages() -> QuerySet[Message]:
    """The last message of each open case when the reporter wrote it: a reporter's message with none after
    it. A join rather than a lookup per open case, so that PostgreSQL starts from whichever side is smaller
    (at a million cases, 100,000 open cases and few messages: the messages; with many messages and few open
    cases, the cases), reading "who wrote last" from the message index alone."""
    later = Message.objects.filter(report_id=OuterRef("report_id"), id__gt=OuterRef("id"))
    open_statuses = [status for status in Case.Status.values if status != Case.Status.CLOSED]
    return Message.objects.filter(
        ~Exists(later), direction=Message.Direction.FROM_REPORTER, report__case__status__in=open_statuses
    )


def _listed(rows: list[dict[str, Any]], extra: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The case rows (each with its "id") in the order of ``extra`` (case id → more values for it): the
    few listed cases read on their own keeps what only they show out of the pass over every candidate."""
    found = {row.pop("id"): row for row in rows}
    return [{**found[pk], **values} for pk, values in extra.items() if pk in found]


# A referral's status once its authority recorded the outcome, and while it is open (referrals.models).
OUTCOME_RECORDED = "outcome_recorded"
REFERRAL_OPEN = ("awaiting_acknowledgement", "acknowledged")


def done_with_authorities() -> QuerySet[Case, Any]:
    """The ids of cases done with their authorities: every referral has an outcome (or was withdrawn), at
    least one an outcome, so the reporter's feedback is what is left."""
    return (
        Case.objects.filter(referrals__status=OUTCOME_RECORDED)
        .exclude(referrals__status__in=REFERRAL_OPEN)
        .values("pk")
    )


def referral_outcome_labels() -> dict[str, str]:
    """What an authority may record, by code: the choices of the referral's outcome field (the model is in
    the layer above; its field is read through the case's relation)."""
    field = cast("models.Field[Any, Any]", Case._meta.get_field("referrals").related_model._meta.get_field("outcome"))
    return {str(code): str(label) for code, label in field.choices or []}


def helpline_work(*, user: User) -> HelplineWork:
    """The plain counts and each list's first HOME_LIST_SIZE cases with its whole count. No query looks up
    each open case's messages one by one: at a million cases that was a second, much of it PostgreSQL
    compiling the query (its cost estimate passed the JIT threshold)."""
    require_helpline(user)
    open_cases = Case.objects.exclude(status=Case.Status.CLOSED)
    # Through the assignee's index, intersected with the open cases': no pass over every open case.
    assigned_to_me = open_cases.filter(assignee=user).count()
    fields = ("case_number", "status", "priority", "assignee__username", "reporter_feedback_due_at")
    waiting = list(
        _unanswered_reporter_messages()
        .annotate(total=Window(Count("id")))
        .order_by("id")
        .values("id", "report__case__id", "sent_on", "total")[:HOME_LIST_SIZE]
    )
    new_message_cases = _listed(
        list(Case.objects.filter(id__in=[w["report__case__id"] for w in waiting]).values("id", *fields)),
        {
            w["report__case__id"]: {"waiting": w["id"], "last_message_on": w["sent_on"], "total": w["total"]}
            for w in waiting
        },
    )
    done = open_cases.filter(pk__in=done_with_authorities())
    recorded = Q(referrals__status=OUTCOME_RECORDED)
    feedback_due_cases = list(
        done.values(*fields)
        .annotate(
            # Who recorded each outcome: an authority, or the independent review team (a national body).
            authorities=StringAgg(
                Coalesce("referrals__authority__name", "referrals__body__name"),
                ", ",
                filter=recorded,
                order_by="referrals__id",
            ),
            outcomes=ArrayAgg("referrals__outcome", filter=recorded, order_by="referrals__id"),
        )
        .order_by("reporter_feedback_due_at", "case_number")[:HOME_LIST_SIZE]
    )
    feedback_due = done.count() if len(feedback_due_cases) == HOME_LIST_SIZE else len(feedback_due_cases)
    outcomes = referral_outcome_labels()
    statuses = dict(Case.Status.choices)
    for row in new_message_cases + feedback_due_cases:
        row["status_label"] = statuses.get(row["status"], row["status"])
        if "outcomes" in row:
            row["authority__name"] = row.pop("authorities")
            row["outcome_label"] = "; ".join(outcomes.get(code, code) for code in row.pop("outcomes"))
    return HelplineWork(
        assigned_to_me=assigned_to_me,
        new_messages=waiting[0]["total"] if waiting else 0,
        feedback_due=feedback_due,
        new_message_cases=new_message_cases,
        feedback_due_cases=feedback_due_cases,
    )


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


# The least of a reference or case number (once spaces and hyphens are dropped) that is searched as the start
# of one: half a reference ("HX7K", 1 in 456,976 references), and a year with two more characters ("2026-K7",
# 1 in 676 of that year's cases: a year alone would name every case of the year).
MIN_REFERENCE_PREFIX = 4
MIN_CASE_NUMBER_PREFIX = 2  # characters after the year
CASE_NUMBER_LENGTH = len("2026-K7M3QX")


def _identifier_characters(text: str) -> str:
    """What /check reads of a typed reference (core.identifiers.normalise_reference): letters and digits,
    upper case; spaces, hyphens and anything else dropped."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def reference_prefix(text: str) -> str | None:
    """A whole reference or the start of one (at least MIN_REFERENCE_PREFIX characters), written as references
    are stored ("9vna2hrg" → "9VNA-2HRG", "hx7k 2" → "HX7K-2"); None when it cannot start a reference."""
    chars = _identifier_characters(text)
    if not MIN_REFERENCE_PREFIX <= len(chars) <= 8 or any(ch not in ALPHABET for ch in chars):
        return None
    return chars[:4] + (f"-{chars[4:]}" if len(chars) > 4 else "")


def case_number_prefix(text: str) -> str | None:
    """A whole case number or the start of one: its year and at least MIN_CASE_NUMBER_PREFIX more characters
    ("2026k7" → "2026-K7"); None when it cannot start a case number."""
    chars = _identifier_characters(text)
    year, rest = chars[:4], chars[4:]
    if not MIN_CASE_NUMBER_PREFIX <= len(rest) <= 6 or not (year.isascii() and year.isdigit()):
        return None
    if any(ch not in ALPHABET for ch in rest):
        return None
    return year + (f"-{rest}" if rest else "")


def _search_report_ids(search: str) -> list[int]:
    """The reports a search names, in one query: by the start of a reference or a case number (normalised
    as /check does, through their LIKE 'PREFIX%' indexes), or by an organisation's whole name through its
    keyed hash (no name is stored in clear to search), under every configured HMAC key so that a search finds
    reports not yet re-hashed during a rotation. At most COUNT_CAP of each. The case list then picks its cases
    by report: an IN (subquery) of cases here made PostgreSQL scan a million cases."""
    by_report = Q(organisation_hash__in=organisation_hashes(search))
    if reference := reference_prefix(search):
        by_report |= Q(reference__startswith=reference)
    reports = Report.objects.filter(by_report).order_by().values_list("pk", flat=True)[:COUNT_CAP]
    if number := case_number_prefix(search):
        by_case = Case.objects.filter(case_number__startswith=number).order_by().values_list("report_id", flat=True)
        reports = reports.union(by_case[:COUNT_CAP], all=True)
    return list(reports)


def case_list(*, user: User, filters: CaseFilters) -> CasePage:
    """One page of cases, and how many cases match (up to COUNT_CAP): two queries whatever the page, page
    size or filter. Each row says whether the case has possible duplicates (possible_duplicates_exist)."""
    require_helpline(user)
    now = timezone.now()
    cases = cases_filtered(user=user, filters=filters, now=now)
    page_size = filters.page_size if filters.page_size in PAGE_SIZES else 50
    page = max(1, min(filters.page, 10_000))
    offset = (page - 1) * page_size
    order = SORTS.get(filters.sort, SORTS["deadline"])
    # Pick the page's ids on the case table alone, then join only those rows (still one query).
    ids = cases.order_by(*order).values("pk")[offset : offset + page_size + 1]
    # Whether the reporter wrote last: a message the helpline has not answered yet.
    rows = list(
        Case.objects.filter(pk__in=ids)
        .order_by(*order)
        .annotate(
            last_message_from=_last_message_from(),
            unread_messages=_unread_count(),
            reporter_read_last=_reporter_read_last(),
            possible_duplicate=possible_duplicates_exist(user),
        )
        .values(*LIST_FIELDS, "last_message_from", "unread_messages", "reporter_read_last", "possible_duplicate")
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


def cases_filtered(*, user: User, filters: CaseFilters, now: datetime | None = None) -> QuerySet[Case]:
    """The cases the case list's filter matches among those ``user`` may open (unordered): the list's pages,
    and what "select all the cases matching this filter" selects for bulk triage."""
    require_helpline(user)
    now = now or timezone.now()
    cases = case_queryset_for(user)
    if filters.search:
        named = [report_id for report_id in _search_report_ids(filters.search) if report_id is not None]
        # A search that names no report still runs the page's two queries, which find nothing (an empty IN
        # would skip them): every search costs the same number of queries.
        found = Q(report_id__in=named) if named else Q(pk__lt=0)
        if number := case_number_prefix(filters.search):
            # A national review case has no report: found by its own number.
            found |= Q(kind=Case.Kind.PATTERN_REVIEW, case_number__startswith=number)
        cases = cases.filter(found)
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
    return cases


# --- possible duplicates ------------------------------------------------------------------------------------
#
# Two reports are possible duplicates when they name the same organisation (its keyed hash: no name is kept in
# clear), their cases have the same authority and the same concern types (as sets), and they were received within
# DUPLICATE_WINDOW_DAYS of each other (received dates are days only). What the reporters wrote is never compared.
# Cases already linked to each other are not offered again.


def _duplicate_window() -> timedelta:
    return timedelta(days=settings.DUPLICATE_WINDOW_DAYS)


def possible_duplicates_exist(user: User) -> Exists:
    """An annotation for a case queryset: whether the case has a possible duplicate among the cases ``user``
    may open (one subquery, so the case list stays at its two queries)."""
    window = _duplicate_window()
    linked = CaseLink.objects.filter(case_id=OuterRef(OuterRef("pk")), other_id=OuterRef("pk"))
    return Exists(
        case_queryset_for(user)
        .filter(
            report__organisation_hash__gt="",
            report__organisation_hash=OuterRef("report__organisation_hash"),
            authority_id=OuterRef("authority_id"),
            report__concern_types__contains=OuterRef("report__concern_types"),
            report__concern_types__contained_by=OuterRef("report__concern_types"),
            report__submitted_at__gte=OuterRef("report__submitted_at") - window,
            report__submitted_at__lte=OuterRef("report__submitted_at") + window,
        )
        .exclude(pk=OuterRef("pk"))
        .exclude(Exists(linked))
    )


def possible_duplicates(*, user: User, case: Case) -> list[Case]:
    """The possible duplicates of ``case`` among the cases ``user`` may open, oldest first (one query)."""
    report = case.report
    if report is None or not report.organisation_hash or case.authority_id is None:
        return []
    window = _duplicate_window()
    linked = CaseLink.objects.filter(case_id=case.pk).values("other_id")
    return list(
        case_queryset_for(user)
        .filter(
            report__organisation_hash=report.organisation_hash,
            authority_id=case.authority_id,
            report__concern_types__contains=report.concern_types,
            report__concern_types__contained_by=report.concern_types,
            report__submitted_at__gte=report.submitted_at - window,
            report__submitted_at__lte=report.submitted_at + window,
        )
        .exclude(pk=case.pk)
        .exclude(pk__in=linked)
        .select_related("report")
        .order_by("report__submitted_at", "pk")[:50]
    )


def case_by_identifier(*, user: User, text: str) -> Case | None:
    """The case a person names by its whole case number or its report's whole reference, typed as people
    type them ("2026-k7m3qx", "9vna2hrg": normalised as /check does), among the cases ``user`` may see."""
    number = case_number_prefix(text)
    reference = normalise_reference(text)
    if number is not None and len(number) == CASE_NUMBER_LENGTH:
        named = Q(case_number=number)
    elif reference is not None:
        named = Q(report__reference=reference)
    else:
        return None
    return case_queryset_for(user).filter(named).first()


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
# case" panel counts them per person. So are downloads of its files, which the panel lists one by one, and
# showings of the reporter's contact details, listed with their reasons (supervisors see both panels).
VIEWED = "content_viewed"
NOT_ON_THE_TIMELINE = (VIEWED, DOWNLOADED, CONTACT_REVEALED)


def case_timeline(*, case: Case, kind: str = "") -> list[AuditEvent]:
    """The case's events, and its report's (the phone call that brought the report in came before the case),
    but its views and downloads; only those of one kind when asked."""
    events = case_timeline_events(case).exclude(kind__in=NOT_ON_THE_TIMELINE)
    if kind:
        events = events.filter(kind=kind)
    return list(events.select_related("actor").order_by("id"))


def case_timeline_kinds(*, case: Case) -> list[str]:
    """The kinds of event the case's timeline holds, in the order they first happened: the filter's choices."""
    kinds = (
        case_timeline_events(case).exclude(kind__in=NOT_ON_THE_TIMELINE).values_list("kind", flat=True).order_by("id")
    )
    return list(dict.fromkeys(kinds))


def case_access_history(*, user: User, case: Case) -> list[dict[str, object]]:
    """Who opened the case's content, how often and when last, for supervisors only."""
    if not policy.may(user, Permission.CASE_ACCESS_HISTORY):
        return []
    rows = (
        case_events(case)
        .filter(kind=VIEWED)
        .values("actor__username")
        .annotate(views=Count("id"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-last")
    )
    return [dict(row) for row in rows]


def case_contact_reveals(*, user: User, case: Case) -> list[AuditEvent]:
    """Every time a member of staff showed the reporter's contact details, newest first, with who, why and
    which details: for supervisors only (CASE_ACCESS_HISTORY)."""
    if not policy.may(user, Permission.CASE_ACCESS_HISTORY):
        return []
    return list(case_events(case).filter(kind=CONTACT_REVEALED).select_related("actor").order_by("-id"))


def case_file_downloads(*, user: User, case: Case) -> list[AuditEvent]:
    """Every download and preview of the case's files, newest first, with who: for supervisors only (the
    helpline's and the authorities' alike)."""
    if not policy.may(user, Permission.CASE_ACCESS_HISTORY):
        return []
    return list(case_events(case).filter(kind=DOWNLOADED).select_related("actor").order_by("-id"))


def case_file_get(*, user: User, case: Case, public_id: uuid.UUID | str) -> Attachment:
    """A file of a case the user may open (found through triage.selectors.case_get_for), by its id; 404
    when it is not the case's, or not one the user may open (accounts.policy.attachment_scope)."""
    if case.report_id is None:  # a national review case has no report, so no files
        raise Http404("No such file")
    files = Attachment.objects.filter(report_id=case.report_id, public_id=public_id)
    scope = policy.attachment_scope(user)
    if scope is not None:
        files = files.filter(scope).distinct()
    attachment = files.first()
    if attachment is None:
        raise Http404
    return attachment


def helpline_staff() -> QuerySet[User]:
    return policy.holders(Permission.HELPLINE_WORK).order_by("username")


# The thread with an authority (referrals.models.AuthorityAction, in the layer above, read through the
# case): a question waits until the helpline replies.
QUESTION = "question"
UNANSWERED = Q(authority_actions__kind=QUESTION, authority_actions__answered_at__isnull=True)


@dataclass(frozen=True)
class Thread:
    """A referral's thread as a page shows it: its questions in the order asked, and how many wait."""

    questions: list[Any]
    unanswered: int


def thread_numbered(actions: list[Any]) -> Thread:
    """Name the questions of a whole thread (every action of one referral, already loaded) and the question
    each reply answers (``number``, ``answers``), numbered as referrals.selectors.question_numbers does,
    without a query."""
    questions = [action for action in actions if action.kind == QUESTION]
    numbers = {question.pk: number for number, question in enumerate(questions, start=1)}
    for action in actions:
        action.number = numbers.get(action.pk)  # type: ignore[attr-defined]
        action.answers = numbers.get(action.reply_to_id) if action.reply_to_id else None  # type: ignore[attr-defined]
    return Thread(questions=questions, unanswered=sum(1 for question in questions if question.answered_at is None))


def questions_waiting(*, user: User) -> list[dict[str, Any]]:
    """Helpline side: cases whose authority is waiting for an answer, oldest question first, with who asked
    (``asked_by``: the authorities or national bodies whose referrals' questions wait)."""
    require_helpline(user)
    rows = (
        Case.objects.filter(UNANSWERED)
        .values("case_number")
        .annotate(
            asked_by=StringAgg(
                Coalesce("authority_actions__referral__authority__name", "authority_actions__referral__body__name"),
                ", ",
                distinct=True,
            ),
            questions=Count("authority_actions"),
            due=Min("authority_actions__answer_due_at"),
        )
        .order_by("due", "case_number")[:200]
    )
    return [dict(row) for row in rows]


# --- what a reporter may know ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReporterStatus:
    code: str
    label: str
    explanation: str
    # What the reporter is waiting for, to the day (never a time): the authority's outcome, while the case is
    # referred and the authority has not recorded one, and the helpline's feedback, while the case is open.
    outcome_due_on: date | None = None
    feedback_due_on: date | None = None
    # The helpline's last message asks the reporter something (ask_reporter, or an authority's question
    # relayed) and the reporter has not written since.
    question_waiting: bool = False
    # The day a closed case was last reopened, while it is open again.
    reopened_on: date | None = None
    # Under independent review: the review team's findings are due by this day.
    under_review: bool = False
    # How far the review has gone, each to the day: the helpline sent the concern to the review team, the
    # team acknowledged it, the team recorded its findings (never what they are: the helpline tells them).
    review_sent_on: date | None = None
    review_acknowledged_on: date | None = None
    review_findings_on: date | None = None
    # Who else the concern was passed to, in the reporter's words ("Ofsted", "the police"): by the helpline,
    # and by the independent review. Never a named force or officer, never a reference.
    passed_on: tuple[str, ...] = ()
    review_passed_on: tuple[str, ...] = ()


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
        "The helpline has sent your concern to the independent national review team, which does not work for "
        "the council it is about. The team looks at what happened and records its findings. It can pass your "
        "concern on to Ofsted, the police or the Child Safeguarding Practice Review Panel. Nobody at the "
        "council sees your concern.",
    ),
    Case.Status.CLOSED: ("closed", "Closed", "The helpline's feedback is in the messages below."),
}
# Under review, once the team has recorded its findings (what they are is the helpline's to tell).
_REVIEW_FINDINGS_RECORDED = (
    "The helpline sent your concern to the independent national review team, which does not work for the "
    "council it is about. The team has looked at what happened and recorded its findings. It can pass your "
    "concern on to Ofsted, the police or the Child Safeguarding Practice Review Panel. Nobody at the council "
    "sees your concern."
)


# National bodies a concern was passed to, as the reporter reads them (directory.models.NationalBody.Kind).
_BODIES_FOR_REPORTER = {
    "ofsted": "Ofsted",
    "cqc": "the Care Quality Commission",
    "police_force": "the police",
    "cspr_panel": "the Child Safeguarding Practice Review Panel",
}
_PASSED_ON = "sent"  # referrals.models.Referral.Status.SENT
_REVIEW_TEAM = "review_team"  # directory.models.NationalBody.Kind.REVIEW_TEAM


def _bodies(kinds: list[str] | None) -> tuple[str, ...]:
    return tuple(_BODIES_FOR_REPORTER[kind] for kind in sorted(set(kinds or [])) if kind in _BODIES_FOR_REPORTER)


# The actions whose message to the reporter asks for an answer.
_ASKING_THE_REPORTER = ("ask_reporter", "relay_to_reporter")


def _day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def reporter_status(report: Report) -> ReporterStatus:
    """Where the reporter's concern is, in their words: never who holds it or what was decided, only which
    kind of national body it was passed to (Ofsted, the police …), closed or not. At most five queries: the
    case (with its referrals' due dates and bodies), the last message, whether it asked something, the last
    reopening and, under independent review, how far the review has gone."""
    case = (
        Case.objects.filter(report=report)
        .only("status", "reporter_feedback_due_at")
        .annotate(
            outcome_due=Max("referrals__outcome_due_at", filter=Q(referrals__status__in=REFERRAL_OPEN)),
            passed_on=ArrayAgg(
                "referrals__body__kind",
                filter=Q(referrals__status=_PASSED_ON, referrals__referred_from__isnull=True),
                default=[],
            ),
            review_passed_on=ArrayAgg(
                "referrals__body__kind",
                filter=Q(referrals__status=_PASSED_ON, referrals__referred_from__isnull=False),
                default=[],
            ),
        )
        .first()
    )
    code, label, explanation = _REPORTER_STATUS.get(case.status if case else None, _REPORTER_STATUS[None])
    if case is None:
        return ReporterStatus(code=code, label=label, explanation=explanation)
    # Who else has the concern stays true once the case is closed.
    passed_on = _bodies(getattr(case, "passed_on", None))
    review_passed_on = _bodies(getattr(case, "review_passed_on", None))
    if case.status == Case.Status.CLOSED:
        return ReporterStatus(
            code=code, label=label, explanation=explanation, passed_on=passed_on, review_passed_on=review_passed_on
        )
    events = case_events(case)
    last = Message.objects.filter(report=report).order_by("-id").values("id", "direction").first()
    # The case waits for the reporter, or the helpline asked after the referral (the status stays); either way
    # only until the reporter writes (their reply reaches the case through the outbox, a moment later).
    question_waiting = (
        last is not None
        and last["direction"] == Message.Direction.FROM_HELPLINE
        and (
            case.status == Case.Status.AWAITING_REPORTER
            or events.filter(kind__in=_ASKING_THE_REPORTER, detail__message_id=last["id"]).exists()
        )
    )
    # The latest an open referral's outcome is due: the reporter hears when every authority has answered.
    outcome_due: datetime | None = getattr(case, "outcome_due", None)
    under_review = case.status == Case.Status.NATIONAL_REVIEW
    outcome_awaited = (case.status == Case.Status.REFERRED or under_review) and outcome_due is not None
    reopened = events.filter(kind="reopen").order_by("-id").values_list("created_at", flat=True).first()
    # The case's latest referral to the review team (an earlier one was withdrawn when the case was closed).
    review = (
        case.referrals.filter(body__kind=_REVIEW_TEAM)
        .only("referred_at", "acknowledged_at", "outcome_at")
        .order_by("-id")
        .first()
        if under_review
        else None
    )
    if review is not None and review.outcome_at:
        explanation = _REVIEW_FINDINGS_RECORDED
    return ReporterStatus(
        code=code,
        label=label,
        explanation=explanation,
        outcome_due_on=_day(outcome_due) if outcome_awaited else None,
        feedback_due_on=_day(case.reporter_feedback_due_at),
        question_waiting=question_waiting,
        reopened_on=_day(reopened),
        under_review=under_review,
        review_sent_on=_day(review.referred_at) if review else None,
        review_acknowledged_on=_day(review.acknowledged_at) if review else None,
        review_findings_on=_day(review.outcome_at) if review else None,
        passed_on=passed_on,
        review_passed_on=review_passed_on,
    )


@dataclass(frozen=True)
class AuthorityReach:
    """Who an email about a referral to ``authority`` would reach: its referral inbox and its active
    officers with an address (as referrals.notifications.authority_tell sends)."""

    name: str
    inbox: str
    officers: int

    @property
    def reachable(self) -> bool:
        return bool(self.inbox) or self.officers > 0


def authority_reach(authority: LocalAuthority) -> AuthorityReach:
    officers = authority.officers.filter(is_active=True).exclude(email="").count()
    return AuthorityReach(name=authority.name, inbox=authority.referral_email, officers=officers)


def authorities_unreached() -> dict[str, int]:
    """For the health page and the administration list: how many authorities have no referral inbox, and
    how many of those have no active officer with an address either (a referral reaches nobody)."""
    officer = User.objects.filter(authorities=OuterRef("pk"), is_active=True).exclude(email="")
    no_inbox = LocalAuthority.objects.filter(referral_email="")
    return {
        "authorities": LocalAuthority.objects.count(),
        "without_inbox": no_inbox.count(),
        "unreached": no_inbox.filter(~Exists(officer)).count(),
    }


def case_facts_shown(*, case: Case) -> list[tuple[str, str]]:
    """What is recorded about the case for the national picture, as the case page lists it (helpline staff
    only: partnerships and oversight see these only in suppressed totals, oversight.selectors)."""
    facts = CaseFacts.objects.select_related("placing_authority").filter(case=case).first() or CaseFacts(case=case)
    not_known = "Not known"

    def counts(mapping: dict[str, int], answers: tuple[tuple[str, str], ...]) -> str:
        return "; ".join(f"{label}: {mapping[code]}" for code, label in answers if mapping.get(code)) or not_known

    placed = facts.get_placed_out_of_area_display()
    if facts.placing_authority is not None:
        placed = f"{placed}, by {facts.placing_authority.name}"
    labels = dict(Setting.choices)
    return [
        ("Ofsted's classification", facts.get_ofsted_class_display() or not_known),
        ("Group-based (more than one perpetrator)", facts.get_group_based_display()),
        ("Settings", "; ".join(str(labels.get(code, code)) for code in facts.settings) or not_known),
        ("Looked after", facts.get_looked_after_display()),
        ("Placed out of area", placed),
        ("Missing episodes", facts.get_missing_episodes_display()),
        ("Suspects", not_known if facts.suspects is None else str(facts.suspects)),
        ("Suspects by ethnicity", counts(facts.suspect_ethnicity, ETHNICITY_ANSWERS)),
        ("Suspects by nationality", counts(facts.suspect_nationality, NATIONALITY_ANSWERS)),
    ]
