"""Operational gauges in the Prometheus text format, computed from the database when they are scraped.

Each app that owns data registers its gauges here in its AppConfig.ready (as it registers outbox handlers and
email templates): a name, what it means, its label names, and a function that reads the database and returns
the samples. Nothing counts requests: there are no counters in this service, only gauges read at scrape time,
and the registry holds nothing of prometheus_client's defaults (process or garbage-collector metrics).

What a gauge may count is decided in docs/adr/0008-metrics-and-the-time-trail.md: a gauge must never date
something a reporter did more finely than the database keeps it. Two helpers apply the rule:
``before_today()`` for counts of things a reporter causes, ``whole_buckets()`` for how long work has waited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.timetrail import day_start

PREFIX = "helpline_"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (label values in the order of the gauge's label names, value)
Sample = tuple[tuple[str, ...], float]
Collect = Callable[[], Iterable[Sample]]


class AlreadyRegistered(Exception):
    pass


@dataclass
class Gauge:
    name: str
    documentation: str
    labels: tuple[str, ...]
    collects: list[Collect] = field(default_factory=list)


_gauges: dict[str, Gauge] = {}


def register_gauge(name: str, documentation: str, labels: Iterable[str], collect: Collect) -> None:
    """Add ``collect`` to the gauge ``helpline_<name>``. Several apps may add samples to one gauge (the
    overdue clocks of cases and of referrals) when they agree on its meaning and labels. Registering the
    same function again does nothing, so ready() may run twice."""
    if not NAME.match(name):
        raise ValueError(f"Gauge name {name!r}: lower case letters, digits and underscores")
    labels = tuple(labels)
    gauge = _gauges.get(name)
    if gauge is None:
        gauge = _gauges[name] = Gauge(name=name, documentation=documentation, labels=labels)
    elif (gauge.documentation, gauge.labels) != (documentation, labels):
        raise AlreadyRegistered(f"Gauge {name!r} is registered with another meaning or other labels")
    if collect not in gauge.collects:
        gauge.collects.append(collect)


def registered() -> dict[str, Gauge]:
    return dict(_gauges)


class DatabaseCollector(Collector):
    """Every registered gauge, read from the database when Prometheus asks."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauge in sorted(_gauges.values(), key=lambda g: g.name):
            family = GaugeMetricFamily(PREFIX + gauge.name, gauge.documentation, labels=gauge.labels)
            for collect in gauge.collects:
                for values, value in collect():
                    family.add_metric(list(values), float(value))
            yield family


def exposition() -> bytes:
    """The text a scrape gets: the registered gauges and nothing else."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def before_today() -> datetime:
    """The ADR's first rule: a count of things a reporter causes includes only those the database dates to an
    earlier day, so it changes at midnight (and by staff action), never when a reporter acts."""
    return day_start()


def bucket_seconds() -> int:
    return max(1, int(settings.TIME_TRAIL_BUCKET_SECONDS))


def whole_buckets(seconds: float) -> int:
    """The ADR's second rule: how long work has waited, rounded down to whole time-trail buckets (0 until it has
    waited a whole bucket)."""
    bucket = bucket_seconds()
    return int(max(0.0, seconds) // bucket) * bucket
