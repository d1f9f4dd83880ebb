"""Attachments benchmark: `make bench-attachments` (also run by `make bench`, after bench/run.py), or
`.venv/bin/python bench/attachments.py` from the project root.

One run, three to five minutes (stopped at 10 at most), only on 127.0.0.1, against the bench's own database
(helpline_bench, or BENCH_DATABASE) and broker (Redis database 14, or BENCH_REDIS_URL), emptied first as
bench/run.py empties them. Real components throughout: gunicorn and a Celery worker as bench/procs.py starts
them (the per-client limits raised, and the per-reference access throttle too), a clamd of its own (its
configuration, socket and signature folder in a temporary folder, written by `manage.py clamav_setup
--test-signatures`; its spool folder on /dev/shm), and Debian's mat2 inside bubblewrap.

  1. **Upload**: a 10 MiB file through POST /api/v1/reports/attachments at concurrency 2, each request to a
     report created beforehand through POST /api/v1/reports (at most ATTACHMENT_MAX_FILES files each): p50 and
     p95, against the upload floor measured in the same run and the same way (bench/floor.py: the same body,
     read by Django's multipart parser in the same 64 KiB pieces and thrown away), and one access-code key
     derivation (each upload makes one). Rounds of floor and upload alternate, since the machine's load drifts.
     And in this process, where the time goes: sealing the file alone, then sealing and storing it as the web
     tier does (one transaction per chunk, padded to the file's bucket).
  2. **Processing**: the worker's scan + strip + re-seal of one file of about 10 MiB, for plain text, a PDF of
     scanned pages and a JPEG photo: reports.attachment_pipeline.attachment_process called in this process,
     clamd up, after one warm-up per type, median of PROCESS_RUNS each; split into the scan (decrypting the
     stored chunks into clamd's INSTREAM), mat2 (in bubblewrap) and the rest (decrypting into the private tmpfs
     folder, the type check, re-sealing the cleaned file).
  3. **Memory**: peak RSS of gunicorn (master + 4 workers, so that 4 uploads are handled at once) and of one
     Celery worker (and apart from it mat2 and clamd) while 4 files are uploaded at once and processed: 4 of
     5 MiB, then 4 of 20 MiB, each size against fresh processes warmed up with 4 small files, beside their
     idle RSS. If memory grew with a file's size, the 20 MiB peak would stand about 15 MiB per file above
     the 5 MiB one.

clamd's database here is the one test signature (EICAR) `make run` and the tests use: production's full
database makes each scan slower. The servers are gunicorn alone, without the nginx front door (which buffers
each upload body in memory before gunicorn reads it, and lets one client send NGINX_UPLOADS_PER_CLIENT at once).

Figures are printed as a table and written to bench/results/attachments.json. There are no assertions: the
machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

from bench import load, procs  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "attachments.json"
TIME_LIMIT_SECONDS = 600  # the whole run stops itself after this, cleaning up
MIB = 1024 * 1024
KIB = 1024

UPLOAD_PATH = "/api/v1/reports/attachments"
FLOOR_PATH = "/api/bench/upload-floor"  # bench/urls.py; under /api/ like the real address
WEB_WORKERS = 2  # as bench/run.py and docker-compose.yml (WEB_CONCURRENCY)
CONCURRENCY = 2
UPLOAD_BYTES = 10 * MIB
ROUNDS = 2  # floor then upload, twice
REQUESTS_PER_ROUND = 16  # of each, per round
WARM_UP_REQUESTS = 4
DERIVATIONS = 10

PROCESS_RUNS = 3  # per file type, after one warm-up each
PROCESS_BYTES = 10 * MIB

RSS_WEB_WORKERS = 4  # one per concurrent upload
RSS_UPLOADS = 4
RSS_SIZES = (5 * MIB, 20 * MIB)
RSS_WARM_UP_BYTES = 64 * KIB
RSS_INTERVAL = 0.02  # seconds between RSS samples: a key derivation lasts ~0.1-0.4 s
PROCESSING_WAIT_SECONDS = 240.0

CLAMD = Path("/usr/sbin/clamd")
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's, with GdkPixbuf (mat2 depends on it): makes the JPEGs

# The bench's servers: the limits that would refuse the bench's own uploads, raised as bench/procs.py raises the
# per-client ones (every request comes from 127.0.0.1). ATTACHMENT_MAX_BYTES is set to the portal's default
# whatever the caller's environment says, so that the 20 MiB files are taken.
SERVER_ENV = {
    "ACCESS_THROTTLE_LIMIT": "1000000",  # per reference and client: concurrent uploads count until refunded
    "ATTACHMENT_MAX_BYTES": str(20 * MIB),
}

started_at = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def mib(size: float) -> float:
    return round(size / MIB, 1)


class Stopped(Exception):
    """SIGTERM or the run's own time limit: unwind through the finally blocks that stop the children."""


