"""Every email template's links, rendered as the worker sends them: each one on the right host, resolving to
the exact page its reader needs (the referral, the case, the statistics, /check), and opening (200) for the
very people it is sent to, signed in through the real sign-in. Templates are found on disk, so a new one is
covered without touching this file. Also what each email may name, and that the links are built in the
worker role (whose URLconf serves no pages) and follow PORT when SITE_URL is not set."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve

from accounts import notifications as account_notifications
from accounts import services as account_services
from accounts.models import User
from directory.models import LocalAuthority
from lifecycle import schedule
from notify import services as notify_services
from notify.models import Notification
from referrals import services as referral_services
from reports import notifications as report_notifications
from reports.models import Anonymity
from reports.services import Contact
from tests.factories import partnership_of_region, sign_in, staff_with_mfa, submit_report
from triage import notifications
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(path.name for path in (ROOT / "templates" / "emails").iterdir() if path.is_dir())
PUBLIC = "http://public.test:8100"
STAFF = "http://staff.test:8100"
ROTHERHAM = "E08000018"
YORKSHIRE = "Yorkshire and The Humber"
CANARY = "CANARY-Lk4v"
REPORTER_EMAIL = "canary.reporter@private.example"
URL = re.compile(r"https?://[^\s<>\"']+")

# Who reads each template, and the page (view name) its link must open for them.
PAGE = {
    "reporter": "reports:check_start",
    "authority": "referrals:referral_detail",
    "oversight": "oversight:statistics",
    "helpline": "triage:case_detail",
    "admin": "accounts:admin_staff",
    "invitee": "accounts:invitation",
    # A report not routed (lifecycle.schedule): the supervisors' health page lists it.
    "health": "staff_health",
    # A flood's email and the urgent digest (triage.flood): about no one case, they open the queues.
    "workspace": "triage:home",
}
# The same, for an email that has no case: the list the reader starts from.
LIST_PAGE = {**PAGE, "authority": "referrals:referral_list", "helpline": "triage:case_list"}


def audience(template: str) -> str:
    if template == account_notifications.APPROVAL_WAITING:
        return "admin"
    if template == account_notifications.INVITATION:
        return "invitee"
    if template == schedule.UNROUTED_TEMPLATE:
        return "health"
    if template in {notifications.FLOOD_ALERT, notifications.URGENT_DIGEST_TEMPLATE}:
        return "workspace"
    if template in notifications.REPORTER_TEMPLATES or template in report_notifications.REPORT_TEMPLATES:
        return "reporter"
    if template in notifications.AUTHORITY_TEMPLATES:
        return "authority"
    if template in notifications.OVERSIGHT_TEMPLATES:
        return "oversight"
    return "helpline"


def parts(message: Any) -> dict[str, str]:
    alternative = message.alternatives[0]
    assert alternative[1] == "text/html"
    return {"subject": message.subject, "text": str(message.body), "html": html.unescape(str(alternative[0]))}


def links(body: str) -> list[str]:
    return [url.rstrip(".,;:)") for url in URL.findall(body)]


@pytest.fixture(autouse=True)
def site_urls(settings: Any) -> None:
    settings.SITE_URL = PUBLIC
    settings.STAFF_SITE_URL = STAFF


def person(username: str, role: str, email: str, **extra: Any) -> User:
    """A member of staff who can sign in (a password and an authenticator)."""
    return staff_with_mfa(username, role=role, email=email, **extra)[0]


@pytest.fixture
def people() -> dict[str, User]:
    rotherham = LocalAuthority.objects.get(gss_code=ROTHERHAM)
    officer = person("rotherham-officer", User.Role.AUTHORITY_OFFICER, "officer@rotherham.gov.test")
    officer.authorities.add(rotherham)
    return {
        "supervisor": person("sup-links", User.Role.SUPERVISOR, "sup@helpline.test"),
        "handler": person("handler-links", User.Role.CALL_HANDLER, "handler@helpline.test"),
        "officer": officer,
        "analyst": person("analyst-links", User.Role.OVERSIGHT_ANALYST, "analyst@oversight.test"),
        "board": person(
            "board-links", User.Role.PARTNERSHIP, "board@yh.test", partnership=partnership_of_region(YORKSHIRE)
        ),
        "admin": person("admin-links", User.Role.ADMINISTRATOR, "admin@helpline.test"),
    }


@pytest.fixture
def case(people: dict[str, User]) -> Case:
    """A confidential reporter's concern (with an email address), referred to Rotherham and assigned to a
    call handler: every kind of email has somebody to go to."""
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL,
        contact=Contact(name=f"{CANARY} Name", email=REPORTER_EMAIL),
        summary=f"{CANARY} summary",
        details=f"{CANARY} details",
        organisation_name=f"{CANARY} Children's Home",
    )
    routed = report_route(report_id=submitted.report.pk)
    referral_services.case_refer(case=routed, summary=f"{CANARY} referral", acting_user=people["supervisor"])
    Case.objects.filter(pk=routed.pk).update(assignee=people["handler"])
    routed.refresh_from_db()
    assert routed.authority is not None and routed.authority.region == YORKSHIRE
    assert not routed.independent_review
    return routed


def queue(case: Case, template: str, people: dict[str, User]) -> list[Notification]:
    """The template's emails about the case, queued the way the project queues that kind of email."""
    kind = audience(template)
    if template in report_notifications.REPORT_TEMPLATES:  # about the report: reports sends it
        notify_services.notification_queue(
            recipient=Notification.REPORTER, template=template, subject_kind="report", subject_id=case.report_id
        )
        return list(Notification.objects.filter(template=template))
    if kind == "reporter":
        notifications.reporter_tell(case=case, template=template, occasion="links")
    elif kind == "authority":
        # As the referrals app queues them: the occasion names the referral, which the link opens.
        occasion = f"referral-{case.referrals.latest('id').pk}"
        notifications.email_queue(case=case, recipient=people["officer"].email, template=template, occasion=occasion)
    elif kind == "oversight":
        notifications.oversight_alert(case=case, template=template)
    elif kind == "admin":  # about a staff account: no case
        account_notifications.approval_waiting_tell(request_id=1, recipients=[people["admin"].email])
        return list(Notification.objects.filter(template=template).order_by("pk"))
    elif kind == "health":  # about a report still without a case: the supervisors are told
        notify_services.notification_queue(
            recipient=people["supervisor"].email, template=template, subject_kind="report", subject_id=case.report_id
        )
        return list(Notification.objects.filter(template=template).order_by("pk"))
    elif kind == "workspace":  # a flood's email, or the digest of urgent alerts held during one: no case
        if template == notifications.FLOOD_ALERT:
            notifications.flood_alert(episode="links")
        else:
            notifications.supervisors_alert(case=case, template="urgent_case", digest=notifications.URGENT_DIGEST)
            notify_services.digests_send()
        return list(Notification.objects.filter(template=template).order_by("pk"))
    elif kind == "invitee":  # a new member of staff: no case
        account_services.staff_invite(
            username="new-links", email="new@helpline.test", role=User.Role.CALL_HANDLER, acting_user=people["admin"]
        )
        return list(Notification.objects.filter(template=template).order_by("pk"))
    else:
        notifications.helpline_tell(case=case, template=template, occasion="links")
    return list(case_emails(case).filter(template=template).order_by("pk"))


