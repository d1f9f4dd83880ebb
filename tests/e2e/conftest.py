"""Browser fixtures for the end-to-end tests: Debian's Chromium driven by Playwright against ``live_server``.

The browser comes from the system (/usr/bin/chromium); Playwright never downloads one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright  # noqa: E402

from tests.e2e.pages import Visit  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENS = Path("/tmp/screens")
# With "Referrer-Policy: no-referrer" Chromium sends "Origin: null" on form posts, as real browsers do;
# helpline/csrf.py accepts them. True would make the test browser send the real origin instead.
SEND_REAL_ORIGIN = False
TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _no_task_messages(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Keep outbox tasks out of the shared Redis broker: no worker runs against the test database."""
    published: list[int] = []

    def publish(*, outbox_id: int) -> bool:
        published.append(outbox_id)
        return True

    monkeypatch.setattr("outbox.services.outbox_publish", publish)
    return published


@pytest.fixture(scope="module")
def playwright(django_db_setup: None) -> Iterator[Playwright]:
    """Playwright's sync API keeps an asyncio loop running in the test thread, which Django takes for an
    async context and then refuses ORM calls. The ORM calls made beside it (loading authorities, flushing
    the database after each test) are plain synchronous ones, so the check is off while Playwright runs.
    Module scope, not session, so the tests that run afterwards get the check back; the test database is
    created first (django_db_setup), before any loop runs."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as instance:
            yield instance


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def _new_context(browser: Browser, base_url: str, **options: object) -> BrowserContext:
    context = browser.new_context(
        base_url=base_url,
        locale="en-GB",
        timezone_id="Europe/London",
        viewport={"width": 1024, "height": 800},
        **options,  # type: ignore[arg-type]
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def new_context(browser: Browser, live_server: object) -> Iterator[object]:
    """Make more contexts (for example with JavaScript off); all are closed after the test."""
    made: list[BrowserContext] = []
    base_url = str(live_server.url)  # type: ignore[attr-defined]

    def make(*, real_origin: bool = SEND_REAL_ORIGIN, **options: object) -> BrowserContext:
        if real_origin:
            options.setdefault("extra_http_headers", {"Origin": base_url})
        context = _new_context(browser, base_url, **options)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context) -> Page:  # type: ignore[no-untyped-def]
    return new_context().new_page()


@pytest.fixture
def visit(page: Page, live_server: object) -> Visit:
    """The page plus checks for every public page it shows (headers, exit button, axe, no script errors)."""
    return Visit(page, base_url=str(live_server.url))  # type: ignore[attr-defined]


@pytest.fixture
def authorities(transactional_db: None) -> None:
    """The local authority and postcode tables, loaded inside this test so the live server sees them."""
    call_command("load_local_authorities", stdout=io.StringIO())


@pytest.fixture(scope="session")
def screens() -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS
