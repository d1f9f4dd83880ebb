"""The front door's configuration as deploy/nginx/proxy.py renders it, for `make run` and for docker-compose.yml,
checked against docs/deploy.md section 4 and by Debian's nginx itself (`nginx -t`).

No database and no server: tests/deploy/test_front_door.py runs the real processes.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "deploy" / "nginx" / "proxy.py"
NGINX = Path("/usr/sbin/nginx")


@pytest.fixture(scope="module")
def proxy() -> dict[str, Any]:
    return runpy.run_path(str(PROXY))


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stand-in pages: only their names matter to nginx -t, and the header files' syntax."""
    folder = tmp_path_factory.mktemp("pages")
    for side, suffix in (("public", "html"), ("staff", "html"), ("api", "json")):
        (folder / side).mkdir()
        for status in (400, 413, 502):
            (folder / side / f"{status}.{suffix}").write_text("page")
    (folder / "page-headers.conf").write_text('add_header Cache-Control "no-store" always;\n')
    (folder / "static-headers.conf").write_text('add_header X-Content-Type-Options "nosniff" always;\n')
    return folder


def render(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROXY), "render", *args],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("NGINX_")}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def directives(config: str, name: str) -> list[str]:
    return [value.strip() for value in re.findall(rf"(?m)^\s*{re.escape(name)}\s+([^;]*);", config)]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=helpline.localhost"]
        + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return folder / "cert.pem", folder / "key.pem"