class Readers:
    """A signed-in client for each recipient (an anonymous one for the reporter), made once per person."""

    def __init__(self, people: dict[str, User]) -> None:
        self.people = people
        self.clients: dict[str, Client] = {}

    def client_for(self, record: Notification) -> Client:
        if record.recipient == Notification.REPORTER or record.template == account_notifications.INVITATION:
            return Client()  # no account yet, or none ever
        user = User.objects.filter(email=record.recipient).first()
        # The authority's shared referral inbox is no account: one of its officers opens the link.
        user = user or self.people["officer"]
        if user.username not in self.clients:
            client = Client()
            sign_in(client, user)
            self.clients[user.username] = client
        return self.clients[user.username]


def assert_link_opens(
    client: Client, url: str, *, host: str, view_name: str, case_number: str | None, secret: bool = False
) -> None:
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}" == host, url
    assert not split.query, url
    match = resolve(split.path)
    assert match.view_name == view_name, url
    if case_number is not None:
        assert match.kwargs.get("case_number") == case_number, url
    if secret:
        assert set(match.kwargs) == {"secret"}, url
    response = client.get(split.path)
    assert response.status_code == 200, (url, response.status_code)
    if split.fragment:
        assert f'id="{split.fragment}"' in response.content.decode(), f"{url}: no such place on the page"


def test_the_templates_were_found_and_each_has_its_three_parts() -> None:
    assert {"authority_referral", "authority_reply", "authority_update", "authority_question_overdue"} <= set(TEMPLATES)
    for template in TEMPLATES:
        folder = ROOT / "templates" / "emails" / template
        assert {"subject.txt", "body.txt", "body.html"} <= {path.name for path in folder.iterdir()}, template


