"""The deployment files: docker-compose.yml is valid, and the stack keeps its privacy promises.

Plain pytest: no database and no Django settings are needed (run with `-p no:django` if you like).
"""

import datetime
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
DOCKERFILE = ROOT / "Dockerfile"

SECRETS = (
    "secret_key",
    "helpline_public_key",
    "helpline_private_keys",
    "helpline_hmac_key",
    "otp_key",
    "audit_mac_key",
    "audit_signing_key",
    "service_signing_key",
    "receipt_signing_key",
    "receipt_public_keys",
    "tls_certificate",
    "tls_certificate_key",
)
PRIVATE_SECRET = "helpline_private_keys"
PRIVATE_ENV = ("HELPLINE_PRIVATE_KEYS", "HELPLINE_PRIVATE_KEYS_FILE")
# The compose specification schema ships with Debian's docker-compose package (and with the
# docker-compose distribution on PyPI, if that is importable).
SYSTEM_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
TOP_LEVEL_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs"}


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def builds_the_app(service: dict[str, Any]) -> bool:
    """Built from the Dockerfile's default target, the application (its proxy target is the front door)."""
    build = service.get("build")
    return build is not None and (isinstance(build, str) or build.get("target", "app") == "app")


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run the project's own image (built from the Dockerfile)."""
    app_images = {svc["image"] for svc in services.values() if builds_the_app(svc) and "image" in svc}
    return {name: svc for name, svc in services.items() if builds_the_app(svc) or svc.get("image") in app_images}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def secret_names(service: dict[str, Any]) -> set[str]:
    return {item if isinstance(item, str) else item["source"] for item in service.get("secrets") or []}


def published_ports(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host address, container port) for every published port, in short or long syntax."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            result.append((str(entry.get("host_ip", "")), str(entry["target"])))
            continue
        spec = str(entry).split("/", 1)[0]
        match = re.fullmatch(r"(?:(\[[^\]]+\]|[^:]+):)?(?:([^:]*):)?([^:]+)", spec)
        assert match, f"unreadable port {entry!r}"
        host_ip, host_port, container_port = match.groups()
        if host_port is None and host_ip is not None and not re.search(r"[.\[]", host_ip):
            host_ip, host_port = None, host_ip  # "8000:8000": no address given
        result.append(((host_ip or "").strip("[]"), container_port))
    return result


# --- (a) the compose tool's own validation -------------------------------------------------------


def compose_command() -> list[str] | None:
    """A compose implementation that runs here, or None."""
    candidates = []
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    for command in candidates:
        try:
            done = subprocess.run([*command, "version"], capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return command
    return None


@pytest.mark.slow
def test_the_compose_tool_accepts_the_file(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed to run `config`")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    (tmp_path / "secrets").mkdir()
    for name in SECRETS:
        (tmp_path / "secrets" / name).write_text("dummy\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMPOSE_", "POSTGRES_")) and key not in {"PUBLIC_HOSTNAME", "STAFF_HOSTNAME"}
    }
    env["POSTGRES_PASSWORD"] = "dummy-password"
    env["POSTGRES_RUNTIME_PASSWORD"] = "dummy-runtime-password"
    done = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- (b) the compose specification -----------------------------------------------------------------


def compose_schema_path() -> Path | None:
    candidates = [SYSTEM_SCHEMA] + [Path(entry) / "compose/config/compose_spec.json" for entry in sys.path]
    return next((path for path in candidates if path.is_file()), None)


