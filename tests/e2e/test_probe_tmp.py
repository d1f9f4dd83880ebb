import pytest
from tests.e2e.axe import axe_violations


@pytest.mark.e2e
def test_probe(new_context, live_server, fast_kdf):
    ctx = new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(live_server.url + "/")
    print("BODY", page.evaluate("() => document.body.className"))
    print(axe_violations(page))
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src='/x.png'; document.querySelector('main').append(i); }"
    )
    print(axe_violations(page))
    print([(c["name"], c["expires"]) for c in ctx.cookies()])
