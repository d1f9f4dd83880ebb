"""The figures the whistleblowing field compares itself on (Service Standard point 10: publish performance),
each beside the benchmarks set in ``settings.PUBLISHED_BENCHMARKS``: for national oversight and the annual
report (all of England), and for a safeguarding partnership (its authorities).

Counted for the reports received in a whole year, as the annual report counts them, leaving out the reports a
reporter filed through a retaliation check-in (each is the same reporter coming back about an earlier report,
and counts there). Everything is counted as of the end of the day before (reports received, reporters coming
back, cases closed), so that nobody watching a small area's figures sees a report, or a reporter, arrive.
Each figure's counts are suppressed as every other figure is (``oversight.suppression``): a percentage only
when neither of its counts is hidden. Reports per 100,000 people are worked out over the authorities whose
population the directory holds (mySociety's 2020 estimates, ``directory.models.POPULATION_YEAR``), their count of
reports suppressed alone as the median's closed cases are. Metadata only: nothing here reads what anybody wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Aggregate, Count, DateField, Exists, FloatField, Func, IntegerField, OuterRef, Q, Sum
from django.utils import timezone

from directory.models import POPULATION_YEAR, LocalAuthority
from oversight.suppression import Table, suppress
from referrals.models import Referral
from reports.models import Anonymity, Attachment, Message, RetaliationCheckin
from triage.models import Case, Outcome

LONDON = ZoneInfo("Europe/London")
SECTION = "Published performance figures"
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED)
NO_POPULATION = (
    "Not published: the authority directory holds no population figure for these authorities, so reports per "
    "100,000 people cannot be worked out"
)
PEOPLE = 100_000
POPULATION_SOURCE = f"mySociety's estimates for {POPULATION_YEAR} (CC BY 4.0)"


@dataclass(frozen=True)
class Benchmark:
    value: str
    source: str
    date: str

    @property
    def text(self) -> str:
        return f"{self.value} ({self.source}, {self.date})"


@dataclass(frozen=True)
class Figure:
    slug: str
    title: str
    definition: str
    value: str  # what is published: a percentage with its counts, or the counts as suppressed, or why none
    suppressed: bool  # a count behind it is hidden: no percentage (or median) is given
    benchmarks: tuple[Benchmark, ...]


class LocalDay(Func):
    """A timestamp's day in England."""

    template = "((%(expressions)s) AT TIME ZONE 'Europe/London')::date"
    output_field = DateField()


class DaysBetween(Func):
    """The whole days from the first day to the second (PostgreSQL: date - date is an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def benchmarks(slug: str) -> tuple[Benchmark, ...]:
    """The benchmarks set for a figure (none when the setting gives none)."""
    configured: dict[str, list[dict[str, str]]] = getattr(settings, "PUBLISHED_BENCHMARKS", {})
    return tuple(Benchmark(entry["value"], entry["source"], entry["date"]) for entry in configured.get(slug) or [])


def _rate(count: int, total: int, noun: str) -> tuple[str, bool]:
    """``count`` of ``total`` as a percentage, the two parts (``count`` and the rest) suppressed together as
    the annual report's shares are; only the counts, as suppressed, when either is hidden."""
    if total == 0:
        return f"No figure: no {noun}", False
    table = suppress(Table(row_labels=["yes", "no"], column_labels=["Count"], counts=[[count], [total - count]]))
    shown, of = table.text(0, 0), table.grand_total_text()
    if table.hidden:
        return f"{shown} of {of} {noun}", True
    return f"{round(100 * count / total)}% ({shown} of {of} {noun})", False


def _median(median: float | None, closed: int) -> tuple[str, bool]:
    """The median days, with how many cases it is of: none when that count is suppressed."""
    if closed == 0 or median is None:
        return "No figure: no closed cases", False
    table = suppress(Table(row_labels=["closed"], column_labels=["Count"], counts=[[closed]]))
    if table.hidden:
        return f"Not published: {table.grand_total_text()} closed cases", True
    days = f"{median:.1f}".removesuffix(".0")
    return f"{days} days (the median of {closed} closed cases)", False


