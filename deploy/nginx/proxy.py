#!/usr/bin/env python3
"""The front door: Debian's nginx in front of gunicorn, configured per run (docs/deploy.md, section 4).

    python deploy/nginx/proxy.py run --listen 127.0.0.1:8000 --upstream 127.0.0.1:8001 --pages var/nginx/pages
    python deploy/nginx/proxy.py render …     # print the configuration `run` would use, and nothing else

`run` makes a runtime folder (0700, on a tmpfs: /dev/shm unless --runtime-parent says otherwise, and refused
anywhere else), copies the error pages rendered by deploy/nginx/error_pages.py into it, renders
deploy/nginx/nginx.conf.in and site.conf.in into it, and runs nginx in the foreground with that folder as its
prefix (`-p`), its pid file and its temporary folders. When nginx exits (SIGTERM or SIGINT to this process are
passed on), the folder is removed. Run as root, nginx's workers run as www-data and the folder is theirs.

Two shapes:
  development (default)  one plain-HTTP server for both sides, in front of one gunicorn (`make run`, the tests);
  tls                    the public and staff hostnames, each with TLS, in front of the two web services
                         (docker-compose.yml): PUBLIC_HOSTNAME, STAFF_HOSTNAME, TLS_CERTIFICATE(_KEY).

The timeouts and the body limit are settings, from the environment or the command line:
  NGINX_CLIENT_HEADER_TIMEOUT  the whole request head (10s)
  NGINX_CLIENT_BODY_TIMEOUT    between two reads of the body (30s)
  (past either, nginx closes the connection: it sends no 408, and nothing of the request reaches gunicorn)
  NGINX_SEND_TIMEOUT           between two writes of an answer to the client (30s)
  NGINX_MAX_BODY               largest request body, kept in memory (11m, docs/deploy.md section 4; never more)
  NGINX_UPLOAD_MAX_BODY        at the upload addresses only (UPLOAD_PATHS): one file's size and the form's fields,
                               still in memory (ATTACHMENT_MAX_BYTES rounded up to a MiB, plus 1m: 21m by default;
                               at most 65m)
  NGINX_UPLOADS_PER_CLIENT     uploads one client address may send at once (2); the next is answered 429
  NGINX_UPLOADS_IN_ALL         uploads sent at once in all (16): with the body limit, the most upload bodies hold
                               in nginx's memory (16 x 21m = 336 MiB by default)
  NGINX_WORKER_PROCESSES, NGINX_WORKER_CONNECTIONS   (1, 1024)
  NGINX_RESOLVER               tls only: a DNS server to look the upstreams' names up again (docker's 127.0.0.11)

Standard library only: it also runs in the proxy image, which has no Django.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
WORKER_USER = "www-data"
RUNTIME_PREFIX = "helpline-nginx-"
DEFAULT_RUNTIME_PARENT = "/dev/shm"  # noqa: S108 - a tmpfs, and the folder made in it is private (0700)
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}

# What a setting may look like: nothing from the environment can add a directive to the configuration.
DURATION = re.compile(r"\d{1,5}(ms|s|m)?")
SIZE = re.compile(r"\d{1,9}[km]?")
# docs/deploy.md section 4: bodies up to 11 MiB, all of them in memory. Less is allowed, more is not.
LARGEST_BODY = 11 * 1024 * 1024
# The addresses that take a file, one per request (reports.uploads seals it as it arrives): their body may be one
# file's size and the form's fields, still all in memory, and each client may send only a few at once. Nowhere
# else does a body get past NGINX_MAX_BODY. A staff address that takes a file goes in STAFF_UPLOAD_PATHS.
PUBLIC_UPLOAD_PATHS = ("/report/documents", "/check/concern/files", "/api/v1/reports/attachments")
STAFF_UPLOAD_PATHS: tuple[str, ...] = ()
# Room for the form's other fields and the multipart framing, beside the file.
UPLOAD_FORM_OVERHEAD = 1024 * 1024
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# An upload body larger than this would hold too much in memory per request (a 64 MiB file, and the form).
LARGEST_UPLOAD_BODY = 65 * 1024 * 1024
ADDRESS = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)?:?\d{1,5}")
HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
SAFE_PATH = re.compile(r"/[A-Za-z0-9_./+-]*")


class ConfigError(ValueError):
    pass


def checked(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ConfigError(f"{what}: {value!r} is not allowed here")
    return value


@dataclass(frozen=True)
class Site:
    """One server block: where it listens, which gunicorn it passes to, and whose error pages it shows."""

    listen: str
    upstream: str
    side: str  # "combined" (both sides, make run), "public" or "staff"
    server_name: str = "_"
    description: str = ""


@dataclass(frozen=True)
class Settings:
    sites: Sequence[Site]
    pages: Path
    static_root: Path
    error_log: str = "stderr"
    client_header_timeout: str = "10s"
    client_body_timeout: str = "30s"
    send_timeout: str = "30s"
    proxy_read_timeout: str = "60s"
    max_body: str = "11m"
    upload_max_body: str = "21m"
    uploads_per_client: int = 2
    uploads_in_all: int = 16
    worker_processes: str = "1"
    worker_connections: int = 1024
    tls: bool = False
    tls_certificate: str = ""
    tls_certificate_key: str = ""
    tls_listen: str = ""
    http_listen: str = ""
    # A DNS resolver (docker's: 127.0.0.11) makes nginx look the upstream names up again as they expire, instead of
    # once at start; without one, names are looked up once.
    resolver: str = ""


def size_in_bytes(size: str) -> int:
    return int(size.rstrip("km")) * {"k": 1024, "m": 1024 * 1024}.get(size[-1], 1)


def default_upload_body(env: Mapping[str, str]) -> str:
    """One file's size (the application's ATTACHMENT_MAX_BYTES, when this process is told it) rounded up to a
    MiB, and the form's fields."""
    try:
        largest_file = int(env.get("ATTACHMENT_MAX_BYTES") or DEFAULT_ATTACHMENT_MAX_BYTES)
    except ValueError as error:
        raise ConfigError("ATTACHMENT_MAX_BYTES: not a number of bytes") from error
    mebibytes = -(-(largest_file + UPLOAD_FORM_OVERHEAD) // (1024 * 1024))
    return f"{mebibytes}m"


# --- rendering ---------------------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\{ (\w+) \}\}")
BLOCK = re.compile(r"\s*\{\{(#if (\w+)|/if)\}\}\s*")


def render_template(text: str, values: Mapping[str, str], flags: Mapping[str, bool]) -> str:
    """`{{ name }}` becomes its value; lines between `{{#if flag}}` and `{{/if}}` are kept when the flag is set.
    A name or flag the caller did not give is an error, never an empty string."""
    kept: list[str] = []
    stack: list[bool] = []
    for line in text.splitlines(keepends=True):
        block = BLOCK.fullmatch(line)
        if block:
            if block.group(1) == "/if":
                stack.pop()
            else:
                stack.append(flags[block.group(2)])
            continue
        if all(stack):
            kept.append(line)
    if stack:
        raise ConfigError("unclosed {{#if}}")

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return PLACEHOLDER.sub(value, "".join(kept))


def render(settings: Settings, runtime: Path, *, root: bool) -> str:
    checked(str(runtime), SAFE_PATH, "runtime folder")
    checked(str(settings.static_root), SAFE_PATH, "static folder")
    if settings.error_log != "stderr":
        checked(settings.error_log, SAFE_PATH, "error log")
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout", "proxy_read_timeout"):
        checked(getattr(settings, name), DURATION, name)
    checked(settings.max_body, SIZE, "max_body")
    if size_in_bytes(settings.max_body) > LARGEST_BODY:
        raise ConfigError(f"max_body: {settings.max_body} is more than 11m, and every body is held in memory")
    checked(settings.upload_max_body, SIZE, "upload_max_body")
    if not size_in_bytes(settings.max_body) <= size_in_bytes(settings.upload_max_body) <= LARGEST_UPLOAD_BODY:
        raise ConfigError(
            f"upload_max_body: {settings.upload_max_body} must be at least max_body and at most 65m (every upload "
            "body is held in memory)"
        )
    for name in ("uploads_per_client", "uploads_in_all"):
        if not 1 <= int(getattr(settings, name)) <= 10_000:
            raise ConfigError(f"{name}: {getattr(settings, name)!r} is not between 1 and 10000")
    checked(settings.worker_processes, re.compile(r"auto|\d{1,3}"), "worker_processes")
    if settings.tls:
        checked(settings.tls_certificate, SAFE_PATH, "TLS certificate")
        checked(settings.tls_certificate_key, SAFE_PATH, "TLS certificate key")
        checked(settings.tls_listen, ADDRESS, "TLS listen address")
        checked(settings.http_listen, ADDRESS, "HTTP listen address")
    if settings.resolver:
        checked(settings.resolver, re.compile(r"[0-9a-fA-F.:\[\]]+"), "resolver")

    site_template = (HERE / "site.conf.in").read_text()
    upload_template = (HERE / "upload.conf.in").read_text()
    sites = []
    for site in settings.sites:
        checked(site.listen, ADDRESS, "listen address")
        checked(site.upstream, ADDRESS, "upstream address")
        if site.server_name != "_":
            checked(site.server_name, HOSTNAME, "server name")
        if site.side not in {"combined", "public", "staff"}:
            raise ConfigError(f"side: {site.side!r}")
        values = {
            "description": site.description or f"The {site.side} side.",
            "listen": f"{site.listen} ssl" if settings.tls else site.listen,
            "server_name": site.server_name,
            "upstream": site.upstream,
            "upstream_ref": "$helpline_upstream" if settings.resolver else site.upstream,
            "side": "public" if site.side == "combined" else site.side,
            # Behind TLS the browser's origin has no port; in development it has, and Django's CSRF check
            # compares the two.
            "host_header": "$host" if settings.tls else "$host:$server_port",
            "forwarded_proto": "https" if settings.tls else "$scheme",
            "static_root": str(settings.static_root),
            "runtime": str(runtime),
            "tls_certificate": settings.tls_certificate,
            "tls_certificate_key": settings.tls_certificate_key,
        }
        flags = {"tls": settings.tls, "combined": site.side == "combined", "resolver": bool(settings.resolver)}
        values["upload_locations"] = upload_locations(upload_template, settings, site, values["upstream_ref"])
        sites.append(render_template(site_template, values, flags))

    values = {
        "runtime": str(runtime),
        "error_log": settings.error_log,
        "worker_processes": settings.worker_processes,
        "worker_connections": str(int(settings.worker_connections)),
        "client_header_timeout": settings.client_header_timeout,
        "client_body_timeout": settings.client_body_timeout,
        "send_timeout": settings.send_timeout,
        "proxy_read_timeout": settings.proxy_read_timeout,
        "max_body": settings.max_body,
        "tls_listen": settings.tls_listen,
        "http_listen": settings.http_listen,
        "server_names": " ".join(site.server_name for site in settings.sites),
        "sites": "\n".join(sites),
        "resolver": settings.resolver,
    }
    flags = {"root": root, "tls": settings.tls, "resolver": bool(settings.resolver)}
    return render_template((HERE / "nginx.conf.in").read_text(), values, flags)


def upload_locations(template: str, settings: Settings, site: Site, upstream_ref: str) -> str:
    """One exact location per upload address the site serves, each with its body limit, its connection limits
    and the front door's pages for them (JSON under /api/)."""
    paths = [(path, "public") for path in PUBLIC_UPLOAD_PATHS if site.side in {"public", "combined"}]
    paths += [(path, "staff") for path in STAFF_UPLOAD_PATHS if site.side in {"staff", "combined"}]
    blocks = []
    for path, side in paths:
        checked(path, SAFE_PATH, "upload path")
        values = {
            "path": path,
            "upstream_ref": upstream_ref,
            "upload_max_body": settings.upload_max_body,
            "uploads_per_client": str(int(settings.uploads_per_client)),
            "uploads_in_all": str(int(settings.uploads_in_all)),
            "pages": "api" if path.startswith("/api/") else side,
            "suffix": "json" if path.startswith("/api/") else "html",
        }
        blocks.append(render_template(template, values, {}))
    return "".join(blocks).rstrip("\n")


# --- the runtime folder ------------------------------------------------------------------------------------------


def filesystem_type(path: Path) -> str:
    """The type of the filesystem `path` is on, from the longest matching mount point."""
    best, kind = "", ""
    resolved = str(path.resolve())
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) < 3:
                continue
            mount_point = fields[1].replace("\\040", " ")
            inside = resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best):
                best, kind = mount_point, fields[2]
    return kind


