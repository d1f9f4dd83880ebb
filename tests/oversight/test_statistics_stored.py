"""Suppression worked out in the workers, not in the page (issue 22.20: a sparse national year took 6-9 s
of a page request the first time it was asked for). After each refresh of the summary views the workers
store what every year and scope hides; pages read it, and work it out themselves only when nothing is
stored for their figures. Counted, never timed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from oversight import selectors, suppression, tasks
from oversight.models import StoredStatistics, StoredSuppression
from oversight.periods import Period, quarter_of
from oversight.suppression import Hidden
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import MANCHESTER, ROTHERHAM, SHEFFIELD, YORKSHIRE, referred_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


class Counted:
    def __init__(self) -> None:
        self.calls = 0


@pytest.fixture(autouse=True)
def _nothing_remembered_in_this_process() -> Iterator[None]:
    suppression.forget()
    yield
    suppression.forget()


@pytest.fixture
def worked_out(monkeypatch: pytest.MonkeyPatch) -> Counted:
    """How many times the suppression is worked out from the figures."""
    counted = Counted()
    original = suppression._suppress_together

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(suppression, "_suppress_together", counting)
    return counted


class NothingStored:
    """A store that never holds anything: the suppression worked out afresh."""

    def get(self, digest: str) -> Hidden | None:
        return None

    def put(self, digest: str, hidden: Hidden) -> None:
        pass


def referrals() -> None:
    # Small, uneven counts in two regions: figures hidden by the first rule and others hidden beside them.
    for code in (ROTHERHAM, ROTHERHAM, ROTHERHAM, SHEFFIELD, MANCHESTER):
        referred_case(code)


def shown(tables: list[tuple[str, str, suppression.Table]]) -> list[tuple[Any, ...]]:
    """Everything a page shows of the tables: titles, labels, counts and what is hidden."""
    return [
        (slug, title, t.row_labels, t.column_labels, t.counts, set(t.primary), set(t.secondary))
        for slug, title, t in tables
    ]


def scopes() -> list[selectors.Scope]:
    return [selectors.NATIONAL, selectors.partnership_scope(partnership_of_region(YORKSHIRE))]


def test_after_a_refresh_no_page_works_the_suppression_out(worked_out: Counted) -> None:
    referrals()
    yorkshire = partnership_of_region(YORKSHIRE)  # set up before the refresh: the workers prepare its figures
    tasks.refresh_statistics()
    suppression.forget()  # the pages run in other processes: nothing of the worker's is in their memory
    worked_out.calls = 0
    national, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    board, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=yorkshire)
    first = selectors.first_month()
    assert first is not None
    quarter = Period(first.year, quarter_of(first)).slug

    for client, url in (
        (national, "/staff/statistics"),
        (national, "/staff/statistics.csv"),
        (national, f"/staff/statistics?period={quarter}"),
        (board, "/staff/statistics"),
        (board, "/staff/statistics.csv"),
    ):
        assert client.get(url).status_code == 200, url

    assert worked_out.calls == 0
    assert StoredStatistics.objects.exists()


def test_after_a_refresh_a_page_reads_its_tables_in_one_query_not_from_the_summary_views() -> None:
    referrals()
    tasks.refresh_statistics()
    national, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    with CaptureQueriesContext(connection) as page:
        assert national.get("/staff/statistics").status_code == 200

    read = [query["sql"] for query in page.captured_queries]
    assert not [sql for sql in read if "GROUPING" in sql or "oversight_concern_facts" in sql]
    assert len([sql for sql in read if "oversight_stored_statistics" in sql]) == 1


def test_what_the_workers_store_is_what_working_it_out_afresh_gives() -> None:
    referrals()
    tasks.refresh_statistics()
    year = Period(timezone.localdate().year)

    for scope in scopes():
        for period in [year, *year.quarters()]:
            suppression.forget()
            stored = shown(selectors.statistics_tables(scope, period=period))
            suppression.forget()
            measures, tables = selectors._year_tables(scope, year, NothingStored())
            afresh = shown(
                [(slug, selectors._titled(slug, title, period), tables[(slug, period)]) for slug, title in measures]
            )
            assert stored == afresh, (scope, period)
        assert any(primary or secondary for *_, primary, secondary in afresh), "something is hidden"


def test_with_nothing_stored_the_page_works_it_out_and_stores_it(worked_out: Counted) -> None:
    referrals()
    selectors.stats_refresh()  # the new figures, but nothing worked out for them yet
    national, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    assert national.get("/staff/statistics").status_code == 200
    assert worked_out.calls == 1
    suppression.forget()
    assert national.get("/staff/statistics.csv").status_code == 200
    assert worked_out.calls == 1  # read from the store this time


def test_new_figures_are_never_read_from_an_old_answer(worked_out: Counted) -> None:
    """The answer is kept under a digest of the figures: once they change, the old one is not read, and
    a refresh after that drops it (once no page can still be reading the old figures)."""
    referrals()
    tasks.refresh_statistics()
    before = set(StoredSuppression.objects.values_list("digest", flat=True))
    referred_case(SHEFFIELD)
    selectors.stats_refresh()
    suppression.forget()
    worked_out.calls = 0
    national, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    assert national.get("/staff/statistics").status_code == 200
    assert worked_out.calls == 1

    with time_machine.travel(timezone.now() + selectors.STORED_GRACE + timedelta(minutes=1)):
        tasks.refresh_statistics()
    after = set(StoredSuppression.objects.values_list("digest", flat=True))
    assert after - before, "the new figures' answers are stored"
    assert before - after, "the old figures' answers (national, Yorkshire's board) are dropped"
    assert set(StoredStatistics.objects.values_list("version", flat=True)) == {selectors._facts_version()}
