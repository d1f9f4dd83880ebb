"""Shared builders for the oversight tests: cases made through the real services, users signed in for real."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from django.test import Client

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals import services as referral_services
from tests.factories import sign_in, staff_user, staff_with_mfa, submit_report
from triage.intake import report_route
from triage.models import Case

YORKSHIRE = "Yorkshire and The Humber"
ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
MANCHESTER = "E08000003"
CANARY = "CANARY-Jv8m"
ORGANISATION = "Brightwater Residential Care Ltd"


def authority(code: str) -> LocalAuthority:
    found = authority_by_code(code)
    assert found is not None, code
    return found


def helpline_supervisor() -> User:
    return staff_user("stats-supervisor", role=User.Role.SUPERVISOR, email="stats-sup@helpline.test")


def new_case(code: str = ROTHERHAM, **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "local_authority": authority(code),
        "summary": f"{CANARY} summary",
        "details": f"{CANARY} details",
        "organisation_name": ORGANISATION,
        "internal_response": f"{CANARY} internal response",
    }
    values.update(overrides)
    return report_route(report_id=submit_report(**values).report.pk)


def referred_case(code: str = ROTHERHAM, **overrides: Any) -> Case:
    case = new_case(code, **overrides)
    referral_services.case_refer(
        case=case, summary=f"{CANARY} referral summary", share_identity=False, acting_user=helpline_supervisor()
    )
    case.refresh_from_db()
    return case


def signed_in_as(role: str, username: str | None = None, **extra: Any) -> tuple[Client, User]:
    user = staff_with_mfa(username or f"user-{role}", role=role, **extra)[0]
    client = Client()
    sign_in(client, user)
    return client, user


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))
