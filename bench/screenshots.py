"""Screenshots of the referral thread for the README: `make screenshots`, or `.venv/bin/python bench/screenshots.py`.

Sets up its own database (helpline_screenshots, dropped and created each run: migrated as the owner, the
local authorities, `seed_demo`) and its own broker (Redis database 10, flushed), then builds one referred
case through the services, as the pages would: Rotherham's demo officer acknowledges it, records a strategy
discussion and asks the helpline a question; the demo handler asks the reporter on the authority's behalf,
the reporter answers, the handler replies to the authority; the reporter adds something, the handler sends
the authority an update; the officer asks a second question, still waiting. A second referral to Rotherham
has no question. The outbox is drained in this process, as a worker would (emails go to Django's
in-memory backend).

Then gunicorn (the project's gunicorn.conf.py, one worker, as the runtime role: tests/live.py's
start_gunicorn) serves it, and Debian's Chromium at 1280 px signs in with the demo accounts (password and
authenticator code) and saves full-page screenshots in docs/screenshots/:

  helpline-home.png       the handler's home page: queues and "Questions from authorities"
  helpline-case-page.png  the case: the thread with the authority, its warning, actions and deadlines
  referral-list.png       the officer's referrals with their open questions
  referral-page.png       the officer's referral: the thread, the helpline's reply and update
  reporter-follow-up.png  the reporter's follow-up page with the helpline's message
  case-list.png           the helpline's case list: statuses in words, concern types, age, due, new messages
  admin-staff*.png        the administrator's list of who has which access, one account, its access, an invitation
  statistics*.png         a partnership's statistics for this year, and national oversight's (statistics-national.png)

The gunicorn log is var/screenshots/gunicorn.log. Nothing touches the development database.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.procs import demo_reports_file_kept  # noqa: E402

DB_NAME = "helpline_screenshots"
PG_HOST = "127.0.0.1"
OWNER_URL = f"postgres://postgres@{PG_HOST}:5432/{DB_NAME}"
RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE") or "helpline_app"
BROKER_URL = "redis://127.0.0.1:6379/10"  # 0 development, 11-15 the tests, the soak and the bench
OUT_DIR = ROOT / "docs" / "screenshots"
LOG_DIR = ROOT / "var" / "screenshots"
WIDTH, HEIGHT = 1280, 800
TIMEOUT_MS = 15_000

QUESTION = "Can the reporter confirm which year group the children are in?"
RELAYED = (
    "Thank you for your report. The council looking into it would like to know which year group the children "
    "are in. Could you tell us?"
)
ANSWER = "Year 9, both of them."
REPLY = "The reporter says Year 9."
ADDED = "The man drives a silver hatchback. I have seen it outside the school gates three times this week."
UPDATE = "The reporter has since told us that the man drives a silver hatchback, seen at the school gates this week."
SECOND_QUESTION = "Has the school's designated safeguarding lead been told?"


STATISTICS_CASES = 20_000


def say(message: str) -> None:
    print(f"screenshots: {message}", flush=True)


# --- the database, and Django in this process ----------------------------------------------------------


def database_create() -> None:
    """Drop and create helpline_screenshots; the runtime role is created when missing, as `make` does."""
    with closing(psycopg.connect(host=PG_HOST, user="postgres", dbname="postgres", autocommit=True)) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [RUNTIME_ROLE]).fetchone():
            admin.execute(f'CREATE ROLE "{RUNTIME_ROLE}" LOGIN')
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')


def django_setup() -> None:
    """Django in this process as the database's owner. tests/live.py derives gunicorn's environment from
    this connection: the same database as the runtime role, the migrations as the owner."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpline.settings",
            "DATABASE_URL": OWNER_URL,
            "MIGRATION_DATABASE_URL": OWNER_URL,
            "DATABASE_RUNTIME_ROLE": RUNTIME_ROLE,
            "CELERY_BROKER_URL": BROKER_URL,
            "REDIS_URL": BROKER_URL,
            "HELPLINE_ENV": "development",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "AUDIT_CHECKPOINT_PATH": str(LOG_DIR / "audit-checkpoints.jsonl"),
        }
    )
    import django

    django.setup()


def database_seed() -> None:
    from django.core.management import call_command

    quiet = io.StringIO()
    call_command("migrate", "--no-input", verbosity=0, stdout=quiet)
    call_command("generate_dev_keys", stdout=quiet)  # the development key files: created once, never replaced
    call_command("load_local_authorities", stdout=quiet)
    with demo_reports_file_kept():
        call_command("seed_demo", verbosity=0, stdout=quiet)


