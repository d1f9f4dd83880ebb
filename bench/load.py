"""Load generation: closed-loop HTTP clients, one thread each, and the request bodies they send.

Each client keeps one http.client connection. Gunicorn's sync workers answer `Connection: close`, so
http.client reopens it for the next request: every measured request includes its TCP connect, for the
floor and the intake alike.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

# Neutral filler: the bench never sends anything that reads like a real concern.
WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "meeting record review team manager email policy school referral note office week follow "
    "agenda training rota budget minutes report letter process summary visit plan action staff "
    "council board audit form date update response notice procedure question answer folder"
).split()

ANONYMITY = ("anonymous", "anonymous", "anonymous", "confidential", "named")
SECTORS = (
    "childrens_social_care",
    "education",
    "police",
    "health",
    "local_council",
    "elected_member",
    "voluntary_sector",
    "other",
)
CONCERN_TYPES = (
    "concern_not_acted_on",
    "victim_disbelieved_or_blamed",
    "information_not_shared",
    "records_altered_or_suppressed",
    "cover_up_to_protect_reputation",
    "retaliation_against_staff",
    "unsafe_workload_or_resources",
    "known_risk_person_with_access",
    "other",
)
RAISED = ("yes", "no", "not_sure")


def _text(rng: random.Random, low: int, high: int) -> str:
    """Filler text of ``low`` to ``high`` characters."""
    target = rng.randint(low, high)
    words: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:high].strip()


@dataclass(frozen=True)
class Places:
    """Where reports can be about: authority GSS codes, and postcode sectors that resolve to one English
    authority (so any full postcode in them resolves)."""

    authority_codes: Sequence[str]
    sectors: Sequence[str]


def intake_body(seed: int, places: Places) -> bytes:
    """A valid POST /api/v1/reports body; the seed picks every field, so runs send the same mix."""
    rng = random.Random(seed)
    anonymity = rng.choice(ANONYMITY)
    body: dict[str, object] = {
        "anonymity": anonymity,
        "reporter_sector": rng.choice(SECTORS),
        "concern_types": rng.sample(CONCERN_TYPES, rng.randint(1, 3)),
        "summary": _text(rng, 20, 280),
        "details": _text(rng, 100, 4000),
        "child_at_immediate_risk": rng.random() < 0.1,
        "raised_internally": rng.choice(RAISED),
    }
    if rng.random() < 0.3 and places.sectors:
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        body["postcode"] = f"{rng.choice(places.sectors)}{rng.choice(letters)}{rng.choice(letters)}"
    else:
        body["local_authority"] = rng.choice(places.authority_codes)
    if rng.random() < 0.05:
        body["about_authority"] = rng.choice(places.authority_codes)
    if rng.random() < 0.5:
        body["organisation_name"] = _text(rng, 5, 60).title()
    if body["raised_internally"] == "yes":
        body["internal_response"] = _text(rng, 20, 800)
    if anonymity != "anonymous":
        body["contact"] = {"name": _text(rng, 5, 30).title(), "email": f"person{seed}@example.org", "phone": ""}
    return json.dumps(body).encode()


def floor_body(seed: int) -> bytes:
    rng = random.Random(seed)
    return json.dumps({"a": rng.choice(WORDS), "b": _text(rng, 20, 300), "c": rng.randint(0, 10**6)}).encode()


# --- clients ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    seconds: float
    status: int  # 0 when the connection failed
    body: bytes = b""


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    elapsed: float = 0.0

    def latencies(self, status: int = 201) -> list[float]:
        return [s.seconds for s in self.samples if s.status == status]

    def errors(self, status: int = 201) -> int:
        return sum(1 for s in self.samples if s.status != status)

    def statuses(self) -> Counter[int]:
        return Counter(s.status for s in self.samples)

    def throughput(self, status: int = 201) -> float:
        return len(self.latencies(status)) / self.elapsed if self.elapsed else 0.0


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> Sample:
    started = time.perf_counter()
    try:
        conn.request("POST", path, body, HEADERS)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return Sample(time.perf_counter() - started, 0)
    return Sample(time.perf_counter() - started, response.status, data)


def run_load(
    port: int,
    path: str,
    make_body: Callable[[int], bytes],
    *,
    clients: int,
    total: int | None = None,
    duration: float | None = None,
    first_seed: int = 0,
    keep_bodies: bool = False,
) -> LoadResult:
    """``clients`` closed-loop clients POSTing to ``path`` until ``total`` requests have been sent or
    ``duration`` seconds have passed; each starts its next request as soon as its last one ends."""
    if (total is None) == (duration is None):
        raise ValueError("give total or duration")
    result = LoadResult()
    lock = threading.Lock()
    issued = 0
    start_gate = threading.Barrier(clients + 1)
    deadline = float("inf")

    def next_seed() -> int | None:
        nonlocal issued
        with lock:
            if (total is not None and issued >= total) or time.perf_counter() >= deadline:
                return None
            issued += 1
            return first_seed + issued

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_gate.wait()
        try:
            while (seed := next_seed()) is not None:
                sample = post(conn, path, make_body(seed))
                result.samples.append(sample if keep_bodies else Sample(sample.seconds, sample.status))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, name=f"client-{n}", daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    if duration is not None:
        deadline = started + duration
    start_gate.wait()
    for thread in threads:
        while thread.is_alive():  # short joins, so Ctrl-C reaches the main thread at once
            thread.join(timeout=0.5)
    result.elapsed = time.perf_counter() - started
    return result


# --- statistics ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: int) -> float:
    """The p-th percentile (1..99), interpolated between samples."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]
