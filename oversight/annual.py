"""The yearly report a prescribed person publishes: how many disclosures, what was done, outcomes.
National totals only, small counts suppressed: nothing that identifies a worker or an employer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, Func, OuterRef, Q, QuerySet

from oversight import published
from oversight.suppression import THRESHOLD, Table, suppress
from referrals.models import LOCAL_AUTHORITY, RECIPIENT_KINDS, AuthorityAction, AuthorityOutcome, Referral
from reports.models import AlreadyReported, Channel, ConcernType, Report
from triage.facts import COMPLETENESS_FIELDS, NOT_KNOWN, NOT_RECORDED, Known
from triage.models import Case, Outcome

LONDON = ZoneInfo("Europe/London")
# Not what an authority did: its questions and outcome are counted elsewhere, and only the independent review
# refers a case on.
NOT_AUTHORITY_ACTIONS = (AuthorityAction.Kind.QUESTION, AuthorityAction.Kind.OUTCOME, AuthorityAction.Kind.REFERRED_ON)


def shown(count: int) -> str:
    return "fewer than 5" if 0 < count < THRESHOLD else str(count)


@dataclass(frozen=True)
class Part:
    """Counts that add up to a total: suppressed together, so none can be worked out by subtraction."""

    items: list[tuple[str, int]]
    total_label: str = ""  # "" when the total is printed elsewhere in the report

    def rows(self) -> list[tuple[str, str]]:
        table = suppress(
            Table(
                row_labels=[label for label, _ in self.items],
                column_labels=["Count"],
                counts=[[count] for _, count in self.items],
            )
        )
        rows = [(label, cells[0]) for label, cells, _ in table.rows()]
        if self.total_label:
            rows.append((self.total_label, table.grand_total_text()))
        return rows


@dataclass(frozen=True)
class Share:
    """How complete one field of the national picture is: the cases where it is known out of all, with
    the two counts suppressed together (a percentage only when neither is hidden)."""

    label: str
    known: int
    cases: int

    def rows(self) -> list[tuple[str, str]]:
        table = suppress(
            Table(
                row_labels=["known", "not known"],
                column_labels=["Count"],
                counts=[[self.known], [self.cases - self.known]],
            )
        )
        known, total = table.text(0, 0), table.grand_total_text()
        if not self.cases:
            return [(self.label, "0")]  # no case in the year: known in none, as every other count says
        if table.hidden:
            return [(self.label, f"known in {known} of {total} cases")]
        return [(self.label, f"{round(100 * self.known / self.cases)}% ({known} of {total} cases)")]


@dataclass(frozen=True)
class Written:
    """Rows whose figures are already written out, suppressed where they were worked out (oversight.published)."""

    items: list[tuple[str, str]]

    def rows(self) -> list[tuple[str, str]]:
        return list(self.items)


Entry = tuple[str, int] | Part | Share | Written


@dataclass(frozen=True)
class AnnualReport:
    year: int
    sections: list[tuple[str, list[Entry]]]

    def section_rows(self) -> list[tuple[str, list[tuple[str, str]]]]:
        result = []
        for section, entries in self.sections:
            rows: list[tuple[str, str]] = []
            for entry in entries:
                rows.extend(
                    entry.rows() if isinstance(entry, Part | Share | Written) else [(entry[0], shown(entry[1]))]
                )
            result.append((section, rows))
        return result

    def rows(self) -> list[tuple[str, str, str]]:
        return [(section, label, text) for section, rows in self.section_rows() for label, text in rows]


def annual_report(year: int) -> AnnualReport:
    start = datetime(year, 1, 1, tzinfo=LONDON)
    end = datetime(year + 1, 1, 1, tzinfo=LONDON)
    reports = Report.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    cases = Case.objects.filter(report__in=reports)
    channels = dict(reports.values_list("channel").annotate(n=Count("id")).values_list("channel", "n"))
    # A report may name several concern types: each counts once for each it names (no total adds them up).
    concern_types = dict(
        reports.annotate(concern_type=Func("concern_types", function="unnest"))
        .values_list("concern_type")
        .annotate(n=Count("id"))
        .values_list("concern_type", "n")
    )
    already_reported = dict(
        reports.values_list("already_reported").annotate(n=Count("id")).values_list("already_reported", "n")
    )
    referred = Referral.objects.filter(case=OuterRef("pk"))
    to_authority = referred.filter(authority__isnull=False)
    action = cases.aggregate(
        referred=Count("id", filter=Q(Exists(to_authority))),
        independent=Count("id", filter=Q(independent_review=True)),
        police=Count("id", filter=Q(escalated_to_police=True)),
        closed=Count("id", filter=Q(status=Case.Status.CLOSED)),
        open=Count("id", filter=~Q(status=Case.Status.CLOSED)),
    )
    further_action = cases.filter(
        Q(Exists(referred)) | Q(independent_review=True) | Q(escalated_to_police=True)
    ).count()
    outcomes = dict(
        cases.exclude(outcome="").values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n")
    )
    referrals = Referral.objects.filter(case__in=cases)
    # Every referral by kind of recipient: a local authority (no body), or the national body's kind.
    by_recipient = {
        kind or LOCAL_AUTHORITY: n
        for kind, n in referrals.values_list("body__kind").annotate(n=Count("id")).values_list("body__kind", "n")
    }
    # Each authority's referral's outcome: a case referred to two authorities has two.
    authority_outcomes = dict(
        referrals.filter(authority__isnull=False)
        .exclude(outcome="")
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    authority_actions = dict(
        AuthorityAction.objects.filter(case__in=cases, referral__authority__isnull=False)
        .exclude(kind__in=NOT_AUTHORITY_ACTIONS)
        .values_list("kind")
        .annotate(n=Count("case", distinct=True))
        .values_list("kind", "n")
    )
    return AnnualReport(
        year=year,
        sections=[
            (
                "Disclosures received",
                [Part([(label, channels.get(code, 0)) for code, label in Channel.choices], total_label="Total")],
            ),
            (
                "What the disclosures were about (a disclosure may name several)",
                [(label, concern_types.get(code, 0)) for code, label in ConcernType.choices],
            ),
            (
                "Already reported to the police or the council",
                [Part([(label, already_reported.get(code, 0)) for code, label in AlreadyReported.choices])],
            ),
            (
                "What was done",
                [
                    ("Disclosures where further action was taken", further_action),
                    ("Referred to a local authority", action["referred"]),
                    ("Sent for independent national review", action["independent"]),
                    ("Referred to the police", action["police"]),
                    Part([("Closed by the end of the year", action["closed"]), ("Still open", action["open"])]),
                ],
            ),
            (
                "Referrals by kind of recipient (a case may be referred to several)",
                # No total is printed (nor the case count it would differ from): each count stands alone.
                [(label, by_recipient.get(code, 0)) for code, label in RECIPIENT_KINDS],
            ),
            (
                "What local authorities did (cases)",
                [
                    (AuthorityAction.Kind(code).label, authority_actions.get(code, 0))
                    for code in AuthorityAction.Kind.values
                    if code not in NOT_AUTHORITY_ACTIONS
                ],
            ),
            ("Helpline outcomes", [Part([(label, outcomes.get(code, 0)) for code, label in Outcome.choices])]),
            (
                "Local authority outcomes",
                [Part([(label, authority_outcomes.get(code, 0)) for code, label in AuthorityOutcome.choices])],
            ),
            ("What is known about the cases (the share of cases where each is known)", completeness(cases)),
            (published.SECTION, [Written(published.figure_rows(published.published_figures(year)))]),
        ],
    )


def completeness(cases: QuerySet[Case]) -> list[Entry]:
    """Each field of the national picture (triage.facts) and the share of the year's cases where it is
    known, as the statistics count it (oversight migration 0008's "known" dimension): one query."""
    gaps = [NOT_KNOWN, NOT_RECORDED]
    with_suspects = Q(facts__suspects__gt=0)
    known = {
        "ofsted_class": ~Q(facts__ofsted_class="") & Q(facts__isnull=False),
        "group_based": Q(facts__group_based__in=[Known.YES, Known.NO]),
        "settings": Q(facts__settings__len__gt=0),
        "looked_after": Q(facts__looked_after__in=[Known.YES, Known.NO]),
        "placed_out_of_area": Q(facts__placed_out_of_area__in=[Known.YES, Known.NO]),
        "missing_episodes": Q(facts__missing_episodes__in=[Known.YES, Known.NO]),
        "suspects": Q(facts__suspects__isnull=False),
        "suspect_ethnicity": with_suspects & ~Q(facts__suspect_ethnicity__has_any_keys=gaps),
        "suspect_nationality": with_suspects & ~Q(facts__suspect_nationality__has_any_keys=gaps),
    }
    counts = cases.aggregate(
        all=Count("id"), **{name: Count("id", filter=known[name]) for name, _ in COMPLETENESS_FIELDS}
    )
    return [Share(label, counts[name], counts["all"]) for name, label in COMPLETENESS_FIELDS]