def outbox_drain() -> int:
    """Do every outbox row's work here, as the Celery worker would: routing, reporters' messages, emails."""
    from outbox.models import OutboxMessage
    from outbox.services import outbox_process

    done = 0
    while pending := list(
        OutboxMessage.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    ):
        for outbox_id in pending:
            outbox_process(outbox_id=outbox_id)
        done += len(pending)
        if OutboxMessage.objects.filter(pk__in=pending, processed_at__isnull=True).exists():
            raise RuntimeError("outbox rows were left unprocessed: see the log above")
    return done


# --- the situation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    case_number: str
    reference: str
    access_code: str


def statistics_seed() -> None:
    """Enough cases (seed_cases, once) for the statistics pages to have figures above the suppression
    threshold, and the summary views refreshed as the workers would every 5 minutes."""
    from django.core.management import call_command

    from oversight.tasks import refresh_statistics
    from triage.models import Case

    if Case.objects.count() < STATISTICS_CASES:
        call_command("seed_cases", "--count", str(STATISTICS_CASES), "--writers", "1", stdout=io.StringIO())
    refresh_statistics()
    say(f"{Case.objects.count():,} cases; statistics refreshed")


def situation_build() -> Situation:
    """The referral thread of issue 12, built through the services the pages call."""
    from accounts.models import User
    from directory.lookup import authority_by_code
    from referrals import services as referrals
    from referrals.models import AuthorityAction
    from reports.models import Anonymity, Message
    from reports.services import Contact, message_send_from_reporter, report_unlock
    from tests.factories import submit_report
    from triage import case_actions
    from triage.intake import report_route

    rotherham = authority_by_code("E08000018")
    if rotherham is None:
        raise RuntimeError(f"{DB_NAME} has no Rotherham: did load_local_authorities run?")
    handler = User.objects.get(username="handler")
    officer = User.objects.get(username="rotherham")

    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL,
        local_authority=rotherham,
        organisation_name="Oakwood Academy",
        summary="Pupils collected from school by an older man",
        details="Two pupils are collected most days by a man in his forties. The school says he is family; "
        "the girls told a classmate he is not.",
        internal_response="The head told me it was a family matter.",
        contact=Contact(name="Alex Example", email="alex@example.com"),
    )
    report = submitted.report
    case = report_route(report_id=report.pk)
    case_actions.case_claim(case=case, acting_user=handler)
    referral = referrals.case_refer(
        case=case,
        summary="Two secondary pupils at Oakwood Academy are collected from school by an adult man the school "
        "believes is family; the pupils say he is not. Please consider a strategy discussion.",
        acting_user=handler,
    )
    referrals.referral_acknowledge(referral=referral, acting_user=officer)
    referrals.referral_record_action(
        referral=referral,
        kind=AuthorityAction.Kind.STRATEGY_DISCUSSION,
        note="Strategy discussion held with the police and the school.",
        acting_user=officer,
    )
    question = referrals.referral_ask_helpline(referral=referral, question=QUESTION, acting_user=officer)
    referrals.case_relay_to_reporter(case=case, question_id=question.pk, body=RELAYED, acting_user=handler)

    _, data_key = report_unlock(reference=report.reference, access_code=submitted.access_code, client="screenshots")
    message_send_from_reporter(report=report, data_key=data_key, body=ANSWER)
    outbox_drain()
    referrals.case_reply_to_authority(case=case, question_id=question.pk, body=REPLY, acting_user=handler)

    message_send_from_reporter(report=report, data_key=data_key, body=ADDED, kind=Message.Kind.MORE_INFORMATION)
    outbox_drain()
    referrals.case_update_authority(case=case, summary=UPDATE, acting_user=handler)
    referrals.referral_ask_helpline(referral=referral, question=SECOND_QUESTION, acting_user=officer)

    # A second referral to Rotherham, acknowledged, with no question: the list has something to compare.
    other = report_route(
        report_id=submit_report(
            local_authority=rotherham, summary="Missing episodes from a children's home not reported"
        ).report.pk
    )
    case_actions.case_claim(case=other, acting_user=handler)
    other_referral = referrals.case_refer(
        case=other,
        summary="A girl placed at Northside Children's Home goes missing most weekends; managers do not report it.",
        acting_user=handler,
    )
    referrals.referral_acknowledge(referral=other_referral, acting_user=officer)
    say(f"{outbox_drain()} outbox rows processed")
    return Situation(case_number=case.case_number, reference=report.reference, access_code=submitted.access_code)


