"""Urgent pages by SMS: who is paged about an urgent case, when, and how it falls through to the next person.

An urgent case still in triage and unclaimed pages the primary on call (rota) at once outside the office hours
(core.office_hours), or after 15 minutes inside them. Nobody says "I'm dealing with it" (the acknowledge_page
action, triage.case_actions) within 15 minutes: the secondary is paged; 15 minutes later (30 after the first),
the duty manager (DUTY_MANAGER_PHONE). A text Notify reports as failed falls through at once, as does a level
the rota leaves empty.

Each page is a Page row with its deadline, committed with its SMS's outbox row (notify.sms); the sweeper
(triage.escalations.deadlines_sweep, every minute) finds what is due. Nothing waits in Celery. Times are
exact while the urgent clock runs; once somebody is dealing with it, or the case leaves triage, the pages and
their texts keep the day only (``pages_settle``). The timeline's events carry the day only from the start:
the trail cannot be rewritten later, and a page's time is the time the reporter pressed Send.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from core import flood
from core.office_hours import helpline_hours
from core.timetrail import day_start, reporter_paced
from notify import sms
from notify.models import Notification
from reports.models import URGENT_TRIAGE
from rota.selectors import on_call_at
from triage.events import case_event
from triage.models import Case, Page
from triage.notifications import email_queue
from triage.workflow import IN_TRIAGE

# Inside office hours, an urgent case nobody has claimed this long after its clock started is paged.
UNCLAIMED_FOR = timedelta(minutes=15)
# Each page waits this long for somebody to say they are dealing with it before the next person is paged.
ANSWER_WITHIN = timedelta(minutes=15)
# A clock this long past its deadline is no longer paged for the first time (e.g. cases from before paging).
PAGE_WINDOW = timedelta(hours=12)
LEVELS = (Page.Level.PRIMARY, Page.Level.SECONDARY, Page.Level.DUTY_MANAGER)
CASE = "case"
# The window key (core.flood.once_per_window) of first pages during a flood.
PAGE_IN_A_FLOOD = "paging-in-a-flood"


def _running() -> QuerySet[Case]:
    """Urgent cases whose urgent clock runs (still in triage)."""
    return Case.objects.filter(priority=Case.Priority.URGENT, status__in=IN_TRIAGE)


def _who(level: str, now: datetime) -> tuple[User | None, str]:
    """The person (None for the duty manager) and phone number to page at ``level`` now ("" for nobody)."""
    if level == Page.Level.DUTY_MANAGER:
        return None, settings.DUTY_MANAGER_PHONE
    on_call = on_call_at(now)
    shift = on_call.primary if level == Page.Level.PRIMARY else on_call.secondary
    return (shift.person, shift.phone) if shift is not None else (None, "")


def page_send(*, case: Case, level: str, now: datetime | None = None) -> Page | None:
    """Page ``level`` about ``case``, once (the unique constraint decides between racing sweepers): the Page
    row, its SMS and outbox row, and the timeline's event commit together. When the level has nobody to page,
    the row says so and its deadline is now, so the next level is paged at once. None if already paged."""
    now = now or timezone.now()
    person, phone = _who(level, now)
    deadline = now + ANSWER_WITHIN if phone else now
    try:
        with transaction.atomic():
            page = Page.objects.create(
                case=case, level=level, person=person, phone=phone, sent_at=now, deadline=deadline
            )
            if phone:
                # The text says only "Urgent concern waiting — sign in to the helpline workspace" (notify.sms).
                page.notification = sms.sms_queue(
                    phone=phone, template=sms.PAGE, subject_kind=CASE, subject_id=case.pk, occasion=f"page-{level}"
                )
                page.save(update_fields=["notification"])
            with reporter_paced():
                if level == Page.Level.DUTY_MANAGER and settings.DUTY_MANAGER_EMAIL:
                    # The duty manager hears by email too (the urgent-case alert), for the record.
                    email_queue(
                        case=case,
                        recipient=settings.DUTY_MANAGER_EMAIL,
                        template="urgent_case",
                        occasion=f"page-{level}",
                    )
                case_event(
                    kind="page_sent" if phone else "page_nobody",
                    case=case,
                    detail={
                        "level": level,
                        "person": getattr(person, "pk", None),
                        # The deadline this page answers (the urgent clock's), and its own: the day only.
                        "triage_deadline": day_start(case.triage_due_at).isoformat(),
                        "deadline": day_start(deadline).isoformat(),
                    },
                )
    except IntegrityError:
        return None
    return page


def page_failed(page: Page) -> bool:
    """Whether the page reached nobody: no one at its level, or Notify gave up on its text."""
    if not page.phone:
        return True
    notification = page.notification
    return notification is not None and notification.state == Notification.State.FAILED


def page_due_next(page: Page, now: datetime) -> bool:
    return page.deadline <= now or page_failed(page)


def _first_pages(now: datetime, limit: int) -> int:
    hours = helpline_hours(now)
    cases = (
        _running()
        .filter(assignee__isnull=True, triage_due_at__gt=now - PAGE_WINDOW)
        .exclude(Exists(Page.objects.filter(case=OuterRef("pk"))))
    )
    if hours.open_now:
        # Inside office hours: only once the clock has run UNCLAIMED_FOR (it started an hour before its due).
        cases = cases.filter(triage_due_at__lte=now + URGENT_TRIAGE - UNCLAIMED_FOR)
    due = cases.order_by("triage_due_at", "id")[:limit]
    if flood.flood_on():
        # A flood (triage.flood): the urgent alerts go out as a digest every DIGEST_MINUTES, and so do pages:
        # the first urgent case pages at once, then one page per digest window, never one per case.
        if not due or not flood.once_per_window(PAGE_IN_A_FLOOD, settings.DIGEST_MINUTES * 60):
            return 0
        due = due[:1]
    taken = 0
    for case in due:
        if page_send(case=case, level=Page.Level.PRIMARY, now=now) is not None:
            taken += 1
    return taken


def _next_pages(now: datetime, limit: int) -> int:
    """Fall through: each case whose last page is past its deadline (or failed) pages the next level."""
    acknowledged = Page.objects.filter(case=OuterRef("pk"), acknowledged_at__isnull=False)
    waiting = Page.objects.filter(case=OuterRef("pk"), acknowledged_at__isnull=True, day_only=False)
    cases = _running().filter(Exists(waiting)).exclude(Exists(acknowledged)).order_by("id")[:limit]
    taken = 0
    for case in cases:
        pages = {p.level: p for p in Page.objects.filter(case=case).select_related("notification")}
        last = max(pages.values(), key=lambda p: LEVELS.index(Page.Level(p.level)))
        index = LEVELS.index(Page.Level(last.level))
        if index + 1 >= len(LEVELS) or not page_due_next(last, now):
            continue
        if page_send(case=case, level=LEVELS[index + 1], now=now) is not None:
            taken += 1
    return taken


def pages_settle(case: Case) -> int:
    """Keep the day only of a case's pages and their texts: its urgent clock is met, or somebody is dealing
    with it (texts not yet sent are cancelled). How many pages were settled."""
    pages = list(Page.objects.filter(case=case, day_only=False))
    for page in pages:
        page.sent_at = day_start(page.sent_at)
        page.deadline = day_start(page.deadline)
        page.acknowledged_at = day_start(page.acknowledged_at) if page.acknowledged_at else None
        page.day_only = True
    if pages:
        Page.objects.bulk_update(pages, ["sent_at", "deadline", "acknowledged_at", "day_only"])
        sms.sms_settle(subject_kind=CASE, subject_id=case.pk)
    return len(pages)


def _settle_finished(limit: int) -> int:
    """Pages of cases whose urgent clock stopped (claimed and moved on, referred, made standard, closed)."""
    running = _running().filter(pk=OuterRef("case_id"))
    case_ids = (
        Page.objects.filter(day_only=False)
        .exclude(Exists(running))
        .values_list("case_id", flat=True)
        .distinct()[:limit]
    )
    settled = 0
    for case in Case.objects.filter(pk__in=list(case_ids)):
        settled += pages_settle(case)
    return settled


def paging_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send what is due: first pages, pages that fall through, and settle the times of finished ones."""
    now = now or timezone.now()
    taken = _first_pages(now, limit) + _next_pages(now, limit)
    _settle_finished(limit)
    return taken


def pages_waiting(case: Case) -> list[Page]:
    """The case's pages while nobody has said they are dealing with it (for the case page), else []."""
    pages = list(Page.objects.filter(case=case).select_related("person", "notification"))
    if not pages or any(p.acknowledged_at for p in pages) or pages[0].day_only:
        return []
    return pages


def delivery_words(page: Page) -> str:
    """How the page's text went, as the case page says it."""
    if not page.phone:
        return "Nobody on call at this level"
    notification = page.notification
    if notification is None:
        return "Sent"
    if notification.state == Notification.State.FAILED:
        return f"Not delivered ({notification.delivery_status or 'failed'})"
    if notification.state == Notification.State.SENT:
        return "Delivered" if notification.delivery_status == sms.DELIVERED else "Sent"
    return "Sending" if notification.state == Notification.State.QUEUED else "Retrying"