def assert_structurally_valid(compose: dict[str, Any]) -> None:
    """The essentials of the compose specification, for machines without its schema."""
    assert set(compose) - TOP_LEVEL_KEYS <= {key for key in compose if key.startswith("x-")}
    assert isinstance(compose["services"], dict) and compose["services"]
    for name, service in compose["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name)
        assert "image" in service or "build" in service, name
        for key in ("command", "entrypoint"):
            assert isinstance(service.get(key, ""), str | list), (name, key)
        assert isinstance(service.get("environment", {}), dict | list), name
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, dict):
            for condition in depends_on.values():
                assert set(condition) <= {"condition", "restart", "required"}, name
                assert condition.get("condition", "service_started") in {
                    "service_started",
                    "service_healthy",
                    "service_completed_successfully",
                }, name
        health = service.get("healthcheck")
        if health is not None:
            assert health.get("disable") or health["test"][0] in {"CMD", "CMD-SHELL", "NONE"}, name
    for name, secret in (compose.get("secrets") or {}).items():
        assert set(secret) & {"file", "environment", "external"}, name


def test_the_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_path = compose_schema_path()
    if schema_path is None:
        assert_structurally_valid(compose)
        return
    import jsonschema

    schema = json.loads(schema_path.read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft201909Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors)
    assert_structurally_valid(compose)


def test_every_reference_in_the_compose_file_resolves(compose: dict[str, Any]) -> None:
    services = compose["services"]
    secrets = set(compose.get("secrets") or {})
    volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        depends_on = service.get("depends_on") or []
        assert set(depends_on) <= set(services) - {name}, name
        assert secret_names(service) <= secrets, name
        for volume in service.get("volumes") or []:
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in volumes, (name, source)
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert set(compose["secrets"]) == set(SECRETS)


# --- (c) security ----------------------------------------------------------------------------------


def test_the_public_service_never_gets_the_private_key(services: dict[str, dict[str, Any]]) -> None:
    public = services["public"]
    env = environment(public)
    assert env["HELPLINE_ROLE"] == "public"
    assert not set(env) & set(PRIVATE_ENV)
    assert not any(PRIVATE_SECRET in value for value in env.values())
    assert PRIVATE_SECRET not in secret_names(public)
    # Nothing else could smuggle it in: no env file, no bind mount of the secrets folder.
    assert "env_file" not in public
    assert not any("secrets" in str(volume) for volume in public.get("volumes") or [])


def test_only_the_staff_service_the_worker_and_migrate_hold_the_private_key(
    services: dict[str, dict[str, Any]],
) -> None:
    holders = {name for name, svc in services.items() if PRIVATE_SECRET in secret_names(svc)}
    assert holders == {"staff", "worker", "migrate"}
    for name in holders:
        env = environment(services[name])
        assert env["HELPLINE_PRIVATE_KEYS_FILE"] == f"/run/secrets/{PRIVATE_SECRET}", name
        assert env["HELPLINE_ROLE"] in {"staff", "worker"}, name
    assert environment(services["staff"])["HELPLINE_ROLE"] == "staff"
    assert environment(services["worker"])["HELPLINE_ROLE"] == "worker"


def test_only_the_worker_holds_the_receipt_signing_key_and_every_app_service_reads_the_public_ones(
    services: dict[str, dict[str, Any]],
) -> None:
    holders = {name for name, svc in services.items() if "receipt_signing_key" in secret_names(svc)}
    assert holders == {"worker"}
    assert environment(services["worker"])["RECEIPT_SIGNING_KEY_FILE"] == "/run/secrets/receipt_signing_key"
    for name, svc in app_services(services).items():
        assert "RECEIPT_SIGNING_KEY" not in environment(svc), name
        if "RECEIPT_PUBLIC_KEYS_FILE" in environment(svc):
            assert "receipt_public_keys" in secret_names(svc), name
    assert "receipt_public_keys" in secret_names(services["public"])


def test_every_service_running_the_app_image_is_in_production(services: dict[str, dict[str, Any]]) -> None:
    apps = app_services(services)
    assert {"public", "staff", "worker", "beat", "migrate"} <= set(apps)
    for name, service in apps.items():
        env = environment(service)
        assert env.get("HELPLINE_ENV") == "production", name
        assert env.get("HELPLINE_ROLE") in {"public", "staff", "worker"}, name
        assert env.get("DEBUG", "false").lower() in {"", "0", "false", "no", "off"}, name