def _stop_run(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGALRM:
        raise Stopped(f"the benchmark took longer than {TIME_LIMIT_SECONDS}s")
    raise Stopped(f"stopped by signal {signum}")


@contextmanager
def running(process: procs.Process) -> Iterator[procs.Process]:
    try:
        yield process
    finally:
        say(f"stopping {process.name}")
        process.stop()


# --- the files ------------------------------------------------------------------------------------------


def text_file(size: int) -> bytes:
    """``size`` bytes of neutral filler text, in lines (ASCII, so valid UTF-8)."""
    line = (" ".join(load.WORDS) + "\n").encode()
    return (line * (size // len(line) + 1))[:size]


_JPEG_SCRIPT = """
import sys, gi
gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf, GLib
width, height, quality = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pixels = sys.stdin.buffer.read()
image = GdkPixbuf.Pixbuf.new_from_bytes(
    GLib.Bytes.new(pixels), GdkPixbuf.Colorspace.RGB, False, 8, width, height, width * 3
)
ok, data = image.save_to_bufferv('jpeg', ['quality'], [quality])
assert ok
sys.stdout.buffer.write(data)
"""


def jpeg(width: int, height: int, *, amplitude: int = 256, quality: int = 90) -> bytes:
    """A JPEG of random pixels (``amplitude`` levels around mid-grey), encoded by GdkPixbuf in Debian's Python:
    the virtualenv has no image library, and GdkPixbuf is what mat2 decodes JPEGs with."""
    table = bytes(128 - amplitude // 2 + (value % amplitude) for value in range(256))
    pixels = os.urandom(width * height * 3).translate(table)
    done = subprocess.run(  # noqa: S603 - Debian's Python with our script
        [str(SYSTEM_PYTHON), "-c", _JPEG_SCRIPT, str(width), str(height), str(quality)],
        input=pixels,
        capture_output=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0 or not done.stdout.startswith(b"\xff\xd8\xff"):
        raise RuntimeError(f"could not make a JPEG with {SYSTEM_PYTHON}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def photo(size: int) -> bytes:
    """A 4:3 JPEG photo of about ``size`` bytes (random pixels at quality 90: ~0.9 byte a pixel, so 10 MiB is
    about 12 megapixels, as a phone's photo)."""
    pixels = size / 0.9
    width = int((pixels * 4 / 3) ** 0.5)
    return jpeg(width, int(width * 3 / 4))


def scanned_pdf(size: int, *, text: str = "Minutes of the team meeting") -> bytes:
    """A PDF of letter-size pages, each scanned at 200 dpi (a 1700 x 2200 JPEG, ~2 MiB) with a line of text,
    about ``size`` bytes in all, with an Info dictionary."""
    pages = []
    total = 0
    while total < size:
        page = jpeg(1700, 2200, amplitude=128, quality=85)
        pages.append(page)
        total += len(page)
    return pdf_of_images(pages, width=1700, height=2200, text=text)


def pdf_of_images(images: list[bytes], *, width: int, height: int, text: str) -> bytes:
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for number, image in enumerate(images, start=1):
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
            b"/Filter /DCTDecode /Length %d >>\nstream\n" % (width, height, len(image)) + image + b"\nendstream"
        )
        image_object = len(objects)
        content = b"q 612 0 0 792 0 0 cm /Im0 Do Q BT /F1 14 Tf 72 40 Td (%s, page %d) Tj ET" % (text.encode(), number)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_object = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im0 %d 0 R >> >> >>" % (content_object, image_object)
        )
        kids.append(len(objects))
    objects.append(b"<< /Author (Bench Author) /Producer (Bench Scanner 1.0) /Creator (Bench) >>")
    info = len(objects)
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return out


# --- multipart bodies and the clients that send them ---------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A multipart/form-data body in pieces (the file's bytes are sent as they are, never copied into one)."""

    parts: tuple[bytes, ...]
    content_type: str

    @property
    def length(self) -> int:
        return sum(len(part) for part in self.parts)

    def joined(self) -> bytes:
        return b"".join(self.parts)


def multipart(fields: dict[str, str], *, name: str, content_type: str, data: bytes, boundary: str = "") -> Body:
    """The body POST /api/v1/reports/attachments takes: the fields first, then one file called ``file``."""
    boundary = boundary or f"helpline-bench-{secrets.token_hex(16)}"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return Body(parts=(head, data, tail), content_type=f"multipart/form-data; boundary={boundary}")


def post_body(conn: http.client.HTTPConnection, path: str, body: Body) -> load.Sample:
    headers = {"Content-Type": body.content_type, "Content-Length": str(body.length), "Accept": "application/json"}
    began = time.perf_counter()
    try:
        conn.request("POST", path, iter(body.parts), headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return load.Sample(time.perf_counter() - began, 0)
    return load.Sample(time.perf_counter() - began, response.status, data)


def run_bodies(port: int, path: str, bodies: list[Body], *, clients: int) -> load.LoadResult:
    """``clients`` closed-loop clients sending ``bodies`` to ``path``, each taking the next as soon as its
    last answer is read. Samples keep the answers' bodies."""
    result = load.LoadResult()
    lock = threading.Lock()
    queue = list(reversed(bodies))
    gate = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        gate.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                sample = post_body(conn, path, body)
                with lock:
                    result.samples.append(sample)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, name=f"upload-{n}", daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    gate.wait()
    for thread in threads:
        while thread.is_alive():  # short joins, so Ctrl-C reaches the main thread at once
            thread.join(timeout=0.5)
    result.elapsed = time.perf_counter() - began
    return result


@dataclass(frozen=True)
class Report:
    reference: str
    access_code: str


def reports_create(port: int, count: int, where: load.Places, *, first_seed: int) -> list[Report]:
    """``count`` reports through POST /api/v1/reports, one after the other."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    made = []
    for n in range(count):
        sample = load.post(conn, "/api/v1/reports", load.intake_body(first_seed + n, where))
        if sample.status != 201:
            raise RuntimeError(f"POST /api/v1/reports answered {sample.status}: {sample.body[:300]!r}")
        answer = json.loads(sample.body)
        made.append(Report(answer["reference"], answer["access_code"]))
    conn.close()
    return made


def reports_for(port: int, uploads: int, where: load.Places, *, first_seed: int) -> list[Report]:
    """Enough reports for ``uploads`` files, at most ATTACHMENT_MAX_FILES each (the portal's per-report limit)."""
    from django.conf import settings

    per_report = int(settings.ATTACHMENT_MAX_FILES)
    return reports_create(port, max(1, -(-uploads // per_report)), where, first_seed=first_seed)


def upload_bodies(reports: list[Report], count: int, *, name: str, content_type: str, data: bytes) -> list[Body]:
    """``count`` upload bodies, the reports taken in turn (so no report gets more than its share)."""
    return [
        multipart(
            {"reference": report.reference, "access_code": report.access_code},
            name=name,
            content_type=content_type,
            data=data,
        )
        for report in (reports[n % len(reports)] for n in range(count))
    ]


def places() -> load.Places:
    with closing(procs.connect()) as conn:
        codes = [row[0] for row in conn.execute("SELECT gss_code FROM triage_localauthority ORDER BY gss_code")]
    if not codes:
        raise RuntimeError(f"{procs.DB_NAME} has no local authorities: did load_local_authorities run?")
    return load.Places(authority_codes=codes, sectors=())


# --- clamd and Django in this process ---------------------------------------------------------------------------


@dataclass
class Scanner:
    base: Path
    spool: Path

    @property
    def socket(self) -> Path:
        return self.base / "clamd.sock"

    @property
    def database_dir(self) -> Path:
        return self.base / "db"

    @property
    def config(self) -> Path:
        return self.base / "clamd.conf"

    def env(self) -> dict[str, str]:
        return {"CLAMD_SOCKET": str(self.socket), "CLAMD_DATABASE_DIR": str(self.database_dir)}

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.spool, ignore_errors=True)


def scanner_make() -> Scanner:
    """The project's clamd configuration and test signature, as tests/clamav.py writes them: in a temporary
    folder of this run (the socket's path must stay short), its spool folder on /dev/shm."""
    if not CLAMD.exists():
        raise SystemExit(f"{CLAMD} is missing: `make setup` installs Debian's clamav-daemon")
    scanner = Scanner(
        base=Path(tempfile.mkdtemp(prefix="helpline-bench-clamd-")),
        spool=Path(tempfile.mkdtemp(prefix="helpline-bench-clamd-", dir="/dev/shm")),  # noqa: S108 - clamd's spool
    )
    procs.manage(
        "clamav_setup",
        "--config",
        str(scanner.config),
        "--socket",
        str(scanner.socket),
        "--database-dir",
        str(scanner.database_dir),
        "--temporary-dir",
        str(scanner.spool),
        "--test-signatures",
    )
    return scanner


def clamd_start(scanner: Scanner, log_dir: Path) -> procs.Process:
    from core.clamd import Clamd, ScannerUnavailable

    process = procs.start("clamd", [str(CLAMD), "-c", str(scanner.config)], log_dir)

    def answers() -> bool:
        if not process.alive():
            raise RuntimeError(f"clamd exited:\n{process.log_tail()}")
        try:
            return Clamd(str(scanner.socket), timeout=2).ping()
        except ScannerUnavailable:
            return False

    procs.wait_for(answers, timeout=90, what="clamd to answer PING", interval=0.2)
    return process


def django_setup(scanner: Scanner) -> None:
    """Django in this process, as the bench's servers see it (bench database and broker, the clamd of this run),
    for the key derivation and the in-process pipeline."""
    os.environ.update(procs.bench_env(DJANGO_SETTINGS_MODULE="helpline.settings", **SERVER_ENV, **scanner.env()))
    import django

    django.setup()


# --- 1. upload latency against the floor -------------------------------------------------------------------------


def derivation_times(runs: int) -> list[float]:
    """Seconds taken by ``runs`` access-code key derivations with the configured parameters (one per upload)."""
    from core import crypto

    params = crypto.KdfParams.current()
    code = crypto.generate_access_code()
    salt = os.urandom(crypto.SALT_BYTES)
    crypto.derive_access_key(code, salt, params)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        crypto.derive_access_key(code, salt, params)
        times.append(time.perf_counter() - began)
    return times


def latency_figures(samples: list[load.Sample], status: int) -> dict[str, Any]:
    latencies = [sample.seconds for sample in samples if sample.status == status]
    statuses: dict[str, int] = {}
    for sample in samples:
        statuses[str(sample.status)] = statuses.get(str(sample.status), 0) + 1
    return {
        "requests": len(samples),
        "ok": len(latencies),
        "errors": len(samples) - len(latencies),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": ms(statistics.median(latencies)) if latencies else None,
        "p95_ms": ms(load.percentile(latencies, 95)) if latencies else None,
        "max_ms": ms(max(latencies)) if latencies else None,
    }


def measure_storing(runs: int = 3) -> dict[str, Any]:
    """Where an upload's time goes, in this process: sealing UPLOAD_BYTES alone, then sealing and storing them
    as the web tier does (reports.attachments.Incoming: each chunk inserted as it is sealed, in its own
    transaction), padded to the file's bucket; medians of ``runs``. The rows are discarded."""
    from core import secretstream
    from reports.attachments import Incoming, incoming_discard

    data = text_file(UPLOAD_BYTES)
    pieces = [data[start : start + 64 * KIB] for start in range(0, len(data), 64 * KIB)]
    sealing, storing = [], []
    for _ in range(runs):
        began = time.perf_counter()
        sealer = secretstream.Sealer(secretstream.new_file_key(), lambda index, sealed: None)
        for piece in pieces:
            sealer.write(piece)
        chunks = sealer.close()
        sealing.append(time.perf_counter() - began)
        began = time.perf_counter()
        incoming = Incoming(name="notes.txt")
        for piece in pieces:
            incoming.write(piece)
        incoming.close()
        storing.append(time.perf_counter() - began)
        incoming_discard(incoming)
    figures = {
        "file_mib": mib(UPLOAD_BYTES),
        "chunks_stored": chunks,
        "stored_mib": mib(chunks * secretstream.SEALED_CHUNK),
        "seal_only_ms": ms(statistics.median(sealing)),
        "seal_and_store_ms": ms(statistics.median(storing)),
    }
    say(
        f"in-process: sealing {figures['file_mib']} MiB {figures['seal_only_ms']} ms; sealing and storing it "
        f"({chunks} chunks, {figures['stored_mib']} MiB) {figures['seal_and_store_ms']} ms"
    )
    return figures


def measure_uploads(port: int, where: load.Places) -> dict[str, Any]:
    data = text_file(UPLOAD_BYTES)
    total = WARM_UP_REQUESTS + ROUNDS * REQUESTS_PER_ROUND
    reports = reports_for(port, total, where, first_seed=10**6)
    say(f"{len(reports)} reports made for {total} uploads of {mib(UPLOAD_BYTES)} MiB")
    bodies = upload_bodies(reports, total, name="notes.txt", content_type="text/plain", data=data)
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=120)) as conn:
        first = post_body(conn, UPLOAD_PATH, bodies[0])
        floor = post_body(conn, FLOOR_PATH, bodies[0])
    if first.status != 201:
        raise RuntimeError(f"POST {UPLOAD_PATH} answered {first.status}: {first.body[:500]!r}")
    if floor.status != 201 or json.loads(floor.body)["bytes"] != len(data):
        raise RuntimeError(f"POST {FLOOR_PATH} answered {floor.status}: is gunicorn serving bench.wsgi? {floor.body!r}")
    # Warm-up: both workers, both addresses.
    run_bodies(port, FLOOR_PATH, bodies[1:WARM_UP_REQUESTS], clients=CONCURRENCY)
    run_bodies(port, UPLOAD_PATH, bodies[1:WARM_UP_REQUESTS], clients=CONCURRENCY)
    measured = bodies[WARM_UP_REQUESTS:]
    floor_samples: list[load.Sample] = []
    upload_samples: list[load.Sample] = []
    for round_number in range(ROUNDS):
        batch = measured[round_number * REQUESTS_PER_ROUND : (round_number + 1) * REQUESTS_PER_ROUND]
        floor_samples += run_bodies(port, FLOOR_PATH, batch, clients=CONCURRENCY).samples
        upload_samples += run_bodies(port, UPLOAD_PATH, batch, clients=CONCURRENCY).samples
        say(f"round {round_number + 1}/{ROUNDS}: {len(batch)} floor and {len(batch)} uploads at c={CONCURRENCY}")
    figures: dict[str, Any] = {
        "file_mib": mib(UPLOAD_BYTES),
        "body_bytes": measured[0].length,
        "concurrency": CONCURRENCY,
        "reports": len(reports),
        "floor": latency_figures(floor_samples, 201),
        "upload": latency_figures(upload_samples, 201),
    }
    say(
        f"upload floor c={CONCURRENCY}: p50 {figures['floor']['p50_ms']} ms, p95 {figures['floor']['p95_ms']} ms; "
        f"upload: p50 {figures['upload']['p50_ms']} ms, p95 {figures['upload']['p95_ms']} ms, "
        f"errors {figures['upload']['errors']}"
    )
    return figures


# --- 2. processing: scan, strip, re-seal ------------------------------------------------------------------------


@contextmanager
def timing(module: ModuleType, name: str, into: list[float]) -> Iterator[None]:
    """Time every call of ``module.name`` (a function the pipeline looks up at call time) into ``into``."""
    original = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


@dataclass(frozen=True)
class SampleFile:
    name: str
    content_type: str
    data: bytes


def sample_files(size: int) -> list[SampleFile]:
    """The three files the processing is timed on, each of about ``size`` bytes."""
    return [
        SampleFile("notes.txt", "text/plain", text_file(size)),
        SampleFile("scanned-minutes.pdf", "application/pdf", scanned_pdf(size)),
        SampleFile("photo.jpg", "image/jpeg", photo(size)),
    ]


def process_one(public_id: str) -> dict[str, Any]:
    """attachment_process on one uploaded file, in this process, timed as a whole and by part."""
    from reports import attachment_pipeline as pipeline
    from reports.attachments import attachment_meta
    from reports.models import Attachment

    attachment = Attachment.objects.select_related("report").get(public_id=uuid.UUID(public_id))
    scans: list[float] = []
    cleanings: list[float] = []
    with timing(pipeline, "scan_step", scans), timing(pipeline, "mat2_clean", cleanings):
        began = time.perf_counter()
        outcome = pipeline.attachment_process(attachment.pk)
        total = time.perf_counter() - began
    if outcome is not None:
        raise RuntimeError(f"attachment_process asked to be tried again: {outcome.error}")
    attachment.refresh_from_db()
    assert attachment.report is not None
    meta = attachment_meta(attachment, pipeline.report_data_key(attachment.report))
    return {
        "status": attachment.status,
        "total": total,
        "scan": sum(scans),
        "mat2": sum(cleanings),
        "rest": total - sum(scans) - sum(cleanings),
        "cleaned_bytes": meta.cleaned_size,
        "note": meta.cleaning_note,
    }


def measure_processing(port: int, where: load.Places) -> dict[str, Any]:
    from django.db import connections

    samples = sample_files(PROCESS_BYTES)
    runs = 1 + PROCESS_RUNS
    reports = reports_for(port, len(samples) * runs, where, first_seed=2 * 10**6)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    figures: dict[str, Any] = {"runs": PROCESS_RUNS, "warm_up_runs": 1, "types": {}}
    uploaded: dict[str, list[str]] = {}
    turn = 0
    for sample in samples:
        uploaded[sample.name] = []
        for _ in range(runs):
            (body,) = upload_bodies(
                [reports[turn % len(reports)]], 1, name=sample.name, content_type=sample.content_type, data=sample.data
            )
            turn += 1
            answer = post_body(conn, UPLOAD_PATH, body)
            if answer.status != 201:
                raise RuntimeError(f"uploading {sample.name}: {answer.status} {answer.body[:300]!r}")
            uploaded[sample.name].append(json.loads(answer.body)["id"])
    conn.close()
    say(f"processing: {len(samples) * runs} files uploaded; scanning, stripping and re-sealing them here")
    for sample in samples:
        results = [process_one(public_id) for public_id in uploaded[sample.name]][1:]  # the first warms up
        kept = results[-1]
        entry = {
            "content_type": sample.content_type,
            "bytes": len(sample.data),
            "mib": mib(len(sample.data)),
            "status": sorted({result["status"] for result in results}),
            "cleaned_mib": mib(kept["cleaned_bytes"]) if kept["cleaned_bytes"] is not None else None,
            "note": kept["note"],
            **{
                f"{part}_ms": ms(statistics.median(result[part] for result in results))
                for part in ("total", "scan", "mat2", "rest")
            },
            "total_each_ms": [ms(result["total"]) for result in results],
        }
        figures["types"][sample.name] = entry
        say(
            f"processing {sample.name} ({entry['mib']} MiB): median {entry['total_ms']} ms (scan {entry['scan_ms']}, "
            f"mat2 {entry['mat2_ms']}, rest {entry['rest_ms']}), {entry['status']}"
        )
    connections.close_all()
    return figures


# --- 3. memory ---------------------------------------------------------------------------------------------------


def tree(pid: int, depth: int = 0) -> list[tuple[int, int]]:
    """(pid, depth) of a process and all its descendants, whichever thread started them."""
    found = [(pid, depth)]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += tree(int(child), depth + 1)
    return found


@dataclass
class Watched:
    """One group of processes, sampled together: the peak of their summed RSS, and of any one of them."""

    name: str
    pids: Callable[[], list[int]]
    peak: int = 0
    peak_one: int = 0
    samples: list[int] = field(default_factory=list)

    def sample(self) -> None:
        sizes = [procs.rss_bytes(pid) for pid in self.pids()]
        total = sum(sizes)
        self.samples.append(total)
        self.peak = max(self.peak, total)
        self.peak_one = max([self.peak_one, *sizes])

    def reset(self) -> None:
        self.peak = self.peak_one = 0
        self.samples = []


class Sampler:
    """Samples every group every RSS_INTERVAL seconds in a thread."""

    def __init__(self, groups: list[Watched]) -> None:
        self.groups = groups
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for group in self.groups:
                group.sample()
            self._stop.wait(RSS_INTERVAL)


def idle(groups: list[Watched], seconds: float = 1.0) -> dict[str, dict[str, float]]:
    """Each group's RSS at rest: the median of its sums, and its largest process, over ``seconds``."""
    for group in groups:
        group.reset()
    with Sampler(groups):
        time.sleep(seconds)
    return {
        group.name: {"mib": mib(statistics.median(group.samples)), "one_mib": mib(group.peak_one)} for group in groups
    }


def processed(public_ids: list[str]) -> int:
    with closing(procs.connect()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM reports_attachment WHERE public_id = ANY(%s) AND stage = 'done'",
            [[uuid.UUID(public_id) for public_id in public_ids]],
        ).fetchone()
    return int(row[0]) if row else 0


def upload_at_once(port: int, bodies: list[Body]) -> tuple[load.LoadResult, list[str]]:
    result = run_bodies(port, UPLOAD_PATH, bodies, clients=len(bodies))
    bad = [sample for sample in result.samples if sample.status != 201]
    if bad:
        raise RuntimeError(f"an upload answered {bad[0].status}: {bad[0].body[:300]!r}")
    return result, [json.loads(sample.body)["id"] for sample in result.samples]


def measure_memory_at(
    size: int, where: load.Places, scanner: Scanner, clamd: procs.Process, log_dir: Path
) -> dict[str, Any]:
    """Fresh gunicorn (RSS_WEB_WORKERS) and Celery worker; warmed up with small files; then RSS_UPLOADS files of
    ``size`` uploaded at once and processed, sampled throughout."""
    procs.reports_reset()
    port = procs.free_port()
    env = {**SERVER_ENV, **scanner.env()}
    with (
        running(procs.gunicorn_start(log_dir, port=port, workers=RSS_WEB_WORKERS, **env)) as server,
        running(procs.worker_start(log_dir, **env)) as worker,
    ):
        gunicorn_pid, worker_pid = server.popen.pid, worker.popen.pid
        groups = [
            Watched("gunicorn", lambda: [pid for pid, _ in tree(gunicorn_pid)]),
            Watched("celery worker", lambda: [pid for pid, depth in tree(worker_pid) if depth <= 1]),
            Watched("mat2 (bubblewrap)", lambda: [pid for pid, depth in tree(worker_pid) if depth >= 2]),
            Watched("clamd", lambda: [clamd.popen.pid]),
        ]
        reports = reports_create(port, RSS_UPLOADS, where, first_seed=3 * 10**6 + size // KIB)
        warm = upload_bodies(
            reports, RSS_UPLOADS, name="warm-up.txt", content_type="text/plain", data=text_file(RSS_WARM_UP_BYTES)
        )
        _, warm_ids = upload_at_once(port, warm)
        procs.wait_for(lambda: processed(warm_ids) == len(warm_ids), timeout=120, what="the warm-up files")
        time.sleep(1)
        at_rest = idle(groups)
        for group in groups:
            group.reset()
        bodies = upload_bodies(reports, RSS_UPLOADS, name="notes.txt", content_type="text/plain", data=text_file(size))
        with Sampler(groups):
            began = time.perf_counter()
            uploads, ids = upload_at_once(port, bodies)
            uploaded = time.perf_counter() - began
            web_peak = {"mib": mib(groups[0].peak), "one_mib": mib(groups[0].peak_one)}
            try:
                procs.wait_for(
                    lambda: processed(ids) == len(ids),
                    timeout=PROCESSING_WAIT_SECONDS,
                    what="the files to be processed",
                )
            except TimeoutError as error:
                say(f"memory: {error}; the worker's log ends:\n{worker.log_tail(10)}")
            done = time.perf_counter() - began
        if not server.alive() or not worker.alive():
            raise RuntimeError("gunicorn or the celery worker died during the memory phase")
    peaks = {group.name: {"mib": mib(group.peak), "one_mib": mib(group.peak_one)} for group in groups}
    peaks["gunicorn"] = web_peak  # while the uploads ran (it is idle after)
    figures = {
        "file_mib": mib(size),
        "uploads": RSS_UPLOADS,
        "web_workers": RSS_WEB_WORKERS,
        "upload_p50_ms": ms(statistics.median(uploads.latencies())),
        "uploads_s": round(uploaded, 2),
        "processed": processed(ids),
        "uploaded_and_processed_s": round(done, 2),
        "idle": at_rest,
        "peak": peaks,
    }
    say(
        f"memory, {RSS_UPLOADS} x {mib(size)} MiB: gunicorn {at_rest['gunicorn']['mib']} -> {peaks['gunicorn']['mib']} "
        f"MiB (largest worker {peaks['gunicorn']['one_mib']}); celery worker {at_rest['celery worker']['mib']} -> "
        f"{peaks['celery worker']['mib']} MiB; mat2 peak {peaks['mat2 (bubblewrap)']['mib']} MiB; clamd "
        f"{at_rest['clamd']['mib']} -> {peaks['clamd']['mib']} MiB"
    )
    return figures


def traced_upload_peak(size: int) -> dict[str, Any]:
    """The Python heap one upload of ``size`` bytes takes in this process, beyond its body: Django's multipart
    parser and the portal's upload handler (reports.uploads: sealed and stored chunk by chunk), measured with
    tracemalloc from before the body is parsed to after; the rows are discarded. (C-level buffers, libpq's,
    are not traced: the RSS figures cover those.)"""
    import tracemalloc

    from django.test import RequestFactory

    from reports.attachments import incoming_discard
    from reports.uploads import SealedUpload

    body = multipart(
        {"reference": "HX7K-29QM", "access_code": "not checked here"},
        name="notes.txt",
        content_type="text/plain",
        data=text_file(size),
    )
    request = RequestFactory().post(UPLOAD_PATH, data=body.joined(), content_type=body.content_type)
    tracemalloc.start()
    try:
        upload = request.FILES["file"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if not isinstance(upload, SealedUpload):
        raise RuntimeError(f"FILE_UPLOAD_HANDLERS did not seal the upload: {type(upload).__name__}")
    incoming_discard(upload.incoming)
    return {"file_mib": mib(size), "peak_kib": round(peak / KIB)}


def streaming_bound() -> dict[str, Any]:
    """What one upload holds in a web worker by design, whatever the file's size (reports.uploads)."""
    from django.conf import settings

    from core import crypto, secretstream
    from reports.attachments import HEAD_BYTES

    parts = {
        # Django's multipart parser reads the body in the upload handler's chunk_size (64 KiB) and may hold one
        # piece it has read ahead beside the one it hands over.
        "django_multipart_reads": 2 * 64 * KIB,
        # reports.uploads -> Incoming -> secretstream.Sealer: up to two chunks buffered, one being sealed.
        "sealer_buffer": 2 * secretstream.CHUNK,
        "sealed_chunk": secretstream.SEALED_CHUNK,
        "head_for_type_check": HEAD_BYTES,
        # The form's other fields (reference, access code): DATA_UPLOAD_MAX_MEMORY_SIZE at most.
        "form_fields_at_most": int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
    }
    params = crypto.KdfParams.current()
    return {
        "parts_bytes": parts,
        "per_request_kib": round(sum(parts.values()) / KIB),
        # After the file is sealed, the access code is checked: one Argon2id derivation, one at a time per sync
        # worker, freed when it ends.
        "key_derivation_mib": params.memlimit / MIB,
    }


def memory_summary(runs: list[dict[str, Any]], bound: dict[str, Any], traced: list[dict[str, Any]]) -> dict[str, Any]:
    small, large = runs[0], runs[-1]
    # Per upload: the larger of the design's sum and what tracemalloc saw.
    per_request_mib = max(bound["per_request_kib"], *(t["peak_kib"] for t in traced)) / 1024
    idle_web = large["idle"]["gunicorn"]["mib"]
    cap = idle_web + RSS_WEB_WORKERS * (bound["key_derivation_mib"] + per_request_mib)
    size_step = large["file_mib"] - small["file_mib"]
    growth = {
        name: round(large["peak"][name]["one_mib"] - small["peak"][name]["one_mib"], 1)
        for name in ("gunicorn", "celery worker", "mat2 (bubblewrap)")
    }
    growth_over_idle = {
        name: round(
            (large["peak"][name]["mib"] - large["idle"][name]["mib"])
            - (small["peak"][name]["mib"] - small["idle"][name]["mib"]),
            1,
        )
        for name in ("gunicorn", "celery worker")
    }
    return {
        "per_upload_mib": round(per_request_mib, 2),
        "gunicorn_cap_mib": round(cap, 1),
        "gunicorn_within_cap": large["peak"]["gunicorn"]["mib"] <= cap and small["peak"]["gunicorn"]["mib"] <= cap,
        "file_size_step_mib": size_step,
        "largest_process_growth_mib": growth,
        "rise_over_idle_growth_mib": growth_over_idle,
        # Memory that followed the file's size would add about size_step per file at least; a third of it is
        # well above the noise of one sample.
        "grows_with_file_size": {name: value > size_step / 3 for name, value in growth.items()},
    }


# --- summary ----------------------------------------------------------------------------------------------------


def summarise(figures: dict[str, Any]) -> list[dict[str, str]]:
    upload, derivation = figures["upload"], figures["derivation"]
    floor_p50, upload_p50 = upload["floor"]["p50_ms"], upload["upload"]["p50_ms"]
    ratio = upload_p50 / floor_p50 if floor_p50 and upload_p50 else float("nan")
    ratio_kdf = upload_p50 / (floor_p50 + derivation["median_ms"]) if floor_p50 and upload_p50 else float("nan")
    figures["ratios"] = {
        "upload_p50_over_floor_p50": round(ratio, 2),
        "upload_p50_over_floor_p50_plus_derivation": round(ratio_kdf, 2),
    }
    machine = figures["machine"]
    rows = [
        (
            "machine load, 1-min average start / end",
            f"{machine['loadavg_1min_start']} / {machine['loadavg_1min_end']}",
            f"{machine['cpu_count']} cores",
        ),
        ("key derivation, in-process median", f"{derivation['median_ms']} ms", f"{derivation['runs']} runs"),
        (
            f"upload floor {upload['file_mib']} MiB c={CONCURRENCY} p50 / p95",
            f"{floor_p50} / {upload['floor']['p95_ms']} ms",
            f"n={upload['floor']['requests']}, errors {upload['floor']['errors']}",
        ),
        (
            f"upload API {upload['file_mib']} MiB c={CONCURRENCY} p50 / p95",
            f"{upload_p50} / {upload['upload']['p95_ms']} ms",
            f"n={upload['upload']['requests']}, errors {upload['upload']['errors']}",
        ),
        ("upload p50 / floor p50", f"{ratio:.2f}", ""),
        (
            f"in-process: seal / seal + store {figures['storing']['file_mib']} MiB",
            f"{figures['storing']['seal_only_ms']} / {figures['storing']['seal_and_store_ms']} ms",
            f"{figures['storing']['chunks_stored']} chunks, WRITE_BATCH per statement",
        ),
        ("upload p50 / (floor p50 + derivation)", f"{ratio_kdf:.2f}", ""),
    ]
    for name, entry in figures["processing"]["types"].items():
        rows.append(
            (
                f"scan + strip + re-seal, {name} {entry['mib']} MiB",
                f"{entry['total_ms']} ms",
                f"scan {entry['scan_ms']}, mat2 {entry['mat2_ms']}, rest {entry['rest_ms']} ms; "
                f"{'/'.join(entry['status'])}",
            )
        )
    memory = figures["memory"]
    bound = memory["bound"]
    for run in memory["runs"]:
        label = f"{run['uploads']} x {run['file_mib']} MiB"
        rows.append(
            (
                f"RSS gunicorn ({run['web_workers']} workers), {label}",
                f"{run['idle']['gunicorn']['mib']} -> {run['peak']['gunicorn']['mib']} MiB",
                f"largest worker {run['idle']['gunicorn']['one_mib']} -> {run['peak']['gunicorn']['one_mib']} MiB",
            )
        )
        rows.append(
            (
                f"RSS celery worker, {label}",
                f"{run['idle']['celery worker']['mib']} -> {run['peak']['celery worker']['mib']} MiB",
                f"mat2 peak {run['peak']['mat2 (bubblewrap)']['mib']} MiB, clamd {run['peak']['clamd']['mib']} MiB",
            )
        )
    summary = memory["summary"]
    growth = summary["largest_process_growth_mib"]
    rows += [
        (
            "per-upload bound: streaming + key derivation",
            f"{summary['per_upload_mib']} MiB + {bound['key_derivation_mib']:.0f} MiB",
            f"gunicorn cap {summary['gunicorn_cap_mib']} MiB: {'within' if summary['gunicorn_within_cap'] else 'OVER'}",
        ),
        (
            "traced heap of one upload (parser + sealing)",
            " / ".join(f"{t['peak_kib']} KiB" for t in memory["traced_upload_heap"]),
            " / ".join(f"{t['file_mib']} MiB file" for t in memory["traced_upload_heap"]),
        ),
        (
            f"largest process, {memory['runs'][-1]['file_mib']} vs {memory['runs'][0]['file_mib']} MiB files",
            f"gunicorn {growth['gunicorn']:+} / worker {growth['celery worker']:+} MiB",
            "grows with size: "
            + ", ".join(
                f"{name} {'yes' if grows else 'no'}" for name, grows in summary["grows_with_file_size"].items()
            ),
        ),
    ]
    return [{"metric": m, "value": v, "notes": n} for m, v, n in rows]


def print_table(rows: list[dict[str, str]]) -> None:
    columns = ["metric", "value", "notes"]
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    print()
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    print()


def uptime_now() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs after a good run")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(TIME_LIMIT_SECONDS)
    log_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-attachments-"))
    figures: dict[str, Any] = {}
    succeeded = False
    scanner: Scanner | None = None
    try:
        say(f"preparing {procs.DB_NAME} (logs in {log_dir})")
        procs.database_prepare()
        scanner = scanner_make()
        django_setup(scanner)
        where = places()
        load_start = os.getloadavg()[0]
        uptime = uptime_now()
        with running(clamd_start(scanner, log_dir)) as clamd:
            say(f"clamd answers on {scanner.socket}")
            derivations = derivation_times(DERIVATIONS)
            figures["storing"] = measure_storing()
            port = procs.free_port()
            env = {**SERVER_ENV, **scanner.env()}
            with running(procs.gunicorn_start(log_dir, port=port, workers=WEB_WORKERS, **env)) as server:
                say(f"gunicorn on 127.0.0.1:{port}, {WEB_WORKERS} workers (bench.wsgi)")
                figures["upload"] = measure_uploads(port, where)
                procs.reports_reset()  # 40 files of 10 MiB: not kept for the next phases
                figures["processing"] = measure_processing(port, where)
                if not server.alive():
                    raise RuntimeError(f"gunicorn died:\n{server.log_tail()}")
            derivations += derivation_times(DERIVATIONS)
            runs = [measure_memory_at(size, where, scanner, clamd, log_dir) for size in RSS_SIZES]
            bound = streaming_bound()
            traced = [traced_upload_peak(size) for size in RSS_SIZES]
            say("traced heap of one upload: " + ", ".join(f"{t['file_mib']} MiB {t['peak_kib']} KiB" for t in traced))
            figures["memory"] = {
                "bound": bound,
                "traced_upload_heap": traced,
                "runs": runs,
                "summary": memory_summary(runs, bound, traced),
            }
            if not clamd.alive():
                raise RuntimeError(f"clamd died:\n{clamd.log_tail()}")
        procs.reports_reset()
        from core import crypto

        params = crypto.KdfParams.current()
        figures["derivation"] = {
            "runs": len(derivations),
            "memlimit_mib": params.memlimit / MIB,
            "median_ms": ms(statistics.median(derivations)),
        }
        figures["machine"] = {
            "cpu_count": os.cpu_count(),
            "loadavg_1min_start": round(load_start, 2),
            "loadavg_1min_end": round(os.getloadavg()[0], 2),
            "uptime_at_start": uptime,
            "uptime_at_end": uptime_now(),
            "scanner_signatures": "the EICAR test signature only (manage.py clamav_setup --test-signatures)",
        }
        rows = summarise(figures)
        print_table(rows)
        report = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "web_workers": WEB_WORKERS,
            **figures,
            "summary": rows,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        say(f"wrote {RESULTS.relative_to(ROOT)}")
        succeeded = True
        return 0
    except (Stopped, KeyboardInterrupt) as stop:
        say(f"interrupted: {str(stop) or 'Ctrl-C'}")
        return 130
    finally:
        signal.alarm(0)
        if scanner is not None:
            scanner.remove()
        if succeeded and not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"logs in {log_dir}")


if __name__ == "__main__":
    sys.exit(main())
