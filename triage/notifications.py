"""Who on a case is told what: the triage part of notifications. Queueing, sending, retries and exactly-once
are notify's (notify.services); this module decides the audience of each case email and what its template may
name, and registers that (register_case_templates, from TriageConfig.ready).

Each email says only that something awaits and links to it. Helpline-internal emails may name the reporter's
reference; emails to authorities and oversight use the case number; a reporter's email names nothing at all.
Never content, names or other cases.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from directory.models import LocalAuthority
from notify.models import Notification
from notify.registry import register_digest, register_resolver, register_templates
from notify.selectors import notifications_about
from notify.services import digest_count, notification_queue
from reports.notifications import REPORT, reporter_address, reporter_context
from triage.events import case_event
from triage.models import Case

# What a case email is about, in notify's terms (a kind and an id, as in the audit stream).
CASE = "case"


# --- who gets which email --------------------------------------------------------------------------------


def email_queue(*, case: Case, recipient: str, template: str, occasion: str = "", digest: str = "") -> Notification:
    """Record one email about the case, once per (case, recipient, template, occasion); notify sends it after
    commit (or, with ``digest``, counts it in the recipient's next digest)."""
    return notification_queue(
        recipient=recipient,
        template=template,
        subject_kind=CASE,
        subject_id=case.pk,
        occasion=occasion,
        digest=digest,
    )


def case_emails(case: Case) -> QuerySet[Notification]:
    """The emails about a case, and about its report (reports' check-in nudges): its page lists them."""
    subjects = [(CASE, case.pk)] if case.report_id is None else [(CASE, case.pk), (REPORT, case.report_id)]
    return notifications_about(subjects=subjects)


def staff_alert(
    *, case: Case, template: str, recipients: QuerySet[User], occasion: str = "", digest: str = ""
) -> list[Notification]:
    """One email per active recipient with an address (or, with ``digest``, one held for the recipient's next
    digest), and an event saying how many."""
    records = [
        email_queue(case=case, recipient=user.email, template=template, occasion=occasion, digest=digest)
        for user in recipients.filter(is_active=True).exclude(email="").distinct().order_by("pk")
    ]
    if records:
        detail: dict[str, object] = {"template": template, "emails": len(records)}
        if digest:
            detail["digest"] = True
        case_event(kind="staff_alerted", case=case, detail=detail)
    return records


def supervisors() -> QuerySet[User]:
    return policy.holders(Permission.TOLD_OF_ESCALATIONS)


def supervisors_alert(*, case: Case, template: str, occasion: str = "", digest: str = "") -> list[Notification]:
    return staff_alert(case=case, template=template, recipients=supervisors(), occasion=occasion, digest=digest)


# --- floods (core.flood counts; triage.flood decides) ----------------------------------------------------

# The one email per flood episode, to supervisors: it names no report.
FLOOD_ALERT = "flood_alert"
# During a flood, urgent alerts are held under this digest key and counted in one email every DIGEST_MINUTES.
URGENT_DIGEST = "urgent_case"
URGENT_DIGEST_TEMPLATE = "urgent_digest"


def flood_alert(*, episode: str) -> list[Notification]:
    """The flood's one email to each supervisor: its occasion is the episode, so a flood sends it once."""
    recipients = supervisors().filter(is_active=True).exclude(email="").distinct().order_by("pk")
    return [
        notification_queue(recipient=user.email, template=FLOOD_ALERT, occasion=f"flood-{episode}")
        for user in recipients
    ]


def _staff_link(urlconf: str, name: str) -> str:
    return f"{settings.STAFF_SITE_URL.rstrip('/')}/staff{reverse(name, urlconf=urlconf)}"


def flood_email_context(notification: Notification) -> dict[str, object]:
    """What the flood email may say: the threshold and the window, and a link to the queues. No report."""
    return {
        "threshold": int(settings.FLOOD_THRESHOLD),
        "minutes": 10,
        "queues_url": _staff_link("triage.urls", "home"),
    }


def urgent_digest_context(notification: Notification) -> dict[str, object]:
    """What an urgent digest may say: how many urgent concerns arrived since the last one, and a link to the
    queues. No reference, no case number, no content."""
    return {"count": digest_count(notification), "queues_url": _staff_link("triage.urls", "home")}


def oversight_alert(
    *, case: Case, template: str, authority: LocalAuthority | None = None, occasion: str = ""
) -> list[Notification]:
    """National oversight and the safeguarding partnerships that cover ``authority`` (a referral's), else
    the case's (never for a case under independent review, nor a partnership that covers the council the
    concern is about: its statistics leave that case out too)."""
    authority = authority or case.authority
    recipients = policy.holders(Permission.TOLD_OF_OVERSIGHT_ALERTS)
    if authority is not None and not case.independent_review:
        recipients = recipients | policy.partnership_audience(authority, conflict=case.conflict_authority)
    return staff_alert(case=case, template=template, recipients=recipients, occasion=occasion)


def helpline_tell(*, case: Case, template: str, occasion: str) -> None:
    """The supervisors and the case's assignee hear that the authority did something on the case."""
    recipients = set(supervisors().filter(is_active=True).exclude(email="").values_list("email", flat=True))
    if case.assignee and case.assignee.email:
        recipients.add(case.assignee.email)
    for recipient in sorted(recipients):
        email_queue(case=case, recipient=recipient, template=template, occasion=occasion)


def reporter_tell(*, case: Case, template: str, occasion: str) -> None:
    """An email to the reporter, when they gave an address: it is unsealed only to send."""
    if case.report is not None and case.report.has_contact_email:
        email_queue(case=case, recipient=Notification.REPORTER, template=template, occasion=occasion)


# --- what each email may name --------------------------------------------------------------------------


# Who reads each template decides what it may name and where it links: the reference stays inside the
# helpline; people outside it (authorities, safeguarding partnerships, national oversight) see only the case number; a
# reporter's email names nothing at all.
AUTHORITY_TEMPLATES = frozenset({"authority_referral", "authority_reply", "authority_update", "review_referral"})
# National oversight and the authority's safeguarding partnerships: they may open no case, only the
# statistics that count it.
OVERSIGHT_TEMPLATES = frozenset({"authority_ack_overdue_national", "authority_outcome_overdue_national"})
OUTSIDE_HELPLINE_TEMPLATES = AUTHORITY_TEMPLATES | OVERSIGHT_TEMPLATES
REPORTER_TEMPLATES = frozenset({"reporter_update"})
# A case flagged for a supervisor (triage.routing.needs_supervisor): once per case, at routing or when
# staff add the concern type that flags it.
SUPERVISOR_FLAG = "supervisor_flag"
# Read by helpline staff.
HELPLINE_TEMPLATES = frozenset(
    {
        "urgent_case",
        SUPERVISOR_FLAG,
        "triage_overdue",
        "feedback_due_soon",
        "feedback_overdue",
        "authority_ack_overdue",
        "authority_outcome_overdue",
        "authority_outcome_recorded",
        "authority_outcome_recorded_one",
        "authority_question",
        "authority_question_overdue",
        "review_findings_recorded",
        "review_referred_on",
    }
)
CASE_TEMPLATES = OUTSIDE_HELPLINE_TEMPLATES | REPORTER_TEMPLATES | HELPLINE_TEMPLATES


def referral_of_occasion(occasion: str) -> int | None:
    """The referral an authority email is about, from its occasion: "referral-<id>" for the referral
    itself, "<kind>-<id>-r<referral id>" for a message in its thread (referrals.notifications). None for an
    email queued before occasions named it: its link leads to the officer's latest referral of the case."""
    found = re.fullmatch(r"referral-(\d+)|[a-z_]+-\d+-r(\d+)", occasion)
    if found is None:
        return None
    return int(found.group(1) or found.group(2))


def case_email_context(template: str, case: Case | None, referral_id: int | None = None) -> dict[str, object]:
    """What a template may name, and the one page its reader can open: the referral for an authority, the
    statistics for oversight and partnerships, the case for helpline staff, the check page for a reporter.

    Paths are reversed in each app's own URLconf under the prefix helpline/urls.py mounts it at, not in
    ROOT_URLCONF: the worker that sends email (HELPLINE_ROLE=worker) serves no pages, so its ROOT_URLCONF
    has none of these routes. tests/triage/test_email_links.py resolves every link in the full URLconf."""

    def staff_link(urlconf: str, name: str, **kwargs: str) -> str:
        return f"{settings.STAFF_SITE_URL.rstrip('/')}/staff{reverse(name, urlconf=urlconf, kwargs=kwargs or None)}"

    if template in REPORTER_TEMPLATES:
        return reporter_context()
    case_number = case.case_number if case else ""
    if template in AUTHORITY_TEMPLATES:
        if case_number and referral_id:
            referral_url = staff_link(
                "referrals.urls", "referral_detail", case_number=case_number, referral_id=str(referral_id)
            )
        elif case_number:
            referral_url = staff_link("referrals.urls", "referral_latest", case_number=case_number)
        else:
            referral_url = staff_link("referrals.urls", "referral_list")
        return {"case_number": case_number, "referral_url": referral_url}
    if template in OVERSIGHT_TEMPLATES:
        return {"case_number": case_number, "statistics_url": staff_link("oversight.urls", "statistics")}
    case_url = (
        staff_link("triage.urls", "case_detail", case_number=case_number)
        if case_number
        else staff_link("triage.urls", "case_list")
    )
    reference = case.report.reference if case is not None and case.report is not None else ""
    return {"case_number": case_number, "reference": reference, "case_url": case_url}


def email_context(notification: Notification) -> dict[str, object]:
    """notify's context for a case email: the case it is about, read when it is sent."""
    case = (
        Case.objects.select_related("report").filter(pk=notification.subject_id).first()
        if notification.subject_kind == CASE and notification.subject_id is not None
        else None
    )
    return case_email_context(notification.template, case, referral_of_occasion(notification.occasion))


def case_reporter_address(case_id: int) -> str:
    """notify's resolver for a case's reporter: the report's own (reports.notifications), unsealed only to send."""
    report_id = Case.objects.values_list("report_id", flat=True).get(pk=case_id)
    return reporter_address(report_id)


def register_case_templates() -> None:
    """Called from TriageConfig.ready: what each case email may name, and how to find the reporter."""
    register_templates(CASE_TEMPLATES, context=email_context)
    register_templates([FLOOD_ALERT], context=flood_email_context)
    register_templates([URGENT_DIGEST_TEMPLATE], context=urgent_digest_context)
    register_digest(URGENT_DIGEST, template=URGENT_DIGEST_TEMPLATE)
    register_resolver(audience=Notification.REPORTER, subject_kind=CASE, resolver=case_reporter_address)