def remove_stale_runtimes(parent: Path) -> None:
    """Runtime folders this user left behind when the launcher was killed outright (its pid has gone)."""
    for folder in parent.glob(RUNTIME_PREFIX + "*"):
        with contextlib.suppress(OSError, ValueError):
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid not in {os.getuid(), worker_uid()}:
                continue
            pid = int((folder / "launcher.pid").read_text())
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(folder)


def worker_uid() -> int:
    import pwd

    try:
        return pwd.getpwnam(WORKER_USER).pw_uid
    except KeyError:
        return -1


def make_runtime(parent: Path, pages: Path) -> Path:
    kind = filesystem_type(parent)
    if kind not in MEMORY_FILESYSTEMS:
        raise ConfigError(
            f"{parent} is on {kind or 'an unknown filesystem'}, not a tmpfs: nginx's temporary folders must never be "
            "on a disk (a request body written there is a reporter's words in clear)"
        )
    for name in ("page-headers.conf", "static-headers.conf"):
        if not (pages / name).is_file():
            raise ConfigError(f"{pages} has no {name}: render the pages with deploy/nginx/error_pages.py first")
    remove_stale_runtimes(parent)
    runtime = Path(tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=parent))  # mode 0700
    try:
        (runtime / "launcher.pid").write_text(str(os.getpid()))
        (runtime / "tmp").mkdir(mode=0o700)
        shutil.copytree(pages, runtime / "pages")
    except BaseException:
        shutil.rmtree(runtime, ignore_errors=True)
        raise
    return runtime