def per_100000(reports: int, population: int) -> str:
    """Reports for every 100,000 people, to one decimal place (a half rounded up): 3 in 150,000 is "2.0"."""
    rate = Decimal(reports * PEOPLE) / Decimal(population)
    return str(rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _per_people(reports: int, population: int | None) -> tuple[str, bool]:
    """The reports per 100,000 people, with the count and population it is of: none when the count is
    suppressed (on its own, as the median's closed cases are) or no authority has a population."""
    if not population:
        return NO_POPULATION, False
    table = suppress(Table(row_labels=["reports"], column_labels=["Count"], counts=[[reports]]))
    if table.hidden:
        return f"Not published: {table.grand_total_text()} reports", True
    return f"{per_100000(reports, population)} ({reports} reports; population {population:,})", False


def population_note(authorities: int, with_population: int, *, national: bool) -> str:
    """Which year's population the figure is over, and how many authorities it leaves out (with their reports)."""
    those = "England's" if national else "the partnership's"
    if with_population == 0:
        return f"Population: {POPULATION_SOURCE}; the directory holds it for none of {those} {authorities} authorities."
    without = authorities - with_population
    if without == 0:
        left_out = f"All {those} {authorities} authorities have one." if authorities > 1 else "It has one."
    else:
        left_out = (
            f"{without} of {those} {authorities} authorities {'has' if without == 1 else 'have'} none: "
            f"{'it is' if without == 1 else 'they are'} left out, with {'its' if without == 1 else 'their'} reports."
        )
    return (
        f"Population: {POPULATION_SOURCE}, the people living in the {with_population} "
        f"{'authority' if with_population == 1 else 'authorities'} that have one. {left_out} Reports not yet "
        "given an authority are left out too."
    )


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LONDON)


def year_cases(year: int, authority_ids: Sequence[int] | None = None, *, today: date | None = None) -> Any:
    """The cases of the reports received in ``year`` before ``today`` (not those filed through a retaliation
    check-in), all of
    England or, with ``authority_ids``, a partnership's: a case whose authority, or one of whose referrals'
    authorities, it covers, never a concern about one of its own councils (as the statistics count them)."""
    start = datetime(year, 1, 1, tzinfo=LONDON)
    end = min(datetime(year + 1, 1, 1, tzinfo=LONDON), day_start(today or timezone.localdate()))
    cases = Case.objects.filter(
        report__submitted_at__gte=start, report__submitted_at__lt=end, report__retaliation_of__isnull=True
    )
    if authority_ids is None:
        return cases
    own = list(authority_ids)
    referred_here = Referral.objects.filter(case=OuterRef("pk"), authority__in=own)
    return cases.filter(Q(authority__in=own) | Q(Exists(referred_here))).exclude(conflict_authority__in=own)


def published_counts(
    year: int, authority_ids: Sequence[int] | None = None, *, today: date | None = None
) -> dict[str, Any]:
    """Every count the figures need, as of the end of the day before ``today``, in one query. A reporter coming
    back is known by the day-only fields their visits leave (a message's or a file's day, a check-in's answer,
    the day they gave their name); whether they read a reply has no day, so it is not counted."""
    today = today or timezone.localdate()
    # Anonymous when sent: a reporter who gave their name later (/check) was anonymous until then.
    anonymous = Q(report__anonymity=Anonymity.ANONYMOUS) | Q(report__contact_given_on__isnull=False)
    report = OuterRef("report")
    came_back = (
        Q(report__contact_given_on__lt=today)
        | Q(Exists(Message.objects.filter(report=report, direction=Message.Direction.FROM_REPORTER, sent_on__lt=today)))
        | Q(
            Exists(
                Attachment.objects.filter(
                    report=report, source=Attachment.Source.REPORTER, sent_with_report=False, added_on__lt=today
                )
            )
        )
        | Q(Exists(RetaliationCheckin.objects.filter(report=report, answered_on__lt=today).exclude(answer="")))
    )
    detriment = Q(
        Exists(
            RetaliationCheckin.objects.filter(
                report=report, answer=RetaliationCheckin.Answer.YES, answered_on__lt=today
            )
        )
    )
    closed = Q(status=Case.Status.CLOSED, closed_at__lt=day_start(today)) & ~Q(outcome__in=["", Outcome.DUPLICATE])
    # About an authority (one of these, for a partnership) whose population is known: reports per 100,000 people.
    with_population = Q(authority__population__isnull=False)
    if authority_ids is not None:
        with_population &= Q(authority__in=list(authority_ids))
    counts: dict[str, Any] = year_cases(year, authority_ids, today=today).aggregate(
        reports=Count("id"),
        anonymous=Count("id", filter=anonymous),
        anonymous_back=Count("id", filter=anonymous & came_back),
        detriment=Count("id", filter=detriment),
        closed=Count("id", filter=closed),
        substantiated=Count("id", filter=closed & Q(outcome__in=SUBSTANTIATED)),
        median_days=Median(DaysBetween(LocalDay("closed_at"), LocalDay("report__submitted_at")), filter=closed),
        reports_with_population=Count("id", filter=with_population),
    )
    return counts


