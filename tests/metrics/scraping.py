"""Scraping the metrics as Prometheus would (tests/metrics and the tests of the apps that register gauges), and
letting the outbox run as the workers would between two scrapes."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from outbox.models import OutboxMessage
from outbox.services import outbox_process

TOKEN = "metrics-test-token-1234567890abcdef"  # noqa: S105

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Client | None = None) -> Samples:
    response = (client or Client()).get("/internal/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        assert family.type == "gauge", f"{family.name} is a {family.type}: only gauges are allowed"
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[("helpline_" + name, tuple(sorted(labels.items())))]


def drain_outbox() -> None:
    """Process every row, and the rows that processing adds, as the workers would right after the commit."""
    done: set[int] = set()
    while pending := [
        pk
        for pk in OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)
        if pk not in done
    ]:
        for pk in pending:
            outbox_process(outbox_id=pk)
            done.add(pk)
