"""How much work the statistics take, counted rather than timed (issue 22.20: the national page took 9.7 s
in the soak, nearly all of it exact-fraction arithmetic in the suppression, solved again from scratch for
the page, for its CSV and after every figure it protected). Timings belong to the benchmarks
(``bench/oversight_stats.py``); these tests pin the work that made them slow.

What is suppressed is not in question here: ``test_suppression_equivalence.py`` checks it is exactly what
the rule published before it was made fast."""

from __future__ import annotations

import fractions
import random
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import User
from oversight import periods, selectors, suppression
from oversight.periods import Measure, Period
from tests.factories import attachment_make, partnership_of_region, signed_in_as
from tests.oversight.helpers import ROTHERHAM, SHEFFIELD, YORKSHIRE, referred_case

YEAR = 2025


@pytest.fixture(autouse=True)
def _nothing_remembered() -> Iterator[None]:
    forget = getattr(suppression, "forget", None)
    if forget:
        forget()
    yield
    if forget:
        forget()


def sparse_year(seed: int, rows: int = 12, cols: int = 4) -> list[list[list[int]]]:
    rng = random.Random(seed)
    pick = [0] * 6 + [1, 2, 3, 4, 5, 7, 12, 30]
    return [[[rng.choice(pick) for _ in range(cols)] for _ in range(rows)] for _ in range(4)]


def measures(seed: int = 2) -> list[Measure]:
    return [
        Measure(
            slug=slug,
            title=slug,
            row_labels=[f"authority {r}" for r in range(12)],
            column_labels=["on time", "late", "missed", "pending"],
            quarter_counts=sparse_year(seed + n),
        )
        for n, slug in enumerate(("ack", "outcome"))
    ]


def published(result: dict[tuple[str, Period], suppression.Table]) -> dict[Any, tuple[set[Any], set[Any]]]:
    return {key: (set(t.primary), set(t.secondary)) for key, t in result.items()}


class Calls:
    def __init__(self) -> None:
        self.count = 0


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> Calls:
    calls = Calls()
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.count += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_the_same_figures_are_suppressed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page, its CSV and the five periods of a year are the same tables: what they hide is worked out
    once for the same figures (the lines of the tables are set up once per suppression worked out), and
    each caller gets tables of its own."""
    solved = counting(monkeypatch, suppression, "_lines")
    shared = (("ack", "outcome"),)

    first = periods.publish_year(measures(), year=YEAR, shared_row_totals=shared)
    expected = published(first)
    first[("ack", Period(YEAR))].secondary.add((99, 99))  # a caller changing its copy changes nothing else
    again = periods.publish_year(measures(), year=YEAR, shared_row_totals=shared)
    other = periods.publish_year(measures(seed=7), year=YEAR, shared_row_totals=shared)

    assert solved.count == 2  # the first figures, then the other figures
    assert published(again) == expected
    assert published(other) != expected


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_the_statistics_page_and_its_csv_suppress_the_year_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for code in (ROTHERHAM, ROTHERHAM, SHEFFIELD):
        referred_case(code)
    selectors.stats_refresh()
    board, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    solved = counting(monkeypatch, suppression, "_lines")

    assert board.get("/staff/statistics").status_code == 200
    assert board.get("/staff/statistics.csv").status_code == 200

    assert solved.count == 1


def test_suppression_counts_in_whole_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact fractions made each step of the elimination cost an object and a greatest common divisor:
    rows are kept as whole numbers instead (a whole multiple of the fraction row, so just as exact)."""
    made = Calls()
    original = fractions.Fraction.__new__

    def counted(cls: type, *args: Any, **kwargs: Any) -> Any:
        made.count += 1
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(fractions.Fraction, "__new__", counted)

    periods.publish_year(measures(), year=YEAR, shared_row_totals=(("ack", "outcome"),))

    assert made.count == 0