def scope_population(authority_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """How many authorities are in scope (all of England's, or a partnership's), how many have a population,
    and the people living in those (None when none has one)."""
    authorities = LocalAuthority.objects.all()
    if authority_ids is not None:
        authorities = authorities.filter(pk__in=list(authority_ids))
    result: dict[str, Any] = authorities.aggregate(
        authorities=Count("id"),
        with_population=Count("id", filter=Q(population__isnull=False)),
        population=Sum("population"),
    )
    return result


DEFINITIONS = {
    "anonymous-share": (
        "Anonymous share of reports",
        "Of the reports received, those whose reporter chose to stay anonymous when they sent it (including "
        "those who gave their name later). Confidential and named reports are not anonymous.",
    ),
    "anonymous-follow-up": (
        "Follow-up rate of anonymous reporters",
        "Of the anonymous reports, those whose reporter came back with the reference and access code to send "
        "a message or a file, answer a check-in or give their name. Coming back only to read the helpline's "
        "replies is not counted: the service records whether a reply was read, never on which day.",
    ),
    "substantiation": (
        "Substantiation rate",
        'Of the closed cases, those closed as "Concern substantiated" or "Concern partly substantiated". '
        "Every other outcome counts as not substantiated, except duplicates, which are left out: a duplicate "
        "is counted in the case it duplicates.",
    ),
    "days-to-close": (
        "Median days from report to closure",
        "The middle number of calendar days from the day a report was received to the day its case was "
        "closed, over the closed cases (duplicates left out). Cases still open are not counted.",
    ),
    "detriment": (
        "Share of reporters who say they suffered detriment",
        "Of the reports received, those whose reporter said in a check-in (at 1, 3 or 6 months, for reporters "
        "who asked for them) that something had happened to them since reporting. Only reporters who asked "
        "for check-ins are asked, so the true share may be higher.",
    ),
    "per-100000": (
        "Reports per 100,000 people",
        "The reports received for every 100,000 people living in the area: the reports about an authority whose "
        "population is known, divided by the people living in those authorities' areas and multiplied by "
        "100,000, to one decimal place.",
    ),
}


def published_figures(
    year: int, authority_ids: Sequence[int] | None = None, *, today: date | None = None
) -> list[Figure]:
    """The year's published figures as of the end of the day before ``today``, each with its definition and
    benchmarks, suppressed."""
    counts = published_counts(year, authority_ids, today=today)
    people = scope_population(authority_ids)
    values = {
        "anonymous-share": _rate(counts["anonymous"], counts["reports"], "reports"),
        "anonymous-follow-up": _rate(counts["anonymous_back"], counts["anonymous"], "anonymous reports"),
        "substantiation": _rate(counts["substantiated"], counts["closed"], "closed cases"),
        "days-to-close": _median(counts["median_days"], counts["closed"]),
        "detriment": _rate(counts["detriment"], counts["reports"], "reports"),
        "per-100000": _per_people(counts["reports_with_population"], people["population"]),
    }
    notes = {
        "per-100000": population_note(people["authorities"], people["with_population"], national=authority_ids is None),
    }
    return [
        Figure(
            slug=slug,
            title=title,
            definition=f"{definition} {notes[slug]}" if slug in notes else definition,
            value=values[slug][0],
            suppressed=values[slug][1],
            benchmarks=benchmarks(slug),
        )
        for slug, (title, definition) in DEFINITIONS.items()
    ]


def figure_rows(figures: list[Figure]) -> list[tuple[str, str]]:
    """The figures as (measure, text) rows, for the annual report's CSV and HTML: each figure, then each of its
    benchmarks, then what it means."""
    rows: list[tuple[str, str]] = []
    for figure in figures:
        rows.append((figure.title, figure.value))
        rows += [(f"{figure.title}: benchmark", benchmark.text) for benchmark in figure.benchmarks]
        rows.append((f"{figure.title}: what it counts", figure.definition))
    return rows
