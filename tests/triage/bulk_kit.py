"""Many cases at once for the bulk triage tests: one report sent and routed as the service does, then copied
(each copy its own reference, case number and row, the same sealed content), since sending hundreds through
the key derivation would take minutes."""

from __future__ import annotations

import secrets
from typing import Any

from core.identifiers import ALPHABET
from reports.models import Report
from tests.factories import routed_case
from triage.models import Case


def _code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def cases_made(count: int, **overrides: Any) -> list[Case]:
    """``count`` cases in triage like one routed from a report sent with ``overrides``."""
    first = routed_case(**overrides)
    cases = [first]
    if count <= 1:
        return cases
    template = Report.objects.get(pk=first.report_id)
    reports = []
    for _ in range(count - 1):
        copy = Report.objects.get(pk=first.report_id)
        copy.pk = None
        copy.reference = _code(8)
        reports.append(copy)
    reports = Report.objects.bulk_create(reports)
    made = []
    for report in reports:
        case = Case.objects.get(pk=first.pk)
        case.pk = None
        case.report = report
        case.case_number = f"{first.case_number[:5]}{_code(6)}"
        made.append(case)
    cases += Case.objects.bulk_create(made)
    assert template.reference not in {report.reference for report in reports}
    return list(Case.objects.filter(pk__in=[case.pk for case in cases]).select_related("report").order_by("pk"))
