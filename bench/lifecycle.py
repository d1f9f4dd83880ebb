"""The lifecycle at scale: `.venv/bin/python bench/lifecycle.py [--cases N]` (`make bench-lifecycle`).

Throughputs of the retention schedule's work, legal hold, key rotation and backup, at N seeded cases
(default 100,000), each against a floor measured in the same run:

  1. a base database seeded once with N cases and N/50 reports not routed yet (`manage.py seed_cases
     --unrouted`, whose data keys stay sealed to the helpline key), reused by later runs:
     helpline_bench_lifecycle_<N> (--database, or BENCH_LIFECYCLE_DATABASE). Its keys are its own, in
     var/bench-lifecycle/<database>/: the helpline and service keys (HELPLINE_DEV_KEY_FILE), the audit
     keys and the custody keys (CUSTODY_KEY_DIR), so nothing here touches `make run`'s;
  2. every run works on a fresh copy, <database>_run (CREATE DATABASE ... TEMPLATE), with a copy of the
     custody key folder and a shred log and audit checkpoints of its own, so every run starts from the
     same rows and the base is never changed;
  3. in this process, REPEATS batches of BATCH cases for each phase, each batch after a batch of its floor
     (interleaved, so the machine's drift touches both alike); the figure is the median of the batches:
     - legal hold: triage.retention.hold_place on closed cases, one transaction per case (each hold is
       an audited act of its own), against re-wrapping a report's data key in one transaction per case
       (SELECT ... FOR UPDATE, SecretBox open and seal, UPDATE: the least a custody move can cost);
     - extension: a reporter's message today on a case closed before this month, then
       triage.retention.rehome, which moves its data key to a later epoch's key;
       the messages are written before the clock starts. Same floor as legal hold;
     - retention shredding: ``SHRED`` on cases whose destruction day has passed (one line below switches
       it from lifecycle.shredding.shred_family per case to the schedule's job), against one UPDATE of
       the report's row in one transaction per case;
     - rotation: `manage.py rotate_helpline_key --to NEW` (a key pair made for the run; the reports not
       routed yet are the ones sealed to the helpline key) against opening and sealing the same rows in
       batches (SealedBox, UPDATE ... FROM unnest); `manage.py rewrap_custody_key --from KEY` on the
       open-cases key against SecretBox open and seal of the same rows in batches;
     - backup + restore: `manage.py backup --out DIR`, then `manage.py restore --from DIR --database-url`
       into a fresh database, against pg_dump --format=custom and pg_restore of the same database
       (BACKUP_REPEATS times each, --backup-repeats: once unless asked, as each takes minutes at 100,000).
     A phase whose command is not in this checkout says so ("not available") and is skipped.

Every phase checks what it did (the keys moved, the content destroyed, nothing left under the old key) and a
phase that did not do it stops the run with exit status 1: a fast phase that did nothing means nothing. There
are no assertions on time: the machine is shared and noisy. Figures go to bench/results/lifecycle.json
(lifecycle-<N>.json for other sizes). Only 127.0.0.1; Redis database 14 (BENCH_REDIS_URL) if anything queues.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

from bench import harness, procs  # noqa: E402
from bench.harness import say  # noqa: E402

DEFAULT_CASES = 100_000
BATCH = 500
REPEATS = 3
BACKUP_REPEATS = 1  # a backup and a restore of 100,000 cases take minutes on a busy machine
FLOOR_CHUNK = 1_000  # rows per transaction in the batched floors
SEED = 26  # which cases each phase takes: the same ones on every run of the same base
HOLD_REASON = "Bench: kept for a statutory inquiry's notice."
MESSAGE = "Bench: one more thing I remembered."
BASE_FOLDER = ROOT / "var" / "bench-lifecycle"
RESULTS = ROOT / "bench" / "results" / "lifecycle.json"


class PhaseFailed(harness.Failed):
    """A phase did not do what it says: its timing would mean nothing."""


# --- figures ------------------------------------------------------------------------------------------------


@dataclass
class Runs:
    """What a phase (or a floor) did in each of its batches: cases and seconds."""

    cases: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, cases: int, seconds: float) -> None:
        self.cases.append(cases)
        self.seconds.append(seconds)

    def rate(self) -> float:
        """The median of the batches' cases per second (0 when nothing was done)."""
        rates = [n / s for n, s in zip(self.cases, self.seconds, strict=True) if n and s > 0]
        return statistics.median(rates) if rates else 0.0

    def median_seconds(self) -> float:
        return statistics.median(self.seconds) if self.seconds else 0.0

    def figures(self) -> dict[str, Any]:
        rate = self.rate()
        return {
            "batches": len(self.cases),
            "cases_per_batch": self.cases,
            "seconds": [round(s, 3) for s in self.seconds],
            "median_cases_per_s": round(rate, 1),
            "median_ms_per_case": round(1000 / rate, 3) if rate else None,
        }


