"""manage.py seed_cases: realistic encrypted reports and routed cases by COPY, and a case list whose
number of queries does not depend on the page, the page size or the filters."""

import io
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import crypto, keystore
from core.identifiers import CASE_NUMBER_ALPHABET, REFERENCE_ALPHABET
from devdata.seeding import rules as seed_cases
from outbox.models import OutboxMessage
from reports.models import Anonymity, Report
from reports.outbox_kinds import ROUTE_REPORT
from reports.services import report_read, report_unlock
from tests.factories import referral_of, sign_in, staff_with_mfa, submit_report
from triage import deadlines, retention, routing, workflow
from triage.intake import report_route, routing_facts
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

COUNT = 300
KEYS = 4
REFERENCE = re.compile(rf"^[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")
CASE_NUMBER = re.compile(rf"^20\d\d-[{CASE_NUMBER_ALPHABET}]{{6}}$")


def seed(count: int = COUNT, **options: Any) -> tuple[str, list[str]]:
    """Run the command; its output and the pool's access codes (printed at the end)."""
    out = io.StringIO()
    options = {"batch": 120, "open_fraction": 0.3, "keys": KEYS, **options}
    call_command("seed_cases", count=count, stdout=out, **options)
    text = out.getvalue()
    return text, re.findall(r"^  key \d+: (.+)$", text, re.MULTILINE)


@pytest.fixture(autouse=True)
def _own_key_folder(settings: Any, tmp_path: Path) -> None:
    """Seeding makes custody keys (core.keystore): in a folder of this test's own."""
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")


@pytest.fixture
def codes() -> list[str]:
    return seed()[1]


def test_counts_statuses_and_identifiers(codes: list[str]) -> None:
    assert Report.objects.count() == COUNT
    assert Case.objects.count() == COUNT
    assert len(codes) == KEYS
    cases = list(Case.objects.select_related("report", "queue"))
    assert len({case.report_id for case in cases}) == COUNT
    assert all(REFERENCE.match(case.report.reference) for case in cases)
    assert all(CASE_NUMBER.match(case.case_number) for case in cases)
    assert all(case.case_number.startswith(str(case.report.submitted_at.year)) for case in cases)
    assert {case.report.status for case in cases} == {Report.Status.ROUTED}
    assert {case.queue.slug for case in cases} <= {"urgent", "national"}
    closed = [case for case in cases if case.status == Case.Status.CLOSED]
    still_open = [case for case in cases if case.status in workflow.OPEN]
    assert len(closed) + len(still_open) == COUNT
    assert closed and still_open
    assert all(case.outcome in Outcome.values and case.closed_at for case in closed)
    assert all(not case.outcome and case.closed_at is None for case in still_open)
    assert all(case.assignee_id is None for case in cases if case.status == Case.Status.NEW)
    for case in cases:
        assert case.created_at >= case.report.submitted_at
        assert case.report.concern_types and len(case.report.concern_types) <= 3
        if case.report.anonymity == Anonymity.ANONYMOUS:
            assert not case.report.has_contact_email


def test_cases_are_routed_as_the_routing_rules_say(codes: list[str]) -> None:
    for case in Case.objects.select_related("report__local_authority", "report__about_authority", "queue"):
        decision = routing.decide(routing_facts(case.report))
        assert case.queue.slug == decision.queue_slug
        assert (case.priority == Case.Priority.URGENT) == decision.urgent
        assert case.independent_review == decision.independent_review
        assert (case.authority.gss_code if case.authority else None) == decision.refer_to_authority_code
        assert (
            case.conflict_authority.gss_code if case.conflict_authority else None
        ) == decision.conflict_authority_code
        if case.status == Case.Status.REFERRED:
            assert case.authority_id is not None and not case.independent_review


def same_instant(stored: datetime | None, expected: datetime) -> bool:
    # Subtraction, not ==: Python never finds a local time in a clock-change gap or fold equal to a
    # datetime in another zone (PEP 495), although it stands for the same instant.
    return stored is not None and stored - expected == timedelta(0)


def test_deadlines_are_the_routing_rules_deadlines(codes: list[str]) -> None:
    for case in Case.objects.select_related("report"):
        submitted = case.report.submitted_at
        urgent = case.report.child_at_immediate_risk
        assert same_instant(case.triage_due_at, deadlines.triage_due(submitted, urgent=urgent))
        assert same_instant(case.reporter_feedback_due_at, deadlines.reporter_feedback_due(submitted))
        referral = referral_of(case)
        if referral is not None:
            referred = referral.referred_at
            assert referral.authority_id == case.authority_id
            assert same_instant(referral.ack_due_at, deadlines.authority_ack_due(referred))
            assert same_instant(referral.outcome_due_at, deadlines.authority_outcome_due(referred))
            assert same_instant(referral.ack_escalate_at, deadlines.authority_ack_escalate(referred))
            assert same_instant(referral.outcome_escalate_at, deadlines.authority_outcome_escalate(referred))


