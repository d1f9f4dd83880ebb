"""The reporter's side in a real browser: report a concern, come back to it, and the promises the public
pages make on every page (no caching, no referrer, an exit button, nothing loaded from other sites,
accessible markup)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request, expect

from outbox.models import OutboxMessage
from reports.outbox_kinds import ROUTE_REPORT, SIGN_RECEIPT
from tests.e2e.pages import Visit
from tests.e2e.reporter import answer_radio, no_documents, row, screenshot_at_both_widths, start_a_report

pytestmark = pytest.mark.e2e


def test_a_worker_reports_a_concern_and_follows_it_up(
    visit: Visit, authorities: None, fast_kdf: None, screens: Path, _no_task_messages: list[int]
) -> None:
    page = visit.page

    visit.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Report a concern about how child sexual exploitation is being handled"
    )
    expect(page.get_by_text("If a child is in immediate danger, call 999 now.")).to_be_visible()
    visit.screenshot(screens, "01-start")
    visit.submit("Start now")
    assert visit.path() == "/report/anonymity"
    assert page.title() == "How do you want to report your concern? – Report a concern – GOV.UK"

    # Nothing chosen: the GOV.UK error pattern.
    visit.submit(status=400)
    assert visit.path() == "/report/anonymity"
    assert page.title().startswith("Error: "), page.title()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    error_link = summary.get_by_role("link", name="Select how you want to report your concern")
    expect(error_link).to_have_attribute("href", "#id_anonymity")
    expect(page.locator("#id_anonymity-error")).to_contain_text("Select how you want to report your concern")
    expect(page.locator(".govuk-form-group--error")).to_have_count(1)
    visit.screenshot(screens, "02-question-with-errors")
    error_link.click()
    expect(page.get_by_label("Anonymous", exact=True)).to_be_focused()
    assert page.evaluate("() => document.activeElement.id") == "id_anonymity"

    answer_radio(visit, "Confidential")
    assert visit.path() == "/report/about-you"
    answer_radio(visit, "Children's social care")

    assert visit.path() == "/report/concern"
    page.get_by_label("A concern was raised but not acted on").check()
    page.get_by_label("A victim was disbelieved or blamed").check()
    visit.submit()

    assert visit.path() == "/report/where"
    page.get_by_label("Postcode", exact=True).fill("S60 2TH")
    visit.submit()

    # A full postcode in one council goes straight on: no "which council" page.
    assert visit.path() == "/report/about-council"
    answer_radio(visit, "No")

    assert visit.path() == "/report/organisation"
    page.get_by_label("Which organisation is your concern about? (optional)").fill("Riverside children's home")
    visit.submit()

    assert visit.path() == "/report/what-happened"
    page.get_by_label("Summarise your concern in a sentence").fill("Missing-from-care reports were not followed up")
    page.get_by_label("What happened?").fill(
        "Two girls from the home went missing on several weekends.\nThey came back in taxis paid by adults."
    )
    visit.submit()

    assert visit.path() == "/report/raised-internally"
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("If yes, what came of it? (optional)").fill("My manager said it was a lifestyle choice.")
    visit.submit()

    # Optional: left unanswered, it is "not known".
    assert visit.path() == "/report/reported"
    visit.submit()

    assert visit.path() == "/report/immediate-risk"
    answer_radio(visit, "No")

    # Confidential, so the helpline needs a way to reach the reporter.
    assert visit.path() == "/report/contact"
    expect(page.get_by_text("Only the helpline will see these details.")).to_be_visible()
    page.get_by_label("Your name").fill("Sam Worker")
    page.get_by_label("Email address (optional)").fill("sam@example.org")
    visit.submit()
    no_documents(visit)

    assert visit.path() == "/report/check-your-answers"
    answers = page.locator(".govuk-summary-list")
    expect(row(page, "Council area")).to_have_text("Rotherham")
    expect(row(page, "How you are reporting")).to_have_text("Confidential")
    expect(row(page, "What the concern is about")).to_contain_text("A victim was disbelieved or blamed")
    expect(row(page, "Organisation")).to_have_text("Riverside children's home")
    expect(row(page, "What came of it")).to_have_text("My manager said it was a lifestyle choice.")
    expect(row(page, "Your name")).to_have_text("Sam Worker")
    expect(answers.get_by_role("link", name="Change")).to_have_count(15)
    visit.screenshot(screens, "03-check-your-answers")

    # Change one answer and come back to check-your-answers, not to the next question.
    visit.follow("Change organisation")
    assert visit.path() == "/report/organisation"
    field = page.get_by_label("Which organisation is your concern about? (optional)")
    expect(field).to_have_value("Riverside children's home")
    expect(page.get_by_role("link", name="Back")).to_have_attribute("href", "/report/check-your-answers")
    field.fill("Riverside House children's home")
    visit.submit()
    assert visit.path() == "/report/check-your-answers"
    expect(row(page, "Organisation")).to_have_text("Riverside House children's home")

    visit.submit("Send report")
    expect(page.locator(".govuk-panel__title")).to_have_text("Report sent")
    assert page.title() == "Report sent – Report a concern – GOV.UK"
    reference = page.get_by_test_id("reference").inner_text().strip()
    access_code = page.get_by_test_id("access-code").inner_text().strip()
    words = access_code.split()
    assert len(words) >= 7, access_code
    assert all(word.isalpha() and word.islower() for word in words), access_code
    # Routing the report, and signing its receipt, were queued: one outbox row each.
    queued = sorted(OutboxMessage.objects.filter(pk__in=_no_task_messages).values_list("kind", flat=True))
    assert queued == sorted([ROUTE_REPORT, SIGN_RECEIPT]), queued
    visit.screenshot(screens, "04-confirmation")

    # Before going on, the reporter confirms they saved the code; then what happens next, and the way back.
    page.get_by_label("I have saved my access code").check()
    visit.submit("Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    expect(page.get_by_test_id("reference")).to_have_text(reference)
    expect(page.get_by_test_id("access-code")).to_have_count(0)

    # Come back later: a wrong access code first.
    visit.follow("Check your concern")
    assert visit.path() == "/check"
    wrong = " ".join(reversed(words)) if words != words[::-1] else " ".join(words[1:] + words[:1])
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Access code").fill(wrong)
    visit.submit(status=404)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("We could not open a concern with that reference and access code.")
    expect(page.get_by_label("Reference")).to_have_value(reference)
    expect(page.get_by_label("Access code")).to_have_value("")
    expect(page.get_by_test_id("tries-left")).to_have_text("You have 4 more tries before you must wait an hour.")
    visit.screenshot(screens, "05a-check-wrong-code")
    screenshot_at_both_widths(page, "check-wrong-code")

    page.get_by_label("Access code").fill(access_code)
    visit.submit()
    assert visit.path() == "/check/concern"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your concern")
    expect(page.get_by_text(f"Reference {reference}", exact=True)).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Received")
    expect(page.get_by_text("There are no messages yet.")).to_be_visible()
    visit.screenshot(screens, "05-follow-up")

    page.get_by_label("More information about my concern").check()
    page.get_by_label("Your message").fill("One of the girls went missing again last night.")
    visit.submit("Send")
    assert visit.path() == "/check/concern"
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your message has been sent to the helpline."
    )
    expect(page.get_by_test_id("message-body")).to_have_text(["One of the girls went missing again last night."])
    expect(page.locator(".app-message")).to_contain_text("(more information)")
    visit.screenshot(screens, "06-follow-up-message-sent")


def test_a_partial_postcode_asks_which_council(visit: Visit, authorities: None, screens: Path) -> None:
    page = visit.page
    start_a_report(visit)
    visit.goto("/report/where")
    page.get_by_label("Postcode", exact=True).fill("EC1A")
    visit.submit()

    assert visit.path() == "/report/council"
    expect(page.get_by_role("heading", level=1)).to_have_text("Which council is it?")
    radios = page.locator("input[type=radio][name=council]")
    labels = [page.locator(f"label[for='{id_}']").inner_text() for id_ in radios.evaluate_all("e => e.map(x => x.id)")]
    assert "City of London" in labels and "Islington" in labels, labels
    visit.screenshot(screens, "07-which-council")

    # Continuing without a choice is an error, then choosing one moves on.
    visit.submit(status=400)
    error_link = page.locator(".govuk-error-summary").get_by_role("link", name="Select the council")
    expect(error_link).to_have_attribute("href", "#id_council")
    error_link.click()
    expect(page.get_by_label("City of London", exact=True)).to_be_focused()
    page.get_by_label("Islington", exact=True).check()
    visit.submit()
    assert visit.path() == "/report/about-council"


def test_the_journey_works_with_javascript_off(new_context, live_server, fast_kdf: None, screens: Path) -> None:  # type: ignore[no-untyped-def]
    # No authorities are loaded: "I do not know" is always offered, and the report still goes in.
    visit = Visit(new_context(java_script_enabled=False).new_page(), base_url=live_server.url, javascript=False)
    page = visit.page
    visit.goto("/", axe=False)
    visit.submit("Start now", axe=False)
    page.get_by_label("Anonymous", exact=True).check()
    visit.submit(axe=False)
    page.get_by_label("Education", exact=True).check()
    visit.submit(axe=False)
    page.get_by_label("Records were altered or suppressed").check()
    visit.submit(axe=False)
    page.get_by_label("Or choose the council").select_option("unknown")
    visit.submit(axe=False)
    # Without JavaScript the conditional "Which council?" is always shown, and "No" ignores it.
    expect(page.get_by_label("Which council?")).to_be_visible()
    page.get_by_label("No", exact=True).check()
    visit.submit(axe=False)
    visit.submit(axe=False)  # the organisation is optional
    page.get_by_label("Summarise your concern in a sentence").fill("Attendance records were changed")
    page.get_by_label("What happened?").fill("Absences of a pupil at risk were recorded as present.")
    visit.submit(axe=False)
    page.get_by_label("I'm not sure", exact=True).check()
    visit.submit(axe=False)
    page.get_by_label("I do not know", exact=True).check()  # has anyone reported it
    visit.submit(axe=False)
    page.get_by_label("No", exact=True).check()
    visit.submit(axe=False)

    # Anonymous: no contact page.
    no_documents(visit, axe=False)
    assert visit.path() == "/report/check-your-answers"
    expect(row(page, "Council area")).to_have_text("Not known")
    expect(page.get_by_text("Your name")).to_have_count(0)
    visit.screenshot(screens, "08-no-javascript-check-your-answers")
    visit.submit("Send report", axe=False)
    expect(page.locator(".govuk-panel__title")).to_have_text("Report sent")
    assert len(page.get_by_test_id("access-code").inner_text().split()) >= 7


def test_pages_make_no_requests_to_other_sites(visit: Visit, live_server) -> None:  # type: ignore[no-untyped-def]
    page = visit.page
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    start_a_report(visit)
    visit.follow("How we protect your identity")
    assert visit.path() == "/privacy"
    visit.goto("/check")
    page.get_by_label("Reference").fill("HX7K-29QM")
    visit.submit(status=400)  # access code missing

    host = urlsplit(live_server.url).netloc
    urls = [request.url for request in requests]
    elsewhere = [url for url in urls if urlsplit(url).netloc != host]
    assert not elsewhere, f"requests to other sites: {elsewhere}"
    # The recording works, and GOV.UK Frontend's styles, script and fonts came from this site.
    paths = {urlsplit(url).path for url in urls}
    assert "/static/vendor/govuk/govuk-frontend.min.css" in paths
    assert "/static/vendor/govuk/govuk-frontend.min.js" in paths
    assert any(path.startswith("/static/vendor/govuk/assets/fonts/") for path in paths), sorted(paths)


def test_a_form_posts_from_a_browser_that_sends_origin_null(new_context, live_server) -> None:  # type: ignore[no-untyped-def]
    """What a real browser does: with "Referrer-Policy: no-referrer" Chromium (like the Fetch standard)
    sends "Origin: null" on a same-origin form POST. The start button must still work."""
    visit = Visit(new_context(real_origin=False).new_page(), base_url=live_server.url)
    visit.goto("/", axe=False)
    with visit.page.expect_navigation() as navigation:
        visit.page.get_by_role("button", name="Start now").click()
    response = navigation.value
    assert response is not None
    assert response.status == 200, f"POST /report/begin ended in {response.status} at {response.url}"
    assert visit.path() == "/report/anonymity"


def test_no_cookie_outlives_the_browser(visit: Visit) -> None:
    """The privacy page: "no cookies except the ones it needs to work, which are deleted when you close
    your browser". A cookie that stays on a shared or work device shows someone used this site."""
    start_a_report(visit)
    cookies = visit.page.context.cookies()
    assert {cookie["name"] for cookie in cookies} >= {"report_draft"}
    lasting = {cookie["name"]: cookie["expires"] for cookie in cookies if cookie["expires"] != -1}
    assert not lasting, f"cookies kept after the browser closes (name: expiry): {lasting}"


def test_an_unknown_postcode_asks_for_the_council_from_the_list(visit: Visit) -> None:
    page = visit.page
    start_a_report(visit)
    visit.goto("/report/where")
    page.get_by_label("Postcode", exact=True).fill("BX1 1LT")  # a real, non-geographic postcode
    visit.submit()
    assert visit.path() == "/report/council"
    expect(page.get_by_text("We could not find that postcode in our list.")).to_be_visible()
    expect(page.get_by_label("Choose the council", exact=True)).to_be_visible()
    visit.submit(status=400)  # Visit.check: each error summary link must point at a field on the page
    expect(page.locator(".govuk-form-group--error")).to_have_count(1)


def test_a_wrong_access_code_page_title_starts_with_error(visit: Visit, fast_kdf: None) -> None:
    page = visit.page
    visit.goto("/check")
    page.get_by_label("Reference").fill("HX7K-29QM")
    page.get_by_label("Access code").fill("slip venus famine tiring outshoot scorpion regular")
    visit.submit(status=404)
    expect(page.locator(".govuk-error-summary")).to_contain_text("We could not open a concern")
    assert page.title().startswith("Error: "), page.title()