def times_floor(phase: Runs, floor: Runs) -> float | None:
    """How many times the floor's speed the phase's is below it (phase time per case / floor time per case)."""
    phase_rate, floor_rate = phase.rate(), floor.rate()
    if not phase_rate or not floor_rate:
        return None
    return round(floor_rate / phase_rate, 1)


def batch_size(wanted: int, repeats: int, available: dict[str, int]) -> int:
    """The batch every phase and floor uses: ``wanted``, or less when a pool of cases cannot give each of
    its ``repeats`` batches that many (a pool's count is already divided by how many phases share it)."""
    fits = min(count // repeats for count in available.values())
    return max(0, min(wanted, fits))


def slices(ids: Sequence[int], size: int, count: int) -> list[list[int]]:
    return [list(ids[n * size : (n + 1) * size]) for n in range(count)]


# --- the databases and their keys ---------------------------------------------------------------------------


def default_database(cases: int) -> str:
    return os.environ.get("BENCH_LIFECYCLE_DATABASE") or f"helpline_bench_lifecycle_{cases}"


def keys_env(folder: Path, run_folder: Path | None = None) -> dict[str, str]:
    """The key files and folders of a base database (and the shred log and checkpoints of a run)."""
    work = run_folder or folder
    return {
        "HELPLINE_DEV_KEY_FILE": str(folder / "dev-keys.json"),
        "AUDIT_DEV_KEY_FILE": str(folder / "dev-audit-keys.json"),
        "CUSTODY_KEY_DIR": str(work / "custody-keys"),
        "SHRED_LOG_PATH": str(work / "shred-log.jsonl"),
        "AUDIT_CHECKPOINT_PATH": str(work / "audit-checkpoints.jsonl"),
    }


def database_exists(name: str) -> bool:
    with closing(procs.connect("postgres")) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_drop(name: str) -> None:
    with closing(procs.connect("postgres")) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{procs.own_database(name)}" WITH (FORCE)')


def database_copy(template: str, name: str) -> None:
    database_drop(name)
    with closing(procs.connect("postgres")) as admin:
        admin.execute(f'CREATE DATABASE "{procs.own_database(name)}" TEMPLATE "{procs.own_database(template)}"')


def base_prepare(base: str, cases: int, unrouted: int) -> dict[str, Any]:
    """The base database seeded with ``cases`` cases and ``unrouted`` reports not routed yet, with its keys:
    reused when a finished seeding of the same size is recorded beside its keys, made again otherwise."""
    folder = BASE_FOLDER / base
    marker = folder / "seeded.json"
    wanted = {"cases": cases, "unrouted": unrouted}
    if marker.exists() and database_exists(base):
        recorded = json.loads(marker.read_text())
        if {key: recorded.get(key) for key in wanted} == wanted:
            say(f"{base} already holds {cases:,} cases and {unrouted:,} reports not routed yet: reusing them")
            return {**recorded, "reused": True}
    say(f"seeding {base} with {cases:,} cases and {unrouted:,} reports not routed yet, keys in {folder}")
    database_drop(base)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ.update(keys_env(folder))
    procs.database_create(base)
    procs.manage("migrate", "--no-input", "-v", "0", timeout=600, database=base)
    procs.manage("generate_dev_keys", database=base)
    procs.manage("load_local_authorities", database=base)
    began = time.monotonic()
    procs.manage(
        "seed_cases", "--count", str(cases), "--unrouted", str(unrouted), "--writers", "2", timeout=None, database=base
    )
    seconds = round(time.monotonic() - began, 1)
    with closing(procs.connect(base)) as conn:
        conn.execute("VACUUM (ANALYZE) triage_case")
        conn.execute("VACUUM (ANALYZE) reports_report")
    recorded = {**wanted, "seeding_s": seconds, "seeded_at": datetime.now(UTC).isoformat(timespec="seconds")}
    marker.write_text(json.dumps(recorded, indent=2) + "\n")
    say(f"seeded {cases + unrouted:,} reports in {seconds:.0f}s")
    return {**recorded, "reused": False}


def run_prepare(base: str, run: str, run_folder: Path) -> None:
    """A fresh copy of the base database and its custody keys for this run."""
    folder = BASE_FOLDER / base
    database_copy(base, run)
    shutil.copytree(folder / "custody-keys", run_folder / "custody-keys")
    os.environ.update(keys_env(folder, run_folder))


# --- which cases each phase takes ---------------------------------------------------------------------------


@dataclass
class Pools:
    """Case and report ids, in a fixed random order: closed cases kept for years yet (hold, extension),
    cases due for destruction (shredding), open cases' reports (the per-case floors)."""

    kept: list[int]
    due: list[int]
    open_reports: list[int]


def pools(today: date, seed: int = SEED) -> Pools:
    from core.timetrail import day_start
    from triage.models import Case, LegalHold

    held = LegalHold.objects.filter(released_on__isnull=True).values("case_id")
    closed = Case.objects.filter(
        status=Case.Status.CLOSED,
        report__content_destroyed_on__isnull=True,
        report__custody_key_id__startswith="epoch-",
    ).exclude(pk__in=held)
    # Closed before this month: a reporter's message today moves the case to a later month's epoch key.
    kept = list(
        closed.filter(destroy_on__gt=today, closed_at__lt=day_start(today.replace(day=1)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    due = list(closed.filter(destroy_on__lte=today).order_by("pk").values_list("pk", flat=True))
    open_reports = list(
        Case.objects.filter(closed_at__isnull=True, report__custody_key_id__startswith="open-")
        .order_by("pk")
        .values_list("report_id", flat=True)
    )
    rng = random.Random(seed)
    for ids in (kept, due, open_reports):
        rng.shuffle(ids)
    return Pools(kept=kept, due=due, open_reports=open_reports)


# --- floors -------------------------------------------------------------------------------------------------


class KeyMaterial(dict[str, bytes]):
    """Custody keys' material, loaded once (the floors never pay for the key store)."""

    def __missing__(self, key_id: str) -> bytes:
        from core import keystore

        self[key_id] = material = keystore.load(key_id)
        return material


def rewrap_floor_each(report_ids: list[int], keys: KeyMaterial) -> float:
    """Re-wrap each report's data key under the custody key it is under already, one transaction per case:
    lock the row, SecretBox open and seal, UPDATE. What a custody move of one case cannot go below."""
    from django.db import connection, transaction

    from core import crypto

    began = time.perf_counter()
    with connection.cursor() as cursor:
        for report_id in report_ids:
            with transaction.atomic():
                cursor.execute(
                    "SELECT custody_key_id, custody_wrapped_key FROM reports_report WHERE id = %s FOR UPDATE",
                    [report_id],
                )
                key_id, wrapped = cursor.fetchone()
                data_key = crypto.open_key_with(keys[key_id], bytes(wrapped))
                cursor.execute(
                    "UPDATE reports_report SET custody_wrapped_key = %s WHERE id = %s",
                    [crypto.seal_key_with(keys[key_id], data_key), report_id],
                )
    return time.perf_counter() - began


def row_floor_each(report_ids: list[int]) -> float:
    """One UPDATE of each report's row, one transaction per case, nothing else: what destroying a case in a
    transaction of its own cannot go below."""
    from django.db import connection, transaction

    began = time.perf_counter()
    with connection.cursor() as cursor:
        for report_id in report_ids:
            with transaction.atomic():
                cursor.execute(
                    "UPDATE reports_report SET content_destroyed_on = content_destroyed_on WHERE id = %s", [report_id]
                )
    return time.perf_counter() - began


def _batched(report_ids: list[int], column_sql: str, reseal: Callable[[tuple[Any, ...]], bytes]) -> float:
    """Rows in FLOOR_CHUNK-row transactions: lock and read them, ``reseal`` each in Python, write them back
    with one UPDATE ... FROM unnest."""
    from django.db import connection, transaction

    began = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(0, len(report_ids), FLOOR_CHUNK):
            chunk = report_ids[start : start + FLOOR_CHUNK]
            with transaction.atomic():
                cursor.execute(
                    f"SELECT id, {column_sql} FROM reports_report WHERE id = ANY(%s) FOR UPDATE",  # noqa: S608
                    [chunk],
                )
                rows = cursor.fetchall()
                ids = [row[0] for row in rows]
                values = [reseal(row) for row in rows]
                target = column_sql.split(",")[-1].strip()
                cursor.execute(
                    f"UPDATE reports_report AS r SET {target} = v.value "  # noqa: S608
                    "FROM unnest(%s::bigint[], %s::bytea[]) AS v(id, value) WHERE r.id = v.id",
                    [ids, values],
                )
    return time.perf_counter() - began


def rewrap_floor_batched(report_ids: list[int], keys: KeyMaterial) -> float:
    """SecretBox open and seal of each report's data key under the custody key it is under, in batches."""
    from core import crypto

    def reseal(row: tuple[Any, ...]) -> bytes:
        _, key_id, wrapped = row
        return crypto.seal_key_with(keys[key_id], crypto.open_key_with(keys[key_id], bytes(wrapped)))

    return _batched(report_ids, "custody_key_id, custody_wrapped_key", reseal)


def reseal_floor_batched(report_ids: list[int]) -> float:
    """SealedBox open with the helpline's private key and seal to its public key (the key it is sealed to
    already), in batches: the public-key work rotate_helpline_key cannot avoid."""
    from core import crypto

    def reseal(row: tuple[Any, ...]) -> bytes:
        _, key_id, sealed = row
        new_key_id, resealed = crypto.seal_key_for_helpline(crypto.open_key_as_helpline(key_id, bytes(sealed)))
        if new_key_id != key_id:
            raise PhaseFailed(f"the floor would move a report from {key_id} to {new_key_id}")
        return resealed

    return _batched(report_ids, "helpline_key_id, helpline_sealed_key", reseal)


def crypto_floor(count: int) -> float:
    """SecretBox open and seal of ``count`` data keys in memory: no database at all."""
    from core import crypto

    key = crypto.new_data_key()
    wrapped = [crypto.seal_key_with(key, crypto.new_data_key()) for _ in range(count)]
    began = time.perf_counter()
    for item in wrapped:
        crypto.seal_key_with(key, crypto.open_key_with(key, item))
    return time.perf_counter() - began


# --- phases -------------------------------------------------------------------------------------------------


def bench_supervisor() -> Any:
    from accounts.models import User

    user, _ = User.objects.get_or_create(
        username="bench-lifecycle-supervisor",
        defaults={"role": User.Role.SUPERVISOR, "email": "", "is_demo": True, "is_active": True},
    )
    return user


def hold_batch(case_ids: list[int], supervisor: Any) -> float:
    """Legal hold on each case (triage.retention.hold_place, one transaction each); checks each got a hold of
    its own and is now under the held key."""
    from django.db import transaction

    from core import keystore
    from reports.models import Report
    from triage import retention
    from triage.models import Case, LegalHold

    cases = list(Case.objects.filter(pk__in=case_ids).select_related("report").order_by("pk"))
    placed: set[int] = set()
    began = time.perf_counter()
    for case in cases:
        with transaction.atomic():
            holds = retention.hold_place(
                case=case, basis=LegalHold.Basis.INQUIRY_NOTICE, reason=HOLD_REASON, acting_user=supervisor
            )
        placed.update(hold.case_id for hold in holds)
    seconds = time.perf_counter() - began
    held = Report.objects.filter(case__in=placed & set(case_ids), custody_key_id=keystore.held_key_id()).count()
    if held != len(case_ids):
        raise PhaseFailed(f"legal hold: {held} of {len(case_ids)} cases newly held and under the held key")
    return seconds


def extension_prepare(case_ids: list[int], today: date) -> dict[int, str]:
    """A reporter's message today on each case (sealed with its data key, as the service would), written
    before the clock starts; the custody key each case is under now."""
    from core import crypto, keystore
    from reports.models import Message, Report

    reports = list(Report.objects.filter(case__in=case_ids))
    data_keys: dict[tuple[str, bytes], bytes] = {}  # seeded reports share pooled keys
    messages = []
    for report in reports:
        wrap = (report.custody_key_id, bytes(report.custody_wrapped_key))
        if wrap not in data_keys:
            data_keys[wrap] = keystore.data_key_of(report)
        messages.append(
            Message(
                report=report,
                direction=Message.Direction.FROM_REPORTER,
                body=crypto.seal_text(data_keys[wrap], MESSAGE),
                sent_on=today,
            )
        )
    Message.objects.bulk_create(messages)
    return {report.pk: report.custody_key_id for report in reports}


def extension_batch(case_ids: list[int], before: dict[int, str]) -> float:
    """triage.retention.rehome on each case (one transaction each); checks every one moved to
    the epoch key of its new, later destruction month."""
    from django.db import transaction

    from core import keystore
    from triage import retention
    from triage.models import Case

    cases = list(Case.objects.filter(pk__in=case_ids).select_related("report").order_by("pk"))
    began = time.perf_counter()
    for case in cases:
        with transaction.atomic():
            retention.rehome(case)
    seconds = time.perf_counter() - began
    moved = 0
    for case in Case.objects.filter(pk__in=case_ids).select_related("report"):
        key_id = case.report.custody_key_id
        if case.destroy_on and key_id == keystore.epoch_key_id(case.destroy_on) and key_id > before[case.report_id]:
            moved += 1
    if moved != len(case_ids):
        raise PhaseFailed(f"extension: {moved} of {len(case_ids)} cases moved to a later epoch's key")
    return seconds


Shredder = Callable[[list[int]], int]


def shred_families(case_ids: list[int]) -> int:
    """lifecycle.shredding.shred_family on each of these cases, one transaction and one shred-log write
    each; how many cases it destroyed."""
    from lifecycle.shredding import shred_family
    from reports.models import Report

    reports = list(Report.objects.filter(case__in=case_ids).order_by("pk"))
    for report in reports:
        shred_family(report, why="schedule")
    return len(reports)


def schedule_cases(case_ids: list[int]) -> int:
    """The nightly schedule's own step (lifecycle.schedule.cases_apply) on the batch, in one transaction as
    the schedule runs it: family checks, locks, shredding, the batch's shred-log lines in one write; how
    many cases it destroyed."""
    from django.db import transaction
    from django.utils import timezone

    from lifecycle.schedule import cases_apply

    with transaction.atomic():
        return cases_apply(case_ids, timezone.localdate()).destroyed


# The shredding phase's work: given a batch of due cases, destroy them and say how many (shred_families
# measures lifecycle.shredding alone; schedule_cases the nightly job's step around it).
SHRED: Shredder = schedule_cases


def shred_batch(case_ids: list[int], shred: Shredder | None = None) -> tuple[int, float]:
    """``shred`` (SHRED unless given) on a batch; checks that as many reports were destroyed as it says."""
    from reports.models import Report

    destroyed = Report.objects.filter(content_destroyed_on__isnull=False)
    before = destroyed.count()
    began = time.perf_counter()
    count = (shred or SHRED)(case_ids)
    seconds = time.perf_counter() - began
    done = destroyed.count() - before
    if not count or done != count:
        raise PhaseFailed(f"shredding: {count} cases said destroyed, {done} reports destroyed")
    return count, seconds


def command_available(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()


def not_available(name: str) -> str:
    return f"not available: this checkout has no `manage.py {name}`"


def call(name: str, *args: str) -> float:
    """A management command in this process, its output kept out of the bench's; its seconds."""
    from django.core.management import call_command

    out = io.StringIO()
    began = time.perf_counter()
    call_command(name, *args, stdout=out, stderr=out)
    return time.perf_counter() - began


@dataclass
class HelplineKeys:
    """The helpline key pairs of this run: the base's, then one more per rotation (all kept loaded)."""

    public: str
    private: list[str]
    hmac: str

    @classmethod
    def from_settings(cls) -> HelplineKeys:
        """The keys configured (HELPLINE_PUBLIC_KEY ...), or else the development key file's, as crypto.keyring."""
        from django.conf import settings

        from core import crypto

        if settings.HELPLINE_PUBLIC_KEY:
            private = [entry for entry in (settings.HELPLINE_PRIVATE_KEYS or "").split(",") if entry.strip()]
            return cls(public=settings.HELPLINE_PUBLIC_KEY, private=private, hmac=settings.HELPLINE_HMAC_KEY)
        material = json.loads(crypto.ensure_dev_keys().read_text())
        return cls(public=material["public"], private=[material["private"]], hmac=material["hmac"])

    def current_id(self) -> str:
        return self.public.split(":", 1)[0]

    def rotate_to(self, key_id: str) -> None:
        """Make ``key_id`` the public key, keep every private key loaded (settings, in this process)."""
        from django.conf import settings

        from core import crypto

        made = crypto.generate_key_material(key_id)
        self.public = made["public"]
        self.private.append(made["private"])
        settings.HELPLINE_PUBLIC_KEY = self.public
        settings.HELPLINE_PRIVATE_KEYS = ",".join(self.private)
        settings.HELPLINE_HMAC_KEY = self.hmac
        crypto.keyring.cache_clear()


def rotate_helpline_once(keys: HelplineKeys, n: int) -> tuple[int, float, float]:
    """The batched floor on the reports sealed to the current helpline key, then `rotate_helpline_key` to a
    new one; checks nothing is left under the old key. Cases, command seconds, floor seconds."""
    from reports.models import Report

    old = keys.current_id()
    ids = list(Report.objects.filter(helpline_key_id=old).order_by("pk").values_list("pk", flat=True))
    floor_s = reseal_floor_batched(ids)
    new = f"bench{n}-{int(time.time())}"
    keys.rotate_to(new)
    seconds = call("rotate_helpline_key", "--to", new)
    left = Report.objects.filter(helpline_key_id=old).count()
    if left:
        raise PhaseFailed(f"rotate_helpline_key: {left} reports still sealed to {old}")
    return len(ids), seconds, floor_s


def busiest_open_key() -> str | None:
    from django.db.models import Count

    from reports.models import Report

    found = (
        Report.objects.filter(custody_key_id__startswith="open-")
        .values("custody_key_id")
        .annotate(rows=Count("pk"))
        .order_by("-rows")
        .first()
    )
    return str(found["custody_key_id"]) if found else None


def rewrap_custody_once(keys: KeyMaterial) -> tuple[int, float, float]:
    """The batched floor on the reports under the open-cases key, then `rewrap_custody_key --from` it;
    checks nothing is left under it. Cases, command seconds, floor seconds."""
    from reports.models import Report

    key_id = busiest_open_key()
    if key_id is None:
        raise PhaseFailed("rewrap_custody_key: no report is under an open-cases key")
    ids = list(Report.objects.filter(custody_key_id=key_id).order_by("pk").values_list("pk", flat=True))
    floor_s = rewrap_floor_batched(ids, keys)
    seconds = call("rewrap_custody_key", "--from", key_id)
    left = Report.objects.filter(custody_key_id=key_id).count()
    if left:
        raise PhaseFailed(f"rewrap_custody_key: {left} reports still under {key_id}")
    return len(ids), seconds, floor_s


def pg_floor(database: str, target: str, folder: Path) -> tuple[float, float]:
    """pg_dump --format=custom of the database, then pg_restore into a fresh one: seconds of each."""
    dump = folder / "floor.dump"
    began = time.perf_counter()
    subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(dump), procs.database_url(database)], check=True, timeout=3600
    )
    dumped = time.perf_counter() - began
    database_drop(target)
    procs.database_create(target)
    began = time.perf_counter()
    subprocess.run(
        ["pg_restore", "--exit-on-error", "--dbname", procs.database_url(target), str(dump)], check=True, timeout=3600
    )
    restored = time.perf_counter() - began
    dump.unlink()
    return dumped, restored


def backup_restore_once(target: str, folder: Path) -> tuple[float, float]:
    """`backup --out` into a new folder, then `restore --from` it into a fresh database; checks the
    restored database has every case. Seconds of each."""
    from triage.models import Case

    out = folder / f"backup-{time.time_ns()}"
    out.mkdir()
    backup_s = call("backup", "--out", str(out))
    database_drop(target)
    procs.database_create(target)
    restore_s = call("restore", "--from", str(out), "--database-url", procs.database_url(target))
    with closing(procs.connect(target)) as conn:
        found = conn.execute("SELECT count(*) FROM triage_case").fetchone()
    if not found or found[0] != Case.objects.count():
        raise PhaseFailed(f"restore: {found[0] if found else 0} cases restored of {Case.objects.count()}")
    shutil.rmtree(out)
    return backup_s, restore_s


# --- the run ------------------------------------------------------------------------------------------------


@dataclass
class Row:
    phase: str
    runs: Runs | None
    floor_name: str
    floor: Runs | None
    note: str = ""

    def figures(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "note": self.note,
            "phase_runs": self.runs.figures() if self.runs else None,
            "floor": self.floor_name,
            "floor_runs": self.floor.figures() if self.floor else None,
            "times_floor": times_floor(self.runs, self.floor) if self.runs and self.floor else None,
        }


def rate_table(rows: list[Row]) -> list[tuple[str, ...]]:
    header = ("phase", "cases/batch", "batches", "median cases/s", "ms/case", "floor", "floor cases/s", "x floor")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        floor = row.floor.rate() if row.floor else 0.0
        if row.runs is None or not row.runs.cases:
            continue  # not measured: print_notes says why
        rate = row.runs.rate()
        ratio = times_floor(row.runs, row.floor) if row.floor else None
        lines.append(
            (
                row.phase,
                f"{statistics.median(row.runs.cases):,.0f}",
                str(len(row.runs.cases)),
                f"{rate:,.1f}",
                f"{1000 / rate:.2f}" if rate else "",
                row.floor_name,
                f"{floor:,.0f}" if floor else "",
                f"{ratio}" if ratio is not None else "",
            )
        )
    return lines


def print_notes(rows: list[Row]) -> None:
    for row in rows:
        if row.runs is None or not row.runs.cases:
            print(f"{row.phase}: {row.note}")


@contextmanager
def scratch(names: list[str], keep: bool) -> Iterator[None]:
    try:
        yield
    finally:
        if not keep:
            for name in names:
                database_drop(name)


def measure(args: argparse.Namespace, base: str, run_folder: Path) -> dict[str, Any]:
    from django.utils import timezone

    today = timezone.localdate()
    found = pools(today)
    shares = {"closed cases kept (hold, extension)": len(found.kept) // 2, "cases due": len(found.due)}
    shares["open cases (floors)"] = len(found.open_reports)
    batch = batch_size(args.batch, args.repeats, shares)
    say(
        f"pools: {len(found.kept):,} closed cases kept, {len(found.due):,} due, {len(found.open_reports):,} open; "
        f"{args.repeats} batches of {batch:,} cases per phase"
    )
    if batch < 1:
        raise PhaseFailed(f"too few cases for {args.repeats} batches: {shares}")
    keys = KeyMaterial()
    supervisor = bench_supervisor()
    floor_ids = slices(found.open_reports, batch, args.repeats)  # the floors leave their rows as they were
    hold_ids = slices(found.kept, batch, args.repeats)
    extension_ids = slices(found.kept[batch * args.repeats :], batch, args.repeats)
    due_ids = slices(found.due, batch, args.repeats)
    rows: list[Row] = []

    crypto = Runs()
    for _ in range(args.repeats):
        crypto.add(batch, crypto_floor(batch))
    rows.append(Row("SecretBox open + seal, in memory", crypto, "", None, note="(a floor of floors)"))

    hold, hold_floor = Runs(), Runs()
    for n in range(args.repeats):
        hold_floor.add(batch, rewrap_floor_each(floor_ids[n], keys))
        hold.add(batch, hold_batch(hold_ids[n], supervisor))
        say(f"legal hold, batch {n + 1}: {batch / hold.seconds[-1]:,.1f} cases/s")
    rows.append(Row("legal hold (hold_place)", hold, "re-wrap, 1 tx/case", hold_floor))

    extension, extension_floor = Runs(), Runs()
    for n in range(args.repeats):
        before = extension_prepare(extension_ids[n], today)
        extension_floor.add(batch, rewrap_floor_each(floor_ids[n], keys))
        extension.add(batch, extension_batch(extension_ids[n], before))
        say(f"extension, batch {n + 1}: {batch / extension.seconds[-1]:,.1f} cases/s")
    rows.append(Row("extension (rehome)", extension, "re-wrap, 1 tx/case", extension_floor))

    shred, shred_floor = Runs(), Runs()
    shredder = getattr(SHRED, "__qualname__", repr(SHRED))
    for n in range(args.repeats):
        shred_floor.add(batch, row_floor_each(floor_ids[n]))
        count, seconds = shred_batch(due_ids[n])
        shred.add(count, seconds)
        say(f"shredding ({shredder}), batch {n + 1}: {count / seconds:,.1f} cases/s")
    rows.append(Row(f"retention shredding ({shredder})", shred, "UPDATE 1 row, 1 tx/case", shred_floor))

    rotation, rotation_floor = Runs(), Runs()
    helpline_keys = HelplineKeys.from_settings()
    if command_available("rotate_helpline_key"):
        for n in range(args.repeats):
            count, seconds, floor_s = rotate_helpline_once(helpline_keys, n + 1)
            rotation.add(count, seconds)
            rotation_floor.add(count, floor_s)
            say(f"rotate_helpline_key, run {n + 1}: {count:,} reports in {seconds:.1f}s")
        rows.append(Row("rotation: rotate_helpline_key", rotation, "SealedBox re-seal, batched", rotation_floor))
    else:
        say(f"rotate_helpline_key: {not_available('rotate_helpline_key')}")
        rows.append(Row("rotation: rotate_helpline_key", None, "", None, note=not_available("rotate_helpline_key")))

    rewrap, rewrap_floor = Runs(), Runs()
    if command_available("rewrap_custody_key"):
        for n in range(args.repeats):
            count, seconds, floor_s = rewrap_custody_once(keys)
            rewrap.add(count, seconds)
            rewrap_floor.add(count, floor_s)
            say(f"rewrap_custody_key, run {n + 1}: {count:,} reports in {seconds:.1f}s")
        rows.append(Row("rotation: rewrap_custody_key", rewrap, "SecretBox re-wrap, batched", rewrap_floor))
    else:
        say(f"rewrap_custody_key: {not_available('rewrap_custody_key')}")
        rows.append(Row("rotation: rewrap_custody_key", None, "", None, note=not_available("rewrap_custody_key")))

    run_db = f"{base}_run"
    restored_db = f"{base}_restored"
    backup: dict[str, Any] = {"floor_dump_s": [], "floor_restore_s": [], "backup_s": [], "restore_s": []}
    available = command_available("backup") and command_available("restore")
    for n in range(args.backup_repeats):
        dumped, restored = pg_floor(run_db, restored_db, run_folder)
        backup["floor_dump_s"].append(round(dumped, 2))
        backup["floor_restore_s"].append(round(restored, 2))
        say(f"pg_dump + pg_restore, run {n + 1}: {dumped:.1f}s + {restored:.1f}s")
        if available:
            backup_s, restore_s = backup_restore_once(restored_db, run_folder)
            backup["backup_s"].append(round(backup_s, 2))
            backup["restore_s"].append(round(restore_s, 2))
            say(f"backup + restore, run {n + 1}: {backup_s:.1f}s + {restore_s:.1f}s")
    if not available:
        backup["note"] = not_available("backup" if not command_available("backup") else "restore")
        say(f"backup + restore: {backup['note']}")
    database_drop(restored_db)

    harness.print_table(rate_table(rows))
    print_notes(rows)
    harness.print_table(backup_table(backup))
    if "note" in backup:
        print(f"backup + restore: {backup['note']}")
    return {
        "batch": batch,
        "repeats": args.repeats,
        "backup_repeats": args.backup_repeats,
        "pools": shares,
        "rates": [r.figures() for r in rows],
        **backup,
    }


def backup_table(backup: dict[str, Any]) -> list[tuple[str, ...]]:
    def median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    floor_total = median([a + b for a, b in zip(backup["floor_dump_s"], backup["floor_restore_s"], strict=True)])
    lines: list[tuple[str, ...]] = [("what", "median backup s", "median restore s", "median total s", "x floor")]
    lines.append(
        (
            "pg_dump -Fc + pg_restore (floor)",
            f"{median(backup['floor_dump_s']):.1f}",
            f"{median(backup['floor_restore_s']):.1f}",
            f"{floor_total:.1f}",
            "1",
        )
    )
    if backup["backup_s"]:
        total = median([a + b for a, b in zip(backup["backup_s"], backup["restore_s"], strict=True)])
        lines.append(
            (
                "manage.py backup + restore",
                f"{median(backup['backup_s']):.1f}",
                f"{median(backup['restore_s']):.1f}",
                f"{total:.1f}",
                f"{total / floor_total:.1f}" if floor_total else "",
            )
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="seeded cases (100,000)")
    parser.add_argument("--unrouted", type=int, default=-1, help="reports not routed yet (cases / 50)")
    parser.add_argument("--batch", type=int, default=BATCH, help="cases per batch of each phase (500)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="batches per phase; medians are of these (3)")
    parser.add_argument(
        "--backup-repeats", type=int, default=BACKUP_REPEATS, help="backups and restores, and their floor's (1)"
    )
    parser.add_argument("--database", default="", help="the base database, seeded if need be")
    parser.add_argument("--keep", action="store_true", help="keep the run's copy of the database and its folder")
    args = parser.parse_args()
    if min(args.cases, args.batch, args.repeats, args.backup_repeats) < 1:
        raise SystemExit("--cases, --batch, --repeats and --backup-repeats must be at least 1")
    unrouted = args.unrouted if args.unrouted >= 0 else args.cases // 50
    base = harness.own_database(args.database or default_database(args.cases))
    run_db = procs.own_database(f"{base}_run")
    run_folder = Path(tempfile.mkdtemp(prefix="helpline-bench-lifecycle-"))

    def work() -> dict[str, Any]:
        seeding = base_prepare(base, args.cases, unrouted)
        run_prepare(base, run_db, run_folder)
        say(f"working on {run_db}, a copy of {base} (keys, shred log and backups in {run_folder})")
        load_start = harness.load_now()
        with scratch([run_db], args.keep):
            harness.django_setup(run_db)
            from triage.models import Case

            total = Case.objects.count()
            figures = measure(args, base, run_folder)
            from django.db import connections

            connections.close_all()
        return {
            "database": base,
            "cases": total,
            "unrouted": unrouted,
            "seeding": seeding,
            "loadavg_1min": harness.load_reported(total, load_start),
            **figures,
        }

    def cleanup(succeeded: bool) -> None:
        if succeeded and not args.keep:
            shutil.rmtree(run_folder, ignore_errors=True)
        else:
            say(f"the run's keys, shred log and backups are in {run_folder}")

    return harness.run(work, results=harness.results_path(RESULTS, args.cases, DEFAULT_CASES), cleanup=cleanup)


if __name__ == "__main__":
    sys.exit(main())
