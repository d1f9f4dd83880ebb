"""core.rows.rows_update: many rows' fields saved in one statement, each value as its own field prepares it."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.rows import rows_update
from reports.models import Report
from tests.factories import staff_user
from tests.triage.bulk_kit import cases_made
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def test_each_row_gets_its_own_values_in_one_statement() -> None:
    user = staff_user("rows-supervisor")
    first, second, third = cases_made(3)
    first.assignee, first.destroy_on, first.status = user, date(2030, 1, 31), Case.Status.CLOSED
    second.assignee, second.destroy_on = None, None
    third.assignee, third.destroy_on = user, date(2029, 2, 28)
    with CaptureQueriesContext(connection) as queries:
        assert rows_update([first, second, third], ["assignee", "destroy_on", "status"]) == 3
    assert len(queries) == 1
    saved = {case.pk: case for case in Case.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert (saved[first.pk].assignee_id, saved[first.pk].destroy_on, saved[first.pk].status) == (
        user.pk,
        date(2030, 1, 31),
        "closed",
    )
    assert (saved[second.pk].assignee_id, saved[second.pk].destroy_on) == (None, None)
    assert saved[third.pk].destroy_on == date(2029, 2, 28) and saved[third.pk].status == Case.Status.NEW
    report = Report.objects.get(pk=first.report_id)
    report.helpline_sealed_key = b"\x00\x01bytes"
    rows_update([report], ["helpline_sealed_key"])
    assert bytes(Report.objects.get(pk=report.pk).helpline_sealed_key) == b"\x00\x01bytes"


def test_no_rows_or_no_fields_run_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert rows_update([], ["status"]) == 0
    assert len(queries) == 0
