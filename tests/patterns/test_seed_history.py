"""manage.py seed_history: a weekly synthetic history with seasonality and noise, and the clusters each
--inject SPEC names, checked in the database (the grammar is in --help; a bad SPEC is a CommandError)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from core.timetrail import day_start
from oversight.series import period_start
from referrals.models import Referral
from reports.models import Report
from tests.patterns.kit import NOW, ROTHERHAM, YORKSHIRE, seed
from triage.models import Case

pytestmark = [pytest.mark.usefixtures("local_authorities")]

CONCERN = "information_not_shared"


def week_bounds(week: int) -> tuple[object, object]:
    start = period_start(NOW.date()) - timedelta(weeks=week)
    return day_start(start), day_start(start + timedelta(weeks=1))


def in_week(week: int) -> object:
    start, end = week_bounds(week)
    return Case.objects.filter(report__submitted_at__gte=start, report__submitted_at__lt=end)


@time_machine.travel(NOW, tick=False)
def test_a_history_has_reports_in_every_week_and_no_organisation_repeats(db: None) -> None:
    seed(12, per_week=40)
    counts = [in_week(week).count() for week in range(1, 12)]
    assert all(count > 10 for count in counts), counts
    assert len(set(counts)) > 1  # noise: not the same figure every week
    assert Case.objects.filter(report__submitted_at__gte=day_start(NOW.date() + timedelta(days=1))).count() == 0
    named = Report.objects.exclude(organisation_hash="").count()
    assert named == 0  # background reports name no organisation, so none repeats by chance


@time_machine.travel(NOW, tick=False)
def test_a_surge_adds_reports_of_its_concern_type_in_its_region_and_week(db: None) -> None:
    seed(12, f"surge:{YORKSHIRE.lower()}:{CONCERN}:3:8", per_week=40)
    surge_week = in_week(3).filter(authority__region=YORKSHIRE, report__concern_types__contains=[CONCERN]).count()
    others = [
        in_week(week).filter(authority__region=YORKSHIRE, report__concern_types__contains=[CONCERN]).count()
        for week in (1, 2, 4, 5, 6)
    ]
    assert surge_week >= 7  # (8 - 1) times an average of under 1 a week (taken as 1), on top of the background
    assert surge_week > 2 * max(others), (surge_week, others)


@time_machine.travel(NOW, tick=False)
def test_a_late_authority_stops_acknowledging_from_its_week(db: None) -> None:
    seed(8, f"late:{ROTHERHAM}:3", per_week=20)
    referrals = Referral.objects.filter(authority__gss_code=ROTHERHAM)
    before = referrals.filter(referred_at__lt=week_bounds(4)[1])
    after = referrals.filter(case__report__submitted_at__gte=week_bounds(3)[0])
    assert before.count() >= 20 and after.count() >= 20
    assert before.filter(acknowledged_at__isnull=False).count() > 0.8 * before.count()
    assert after.filter(acknowledged_at__isnull=False).count() == 0


@time_machine.travel(NOW, tick=False)
def test_an_organisation_is_named_in_its_reports_across_its_authorities(db: None) -> None:
    seed(6, "organisation:Acme Care Ltd:4:3:2", per_week=20)
    named = Case.objects.exclude(report__organisation_hash="")
    assert named.count() == 4
    assert len({case.report.organisation_hash for case in named}) == 1
    assert named.values("authority").distinct().count() == 3
    start, end = week_bounds(2)
    assert named.filter(report__submitted_at__gte=start, report__submitted_at__lt=end).count() == 4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("flood:Yorkshire:other:1:3", "not a SPEC"),
        ("surge:Atlantis:other:1:3", "no region"),
        (f"surge:{YORKSHIRE}:sorcery:1:3", "no concern type"),
        (f"surge:{YORKSHIRE}:other:1:0.5", "FACTOR must be more than 1"),
        (f"surge:{YORKSHIRE}:other:1:lots", "FACTOR must be a number"),
        (f"surge:{YORKSHIRE}:other:99:3", "WEEK must be less than --weeks"),
        (f"surge:{YORKSHIRE}:other:-1:3", "WEEK must be at least 0"),
        ("late:E99999999:1", "no local authority"),
        (f"late:{ROTHERHAM}", "expected late:GSS_CODE:WEEK"),
        ("organisation:Acme:2:3:1", "AUTHORITIES must be at most REPORTS"),
        ("organisation:Acme:two:1:1", "REPORTS must be a whole number"),
        ("organisation::2:1:1", "expected organisation:NAME:REPORTS:AUTHORITIES:WEEK"),
    ],
)
def test_a_bad_spec_is_refused_with_a_clear_message(db: None, spec: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        seed(4, spec)
    assert Case.objects.count() == 0  # nothing seeded


def test_the_help_documents_the_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("seed_history", "--help", stdout=io.StringIO())
    shown = " ".join(capsys.readouterr().out.split())
    for grammar in (
        "surge:REGION:CONCERN_TYPE:WEEK:FACTOR",
        "late:GSS_CODE:WEEK",
        "organisation:NAME:REPORTS:AUTHORITIES:WEEK",
        "0 is this week",
    ):
        assert grammar in shown
