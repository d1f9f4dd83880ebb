"""A browser tab that checks every public page it shows: privacy headers, the exit button, no script
errors, GOV.UK styling and axe. Used by the journey tests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.e2e.axe import axe_check

# The font of the element holding the main heading's text (an <h1> can wrap a styled <label>).
HEADING_FONT = """() => {
    const heading = document.querySelector("main h1");
    const texts = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
    let node = texts.nextNode();
    while (node && !node.textContent.trim()) node = texts.nextNode();
    return getComputedStyle(node ? node.parentElement : heading).fontFamily;
}"""


class Visit:
    def __init__(self, page: Page, *, base_url: str, javascript: bool = True) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.javascript = javascript
        self.documents: list[Response] = []
        self.failed_resources: list[str] = []
        self.script_errors: list[str] = []
        self.checked: list[str] = []
        self._documents_checked = 0
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        page.on("console", self._on_console)

    # --- recording ------------------------------------------------------------------------------------

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            if response.frame == self.page.main_frame:
                self.documents.append(response)
        elif response.status >= 400:
            self.failed_resources.append(f"{response.url} ({response.status})")

    def _on_console(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx response, pages with form errors (400) included; failed
        # subresources are recorded from their responses instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.script_errors.append(f"{self.page.url}: console error: {message.text}")

    # --- moving around --------------------------------------------------------------------------------

    def goto(self, path: str, *, status: int = 200, axe: bool = True) -> Response:
        response = self.page.goto(self.base_url + path)
        assert response is not None
        assert response.status == status, f"GET {path}: {response.status}, expected {status}"
        self.check(axe=axe)
        return response

    def submit(self, name: str = "Continue", *, status: int = 200, axe: bool = True) -> Response:
        """Press a form's button and check the page it leads to (after any redirect)."""
        with self.page.expect_navigation() as navigation:
            self.page.get_by_role("button", name=name, exact=True).click()
        response = navigation.value
        assert response is not None
        assert response.status == status, f"{name!r} on {self.page.url}: {response.status}, expected {status}"
        self.check(axe=axe)
        return response

    def follow(self, link_name: str, *, axe: bool = True) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link_name).first.click()
        self.check(axe=axe)

    def path(self) -> str:
        return urlsplit(self.page.url).path

    # --- checks ---------------------------------------------------------------------------------------

    def check(self, *, axe: bool = True) -> None:
        """What every public page must do, whatever it is."""
        page = self.page
        self.assert_documents_private()
        exit_button = page.locator("a.govuk-exit-this-page__button")
        expect(exit_button).to_have_count(1)
        expect(exit_button).to_be_visible()
        expect(exit_button).to_contain_text("Exit this page")
        # Every error summary link points at something on the page (the field to fix).
        for link in page.locator(".govuk-error-summary__list a").all():
            target = link.get_attribute("href") or ""
            assert target.startswith("#") and page.locator(target).count() == 1, (
                f"{page.url}: error summary link {link.inner_text()!r} points to {target!r}, not on the page"
            )
        # GOV.UK Frontend's stylesheet and (self-hosted) fonts are applied.
        font = page.evaluate(HEADING_FONT)
        assert "GDS Transport" in font, f"{page.url}: the main heading's font is {font!r}"
        if self.javascript:
            classes = page.evaluate("() => document.body.className")
            assert "govuk-frontend-supported" in classes, f"{page.url}: GOV.UK Frontend JS not enabled ({classes!r})"
        assert not self.script_errors, "script errors:\n" + "\n".join(self.script_errors)
        assert not self.failed_resources, "failed to load:\n" + "\n".join(self.failed_resources)
        if axe:
            axe_check(page)
        self.checked.append(f"{page.url} | {page.title()}")

    def assert_documents_private(self) -> None:
        """Every document response so far (redirects too) is uncacheable and sends no referrer."""
        assert self.documents, "no document response recorded"
        for response in self.documents[self._documents_checked :]:
            headers = response.all_headers()
            where = f"{response.request.method} {response.url} ({response.status})"
            assert headers.get("cache-control") == "no-store", f"{where}: Cache-Control {headers.get('cache-control')}"
            assert headers.get("referrer-policy") == "no-referrer", (
                f"{where}: Referrer-Policy {headers.get('referrer-policy')}"
            )
        self._documents_checked = len(self.documents)

    def screenshot(self, directory: Path, name: str) -> None:
        self.page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def by_get(response: Response | None, *, status: int) -> Response:
    """A page (re)loaded by GET: what Back and refresh do when every form redirects after its POST."""
    assert response is not None, "no page was loaded"
    assert response.request.method == "GET", response.request.method
    assert response.status == status, (response.url, response.status)
    return response
