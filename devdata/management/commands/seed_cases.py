"""Seed many realistic, encrypted reports with their routed cases, fast (development and benchmarks only).

    manage.py seed_cases --count 1000000 [--batch 20000] [--open-fraction 0.1] [--keys 8] [--writers 2]
                         [--unrouted 0]

The options are read and checked here; devdata.seeding does the work (its docstring says how). Refused in
production: seeded reports share data keys, which real reports never do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devdata.seeding.run import seed


class Command(BaseCommand):
    help = (
        "Create COUNT realistic encrypted reports with their routed cases, fast, with PostgreSQL COPY "
        "(development and benchmarks only; refused in production). Every report's content is sealed with "
        "secretbox, but under one of a small pool of precomputed data keys: seeded cases share a few "
        "precomputed access-code wraps (and custody-key wraps), so each access code printed at the end "
        "opens every seeded report sealed under its key. Real reports never share keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many reports and cases to create.")
        parser.add_argument("--batch", type=int, default=20_000, help="Rows per COPY transaction (20000).")
        parser.add_argument(
            "--open-fraction", type=float, default=0.1, help="Share of cases still open (0.1); the rest are closed."
        )
        parser.add_argument("--keys", type=int, default=8, help="Data keys (and access codes) in the pool (8).")
        parser.add_argument(
            "--writers",
            type=int,
            default=2,
            help="Database connections writing batches at once (2). Inside a transaction (tests) always 1.",
        )
        parser.add_argument(
            "--unrouted",
            type=int,
            default=0,
            help="Reports filed today and not routed yet (0): no case, data key still sealed to the helpline.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_cases is refused in production.")
        count, batch, keys, writers = options["count"], options["batch"], options["keys"], options["writers"]
        open_fraction, unrouted = options["open_fraction"], options["unrouted"]
        if count < 0 or batch < 1 or keys < 1 or writers < 1 or unrouted < 0 or not 0 <= open_fraction <= 1:
            raise CommandError(
                "--count >= 0, --batch >= 1, --keys >= 1, --writers >= 1, --unrouted >= 0, 0 <= --open-fraction <= 1"
            )
        result = seed(
            count=count,
            batch=batch,
            open_fraction=open_fraction,
            keys=keys,
            writers=writers,
            unrouted=unrouted,
            say=self._say,
        )
        rate = (result.cases + result.unrouted) / result.seconds if result.seconds else 0.0
        not_routed = f" and {result.unrouted:,} reports not routed yet" if result.unrouted else ""
        self.stdout.write(
            f"Seeded {result.cases:,} cases{not_routed} in {result.seconds:.1f}s ({rate:,.0f} reports/s); "
            f"{result.redrawn} references or case numbers drawn again to stay unique."
        )
        self.stdout.write("Access codes of the key pool (each opens every seeded report sealed under its key):")
        for n, code in enumerate(result.access_codes, 1):
            self.stdout.write(f"  key {n}: {code}")

    def _say(self, line: str) -> None:
        """Progress, flushed at once: a million rows take minutes, and the log should show them going."""
        self.stdout.write(line)
        self.stdout.flush()