def give_to_workers(runtime: Path) -> None:
    """Started as root, nginx's workers run as www-data: the runtime folder (still 0700) becomes theirs."""
    uid = worker_uid()
    if uid < 0:
        raise ConfigError(f"no user {WORKER_USER} for nginx's workers")
    import pwd

    gid = pwd.getpwnam(WORKER_USER).pw_gid
    for path in [runtime, *runtime.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


# --- settings from the command line and the environment ----------------------------------------------------------


def parse(argv: Sequence[str]) -> tuple[str, Settings, argparse.Namespace]:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "render"])
    parser.add_argument("--mode", choices=["development", "tls"], default=env.get("NGINX_MODE", "development"))
    parser.add_argument("--listen", default=env.get("NGINX_LISTEN", f"127.0.0.1:{env.get('PORT', '8000')}"))
    parser.add_argument("--upstream", default=env.get("NGINX_UPSTREAM", "127.0.0.1:8001"))
    parser.add_argument("--pages", type=Path, default=Path(env.get("NGINX_PAGES", str(ROOT / "var/nginx/pages"))))
    parser.add_argument("--static", type=Path, default=Path(env.get("NGINX_STATIC", str(ROOT / "staticfiles"))))
    parser.add_argument("--error-log", default=env.get("NGINX_ERROR_LOG", "stderr"))
    parser.add_argument("--runtime-parent", type=Path, default=Path(env.get("NGINX_RUNTIME", DEFAULT_RUNTIME_PARENT)))
    parser.add_argument("--runtime", type=Path, help="render only: the runtime folder to name in the configuration")
    parser.add_argument("--client-header-timeout", default=env.get("NGINX_CLIENT_HEADER_TIMEOUT", "10s"))
    parser.add_argument("--client-body-timeout", default=env.get("NGINX_CLIENT_BODY_TIMEOUT", "30s"))
    parser.add_argument("--send-timeout", default=env.get("NGINX_SEND_TIMEOUT", "30s"))
    parser.add_argument("--max-body", default=env.get("NGINX_MAX_BODY", "11m"))
    parser.add_argument("--upload-max-body", default=env.get("NGINX_UPLOAD_MAX_BODY") or default_upload_body(env))
    parser.add_argument("--uploads-per-client", type=int, default=int(env.get("NGINX_UPLOADS_PER_CLIENT", "2")))
    parser.add_argument("--uploads-in-all", type=int, default=int(env.get("NGINX_UPLOADS_IN_ALL", "16")))
    parser.add_argument("--worker-processes", default=env.get("NGINX_WORKER_PROCESSES", "1"))
    parser.add_argument("--worker-connections", type=int, default=int(env.get("NGINX_WORKER_CONNECTIONS", "1024")))
    args = parser.parse_args(argv)

    settings = Settings(
        sites=[Site(args.listen, args.upstream, "combined", "_", "Both sides, in front of one gunicorn.")],
        pages=args.pages.resolve(),
        static_root=args.static.resolve(),
        error_log=args.error_log if args.error_log == "stderr" else str(Path(args.error_log).resolve()),
        client_header_timeout=args.client_header_timeout,
        client_body_timeout=args.client_body_timeout,
        send_timeout=args.send_timeout,
        max_body=args.max_body,
        upload_max_body=args.upload_max_body,
        uploads_per_client=args.uploads_per_client,
        uploads_in_all=args.uploads_in_all,
        worker_processes=args.worker_processes,
        worker_connections=args.worker_connections,
    )
    if args.mode == "tls":
        tls_listen = env.get("NGINX_TLS_LISTEN", "8443")
        public = env.get("PUBLIC_HOSTNAME", "report.helpline.localhost")
        staff = env.get("STAFF_HOSTNAME", "staff.helpline.localhost")
        settings = replace(
            settings,
            sites=[
                Site(tls_listen, env.get("PUBLIC_UPSTREAM", "public:8000"), "public", public, "The reporters' side."),
                Site(tls_listen, env.get("STAFF_UPSTREAM", "staff:8000"), "staff", staff, "The staff side."),
            ],
            tls=True,
            tls_certificate=env.get("TLS_CERTIFICATE", "/run/secrets/tls_certificate"),
            tls_certificate_key=env.get("TLS_CERTIFICATE_KEY", "/run/secrets/tls_certificate_key"),
            tls_listen=tls_listen,
            http_listen=env.get("NGINX_HTTP_LISTEN", "8080"),
            resolver=env.get("NGINX_RESOLVER", ""),
        )
    return args.command, settings, args