def totp_code(username: str) -> str:
    """The demo user's current authenticator code (`manage.py demo_totp`)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("demo_totp", username, stdout=out)
    return out.getvalue().strip()


# --- the browser -----------------------------------------------------------------------------------------


def shots(base_url: str, situation: Situation) -> list[Path]:
    from playwright.sync_api import Page, expect, sync_playwright

    from accounts.models import User
    from devdata.management.commands.seed_demo import DEMO_PASSWORD
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    saved: list[Path] = []

    def save(page: Page, name: str) -> None:
        page.evaluate("() => document.fonts.ready")
        path = OUT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        saved.append(path)
        say(f"saved {path.relative_to(ROOT)} ({page.url.removeprefix(base_url)})")

    def go(page: Page, path: str) -> None:
        response = page.goto(base_url + path)
        if response is None or response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status if response else 'no response'}")

    def sign_in(page: Page, username: str) -> None:
        go(page, "/staff/sign-in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Continue", exact=True).click()
        page.get_by_label("Security code").fill(totp_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        if "/sign-in" in page.url:
            raise RuntimeError(f"{username} could not sign in: {page.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:

            def new_page() -> Page:
                context = browser.new_context(
                    locale="en-GB", timezone_id="Europe/London", viewport={"width": WIDTH, "height": HEIGHT}
                )
                context.set_default_timeout(TIMEOUT_MS)
                return context.new_page()

            handler = new_page()
            sign_in(handler, "handler")
            go(handler, "/staff/")
            expect(handler.get_by_test_id("questions-waiting")).to_contain_text("1 case with a question waiting")
            save(handler, "helpline-home")
            go(handler, f"/staff/cases/{situation.case_number}")
            expect(handler.get_by_test_id("thread-helpline_update")).to_be_visible()
            save(handler, "helpline-case-page")
            go(handler, "/staff/cases")
            expect(handler.get_by_test_id("case-total")).to_be_visible()
            save(handler, "case-list")

            admin = new_page()
            sign_in(admin, "admin")
            go(admin, "/staff/admin/staff")
            save(admin, "admin-staff")
            officer_id = User.objects.get(username="rotherham").pk
            go(admin, f"/staff/admin/staff/{officer_id}")
            save(admin, "admin-staff-detail")
            go(admin, f"/staff/admin/staff/{officer_id}/access")
            save(admin, "admin-staff-access")
            go(admin, "/staff/admin/staff/invite")
            save(admin, "admin-staff-invite")

            board = new_page()
            sign_in(board, "partnership")
            go(board, "/staff/statistics")
            save(board, "statistics")
            oversight = new_page()
            sign_in(oversight, "oversight")
            go(oversight, "/staff/statistics")
            save(oversight, "statistics-national")

            officer = new_page()
            sign_in(officer, "rotherham")
            go(officer, "/staff/referrals")
            expect(officer.get_by_test_id(f"open-questions-{situation.case_number}")).to_have_text("1")
            save(officer, "referral-list")
            go(officer, f"/staff/referrals/{situation.case_number}")
            expect(officer.get_by_test_id("thread-helpline_reply")).to_be_visible()
            save(officer, "referral-page")

            reporter = new_page()
            go(reporter, "/check")
            reporter.get_by_label("Reference").fill(situation.reference)
            reporter.get_by_label("Access code").fill(situation.access_code)
            with reporter.expect_navigation():
                reporter.get_by_role("button", name="Continue", exact=True).click()
            expect(reporter.get_by_test_id("message-body").first).to_have_text(RELAYED)
            save(reporter, "reporter-follow-up")
        finally:
            browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    say(f"creating {DB_NAME}")
    database_create()
    django_setup()
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    database_seed()
    situation = situation_build()
    say(f"case {situation.case_number}, report {situation.reference}")
    statistics_seed()

    from django.db import connection

    from tests.live import start_gunicorn

    connection.close()
    base_url, server = start_gunicorn(
        LOG_DIR / "gunicorn.log",
        CELERY_BROKER_URL=BROKER_URL,
        REDIS_URL=BROKER_URL,
        HELPLINE_ENV="development",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        AUDIT_CHECKPOINT_PATH=str(LOG_DIR / "audit-checkpoints.jsonl"),
    )
    # Playwright's sync API runs an event loop in this thread; the ORM calls beside it (the authenticator
    # codes) are plain synchronous ones, as in tests/e2e/conftest.py.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        saved = shots(base_url, situation)
    finally:
        server.stop()
        broker.flushdb()
    print(json.dumps([str(path.relative_to(ROOT)) for path in saved], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
