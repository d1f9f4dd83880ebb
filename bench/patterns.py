"""Pattern detection, measured: `.venv/bin/python bench/patterns.py [--weeks 156] [--replay 12] [--seed 29]`.

Issue 29's detection benchmark. On its own database (helpline_bench_patterns, or BENCH_PATTERNS_DATABASE, or
--database; created and migrated if missing, its reports, cases, referrals and pattern alerts emptied at the
start of every run, so it runs again at once):

  1. ``manage.py seed_history``: a synthetic history of --weeks weeks (3 years) over all 153 authorities,
     --per-week background reports nationally (60; weekly Poisson counts with a +-30% yearly season, spread
     over the authorities by the bulk seeder's weights), with three injected clusters (--inject SPECs):
       - a surge: East of England x information not shared (a mid-size series; --surge-region,
         --surge-concern), --surge-factor (3) times that series' background weekly average, in one week
         (--surge-weeks: in that many weeks in a row);
       - a late authority: Rotherham (E08000018) gets --authority-referrals (8) referrals a week throughout
         and acknowledges none from a week on;
       - an organisation named in 4 reports across 3 authorities in one week;
  2. replays detection week by week over the last --replay weeks: for each week, ``detect(now)`` as of the
     Monday 00:00 (London) after it, so that the week just ended is the one judged and nothing later is read;
     and, on the same data as of the same moments, THE OLD RULES (bench/naive_rules.py: the fixed thresholds
     detection replaced, for comparison only);
  3. scores both (bench/pattern_scoring.py): each cluster found or not and its time to detection in weeks
     (0: found on judging the week it started), and the false alerts per week (alerts explaining no
     injected cluster) on the clean weeks (weeks with no cluster in them), counted once in the week first
     raised, and as shown in each week's run;
  4. times one detection run (``detect()`` as of the last week, median of RUNTIME_RUNS) and counts its series;
     for a surge that was missed, says why: the week's count, the series' expected count and bound, its
     p-value, and what Benjamini-Hochberg over every series of that run would have needed.

The goal (issue 29): every injected cluster found within 2 weeks, with at most 1 false alert a week nationally
after the multiple-testing control. There are no assertions on it: GOAL MET / MISSED only says how this run
compared. Figures go to bench/results/patterns.json. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
import time
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

from bench import harness, procs  # noqa: E402
from bench.harness import say  # noqa: E402
from bench.pattern_scoring import (  # noqa: E402
    Alert,
    Cluster,
    FalseAlerts,
    Found,
    Run,
    detection,
    explains,
    false_alerts,
    goal_met,
)

RESULTS = ROOT / "bench" / "results" / "patterns.json"
WEEKS = 3 * 52
REPLAY_WEEKS = 12
SEED = 29
PER_WEEK = 60.0
AUTHORITY_REFERRALS = 8
RUNTIME_RUNS = 5

# The injected clusters. Weeks count back from this week (0), as seed_history's SPECs do.
# A mid-size series: East of England is the middle of the 9 regions by reports in the seeded history, and
# this concern type about the median of the 99 region x concern type series (0.7 reports a week at 60 a
# week nationally). --surge-region "Yorkshire and The Humber" is the largest region (2.2 a week).
SURGE_REGION = "East of England"
SURGE_CONCERN = "information_not_shared"
SURGE_FACTOR = 3.0
SURGE_WEEK = 9  # its first week (--surge-weeks: in that many weeks from it on)
ORGANISATION = "Brightwater Children's Homes Ltd"
ORGANISATION_REPORTS = 4
ORGANISATION_AUTHORITIES = 3
ORGANISATION_WEEK = 7
LATE_AUTHORITY = "E08000018"  # Rotherham
LATE_WEEK = 4

GOAL_WEEKS = 2
GOAL_FALSE_PER_WEEK = 1.0

# Everything a run writes into, emptied first: seed_history's rows and the alerts of earlier replays.
EMPTY = "TRUNCATE reports_report, triage_case, triage_referral, oversight_pattern_alert CASCADE"


def results_file(args: argparse.Namespace) -> Path:
    """bench/results/patterns.json for the defaults; a name saying what differs otherwise."""
    differs = [
        f"{name}-{value}"
        for name, value, default in (
            ("weeks", args.weeks, WEEKS),
            ("replay", args.replay, REPLAY_WEEKS),
            ("seed", args.seed, SEED),
            ("per-week", f"{args.per_week:g}", f"{PER_WEEK:g}"),
            ("referrals", args.authority_referrals, AUTHORITY_REFERRALS),
            ("factor", f"{args.surge_factor:g}", f"{SURGE_FACTOR:g}"),
            ("region", args.surge_region.lower().replace(" ", "-"), SURGE_REGION.lower().replace(" ", "-")),
            ("concern", args.surge_concern, SURGE_CONCERN),
            ("surge-weeks", args.surge_weeks, 1),
        )
        if value != default
    ]
    return RESULTS.with_name("-".join(["patterns", *differs]) + ".json")


def default_database() -> str:
    return os.environ.get("BENCH_PATTERNS_DATABASE") or "helpline_bench_patterns"


def prepare(database: str) -> None:
    """Create and migrate the database if need be, with the authorities and development keys; empty it."""
    procs.database_create(database)
    procs.manage("migrate", "--no-input", "-v", "0", timeout=900, database=database)
    procs.manage("generate_dev_keys", database=database)
    with closing(procs.connect(database)) as conn:
        found = conn.execute("SELECT count(*) FROM triage_localauthority").fetchone()
        if not found or not found[0]:
            procs.manage("load_local_authorities", database=database)
        conn.execute(EMPTY)


def specs(args: argparse.Namespace) -> list[str]:
    return [
        *(
            f"surge:{args.surge_region}:{args.surge_concern}:{SURGE_WEEK - n}:{args.surge_factor:g}"
            for n in range(args.surge_weeks)
        ),
        f"late:{LATE_AUTHORITY}:{LATE_WEEK}",
        f"organisation:{ORGANISATION}:{ORGANISATION_REPORTS}:{ORGANISATION_AUTHORITIES}:{ORGANISATION_WEEK}",
    ]


def monday(this_week: date, weeks_back: int) -> date:
    return this_week - timedelta(weeks=weeks_back)


def clusters(this_week: date, region: str, concern: str, surge_weeks: int = 1) -> list[Cluster]:
    """What was injected, as the scoring reads it (the weeks each cluster is in the data)."""
    from core.crypto import organisation_hashes

    surge = monday(this_week, SURGE_WEEK)
    organisation = monday(this_week, ORGANISATION_WEEK)
    return [
        Cluster(
            name="surge",
            kind="surge",
            match={"region": (region,), "concern_type": (concern,)},
            start=surge,
            end=surge + timedelta(days=7 * surge_weeks - 1),
        ),
        Cluster(
            name="late authority",
            kind="authority_lateness",
            match={"authority": (LATE_AUTHORITY,)},
            start=monday(this_week, LATE_WEEK),
            end=this_week - timedelta(days=1),
        ),
        Cluster(
            name="organisation",
            kind="organisation",
            match={"organisation": tuple(h[:16] for h in organisation_hashes(ORGANISATION))},
            start=organisation,
            end=organisation + timedelta(days=6),
        ),
    ]


def as_of(judged: date) -> datetime:
    """The moment a week is judged: 00:00 London on the Monday after it."""
    from core.timetrail import day_start

    return day_start(judged + timedelta(days=7))


def detected(findings: list[Any]) -> list[Alert]:
    return [
        Alert(
            kind=str(found.kind),
            key=dict(found.key),
            period_start=found.period_start,
            period_end=found.period_end,
            identity=(str(found.kind), found.key_text, found.period_start.isoformat(), found.period_end.isoformat()),
        )
        for found in findings
    ]


def replay(this_week: date, weeks: int) -> tuple[list[Run], list[Run], list[dict[str, Any]]]:
    """Detection and the old rules, week by week over the last ``weeks`` complete weeks, oldest first."""
    from bench import naive_rules
    from oversight import detection as detecting

    new_runs, old_runs, log = [], [], []
    for back in range(weeks, 0, -1):
        judged = monday(this_week, back)
        now = as_of(judged)
        run = detecting.detect(now)
        if run.weeks.last != judged:
            raise harness.Failed(f"detection as of {now} judged the week of {run.weeks.last}, not {judged}")
        new_runs.append(Run(week=judged, alerts=detected(run.findings)))
        old_runs.append(Run(week=judged, alerts=naive_rules.old_rules(now)))
        log.append(
            {
                "week": judged.isoformat(),
                "series": run.judged,
                "detection": len(run.findings),
                "old_rules": len(old_runs[-1].alerts),
            }
        )
        say(
            f"week of {judged}: {run.judged} series judged, {len(run.findings)} alerts; "
            f"old rules {len(old_runs[-1].alerts)}"
        )
    return new_runs, old_runs, log


def runtime(this_week: date) -> dict[str, Any]:
    """One detection run as of the last complete week (median of RUNTIME_RUNS; the first stores its alerts,
    the later ones find them stored), and the old rules as of the same moment."""
    from bench import naive_rules
    from oversight import detection as detecting

    now = as_of(monday(this_week, 1))
    times, old_times, judged = [], [], 0
    for _ in range(RUNTIME_RUNS):
        began = time.perf_counter()
        judged = detecting.detect(now).judged
        times.append(time.perf_counter() - began)
        began = time.perf_counter()
        naive_rules.old_rules(now)
        old_times.append(time.perf_counter() - began)
    return {
        "series": judged,
        "detect_median_s": round(statistics.median(times), 3),
        "detect_max_s": round(max(times), 3),
        "old_rules_median_s": round(statistics.median(old_times), 3),
    }


def surge_diagnosis(this_week: date, region: str, concern: str) -> dict[str, Any]:
    """The surge series as detection judged it in the surge week: its count, background, Farrington's expected
    count, bound and p-value, and what the minimum count and Benjamini-Hochberg over every series of that
    run ask for."""
    from django.conf import settings

    from oversight import detection as detecting
    from oversight import farrington, series

    judged = monday(this_week, SURGE_WEEK)
    weeks = series.weeks_judged(judged + timedelta(days=7))
    every = [*series.concern_series(weeks), *series.facts_series(weeks), *series.lateness_series(weeks)]
    target = next((s for s in every if s.key == {"region": region, "concern_type": concern}), None)
    if target is None:
        return {"series_found": False}
    history = target.history
    full = farrington.assess(
        history,
        years_back=settings.PATTERN_YEARS_BACK,
        alpha=settings.PATTERN_ALPHA,
        known_steps=detecting.known_steps(weeks, target.first),
        min_count=0,
        periods_per_year=max(1, round(365.25 / series.period_days())),
    )
    p_values = sorted(detecting._assess(one, weeks).p_value for one in every)  # noqa: SLF001 - the run's own p-values
    m = len(every)
    q = settings.PATTERN_FDR_Q
    rank = 1 + sum(1 for p in p_values if p < full.p_value)
    background = history[:-1][-52:]
    # The smallest count that would have stood alone after the control: P(Y >= count) <= q / m under the
    # same fitted distribution, and at least the minimum count.
    alone = farrington._threshold(full.expected, full.dispersion, q / m, 0)[0]  # noqa: SLF001
    needed = max(int(alone) + 1, settings.PATTERN_MIN_COUNT)
    return {
        "series_found": True,
        "week": judged.isoformat(),
        "observed": history[-1],
        "background_mean_last_year": round(statistics.mean(background), 2) if background else None,
        "expected": round(full.expected, 2),
        "bound": None if math.isinf(full.threshold) else round(full.threshold, 2),
        "method": full.method,
        "p_value": full.p_value,
        "alarm_before_control": full.alarm,
        "min_count": settings.PATTERN_MIN_COUNT,
        "series_in_run": m,
        "bh_needs_p_at_most": q * rank / m,
        "bh_needs_p_at_most_if_alone": q / m,
        "count_needed_alone": needed,
        "factor_needed_over_expected": round(needed / full.expected, 1) if full.expected > 0 else None,
    }


def table(name: str, found: list[Found], false: FalseAlerts, every: FalseAlerts) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (
            name,
            f.cluster,
            ("found" if f.found else "missed") + (" (series alerting before it began)" if f.alerting_before else ""),
            "" if f.weeks_to_detection is None else str(f.weeks_to_detection),
        )
        for f in found
    ]
    rows.append(
        (
            name,
            "false alerts a week, clean weeks (new / shown)",
            f"{false.new_per_week} / {false.shown_per_week}",
            f"{false.weeks} weeks, max {false.new_max}",
        )
    )
    rows.append(
        (
            name,
            "false alerts a week, all weeks (new / shown)",
            f"{every.new_per_week} / {every.shown_per_week}",
            f"{every.weeks} weeks, max {every.new_max}",
        )
    )
    return rows


def scored(runs: list[Run], injected: list[Cluster]) -> dict[str, Any]:
    found = [detection(cluster, runs) for cluster in injected]
    clean = false_alerts(runs, injected)
    every = false_alerts(runs, injected, clean_only=False)
    goal = goal_met(found, clean, within_weeks=GOAL_WEEKS, per_week=GOAL_FALSE_PER_WEEK)
    false_kinds: dict[str, int] = {}
    for run in runs:
        for alert in run.alerts:
            if not any(explains(alert, cluster) for cluster in injected):
                false_kinds[alert.kind] = false_kinds.get(alert.kind, 0) + 1
    return {
        "clusters": [f.__dict__ for f in found],
        "false_clean": clean.__dict__,
        "false_all": every.__dict__,
        "false_by_kind_shown": false_kinds,
        "goal_met": goal,
        "found": found,
        "clean": clean,
        "every": every,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=WEEKS, help=f"weeks of history ({WEEKS}: 3 years)")
    parser.add_argument("--replay", type=int, default=REPLAY_WEEKS, help=f"weeks replayed ({REPLAY_WEEKS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the history's random seed ({SEED})")
    parser.add_argument("--per-week", type=float, default=PER_WEEK, help=f"background reports a week ({PER_WEEK:g})")
    parser.add_argument(
        "--authority-referrals", type=int, default=AUTHORITY_REFERRALS, help="referrals a week to the late authority"
    )
    parser.add_argument(
        "--surge-factor", type=float, default=SURGE_FACTOR, help=f"the surge's factor ({SURGE_FACTOR:g})"
    )
    parser.add_argument("--surge-region", default=SURGE_REGION, help=f"the surge's region ({SURGE_REGION})")
    parser.add_argument("--surge-concern", default=SURGE_CONCERN, help=f"the surge's concern type ({SURGE_CONCERN})")
    parser.add_argument(
        "--surge-weeks",
        type=int,
        default=1,
        help="weeks in a row the surge lasts (1; at most 5, before the organisation)",
    )
    parser.add_argument("--database", default="", help="its own database (helpline_bench_patterns)")
    args = parser.parse_args()
    if not 1 <= args.surge_weeks <= SURGE_WEEK - LATE_WEEK:
        parser.error(f"--surge-weeks must be 1 to {SURGE_WEEK - LATE_WEEK}")
    if not SURGE_WEEK <= args.replay < args.weeks:
        parser.error(f"--replay must be at least {SURGE_WEEK} (the surge's week) and less than --weeks")
    database = harness.own_database(args.database or default_database())
    results = results_file(args)

    def work() -> dict[str, Any]:
        say(f"preparing {database}")
        prepare(database)
        harness.django_setup(database)
        from django.core.management import call_command
        from django.utils import timezone

        from oversight import series

        load_start = harness.load_now()
        this_week = series.period_start(timezone.localdate())
        command = ["--weeks", str(args.weeks), "--seed", str(args.seed), "--per-week", f"{args.per_week:g}"]
        command += ["--authority-referrals", str(args.authority_referrals)]
        for spec in specs(args):
            command += ["--inject", spec]
        say(f"seed_history {' '.join(command)}")
        began = time.perf_counter()
        out = io.StringIO()
        call_command("seed_history", *command, stdout=out)
        seeding_s = time.perf_counter() - began
        say(f"{out.getvalue().strip()} ({seeding_s:.1f} s)")
        if series.period_start(timezone.localdate()) != this_week:
            raise harness.Failed("a new week began while seeding: run again")
        injected = clusters(this_week, args.surge_region, args.surge_concern, args.surge_weeks)
        new_runs, old_runs, log = replay(this_week, args.replay)
        new, old = scored(new_runs, injected), scored(old_runs, injected)
        timing = runtime(this_week)
        diagnosis = surge_diagnosis(this_week, args.surge_region, args.surge_concern)
        lines: list[tuple[str, ...]] = [("rules", "cluster / figure", "result", "weeks to detection")]
        lines += table("detection", new["found"], new["clean"], new["every"])
        lines += table("old rules", old["found"], old["clean"], old["every"])
        harness.print_table(lines)
        print(
            f"{timing['series']} series judged per run; one detection run: median {timing['detect_median_s']} s "
            f"(max {timing['detect_max_s']} s); the old rules {timing['old_rules_median_s']} s"
        )
        print(f"surge week as detection judged it: {diagnosis}")
        print(
            f"goal (every cluster within {GOAL_WEEKS} weeks, <= {GOAL_FALSE_PER_WEEK:g} false alert a week): "
            f"detection {'GOAL MET' if new['goal_met'] else 'MISSED'}, "
            f"old rules {'GOAL MET' if old['goal_met'] else 'MISSED'}"
        )
        loads = [round(load_start, 2), round(harness.load_now(), 2)]
        print(f"machine load (1-min average) {loads[0]:.2f} at the start, {loads[1]:.2f} at the end")
        for part in (new, old):
            for name in ("found", "clean", "every"):
                part.pop(name)
        return {
            "database": database,
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
            "this_week": this_week.isoformat(),
            "weeks": args.weeks,
            "replay_weeks": args.replay,
            "seed": args.seed,
            "per_week": args.per_week,
            "authority_referrals": args.authority_referrals,
            "specs": specs(args),
            "surge_series": {"region": args.surge_region, "concern_type": args.surge_concern},
            "seeding": {"output": out.getvalue().strip(), "seconds": round(seeding_s, 1)},
            "detection": new,
            "old_rules": old,
            "runtime": timing,
            "surge_diagnosis": diagnosis,
            "weekly": log,
            "loadavg_1min": loads,
        }

    return harness.run(work, results=results, cleanup=lambda succeeded: None)


if __name__ == "__main__":
    sys.exit(main())
