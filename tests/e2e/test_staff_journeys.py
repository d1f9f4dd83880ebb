"""The staff side in a real browser: a call handler takes a phone report, triages it, talks to the reporter
and refers it; a local authority officer acknowledges the referral and records what was done and the
outcome; a supervisor closes the case; the reporter reads the feedback. axe runs on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from referrals import services as authority
from referrals import services as referral_services
from referrals.models import AuthorityAction, AuthorityOutcome
from reports.models import Anonymity, Report
from reports.services import Contact
from tests.e2e.pages import Visit
from tests.e2e.staff import (
    ROTHERHAM,
    NewContext,
    StaffVisit,
    main,
    reporter_opens_their_concern,
    sign_in,
    signed_in_tab,
    timeline_kinds,
)
from tests.factories import partnership_of_region, referral_of, staff_user, staff_with_mfa, submit_report
from triage import case_actions as actions
from triage import intake as services
from triage.models import Case

pytestmark = pytest.mark.e2e


def test_a_call_handler_takes_a_phone_report_triages_it_messages_the_reporter_and_refers_it(
    new_context: NewContext,
    live_server: LiveServer,
    authorities: None,
    fast_kdf: None,
    screens: Path,
    _no_task_messages: list[int],
) -> None:
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    visit = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = visit.page

    sign_in(visit, handler)
    assert visit.path() == "/staff/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Queues")

    # --- a caller rings: the handler records the whole report ---------------------------------------
    with page.expect_navigation():
        main(page).get_by_role("link", name="Take a phone report").click()
    visit.check()
    assert visit.path() == "/staff/phone-report"
    form = main(page).locator("form")

    def radio(name: str, value: str) -> None:
        form.locator(f"input[type=radio][name='{name}'][value='{value}']").check()

    radio("anonymity-anonymity", "confidential")
    radio("about-you-reporter_sector", "education")
    form.locator("input[type=checkbox][name='concern-concern_types'][value='concern_not_acted_on']").check()
    form.locator("input[type=checkbox][name='concern-concern_types'][value='victim_disbelieved_or_blamed']").check()
    form.get_by_label("Postcode", exact=True).fill("S60 2TH")
    radio("about-council-about_council", "no")
    form.get_by_label("Which organisation is the concern about? (optional)").fill("Oakwood Academy")
    form.get_by_label("Summarise the concern in a sentence").fill("A pupil's disclosure was dismissed")
    form.get_by_label("What happened?").fill(
        "A year 9 pupil told her form tutor an older man collects her from school.\nThe head said she was lying."
    )
    radio("raised-internally-raised_internally", "yes")
    form.get_by_label("If yes, what came of it? (optional)").fill("The head told me to keep out of it.")
    radio("immediate-risk-child_at_immediate_risk", "no")
    form.get_by_label("The caller's name").fill("Pat Caller")
    form.get_by_label("The caller's email address (optional)").fill("pat.caller@private.example")
    form.get_by_label("The caller's phone number (optional)").fill("07700 900 982")
    visit.submit("Record the report")

    expect(page.locator(".govuk-panel__title")).to_have_text("Report recorded")
    reference = page.get_by_test_id("reference").inner_text().strip()
    access_code = page.get_by_test_id("access-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference), reference
    assert len(access_code.split()) >= 7, access_code
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "Read the reference and the access code to the caller, then ask them to read both back to you."
    )
    visit.screenshot(screens, "staff-phone-confirmation")

    # --- the routing task runs (no worker here: process the report's outbox row in the test) -------
    report = Report.objects.get(reference=reference)
    assert report.local_authority == authority_by_code(ROTHERHAM)
    route = OutboxMessage.objects.get(kind="route_report", target_id=report.pk)
    assert route.pk in _no_task_messages
    outbox_process(outbox_id=route.pk)
    case = Case.objects.get(report=report)
    assert case.authority is not None and case.authority.name == "Rotherham"

    visit.follow("Back to the queues")
    assert visit.path() == "/staff/"
    queue_row = page.locator("tbody tr").filter(has=page.get_by_role("link", name=case.queue.name))
    expect(queue_row).to_have_count(1)
    expect(page.get_by_test_id(f"open-{case.queue.slug}")).to_have_text("1")
    visit.screenshot(screens, "staff-queues")

    with page.expect_navigation():
        page.get_by_role("navigation", name="Menu").get_by_role("link", name="Cases").click()
    visit.check()
    assert visit.path() == "/staff/cases"
    row = page.get_by_test_id("case-table").locator("tbody tr").filter(has_text=case.case_number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("Rotherham")
    with page.expect_navigation():
        row.get_by_role("link", name=case.case_number).click()
    visit.check()

    # --- the case page: the concern, decrypted for the handler -----------------------------------
    assert visit.path() == f"/staff/cases/{case.case_number}"
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case {case.case_number}")
    expect(page.get_by_test_id("case-status")).to_have_text("New")
    expect(page.get_by_test_id("summary")).to_have_text("A pupil's disclosure was dismissed")
    concern = main(page).locator(".govuk-summary-list").first
    expect(concern).to_contain_text("A year 9 pupil told her form tutor an older man collects her from school.")
    expect(concern).to_contain_text("Oakwood Academy")
    expect(concern).to_contain_text("The head told me to keep out of it.")
    expect(concern).to_contain_text("Confidential")
    expect(concern).to_contain_text("by phone")
    expect(concern).not_to_contain_text("Pat Caller")  # hidden until shown with a reason
    expect(page.get_by_test_id("contact-hidden")).to_be_visible()
    expect(concern).to_contain_text("Rotherham")

    visit.submit("Claim this case")
    expect(page.get_by_test_id("case-status")).to_have_text("In triage")
    expect(main(page)).to_contain_text("assigned to handler")

    question = "Thank you for calling. Which days does the man collect her, and does he come by car?"
    visit.act("Message the reporter", "ask_reporter", lambda form: form.get_by_label("Message").fill(question))
    expect(page.get_by_test_id("case-status")).to_have_text("Waiting for the reporter")
    expect(page.get_by_test_id("case-message")).to_have_text([question])

    # --- the caller checks later, on their own device ----------------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    reporter_opens_their_concern(reporter, reference, access_code)
    expect(reporter.page.get_by_test_id("status")).to_have_text("The helpline has a question for you")
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([question])
    expect(reporter.page.locator(".app-message--helpline")).to_have_count(1)
    answer = "Fridays, in a silver car. I wrote down part of the number plate."
    reporter.page.get_by_label("A reply or a question for the helpline").check()
    reporter.page.get_by_label("Your message").fill(answer)
    reporter.submit("Send")
    assert reporter.path() == "/check/concern"
    expect(reporter.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your message has been sent to the helpline."
    )
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([question, answer])

    # --- the reply reaches the case through the outbox (no worker here: process its row in the test) --
    replied = OutboxMessage.objects.get(kind="reporter_replied")
    assert replied.pk in _no_task_messages
    outbox_process(outbox_id=replied.pk)

    # --- back at the helpline: the reply is on the case; the handler refers the case ---------------
    # Rotherham has a referral inbox here; referring to an authority no email reaches is its own journey
    # (tests/e2e/test_referral_reach.py).
    LocalAuthority.objects.filter(pk=case.authority_id).update(referral_email="referrals@rotherham.gov.test")
    visit.goto(f"/staff/cases/{case.case_number}")
    expect(page.get_by_test_id("case-message")).to_have_text([question, answer])
    expect(main(page).locator(".app-message").filter(has_text=answer)).to_contain_text("Reporter")

    summary = (
        "A secondary school pupil disclosed that an adult man regularly collects her from school; the school "
        "dismissed it. Please consider a strategy discussion."
    )
    visit.act(
        "Refer to the local authority",
        "refer",
        lambda form: form.get_by_label("Summary for the authority").fill(summary),
    )
    expect(page.get_by_test_id("case-status")).to_have_text("Referred to the local authority")
    referrals = main(page).locator(".app-message").filter(has_text=summary)
    expect(referrals).to_have_count(1)
    expect(referrals).to_contain_text("Rotherham")
    kinds = timeline_kinds(page)
    expected = [
        "Routed to a queue",
        "Claimed",
        "Message sent to the reporter",
        "Message from the reporter",
        "Referred to the local authority",
    ]
    assert [kind for kind in kinds if kind in expected] == expected, kinds
    visit.screenshot(screens, "staff-case")

    # The reporter sees the referral in plain words.
    reporter.goto("/check/concern")
    expect(reporter.page.get_by_test_id("status")).to_have_text("Passed to the local authority")


def test_an_authority_officer_acknowledges_and_records_an_outcome_and_the_reporter_reads_the_feedback(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None, screens: Path
) -> None:
    canary = "CANARY-7Q4Z reporter's own words"
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL,
        details=f"I saw a taxi collect two girls from the home at midnight. {canary}",
        contact=Contact(name="Robin Reporter", email="robin@private.example"),
    )
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    helper = staff_user("helper", role=User.Role.CALL_HANDLER)
    case = services.report_route(report_id=submitted.report.pk)
    actions.case_claim(case=case, acting_user=helper)
    summary = "Two girls from a children's home are collected by taxi at night. Please consider a strategy discussion."
    referral_services.case_refer(case=case, summary=summary, acting_user=helper)

    # --- the officer ------------------------------------------------------------------------------
    visit = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = visit.page
    sign_in(visit, officer)
    assert visit.path() == "/staff/referrals"
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to your authority")
    row = page.get_by_test_id("referral-table").locator("tbody tr").filter(has_text=case.case_number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Rotherham")
    with page.expect_navigation():
        row.get_by_role("link", name=case.case_number).click()
    visit.check()

    assert re.fullmatch(rf"/staff/referrals/{case.case_number}/\d+", visit.path())
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {case.case_number}")
    expect(page.get_by_test_id("referral-summary")).to_have_text(summary)
    expect(main(page)).to_contain_text("Not shared: the helpline protects the reporter's identity")
    html = page.content()
    for secret in (
        canary,
        "taxi collect two girls",
        "Robin Reporter",
        "robin@private.example",
        submitted.report.reference,
    ):
        assert secret not in html, f"the referral page shows {secret!r}"

    visit.press(page.get_by_test_id("acknowledge"))
    expect(page.get_by_test_id("acknowledge")).to_have_count(0)
    expect(main(page)).to_contain_text("acknowledged")

    def record_action(form: Locator) -> None:
        form.get_by_label("Strategy discussion").check()
        form.get_by_label("Details (optional)").fill("Held with police and the school on Monday.")

    visit.act("Record what was done", "record_action", record_action)
    recorded = main(page).locator(".app-timeline")
    expect(recorded).to_contain_text("Acknowledged the referral")
    expect(recorded).to_contain_text("Strategy discussion")
    expect(recorded).to_contain_text("Held with police and the school on Monday.")

    def record_outcome(form: Locator) -> None:
        form.get_by_label("Outcome").select_option(AuthorityOutcome.CHILD_PROTECTION_PLAN)
        form.get_by_label("What happened (optional)").fill("Both girls now have child protection plans.")

    visit.act("Record the outcome", "record_outcome", record_outcome)
    # The outcome's name is checked in test_what_the_authority_recorded_is_shown_in_words (an app bug).
    expect(main(page)).to_contain_text(" – recorded: ")
    expect(recorded).to_contain_text("Both girls now have child protection plans.")
    visit.screenshot(screens, "staff-referral")
    assert list(case.authority_actions.order_by("id").values_list("kind", flat=True)) == [
        AuthorityAction.Kind.ACKNOWLEDGED,
        AuthorityAction.Kind.STRATEGY_DISCUSSION,
        AuthorityAction.Kind.OUTCOME,
    ]

    # --- a helpline supervisor closes the case with feedback --------------------------------------
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    helpline = signed_in_tab(new_context, live_server, supervisor)  # a second sign-in page adds nothing
    helpline.goto(f"/staff/cases/{case.case_number}")
    expect(helpline.page.get_by_test_id("case-status")).to_have_text("Referred to the local authority")
    feedback = "Rotherham held a strategy discussion and put child protection plans in place. Thank you."

    def close(form: Locator) -> None:
        form.get_by_label("Outcome").select_option("referred_and_acted_on")
        form.get_by_label("Feedback for the reporter").fill(feedback)
        form.get_by_label("Yes, close this case.").check()

    helpline.act("Close with an outcome", "close", close)
    expect(helpline.page.get_by_test_id("case-status")).to_have_text("Closed")

    # The referral is closed for the officer now.
    visit.goto(f"/staff/referrals/{case.case_number}")
    expect(main(page)).to_contain_text("The helpline has closed this case")

    # --- the reporter reads the feedback -----------------------------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    reporter_opens_their_concern(reporter, submitted.report.reference, submitted.access_code)
    expect(reporter.page.get_by_test_id("status")).to_have_text("Closed")
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([feedback])


def test_what_the_authority_recorded_is_shown_in_words_to_the_officer_and_the_helpline(
    new_context: NewContext, live_server: LiveServer, transactional_db: None, fast_kdf: None
) -> None:
    """Two app bugs, found by the journeys above:

    1. The referral page shows the outcome's code ("recorded: disciplinary_or_lado"), not its name:
       ``Case.authority_outcome`` has no choices, so ``get_outcome_display`` does not exist.
    2. The helpline's case page shows nothing the authority recorded (the outcome, its notes, what was
       done, the authority's question), though the "outcome recorded" and "authority question" emails tell
       the helpline to sign in and read it, and the supervisor needs it to write the reporter's feedback.
    """
    # Only Rotherham is needed: created here rather than loading the whole directory, to stay quick.
    rotherham = LocalAuthority.objects.create(
        gss_code=ROTHERHAM,
        name="Rotherham",
        official_name="Rotherham Metropolitan Borough Council",
        kind="MD",
        region="Yorkshire and The Humber",
    )
    submitted = submit_report(local_authority=rotherham)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    helper = staff_user("helper", role=User.Role.CALL_HANDLER)
    case = services.report_route(report_id=submitted.report.pk)
    actions.case_claim(case=case, acting_user=helper)
    referral_services.case_refer(case=case, summary="Please look into this.", acting_user=helper)
    authority.referral_acknowledge(referral=referral_of(case), acting_user=officer)
    authority.referral_record_action(
        referral=referral_of(case),
        kind=AuthorityAction.Kind.LADO,
        note="LADO strategy meeting held on 3 March.",
        acting_user=officer,
    )
    authority.referral_ask_helpline(
        referral=referral_of(case), question="Can the reporter name the manager?", acting_user=officer
    )
    authority.referral_record_outcome(
        referral=referral_of(case),
        outcome=AuthorityOutcome.DISCIPLINARY_OR_LADO,
        note="The manager has been suspended.",
        acting_user=officer,
    )
    outcome_name = AuthorityOutcome.DISCIPLINARY_OR_LADO.label
    problems = []

    # Signed in beforehand (the sign-in pages are checked in the journeys above), to stay quick.
    visit = signed_in_tab(new_context, live_server, officer)
    visit.goto(f"/staff/referrals/{case.case_number}")
    text = main(visit.page).inner_text()
    if f"recorded: {outcome_name}" not in text:
        shown = re.search(r"recorded: [^\n]*", text)
        problems.append(
            f"the referral page should say 'recorded: {outcome_name}', "
            f"it says {shown.group(0) if shown else 'nothing'!r}"
        )

    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    helpline = signed_in_tab(new_context, live_server, supervisor)
    helpline.goto(f"/staff/cases/{case.case_number}")
    text = main(helpline.page).inner_text()
    wanted = {
        "the outcome": outcome_name,
        "the outcome's note": "The manager has been suspended.",
        "what was done": "LADO strategy meeting held on 3 March.",
        "the authority's question": "Can the reporter name the manager?",
    }
    missing = [f"{what} ({words!r})" for what, words in wanted.items() if words not in text]
    if missing:
        problems.append("the helpline case page does not show " + ", ".join(missing))
    assert not problems, "\n".join(problems)


def test_statistics_pattern_alerts_and_administration_pages_pass_axe(
    new_context: NewContext, live_server: LiveServer, transactional_db: None, fast_kdf: None
) -> None:
    """The board, national and administrator pages: charts with tables beside them, no axe violations."""
    from oversight.detection import detect
    from oversight.models import PatternAlert
    from oversight.selectors import stats_refresh

    rotherham = LocalAuthority.objects.create(
        gss_code=ROTHERHAM,
        name="Rotherham",
        official_name="Rotherham Metropolitan Borough Council",
        kind="MD",
        region="Yorkshire and The Humber",
    )
    helper = staff_user("helper", role=User.Role.CALL_HANDLER)
    for number in range(7):
        case = services.report_route(
            report_id=submit_report(local_authority=rotherham, organisation_name="Northside Academy").report.pk
        )
        referral_services.case_refer(case=case, summary="Summary.", acting_user=helper)
        if number < 6:
            authority.referral_acknowledge(referral=referral_of(case), acting_user=helper)
    stats_refresh()

    board, _ = staff_with_mfa(
        "board", role=User.Role.PARTNERSHIP, partnership=partnership_of_region("Yorkshire and The Humber")
    )
    visit = signed_in_tab(new_context, live_server, board)
    visit.goto("/staff/statistics")
    expect(visit.page.locator("svg[role=img] title")).to_contain_text("acknowledged on time")
    expect(main(visit.page).locator("#acknowledgements")).to_contain_text("Rotherham")

    analyst, _ = staff_with_mfa("analyst", role=User.Role.OVERSIGHT_ANALYST)
    visit = signed_in_tab(new_context, live_server, analyst)
    detect()  # as the workers do after each refresh
    visit.goto("/staff/patterns")
    expect(visit.page.get_by_test_id("alert-organisation")).to_contain_text("The same organisation named in 7 reports")
    # An alert's own page: its chart with the figures as a table, the metadata, and the forms to act on it.
    visit.goto(f"/staff/patterns/{PatternAlert.objects.get(kind='organisation').pk}")
    expect(main(visit.page).locator("#metadata")).to_contain_text("Rotherham")

    administrator, _ = staff_with_mfa("administrator", role=User.Role.ADMINISTRATOR)
    visit = signed_in_tab(new_context, live_server, administrator)
    visit.goto("/staff/admin/authorities")
    visit.goto(f"/staff/admin/authorities/{ROTHERHAM}")
