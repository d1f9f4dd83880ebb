"""Board and national statistics and pattern alerts at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline_bench_list .venv/bin/python bench/oversight_stats.py

Use a database seeded with `manage.py seed_cases --count 1000000` (bench/list_page.py makes one). Prints the
time to refresh the summary views and the medians of building each page's data.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")


def median_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, max(times) * 1000


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from oversight import patterns, selectors, views
    from triage.models import Case

    call_command("migrate", verbosity=0)
    print(f"cases: {Case.objects.count():,}")
    started = time.perf_counter()
    selectors.stats_refresh()
    print(f"refresh both summary views: {time.perf_counter() - started:.1f} s (workers, every 5 minutes)")
    analyst, _ = User.objects.get_or_create(username="bench-analyst", defaults={"role": "oversight_analyst"})
    board, _ = User.objects.get_or_create(
        username="bench-board", defaults={"role": "board_reviewer", "area": "Yorkshire and The Humber"}
    )
    for label, user in (("national statistics", analyst), ("board statistics", board)):
        median, worst = median_ms(lambda user=user: views.statistics_context(user), 7)
        print(f"{label}: median {median:.0f} ms, max {worst:.0f} ms (target < 1000 ms)")
    median, worst = median_ms(patterns.pattern_alerts, 5)
    print(f"pattern alerts: median {median:.0f} ms, max {worst:.0f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
