"""The time canary's kit: the moment reporters act, the traces it leaves in a time, and reading them out of a
pg_dump (tests/privacy/test_time_canary.py and the canaries of later features)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services import outbox_process

LONDON = ZoneInfo("Europe/London")
# Reporters act at this moment; none of its traces may outlive the urgent clock.
CANARY_MOMENT = datetime(2026, 12, 2, 13, 37, 42, 123456, tzinfo=LONDON)
TRACES = ("13:37", "37:42", ".123456")
# The urgent triage clock while it runs: on the report until it is routed, then on its case.
URGENT_CLOCK = {("reports_report", "urgent_triage_due_at"), ("triage_case", "triage_due_at")}
INSERT = re.compile(r"^INSERT INTO public\.(\w+) \(([^)]*)\) VALUES \((.*)\);$")
# Before reporters act, and wherever a canary test is not travelling to one of its moments: rows the test makes
# outside its moments (staff, the rota) carry this time, never the wall clock's, which could hold a trace by chance.
SETUP_MOMENT = datetime(2026, 12, 1, 8, 0, 0, tzinfo=LONDON)
# Django's record of when each migration ran is the wall clock at the test database's creation: never reporters'.
NOT_TRACES = ("INSERT INTO public.django_migrations ",)


def traces_in(dump: str, traces: tuple[str, ...] = TRACES) -> list[tuple[str, str, str]]:
    """(table, column, value) for every value of the dump that holds a trace of the canary moment."""
    found = []
    for line in dump.splitlines():
        if not any(trace in line for trace in traces) or line.startswith(NOT_TRACES):
            continue
        match = INSERT.match(line)
        assert match, f"a trace outside an INSERT row: {line[:200]}"
        table, columns, values = match.groups()
        # Timestamps are quoted and hold no comma or quote, so the quoted values can be lined up by position.
        names = [name.strip().strip('"') for name in columns.split(",")]
        cells = re.findall(r"\s*('(?:[^']|'')*'|[^,]+)\s*(?:,|$)", values)
        for name, cell in zip(names, cells, strict=False):
            if any(trace in cell for trace in traces):
                found.append((table, name, cell.strip()))
        if not found or found[-1][0] != table:
            found.append((table, "?", line[:200]))
    return found


def run_outbox() -> None:
    """What the worker does within the second: route, record replies and files, scan and clean the files, send
    the emails they queue. A row waiting to be tried again (a file while the scanner is down) is left."""
    for _ in range(10):
        due = OutboxMessage.objects.filter(processed_at__isnull=True).exclude(claimed_until__gt=timezone.now())
        pending = list(due.values_list("pk", flat=True))
        if not pending:
            return
        for outbox_id in pending:
            outbox_process(outbox_id=outbox_id)
    raise AssertionError("the outbox did not drain")