def test_the_template_sets_name_only_templates_that_exist() -> None:
    sets = notifications.REPORTER_TEMPLATES | notifications.OUTSIDE_HELPLINE_TEMPLATES
    assert sets <= set(TEMPLATES)
    assert notifications.OUTSIDE_HELPLINE_TEMPLATES == (
        notifications.AUTHORITY_TEMPLATES | notifications.OVERSIGHT_TEMPLATES
    )
    assert {"authority_reply", "authority_update"} <= notifications.OUTSIDE_HELPLINE_TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_link_is_the_exact_page_and_opens_for_its_recipient(
    template: str, case: Case, people: dict[str, User]
) -> None:
    kind = audience(template)
    records = queue(case, template, people)
    assert records, f"{template}: nobody to send it to"
    if kind == "oversight":
        assert {r.recipient for r in records} == {people["analyst"].email, people["board"].email}
    if kind == "helpline":
        assert {r.recipient for r in records} == {people["supervisor"].email, people["handler"].email}
    readers = Readers(people)
    for record in records:
        rendered = parts(notify_services.email_render(record))
        for name in ("text", "html"):
            found = links(rendered[name])
            assert found, f"{template} {name}: no link"
            for url in found:
                assert_link_opens(
                    readers.client_for(record),
                    url,
                    host=PUBLIC if kind == "reporter" else STAFF,
                    view_name=PAGE[kind],
                    case_number=case.case_number if kind in {"authority", "helpline"} else None,
                    secret=kind == "invitee",
                )
        everything = " ".join(rendered.values())
        assert CANARY not in everything
        assert REPORTER_EMAIL not in everything
        if kind in {"reporter", "admin", "invitee"}:
            assert case.case_number not in everything
            assert case.report.reference not in everything
        elif kind == "health":
            # Helpline-internal, about a report that has no case number: its reference, never in the subject.
            assert case.report.reference not in rendered["subject"] and case.case_number not in everything
            for name in ("text", "html"):
                assert case.report.reference in rendered[name], name
        elif kind == "workspace":
            # Sent to the supervisors about many reports, or none in particular: it names none of them.
            assert {r.recipient for r in records} == {people["supervisor"].email}
            assert case.case_number not in everything and case.report.reference not in everything
        elif kind == "helpline":
            # A subject is what an inbox lists and a phone's lock screen shows: the case number, never the
            # reporter's reference (issue 22).
            assert case.case_number in rendered["subject"] and case.report.reference not in rendered["subject"]
            for name in ("text", "html"):
                assert case.report.reference in rendered[name] or case.case_number in rendered[name], name
        else:
            assert case.report.reference not in everything
            for name in ("subject", "text", "html"):
                assert case.case_number in rendered[name], name


# An invitation's email is about its invitation, never a case: its link is tested above.
@pytest.mark.parametrize("template", [t for t in TEMPLATES if t != account_notifications.INVITATION])
def test_an_email_without_a_case_links_to_the_list_its_reader_starts_from(
    template: str, people: dict[str, User]
) -> None:
    kind = audience(template)
    reader = {
        "reporter": None,
        "authority": "officer",
        "oversight": "board",
        "helpline": "handler",
        "admin": "admin",
        "health": "supervisor",
        "workspace": "supervisor",
    }[kind]
    recipient = people[reader].email if reader else Notification.REPORTER
    record = Notification(pk=1, recipient=recipient, template=template)
    context = notify_services.notification_context(record)
    url_keys = [key for key in context if key.endswith("_url")]
    assert len(url_keys) == 1, context
    client = Readers(people).client_for(record)
    assert_link_opens(
        client,
        str(context[url_keys[0]]),
        host=PUBLIC if kind == "reporter" else STAFF,
        view_name=LIST_PAGE[kind],
        case_number=None,
    )


@pytest.mark.slow
def test_the_page_check_would_catch_a_link_its_reader_cannot_open(case: Case, people: dict[str, User]) -> None:
    """Why the GETs above matter: the case page is closed to boards, oversight and authorities."""
    for who in ("board", "analyst", "officer"):
        client = Client()
        sign_in(client, people[who])
        assert client.get(f"/staff/cases/{case.case_number}").status_code == 403, who


def run_python(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "STAFF_SITE_URL", "PORT", "HELPLINE_ROLE"}}
    base.pop("HELPLINE_ENV", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "helpline.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


WORKER_LINKS = """
import json
import django
django.setup()
from reports.models import Report
from triage.models import Case
from triage.notifications import case_email_context
case = Case(case_number="C-0001", report=Report(reference="ABCD-EFGH"))
names = ["reporter_update", "authority_referral", "authority_ack_overdue_national", "triage_overdue"]
print(json.dumps({name: case_email_context(name, case) for name in names}))
"""


def test_links_are_built_in_the_worker_role_whose_urlconf_serves_no_pages() -> None:
    """The worker sends the email; its ROOT_URLCONF has no staff or reporter pages to reverse."""
    out = json.loads(run_python(WORKER_LINKS, HELPLINE_ROLE="worker", SITE_URL=PUBLIC, STAFF_SITE_URL=STAFF))
    assert out["reporter_update"]["check_url"] == f"{PUBLIC}/check"
    assert out["authority_referral"]["referral_url"] == f"{STAFF}/staff/referrals/C-0001"
    assert out["authority_ack_overdue_national"]["statistics_url"] == f"{STAFF}/staff/statistics"
    assert out["triage_overdue"]["case_url"] == f"{STAFF}/staff/cases/C-0001"


def test_site_url_follows_port_when_not_set() -> None:
    out = run_python("import helpline.settings as s; print(s.SITE_URL, s.STAFF_SITE_URL)", PORT="8100")
    assert out.split() == ["http://127.0.0.1:8100", "http://127.0.0.1:8100"]