def test_the_per_day_deadline_cache_gives_the_rules_answer_at_any_time() -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    starts = [now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400)) for _ in range(2000)]
    # Around the clock changes, midnight (UTC and London) and a bank holiday weekend.
    for day in (
        datetime(2025, 3, 30, tzinfo=UTC),
        datetime(2025, 10, 26, tzinfo=UTC),
        datetime(2025, 12, 25, tzinfo=UTC),
    ):
        starts += [day - timedelta(hours=26) + timedelta(minutes=17 * n) for n in range(200)]
    rules = [
        seed_cases.standard_triage_due,
        deadlines.reporter_feedback_due,
        deadlines.authority_ack_due,
        deadlines.authority_outcome_due,
        deadlines.authority_ack_escalate,
        deadlines.authority_outcome_escalate,
    ]
    for start in starts:
        for rule in rules:
            assert same_instant(seed_cases.cached_deadline(rule, start), rule(start)), (rule.__name__, start)


def test_every_report_opens_for_staff(codes: list[str]) -> None:
    for report in Report.objects.all():
        data_key = keystore.data_key_of(report)
        content = crypto.open_content(data_key, bytes(report.content))
        assert set(content) == {"summary", "details", "organisation_name", "internal_response", "contact"}
        assert str(content["summary"]).startswith("Seeded: ")
        contact = content["contact"]
        assert isinstance(contact, dict)
        if report.anonymity == Anonymity.ANONYMOUS:
            assert contact == {"name": "", "email": "", "phone": ""}
        assert bool(contact["email"]) == report.has_contact_email
        assert (report.organisation_hash == "") == (content["organisation_name"] == "")
        if content["organisation_name"]:
            assert report.organisation_hash == crypto.organisation_hash(str(content["organisation_name"]))


def test_the_pool_access_codes_unlock_the_reports_sealed_under_their_keys(codes: list[str]) -> None:
    reports = list(Report.objects.all())
    wraps = {bytes(r.reporter_wrapped_key): r for r in reports}
    assert len(wraps) <= KEYS
    opened_by: dict[bytes, str] = {}
    for code in codes:
        for wrapped, report in wraps.items():
            wrap = crypto.ReporterWrap(
                salt=bytes(report.reporter_kdf_salt),
                params=crypto.KdfParams(report.reporter_kdf_opslimit, report.reporter_kdf_memlimit),
                wrapped_key=wrapped,
            )
            if crypto.unwrap_key_for_reporter(wrap, code) is not None:
                opened_by[wrapped] = code
    # Every code opens something, and every seeded report opens with one of the codes.
    assert set(opened_by.values()) == set(codes)
    assert set(opened_by) == set(wraps)
    for wrapped, report in wraps.items():
        # The reporter's own way in: reference and access code.
        unlocked, data_key = report_unlock(reference=report.reference, access_code=opened_by[wrapped], client="t")
        assert unlocked.pk == report.pk
        assert data_key == keystore.data_key_of(report)
        assert str(report_read(report=unlocked, data_key=data_key).content["summary"]).startswith("Seeded: ")


def test_no_routed_report_keeps_its_helpline_sealed_copy(codes: list[str]) -> None:
    cases = list(Case.objects.select_related("report"))
    assert {case.report.status for case in cases} == {Report.Status.ROUTED}
    for case in cases:
        report = case.report
        assert report.helpline_key_id == "" and bytes(report.helpline_sealed_key) == b"", case.case_number
        assert report.custody_key_id and bytes(report.custody_wrapped_key)
        # Where the service itself would keep it: the open-cases key while open, the epoch key of the
        # destruction month once closed (closure plus the outcome's period; seeded reporters never write).
        assert report.custody_key_id == retention.custody_key_for(case)
        if case.status == Case.Status.CLOSED:
            assert case.destroy_on is not None and case.destroy_on == retention.destruction_day(case)
            assert report.custody_key_id == retention.epoch_for(case.destroy_on)
        else:
            assert case.destroy_on is None
            assert report.custody_key_id == keystore.open_key_id()
    epochs = {case.report.custody_key_id for case in cases if case.status == Case.Status.CLOSED}
    assert len(epochs) > 1
    # Each pooled key is wrapped once per custody key, not once per report.
    wraps = {(case.report.custody_key_id, bytes(case.report.custody_wrapped_key)) for case in cases}
    assert len(wraps) <= KEYS * len({key_id for key_id, _ in wraps})