# --- running nginx -----------------------------------------------------------------------------------------------


def run(settings: Settings, runtime_parent: Path) -> int:
    root = os.geteuid() == 0
    runtime = make_runtime(runtime_parent, settings.pages)
    child: subprocess.Popen[bytes] | None = None

    def pass_on(signum: int, frame: FrameType | None) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGQUIT if signum == signal.SIGQUIT else signal.SIGTERM)

    try:
        (runtime / "nginx.conf").write_text(render(settings, runtime, root=root))
        if root:
            give_to_workers(runtime)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
            signal.signal(signum, pass_on)
        # -e: nginx writes to its compiled-in error log (/var/log/nginx/error.log) before it has read the
        # configuration unless it is told where, and that log is not ours.
        child = subprocess.Popen(  # noqa: S603 - our nginx, our configuration
            [NGINX, "-p", f"{runtime}/", "-c", str(runtime / "nginx.conf"), "-e", settings.error_log]
        )
        return child.wait()
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        shutil.rmtree(runtime, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        command, settings, args = parse(sys.argv[1:] if argv is None else argv)
        if command == "render":
            runtime = args.runtime or Path(DEFAULT_RUNTIME_PARENT) / (RUNTIME_PREFIX + "example")
            sys.stdout.write(render(settings, runtime.resolve(), root=os.geteuid() == 0))
            return 0
        return run(settings, args.runtime_parent)
    except ConfigError as error:
        print(f"deploy/nginx/proxy.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
