"""Run axe-core (from node_modules, installed by ``npm ci``) against the page a test is looking at.

A journey shows the same page many times over (a case page after each action, a question page once per test) and
axe takes a fifth of a browser test's time. Within one test process, a page whose markup has the same *shape* as
one axe has already passed is not run again: the shape (``SHAPE``) is every element in document order with its
tag, classes, role, type, ids and the ids it points at, its other attributes' names, whether its accessible-name
attributes are empty, and whether it holds text of its own. What axe's rules read beyond that is the text itself
(a link called "click here" is not a violation of the default rules), so two pages with the same shape get the
same answer. ``axe_check(page, every_time=True)`` runs it regardless."""

from __future__ import annotations

import hashlib
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


# Attributes whose values make the shape (the rest count by name only), and those whose emptiness does.
SHAPE = """() => {
    const valued = new RegExp(
        "^(class|role|type|scope|lang|dir|tabindex|id|for|headers|colspan|rowspan"
        + "|aria-(?!label$|description$|valuetext$).*)$"
    );
    const named = /^(alt|title|aria-label|aria-description|href|value|placeholder)$/;
    const parts = [];
    for (const element of document.querySelectorAll("*")) {
        let part = element.tagName;
        for (const attribute of element.attributes) {
            if (valued.test(attribute.name)) part += ` ${attribute.name}=${attribute.value}`;
            else if (named.test(attribute.name)) part += ` ${attribute.name}${attribute.value.trim() ? "+" : "-"}`;
            else part += ` ${attribute.name}`;
        }
        const text = [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim());
        parts.push(part + (text ? " T" : "") + ` ${element.childElementCount}`);
    }
    return parts.join("\\n");
}"""
_passed: set[str] = set()
RUNS = {"run": 0, "skipped": 0}


def page_shape(page: Page) -> str:
    return hashlib.sha256(str(page.evaluate(SHAPE)).encode()).hexdigest()


def axe_check(page: Page, *, every_time: bool = False) -> None:
    """Assert the page breaks none of axe's default rules (WCAG 2.x A and AA, and best practices); a page of a
    shape that has passed already in this process has passed (see the module's docstring)."""
    shape = page_shape(page)
    if shape in _passed and not every_time:
        RUNS["skipped"] += 1
        return
    RUNS["run"] += 1
    violations = axe_violations(page)
    assert not violations, f"axe found {len(violations)} violation(s) on {page.url}:\n{format_violations(violations)}"
    _passed.add(shape)
