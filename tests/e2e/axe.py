"""Run axe-core (from node_modules, installed by ``npm ci``) against the page a test is looking at."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# axe's full default rule set: WCAG 2.0, 2.1 and 2.2 A and AA, and its best practices (landmarks, the region
# rule, heading order, unique landmark names), as the accessibility statement says.
_RUN = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(" ")),
    }));
}"""


def _inject(page: Page) -> None:
    """Load axe into the page. The site's Content-Security-Policy (script-src 'self') refuses the inline
    <script> that ``add_script_tag`` would make, so axe is evaluated through the DevTools protocol, which
    CSP does not govern. The policy stays on: the pages are tested as they are served."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    assert page.evaluate("() => typeof window.axe?.run === 'function'"), "axe-core did not load"


@cache
def _source() -> str:
    return AXE_PATH.read_text("utf-8") + "\n;undefined;"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The violations of axe's default rules on the page as it is now."""
    _inject(page)
    return list(page.evaluate(_RUN))


def format_violations(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  - {v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["targets"]) for v in violations
    )


def axe_check(page: Page) -> None:
    """Assert the page breaks none of axe's default rules (WCAG 2.x A and AA, and best practices)."""
    violations = axe_violations(page)
    assert not violations, f"axe found {len(violations)} violation(s) on {page.url}:\n{format_violations(violations)}"
