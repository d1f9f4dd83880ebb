"""Set-up in the soak's own process (Django, as the database's owner): staff accounts, the world the
virtual users see, the seeded deadlines caught up before the load."""

from __future__ import annotations

import os
import time
from contextlib import closing
from typing import Any

from bench.soaking.config import DB_NAME, OWNER_URL, PASSWORD, say, soak_env
from bench.soaking.servers import backlog, connect
from bench.soaking.users import Account, World


def django_setup() -> None:
    """Django in this process, as the soak database's owner: the soak's staff accounts and its world."""
    os.environ.update(soak_env(DATABASE_URL=OWNER_URL))
    import django

    django.setup()


def make_accounts(spec: dict[str, int], officer_codes: list[str], board_area: str) -> dict[str, list[Account]]:
    """One account per staff virtual user, each with a fresh authenticator (a TOTP code is accepted once
    per time step and per device, so users must not share one)."""
    from accounts.models import User
    from accounts.services import totp_device_create
    from bench.staff import region_partnership
    from directory.models import LocalAuthority

    roles = {
        "handler": [User.Role.CALL_HANDLER, User.Role.SUPERVISOR],
        "officer": [User.Role.AUTHORITY_OFFICER],
        "board": [User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST],
    }
    accounts: dict[str, list[Account]] = {}
    for kind, count in spec.items():
        for n in range(count):
            role = roles[kind][n % len(roles[kind])]
            username = f"soak-{kind}-{n + 1}"
            user = User.objects.create(
                username=username,
                role=role,
                email=f"{username}@soak.localhost",
                partnership=region_partnership(board_area) if role == User.Role.PARTNERSHIP else None,
            )
            user.set_password(PASSWORD)
            user.save()
            if role == User.Role.AUTHORITY_OFFICER:
                user.authorities.set(LocalAuthority.objects.filter(gss_code=officer_codes[n % len(officer_codes)]))
            device = totp_device_create(user=user, name="soak", confirmed=True)
            accounts.setdefault(kind, []).append(Account(username, str(role), bytes(device.bin_key)))
    return accounts


def seeded_referrals_complete(codes: list[str]) -> int:
    """Nothing to complete any more: `seed_cases` writes each seeded referral's own row (its state lives on
    the referral since referrals/ took it over), so officers of ``codes`` open them as they open any
    referral. Kept, returning 0, so the soak's report keeps its shape."""
    del codes
    return 0


def settle(stop_after: float) -> dict[str, Any]:
    """Before the load: let the deadline ladder catch up with the seeded cases (the first sweeps escalate
    thousands of long-overdue seeded deadlines and queue their emails) and the worker send them all, so
    the soak measures steady work, not the seeding's backlog."""
    from triage.escalations import deadlines_sweep

    began = time.monotonic()
    swept = 0
    while taken := deadlines_sweep():
        swept += taken
    say(f"settling: {swept:,} seeded deadlines escalated; waiting for the worker to send their emails")
    last = 0.0
    while (pending := backlog()["outbox_pending"]) and time.monotonic() - began < stop_after:
        if time.monotonic() - last >= 30:
            say(f"settling: {pending:,} outbox rows pending")
            last = time.monotonic()
        time.sleep(2)
    return {"escalated": swept, "seconds": round(time.monotonic() - began, 1), "pending": pending}


def make_world(port: int) -> World:
    from django.db.models import Count

    from directory.models import LocalAuthority
    from oversight.tasks import refresh_statistics
    from triage.models import Case, Queue

    codes = list(LocalAuthority.objects.order_by("gss_code").values_list("gss_code", flat=True))
    if not codes:
        raise RuntimeError(f"{DB_NAME} has no local authorities: did load_local_authorities run?")
    busiest = (
        Case.objects.filter(status=Case.Status.REFERRED)
        .exclude(authority=None)
        .values("authority__gss_code")
        .annotate(n=Count("id"))
        .order_by("-n")[:2]
    )
    officer_codes = [row["authority__gss_code"] for row in busiest] or ["E08000018"]
    region = LocalAuthority.objects.filter(gss_code=officer_codes[0]).values_list("region", flat=True).first()
    with closing(connect()) as conn:  # postcode sectors that resolve to one English authority, as bench/run.py
        sectors = [
            str(row[0])
            for row in conn.execute(
                "SELECT code FROM triage_postcodearea WHERE level = 'sector' AND authority_code LIKE 'E%' "
                "AND jsonb_array_length(candidates) = 1 ORDER BY md5(code) LIMIT 300"
            )
        ]
    refresh_statistics()  # what the workers do every 5 minutes: the views, the suppression, the alerts
    return World(
        port=port,
        authority_codes=codes,
        officer_codes=officer_codes,
        sectors=sectors,
        queues=list(Queue.objects.values_list("slug", flat=True)),
        board_area=region or "Yorkshire and The Humber",
    )