def test_reports_not_routed_yet_keep_the_helpline_copy_and_are_routed_as_any_other() -> None:
    seed(40, unrouted=25, batch=30)
    waiting = list(Report.objects.filter(case__isnull=True))
    assert len(waiting) == 25
    assert Case.objects.count() == 40
    assert {report.status for report in waiting} == {Report.Status.RECEIVED}
    assert all(report.helpline_key_id and not report.custody_key_id for report in waiting)
    assert set(OutboxMessage.objects.filter(kind=ROUTE_REPORT).values_list("target_id", flat=True)) == {
        report.pk for report in waiting
    }
    report = waiting[0]
    data_key = crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))
    assert str(crypto.open_content(data_key, bytes(report.content))["summary"]).startswith("Seeded: ")
    case = report_route(report_id=report.pk)
    routed = Report.objects.get(pk=report.pk)
    assert routed.helpline_key_id == "" and routed.custody_key_id == keystore.open_key_id()
    assert keystore.data_key_of(routed) == data_key
    assert case.status == Case.Status.NEW


def test_the_id_sequences_are_past_the_seeded_rows(codes: list[str]) -> None:
    report = submit_report().report
    case = report_route(report_id=report.pk)
    assert report.pk > Report.objects.exclude(pk=report.pk).order_by("-pk").values_list("pk", flat=True)[0]
    assert case.pk > Case.objects.exclude(pk=case.pk).order_by("-pk").values_list("pk", flat=True)[0]


def test_references_and_case_numbers_stay_unique_when_they_collide(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny alphabets: many clashes within a batch and with the rows of the first run.
    monkeypatch.setattr(seed_cases, "REFERENCE_ALPHABET", "ACD")
    monkeypatch.setattr(seed_cases, "CASE_NUMBER_ALPHABET", "ACD")
    first, _ = seed(200, batch=70)
    second, _ = seed(200, batch=70)
    references = list(Report.objects.values_list("reference", flat=True))
    numbers = list(Case.objects.values_list("case_number", flat=True))
    assert len(references) == len(set(references)) == 400
    assert len(numbers) == len(set(numbers)) == 400
    redrawn = [int(re.search(r"(\d+) references or case numbers drawn again", text)[1]) for text in (first, second)]  # type: ignore[index]
    assert redrawn[1] > 0


def test_refused_in_production(settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_cases", count=1, stdout=io.StringIO())
    assert not Case.objects.exists()


def test_the_case_list_makes_the_same_number_of_queries_whatever_the_page_or_filter(codes: list[str]) -> None:
    user, _ = staff_with_mfa("list-handler")
    client = Client()
    sign_in(client, user)
    case = Case.objects.exclude(authority=None).select_related("authority", "report").first()
    assert case is not None
    assignee = Case.objects.exclude(assignee=None).values_list("assignee__username", flat=True).first()
    gss = case.authority.gss_code  # type: ignore[union-attr]
    variants: list[dict[str, str]] = [
        {},
        {"page": "3", "page_size": "25"},
        {"page_size": "25"},
        {"page_size": "100"},
        {"page": "2", "page_size": "100"},
        {"page": "400"},
        {"queue": "national"},
        {"queue": "urgent"},
        {"status": "in_triage"},
        {"status": "closed"},
        {"priority": "urgent"},
        {"authority": gss},
        {"authority": "unknown"},
        {"assignee": "none"},
        {"assignee": str(assignee)},
        {"overdue": "on"},
        {"search": case.report.reference},
        {"search": case.case_number},
        {"search": case.report.reference[:6].lower()},  # the start of a reference
        {"search": case.case_number[:7]},  # the start of a case number
        {"search": "NOTHING-HERE"},
        {"sort": "newest"},
        {"queue": "national", "status": "referred", "priority": "standard", "authority": gss, "overdue": "on"},
    ]
    client.get("/staff/cases")  # the first page after signing in may touch the session differently
    counts = {}
    for params in variants:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/staff/cases", params)
        assert response.status_code == 200, params
        counts[str(params)] = len(queries)
    # A search looks its reports up first (the start of a reference or case number, or the organisation hash):
    # one more query, the same for every search; every other variant takes the same number.
    searches = {key for key in counts if "search" in key}
    assert len({counts[key] for key in searches}) == 1, counts
    assert len({counts[key] for key in counts if key not in searches}) == 1, counts
    assert counts[next(iter(searches))] == counts["{}"] + 1, counts
    # And the pages really differ: the search finds its case, page 3 of 25 is not page 1.
    assert case.case_number in client.get("/staff/cases", {"search": case.report.reference}).content.decode()
    first = client.get("/staff/cases", {"page_size": "25"}).content
    third = client.get("/staff/cases", {"page": "3", "page_size": "25"}).content
    assert first != third
