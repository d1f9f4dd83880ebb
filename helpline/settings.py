"""Settings for every role of the portal, read from environment variables.

Secrets may be given directly (``NAME``) or as a path to a file (``NAME_FILE``). Production
(``HELPLINE_ENV=production``) refuses to start without them; nothing secret has a committed default.
"""

import hashlib
import json
import os
from datetime import date, timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab

from helpline.headers import static_file_headers

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "false") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str) -> str:
    """The value of NAME, or the contents of the file named by NAME_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


def database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError("DATABASE_URL must be a postgres:// URL: PostgreSQL is the only database")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "helpline",
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }


HELPLINE_ENV = os.environ.get("HELPLINE_ENV", "development")
PRODUCTION = HELPLINE_ENV == "production"
# public: reporter pages and API, public key only; staff: workspaces, holds the private key;
# worker: Celery; combined: public + staff in one process, for local development only.
HELPLINE_ROLE = os.environ.get("HELPLINE_ROLE", "worker" if PRODUCTION else "combined")
if HELPLINE_ROLE not in {"public", "staff", "worker", "combined"}:
    raise RuntimeError(f"HELPLINE_ROLE must be public, staff, worker or combined, not {HELPLINE_ROLE!r}")
if PRODUCTION and HELPLINE_ROLE == "combined":
    raise RuntimeError("The combined role serves public and staff pages from one process: not in production")

DEBUG = envbool("DEBUG", "false")
if PRODUCTION and DEBUG:
    raise RuntimeError("DEBUG must be off in production")

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    SECRET_KEY = "development-only-secret-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")

# Content keys (see core/crypto.py). Locally, make run generates them into var/dev-keys.json.
HELPLINE_KEY_FILE = os.environ.get("HELPLINE_DEV_KEY_FILE", str(BASE_DIR / "var" / "dev-keys.json"))
HELPLINE_PUBLIC_KEY = envsecret("HELPLINE_PUBLIC_KEY")
HELPLINE_PRIVATE_KEYS = envsecret("HELPLINE_PRIVATE_KEYS")
# The keys of keyed hashes (organisation hashes, throttle keys): ``id:base64[,id:base64…]``, new hashes made with
# the first, the others kept during a rotation (docs/deploy.md). HELPLINE_HMAC_KEY is the same setting under its
# older name (set one of them); a key given as bare base64, the form before ids, has the id "h0".
HELPLINE_HMAC_KEYS = envsecret("HELPLINE_HMAC_KEYS")
HELPLINE_HMAC_KEY = envsecret("HELPLINE_HMAC_KEY")
if PRODUCTION:
    if not HELPLINE_PUBLIC_KEY or not (HELPLINE_HMAC_KEYS or HELPLINE_HMAC_KEY):
        raise RuntimeError(
            "HELPLINE_PUBLIC_KEY and HELPLINE_HMAC_KEYS (or HELPLINE_HMAC_KEY) are required in production"
        )
    if HELPLINE_ROLE == "public" and HELPLINE_PRIVATE_KEYS:
        raise RuntimeError("The public service must not hold a private key: unset HELPLINE_PRIVATE_KEYS")
    if HELPLINE_ROLE in {"staff", "worker"} and not HELPLINE_PRIVATE_KEYS:
        raise RuntimeError("The staff service and workers need HELPLINE_PRIVATE_KEYS")
# Custody keys (core/keystore.py): what a routed report's data key is wrapped under, so it expires with the
# data. Held by the staff service and the workers only, never in the database or its backups.
CUSTODY_KEY_STORE = os.environ.get("CUSTODY_KEY_STORE", "core.keystore.FolderKeyStore")
# Required in production; in development, unset, each database has its own folder under var/custody-keys/.
CUSTODY_KEY_DIR = os.environ.get("CUSTODY_KEY_DIR", "")
# The service signing key (core/signing.py): backup manifests, the shred log, evidence bundles. Staff tier and
# workers only; earlier keys' public halves stay in SERVICE_VERIFY_KEYS so what they signed still verifies.
SERVICE_SIGNING_KEY = envsecret("SERVICE_SIGNING_KEY")
SERVICE_VERIFY_KEYS = envsecret("SERVICE_VERIFY_KEYS")
# The receipt signing key (core/receipts.py): signs the reporter's proof of disclosure. ``key_id:base64`` of an
# Ed25519 seed, held by the workers only: never the public tier (a compromised public tier must not mint receipts
# for disclosures never made) nor the staff tier. Separate from every sealing key and from SERVICE_SIGNING_KEY.
RECEIPT_SIGNING_KEY = envsecret("RECEIPT_SIGNING_KEY")
# Every receipt key's public half with the days it was valid, the current one's included, as a JSON list of
# {"key_id", "public_key", "valid_from", "valid_to"} (valid_to null while in use): every tier reads it, and
# /receipts/keys publishes it, so a receipt signed with a rotated key still verifies.
RECEIPT_PUBLIC_KEYS = envsecret("RECEIPT_PUBLIC_KEYS")
if PRODUCTION and HELPLINE_ROLE in {"public", "staff"} and RECEIPT_SIGNING_KEY:
    raise RuntimeError("Only the workers hold the receipt signing key: unset RECEIPT_SIGNING_KEY here")
# The service the receipts name (no spaces: every value of a receipt is free of whitespace, core/receipts.py).
RECEIPT_SERVICE = os.environ.get("RECEIPT_SERVICE", "cse-whistleblowing-helpline")
# Receipt checks (/receipts/verify and its API) per client, as for the other public forms.
RECEIPT_VERIFY_LIMIT = envint("RECEIPT_VERIFY_LIMIT", 60)
RECEIPT_VERIFY_WINDOW_SECONDS = envint("RECEIPT_VERIFY_WINDOW_SECONDS", 3600)
# How long a backup is kept (docs/deploy.md). The open-cases key is replaced this often, and a replaced key is
# destroyed once no backup taken while it was in use is kept.
BACKUP_RETENTION_DAYS = envint("BACKUP_RETENTION_DAYS", 35)
# The retention schedule: months after closure (or the reporter's last message or file, if later) that a
# case's content is kept, by outcome (triage.models.Outcome). Each can be set as RETENTION_MONTHS_<OUTCOME>.
RETENTION_MONTHS_DEFAULTS = {
    "referred_and_acted_on": 72,
    "substantiated": 72,
    "partly_substantiated": 72,
    "not_substantiated": 36,
    "duplicate": 24,
    "no_further_action": 24,
    "withdrawn": 24,
}
RETENTION_MONTHS = {
    outcome: envint(f"RETENTION_MONTHS_{outcome.upper()}", months)
    for outcome, months in RETENTION_MONTHS_DEFAULTS.items()
}
# Evidence bundles (lifecycle/bundle.py), each sealed to its recipient's public key: the staff service and the
# workers share this folder (a volume). Nothing in it opens without the recipient's private key.
EVIDENCE_EXPORT_DIR = os.environ.get("EVIDENCE_EXPORT_DIR", str(BASE_DIR / "var" / "evidence-exports"))
# The most cases one export may hold: a filter that matches more asks for a shorter period.
EVIDENCE_EXPORT_MAX_CASES = envint("EVIDENCE_EXPORT_MAX_CASES", 1000)
# The daily retention job (lifecycle/schedule.py): cases looked at per batch (each batch commits its progress),
# and at most this many batches a night; what is left waits for the next night.
RETENTION_BATCH_SIZE = envint("RETENTION_BATCH_SIZE", 200)
RETENTION_MAX_BATCHES = envint("RETENTION_MAX_BATCHES", 50)
# Bulk triage (triage/bulk.py): the most cases one bulk action may take at once.
BULK_MAX = envint("BULK_MAX", 500)
# Possible duplicates (triage/selectors.py): reports about the same organisation, authority and concern types
# received within this many days of each other (received dates are days only).
DUPLICATE_WINDOW_DAYS = envint("DUPLICATE_WINDOW_DAYS", 14)
# A report still without a case this many hours after the day it was sent raises one alert to the supervisors
# (the schedule never destroys a report that was never routed).
ROUTING_OVERDUE_HOURS = envint("ROUTING_OVERDUE_HOURS", 24)
# Housekeeping in the same job: processed outbox rows and sent email records older than this are deleted, in
# batches of PURGE_BATCH_SIZE. Work still waiting and email not yet sent are never deleted.
OUTBOX_RETENTION_DAYS = envint("OUTBOX_RETENTION_DAYS", 90)
EMAIL_RECORD_RETENTION_DAYS = envint("EMAIL_RECORD_RETENTION_DAYS", 90)
PURGE_BATCH_SIZE = envint("PURGE_BATCH_SIZE", 1000)
# Seals staff authenticator (TOTP) secrets at rest (core/crypto.py otp_key); staff service and workers.
OTP_KEY = envsecret("OTP_KEY")
if PRODUCTION and HELPLINE_ROLE in {"staff", "worker"} and not OTP_KEY:
    raise RuntimeError("OTP_KEY (or OTP_KEY_FILE) is required by the staff service and workers")
# The audit trail's own secrets (audit/keys.py): a key for the chain's MAC and an Ed25519 key that signs
# checkpoints of the chain's head, written to a sink outside the database. Never HELPLINE_HMAC_KEY, which
# is rotated for organisation hashes. Locally they are generated into var/dev-audit-keys.json.
AUDIT_DEV_KEY_FILE = os.environ.get("AUDIT_DEV_KEY_FILE", str(BASE_DIR / "var" / "dev-audit-keys.json"))
AUDIT_MAC_KEY = envsecret("AUDIT_MAC_KEY")
AUDIT_SIGNING_KEY = envsecret("AUDIT_SIGNING_KEY")
AUDIT_CHECKPOINT_PATH = os.environ.get("AUDIT_CHECKPOINT_PATH", str(BASE_DIR / "var" / "audit-checkpoints.jsonl"))
SHRED_LOG_PATH = os.environ.get("SHRED_LOG_PATH", str(BASE_DIR / "var" / "shred-log.jsonl"))
AUDIT_CHECKPOINT_SECONDS = envint("AUDIT_CHECKPOINT_SECONDS", 300)
# How often the supervisors and administrators are emailed again about a break in the audit trail, until one acts.
AUDIT_ALERT_REPEAT_SECONDS = envint("AUDIT_ALERT_REPEAT_SECONDS", 3600)
# The checkpoints' verify key (base64), for checking them where the signing key is not held.
AUDIT_VERIFY_KEY = envsecret("AUDIT_VERIFY_KEY")
# Argon2id cost for access-code keys (libsodium's interactive class by default), stored per row.
ACCESS_CODE_KDF_OPSLIMIT = envint("ACCESS_CODE_KDF_OPSLIMIT", 2)
ACCESS_CODE_KDF_MEMLIMIT = envint("ACCESS_CODE_KDF_MEMLIMIT", 64 * 1024 * 1024)
# How many derivations one process runs at once: each needs MEMLIMIT bytes.
ACCESS_CODE_KDF_CONCURRENCY = envint("ACCESS_CODE_KDF_CONCURRENCY", 2)
ACCESS_CODE_WORDS = envint("ACCESS_CODE_WORDS", 7)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    # The project's apps, from the bottom layer up (docs/adr/0001-layers.md).
    "core",
    "audit",
    "directory",
    "outbox",
    "notify",
    "accounts",
    "rota",
    "reports",
    "triage",
    "referrals",
    "oversight",
    "lifecycle",
]
# Demo accounts and bulk seeding (devdata/: seed_demo, demo_totp, seed_cases) for `make run`, the benchmarks and
# the tests. Never installed in production, so its commands do not exist there. The image leaves the folder out
# yet collects its static files with these development settings: installed only where the folder is.
if not PRODUCTION and find_spec("devdata") is not None:
    INSTALLED_APPS.append("devdata")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "helpline.middleware.PrivacyHeadersMiddleware",
    # Before anything reads the body (the CSRF check does): a body Django cannot parse is one 400, once.
    "helpline.errors.MalformedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "helpline.csrf.NoReferrerCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpline.urls"
WSGI_APPLICATION = "helpline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpline.context_processors.service",
                "accounts.context_processors.permissions",
                "helpline.context_processors.flood",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Two roles: DATABASE_URL is the role web, worker and beat run as (INSERT and SELECT only on the audit
# trail); MIGRATION_DATABASE_URL is the schema's owner, which `manage.py migrate` connects as
# (core/management/commands/migrate.py). One URL serves for both where they are the same role.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpline")
MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL") or DATABASE_URL
DATABASES = {"default": database_from_url(DATABASE_URL)}
DATABASE_OWNER = database_from_url(MIGRATION_DATABASE_URL)
# The role migrations grant the runtime privileges to (core/roles.py): DATABASE_URL's own by default.
DATABASE_RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE") or str(DATABASES["default"]["USER"])
# While the database cannot be reached (a restart, a failover) pages and the API answer 503 with this
# Retry-After, in seconds, instead of a 500 (helpline/errors.py).
DATABASE_UNAVAILABLE_RETRY_AFTER = envint("DATABASE_UNAVAILABLE_RETRY_AFTER", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = ["accounts.auth.StaffBackend"]
LOGIN_THROTTLE_LIMIT = envint("LOGIN_THROTTLE_LIMIT", 5)
LOGIN_THROTTLE_WINDOW_SECONDS = envint("LOGIN_THROTTLE_WINDOW_SECONDS", 900)
# How long a staff invitation link (accounts/services.py staff_invite) stays valid.
INVITATION_TTL_HOURS = envint("INVITATION_TTL_HOURS", 72)
# Wrong second-factor codes after a correct password, per account whatever the client: after the free
# ones, each makes the next try wait twice as long, up to the cap. Password failures never count here,
# so nobody without the password can lock an account (the on-call supervisor's included).
SECOND_FACTOR_FREE_FAILURES = envint("SECOND_FACTOR_FREE_FAILURES", 3)
SECOND_FACTOR_FIRST_DELAY_SECONDS = envint("SECOND_FACTOR_FIRST_DELAY_SECONDS", 5)
SECOND_FACTOR_MAX_DELAY_SECONDS = envint("SECOND_FACTOR_MAX_DELAY_SECONDS", 300)
SECOND_FACTOR_WINDOW_SECONDS = envint("SECOND_FACTOR_WINDOW_SECONDS", 3600)
OTP_TOTP_ISSUER = "CSE helpline"
OTP_TOTP_THROTTLE_FACTOR = 1

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Flood protection (core/flood.py): arrivals are counted per minute in this Redis, in keys that expire within
# 15 minutes and hold no report id. More than FLOOD_THRESHOLD reports in 10 minutes is a flood: a banner in the
# helpline workspace, one email to supervisors, and urgent alerts collected into a digest every DIGEST_MINUTES.
# FLOOD_REDIS_URL="" turns the counter off (no flood is ever noticed).
FLOOD_REDIS_URL = os.environ.get("FLOOD_REDIS_URL", REDIS_URL)
FLOOD_THRESHOLD = envint("FLOOD_THRESHOLD", 50)
DIGEST_MINUTES = envint("DIGEST_MINUTES", 5)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Longer than any task, so a slow task is not redelivered while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "Europe/London"
# Publishing from a web request gives up fast: the outbox sweeper re-sends what did not go.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
# Regions (as in the authority directory) whose non-urgent cases get their own triage queue.
REGIONAL_QUEUES = envlist("REGIONAL_QUEUES")
# A row still unclaimed at the second sweep that sees it is re-sent (30 to 60 seconds after it was added).
OUTBOX_SWEEP_SECONDS = envint("OUTBOX_SWEEP_SECONDS", 30)
OUTBOX_LEASE_SECONDS = envint("OUTBOX_LEASE_SECONDS", 120)
# A worker whose last heartbeat is older than this is stale: /staff/health says so, the watchdog restarts it.
WORKER_STALE_SECONDS = envint("WORKER_STALE_SECONDS", 90)
# Prometheus scrapes /internal/metrics on the staff role with "Authorization: Bearer <this>" (core/metrics.py,
# docs/operations.md). Empty: the address answers 404. The front door (deploy/nginx) refuses /internal/ on every
# side, so only a scraper on the internal network reaches it.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "outbox.sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    "heartbeat": {"task": "outbox.heartbeat", "schedule": 15.0},
    "sweep-deadlines": {"task": "triage.tasks.sweep_deadlines", "schedule": 60.0},
    # Notifications collected for a digest (urgent alerts during a flood): one email per recipient (notify).
    "send-digests": {"task": "notify.tasks.send_digests", "schedule": float(DIGEST_MINUTES * 60)},
    "refresh-statistics": {"task": "oversight.tasks.refresh_statistics", "schedule": 300.0},
    "purge-expired": {"task": "reports.tasks.purge_expired", "schedule": crontab(minute="*/10")},
    "audit-checkpoint": {"task": "audit.tasks.checkpoint", "schedule": float(AUDIT_CHECKPOINT_SECONDS)},
    # The open-cases key, replaced every BACKUP_RETENTION_DAYS; replaced keys re-wrapped, then destroyed.
    "rotate-open-key": {"task": "lifecycle.keys.open_key_rotate", "schedule": crontab(hour=3, minute=40)},
    # The retention schedule, epoch keys, unrouted reports and housekeeping: once a night (lifecycle/tasks.py).
    "apply-retention": {"task": "lifecycle.tasks.apply_retention", "schedule": crontab(hour=2, minute=30)},
}
# Checkpoints are signed by the one worker that holds AUDIT_SIGNING_KEY, which consumes this queue only.
CELERY_TASK_ROUTES = {"audit.tasks.checkpoint": {"queue": "audit"}}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# No other site may load our files (WhiteNoise's default is Access-Control-Allow-Origin: *).
WHITENOISE_ALLOW_ALL_ORIGINS = False
WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers

# Uploads never go to a temporary file in clear; large bodies are refused.
# Files are sealed chunk by chunk as they arrive and stored in PostgreSQL (reports.uploads), never spooled.
FILE_UPLOAD_HANDLERS = ["reports.uploads.SealingUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = envint("FILE_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)

# Attachments (reports.attachments): per file and per report; a file is sealed chunk by chunk as it arrives
# and stored in PostgreSQL. An upload whose access code is never checked expires (its key is gone anyway).
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
ATTACHMENT_MAX_FILES = envint("ATTACHMENT_MAX_FILES", 10)
# The helpline's own uploads to a report (files sent with its messages to the reporter, files a caller emailed
# in): a limit of their own, so that they never take the reporter's places.
ATTACHMENT_MAX_HELPLINE_FILES = envint("ATTACHMENT_MAX_HELPLINE_FILES", 20)
ATTACHMENT_UPLOAD_TTL_SECONDS = envint("ATTACHMENT_UPLOAD_TTL_SECONDS", 60 * 60)
# Processing by the workers (reports.attachment_pipeline, docs/attachments.md): scanned by clamd, stripped by
# mat2, re-sealed. The decrypted file exists only in a private folder (mode 0700) made in ATTACHMENT_WORK_DIR,
# which must be memory-backed (tmpfs): the worker refuses to write plaintext anywhere else.
ATTACHMENT_WORK_DIR = os.environ.get("ATTACHMENT_WORK_DIR", "/dev/shm")  # noqa: S108 - private 0700 folders in it
# mat2 gets this long per file; past it the file is kept as it came and marked "could not be cleaned". Keep it
# under OUTBOX_LEASE_SECONDS, so a slow file is never taken up by a second worker while the first still runs.
ATTACHMENT_CLEAN_TIMEOUT_SECONDS = envint("ATTACHMENT_CLEAN_TIMEOUT_SECONDS", 90)
# mat2 runs inside bubblewrap (no network, no keys, only its private folder). Turn it off only where user
# namespaces are refused and the worker is otherwise confined (docs/attachments.md, "Production").
MAT2_SANDBOX = envbool("MAT2_SANDBOX", "true")
# While the scanner (or the sandbox) is unavailable a file waits: tried again after 30 s, then twice as long
# each time, up to half an hour, each time rounded up to the time trail's bucket; never given up.
ATTACHMENT_RETRY_FIRST_SECONDS = envint("ATTACHMENT_RETRY_FIRST_SECONDS", 30)
ATTACHMENT_RETRY_MAX_SECONDS = envint("ATTACHMENT_RETRY_MAX_SECONDS", 30 * 60)
# clamd (core.clamd): its Unix socket, and for the local one (`manage.py clamav_setup`, deploy/clamav/) its
# configuration, signature database folder and the memory-backed folder it spools a scanned stream to.
CLAMD_SOCKET = os.environ.get("CLAMD_SOCKET", str(BASE_DIR / "var" / "clamav" / "clamd.sock"))
CLAMD_TIMEOUT_SECONDS = envint("CLAMD_TIMEOUT_SECONDS", 60)
CLAMD_CONFIG = os.environ.get("CLAMD_CONFIG", str(BASE_DIR / "var" / "clamav" / "clamd.conf"))
CLAMD_DATABASE_DIR = os.environ.get("CLAMD_DATABASE_DIR", str(BASE_DIR / "var" / "clamav" / "db"))
# One per checkout and user, so that several local clamds never share a spool folder.
_CLAMD_SPOOL = f"helpline-clamd-{os.getuid()}-{hashlib.sha256(bytes(BASE_DIR)).hexdigest()[:8]}"
CLAMD_TEMPORARY_DIR = os.environ.get("CLAMD_TEMPORARY_DIR", f"/dev/shm/{_CLAMD_SPOOL}")  # noqa: S108 - 0700, clamd's
# The staff health page warns when the signature database is older than this (freshclam updates it hourly).
CLAMD_SIGNATURES_STALE_HOURS = envint("CLAMD_SIGNATURES_STALE_HOURS", 48)

# Email: an anymail provider (or SMTP) in production; locally, files only the service's user can read under
# var/mail, never the process output (it would put reporters' addresses in the log); tracking off.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "core.mail.PrivateFileEmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CSE whistleblowing helpline <noreply@helpline.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# What a reporter's inbox shows: nothing that gives away the service or what they did (the contact page
# quotes both, so a reporter knows exactly what to expect).
REPORTER_EMAIL_FROM = os.environ.get("REPORTER_EMAIL_FROM", "Online service <noreply@helpline.localhost>")
REPORTER_EMAIL_SUBJECT = os.environ.get("REPORTER_EMAIL_SUBJECT", "You have a new message")
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", "helpline.localhost")
ANYMAIL = {
    "SEND_DEFAULTS": {"track_opens": False, "track_clicks": False},
    **{key[len("ANYMAIL_") :]: value for key, value in os.environ.items() if key.startswith("ANYMAIL_")},
}
# Django's error emails carry request bodies and addresses: nobody receives them.
ADMINS: list[tuple[str, str]] = []
MANAGERS: list[tuple[str, str]] = []

# Where links in emails point. In development, the port `make run` serves on (PORT); set both in production.
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{envint('PORT', 8000)}")
STAFF_SITE_URL = os.environ.get("STAFF_SITE_URL", SITE_URL)

# Cookies: the staff session, the CSRF token and the reporter's draft key. None persist.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_IDLE_SECONDS = 30 * 60
# Staff API tokens (django-rest-knox), issued only after the second factor (accounts/api.py): stored as
# hashes, ended after the same idle time as a session and never living past a session's absolute limit.
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=SESSION_IDLE_SECONDS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(seconds=SESSION_COOKIE_AGE),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_LIMIT_PER_USER": 5,
}
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Strict: no other site can start a request that carries a staff session, not even a top-level link.
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_AGE = None  # gone when the browser closes: no trace of a visit on a shared device
SECURE = envbool("SECURE_COOKIES", "true" if PRODUCTION else "false")
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo (browsers ship the list), so it is a decision for the operator.
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A reporter's answers in progress, and a concern opened at /check, end after this long without a page saved.
DRAFT_IDLE_SECONDS = envint("DRAFT_IDLE_SECONDS", 30 * 60)
# How long before they end the reporter's page warns them, with a dialog that keeps them (static/js/timeout.mjs).
DRAFT_WARNING_SECONDS = envint("DRAFT_WARNING_SECONDS", 2 * 60)
# Which request header carries the client address behind the reverse proxy (used only, hashed, for
# throttling), e.g. HTTP_X_REAL_IP. The address itself is never stored.
CLIENT_ADDRESS_HEADER = os.environ.get("CLIENT_ADDRESS_HEADER", "REMOTE_ADDR")
ACCESS_THROTTLE_LIMIT = envint("ACCESS_THROTTLE_LIMIT", 5)
ACCESS_THROTTLE_WINDOW_SECONDS = envint("ACCESS_THROTTLE_WINDOW_SECONDS", 3600)
# Key derivations (Argon2id, 64 MiB each) per client across every reference: opening a concern costs one.
ACCESS_DERIVATION_LIMIT = envint("ACCESS_DERIVATION_LIMIT", 20)
ACCESS_DERIVATION_WINDOW_SECONDS = envint("ACCESS_DERIVATION_WINDOW_SECONDS", 3600)
# Reports submitted per client (web and API together); phone reports taken by staff are not counted.
SUBMISSION_LIMIT = envint("SUBMISSION_LIMIT", 30)
SUBMISSION_WINDOW_SECONDS = envint("SUBMISSION_WINDOW_SECONDS", 3600)
# How long the API remembers an Idempotency-Key (kept as a keyed hash, with a hash of the request).
IDEMPOTENCY_KEY_SECONDS = envint("IDEMPOTENCY_KEY_SECONDS", 24 * 3600)
# Expiries set from a reporter's page view (drafts, throttles, idempotency keys) are rounded up to this,
# so the database never holds when the reporter was last here to better than the bucket.
TIME_TRAIL_BUCKET_SECONDS = envint("TIME_TRAIL_BUCKET_SECONDS", 15 * 60)
# Shown wherever a reporter may need a person: throttled, over a limit, or the service is unavailable.
# The default is in Ofcom's range reserved for drama, so a deployment that forgets to set it is obvious.
HELPLINE_PHONE = os.environ.get("HELPLINE_PHONE", "0808 157 0192")
HELPLINE_HOURS = os.environ.get("HELPLINE_HOURS", "Monday to Friday, 8am to 8pm; Saturday, 9am to 1pm")

# Urgent pages by SMS through GOV.UK Notify (notify/sms.py, docs/paging.md). The API key is Notify's
# "name-serviceid-secret" form; empty means no SMS can go (pages are recorded and fail, so they fall through).
# NOTIFY_BASE_URL points the client at Notify, or at the project's fake (notify/fakenotify.py) in development.
NOTIFY_API_KEY = envsecret("NOTIFY_API_KEY")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# The Notify SMS template of a page, whose text is "Urgent concern waiting — sign in to the helpline workspace".
NOTIFY_PAGE_TEMPLATE_ID = os.environ.get("NOTIFY_PAGE_TEMPLATE_ID", "")
# Paged after the primary and secondary on call (triage/paging.py); email for the record, phone for the SMS.
DUTY_MANAGER_EMAIL = os.environ.get("DUTY_MANAGER_EMAIL", "")
DUTY_MANAGER_PHONE = os.environ.get("DUTY_MANAGER_PHONE", "")

CSRF_FAILURE_VIEW = "helpline.errors.csrf_failure"

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "triage:home"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["helpline.json_codec.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["helpline.json_codec.SafeJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "helpline.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSE whistleblowing helpline API",
    "DESCRIPTION": "Report a concern about child sexual exploitation practice, and follow it.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package: no page loads anything from another site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a "status": each enum named for its model.
    # The enum hook, leaving each staff action's body as its form writes it (triage/api.py).
    "POSTPROCESSING_HOOKS": ["triage.api.postprocess_schema"],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "triage.models.Case.Status",
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "AuthorityOutcomeEnum": "referrals.models.AuthorityOutcome",
        "ReviewOutcomeEnum": "referrals.models.ReviewOutcome",
        "ReferralOutcomeEnum": "referrals.models.REFERRAL_OUTCOMES",
        "AttachmentStatusEnum": "reports.models.Attachment.Status",
        "AttachmentSourceEnum": "reports.models.Attachment.Source",
        "PatternAlertStatusEnum": "oversight.models.PatternAlert.Status",
        "PatternAlertKindEnum": "oversight.models.PatternAlert.Kind",
    },
}

# Pattern detection: organisations named in several reports (oversight/patterns.py).
PATTERN_ORGANISATION_MIN_REPORTS = envint("PATTERN_ORGANISATION_MIN_REPORTS", 3)
PATTERN_ORGANISATION_DAYS = envint("PATTERN_ORGANISATION_DAYS", 180)
# Statistical detection (oversight/series.py, oversight/detection.py, docs/patterns.md): weekly counts (weeks
# start on Monday; PATTERN_PERIOD_DAYS long), each complete week judged against its own series' past by the
# Farrington flexible algorithm (oversight/farrington.py), then Benjamini-Hochberg across every series of a run.
PATTERN_PERIOD_DAYS = envint("PATTERN_PERIOD_DAYS", 7)
# How much history each run reads (weeks); Farrington looks back PATTERN_YEARS_BACK years around the same week.
PATTERN_HISTORY_WEEKS = envint("PATTERN_HISTORY_WEEKS", 3 * 52 + 8)
PATTERN_YEARS_BACK = envint("PATTERN_YEARS_BACK", 3)
PATTERN_ALPHA = float(os.environ.get("PATTERN_ALPHA", "0.005"))  # each series' upper bound: the 99.5% quantile
PATTERN_FDR_Q = float(os.environ.get("PATTERN_FDR_Q", "0.05"))  # the false-discovery rate across all series
PATTERN_MIN_COUNT = envint("PATTERN_MIN_COUNT", 5)  # a week with fewer never alerts, whatever its series
# Known step changes (day, label), passed to the model so that a new normal is not read as a surge: the start of
# the statutory duty to report (Crime and Policing Act 2026) once its commencement day is confirmed, a national
# awareness campaign. JSON in the environment: [["2027-01-04", "The duty to report starts"], ...]. None by default:
# a day guessed here would cut every series' history short at it.
PATTERN_KNOWN_EVENTS: list[tuple[date, str]] = [
    (date.fromisoformat(day), str(label)) for day, label in json.loads(os.environ.get("PATTERN_KNOWN_EVENTS", "[]"))
]
# The statutory standard: a referral acknowledged within 1 working day. An authority with at least
# PATTERN_STANDARD_MIN_REFERRALS referrals in the last PATTERN_STANDARD_WEEKS complete weeks, more than
# PATTERN_STANDARD_LATE_SHARE of them acknowledged late (or not at all), alerts even if it was always late.
PATTERN_STANDARD_WEEKS = envint("PATTERN_STANDARD_WEEKS", 4)
PATTERN_STANDARD_MIN_REFERRALS = envint("PATTERN_STANDARD_MIN_REFERRALS", 5)
PATTERN_STANDARD_LATE_SHARE = float(os.environ.get("PATTERN_STANDARD_LATE_SHARE", "0.5"))

# Published performance figures (oversight/published.py, Service Standard point 10): the benchmark each is shown
# beside, by figure, as a list of {"value", "source", "date"}; a figure with no benchmark shows none. These are
# the product owner's starting values, to be checked before go-live. PUBLISHED_BENCHMARKS (JSON, the same shape)
# replaces the benchmarks of the figures it names; a figure given [] or null has none.
PUBLISHED_BENCHMARKS_DEFAULTS: dict[str, list[dict[str, str]]] = {
    "anonymous-share": [
        {"value": "About 50%", "source": "NAVEX Risk and Compliance Hotline Benchmark Report", "date": "2024"},
        {
            "value": "About 9 to 10%",
            "source": "National Guardian's Office, Freedom to Speak Up data",
            "date": "2023/24",
        },
    ],
    "anonymous-follow-up": [
        {"value": "26%", "source": "NAVEX Risk and Compliance Hotline Benchmark Report", "date": "2024"},
    ],
    "substantiation": [
        {"value": "46%", "source": "NAVEX Risk and Compliance Hotline Benchmark Report", "date": "2024"},
    ],
    "days-to-close": [
        {
            "value": "30 to 32 days (best practice)",
            "source": "NAVEX Risk and Compliance Hotline Benchmark Report",
            "date": "2024",
        },
    ],
    "detriment": [
        {"value": "About 4%", "source": "National Guardian's Office, Freedom to Speak Up data", "date": "2023/24"},
    ],
    "per-100000": [],
}


def published_benchmarks(text: str) -> dict[str, list[dict[str, str]]]:
    """The defaults, with the figures ``text`` (JSON) names replaced; RuntimeError for anything else."""
    chosen = dict(PUBLISHED_BENCHMARKS_DEFAULTS)
    given = json.loads(text) if text.strip() else {}
    if not isinstance(given, dict):
        raise RuntimeError("PUBLISHED_BENCHMARKS must be a JSON object of figure: [benchmark, ...]")
    for figure, benchmarks in given.items():
        if figure not in PUBLISHED_BENCHMARKS_DEFAULTS:
            raise RuntimeError(f"PUBLISHED_BENCHMARKS names no figure {figure!r}")
        entries = benchmarks or []
        if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and {"value", "source", "date"} <= set(entry) for entry in entries
        ):
            raise RuntimeError(f"PUBLISHED_BENCHMARKS[{figure!r}] must be a list of {{value, source, date}}")
        chosen[figure] = [{key: str(entry[key]) for key in ("value", "source", "date")} for entry in entries]
    return chosen


PUBLISHED_BENCHMARKS = published_benchmarks(os.environ.get("PUBLISHED_BENCHMARKS", ""))

LOAD_LA_DEFAULT_DIR = os.environ.get("LA_DATA_DIR", str(BASE_DIR.parent / "shared" / "data" / "la"))

LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise RuntimeError(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "helpline.logging.ScrubFilter"}},
    # One JSON object a line (helpline/logging.py); LOG_FORMAT=plain gives the old one-line text, for a terminal.
    "formatters": {
        "json": {"()": "helpline.logging.JsonFormatter"},
        "plain": {"format": "%(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["scrub"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # django.request and django.server log the request line and the client; we log neither.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
