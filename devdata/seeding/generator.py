"""Planning seeded rows: each report with its case, as the services would have left them.

Everything the plan needs from the database (authorities, queues, staff) is read when the generator is
made, so that ``plan`` is pure Python and can run in a thread of its own while other threads write.
Routing is routing.decide itself; queues come from triage.intake; deadlines and identifiers from
``rules``, which calls the services' own code.
"""

from __future__ import annotations

import json
import math
import random
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from core import crypto, keystore
from core.timetrail import day_start
from devdata.seeding import choices, rules
from devdata.seeding.choices import Weighted
from directory.models import LocalAuthority
from referrals.models import AuthorityOutcome, Referral
from reports.models import URGENT_TRIAGE, AlreadyReported, Anonymity, ConcernType, Report
from reports.outbox_kinds import ROUTE_REPORT
from reports.services import envelope
from triage import deadlines, retention, routing
from triage.intake import queue_for, settings_regional_queues
from triage.models import Case

DAY = timedelta(days=1)
# What a seeded referral's summary says (sealed like every summary; the same words for every referral).
SEEDED_SUMMARY = "Seeded referral: a summary written for the authority would be here."


@dataclass(frozen=True)
class PooledKey:
    """A data key with its envelope (the report's ENVELOPE_FIELDS), shared by every seeded report sealed
    under it: sealing to the helpline and the access-code key derivation are too slow to do per row. The
    helpline-sealed copy is for reports not routed yet; a routed report's copy is its custody key's
    (``CustodyWraps``), as report_route and the case's life would leave it."""

    data_key: bytes
    access_code: str
    envelope: dict[str, object]


def key_pool(size: int) -> list[PooledKey]:
    pool = []
    for _ in range(size):
        data_key = crypto.new_data_key()
        code = crypto.generate_access_code()
        key_id, sealed = crypto.seal_key_for_helpline(data_key)
        wrap = crypto.wrap_key_for_reporter(data_key, code)
        pool.append(PooledKey(data_key, code, envelope(key_id=key_id, helpline_sealed=sealed, reporter_wrap=wrap)))
    return pool


class CustodyWraps:
    """Each pooled data key wrapped once per custody key, when the key is first needed, and shared by every
    seeded report under both: the key store and the database are asked once per custody key, never per row.
    Writers call ``fill`` outside their batch's transaction, so a key's record commits on its own."""

    def __init__(self, pool: list[PooledKey]) -> None:
        self.pool = pool
        self.lock = threading.Lock()
        self.wraps: dict[str, list[bytes]] = {}

    def wrapped(self, key_id: str, key: int) -> bytes:
        with self.lock:
            wraps = self.wraps.get(key_id)
            if wraps is None:
                # keystore.wrap records the key and makes its material; the other pooled keys reuse it.
                first = keystore.wrap(key_id, self.pool[0].data_key)
                material = keystore.load(key_id)
                rest = [crypto.seal_key_with(material, pooled.data_key) for pooled in self.pool[1:]]
                wraps = self.wraps[key_id] = [first, *rest]
            return wraps[key]

    def fill(self, planned: list[Planned]) -> None:
        """Give every routed report in the batch its data key wrapped under the custody key planned for it."""
        for item in planned:
            key_id = item.report["custody_key_id"]
            if key_id:
                item.report["custody_wrapped_key"] = self.wrapped(key_id, item.key)


def open_tau(open_fraction: float, span_days: float) -> float:
    """The decay (days) for which exp(-age / tau), averaged over ages 0..span_days, is open_fraction;
    0 means every case is closed, inf that every case is open."""
    if open_fraction <= 0:
        return 0.0
    if open_fraction >= 1:
        return math.inf

    def share(tau: float) -> float:
        return tau / span_days * (1 - math.exp(-span_days / tau))

    low, high = 1e-6, span_days * 1e6
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if share(middle) < open_fraction else (low, middle)
    return (low + high) / 2


def seed_staff() -> list[User]:
    """Assignees for the seeded cases: demo users with no password and no email (so no alerts)."""
    staff = []
    for username, role in choices.SEED_STAFF:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "email": "", "is_demo": True, "is_active": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        staff.append(user)
    return staff


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass
class Planned:
    """One report and its case as column values; the bulk writer adds ids and settles clashes."""

    report: dict[str, Any]
    # None for a report not routed yet (it has an outbox row instead, which routes it).
    case: dict[str, Any] | None
    # The case's referral (referrals.models.Referral's columns), when it was referred.
    referral: dict[str, Any] | None = None
    # The index of the report's pooled key (CustodyWraps wraps it under the case's custody key).
    key: int = 0
    # The outbox row of a report not routed yet (outbox.models.OutboxMessage's columns).
    outbox: dict[str, Any] | None = None


