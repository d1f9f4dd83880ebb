"""Helpers for the reporter's pages: a browser with a concern opened, and one part-way through a report."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from reports.services import SubmittedReport


@pytest.fixture
def open_concern() -> Callable[[SubmittedReport], Client]:
    """A browser that has opened ``submitted`` at /check with its reference and access code."""

    def opened(submitted: SubmittedReport) -> Client:
        client = Client()
        response = client.post(
            "/check", {"reference": submitted.report.reference, "access_code": submitted.access_code}
        )
        assert response.status_code == 302 and response["Location"] == "/check/concern", response.content[:500]
        return client

    return opened


@pytest.fixture
def answer() -> Callable[[Client, str, dict[str, str | list[str]]], str]:
    """Answer one question page; returns where the reporter is sent next."""

    def answered(client: Client, slug: str, data: dict[str, str | list[str]]) -> str:
        response = client.post(f"/report/{slug}", data)
        assert response.status_code == 302, (slug, response.status_code, response.content[:500])
        return str(response["Location"])

    return answered
