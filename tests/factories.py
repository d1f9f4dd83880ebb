"""Test data built through the services, as users would create it: reports, cases, referrals, staff and
signed-in clients. The one place test modules share such helpers: no test module imports another's
(tests/test_test_kit.py checks it)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from directory import lookup as authorities
from reports.models import Anonymity, ConcernType, RaisedInternally, ReporterSector
from reports.services import Contact, ReportInput, SubmittedReport, report_submit

ROTHERHAM, SHEFFIELD = "E08000018", "E08000039"


def authority(code: str) -> Any:
    """The local authority with this code (the test database loads them all: the local_authorities fixture)."""
    found = authorities.authority_by_code(code)
    assert found is not None, code
    return found


def partnership_make(name: str, *codes: str) -> Any:
    """A safeguarding partnership covering the authorities with these GSS codes."""
    from directory.models import Partnership

    made, _ = Partnership.objects.get_or_create(name=name)
    made.authorities.set([authority(code) for code in codes])
    return made


def partnership_of_region(region: str) -> Any:
    """A safeguarding partnership, named after ``region``, covering every authority of it: what a region's
    board saw before partnerships (and what accounts migration 0011 turns one into)."""
    from directory.models import LocalAuthority, Partnership

    made, _ = Partnership.objects.get_or_create(name=region)
    made.authorities.set(LocalAuthority.objects.filter(region=region))
    return made


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


def routed_case(**overrides: Any) -> Any:
    """A report sent (``overrides`` as for report_input) and routed into a case, as the worker does."""
    from triage.intake import report_route

    return report_route(report_id=submit_report(**overrides).report.pk)


def referred_case(referrer: User, *, summary: str = "Please look into this.", **overrides: Any) -> Any:
    """A routed case referred to its authority by ``referrer`` through the referral service."""
    from referrals import services as referral_services

    case = routed_case(**overrides)
    referral_services.case_refer(case=case, summary=summary, acting_user=referrer)
    case.refresh_from_db()
    return case


def identity_consented(referral: Any, covers: tuple[str, ...] = ("name",), *, asked_by: User | None = None) -> Any:
    """The reporter's consent that ``referral``'s recipient may have ``covers`` of their details, asked and
    answered yes as the pages do (referrals.identity)."""
    from referrals import identity

    sharing = identity.identity_ask_consent(
        case=referral.case,
        referral_id=referral.pk,
        covers=list(covers),
        acting_user=asked_by or staff_user("asker", role=User.Role.CALL_HANDLER),
    )
    identity.identity_reporter_answer(referral.case.report, sharing.pk, True)
    sharing.refresh_from_db()
    return sharing


def valid_api_report(**overrides: Any) -> dict[str, Any]:
    """A body the reporters' JSON API accepts (POST /api/v1/reports), ``overrides`` replacing fields."""
    body: dict[str, Any] = {
        "anonymity": "confidential",
        "reporter_sector": "police",
        "concern_types": ["information_not_shared", "records_altered_or_suppressed"],
        "postcode": "S60 2TH",
        "about_authority": None,
        "organisation_name": "Northside Academy",
        "summary": "Records changed after a disclosure",
        "details": "A disclosure was recorded and later removed from the system.",
        "child_at_immediate_risk": False,
        "raised_internally": "yes",
        "internal_response": "Nothing happened.",
        "contact": {"name": "Sam", "email": "sam@example.com", "phone": ""},
    }
    body.update(overrides)
    return body


def staff_user(username: str = "supervisor", role: str = User.Role.SUPERVISOR, **extra: Any) -> User:
    extra.setdefault("email", f"{username}@helpline.test")
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, **extra})
    return user


PASSWORD = "correct horse battery staple"