def test_the_equations_are_solved_once_and_kept_solved_as_figures_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each figure protected hides another, and the equations must be solved again with it hidden: a year
    at 100,000 cases took 57 such rounds. The equations are set up and solved once per suppression, then
    only brought up to date with the figures hidden since."""
    set_up = counting(monkeypatch, suppression._Equations, "__init__")
    rounds = counting(monkeypatch, suppression._Equations, "add")

    periods.publish_year(measures(), year=YEAR, shared_row_totals=(("ack", "outcome"),))

    assert set_up.count == 1
    assert rounds.count > 2  # this year needs several rounds: the test would prove nothing otherwise


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_the_case_facts_are_summed_in_one_scan_exactly_as_five_queries_summed_them() -> None:
    """At a million cases the summary view has some 300,000 rows, and the page scanned it once per sum. One
    scan with grouping sets gives the same rows, for national oversight and a partnership, with referrals to
    national bodies among them (counted by recipient only)."""
    from datetime import timedelta

    from django.db.models import F, Sum
    from django.utils import timezone

    from oversight.models import CaseFact
    from referrals import services as referral_services
    from referrals.models import AuthorityOutcome, Referral
    from tests.factories import national_body
    from tests.oversight.helpers import MANCHESTER, helpline_supervisor, new_case
    from triage.models import Case, Outcome

    cases = [referred_case(code) for code in (ROTHERHAM, ROTHERHAM, ROTHERHAM, SHEFFIELD, SHEFFIELD, MANCHESTER)]
    cases += [new_case(code) for code in (ROTHERHAM, MANCHESTER)]
    Referral.objects.filter(case=cases[0]).update(acknowledged_at=F("ack_due_at") - timedelta(hours=1))
    Referral.objects.filter(case=cases[1]).update(
        acknowledged_at=F("ack_due_at") + timedelta(hours=1),
        outcome=AuthorityOutcome.EARLY_HELP,
        outcome_at=timezone.now(),
    )
    Referral.objects.filter(case=cases[3]).update(ack_due_at=timezone.now() - timedelta(days=2))
    Case.objects.filter(pk__in=[cases[4].pk, cases[6].pk]).update(status="closed", outcome=Outcome.SUBSTANTIATED)
    Case.objects.filter(pk=cases[7].pk).update(status="closed", outcome=Outcome.NOT_SUBSTANTIATED)
    # Referrals to national bodies: a referred case to the police too, a new one sent for review.
    referral_services.case_escalate_police(
        case=cases[2],
        force=national_body("police-south-yorkshire"),
        how_sent="telephone",
        acting_user=helpline_supervisor(),
    )
    referral_services.case_send_for_review(
        case=new_case(SHEFFIELD), reason="About the council.", acting_user=helpline_supervisor()
    )
    # Files: a case referred twice (to its authority and the police) counts its files once.
    for case, source in (
        (cases[2], "reporter"),
        (cases[2], "reporter"),
        (cases[2], "helpline"),
        (cases[6], "reporter"),
    ):
        attachment_make(case, source=source)
    selectors.stats_refresh()

    def five_queries(facts: Any) -> selectors.CaseFactSums:
        referred = {
            column: list(
                facts.filter(**{f"{column}__isnull": False})
                .values("authority_id", column, "month")
                .annotate(total=Sum("cases"))
            )
            for column in ("ack", "outcome_timeliness")
        }
        closed = list(
            facts.filter(status="closed").exclude(outcome="").values("outcome", "month").annotate(total=Sum("cases"))
        )
        recorded = list(
            facts.exclude(authority_outcome="").values("authority_outcome", "month").annotate(total=Sum("cases"))
        )
        by_recipient = list(
            facts.filter(recipient__isnull=False).values("recipient", "month").annotate(total=Sum("cases"))
        )
        files = [
            {"source": source, "month": row["month"], "total": row["total"]}
            for source, column in (("reporter", "files_from_reporter"), ("caller", "files_from_caller"))
            for row in facts.values("month").annotate(total=Sum(column))
        ]
        return selectors.CaseFactSums(
            referred=referred, closed=closed, recorded=recorded, by_recipient=by_recipient, files=files
        )

    def canonical(sums: selectors.CaseFactSums) -> Any:
        rows = lambda found: sorted(tuple(sorted(row.items())) for row in found)  # noqa: E731
        return (
            {column: rows(found) for column, found in sums.referred.items()},
            rows(sums.closed),
            rows(sums.recorded),
            rows(sums.by_recipient),
            rows(sums.files),
        )

    for scope in (selectors.NATIONAL, selectors.partnership_scope(partnership_of_region(YORKSHIRE))):
        facts = selectors._scoped(CaseFact.objects.all(), scope)
        expected = canonical(five_queries(facts))
        assert canonical(selectors._case_fact_sums(facts)) == expected, scope
        assert expected[0]["ack"] and expected[1] and expected[2] and expected[3], "each sum has rows to compare"
        recipients = {dict(row)["recipient"] for row in expected[3]}
        assert {"local_authority", "police_force", "review_team"} <= recipients, scope
    national = {row["source"]: row["total"] for row in selectors._case_fact_sums(CaseFact.objects.all()).files}
    assert national == {"reporter": 3, "caller": 1}
