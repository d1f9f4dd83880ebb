"""The soak's web reporter walks the real pages (here a live server on the test database, no think time):
sending a report answers with a redirect to the confirmation page (post/redirect/get), which the reporter
follows and checks. The soak used to expect a 200 from the send itself and counted every web submission
as an error: 97 of its 98 "errors" (issue 22.24)."""

from __future__ import annotations

import threading

import pytest
from pytest_django.live_server_helper import LiveServer

from bench.soaking.stats import Stats
from bench.soaking.users import WebReporter, World
from reports.models import Report
from tests.oversight.helpers import ROTHERHAM, SHEFFIELD, YORKSHIRE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_kdf", "authorities_committed"),
]


def reporter(live_server: LiveServer, stats: Stats) -> WebReporter:
    world = World(
        port=int(live_server.url.rsplit(":", 1)[1]),
        authority_codes=[ROTHERHAM, SHEFFIELD],
        officer_codes=[ROTHERHAM],
        sectors=[],
        queues=["national"],
        board_area=YORKSHIRE,
    )
    user = WebReporter("reporter-web-1", world, stats, threading.Event(), 1)
    user.pause = lambda scale=1.0: None  # type: ignore[method-assign]
    return user


def test_a_web_report_is_sent_confirmed_and_followed_up_without_an_error(live_server: LiveServer) -> None:
    stats = Stats()
    web = reporter(live_server, stats)

    reference, code = web.report()
    web.follow_up(reference, code)

    assert stats.error_records == []
    assert stats.totals()[1] == 0
    assert stats.counters == {"web reports submitted": 1, "web follow-up messages": 1}
    assert Report.objects.filter(reference=reference).exists()
    for page in ("report: submit", "report: confirmation", "report: code saved", "report: confirmation again"):
        assert len(stats.pages[page].latencies) == 1, page


def test_a_confirmation_page_without_the_access_code_is_an_error(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the reporter checks on the confirmation page is what counts: a page that no longer shows the
    code is an error of that page, not a quiet success."""
    from bench.soaking import users

    monkeypatch.setattr(users, "ACCESS_CODE", users.re.compile(r'data-testid="not-the-access-code">([^<]+)<'))
    stats = Stats()

    with pytest.raises(users.FlowError):
        reporter(live_server, stats).report()

    assert [(e.page, e.status) for e in stats.error_records] == [("report: confirmation", 200)]
    assert stats.error_kinds == {"wrong page content": 1}
