"""Browser fixtures for the end-to-end tests: Debian's Chromium driven by Playwright against ``live_server``.

The browser comes from the system (/usr/bin/chromium); Playwright never downloads one. Every page of the live
server that a test's browser loads is checked by the Nu HTML Checker when the test ends (tests/e2e/nu_checker.py).
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

from tests.e2e.axe import RUNS  # noqa: E402
from tests.e2e.nu_checker import NuChecker, ServedMarkup  # noqa: E402
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
NU_CHECKER_LOG = Path(f"/tmp/nu-checker-{os.getpid()}.log")
NU_CHECKER = pytest.StashKey[NuChecker]()


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the Nu HTML Checker as soon as the tests that use it are known: its JVM takes seconds to start
    and warm up, which it does while the test database is made. Stopped by pytest_sessionfinish."""
    if session.config.option.collectonly:
        return
    if any("nu_checker" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[NU_CHECKER] = NuChecker(NU_CHECKER_LOG)


def pytest_sessionfinish(session: pytest.Session) -> None:
    checker = session.config.stash.get(NU_CHECKER, None)
    if checker is not None:
        checker.stop()


@pytest.fixture(scope="session")
def nu_checker(pytestconfig: pytest.Config) -> NuChecker:
    """The session's one Nu HTML Checker service, started by pytest_collection_finish."""
    if NU_CHECKER not in pytestconfig.stash:
        pytestconfig.stash[NU_CHECKER] = NuChecker(NU_CHECKER_LOG)
    return pytestconfig.stash[NU_CHECKER]


@pytest.fixture
def served_markup(nu_checker: NuChecker, live_server: object) -> Iterator[ServedMarkup]:
    """The pages this test's browser loaded, checked by the Nu HTML Checker once the test is over."""
    served = ServedMarkup(base_url=str(live_server.url))  # type: ignore[attr-defined]
    yield served
    nu_checker.unreadable += served.unreadable
    problems = served.problems(nu_checker)
    assert not problems, f"the Nu HTML Checker found problems in pages this test loaded:\n{problems}"


@pytest.fixture
def new_context(browser: Browser, live_server: object, served_markup: ServedMarkup) -> Iterator[object]:
    """Make more contexts (for example with JavaScript off); all are closed after the test."""
    made: list[BrowserContext] = []
    base_url = str(live_server.url)  # type: ignore[attr-defined]

    def make(*, real_origin: bool = SEND_REAL_ORIGIN, **options: object) -> BrowserContext:
        if real_origin:
            options.setdefault("extra_http_headers", {"Origin": base_url})
        context = _new_context(browser, base_url, **options)
        served_markup.watch(context)
        made.append(context)
        return context

    yield make
    for context in made:
        served_markup.settle(context)
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if RUNS["run"]:  # this process's (each xdist worker's own, so shown only without them)
        terminalreporter.write_line(
            f"axe: {RUNS['run']} pages run, {RUNS['skipped']} left out as the same shape as a page that passed"
        )
    checker = config.stash.get(NU_CHECKER, None)
    if checker is not None:
        terminalreporter.write_line(
            f"Nu HTML Checker: {checker.checks} pages checked ({checker.distinct_documents} distinct documents), "
            f"{checker.checking_s:.1f}s checking, {checker.waited_s:.1f}s waiting for the checker to start"
        )
        for page in checker.unreadable:
            terminalreporter.write_line(f"  not checked, its markup could not be read: {page}")
