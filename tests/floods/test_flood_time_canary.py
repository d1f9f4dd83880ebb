"""The time canary for a flood (tests/privacy/test_time_canary.py's rule): urgent reports routed during a flood
at 13:37:42.123456, their alerts held and sent as a digest, the flood's email sent, all at that moment. Then
``pg_dump`` of the whole database shows that minute only in the urgent triage clock: the flood counter is in
Redis only, and the held alerts, the digest and the flood email keep the day."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from notify.models import Notification
from notify.services import digests_send
from tests.database import pg_dump_text
from tests.factories import staff_user, submit_report
from tests.privacy.canary import CANARY_MOMENT, SETUP_MOMENT, URGENT_CLOCK, run_outbox, traces_in
from triage.notifications import FLOOD_ALERT, URGENT_DIGEST_TEMPLATE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_kdf", "authorities_committed", "flood_redis"),
]


@time_machine.travel(SETUP_MOMENT, tick=False)
def test_a_flood_and_its_digest_leave_no_reporter_time_but_the_urgent_clock(settings: Any) -> None:
    settings.FLOOD_THRESHOLD = 2
    staff_user("canary-sup", email="canary-sup@helpline.test")
    with time_machine.travel(CANARY_MOMENT, tick=False):
        for index in range(6):
            submit_report(child_at_immediate_risk=index >= 3)
        run_outbox()  # routes them: the flood begins with the third; its urgent alerts are held
        assert Notification.objects.filter(template="urgent_case", state=Notification.State.HELD).count() == 3
        digests_send()
        run_outbox()  # sends the flood's email and the digest
    sent = Notification.objects.filter(state=Notification.State.SENT)
    assert set(sent.values_list("template", flat=True)) == {FLOOD_ALERT, URGENT_DIGEST_TEMPLATE}

    found = traces_in(pg_dump_text(column_names=True))

    assert {(table, column) for table, column, _ in found} <= URGENT_CLOCK, found
