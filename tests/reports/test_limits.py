"""Per-client limits on opening and sending reports, and the races they close.

Opening a concern costs a 64 MiB key derivation, so a client gets ACCESS_DERIVATION_LIMIT of them an hour
whatever the references; each reference gets ACCESS_THROTTLE_LIMIT wrong tries per client, taken before
deriving so that concurrent tries cannot overshoot; a client sends SUBMISSION_LIMIT reports an hour; and
one draft files one report however often (or however simultaneously) Send is pressed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from core import crypto, throttle
from core.identifiers import new_reference
from core.models import AccessThrottle
from reports import services
from reports.models import Channel, Draft, Report
from tests.concurrency import at_once, hold_at_filing
from tests.factories import report_input, staff_user, submit_report

pytestmark = pytest.mark.usefixtures("fast_kdf")


CHECK = "/report/check-your-answers"
DOCUMENTS = "/report/documents"
ACCESS_API = "/api/v1/reports/access"
SUBMIT_API = "/api/v1/reports"

# An anonymous journey whose council is "I do not know": it needs no authority data, so transactional
# tests (whose flush empties the session-loaded authorities) can walk it too.
WEB_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("anonymity", {"anonymity": "anonymous"}),
    ("about-you", {"reporter_sector": "education"}),
    ("concern", {"concern_types": ["concern_not_acted_on"]}),
    ("where", {"postcode": "", "council": "unknown"}),
    ("about-council", {"about_council": "no", "which_council": ""}),
    ("organisation", {"organisation_name": "Northside Academy"}),
    ("what-happened", {"summary": "Disclosure not passed on", "details": "Nothing was recorded."}),
    ("raised-internally", {"raised_internally": "yes", "internal_response": "Told to leave it."}),
    ("reported", {"already_reported": "no"}),
    ("immediate-risk", {"child_at_immediate_risk": "no"}),
]

API_REPORT: dict[str, Any] = {
    "anonymity": "anonymous",
    "reporter_sector": "police",
    "concern_types": ["information_not_shared"],
    "summary": "Records changed after a disclosure",
    "details": "A disclosure was recorded and later removed from the system.",
    "child_at_immediate_risk": False,
    "raised_internally": "no",
}


def walk_to_check(client: Client) -> None:
    """Every question page of a new report, ending on check your answers (nothing sent yet)."""
    assert client.post("/report/begin").status_code == 302
    for slug, data in WEB_ANSWERS:
        response = client.post(f"/report/{slug}", data)
        assert response.status_code == 302, (slug, response.content[:2000])
    # Then "Do you have documents, photos or recordings?": none.
    assert response["Location"] == DOCUMENTS
    response = client.post(DOCUMENTS, {"action": "continue"})
    assert response["Location"] == CHECK
    assert client.get(CHECK).status_code == 200


def draft_cookie(client: Client) -> str:
    return client.cookies["report_draft"].value


def client_with_cookies(source: Client, address: str) -> Client:
    """Another browser tab (or another connection) carrying the same cookies."""
    other = Client(REMOTE_ADDR=address)
    for name, morsel in source.cookies.items():
        other.cookies[name] = morsel.value
    return other


def shown_access_code(page: Any) -> str:
    found = re.search(r'data-testid="access-code">([^<]+)<', page.content.decode())
    assert found, page.content[:3000]
    return found.group(1).strip()


def wrong_code() -> str:
    return crypto.generate_access_code()


def derivations_recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every key derivation run from now on (they still run)."""
    derived: list[str] = []

    def recorded(name: str) -> Callable[..., Any]:
        real = getattr(crypto, name)

        def derive(*args: Any) -> Any:
            derived.append(name)
            return real(*args)

        return derive

    for name in ("unwrap_key_for_reporter", "dummy_derivation"):
        monkeypatch.setattr(crypto, name, recorded(name))
    return derived


