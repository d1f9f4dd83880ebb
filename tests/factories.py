"""Test data built through the services, as users would create it."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from reports.models import Anonymity, ConcernType, RaisedInternally, ReporterSector
from reports.services import Contact, ReportInput, SubmittedReport, report_submit
from triage import authorities


def report_input(**overrides: Any) -> ReportInput:
    values: dict[str, Any] = {
        "anonymity": Anonymity.ANONYMOUS,
        "reporter_sector": ReporterSector.CHILDRENS_SOCIAL_CARE,
        "concern_types": (ConcernType.CONCERN_NOT_ACTED_ON,),
        "local_authority": authorities.authority_by_code("E08000018"),
        "about_authority": None,
        "organisation_name": "Northside Children's Home",
        "summary": "Missing episodes ignored",
        "details": "A girl keeps going missing and managers do nothing.",
        "child_at_immediate_risk": False,
        "raised_internally": RaisedInternally.YES,
        "internal_response": "Told to drop it.",
        "contact": Contact(),
    }
    values.update(overrides)
    return ReportInput(**values)


def submit_report(**overrides: Any) -> SubmittedReport:
    return report_submit(data=report_input(**overrides))


def staff_user(username: str = "supervisor", role: str = User.Role.SUPERVISOR, **extra: Any) -> User:
    extra.setdefault("email", f"{username}@helpline.test")
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, **extra})
    return user
