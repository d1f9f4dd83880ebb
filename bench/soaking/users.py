"""The virtual users: reporters on the pages and the API, helpline staff, authority officers, boards."""

from __future__ import annotations

import abc
import json
import random
import re
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench import load
from bench.soaking.browser import Browser, FlowError
from bench.soaking.config import PASSWORD, Stopped
from bench.soaking.stats import ErrorRecord, Stats


def text(rng: random.Random, low: int, high: int) -> str:
    return load._text(rng, low, high)


@dataclass(frozen=True)
class World:
    """What the virtual users need to know about the seeded database."""

    port: int
    authority_codes: list[str]
    officer_codes: list[str]
    sectors: list[str]
    queues: list[str]
    board_area: str


@dataclass
class Account:
    username: str
    role: str
    key: bytes
    last_step: int = -1


class VirtualUser(abc.ABC):
    kind = "user"
    think = (1.0, 3.0)

    def __init__(self, name: str, world: World, stats: Stats, stop: threading.Event, seed: int) -> None:
        self.name = name
        self.world = world
        self.stats = stats
        self.stop = stop
        self.rng = random.Random(seed)
        self.browser = Browser(world.port, name, stats, stop)
        self.iterations = 0

    def pause(self, scale: float = 1.0) -> None:
        low, high = self.think
        if self.stop.wait(self.rng.uniform(low, high) * scale):
            raise Stopped

    @abc.abstractmethod
    def iteration(self) -> None:
        """One round of this kind of user's work."""

    def recover(self) -> None:
        """After an error: start the next iteration afresh."""
        self.browser.cookies.clear()

    def run(self) -> None:
        # Users do not all start on the same second.
        if self.stop.wait(self.rng.uniform(0, 3)):
            return
        while not self.stop.is_set():
            try:
                self.iteration()
                self.iterations += 1
            except Stopped:
                return
            except FlowError:
                self.recover()
                if self.stop.wait(2):
                    return
            except Exception as failure:  # a bug in the soak itself: count it, say where, go on
                record = ErrorRecord(
                    time.monotonic() - self.stats.began,
                    self.name,
                    "soak client",
                    "-",
                    "-",
                    -1,
                    "".join(traceback.format_exception_only(failure)).strip()[:300],
                )
                self.stats.add("soak client", 0.0, error=record)
                traceback.print_exc()
                self.recover()
                if self.stop.wait(2):
                    return


def _find(pattern: str, text_: str) -> list[str]:
    return re.findall(pattern, text_)


def _input_values(page: str, name: str) -> list[str]:
    """The values of the inputs (radios, checkboxes) named ``name`` on a page, in their order."""
    found = []
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            if value:
                found.append(value.group(1))
    return found


CONFIRMATION = "/report/confirmation"
SHOWN_ONCE = 'data-testid="code-shown-once"'
REFERENCE = re.compile(r'data-testid="reference">([^<]+)<')
ACCESS_CODE = re.compile(r'data-testid="access-code">([^<]+)<')


def confirmation_shown(page: str) -> tuple[str, str]:
    """The reference and the access code a confirmation page shows ("" for either it does not)."""
    reference, code = REFERENCE.search(page), ACCESS_CODE.search(page)
    return (reference.group(1).strip() if reference else "", code.group(1).strip() if code else "")