def shapes(pages: Path, certificate: tuple[Path, Path] | None = None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """make run's and docker-compose.yml's, with their settings' defaults."""
    tls_env = {
        "NGINX_MODE": "tls",
        "PUBLIC_HOSTNAME": "report.example.gov.uk",
        "STAFF_HOSTNAME": "staff.example.gov.uk",
        # As docker-compose.yml has them: the names are looked up when a request needs them, not at start.
        "PUBLIC_UPSTREAM": "public:8000",
        "STAFF_UPSTREAM": "staff:8000",
        "NGINX_RESOLVER": "127.0.0.11",
    }
    if certificate:
        tls_env.update(TLS_CERTIFICATE=str(certificate[0]), TLS_CERTIFICATE_KEY=str(certificate[1]))
    development = ["--listen", "127.0.0.1:18080", "--upstream", "127.0.0.1:18081", "--pages", str(pages)]
    return {"make run": (development, {}), "compose": (["--pages", str(pages)], tls_env)}


@pytest.mark.parametrize("shape", ["make run", "compose"])
def test_the_configuration_is_what_docs_deploy_md_section_4_describes(pages: Path, shape: str) -> None:
    args, env = shapes(pages)[shape]
    done = render(*args, **env)
    assert done.returncode == 0, done.stderr
    config = done.stdout

    # Bodies in memory only: the buffer is the largest body accepted (11m, as the docs have it; one file's size,
    # 21m, at the three upload addresses only), nothing goes to a temporary file, and the temporary folders are in
    # the runtime folder (a 0700 folder on a tmpfs). The internal error pages check no size again ("0"): the body
    # was limited where the request came in.
    sizes = directives(config, "client_max_body_size")
    assert sizes[:4] == ["11m", "21m", "21m", "21m"] and set(sizes[4:]) == {"0"}
    assert directives(config, "client_body_buffer_size") == ["11m", "21m", "21m", "21m"]
    assert directives(config, "proxy_max_temp_file_size") == ["0"]
    assert directives(config, "proxy_request_buffering") == ["on"]
    assert "client_body_in_file_only" not in config
    for name in ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"):
        (path,) = directives(config, name)
        assert path.startswith("/dev/shm/helpline-nginx-") and "/tmp/" in path, (name, path)

    # The client's address in X-Real-IP only, from nginx's own view of the connection; nothing a client sends
    # in another header reaches gunicorn.
    servers = config.count("proxy_set_header X-Real-IP ")
    assert servers == (1 if shape == "make run" else 2)
    assert directives(config, "proxy_set_header X-Real-IP") == ["$remote_addr"] * servers
    for header in ("X-Forwarded-For", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Ssl", "X-Forwarded-Protocol"):
        assert directives(config, f"proxy_set_header {header}") == ['""'] * servers, header
    forwarded_proto = directives(config, "proxy_set_header X-Forwarded-Proto")
    assert forwarded_proto == (["$scheme"] if shape == "make run" else ["https", "https"])

    # No per-request log, and an error log at crit (lower levels name the client).
    assert directives(config, "access_log") == ["off"]
    assert [value.split()[-1] for value in directives(config, "error_log")] == ["crit"]
    assert directives(config, "server_tokens") == ["off"]

    # Compose's upstreams are looked up again as they expire (a replaced container has a new address).
    if shape == "compose":
        assert directives(config, "resolver") == ["127.0.0.11 valid=10s ipv6=off"]
        assert set(directives(config, "proxy_pass")) == {"http://$helpline_upstream"}
        assert directives(config, "set $helpline_upstream") == ["public:8000", "staff:8000"]
    else:
        assert set(directives(config, "proxy_pass")) == {"http://127.0.0.1:18081"}

    # The timeouts are settings, with these defaults.
    assert directives(config, "client_header_timeout") == ["10s"]
    assert directives(config, "client_body_timeout") == ["30s"]
    assert directives(config, "daemon") == ["off"]
    # Started as root, the workers are not.
    assert directives(config, "user") == (["www-data"] if os.geteuid() == 0 else [])


def test_the_settings_come_from_the_environment_and_cannot_add_directives(pages: Path) -> None:
    args, _ = shapes(pages)["make run"]
    done = render(*args, NGINX_CLIENT_BODY_TIMEOUT="3s", NGINX_CLIENT_HEADER_TIMEOUT="2s", NGINX_MAX_BODY="1m")
    assert done.returncode == 0, done.stderr
    assert directives(done.stdout, "client_body_timeout") == ["3s"]
    assert directives(done.stdout, "client_header_timeout") == ["2s"]
    assert directives(done.stdout, "client_body_buffer_size") == ["1m", "21m", "21m", "21m"]
    for variable, value in [
        ("NGINX_CLIENT_BODY_TIMEOUT", "1s; access_log /tmp/all.log"),
        ("NGINX_MAX_BODY", "11m; client_body_buffer_size 8k"),
        ("PUBLIC_HOSTNAME", "report.example.gov.uk; access_log /tmp/all.log"),
    ]:
        env = {variable: value, **({"NGINX_MODE": "tls"} if variable == "PUBLIC_HOSTNAME" else {})}
        refused = render(*args, **env)
        assert refused.returncode == 2 and "is not allowed here" in refused.stderr, (variable, refused)
    # No looser than the docs: a larger body limit would be a larger buffer in memory, per request.
    refused = render(*args, NGINX_MAX_BODY="12m")
    assert refused.returncode == 2 and "more than 11m" in refused.stderr, refused


@pytest.fixture
def runtime(proxy: dict[str, Any], pages: Path) -> Iterator[Path]:
    folder = proxy["make_runtime"](Path("/dev/shm"), pages)  # noqa: S108
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("shape", ["make run", "compose"])
def test_debians_nginx_accepts_the_configuration(
    proxy: dict[str, Any], pages: Path, certificate: tuple[Path, Path], runtime: Path, shape: str
) -> None:
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make /usr/sbin/nginx` installs Debian's nginx (make test does)")
    args, env = shapes(pages, certificate)[shape]
    done = render(*args, "--runtime", str(runtime), "--error-log", str(runtime / "error.log"), **env)
    assert done.returncode == 0, done.stderr
    (runtime / "nginx.conf").write_text(done.stdout)
    if os.geteuid() == 0:
        proxy["give_to_workers"](runtime)
    checked = subprocess.run(
        [str(NGINX), "-t", "-q", "-p", f"{runtime}/", "-c", str(runtime / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", checked.stderr  # not even a warning


def test_the_runtime_folder_is_never_on_a_disk(proxy: dict[str, Any], pages: Path, tmp_path: Path) -> None:
    if proxy["filesystem_type"](tmp_path) in proxy["MEMORY_FILESYSTEMS"]:
        pytest.skip(f"{tmp_path} is on a tmpfs here")
    done = subprocess.run(
        [sys.executable, str(PROXY), "run", "--pages", str(pages), "--runtime-parent", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "not a tmpfs" in done.stderr, done
    assert list(tmp_path.iterdir()) == []