def test_secrets_reach_the_app_as_files_and_never_as_values(services: dict[str, dict[str, Any]]) -> None:
    for name, service in app_services(services).items():
        env = environment(service)
        for variable in ("SECRET_KEY", "HELPLINE_PUBLIC_KEY", "HELPLINE_PRIVATE_KEYS", "HELPLINE_HMAC_KEY"):
            assert variable not in env, (name, variable)
        for variable, value in env.items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in secret_names(service), (name, variable)
        for secret in ("secret_key", "helpline_public_key", "helpline_hmac_key"):
            assert secret in secret_names(service), (name, secret)


def test_postgres_and_redis_are_never_published_beyond_the_host(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
        for host_ip, container_port in published_ports(service):
            if name in {"postgres", "redis"} or container_port in {"5432", "6379"}:
                assert host_ip in {"127.0.0.1", "::1"}, (name, host_ip, container_port)


def test_only_the_front_door_is_published_beyond_the_host_loopback(services: dict[str, dict[str, Any]]) -> None:
    """Clients connect to nginx itself, so the address it passes on is theirs; everything else stays on the host."""
    for name, service in services.items():
        if name == "proxy":
            assert sorted(service["ports"]) == ["443:8443", "80:8080"]
            continue
        for host_ip, _container_port in published_ports(service):
            assert host_ip in {"127.0.0.1", "::1"}, (name, host_ip)
    for name in ("public", "staff"):
        assert not services[name].get("ports"), f"{name} is reached through the proxy only"


def test_the_database_password_has_no_committed_default() -> None:
    text = COMPOSE_FILE.read_text()
    for variable in ("POSTGRES_PASSWORD", "POSTGRES_RUNTIME_PASSWORD"):
        uses = re.findall(rf"\$\{{{variable}([^}}]*)\}}", text)
        assert uses and all(use.startswith(":?") for use in uses), variable
    assert "POSTGRES_HOST_AUTH_METHOD" not in text


def test_migrations_and_deploy_checks_run_before_anything_else_starts(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["migrate"]["command"]
    command = " ".join(command) if isinstance(command, list) else command
    assert "manage.py migrate" in command
    assert "manage.py check --deploy --database default" in command
    assert services["migrate"].get("restart", "no") == "no"
    for name in ("public", "staff", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_web_services_are_health_checked_on_healthz(services: dict[str, dict[str, Any]]) -> None:
    for name in ("public", "staff"):
        test = services[name]["healthcheck"]["test"]
        assert "/healthz" in (" ".join(test) if isinstance(test, list) else test), name


def test_the_demo_stack_sends_mail_to_the_mail_catcher(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["worker"])
    assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (env["EMAIL_HOST"], env["EMAIL_PORT"]) == ("mailcatcher", "1025")
    assert "mailcatcher" in services


# --- gunicorn and the image ------------------------------------------------------------------------


def gunicorn_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("BIND", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_the_gunicorn_access_log_records_no_client_address_user_agent_referer_or_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = gunicorn_config(monkeypatch)
    log_format = config["access_log_format"]
    assert config["accesslog"] == "-"
    for atom in ("%(h)s", "%(a)s", "%(f)s", "%(r)s", "%(q)s", "%(u)s"):
        assert atom not in log_format, atom
    assert not re.search(r"\{[^}]*\}[ieo]", log_format), "header or environ atoms may carry addresses"
    assert "%(U)s" in log_format and "%(s)s" in log_format


def test_a_logged_request_shows_nothing_that_identifies_the_reporter(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    log_format = gunicorn_config(monkeypatch)["access_log_format"]
    logger = Logger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/report/check?code=secret-query",
        "PATH_INFO": "/report/check",
        "QUERY_STRING": "code=secret-query",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_X_REAL_IP": "198.51.100.23",
        "HTTP_USER_AGENT": "ReporterBrowser/1.0",
        "HTTP_REFERER": "https://referrer.example/page",
    }
    request = SimpleNamespace(
        headers=[
            ("X-REAL-IP", "198.51.100.23"),
            ("USER-AGENT", "ReporterBrowser/1.0"),
            ("REFERER", "https://referrer.example/page"),
        ]
    )
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "/report/done")])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=12))
    line = log_format % logger.atoms_wrapper_class(atoms)
    for leak in ("203.0.113.7", "198.51.100.23", "ReporterBrowser", "referrer.example", "secret-query"):
        assert leak not in line, (leak, line)
    assert line.startswith("POST /report/check 302")