class WebReporter(VirtualUser):
    """A worker reporting through the question pages, then following the report up at /check."""

    kind = "reporter-web"
    think = (1.0, 3.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[tuple[str, str]] = []

    def answers(self, slug: str, page: str) -> list[tuple[str, str]]:
        rng = self.rng
        if slug == "anonymity":
            self.anonymity = rng.choice(load.ANONYMITY)
            return [("anonymity", self.anonymity)]
        if slug == "about-you":
            return [("reporter_sector", rng.choice(load.SECTORS))]
        if slug == "concern":
            return [("concern_types", c) for c in rng.sample(load.CONCERN_TYPES, rng.randint(1, 3))]
        if slug == "where":
            roll = rng.random()
            if roll < 0.2 and self.world.sectors:
                letters = "ABDEFGHJLNPQRSTUWXYZ"
                postcode = f"{rng.choice(self.world.sectors)}{rng.choice(letters)}{rng.choice(letters)}"
                return [("postcode", postcode), ("council", "")]
            codes = self.world.officer_codes if roll < 0.6 else self.world.authority_codes
            return [("postcode", ""), ("council", rng.choice(codes))]
        if slug == "council":  # a postcode on a boundary: the first council offered
            offered = _find(r'name="council" type="radio" value="([^"]+)"', page) or _find(
                r'type="radio" name="council" value="([^"]+)"', page
            )
            if offered:
                return [("council", offered[0]), ("other_council", "")]
            return [("council", ""), ("other_council", rng.choice(self.world.authority_codes))]
        if slug == "about-council":
            return [("about_council", "no"), ("which_council", "")]
        if slug == "organisation":
            return [("organisation_name", text(rng, 5, 60).title() if rng.random() < 0.6 else "")]
        if slug == "what-happened":
            return [("summary", text(rng, 20, 200)), ("details", text(rng, 100, 3000))]
        if slug == "raised-internally":
            raised = rng.choice(load.RAISED)
            return [("raised_internally", raised), ("internal_response", text(rng, 20, 400) if raised == "yes" else "")]
        if slug == "reported":  # optional: most say no or do not know, and give no details
            return [("already_reported", rng.choice(["no", "not_known", ""]))]
        if slug == "immediate-risk":
            return [("child_at_immediate_risk", "yes" if rng.random() < 0.1 else "no")]
        if slug == "contact":
            return [
                ("name", text(rng, 5, 30).title()),
                ("email", f"soak{rng.randint(1, 10**6)}@example.org"),
                ("phone", ""),
            ]
        if slug == "documents":  # "Do you have documents, photos or recordings?": none
            return [("action", "continue")]
        raise RuntimeError(f"the soak does not know the question page {slug!r}")

    def iteration(self) -> None:
        if self.reports and self.rng.random() < 0.3:
            self.follow_up(*self.rng.choice(self.reports))
            return
        reference, code = self.report()
        self.reports.append((reference, code))
        self.pause()
        self.follow_up(reference, code)

    def report(self) -> tuple[str, str]:
        b = self.browser
        b.cookies.clear()
        b.request("start page", "GET", "/")
        self.pause(0.5)
        url = b.request("report: begin", "POST", "/report/begin", form={}, expect=(302,)).location
        for _ in range(15):  # at most one visit per question page
            if not url.startswith("/report/") or url == "/report/check-your-answers":
                break
            slug = url.removeprefix("/report/").split("?", 1)[0]
            page = b.request("report: question page", "GET", url).text()
            self.pause(0.7)
            url = b.request("report: answer", "POST", url, form=self.answers(slug, page), expect=(302,)).location
        if url != "/report/check-your-answers":
            raise RuntimeError(f"the question pages did not end at check your answers but at {url}")
        b.request("report: check your answers", "GET", url)
        self.pause()
        # Post/redirect/get: sending answers with a redirect to the confirmation page, which shows the
        # reference and, this once, the access code.
        url = b.request("report: submit", "POST", url, form={}, expect=(302,)).location
        if url != CONFIRMATION:
            b.fail("report: submit", "POST", "/report/check-your-answers", f"redirected to {url}, not {CONFIRMATION}")
        page = b.request("report: confirmation", "GET", url).text()
        reference, code = confirmation_shown(page)
        if not reference or not code or SHOWN_ONCE not in page:
            b.fail("report: confirmation", "GET", url, "no reference, access code or warning that it is shown once")
        self.stats.count("web reports submitted")
        self.pause(0.5)
        # "I have saved my access code": post/redirect/get again, then the page keeps the reference only.
        url = b.request("report: code saved", "POST", url, form={"saved": "on"}, expect=(302,)).location
        page = b.request("report: confirmation again", "GET", url).text()
        again, code_again = confirmation_shown(page)
        if again != reference or code_again:
            b.fail("report: confirmation again", "GET", url, "the reference is gone, or the access code is shown again")
        return reference, code

    def follow_up(self, reference: str, code: str) -> None:
        b = self.browser
        b.cookies.clear()
        b.request("check: sign-in page", "GET", "/check")
        self.pause(0.5)
        form = {"reference": reference, "access_code": code}
        url = b.request("check: unlock", "POST", "/check", form=form, expect=(302,)).location
        if url != "/check/concern":
            raise FlowError(f"check: unlock went to {url}")
        b.request("check: follow-up page", "GET", url)
        self.pause()
        message = {"body": text(self.rng, 20, 600), "kind": self.rng.choice(["message", "more_information"])}
        url = b.request("check: send message", "POST", "/check/concern/message", form=message, expect=(302,)).location
        b.request("check: follow-up page", "GET", url)
        self.stats.count("web follow-up messages")
        self.pause(0.5)
        b.request("check: close", "POST", "/check/concern/close", form={}, expect=(302,))


class ApiReporter(VirtualUser):
    """An integration (or a worker's app) using the reporter API."""

    kind = "reporter-api"
    think = (1.0, 3.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[tuple[str, str]] = []
        self.places = load.Places(authority_codes=self.world.authority_codes, sectors=self.world.sectors)

    def iteration(self) -> None:
        b = self.browser
        if self.world.sectors and self.rng.random() < 0.2:
            postcode = self.rng.choice(self.world.sectors)
            b.request("api: authority lookup", "GET", f"/api/v1/local-authorities?{urlencode({'postcode': postcode})}")
        if self.reports and self.rng.random() < 0.3:
            reference, code = self.rng.choice(self.reports)
        else:
            body = json.loads(load.intake_body(self.rng.randint(0, 10**9), self.places))
            created = json.loads(b.request("api: submit", "POST", "/api/v1/reports", body=body, expect=(201,)).body)
            reference, code = created["reference"], created["access_code"]
            self.reports.append((reference, code))
            self.stats.count("api reports submitted")
            self.pause()
        pair = {"reference": reference, "access_code": code}
        b.request("api: access", "POST", "/api/v1/reports/access", body=pair)
        self.pause()
        message = {**pair, "body": text(self.rng, 20, 600), "kind": "message"}
        b.request("api: message", "POST", "/api/v1/reports/messages", body=message, expect=(201,))
        self.stats.count("api messages")
        self.pause()


class Staff(VirtualUser):
    """A member of staff: signs in with a password and the authenticator, and again every few minutes."""

    home_page = "staff: home"

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.signed_in_until = 0.0

    def recover(self) -> None:
        super().recover()
        self.signed_in_until = 0.0

    def totp(self) -> str:
        from django_otp.oath import TOTP

        # A code is accepted once per time step: wait for a fresh step when this one was used.
        while True:
            totp = TOTP(self.account.key)
            step = totp.t()
            if step != self.account.last_step:
                self.account.last_step = step
                return f"{totp.token():06d}"
            if self.stop.wait(31 - time.time() % 30):
                raise Stopped

    def sign_in(self) -> None:
        b = self.browser
        if self.signed_in_until and self.browser.cookies:
            b.request("staff: sign out", "POST", "/staff/sign-out", form={}, expect=(302,))
        b.cookies.clear()
        b.request("staff: sign-in page", "GET", "/staff/sign-in")
        self.pause(0.5)
        form = {"username": self.account.username, "password": PASSWORD}
        url = b.request("staff: sign-in password", "POST", "/staff/sign-in", form=form, expect=(302,)).location
        if url != "/staff/sign-in/code":
            raise FlowError(f"password step went to {url}")
        b.request("staff: sign-in code page", "GET", url)
        self.pause(0.5)
        url = b.request("staff: sign-in code", "POST", url, form={"code": self.totp()}, expect=(302,)).location
        if url != "/staff/":
            raise FlowError(f"code step went to {url}")
        self.stats.count("staff sign-ins")
        self.signed_in_until = time.monotonic() + self.rng.uniform(120, 240)
        self.land(url)

    def land(self, url: str) -> None:
        """The page a sign-in ends on: the helpline's home, or the redirect to the role's own page."""
        answer = self.browser.request(self.home_page, "GET", url, expect=(200, 302))
        if answer.status == 302:
            self.landed(answer.location)

    def landed(self, url: str) -> None:
        raise FlowError(f"{self.kind} was sent from /staff/ to {url}")

    def iteration(self) -> None:
        if time.monotonic() >= self.signed_in_until:
            self.sign_in()
            self.pause()
        self.work()

    @abc.abstractmethod
    def work(self) -> None:
        """What this role does once signed in, one round."""


CASE_LINK = r'href="/staff/cases/([0-9A-Z]{4}-[0-9A-Z]+)"'
CASE_ACTIONS = {"add_note": 4, "claim": 2, "set_priority": 1, "refer": 2, "ask_reporter": 1}


class Handler(Staff):
    kind = "handler"
    think = (1.0, 3.0)

    def filters(self) -> dict[str, str]:
        rng, world = self.rng, self.world
        choice = rng.randrange(8)
        if choice == 0:
            return {"queue": rng.choice(world.queues)}
        if choice == 1:
            return {"status": rng.choice(["new", "in_triage", "awaiting_reporter", "referred"])}
        if choice in (2, 3):
            return {"authority": rng.choice(world.officer_codes)}
        if choice == 4:
            return {"sort": "newest"}
        if choice == 5:
            return {"page": str(rng.randint(2, 5))}
        if choice == 6:
            return {"priority": "urgent"}
        return {}

    def work(self) -> None:
        b = self.browser
        if self.rng.random() < 0.3:
            b.request("staff: home", "GET", "/staff/")
            self.pause()
        filters = self.filters()
        url = "/staff/cases" + (f"?{urlencode(filters)}" if filters else "")
        cases = _find(CASE_LINK, b.request("staff: case list", "GET", url).text())
        if not cases:
            cases = _find(CASE_LINK, b.request("staff: case list", "GET", "/staff/cases").text())
        if not cases:
            self.pause()
            return
        number = self.rng.choice(cases)
        self.pause()
        page = b.request("staff: case page", "GET", f"/staff/cases/{number}").text()
        offered = [a for a in _find(rf'action="/staff/cases/{number}/([a-z_]+)"', page) if a in CASE_ACTIONS]
        if not offered:
            return
        self.pause()
        action = self.rng.choices(offered, weights=[CASE_ACTIONS[a] for a in offered])[0]
        form: dict[str, str] = {}
        if action in ("add_note", "ask_reporter"):
            form = {f"{action}-body": text(self.rng, 20, 400)}
        elif action == "set_priority":
            form = {"set_priority-priority": self.rng.choice(["urgent", "standard"])}
        elif action == "refer":
            form = {"refer-summary": text(self.rng, 40, 600)}
            # An authority no email would reach (no referral inbox, no officer): the form asks how the
            # helpline will make sure it knows, and a note for the follow-up.
            told = _input_values(page, "refer-how_told")
            if told:
                form |= {"refer-how_told": self.rng.choice(told), "refer-how_told_note": text(self.rng, 20, 200)}
        answer = b.request(
            f"staff: case action ({action})",
            "POST",
            f"/staff/cases/{number}/{action}",
            form=form,
            expect=(302,),
            conflict_ok=True,
        )
        self.stats.count("case actions" if answer.status == 302 else "case actions refused (409)")
        if answer.status == 302:
            b.request("staff: case page", "GET", answer.location)
        self.pause()


REFERRAL_LINK = r'href="/staff/referrals/([0-9A-Z]{4}-[0-9A-Z]+)"'


class Officer(Staff):
    kind = "officer"
    think = (1.5, 4.0)
    home_page = "staff: home (redirect)"

    def landed(self, url: str) -> None:
        if url != "/staff/referrals":
            raise FlowError(f"an officer was sent to {url}")
        self.browser.request("referrals: list", "GET", url)

    def work(self) -> None:
        b = self.browser
        listing = "/staff/referrals?closed=1" if self.rng.random() < 0.2 else "/staff/referrals"
        numbers = _find(REFERRAL_LINK, b.request("referrals: list", "GET", listing).text())
        if not numbers:
            self.pause()
            return
        number = self.rng.choice(numbers)
        self.pause()
        page = b.request("referrals: referral page", "GET", f"/staff/referrals/{number}").text()
        self.pause()
        action = ""
        if f"/staff/referrals/{number}/acknowledge" in page and self.rng.random() < 0.3:
            action, form = "acknowledge", {}
        elif f"/staff/referrals/{number}/ask_helpline" in page and self.rng.random() < 0.1:
            action, form = "ask_helpline", {"ask_helpline-note": text(self.rng, 20, 300)}
        if action:
            answer = b.request(
                f"referrals: {action}",
                "POST",
                f"/staff/referrals/{number}/{action}",
                form=form,
                expect=(302,),
                conflict_ok=True,
            )
            self.stats.count("referral actions" if answer.status == 302 else "referral actions refused (409)")
            if answer.status == 302:
                b.request("referrals: referral page", "GET", answer.location)
            self.pause()


class Board(Staff):
    """A safeguarding board reviewer (its region) or national oversight (every region, pattern alerts)."""

    kind = "board"
    think = (2.0, 5.0)
    home_page = "staff: home (redirect)"

    def stats_page(self) -> str:
        return "statistics: national" if self.account.role == "oversight_analyst" else "statistics: board"

    def landed(self, url: str) -> None:
        if url != "/staff/statistics":
            raise FlowError(f"a {self.account.role} was sent to {url}")
        self.browser.request(self.stats_page(), "GET", url)

    def work(self) -> None:
        b = self.browser
        b.request(self.stats_page(), "GET", "/staff/statistics")
        self.pause()
        if self.rng.random() < 0.3:
            b.request(self.stats_page() + " CSV", "GET", "/staff/statistics.csv")
            self.pause()
        if self.account.role == "oversight_analyst" and self.rng.random() < 0.5:
            b.request("pattern alerts", "GET", "/staff/patterns")
            self.pause()
