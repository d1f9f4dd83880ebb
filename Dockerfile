# syntax=docker/dockerfile:1
# One image for every role: the public and staff web services, the Celery worker and beat.
# The role and the secrets come from the environment at run time (see docker-compose.yml); the image
# holds no secret and no key.

# --- Stage 1: GOV.UK Frontend assets, from the npm registry, never committed -----------------------
FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && mkdir -p /out \
 && cp -R node_modules/govuk-frontend/dist/govuk /out/govuk

# --- Stage 2: the application -----------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 helpline \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin helpline

WORKDIR /app

# Dependencies first, so code changes reuse this layer (pyproject.toml installs no package of its own).
COPY pyproject.toml ./
RUN pip install .

# The code, directory by directory: a plain `COPY . .` would also take var/dev-keys.json, ./secrets/
# and .env from a deployer's checkout into the image.
COPY manage.py gunicorn.conf.py ./
COPY helpline/ helpline/
COPY core/ core/
COPY audit/ audit/
COPY directory/ directory/
COPY accounts/ accounts/
COPY outbox/ outbox/
COPY reports/ reports/
COPY triage/ triage/
COPY oversight/ oversight/
COPY templates/ templates/
COPY static/ static/
COPY --from=assets /out/govuk/ static/vendor/govuk/

# collectstatic only imports settings: run it with the development defaults, which need no secret.
RUN HELPLINE_ENV=development python manage.py collectstatic --noinput

# Files stay owned by root and read-only to the service user.
USER 10001:10001

ENV HELPLINE_ENV=production \
    BIND=0.0.0.0:8000

EXPOSE 8000

CMD ["gunicorn", "--config", "gunicorn.conf.py", "helpline.wsgi:application"]