def staff_with_mfa(username: str, role: str = User.Role.CALL_HANDLER, **extra: Any) -> tuple[User, str]:
    """A staff user with a password and a confirmed authenticator; returns the user and its base32 key."""
    import base64

    from accounts.services import totp_device_create

    user = staff_user(username, role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    device = totp_device_create(user=user, name="app", confirmed=True)
    return user, base64.b32encode(device.bin_key).decode()


def sign_in(client: Any, user: User) -> None:
    """The real sign-in flow, using a fresh single-use recovery code as the second factor (a user without
    an authenticator gets one first: recovery codes stand in for it)."""
    from accounts.services import confirmed_totp, recovery_codes_issue, totp_device_create

    if confirmed_totp(user) is None:
        totp_device_create(user=user, name="test app", confirmed=True)
    code = recovery_codes_issue(user=user)[0]
    if not user.has_usable_password():
        user.set_password(PASSWORD)
        user.save()
    response = client.post("/staff/sign-in", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302, response.content[:300]


def signed_in(user: User) -> Client:
    """A fresh client signed in as ``user`` through the real sign-in."""
    client = Client()
    sign_in(client, user)
    return client


def signed_in_as(role: str, *authority_codes: str, username: str | None = None, **extra: Any) -> tuple[Client, User]:
    """A new staff member with this role (and these authorities), signed in through the real sign-in."""
    user = staff_with_mfa(username or f"user-{role}", role=role, **extra)[0]
    if authority_codes:
        user.authorities.set([authority(code) for code in authority_codes])
    return signed_in(user), user


def reporter_opened(submitted: Any) -> Client:
    """A browser that has opened ``submitted`` (a SubmittedReport) at /check with its reference and code."""
    client = Client()
    response = client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert response.status_code == 302 and response["Location"] == "/check/concern", response.content[:500]
    return client


def client_with_a_draft() -> Client:
    """A reporter part-way through the question pages: confidential (so "contact" applies) with a postcode
    that covers two councils (so "council" applies), so that every question page shows its form."""
    client = Client()
    assert client.post("/report/begin").status_code == 302
    assert client.post("/report/anonymity", {"anonymity": "confidential"}).status_code == 302
    assert client.post("/report/where", {"postcode": "S60"}).status_code == 302
    assert client.get("/report/council").status_code == 200
    assert client.get("/report/contact").status_code == 200
    return client


# One valid answer for each question page of the reporter's journey (by its slug).
QUESTION_PAGE_ANSWERS: dict[str, dict[str, str | list[str]]] = {
    "anonymity": {"anonymity": "confidential"},
    "about-you": {"reporter_sector": "education"},
    "concern": {"concern_types": ["other", "concern_not_acted_on"]},
    "where": {"postcode": "S60 1AA", "council": ""},
    "council": {"council": "E08000018", "other_council": ""},
    "about-council": {"about_council": "yes", "which_council": "E08000038"},
    "organisation": {"organisation_name": "Northside Academy"},
    "what-happened": {"summary": "Not passed on", "details": "Nothing was recorded."},
    "raised-internally": {"raised_internally": "yes", "internal_response": "Told to leave it."},
    "reported": {
        "already_reported": "by_me",
        "reported_to": "council",
        "reported_on-day": "2",
        "reported_on-month": "3",
        "reported_on-year": "2026",
        "reported_reference": "MASH-40213",
    },
    "immediate-risk": {"child_at_immediate_risk": "no"},
    "contact": {"name": "Sam Taylor", "email": "sam@example.com", "phone": "07700 900 982"},
}


def phone_report_answers(**overrides: str) -> dict[str, str]:
    """A valid phone report as a call handler fills in /staff/phone-report, ``overrides`` replacing fields."""
    answers = {
        "anonymity-anonymity": "confidential",
        "about-you-reporter_sector": "education",
        "concern-concern_types": "victim_disbelieved_or_blamed",
        "where-postcode": "S60 1AA",
        "about-council-about_council": "no",
        "organisation-organisation_name": "Riverside Academy",
        "what-happened-summary": "Pupil's disclosure dismissed",
        "what-happened-details": "A pupil told a teacher; the head said she was making it up.",
        "raised-internally-raised_internally": "yes",
        "raised-internally-internal_response": "Nothing happened.",
        "immediate-risk-child_at_immediate_risk": "no",
        "contact-name": "Caller Name",
        "contact-email": "caller@private.example",
        "contact-phone": "",
    }
    answers.update(overrides)
    return answers


def rolled_back_block() -> Any:
    """An atomic block to roll a request back in, that lets durable services (transaction.atomic(durable=True))
    run inside it, exactly as Django's TestCase marks its own blocks: it stands for the test's transaction."""
    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    return block


def web_report_sent(client: Any, **changes: dict[str, str | list[str]]) -> Any:
    """Walk the question pages with QUESTION_PAGE_ANSWERS (a step's answers replaced by ``changes``, keyed by
    slug with "-" as "_"), send the report, and return the confirmation page it leads to."""
    answers = {
        **QUESTION_PAGE_ANSWERS,
        # "Do you have documents, photos or recordings?" (after the questions; not one of journey.STEPS): none.
        "documents": {"action": "continue"},
        **{slug.replace("_", "-"): value for slug, value in changes.items()},
    }
    assert client.post("/report/begin").status_code == 302
    page = client.get("/report/anonymity")
    for _ in range(len(answers) + 1):
        slug = page.wsgi_request.path.rsplit("/", 1)[-1]
        if slug == "check-your-answers":
            break
        page = client.post(f"/report/{slug}", answers[slug], follow=True)
        assert page.status_code == 200, (slug, page.content[:500])
    sent = client.post("/report/check-your-answers", follow=True)
    assert sent.status_code == 200 and b"Report sent" in sent.content, sent.content[:500]
    return sent


def referral_of(case: Any) -> Any:
    """The case's latest referral (most cases in the tests have one)."""
    from referrals.models import Referral

    return Referral.objects.select_related("case", "authority", "body").filter(case=case).order_by("-id").first()


def referral_make(case: Any, *, authority: Any = None, body: Any = None, **fields: Any) -> Any:
    """A referral row for ``case`` (to its authority unless told, or to the national ``body``), written
    directly with the clocks a referral made now would have, ``fields`` overriding: for tests of what reads
    referrals (clocks, lists, statistics). The case is marked referred. Tests of referring itself go through
    referrals.services."""
    from django.utils import timezone

    from referrals.deadlines import clocks_start
    from referrals.models import Referral
    from triage.models import Case

    referred_at = fields.pop("referred_at", None) or timezone.now()
    referral = Referral(
        case=case,
        authority=None if body is not None else authority or case.authority,
        body=body,
        summary=b"",
        referred_by=staff_user("referrer", role=User.Role.CALL_HANDLER),
        referred_at=referred_at,
    )
    clocks_start(referral, referred_at)
    for name, value in fields.items():
        setattr(referral, name, value)
    referral.save()
    if case.status != Case.Status.REFERRED and fields.get("status") != Referral.Status.WITHDRAWN:
        Case.objects.filter(pk=case.pk).update(status=Case.Status.REFERRED)
    return referral


REVIEW_REASON = "The concern is about the council's own children's services."


def national_body(code: str) -> Any:
    """A body of the national bodies directory (loaded by its migration), by code: "review-team", "ofsted",
    "cqc", "cspr-panel", "police-south-yorkshire" …"""
    from directory.models import NationalBody

    return NationalBody.objects.get(code=code)


def reviewer(username: str = "reviewer", **extra: Any) -> User:
    """A national reviewer (staff of the independent national review team)."""
    return staff_user(username, role=User.Role.NATIONAL_REVIEWER, email=f"{username}@review.example", **extra)


def reviewed_case(by: User, *, reason: str = REVIEW_REASON, **overrides: Any) -> tuple[Any, Any]:
    """A routed case sent for independent national review by ``by``, through the service: (case, its
    referral to the review team)."""
    from referrals import services

    case = routed_case(**overrides)
    referral = services.case_send_for_review(case=case, reason=reason, acting_user=by)
    case.refresh_from_db()
    return case, referral


def cases_in_every_status(supervisor: User) -> dict[str, Any]:
    """One case in each status staff can act in, keyed by status, got there through the services: new, waiting
    for the reporter, referred to Rotherham (whose officer has asked the helpline a question), under national
    review and closed."""
    from referrals import services as referral_services
    from triage import case_actions

    officer = staff_user("workflow-officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([authority(ROTHERHAM)])
    statuses = ("new", "awaiting_reporter", "referred", "national_review", "closed")
    cases = {status: routed_case(local_authority=authority(ROTHERHAM)) for status in statuses}
    case_actions.case_ask_reporter(case=cases["awaiting_reporter"], body="Which school?", acting_user=supervisor)
    referral_services.case_refer(case=cases["referred"], summary="Please look.", acting_user=supervisor)
    referral_services.referral_ask_helpline(
        referral=referral_of(cases["referred"]), question="Which year group?", acting_user=officer
    )
    case_actions.case_escalate(
        case=cases["national_review"], route="national_review", reason=REVIEW_REASON, acting_user=supervisor
    )
    case_actions.case_close(case=cases["closed"], outcome="duplicate", feedback="Thank you.", acting_user=supervisor)
    for case in cases.values():
        case.refresh_from_db()
    return cases


def facts_record(case: Any, acting_user: User, **fields: Any) -> list[str]:
    """Record what is known about ``case`` for the national picture through the service; ``fields`` as for
    triage.case_actions.FactsRecorded (anything left out: not known)."""
    from triage.case_actions import FactsRecorded, case_record_facts

    return case_record_facts(case=case, facts=FactsRecorded(**fields), acting_user=acting_user)


def attachment_make(
    case_or_report: Any,
    data: bytes = b"Minutes of the meeting of 3 March.\n",
    *,
    name: str = "minutes.txt",
    content_type: str = "text/plain",
    status: str = "clean",
    **kept: Any,
) -> Any:
    """A file of a case (or report), kept as an upload is (sealed chunk by chunk under its own key, wrapped
    with the report's data key), then marked ``status`` directly as if the workers had processed it: stage
    done (received while pending); a blocked or removed file's content deleted, as the pipeline and a
    supervisor do. ``kept`` as for reports.attachments.incoming_keep (source, added_by_id, message_id)."""
    from reports.attachments import Incoming, attachment_blob_delete, incoming_keep
    from reports.models import Attachment
    from triage.case_content import report_data_key

    report = getattr(case_or_report, "report", case_or_report)
    incoming = Incoming(name=name)
    incoming.write(data)
    attachment = incoming_keep(
        incoming, content_type=content_type, key=report_data_key(report), report_id=report.pk, **kept
    )
    stage = Attachment.Stage.RECEIVED if status == Attachment.Status.PENDING else Attachment.Stage.DONE
    Attachment.objects.filter(pk=attachment.pk).update(status=status, stage=stage)
    attachment.refresh_from_db()
    if status in (Attachment.Status.BLOCKED, Attachment.Status.REMOVED):
        if status == Attachment.Status.BLOCKED:
            Attachment.objects.filter(pk=attachment.pk).update(scan_signature="Eicar-Test-Signature")
        attachment_blob_delete(attachment, status=status)
        attachment.refresh_from_db()
    return attachment


def case_closed(case: Any, by: User, outcome: str = "not_substantiated") -> Any:
    """``case`` closed by ``by`` with ``outcome`` through the service, reloaded: its destroy_on set by the
    retention schedule's clock (triage.retention)."""
    from triage.case_actions import case_close
    from triage.models import Case

    case_close(case=case, outcome=outcome, feedback="Thank you for telling us.", acting_user=by)
    return Case.objects.select_related("report").get(pk=case.pk)


def closed_back_to(case: Any, *, due_on: date) -> None:
    """Move a closed case's closure back, so that its outcome's period ends on ``due_on``, and let the schedule's
    clock say so (its day and its data key's custody key, as for a case closed then)."""
    from triage import retention
    from triage.models import Case

    case = Case.objects.get(pk=case.pk)
    closed_on = retention.add_months(due_on, -retention.period_months(case.outcome))
    noon = timezone.make_aware(datetime.combine(closed_on, time(12)))
    Case.objects.filter(pk=case.pk).update(closed_at=noon)
    case.closed_at = noon
    with transaction.atomic():
        retention.rehome(case)
    assert Case.objects.get(pk=case.pk).destroy_on == due_on


def receipt_signed(report: Any) -> Any:
    """Sign the report's receipt as the worker does (its SIGN_RECEIPT outbox row), and open it as its reporter
    would: the OpenedReceipt."""
    from core import keystore
    from outbox.models import OutboxMessage
    from outbox.services import outbox_process
    from reports.models import Receipt
    from reports.outbox_kinds import SIGN_RECEIPT
    from reports.receipts import receipt_for_reporter

    receipt = Receipt.objects.get(report=report)
    row = OutboxMessage.objects.get(kind=SIGN_RECEIPT, target_id=receipt.pk)
    outbox_process(outbox_id=row.pk)
    report.refresh_from_db()
    return receipt_for_reporter(report=report, data_key=keystore.data_key_of(report))


def receipt_keys_configured(settings: Any, *entries: tuple[str, str, str, str | None], signing: str = "") -> None:
    """RECEIPT_SIGNING_KEY (``signing``, ``key_id:base64``) and RECEIPT_PUBLIC_KEYS from (key_id, signing key
    entry, valid_from, valid_to) tuples, the receipt key cache cleared."""
    import json

    from core import receipts

    settings.RECEIPT_SIGNING_KEY = signing
    settings.RECEIPT_PUBLIC_KEYS = json.dumps(
        [
            {"key_id": key_id, "public_key": receipts.public_half(entry), "valid_from": start, "valid_to": end}
            for key_id, entry, start, end in entries
        ]
    )
    receipts.receipt_keys.cache_clear()


def page_waiting(case: Any, level: str = "primary") -> Any:
    """An urgent page about ``case`` nobody has answered (triage.paging), as if the rota had nobody at its level:
    no text is sent. The case page and the API then offer acknowledge_page."""
    from datetime import timedelta

    from triage.models import Page

    now = timezone.now()
    return Page.objects.create(case=case, level=level, sent_at=now, deadline=now + timedelta(minutes=15))
