"""Who to call about a child at risk, for one authority: its own numbers when someone gave them, and
otherwise the national ones and the council's GOV.UK page. Never a number made up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from core.office_hours import helpline_hours
from directory.models import LocalAuthority
from directory.phones import phone_href


@dataclass(frozen=True)
class Phone:
    label: str
    number: str

    @property
    def href(self) -> str:
        return phone_href(self.number)


@dataclass(frozen=True)
class AuthorityContacts:
    name: str
    emergency_duty: Phone | None
    childrens_services: Phone | None
    gov_uk_url: str


def authority_contacts(authority: LocalAuthority | None) -> AuthorityContacts | None:
    if authority is None:
        return None
    edt = authority.emergency_duty_phone
    front_door = authority.childrens_services_contact
    return AuthorityContacts(
        name=authority.name,
        emergency_duty=Phone(f"{authority.name} emergency duty team", edt) if edt else None,
        childrens_services=Phone(f"{authority.name} children's services", front_door) if front_door else None,
        gov_uk_url=authority.gov_uk_url,
    )


def urgent_out_of_hours_context(*, authority: LocalAuthority | None, now: datetime | None = None) -> dict[str, object]:
    """What templates/reports/includes/urgent_out_of_hours.html needs: the hours, whether the helpline is
    open, when it next opens, and the authority's numbers (or where to find them)."""
    hours = helpline_hours(now)
    return {
        "opening": hours,
        "contacts": authority_contacts(authority),
        "helpline_phone": settings.HELPLINE_PHONE,
    }