class Generator:
    """Plans rows without touching the database (it may run in a thread of its own)."""

    def __init__(self, *, pool: list[PooledKey], open_fraction: float, now: datetime, seed: int | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data; nothing here is a secret
        self.pool = pool
        self.now = now
        authorities = list(LocalAuthority.objects.order_by("gss_code").values_list("pk", "gss_code", "region"))
        if not authorities:
            raise CommandError("No local authorities: run `manage.py load_local_authorities` first.")
        self.authority_by_code = {code: pk for pk, code, _ in authorities}
        self.authority_rows = {code: (pk, code, region) for pk, code, region in authorities}
        # Uneven, as real volumes are: a few authorities get many more reports than most.
        weights = [1 / (rank + 1) ** 0.6 for rank in range(len(authorities))]
        self.rng.shuffle(weights)
        self.authorities = Weighted(list(zip(authorities, weights, strict=True)), resolution=16384)
        self.regional = frozenset(settings_regional_queues())
        # Every queue routing can choose, made now: nothing below may query the database.
        slugs = {"urgent", "national"} | {
            routing.queue_slug(urgent=False, region=region, regional_queues=self.regional) for region in self.regional
        }
        self.queue_ids = {slug: queue_for(slug).pk for slug in slugs}
        self.staff = [user.pk for user in seed_staff()]
        # An open case's data key sits under the open-cases key (core.keystore); a closed one's under the
        # epoch key of its destruction month, worked out per case below.
        self.open_key_id = keystore.open_key_id()
        self.channels = Weighted(choices.CHANNELS)
        self.anonymity = Weighted(choices.ANONYMITY)
        self.sectors = Weighted(choices.SECTORS)
        self.raised = Weighted(choices.RAISED)
        self.concern_counts = Weighted(choices.CONCERN_COUNTS)
        self.concern_types = list(ConcernType.values)
        self.span_days = choices.YEARS * 365.0
        self.open_tau = open_tau(open_fraction, self.span_days)
        self.open_by_age = [(days, Weighted(statuses)) for days, statuses in choices.OPEN_BY_AGE]
        self.outcomes = Weighted(choices.OUTCOMES)
        self.authority_outcomes = list(AuthorityOutcome.values)
        # The sealed content is JSON as crypto.seal_content writes it, assembled from pieces encoded once.
        self.organisations = [(_json(name), crypto.organisation_hash(name)) for name in choices.organisation_names()]
        self.hmac_key_id = crypto.hmac_key_id()
        self.summaries = [_json("Seeded: " + self._text(20, 90)) for _ in range(512)]
        self.details = [_json(self._text(120, 1200)) for _ in range(512)]
        self.responses = [_json("")] * 200 + [_json(self._text(20, 300)) for _ in range(312)]

    def _text(self, low: int, high: int) -> str:
        target = self.rng.randint(low, high)
        words: list[str] = []
        length = 0
        while length < target:
            word = self.rng.choice(choices.WORDS)
            words.append(word)
            length += len(word) + 1
        return " ".join(words)[:high].strip().capitalize() + "."

    def at_most_now(self, moment: datetime, *, after: datetime) -> datetime:
        """``moment``, or a time between ``after`` and now when it would be in the future."""
        if moment < self.now:
            return moment
        return after + (self.now - after) * self.rng.uniform(0.5, 0.99)

    def plan(
        self,
        age: float,
        *,
        authority_code: str | None = None,
        concern_types: list[str] | None = None,
        organisation: str | None = None,
        refer: bool = False,
    ) -> Planned:
        """One report and its case, submitted ``age`` days ago. A history seeder (seed_history) may choose the
        authority (by GSS code: no independent review then), the concern types and the organisation named,
        and ask for an open case referred to that authority (``refer``)."""
        rng = self.rng
        index = int(rng.random() * len(self.pool))
        key = self.pool[index]
        anonymity = self.anonymity.pick(rng)
        authority = None if rng.random() < choices.UNKNOWN_AUTHORITY else self.authorities.pick(rng)
        if authority_code is not None:
            authority = self.authority_rows[authority_code]
        about = None
        # An authority chosen by the caller is the case's: no independent review sends it elsewhere.
        if authority_code is None and rng.random() < choices.INDEPENDENT_REVIEW:
            # Usually a concern about the reporter's own council; sometimes about another one.
            about = authority if authority is not None and rng.random() < 0.7 else self.authorities.pick(rng)
        urgent_risk = rng.random() < choices.URGENT
        drawn = sorted(rng.sample(self.concern_types, self.concern_counts.pick(rng)))
        concern_types = sorted(concern_types) if concern_types is not None else drawn
        decision = routing.decide(
            routing.RoutingFacts(
                child_at_immediate_risk=urgent_risk,
                concern_types=tuple(concern_types),
                authority_code=authority[1] if authority else None,
                about_authority_code=about[1] if about else None,
                region=authority[2] if authority else None,
            ),
            regional_queues=self.regional,
        )
        organisation_named, organisation_hash = (
            self.organisations[int(rng.random() * len(self.organisations))] if rng.random() < 0.85 else ('""', "")
        )
        if organisation is not None:  # "": none named
            organisation_named, organisation_hash = (
                (_json(organisation), crypto.organisation_hash(organisation)) if organisation else ('""', "")
            )
        has_email = anonymity != Anonymity.ANONYMOUS and rng.random() < 0.6
        name = email = phone = ""
        if anonymity != Anonymity.ANONYMOUS:
            # Letters, digits, spaces, "@" and "." only: nothing to escape in JSON.
            name = f"Seeded Reporter {int(rng.random() * 10**6)}"
            if has_email:
                email = f"reporter{int(rng.random() * 10**9)}@example.com"
            if rng.random() < 0.3:
                phone = f"07700 9{int(rng.random() * 10**5):05d}"
        content = (
            f'{{"summary":{self.summaries[int(rng.random() * 512)]},'
            f'"details":{self.details[int(rng.random() * 512)]},'
            f'"organisation_name":{organisation_named},'
            f'"internal_response":{self.responses[int(rng.random() * 512)]},'
            f'"contact":{{"name":"{name}","email":"{email}","phone":"{phone}"}}}}'
        )
        case = self._case(decision, age=age, independent=decision.independent_review, refer=refer)
        referral = case.pop("referral", None)
        if referral is not None:
            referral["summary"] = crypto.seal_text(key.data_key, SEEDED_SUMMARY)
        submitted_at = case.pop("submitted_at")
        case["case_number"] = rules.case_number(rng, submitted_at.year)
        reference = rules.reference(rng)
        report = {
            "reference": reference,
            "channel": self.channels.pick(rng),
            "anonymity": anonymity,
            "reporter_sector": self.sectors.pick(rng),
            "concern_types": concern_types,
            "local_authority_id": authority[0] if authority else None,
            "about_authority_id": about[0] if about else None,
            "child_at_immediate_risk": urgent_risk,
            "raised_internally": self.raised.pick(rng),
            "already_reported": already_reported_of(reference),
            "organisation_hash": organisation_hash,
            "organisation_hash_key_id": self.hmac_key_id if organisation_hash else "",
            "has_contact_email": has_email,
            "status": Report.Status.ROUTED,
            "submitted_at": submitted_at,
            "content": crypto.seal_text(key.data_key, content),
            **key.envelope,
            # Routed: no helpline-sealed copy; the writer wraps the pooled key under this custody key.
            "helpline_key_id": "",
            "helpline_sealed_key": b"",
            "custody_key_id": self.custody_key_of(case),
        }
        return Planned(report=report, case=case, referral=referral, key=index)

    def custody_key_of(self, case: dict[str, Any]) -> str:
        """The custody key of a planned case (triage.retention.custody_key_for), setting its destruction day:
        the open-cases key while open; once closed, the epoch key of closure plus its outcome's period
        (seeded reporters never write again, so closure starts the clock)."""
        if case["closed_at"] is None:
            case["destroy_on"] = None
            return self.open_key_id
        case["destroy_on"] = retention.due_day(
            closed_on=timezone.localdate(case["closed_at"]), outcome=case["outcome"], activity=None
        )
        return retention.epoch_for(case["destroy_on"])

    def plan_unrouted(self) -> Planned:
        """A report filed today and not routed yet: its data key still sealed to the helpline, no case, and
        the outbox row that routes it (as report_submit leaves it)."""
        planned = self.plan(0.0)
        key = self.pool[planned.key]
        report = planned.report
        report.update(key.envelope)
        now = self.now
        report["status"] = Report.Status.RECEIVED
        report["submitted_at"] = day_start(now)
        report["urgent_triage_due_at"] = now + URGENT_TRIAGE if report["child_at_immediate_risk"] else None
        return Planned(
            report=report,
            case=None,
            key=planned.key,
            outbox={"kind": ROUTE_REPORT, "created_at": day_start(now)},
        )

    def _case(
        self, decision: routing.RoutingDecision, *, age: float, independent: bool, refer: bool = False
    ) -> dict[str, Any]:
        rng = self.rng
        submitted_at = self.now - DAY * age
        authority_id = self.authority_by_code.get(decision.refer_to_authority_code or "")
        closed = rng.random() >= math.exp(-age / self.open_tau) if self.open_tau else True
        status: str
        if refer and authority_id is not None and not independent:
            closed, status = False, Case.Status.REFERRED
        elif closed:
            status = Case.Status.CLOSED
        else:
            status = next(statuses for days, statuses in self.open_by_age if age >= days).pick(rng)
            if independent and age >= 1 and rng.random() < 0.6:
                status = Case.Status.NATIONAL_REVIEW
            if status == Case.Status.REFERRED and (authority_id is None or independent):
                # Nothing to refer to (authority unknown), or never to the council the concern is about.
                status = Case.Status.NATIONAL_REVIEW if independent else Case.Status.AWAITING_REPORTER
        case: dict[str, Any] = {
            "submitted_at": submitted_at,
            "authority_id": authority_id,
            "conflict_authority_id": self.authority_by_code.get(decision.conflict_authority_code or ""),
            "independent_review": decision.independent_review,
            "priority": Case.Priority.URGENT if decision.urgent else Case.Priority.STANDARD,
            "status": status,
            "queue_id": self.queue_ids[decision.queue_slug],
            "assignee_id": None if status == Case.Status.NEW or rng.random() < 0.07 else rng.choice(self.staff),
            "created_at": submitted_at + timedelta(seconds=rng.uniform(0.2, 3.0)),
            "triage_due_at": rules.triage_due(submitted_at, urgent=decision.urgent),
            "reporter_feedback_due_at": rules.cached_deadline(deadlines.reporter_feedback_due, submitted_at),
            "escalated_to_police": rng.random() < 0.03,
        }
        outcome = self.outcomes.pick(rng) if closed else ""
        referred = status == Case.Status.REFERRED or (
            closed and outcome in choices.REFERRED_OUTCOMES and authority_id is not None and not independent
        )
        closed_at = self.at_most_now(submitted_at + DAY * rng.uniform(1, 120), after=submitted_at) if closed else None
        case["escalated"] = False
        if referred:
            referral = self._referral(submitted_at, closed_at, status)
            referral["authority_id"] = authority_id
            referral["referred_by_id"] = case["assignee_id"] or rng.choice(self.staff)
            case["referral"] = referral
            case["escalated"] = referral["escalated"]
            if closed_at is not None and referral["outcome_at"] is not None:
                closed_at = max(closed_at, self.at_most_now(referral["outcome_at"] + DAY, after=submitted_at))
            if referral["status"] == Referral.Status.WITHDRAWN:
                referral["withdrawn_at"] = closed_at or referral["referred_at"]
        case["closed_at"] = closed_at
        case["outcome"] = outcome
        return case

    def _referral(self, submitted_at: datetime, closed_at: datetime | None, case_status: str) -> dict[str, Any]:
        rng = self.rng
        end = closed_at or self.now
        referred_at = self.at_most_now(submitted_at + DAY * rng.uniform(0.2, 5), after=submitted_at)
        referred_at = min(referred_at, end)
        ack_due = rules.cached_deadline(deadlines.authority_ack_due, referred_at)
        outcome_due = rules.cached_deadline(deadlines.authority_outcome_due, referred_at)
        ack_escalate = rules.cached_deadline(deadlines.authority_ack_escalate, referred_at)
        outcome_escalate = rules.cached_deadline(deadlines.authority_outcome_escalate, referred_at)
        acknowledged = referred_at + DAY * rng.uniform(0.05, 3)
        acknowledged_at = acknowledged if acknowledged < end and (closed_at or rng.random() < 0.9) else None
        outcome_at = None
        if acknowledged_at is not None:
            candidate = referred_at + DAY * rng.uniform(5, 75)
            if candidate < end and (closed_at or rng.random() < 0.5):
                outcome_at = candidate
        if outcome_at is not None:
            status = Referral.Status.OUTCOME_RECORDED
        elif case_status != Case.Status.REFERRED:
            status = Referral.Status.WITHDRAWN  # closed before the authority answered
        else:
            status = Referral.Status.ACKNOWLEDGED if acknowledged_at else Referral.Status.AWAITING_ACKNOWLEDGEMENT
        return {
            "status": status,
            "referred_at": referred_at,
            "ack_due_at": ack_due,
            "outcome_due_at": outcome_due,
            "ack_escalate_at": ack_escalate,
            "outcome_escalate_at": outcome_escalate,
            "acknowledged_at": acknowledged_at,
            "outcome": rng.choice(self.authority_outcomes) if outcome_at else "",
            "outcome_at": outcome_at,
            "withdrawn_at": None,
            "identity_shared": False,
            "particulars": b"",
            # What the deadline sweeper would have done: the second rung passed without an answer.
            "escalated": (acknowledged_at is None and ack_escalate < end)
            or (outcome_at is None and outcome_escalate < end),
        }


def already_reported_of(reference: str) -> str:
    """Whether a seeded concern was already reported: a spread drawn from its reference, not from the seeded
    random stream, so every other seeded figure stays as it was (a quarter yes, a third no, the rest not
    known)."""
    bucket = zlib.crc32(reference.encode("ascii")) % 12
    return AlreadyReported.YES if bucket < 3 else AlreadyReported.NO if bucket < 7 else AlreadyReported.NOT_KNOWN