# --- the client's derivation limit ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities")
def test_a_client_gets_a_limited_number_of_derivations_whatever_the_references(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ACCESS_DERIVATION_LIMIT = 3
    submitted = submit_report()
    derived = derivations_recorded(monkeypatch)
    right = {"reference": submitted.report.reference, "access_code": submitted.access_code}
    address = "127.0.0.21"
    prober = Client(REMOTE_ADDR=address)
    for _ in range(3):
        page = prober.post("/check", {"reference": new_reference(), "access_code": wrong_code()})
        assert page.status_code == 404, "each reference is new: the per-reference throttle never applies"
        assert "We could not open a concern with that reference and access code" in page.content.decode()
    assert derived == ["dummy_derivation"] * 3

    # A fourth reference, even the right pair for a real report, is refused before any derivation.
    page = prober.post("/check", right)
    assert page.status_code == 429
    text = page.content.decode()
    assert "Too many attempts from here" in text
    assert f"call the helpline on <strong>{settings.HELPLINE_PHONE}</strong>" in text
    assert "too many wrong attempts with this reference" not in text, "not the per-reference page"
    assert "report_follow_up" not in prober.cookies or not prober.cookies["report_follow_up"].value
    assert len(derived) == 3, "refused before deriving"

    api = prober.post(ACCESS_API, right, content_type="application/json")
    assert api.status_code == 429
    assert "Too many attempts to open reports" in api.json()["detail"]
    assert api["Retry-After"] == str(settings.ACCESS_DERIVATION_WINDOW_SECONDS)
    assert len(derived) == 3

    # Another connection is not affected, on the page or through the API.
    elsewhere = Client(REMOTE_ADDR="127.0.0.22")
    opened = elsewhere.post("/check", right)
    assert opened.status_code == 302 and opened["Location"] == "/check/concern"
    assert elsewhere.post(ACCESS_API, right, content_type="application/json").status_code == 200

    # The counters are keyed hashes: neither the address nor its client hash is kept.
    client = crypto.client_hash(address)
    rows = list(AccessThrottle.objects.values_list("key", "failures"))
    assert rows
    for key, _ in rows:
        assert address not in key and client not in key
    assert throttle.throttle_key("report-derivation", client) in dict(rows)


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities")
def test_opening_a_report_with_the_right_code_counts_as_a_derivation_too(settings: Any) -> None:
    settings.ACCESS_DERIVATION_LIMIT = 3
    submitted = submit_report()
    right = {"reference": submitted.report.reference, "access_code": submitted.access_code}
    reporter = Client(REMOTE_ADDR="127.0.0.23")
    for _ in range(3):
        opened = reporter.post("/check", right)
        assert opened.status_code == 302 and opened["Location"] == "/check/concern"
    page = reporter.post("/check", right)
    assert page.status_code == 429
    assert "Too many attempts from here" in page.content.decode()
    with pytest.raises(services.DerivationsExhausted):
        services.report_unlock(**right, client=crypto.client_hash("127.0.0.23"))


# --- the client's submission limit ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_client_may_send_only_so_many_reports_through_the_api(settings: Any) -> None:
    settings.SUBMISSION_LIMIT = 2
    sender = Client(REMOTE_ADDR="127.0.0.31")
    for _ in range(2):
        assert sender.post(SUBMIT_API, API_REPORT, content_type="application/json").status_code == 201
    refused = sender.post(SUBMIT_API, API_REPORT, content_type="application/json")
    assert refused.status_code == 429
    assert settings.HELPLINE_PHONE in refused.json()["detail"]
    assert refused["Retry-After"] == str(settings.SUBMISSION_WINDOW_SECONDS)
    assert Report.objects.count() == 2
    other = Client(REMOTE_ADDR="127.0.0.32").post(SUBMIT_API, API_REPORT, content_type="application/json")
    assert other.status_code == 201
    assert Report.objects.count() == 3


@pytest.mark.django_db
def test_a_web_submission_over_the_limit_is_refused_and_its_answers_kept(settings: Any) -> None:
    settings.SUBMISSION_LIMIT = 2
    address = "127.0.0.33"
    reporter = Client(REMOTE_ADDR=address)
    for _ in range(2):
        assert reporter.post(SUBMIT_API, API_REPORT, content_type="application/json").status_code == 201
    walk_to_check(reporter)

    page = reporter.post(CHECK)
    assert page.status_code == 429
    text = page.content.decode()
    assert "Too many reports have been sent from here" in text
    assert "Your report has not been sent" in text
    assert f"call the helpline on <strong>{settings.HELPLINE_PHONE}</strong>" in text
    assert 'data-testid="access-code"' not in text
    assert Report.objects.count() == 2

    # The draft was not used up: the same answers can still be sent from another connection.
    assert Draft.objects.filter(purpose=Draft.Purpose.DRAFT).count() == 1
    assert reporter.get(CHECK).status_code == 200
    sent = client_with_cookies(reporter, "127.0.0.34").post(CHECK, follow=True)
    assert sent.status_code == 200 and sent.redirect_chain == [("/report/confirmation", 302)]
    assert Report.objects.count() == 3
    assert Report.objects.filter(reference=sent.context["sent"].reference, channel=Channel.WEB).exists()


@pytest.mark.django_db
def test_phone_reports_taken_by_staff_are_not_counted(settings: Any) -> None:
    settings.SUBMISSION_LIMIT = 1
    sender = Client(REMOTE_ADDR="127.0.0.35")
    assert sender.post(SUBMIT_API, API_REPORT, content_type="application/json").status_code == 201
    assert sender.post(SUBMIT_API, API_REPORT, content_type="application/json").status_code == 429
    counters = set(AccessThrottle.objects.values_list("key", "failures"))

    # A call handler taking reports by phone passes no client: the limit never applies to them.
    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    for _ in range(3):
        services.report_submit(data=report_input(local_authority=None), channel=Channel.PHONE, acting_user=handler)
    assert Report.objects.filter(channel=Channel.PHONE).count() == 3
    assert set(AccessThrottle.objects.values_list("key", "failures")) == counters, "nothing more was counted"


# --- races ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_codes_run_no_more_derivations_than_the_limit(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking the throttle before deriving and counting after let every request that checked before the
    first one counted through: ten at once all derived. Attempts are now taken before deriving."""
    settings.ACCESS_THROTTLE_LIMIT = 5
    settings.ACCESS_DERIVATION_LIMIT = 100
    submitted = submit_report(local_authority=None)
    reference = submitted.report.reference
    client = crypto.client_hash("127.0.0.41")
    derivations = 0
    counting = threading.Lock()

    def slow_derivation(*args: Any, **kwargs: Any) -> None:
        nonlocal derivations
        with counting:
            derivations += 1
        time.sleep(0.2)  # long enough for every other request to be past its check
        return None

    monkeypatch.setattr(crypto, "unwrap_key_for_reporter", slow_derivation)
    monkeypatch.setattr(crypto, "dummy_derivation", slow_derivation)

    def attempt(_: int) -> str:
        try:
            services.report_unlock(reference=reference, access_code=wrong_code(), client=client)
        except services.ReportNotFound:
            return "not found"
        except services.AccessThrottled:
            return "throttled"
        return "opened"

    outcomes = at_once(10, attempt)
    assert derivations == settings.ACCESS_THROTTLE_LIMIT
    assert sorted(outcomes) == ["not found"] * 5 + ["throttled"] * 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_presses_of_send_at_once_file_one_report(monkeypatch: pytest.MonkeyPatch) -> None:
    reporter = Client(REMOTE_ADDR="127.0.0.51")
    walk_to_check(reporter)
    tabs = [client_with_cookies(reporter, "127.0.0.51") for _ in range(2)]

    # Both requests are held where the report is about to be filed, so both have passed every check made
    # before filing: the worst case of two presses of Send at once.
    hold_at_filing(monkeypatch)
    responses = at_once(2, lambda index: tabs[index].post(CHECK))
    monkeypatch.undo()

    assert Report.objects.count() == 1
    # Both go to the confirmation page (post/redirect/get); it shows the code once, to whichever comes first,
    # and the reference to both.
    assert [(r.status_code, r["Location"]) for r in responses] == [(302, "/report/confirmation")] * 2
    shown = [tab.get("/report/confirmation") for tab in tabs]
    sent = next(response for response in shown if b'data-testid="access-code"' in response.content)
    again = next(response for response in shown if response is not sent)
    assert "Your report has been sent" in again.content.decode()
    assert "it cannot be shown again" in again.content.decode()
    assert 'data-testid="access-code"' not in again.content.decode()
    report = Report.objects.get()
    assert sent.context["sent"].reference == again.context["sent"].reference == report.reference
    opened, _ = services.report_unlock(
        reference=report.reference, access_code=shown_access_code(sent), client=crypto.client_hash("x")
    )
    assert opened.pk == report.pk
    # The press that filed nothing gave its submission back.
    slot = throttle.throttle_key("report-submission", crypto.client_hash("127.0.0.51"))
    assert AccessThrottle.objects.get(key=slot).failures == 1


@pytest.mark.django_db
def test_send_pressed_again_with_the_old_cookie_is_told_it_was_sent() -> None:
    reporter = Client(REMOTE_ADDR="127.0.0.52")
    walk_to_check(reporter)
    old_cookie = draft_cookie(reporter)
    first = reporter.post(CHECK, follow=True)
    assert first.status_code == 200 and 'data-testid="access-code"' in first.content.decode()
    assert draft_cookie(reporter) == old_cookie, "the cookie names the sent draft, so Back says it was sent"
    refreshed = reporter.get("/report/confirmation")
    assert refreshed.status_code == 200 and "it cannot be shown again" in refreshed.content.decode()

    # The browser did not apply the deletion (a second tab, a resent form, the back button).
    reporter.cookies["report_draft"] = old_cookie
    again = reporter.post(CHECK)
    assert again.status_code == 302 and again["Location"] == "/report/confirmation"
    assert Report.objects.count() == 1
    shown = reporter.get(CHECK)
    assert shown.status_code == 200
    assert "They have not been sent again." in shown.content.decode()
    told = reporter.get("/report/confirmation").content.decode()
    assert "Your report has been sent" in told and 'data-testid="access-code"' not in told

    # Starting a new report starts a new draft, not the sent one.
    walk_to_check(reporter)
    assert draft_cookie(reporter).partition(".")[0] != old_cookie.partition(".")[0]
    assert reporter.post(CHECK, follow=True).status_code == 200
    assert Report.objects.count() == 2