def test_gunicorn_listens_on_loopback_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gunicorn_config(monkeypatch)["bind"] == ["127.0.0.1:8000"]
    assert gunicorn_config(monkeypatch, PORT="9123")["bind"] == ["127.0.0.1:9123"]
    assert gunicorn_config(monkeypatch, BIND="0.0.0.0:8000")["bind"] == ["0.0.0.0:8000"]
    assert gunicorn_config(monkeypatch)["workers"] == 2
    assert gunicorn_config(monkeypatch)["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_the_image_runs_as_a_non_root_user_and_copies_no_local_secrets() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip()]
    instructions = [line for line in lines if not line.startswith("#")]
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    copies = [line for line in instructions if line.startswith("COPY ") and "--from=" not in line]
    assert not any(line.split()[1] in {".", "./"} for line in copies), "COPY . . would take secrets/ and var/"
    assert not any(re.search(r"\b(secrets|var|\.env)\b", line) for line in copies)
    assert any("collectstatic" in line for line in instructions)


# Demo and bench seeding: production never installs it, so the image does not carry it.
DEVELOPMENT_APPS = {"devdata"}


def test_the_image_copies_every_app_of_the_project_but_the_development_data() -> None:
    """The Dockerfile copies the code folder by folder: a new app must be added to it."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps >= DEVELOPMENT_APPS, "the development app moved: update DEVELOPMENT_APPS"
    missing = [app for app in sorted(apps - DEVELOPMENT_APPS) if f"COPY {app}/ {app}/" not in dockerfile]
    assert not missing, f"Dockerfile does not copy: {missing}"
    shipped = [app for app in sorted(DEVELOPMENT_APPS) if re.search(rf"^COPY\b.*\b{app}\b", dockerfile, re.MULTILINE)]
    assert not shipped, f"Dockerfile copies development data into the image: {shipped}"


# --- the front door (deploy/nginx/, docs/deploy.md section 4) ---------------------------------------------------


def test_the_front_door_holds_the_tls_key_and_nothing_else(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert {key: proxy["build"][key] for key in ("context", "target")} == {"context": ".", "target": "proxy"}
    assert set(proxy["build"].get("args") or {}) <= {"ATTACHMENT_MAX_BYTES"}, "its build gets no secret either"
    assert secret_names(proxy) == {"tls_certificate", "tls_certificate_key"}
    env = environment(proxy)
    assert env["TLS_CERTIFICATE"] == "/run/secrets/tls_certificate"
    assert env["TLS_CERTIFICATE_KEY"] == "/run/secrets/tls_certificate_key"
    assert not any(key.startswith(("HELPLINE_", "SECRET_KEY", "DATABASE", "OTP_", "AUDIT_")) for key in env)
    assert "volumes" not in proxy and "env_file" not in proxy
    # It cannot reach PostgreSQL, Redis or the workers: only the two web services share its network.
    assert proxy["networks"] == ["edge"]
    on_edge = {name for name, svc in services.items() if "edge" in (svc.get("networks") or [])}
    assert on_edge == {"proxy", "public", "staff"}


def test_the_front_door_runs_locked_down_with_its_temporary_folders_in_memory(
    services: dict[str, dict[str, Any]],
) -> None:
    proxy = services["proxy"]
    assert proxy["read_only"] is True
    assert proxy["cap_drop"] == ["ALL"] and proxy["security_opt"] == ["no-new-privileges:true"]
    # deploy/nginx/proxy.py puts nginx's runtime folder (configuration, pid, temporary folders) under
    # NGINX_RUNTIME, and refuses a folder that is not on a tmpfs; the image sets it to this mount.
    dockerfile = DOCKERFILE.read_text()
    runtime = re.search(r"NGINX_RUNTIME=(\S+)", dockerfile)
    assert runtime
    (mount,) = [entry for entry in proxy["tmpfs"] if entry.split(":", 1)[0] == runtime.group(1)]
    options = dict(option.split("=", 1) for option in mount.split(":", 1)[1].split(","))
    assert options["mode"] == "0700" and options["uid"] == "33"  # www-data, which the image runs nginx as


def test_the_front_door_passes_to_both_web_services_and_they_read_the_address_it_sets(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(services["proxy"])
    assert env["NGINX_MODE"] == "tls"
    assert (env["PUBLIC_UPSTREAM"], env["STAFF_UPSTREAM"]) == ("public:8000", "staff:8000")
    assert env["NGINX_RESOLVER"] == "127.0.0.11", "docker's DNS: a replaced web container's new address is found"
    assert env["PUBLIC_HOSTNAME"] == environment(services["public"])["ALLOWED_HOSTS"]
    assert env["STAFF_HOSTNAME"] == environment(services["staff"])["ALLOWED_HOSTS"]
    for name in ("public", "staff"):
        assert environment(services[name])["CLIENT_ADDRESS_HEADER"] == "HTTP_X_REAL_IP", name
        assert services["proxy"]["depends_on"][name]["condition"] == "service_healthy"


def test_the_front_door_and_every_app_service_take_one_file_size_limit(services: dict[str, dict[str, Any]]) -> None:
    """The front door takes one file's size at the upload addresses (NGINX_UPLOAD_MAX_BODY follows
    ATTACHMENT_MAX_BYTES) and names it on its 413 page, rendered when its image is built: if it were told
    another limit than the services, a file would be refused by one and accepted by the other."""
    proxy = services["proxy"]
    limit = environment(proxy)["ATTACHMENT_MAX_BYTES"]
    assert proxy["build"]["args"]["ATTACHMENT_MAX_BYTES"] == limit
    for name, service in app_services(services).items():
        assert environment(service).get("ATTACHMENT_MAX_BYTES") == limit, name
    # One value from .env, and by default the one the settings and deploy/nginx/proxy.py fall back on.
    default = re.fullmatch(r"\$\{ATTACHMENT_MAX_BYTES:-(\d+)\}", limit)
    assert default, limit
    proxy_script = runpy.run_path(str(ROOT / "deploy" / "nginx" / "proxy.py"))
    assert int(default.group(1)) == proxy_script["DEFAULT_ATTACHMENT_MAX_BYTES"] == 20 * 1024 * 1024
    settings_text = (ROOT / "helpline" / "settings.py").read_text()
    assert 'envint("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)' in settings_text
    # The build stage that renders the pages takes it.
    stages = re.split(r"(?m)^FROM ", DOCKERFILE.read_text())
    (pages,) = [stage for stage in stages if re.match(r"\S+ AS proxy-pages\n", stage)]
    assert re.search(r"(?m)^ARG ATTACHMENT_MAX_BYTES$", pages)


def test_the_front_door_image_is_debians_nginx_run_unprivileged() -> None:
    stages = re.split(r"(?m)^FROM ", DOCKERFILE.read_text())
    (proxy,) = [stage for stage in stages if re.match(r"\S+ AS proxy\n", stage)]
    assert re.match(r"\S*bookworm\S* AS proxy\n", proxy), "Debian bookworm, so apt's nginx is Debian's"
    assert re.search(r"apt-get install -y --no-install-recommends nginx\b", proxy)
    assert re.search(r"(?m)^USER www-data$", proxy)
    assert 'CMD ["python", "/srv/helpline/deploy/nginx/proxy.py", "run"]' in proxy
    # The default target is still the application.
    assert re.match(r"\S+ AS app\b", stages[-1])
