# syntax=docker/dockerfile:1
# One image for every role: the public and staff web services, the Celery worker and beat.
# The role and the secrets come from the environment at run time (see docker-compose.yml); the image
# holds no secret and no key. The default target is that image (`app`); `--target proxy` builds the front
# door, Debian's nginx (docker-compose.yml's proxy service, docs/deploy.md section 4), and `--target clamav` the
# malware scanner (its clamav and freshclam services, docs/attachments.md).

# --- Stage 1: GOV.UK Frontend assets, from the npm registry, never committed -----------------------
FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && mkdir -p /out \
 && cp -R node_modules/govuk-frontend/dist/govuk /out/govuk

# --- Stage 2: the application's files -------------------------------------------------------------
FROM python:3.11-slim-bookworm AS app-files

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 helpline \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin helpline

WORKDIR /app

# Dependencies first, so code changes reuse this layer: every package at the version and hash the production
# lock pins (`make lock` writes it beside the development one), then the project itself, which adds nothing
# (pyproject.toml installs no package of its own; hash-checking needs it installed without dependencies).
COPY requirements/production.txt requirements/production.txt
COPY pyproject.toml ./
RUN pip install --require-hashes -r requirements/production.txt \
 && pip install --no-deps .

# The code, directory by directory: a plain `COPY . .` would also take var/dev-keys.json, ./secrets/
# and .env from a deployer's checkout into the image. devdata/ (demo and bench seeding) stays out: production
# never installs it.
COPY manage.py gunicorn.conf.py ./
COPY helpline/ helpline/
COPY core/ core/
COPY audit/ audit/
COPY directory/ directory/
COPY accounts/ accounts/
COPY outbox/ outbox/
COPY notify/ notify/
COPY referrals/ referrals/
COPY reports/ reports/
COPY rota/ rota/
COPY triage/ triage/
COPY oversight/ oversight/
COPY lifecycle/ lifecycle/
COPY templates/ templates/
COPY static/ static/
COPY --from=assets /out/govuk/ static/vendor/govuk/

# collectstatic only imports settings: run it with the development defaults, which need no secret.
RUN HELPLINE_ENV=development python manage.py collectstatic --noinput

# --- Stage 3: the pages the front door answers with itself (413, 502, ...), from the GOV.UK templates ----
# Rendered as collectstatic runs. They give the helpline's number and hours, and the upload pages the file size
# limit: the settings' defaults, unless the build is given the values the services run with (--build-arg
# HELPLINE_PHONE=… HELPLINE_HOURS=…; docker-compose.yml passes ATTACHMENT_MAX_BYTES itself).
FROM app-files AS proxy-pages
ARG HELPLINE_PHONE
ARG HELPLINE_HOURS
ARG ATTACHMENT_MAX_BYTES
COPY deploy/nginx/ deploy/nginx/
RUN [ -n "$HELPLINE_PHONE" ] || unset HELPLINE_PHONE; [ -n "$HELPLINE_HOURS" ] || unset HELPLINE_HOURS; \
    [ -n "$ATTACHMENT_MAX_BYTES" ] || unset ATTACHMENT_MAX_BYTES; \
    HELPLINE_ENV=development python deploy/nginx/error_pages.py /out/pages

# --- Stage 4: the front door -------------------------------------------------------------------------
# Debian bookworm's own nginx package (this base image is Debian bookworm), as `make run` and the tests use.
# deploy/nginx/proxy.py (standard library only) renders its configuration into a tmpfs at each start and
# runs it; the collected static files let it style its pages while gunicorn is down.
FROM python:3.11-slim-bookworm AS proxy
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/nginx/ /srv/helpline/deploy/nginx/
COPY --from=app-files /app/staticfiles/ /srv/helpline/staticfiles/
COPY --from=proxy-pages /out/pages/ /srv/helpline/proxy-pages/
ENV NGINX_MODE=tls \
    NGINX_PAGES=/srv/helpline/proxy-pages \
    NGINX_STATIC=/srv/helpline/staticfiles \
    NGINX_RUNTIME=/run/helpline-nginx
# nginx's own user: it listens on unprivileged ports (compose publishes 443 and 80 to them).
USER www-data
EXPOSE 8443 8080
CMD ["python", "/srv/helpline/deploy/nginx/proxy.py", "run"]

# --- Stage 5: the malware scanner ---------------------------------------------------------------------
# Debian bookworm's clamd and freshclam (docker-compose.yml's clamav and freshclam services), as `make run` and
# the tests use them, with the project's own clamd configuration (deploy/clamav/clamd.conf.in; docs/attachments.md):
# a Unix socket on a volume shared with the worker and the staff service, no TCP. The stream limit is 100 MiB here:
# raise it (and MaxFileSize) if ATTACHMENT_MAX_BYTES ever goes above that.
FROM python:3.11-slim-bookworm AS clamav
RUN apt-get update \
 && RUNLEVEL=1 apt-get install -y --no-install-recommends clamav-daemon clamav-freshclam \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o clamav -g clamav -m 0755 /run/clamd /var/lib/clamav
COPY deploy/clamav/ /etc/helpline-clamav/
RUN sed -e 's#@SOCKET@#/run/clamd/clamd.sock#' -e 's#@DATABASE_DIR@#/var/lib/clamav#' -e 's#@TEMPORARY_DIR@#/tmp#' \
        -e 's#@STREAM_MAX@#100M#' -e 's#@SCAN_MAX@#400M#' -e 's#^LocalSocketMode .*#LocalSocketMode 666#' \
        /etc/helpline-clamav/clamd.conf.in > /etc/helpline-clamav/clamd.conf
USER clamav
CMD ["clamd", "-c", "/etc/helpline-clamav/clamd.conf"]

# --- Stage 6: the application (the default target) ----------------------------------------------------
FROM app-files AS app

# The workers' metadata cleaner for attachments (docs/attachments.md): Debian's mat2, called as /usr/bin/mat2, and
# bubblewrap, which confines it. Installed in the one image every role shares; only the worker runs them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends mat2 bubblewrap \
 && rm -rf /var/lib/apt/lists/*

# Files stay owned by root and read-only to the service user.
USER 10001:10001

ENV HELPLINE_ENV=production \
    BIND=0.0.0.0:8000

EXPOSE 8000

CMD ["gunicorn", "--config", "gunicorn.conf.py", "helpline.wsgi:application"]
