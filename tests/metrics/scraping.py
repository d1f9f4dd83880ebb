"""Scraping the metrics as Prometheus would (tests/metrics and the tests of the apps that register gauges)."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

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
