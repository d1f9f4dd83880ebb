"""The rotation drill: the helpline key is rotated while a worker routes new reports (rotation batches and
routings taken in turn, so the interleaving is the same every run), the old key is removed, and every report
still opens for staff and for its reporter; then the HMAC key is rotated and the organisation patterns are
unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from oversight import patterns
from reports.models import Report
from reports.services import SubmittedReport, report_unlock
from tests.factories import staff_user, submit_report
from tests.lifecycle.keyrings import Keys, configured_keys
from triage.case_content import case_open
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def sealed_to(sent: SubmittedReport) -> str:
    return Report.objects.get(pk=sent.report.pk).helpline_key_id


def organisation_patterns() -> list[tuple[Any, ...]]:
    """The same-organisation alerts as a reader sees them: everything but the hash-derived address and label."""
    now = timezone.now()
    return [
        (alert.title, alert.count, alert.date, alert.case_numbers, alert.evidence)
        for alert in sorted(patterns.same_organisation(now), key=lambda alert: alert.title)
    ]


def rotation_batch(*args: str) -> None:
    call_command("rotate_helpline_key", "--to", "new2", "--batch-size", "1", "--no-progress", *args)


def test_the_rotation_drill(keys: Keys, settings: Any) -> None:
    settings.PATTERN_ORGANISATION_MIN_REPORTS = 2
    names = ["Oakwood Academy", "Elm House", "Oakwood Academy", "Elm House", "Birch Lodge", "The Oakwood Academy"]
    sent = [submit_report(organisation_name=name, summary=f"Concern {n}") for n, name in enumerate(names[:5])]
    for early in sent[:2]:
        report_route(report_id=early.report.pk)
    # The new key pair is deployed: new reports are sealed to it, and both private keys are loaded.
    keys.helpline("new2", "new2", "old1")
    sent += [submit_report(organisation_name=names[5], summary="Concern 5")]
    a, x, b, c = sent[2:]
    assert [sealed_to(s) for s in (a, x, b, c)] == ["old1", "old1", "old1", "new2"]

    # A rotation batch, then the worker routes, in turn.
    rotation_batch("--max-batches", "1")
    assert [sealed_to(s) for s in (a, x, b)] == ["new2", "old1", "old1"]
    report_route(report_id=a.report.pk)  # re-sealed a moment ago: routing opens it with the new key
    report_route(report_id=x.report.pk)  # not re-sealed yet: routing opens it with the old key
    assert sealed_to(a) == sealed_to(x) == ""
    rotation_batch("--max-batches", "1")
    assert sealed_to(b) == "new2"
    report_route(report_id=c.report.pk)
    rotation_batch()  # the rest: nothing is left

    # Nothing needs the old key (exit status 0: no error), so it is removed.
    call_command("key_usage", "--kind", "helpline", "--key-id", "old1", stdout=None)
    keys.helpline("new2", "new2")
    report_route(report_id=b.report.pk)  # the worker goes on, with the new key alone

    supervisor = staff_user()
    for n, submitted in enumerate(sent):
        case = Case.objects.select_related("report").get(report_id=submitted.report.pk)
        assert case_open(case=case, acting_user=supervisor).content["summary"] == f"Concern {n}"
        report, _ = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
        assert report.pk == submitted.report.pk

    # The HMAC key is rotated: the same organisations, the same reports behind each pattern.
    before = organisation_patterns()
    assert [(title, count) for title, count, *_ in before] == [
        ("The same organisation named in 2 reports", 2),
        ("The same organisation named in 3 reports", 3),
    ]
    keys.hmac("h1", "h0")
    call_command("rotate_hmac_key", "--to", "h1", "--no-progress")
    call_command("key_usage", "--kind", "hmac", "--key-id", "h0", stdout=None)
    keys.hmac("h1")
    assert organisation_patterns() == before
    assert set(Report.objects.values_list("organisation_hash_key_id", flat=True)) == {"h1"}
    # And a report made after the change joins its organisation's earlier ones.
    elm = report_route(report_id=submit_report(organisation_name="Elm House").report.pk)
    elm_pattern = next(
        alert for alert in patterns.same_organisation(timezone.now()) if elm.case_number in alert.case_numbers
    )
    assert elm_pattern.count == 3
    assert set(elm_pattern.case_numbers) == {
        elm.case_number,
        *(Case.objects.get(report_id=s.report.pk).case_number for s in (sent[1], sent[3])),
    }
