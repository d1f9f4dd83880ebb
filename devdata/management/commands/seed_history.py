"""Seed a synthetic weekly history of cases for pattern detection, with injected clusters (development, tests
and the detection benchmark only; refused in production).

    manage.py seed_history --weeks N --seed S [--per-week R] [--inject SPEC]...

devdata.seeding.history does the work (its docstring says how the history and each SPEC are made).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devdata.seeding.history import seed_history

SPEC_HELP = """A cluster to inject (repeat for several). WEEK counts back from the current week (0 is this
week, 1 the last complete week) and must be less than --weeks.
surge:REGION:CONCERN_TYPE:WEEK:FACTOR: in week WEEK, FACTOR (more than 1) times the region x concern type's
background weekly average (at least 1) is reported; REGION as the authority directory names it (any case).
late:GSS_CODE:WEEK: the authority (its current GSS code) gets steady referrals every week and stops
acknowledging them from week WEEK on. organisation:NAME:REPORTS:AUTHORITIES:WEEK: REPORTS reports in week
WEEK name the organisation NAME, spread over AUTHORITIES authorities (at most REPORTS)."""


class Command(BaseCommand):
    help = (
        "Seed a synthetic history of cases over the last N weeks (weekly counts with seasonality and Poisson "
        "noise), and inject the clusters named by each --inject SPEC: "
        "surge:REGION:CONCERN_TYPE:WEEK:FACTOR, late:GSS_CODE:WEEK, organisation:NAME:REPORTS:AUTHORITIES:WEEK "
        "(WEEK counts back from this week, 0 = this week). Needs the authority directory loaded. "
        "Development, tests and benchmarks only; refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--weeks", type=int, required=True, help="How many weeks of history (this one included).")
        parser.add_argument("--seed", type=int, required=True, help="The random seed: the same seed, the same history.")
        parser.add_argument("--per-week", type=float, default=60.0, help="Background reports a week, nationally (60).")
        parser.add_argument(
            "--authority-referrals",
            type=int,
            default=8,
            help="Referrals a week to each authority named by a late: SPEC (8).",
        )
        parser.add_argument("--inject", action="append", default=[], metavar="SPEC", help=SPEC_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_history is refused in production.")
        if options["per_week"] < 0 or options["authority_referrals"] < 0:
            raise CommandError("--per-week and --authority-referrals must not be negative")
        result = seed_history(
            weeks=options["weeks"],
            seed=options["seed"],
            inject=options["inject"],
            per_week=options["per_week"],
            authority_referrals=options["authority_referrals"],
        )
        self.stdout.write(
            f"Seeded {result.reports:,} reports over {options['weeks']} weeks, "
            f"{result.injected:,} of them in injected clusters."
        )
