"""Opening what people wrote about a case, for staff allowed to see it: every opening is audited.

The caller has already found the case through triage.selectors, which decides who may see what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from core import crypto
from reports.models import Message
from triage.events import case_event
from triage.models import Case, CaseNote


@sensitive_variables("report")
def case_data_key(case: Case) -> bytes:
    """The case's data key, opened with the helpline's private key (staff service and workers only)."""
    report = case.report
    return crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))


def content_viewed(*, case: Case, acting_user: User, what: str = "case") -> None:
    """Every view of decrypted content is an audit event."""
    case_event(kind="content_viewed", case=case, actor=acting_user, detail={"view": what})


@dataclass(frozen=True)
class OpenedCase:
    content: dict[str, object]
    messages: list[tuple[Message, str]]
    notes: list[tuple[CaseNote, str]]
    # The case's referrals and their threads (referrals.models, a layer above: read through the case).
    referrals: list[tuple[Any, str]]
    authority_actions: list[tuple[Any, str]]
    # The reference a body gave for a referral passed on outside the service, by referral id.
    referral_references: dict[int, str] = field(default_factory=dict)


@sensitive_variables("key")
def case_open(*, case: Case, acting_user: User) -> OpenedCase:
    """Decrypt a case for a member of staff, and record that they did."""
    key = case_data_key(case)
    referrals = list(case.referrals.select_related("authority", "body").order_by("id"))
    opened = OpenedCase(
        content=crypto.open_content(key, bytes(case.report.content)),
        messages=[(m, crypto.open_text(key, bytes(m.body))) for m in case.report.messages.select_related("author")],
        notes=[(n, crypto.open_text(key, bytes(n.body))) for n in case.notes.select_related("author")],
        # A referral carried over without a summary (referrals migrations 0003 and 0006) has none to open.
        referrals=[(r, crypto.open_text(key, bytes(r.summary)) if r.summary else "") for r in referrals],
        authority_actions=[
            (a, crypto.open_text(key, bytes(a.note)) if a.note else "")
            for a in case.authority_actions.select_related("recorded_by")
        ],
        referral_references={
            r.pk: crypto.open_text(key, bytes(r.sent_reference)) for r in referrals if r.sent_reference
        },
    )
    content_viewed(case=case, acting_user=acting_user)
    return opened
