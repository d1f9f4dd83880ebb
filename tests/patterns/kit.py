"""Shared kit for the pattern-detection tests (not a test module)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management import call_command

from oversight.models import PatternAlert

ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
YORKSHIRE = "Yorkshire and The Humber"
NORTH_WEST = "North West"


def seed(weeks: int, *specs: str, seed: int = 7, per_week: float = 60.0) -> str:
    out = io.StringIO()
    args = ["--weeks", str(weeks), "--seed", str(seed), "--per-week", str(per_week)]
    for spec in specs:
        args += ["--inject", spec]
    call_command("seed_history", *args, stdout=out)
    return out.getvalue()


def detect_json() -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command("detect_patterns", "--format", "json", stdout=out)
    found: list[dict[str, Any]] = json.loads(out.getvalue())
    return found


def open_alerts(kind: str) -> list[PatternAlert]:
    return list(PatternAlert.objects.filter(kind=kind, status=PatternAlert.Status.OPEN))


# A fixed "now" for seeded histories (a Wednesday, London time): the same weeks, seasons and bank holidays
# on whatever day the tests run. The last complete week is Monday 30 November to Sunday 6 December 2026.
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=ZoneInfo("Europe/London"))
LAST_WEEK = date(2026, 11, 30)


def alert_make(**overrides: Any) -> PatternAlert:
    """A stored alert, as detection would leave it (a surge, open, unless told otherwise)."""
    values: dict[str, Any] = {
        "kind": PatternAlert.Kind.SURGE,
        "series": {"region": YORKSHIRE, "concern_type": "information_not_shared"},
        "period_start": LAST_WEEK,
        "period_end": LAST_WEEK + timedelta(days=6),
        "observed": 9,
        "expected": 1.4,
        "threshold": 5.0,
        "method": "short_history",
        "baseline_weeks": 24,
        "history": [1, 2, 1, 0, 2, 3, 1, 9],
        "created_on": LAST_WEEK + timedelta(days=7),
    }
    values.update(overrides)
    values.setdefault("series_key", "|".join(f"{name}={value}" for name, value in sorted(values["series"].items())))
    return PatternAlert.objects.create(**values)
